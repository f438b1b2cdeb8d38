/*
 * window.c - the decider's memory (see window.h).
 *
 * On disk: the window.  In memory: the rows, groups, signals and clusters
 * this batch read from the file or changed, each once, in hash tables by
 * key, group, fingerprint, ticker (purchases) and accession (registered
 * groups), and on one list in the order read or put (pruning walks it).
 * Each lookup reads the file's rows it needs once a batch (s_read_before),
 * skipping keys memory holds (memory's copy is the batch's, newer); a
 * commit writes the changes and forgets the batch, a failed commit or a
 * rollback forgets it unwritten.
 */
#include "window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "timeutil.h"

#define WINDOW_FILE "decider.sqlite"
/*
 * SQLite page cache of the connection, in KiB: the memory the window may
 * use beyond one batch.  A batch reads a few B-tree paths per candidate
 * trade and writes a few at the commit; pages the cache lacks come from
 * the kernel's page cache (pread).  With one trade in a hundred a
 * candidate, 1 MiB read no fewer pages than 256 KiB; with every trade one,
 * in batches of thousands, 1 MiB cut the reads and writes by ~40% (a batch
 * larger than the cache spills to the WAL before its commit, which is
 * still atomic).  A large cache grows with the file to its limit: it was
 * 16 MiB once, most of the stage's memory after a long run.
 */
#define WINDOW_CACHE_KIB "256"

static const char *const s_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE trade ("
	" key TEXT PRIMARY KEY,"
	" chash INTEGER NOT NULL,"
	" source TEXT NOT NULL,"
	" srank INTEGER NOT NULL,"
	" accession TEXT,"
	" grp TEXT NOT NULL,"
	" side INTEGER NOT NULL,"
	" owner TEXT NOT NULL,"
	" owner_cik TEXT,"
	" owner_key TEXT NOT NULL,"
	" title TEXT,"
	" ticker TEXT NOT NULL,"
	" issuer TEXT NOT NULL,"
	" vticker TEXT,"
	" figi TEXT,"
	" isin TEXT,"
	" trade_date TEXT NOT NULL,"
	" trade_day INTEGER NOT NULL,"
	" shares REAL NOT NULL,"
	" price REAL,"
	" value REAL,"
	" shares_after REAL,"
	" direct INTEGER NOT NULL,"
	" amendment INTEGER NOT NULL,"
	" fp TEXT NOT NULL,"
	" ref_time INTEGER NOT NULL,"
	" pending INTEGER NOT NULL,"
	" gvalue REAL,"
	" dup_of TEXT,"
	" used_by TEXT,"
	" outcome TEXT,"
	" first_batch INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE filing_owner ("
	" grp TEXT PRIMARY KEY,"
	" source TEXT NOT NULL,"
	" accession TEXT NOT NULL,"
	" side INTEGER NOT NULL,"
	" owner_cik TEXT,"
	" owner_key TEXT NOT NULL,"
	" intent TEXT,"
	" ref_time INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE signal ("
	" id TEXT PRIMARY KEY,"
	" rule TEXT NOT NULL,"
	" side INTEGER NOT NULL,"
	" ticker TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" evidence TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE cluster ("
	" id TEXT PRIMARY KEY,"
	" ticker TEXT NOT NULL,"
	" first_day INTEGER NOT NULL,"
	" last_day INTEGER NOT NULL"
	") WITHOUT ROWID;",
	/* 1 -> 2: every intent emitted, as sent (msgpack), to send again */
	"CREATE TABLE outbox ("
	" id TEXT PRIMARY KEY,"
	" record BLOB NOT NULL,"
	" created_at INTEGER NOT NULL"
	") WITHOUT ROWID;",
	/* 2 -> 3: the window is read from the file as a batch needs it */
	"CREATE INDEX trade_by_fp ON trade (fp);"
	"CREATE INDEX trade_by_grp ON trade (grp);"
	"CREATE INDEX trade_by_ticker ON trade (ticker, side, trade_day);"
	"CREATE INDEX trade_by_age ON trade (first_batch, ref_time);"
	"CREATE INDEX filing_owner_by_accession ON filing_owner (accession);"
	"CREATE INDEX cluster_by_ticker ON cluster (ticker, first_day);",
	NULL,
};

#define TRADE_COLS                                                                                 \
	"key, chash, source, srank, accession, grp, side, owner, owner_cik, owner_key, title,"     \
	" ticker, issuer, vticker, figi, isin, trade_date, trade_day, shares, price, value,"       \
	" shares_after, direct, amendment, fp, ref_time, pending, gvalue, dup_of, used_by,"        \
	" outcome, first_batch"
#define GROUP_COLS "grp, source, accession, side, owner_cik, owner_key, intent, ref_time"

enum {
	ST_GET_TRADE,
	ST_TRADES_BY_FP,
	ST_TRADES_BY_GRP,
	ST_TRADES_BY_TICKER,
	ST_GET_GROUP,
	ST_GROUPS_BY_ACC,
	ST_GET_SIGNAL,
	ST_CLUSTERS_BY_TICKER,
	ST_COUNT_TRADES,
	ST_COUNT_SIGNALS,
	ST_MAX_BATCH,
	ST_EVICT,
	ST_PUT_TRADE,
	ST_PUT_GROUP,
	ST_PUT_SIGNAL,
	ST_PUT_CLUSTER,
	ST_PRUNE_TRADE,
	ST_PRUNE_GROUP,
	ST_PRUNE_SIGNAL,
	ST_PRUNE_CLUSTER,
	ST_PRUNE_OUTBOX,
	ST_PUT_OUTBOX,
	ST_GET_OUTBOX,
	ST_UPD_TRADE,
	ST_GET_DETAIL,
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

static const char *const s_sql[ST_COUNT] = {
	/* Reads: each leaves out what a window_prune of this batch deletes at
	 * the commit (the last parameter: INT64_MIN when none). */
	[ST_GET_TRADE] = "SELECT " TRADE_COLS " FROM trade WHERE key = ?1 AND ref_time >= ?2",
	[ST_TRADES_BY_FP] = "SELECT " TRADE_COLS " FROM trade WHERE fp = ?1 AND ref_time >= ?2",
	[ST_TRADES_BY_GRP] = "SELECT " TRADE_COLS " FROM trade WHERE grp = ?1 AND ref_time >= ?2",
	[ST_TRADES_BY_TICKER] = "SELECT " TRADE_COLS " FROM trade WHERE ticker = ?1 AND side = ?2"
	                        " AND trade_day BETWEEN ?3 AND ?4 AND ref_time >= ?5",
	[ST_GET_GROUP] =
	    "SELECT " GROUP_COLS " FROM filing_owner WHERE grp = ?1 AND ref_time >= ?2",
	[ST_GROUPS_BY_ACC] = "SELECT " GROUP_COLS " FROM filing_owner WHERE accession = ?1"
	                     " AND ref_time >= ?2",
	[ST_GET_SIGNAL] = "SELECT 1 FROM signal WHERE id = ?1 AND created_at >= ?2",
	[ST_CLUSTERS_BY_TICKER] = "SELECT id, ticker, first_day, last_day FROM cluster"
	                          " WHERE ticker = ?1 AND last_day >= ?2",
	[ST_COUNT_TRADES] = "SELECT count(*) FROM trade",
	[ST_COUNT_SIGNALS] = "SELECT count(*) FROM signal WHERE created_at >= ?1",
	[ST_MAX_BATCH] = "SELECT max(first_batch) FROM trade",
	/* the oldest judged rows (the file holds no other), first seen first */
	[ST_EVICT] = "DELETE FROM trade WHERE key IN (SELECT key FROM trade"
	             " ORDER BY first_batch, ref_time, key LIMIT ?1)",
	[ST_PUT_TRADE] = "INSERT OR REPLACE INTO trade (" TRADE_COLS ") VALUES (?1, ?2, ?3, ?4,"
	                 " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
	                 " ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)",
	[ST_PUT_GROUP] = "INSERT OR REPLACE INTO filing_owner (grp, source, accession, side,"
	                 " owner_cik, owner_key, intent, ref_time)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_PUT_SIGNAL] = "INSERT OR IGNORE INTO signal (id, rule, side, ticker, reason, evidence,"
	                  " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_PUT_CLUSTER] = "INSERT OR REPLACE INTO cluster (id, ticker, first_day, last_day)"
	                   " VALUES (?1, ?2, ?3, ?4)",
	[ST_PRUNE_TRADE] = "DELETE FROM trade WHERE ref_time < ?1",
	[ST_PRUNE_GROUP] = "DELETE FROM filing_owner WHERE ref_time < ?1",
	[ST_PRUNE_SIGNAL] = "DELETE FROM signal WHERE created_at < ?1",
	[ST_PRUNE_CLUSTER] = "DELETE FROM cluster WHERE last_day < ?1",
	[ST_PRUNE_OUTBOX] = "DELETE FROM outbox WHERE created_at < ?1",
	[ST_PUT_OUTBOX] =
	    "INSERT OR REPLACE INTO outbox (id, record, created_at) VALUES (?1, ?2, ?3)",
	[ST_GET_OUTBOX] = "SELECT record FROM outbox WHERE id = ?1",
	/* a row whose content the file has: only the judgment changes */
	[ST_UPD_TRADE] = "UPDATE trade SET pending = 0, gvalue = ?2, dup_of = ?3, used_by = ?4,"
	                 " outcome = ?5 WHERE key = ?1",
	[ST_GET_DETAIL] = "SELECT owner, title, issuer, vticker, figi, isin FROM trade"
	                  " WHERE key = ?1",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

/* ---- hash tables over values ------------------------------------------- */

/*
 * Open addressing over the values themselves: a slot is one pointer, and a
 * value's key is read from the value, so an entry costs 8 bytes at most
 * three quarters full (between 11 and 21 bytes an entry as the table
 * doubles), not a node of its own.  The key is either a string (m->key)
 * or, when m->key is NULL, a 64-bit hash the value keeps (m->hkey), which
 * is then the whole key (the fps index: rows whose fingerprints hash alike
 * share one list, and window_find_repeat tells them apart).  A key must
 * not change while its value is stored; a value replaced by another (a
 * list's new head) has an equal key.  Deletion shifts later members of the
 * probe run back, so there are no tombstones.
 */
struct map {
	void **b;
	size_t nb, n;                        /* nb a power of two, or 0 */
	const char *(*key)(const void *val); /* the value's string key, or NULL */
	uint64_t (*hkey)(const void *val);   /* without one: the value's hash key */
};

static uint64_t s_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static uint64_t s_val_hash(const struct map *m, const void *val)
{
	return m->key != NULL ? s_hash(m->key(val)) : m->hkey(val);
}

/* The slot holding the value of hash h and string key key (NULL in a
 * hash-keyed map), or the empty slot where it would go (nb > 0). */
static size_t s_map_find(const struct map *m, uint64_t h, const char *key)
{
	size_t mask = m->nb - 1, i = (size_t)h & mask;

	for (; m->b[i] != NULL; i = (i + 1) & mask)
		if (m->key != NULL ? strcmp(m->key(m->b[i]), key) == 0 : m->hkey(m->b[i]) == h)
			break;
	return i;
}

static int s_map_grow(struct map *m)
{
	size_t nb = m->nb == 0 ? 64 : m->nb * 2;
	void **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < m->nb; i++) {
		size_t j;

		if (m->b[i] == NULL)
			continue;
		for (j = (size_t)s_val_hash(m, m->b[i]) & (nb - 1); b[j] != NULL;
		     j = (j + 1) & (nb - 1))
			;
		b[j] = m->b[i];
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

/* Set the value of (h, key), inserting it; val's key must equal it. */
static int s_map_put(struct map *m, uint64_t h, const char *key, void *val)
{
	size_t i;

	if ((m->n + 1) * 4 > m->nb * 3 && s_map_grow(m) < 0)
		return -1;
	i = s_map_find(m, h, key);
	if (m->b[i] == NULL)
		m->n++;
	m->b[i] = val;
	return 0;
}

static void s_map_remove(struct map *m, uint64_t h, const char *key)
{
	size_t i, j, mask = m->nb - 1;

	if (m->nb == 0 || m->b[i = s_map_find(m, h, key)] == NULL)
		return;
	for (j = (i + 1) & mask; m->b[j] != NULL; j = (j + 1) & mask) {
		size_t k = (size_t)s_val_hash(m, m->b[j]) & mask;

		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			m->b[i] = m->b[j];
			i = j;
		}
	}
	m->b[i] = NULL;
	m->n--;
}

/* String-keyed maps. */
static void *s_map_get(const struct map *m, const char *key)
{
	return m->nb == 0 ? NULL : m->b[s_map_find(m, s_hash(key), key)];
}

/* key must equal m->key(val). */
static int s_map_set(struct map *m, const char *key, void *val)
{
	return s_map_put(m, s_hash(key), key, val);
}

static void s_map_del(struct map *m, const char *key)
{
	s_map_remove(m, s_hash(key), key);
}

/* Hash-keyed maps. */
static void *s_hmap_get(const struct map *m, uint64_t h)
{
	return m->nb == 0 ? NULL : m->b[s_map_find(m, h, NULL)];
}

static int s_hmap_set(struct map *m, void *val)
{
	return s_map_put(m, m->hkey(val), NULL, val);
}

static void s_map_free(struct map *m)
{
	free(m->b);
	m->b = NULL;
	m->nb = m->n = 0;
}

/* Every value, into a malloc'd array (safe to delete while walking it). */
static void **s_map_values(const struct map *m, size_t *n)
{
	void **v = malloc((m->n + 1) * sizeof(*v));
	size_t k = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < m->nb; i++)
		if (m->b[i] != NULL)
			v[k++] = m->b[i];
	*n = k;
	return v;
}

/* ---- growing arrays of pointers --------------------------------------- */

struct ptrs {
	void **v;
	size_t n, cap;
};

static int s_ptrs_push(struct ptrs *p, void *x)
{
	if (p->n == p->cap) {
		size_t cap = p->cap == 0 ? 64 : p->cap * 2;
		void **v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = x;
	return 0;
}

/* Empty p; a list a big batch grew gives its memory back. */
static void s_ptrs_reset(struct ptrs *p)
{
	p->n = 0;
	if (p->cap > 1024) {
		free(p->v);
		p->v = NULL;
		p->cap = 0;
	}
}

/* ---- interned strings -------------------------------------------------- */

/*
 * One reference-counted copy of each distinct string the window holds:
 * rows of one filing, one owner or one company share theirs, and an
 * intent id is shared by the signal, its group and its evidence rows.  A
 * pointer handed out is the string itself; s_istr() finds its header.
 * The set is open-addressed (linear probing, deletion by backward shift),
 * at most three quarters full: a probe compares the stored hash before the
 * string, so a longer run costs little, and the table is most of the
 * pool's overhead.
 */
struct istr {
	uint32_t refs;
	uint32_t h; /* low bits of the string's hash */
	char s[];
};

struct strpool {
	struct istr **b;
	size_t nb, n; /* nb a power of two, or 0 */
};

static struct istr *s_istr(const char *s)
{
	return (struct istr *)(void *)(s - offsetof(struct istr, s));
}

static int s_pool_grow(struct strpool *p)
{
	size_t nb = p->nb == 0 ? 256 : p->nb * 2;
	struct istr **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < p->nb; i++) {
		struct istr *x = p->b[i];
		size_t j;

		if (x == NULL)
			continue;
		for (j = x->h & (nb - 1); b[j] != NULL; j = (j + 1) & (nb - 1))
			;
		b[j] = x;
	}
	free(p->b);
	p->b = b;
	p->nb = nb;
	return 0;
}

/* A new reference to the pooled copy of s.  NULL when s is NULL, or (s
 * not NULL) when out of memory. */
static const char *s_intern(struct strpool *p, const char *s)
{
	uint32_t h;
	size_t i, len;
	struct istr *x;

	if (s == NULL)
		return NULL;
	if ((p->n + 1) * 4 > p->nb * 3 && s_pool_grow(p) < 0)
		return NULL;
	h = (uint32_t)s_hash(s);
	for (i = h & (p->nb - 1); (x = p->b[i]) != NULL; i = (i + 1) & (p->nb - 1))
		if (x->h == h && strcmp(x->s, s) == 0) {
			x->refs++;
			return x->s;
		}
	len = strlen(s);
	x = malloc(sizeof(*x) + len + 1);
	if (x == NULL)
		return NULL;
	x->refs = 1;
	x->h = h;
	memcpy(x->s, s, len + 1);
	p->b[i] = x;
	p->n++;
	return x->s;
}

/* Drop a reference taken by s_intern (NULL: nothing). */
static void s_release(struct strpool *p, const char *s)
{
	struct istr *x;
	size_t i, j, mask = p->nb - 1;

	if (s == NULL)
		return;
	x = s_istr(s);
	if (--x->refs > 0)
		return;
	for (i = x->h & mask; p->b[i] != x; i = (i + 1) & mask)
		;
	/* backward shift: pull later members of the probe run into the gap */
	for (j = (i + 1) & mask; p->b[j] != NULL; j = (j + 1) & mask) {
		size_t k = p->b[j]->h & mask;

		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			p->b[i] = p->b[j];
			i = j;
		}
	}
	p->b[i] = NULL;
	p->n--;
	free(x);
}

/* Free every pooled string at once (every holder is being forgotten). */
static void s_pool_free(struct strpool *p)
{
	for (size_t i = 0; i < p->nb; i++)
		free(p->b[i]);
	free(p->b);
	p->b = NULL;
	p->nb = p->n = 0;
}

/* ---- the window --------------------------------------------------------- */

/* A signal's row as the commit writes it: one allocation, the strings
 * after the struct. */
struct win_signal_row {
	const char *rule, *ticker, *reason, *evidence;
	int side;
	int64_t expires_at;
};

/* An intent this batch emitted, until the commit writes it. */
struct win_signal {
	const char *id; /* interned */
	int64_t created_at;
	struct win_signal_row *row;
};

/* An outbox row waiting for the commit. */
struct win_out {
	int64_t created_at;
	size_t len;
	char *id;
	unsigned char rec[];
};

struct win_cl {
	struct win_cluster c;
	struct win_cl *next; /* clusters of one ticker */
	bool dirty;
};

struct window {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	size_t max_trades;
	int64_t batch;
	int64_t file_rows; /* rows in the file after the last commit, or more */

	/* What this batch read from the file or changed; forgotten after the
	 * commit (or rollback), when the file holds it all. */
	struct map keys;     /* key -> struct win_trade */
	struct map groups;   /* grp -> struct win_group */
	struct map fps;      /* fingerprint hash -> first row with it */
	struct map tickers;  /* ticker -> first purchase of it */
	struct map accs;     /* accession -> first registered group */
	struct map signals;  /* id -> struct win_signal (this batch's) */
	struct map clusters; /* ticker -> first struct win_cl */
	struct map read;     /* which file reads were made (s_read_before) */
	struct strpool pool; /* every string of rows, groups and signals */
	struct win_trade *oldest, *newest;
	size_t nrows;

	/* since the last commit */
	struct ptrs dirty_rows, dirty_groups, graveyard, dead_groups;
	struct ptrs outbox;            /* struct win_out: outbox rows written at the commit */
	struct ptrs det_rows;          /* rows holding their words (NULL: freed with it) */
	int64_t prune_time, prune_day; /* INT64_MIN: no prune */
	char read_err[256];            /* a failed read of the file ("": none) */
	bool reading;                  /* the batch's read transaction is open */
	bool clusters_dirty;           /* a cluster put (its own dirty flag says which) */

	/* kept across batches */
	struct map resent; /* id -> struct win_resent: intents sent again lately */
	size_t resent_sweep;
	size_t evicted_warned;
};

static int s_sql_fail(window_t *w, int which, char *err, size_t errlen)
{
	snprintf(err, errlen, "decider.sqlite: %.40s...: %s", s_sql[which], sqlite3_errmsg(w->db));
	return -1;
}

static sqlite3_stmt *s_st(window_t *w, int which)
{
	sqlite3_stmt *st = w->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void s_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void s_bind_num(sqlite3_stmt *st, int i, double x)
{
	if (isnan(x))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, x);
}

static int s_done(window_t *w, int which, char *err, size_t errlen)
{
	int rc = sqlite3_step(w->st[which]);

	sqlite3_reset(w->st[which]);
	if (rc != SQLITE_DONE)
		return s_sql_fail(w, which, err, errlen);
	return 0;
}

static double s_col_num(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Replace *dst by the pooled copy of src (src may be *dst itself); false
 * when out of memory (*dst is then unchanged). */
static bool s_set_str(window_t *w, const char **dst, const char *src)
{
	const char *d = s_intern(&w->pool, src);

	if (src != NULL && d == NULL)
		return false;
	s_release(&w->pool, *dst);
	*dst = d;
	return true;
}

/* A stored row with room for its key; its other strings NULL. */
static struct win_trade *s_trade_new(const char *key)
{
	size_t len = strlen(key);
	struct win_trade *r = calloc(1, sizeof(*r) + len + 1);

	if (r == NULL)
		return NULL;
	memcpy(r->key, key, len + 1);
	return r;
}

/* Free a stored row and its references. */
static void s_trade_free(window_t *w, struct win_trade *t)
{
	const char **strs[] = { &t->owner_key, &t->ticker, &t->dup_of, &t->used_by, &t->outcome };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		s_release(&w->pool, *strs[i]);
	if (t->det != NULL) {
		for (size_t i = 0; i < w->det_rows.n; i++)
			if (w->det_rows.v[i] == t)
				w->det_rows.v[i] = NULL;
		free((void *)t->det);
	}
	free((void *)t->ident);
	free(t);
}

static struct win_group *s_group_fetch(window_t *w, const char *grp);

/* ---- words ------------------------------------------------------------- */

/* A row's words as the window holds them: with its fingerprint, built
 * once when its content arrives (its hash indexes the row, the string is
 * written at the commit), NULL when read back from the file. */
struct det_block {
	struct win_detail d; /* first: a struct win_detail * points at it */
	const char *fp;
};

static const char *s_detail_fp(const struct win_detail *d)
{
	return ((const struct det_block *)(const void *)d)->fp;
}

/* A copy of src and fp (may be NULL) in one allocation (the struct, then
 * its strings); NULL when out of memory. */
static struct win_detail *s_detail_new(const struct win_detail *src, const char *fp)
{
	const char *in[7] = { src->owner, src->title, src->issuer, src->vticker,
		              src->figi,  src->isin,  fp };
	size_t len[7] = { 0 }, total = sizeof(struct det_block);
	const char **out[7];
	struct det_block *b;
	char *p;

	for (int i = 0; i < 7; i++)
		if (in[i] != NULL)
			total += (len[i] = strlen(in[i])) + 1;
	b = malloc(total);
	if (b == NULL)
		return NULL;
	out[0] = &b->d.owner;
	out[1] = &b->d.title;
	out[2] = &b->d.issuer;
	out[3] = &b->d.vticker;
	out[4] = &b->d.figi;
	out[5] = &b->d.isin;
	out[6] = &b->fp;
	p = (char *)(b + 1);
	for (int i = 0; i < 7; i++) {
		if (in[i] == NULL) {
			*out[i] = NULL;
			continue;
		}
		memcpy(p, in[i], len[i] + 1);
		*out[i] = p;
		p += len[i] + 1;
	}
	return &b->d;
}

/* Give r the words d (malloc'd, taken over), replacing any it had; false
 * when out of memory (d is then freed, r unchanged). */
static bool s_detail_set(window_t *w, struct win_trade *r, struct win_detail *d)
{
	if (r->det == NULL && s_ptrs_push(&w->det_rows, r) < 0) {
		free(d);
		return false;
	}
	free((void *)r->det);
	r->det = d;
	return true;
}

/* After a commit or a rollback: every row's words are the file's. */
static void s_details_drop(window_t *w)
{
	for (size_t i = 0; i < w->det_rows.n; i++) {
		struct win_trade *r = w->det_rows.v[i];

		if (r == NULL)
			continue;
		free((void *)r->det);
		r->det = NULL;
		r->fresh = false;
	}
	w->det_rows.n = 0;
}

static void s_group_free(window_t *w, struct win_group *g)
{
	s_release(&w->pool, g->owner_key);
	s_release(&w->pool, g->intent);
	free(g);
}

/* Copy s (NULL: none) to *p, advancing it; the copy, or NULL. */
static const char *s_copy_at(char **p, const char *s)
{
	size_t n;
	char *at;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	at = memcpy(*p, s, n);
	*p += n;
	return at;
}

/* A new group, with grp, source, accession and owner_cik in its own
 * allocation and owner_key interned; not in any map.  NULL when out of
 * memory. */
static struct win_group *s_group_new(window_t *w, const char *grp, const char *source,
                                     const char *accession, const char *owner_cik,
                                     const char *owner_key)
{
	size_t len = strlen(grp) + strlen(source) + 2;
	struct win_group *g;
	char *p;

	len += accession != NULL ? strlen(accession) + 1 : 0;
	len += owner_cik != NULL ? strlen(owner_cik) + 1 : 0;
	g = calloc(1, sizeof(*g) + len);
	if (g == NULL)
		return NULL;
	p = (char *)(g + 1);
	g->grp = s_copy_at(&p, grp);
	g->source = s_copy_at(&p, source);
	g->accession = s_copy_at(&p, accession);
	g->owner_cik = s_copy_at(&p, owner_cik);
	if (!s_set_str(w, &g->owner_key, owner_key)) {
		free(g);
		return NULL;
	}
	return g;
}

/* The group grp, made from these when there is none; NULL when out of
 * memory. */
static struct win_group *s_group_for(window_t *w, const char *grp, const char *source,
                                     const char *accession, const char *owner_cik,
                                     const char *owner_key, int side, int64_t ref_time)
{
	struct win_group *g = s_group_fetch(w, grp);

	if (g != NULL)
		return g;
	g = s_group_new(w, grp, source, accession, owner_cik, owner_key);
	if (g == NULL)
		return NULL;
	g->side = (int8_t)side;
	g->ref_time = ref_time;
	if (s_map_set(&w->groups, g->grp, g) < 0) {
		s_group_free(w, g);
		return NULL;
	}
	return g;
}

char *window_trade_date(const struct win_trade *r, char buf[11])
{
	return date_format(date_from_days(r->trade_day), buf, 11);
}

static void s_mark_dirty(window_t *w, struct win_trade *r)
{
	if (!r->dirty && s_ptrs_push(&w->dirty_rows, r) == 0)
		r->dirty = true;
	/* Out of memory here: the row is not written, and the next load
	 * lacks it; the scraper sends it again.  Nothing is decided twice
	 * because intents and groups are written on their own lists. */
}

static void s_group_dirty(window_t *w, struct win_group *g)
{
	if (!g->dirty && s_ptrs_push(&w->dirty_groups, g) == 0)
		g->dirty = true;
}

/* ---- indexes ------------------------------------------------------------ */

/* Doubly-linked lists whose head a map holds. */
#define LIST_UNLINK(map, r, keyf, prev, next)                                                      \
	do {                                                                                       \
		if ((r)->prev != NULL)                                                             \
			(r)->prev->next = (r)->next;                                               \
		else if ((r)->next != NULL)                                                        \
			s_map_set((map), (r)->keyf, (r)->next);                                    \
		else                                                                               \
			s_map_del((map), (r)->keyf);                                               \
		if ((r)->next != NULL)                                                             \
			(r)->next->prev = (r)->prev;                                               \
		(r)->prev = (r)->next = NULL;                                                      \
	} while (0)

static int s_ticker_push(struct map *m, struct win_trade *r)
{
	struct win_trade *head = s_map_get(m, r->ticker);

	if (s_map_set(m, r->ticker, r) < 0)
		return -1;
	r->in_ticker = true;
	r->tnext = head;
	r->tprev = NULL;
	if (head != NULL)
		head->tprev = r;
	return 0;
}

static int s_fp_push(struct map *m, struct win_trade *r)
{
	struct win_trade *head = s_hmap_get(m, r->fph);

	if (s_hmap_set(m, r) < 0)
		return -1;
	r->in_fp = true;
	r->fnext = head;
	r->fprev = NULL;
	if (head != NULL)
		head->fprev = r;
	return 0;
}

static void s_fp_unlink(struct map *m, struct win_trade *r)
{
	if (r->fprev != NULL)
		r->fprev->fnext = r->fnext;
	else if (r->fnext != NULL)
		m->b[s_map_find(m, r->fph, NULL)] = r->fnext; /* the new head, same hash */
	else
		s_map_remove(m, r->fph, NULL);
	if (r->fnext != NULL)
		r->fnext->fprev = r->fprev;
	r->fprev = r->fnext = NULL;
	r->in_fp = false;
}

size_t window_fp(const struct win_trade *r, char *buf, size_t len)
{
	const char *code = r->side == SIDE_BUY ? "P" : "S";
	char date[11];
	int n;

	window_trade_date(r, date);
	if (isnan(r->price))
		n = snprintf(buf, len, "%s|%s|%s|%s|%.4f|-", r->ticker, r->owner_key, date, code,
		             r->shares);
	else
		n = snprintf(buf, len, "%s|%s|%s|%s|%.4f|%.4f", r->ticker, r->owner_key, date, code,
		             r->shares, r->price);
	return n < 0 ? 0 : (size_t)n;
}

/* Whether a and b have the same fingerprint. */
static bool s_fp_equal(const struct win_trade *a, const struct win_trade *b)
{
	char x[1024], y[1024];
	size_t nx, ny;

	if (a->fph != b->fph)
		return false;
	nx = window_fp(a, x, sizeof(x));
	ny = window_fp(b, y, sizeof(y));
	if (nx >= sizeof(x) || ny >= sizeof(y)) {
		/* longer than any valid trade's: compare them whole */
		char *p = NULL, *q = NULL;
		bool eq = false;

		if (nx == ny && (p = malloc(nx + 1)) != NULL && (q = malloc(ny + 1)) != NULL) {
			window_fp(a, p, nx + 1);
			window_fp(b, q, ny + 1);
			eq = strcmp(p, q) == 0;
		}
		free(p);
		free(q);
		return eq;
	}
	return nx == ny && memcmp(x, y, nx) == 0;
}

/* The hash of r's fingerprint (s_hash of window_fp's string). */
static uint64_t s_fp_hash(const struct win_trade *r)
{
	char buf[1024], *p = buf;
	size_t n;
	uint64_t h;

	if (r->det != NULL && s_detail_fp(r->det) != NULL)
		return s_hash(s_detail_fp(r->det));
	n = window_fp(r, buf, sizeof(buf));
	if (n >= sizeof(buf)) {
		p = malloc(n + 1);
		if (p == NULL)
			return 0; /* still correct: equal hashes are compared whole */
		window_fp(r, p, n + 1);
	}
	h = s_hash(p);
	if (p != buf)
		free(p);
	return h;
}

static void s_group_unlink_acc(window_t *w, struct win_group *g)
{
	if (g->acc_prev != NULL)
		g->acc_prev->acc_next = g->acc_next;
	else if (g->acc_next != NULL)
		s_map_set(&w->accs, g->accession, g->acc_next);
	else
		s_map_del(&w->accs, g->accession);
	if (g->acc_next != NULL)
		g->acc_next->acc_prev = g->acc_prev;
	g->acc_prev = g->acc_next = NULL;
}

/* A group with no rows that is not remembered goes. */
static void s_group_maybe_free(window_t *w, struct win_group *g)
{
	if (g->nrows > 0 || g->registered)
		return;
	s_map_del(&w->groups, g->grp);
	if (g->dirty)
		s_ptrs_push(&w->dead_groups, g); /* freed after the commit */
	else
		s_group_free(w, g);
}

static bool s_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Link r into its group (grp, made from the others when there is none),
 * and the fp and ticker indexes; -1 when out of memory.  A row whose
 * source, accession or owner CIK are not its group's keeps its own. */
static int s_index(window_t *w, struct win_trade *r, const char *grp, const char *source,
                   const char *accession, const char *owner_cik)
{
	struct win_group *g =
	    s_group_for(w, grp, source, accession, owner_cik, r->owner_key, r->side, r->ref_time);

	if (g == NULL)
		return -1;
	if (!s_same(g->source, source) || !s_same(g->accession, accession) ||
	    !s_same(g->owner_cik, owner_cik)) {
		size_t len = strlen(source) + 1;
		struct win_ident *id;
		char *p;

		len += accession != NULL ? strlen(accession) + 1 : 0;
		len += owner_cik != NULL ? strlen(owner_cik) + 1 : 0;
		id = malloc(sizeof(*id) + len);
		if (id == NULL)
			return -1;
		p = (char *)(id + 1);
		id->source = s_copy_at(&p, source);
		id->accession = s_copy_at(&p, accession);
		id->owner_cik = s_copy_at(&p, owner_cik);
		r->ident = id;
	}
	r->group = g;
	r->gprev = NULL;
	r->gnext = g->rows;
	if (g->rows != NULL)
		g->rows->gprev = r;
	g->rows = r;
	g->nrows++;
	r->fph = s_fp_hash(r);
	if (s_fp_push(&w->fps, r) < 0)
		return -1;
	if (r->side == SIDE_BUY && s_ticker_push(&w->tickers, r) < 0)
		return -1;
	return 0;
}

static void s_unindex(window_t *w, struct win_trade *r)
{
	struct win_group *g = r->group;

	if (g != NULL) {
		if (r->gprev != NULL)
			r->gprev->gnext = r->gnext;
		else
			g->rows = r->gnext;
		if (r->gnext != NULL)
			r->gnext->gprev = r->gprev;
		r->gprev = r->gnext = NULL;
		g->nrows--;
		r->group = NULL;
		s_group_maybe_free(w, g);
	}
	if (r->in_fp)
		s_fp_unlink(&w->fps, r);
	if (r->in_ticker)
		LIST_UNLINK(&w->tickers, r, ticker, tprev, tnext);
	r->in_fp = r->in_ticker = false;
	free((void *)r->ident);
	r->ident = NULL;
}

static void s_age_append(window_t *w, struct win_trade *r)
{
	r->aprev = w->newest;
	r->anext = NULL;
	if (w->newest != NULL)
		w->newest->anext = r;
	else
		w->oldest = r;
	w->newest = r;
}

/* Take r out of everything; it is freed after the commit. */
static void s_remove(window_t *w, struct win_trade *r)
{
	s_unindex(w, r);
	s_map_del(&w->keys, r->key);
	if (r->aprev != NULL)
		r->aprev->anext = r->anext;
	else
		w->oldest = r->anext;
	if (r->anext != NULL)
		r->anext->aprev = r->aprev;
	else
		w->newest = r->aprev;
	r->aprev = r->anext = NULL;
	r->dead = true;
	w->nrows--;
	if (s_ptrs_push(&w->graveyard, r) < 0) {
		/* cannot defer: only safe to free when nothing lists it */
		if (!r->dirty)
			s_trade_free(w, r);
	}
}

/* ---- life cycle --------------------------------------------------------- */

static void s_outbox_clear(window_t *w)
{
	for (size_t i = 0; i < w->outbox.n; i++) {
		struct win_out *o = w->outbox.v[i];

		free(o->id);
		free(o);
	}
	w->outbox.n = 0;
}

/* The maps' keys, read from their values. */
static const char *s_key_row(const void *v)
{
	return ((const struct win_trade *)v)->key;
}

static const char *s_key_ticker(const void *v)
{
	return ((const struct win_trade *)v)->ticker;
}

static const char *s_key_grp(const void *v)
{
	return ((const struct win_group *)v)->grp;
}

static const char *s_key_acc(const void *v)
{
	return ((const struct win_group *)v)->accession;
}

static const char *s_key_signal(const void *v)
{
	return ((const struct win_signal *)v)->id;
}

static const char *s_key_cluster(const void *v)
{
	return ((const struct win_cl *)v)->c.ticker;
}

/* An intent sent again, and when (window_resend_due). */
struct win_resent {
	int64_t at;
	char id[];
};

static const char *s_key_resent(const void *v)
{
	return ((const struct win_resent *)v)->id;
}

static void s_resent_clear(window_t *w)
{
	size_t n = 0;
	void **v = s_map_values(&w->resent, &n);

	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
	s_map_free(&w->resent);
}

static uint64_t s_hkey_fph(const void *v)
{
	return ((const struct win_trade *)v)->fph;
}

static void s_forget_all(window_t *w)
{
	size_t n = 0;
	void **v;

	/* Every string goes with the pool, at the end: rows, groups and
	 * signals are freed without releasing theirs. */
	s_details_drop(w);
	for (struct win_trade *r = w->oldest, *next; r != NULL; r = next) {
		next = r->anext;
		free((void *)r->ident);
		free(r);
	}
	w->oldest = w->newest = NULL;
	w->nrows = 0;
	for (size_t i = 0; i < w->graveyard.n; i++) {
		free((void *)((struct win_trade *)w->graveyard.v[i])->ident);
		free(w->graveyard.v[i]);
	}
	if ((v = s_map_values(&w->groups, &n)) != NULL) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	for (size_t i = 0; i < w->dead_groups.n; i++)
		free(w->dead_groups.v[i]);
	if ((v = s_map_values(&w->signals, &n)) != NULL) {
		for (size_t i = 0; i < n; i++) {
			struct win_signal *s = v[i];

			free(s->row);
			free(s);
		}
		free(v);
	}
	if ((v = s_map_values(&w->clusters, &n)) != NULL) {
		for (size_t i = 0; i < n; i++)
			for (struct win_cl *c = v[i], *next; c != NULL; c = next) {
				next = c->next;
				free(c);
			}
		free(v);
	}
	if ((v = s_map_values(&w->read, &n)) != NULL) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	s_outbox_clear(w);
	s_map_free(&w->read);
	s_map_free(&w->keys);
	s_map_free(&w->groups);
	s_map_free(&w->fps);
	s_map_free(&w->tickers);
	s_map_free(&w->accs);
	s_map_free(&w->signals);
	s_map_free(&w->clusters);
	s_pool_free(&w->pool);
	{
		struct ptrs *lists[] = { &w->dirty_rows, &w->graveyard,    &w->dead_groups,
			                 &w->outbox,     &w->dirty_groups, &w->det_rows };

		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
			s_ptrs_reset(lists[i]);
	}
	w->prune_time = w->prune_day = INT64_MIN;
	w->read_err[0] = '\0';
	w->clusters_dirty = false;
}

/* The pooled copy of column i (NULL for NULL); *oom set when out of memory. */
static const char *s_col_str(window_t *w, sqlite3_stmt *st, int i, bool *oom)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	const char *d = s_intern(&w->pool, s);

	if (s != NULL && d == NULL)
		*oom = true;
	return d;
}

/* Read one row of TRADE_COLS into a new in-memory row. */
static struct win_trade *s_read_trade(window_t *w, sqlite3_stmt *st)
{
	const unsigned char *key = sqlite3_column_text(st, 0);
	struct win_trade *t;
	bool oom = false;

	if (key == NULL || (t = s_trade_new((const char *)key)) == NULL)
		return NULL;
	t->chash = (uint64_t)sqlite3_column_int64(st, 1);
	/* source, accession, grp and owner_cik are its group's (s_load) */
	t->srank = (int8_t)sqlite3_column_int(st, 3);
	t->side = (int8_t)sqlite3_column_int(st, 6);
	/* the words (owner, title, issuer, instrument) stay in the file */
	t->owner_key = s_col_str(w, st, 9, &oom);
	t->ticker = s_col_str(w, st, 11, &oom);
	t->has_figi = sqlite3_column_type(st, 14) != SQLITE_NULL;
	/* column 16, the trade date, is the day's (17) */
	t->trade_day = (int32_t)sqlite3_column_int64(st, 17);
	t->shares = s_col_num(st, 18);
	t->price = s_col_num(st, 19);
	t->value = s_col_num(st, 20);
	t->shares_after = s_col_num(st, 21);
	t->direct = (int8_t)sqlite3_column_int(st, 22);
	t->amendment = sqlite3_column_int(st, 23) != 0;
	/* column 24, the fingerprint, is built again from the others */
	t->ref_time = sqlite3_column_int64(st, 25);
	t->pending = false; /* only judged rows are ever written */
	t->gvalue = s_col_num(st, 27);
	t->dup_of = s_col_str(w, st, 28, &oom);
	t->used_by = s_col_str(w, st, 29, &oom);
	t->outcome = s_col_str(w, st, 30, &oom);
	t->first_batch = sqlite3_column_int64(st, 31);
	if (oom || sqlite3_column_type(st, 2) == SQLITE_NULL ||
	    sqlite3_column_type(st, 5) == SQLITE_NULL || t->owner_key == NULL ||
	    t->ticker == NULL) {
		s_trade_free(w, t);
		return NULL;
	}
	return t;
}

/* The key of a set entry: the entry itself (a string). */
static const char *s_key_self(const void *v)
{
	return v;
}

/* Note a failed read of the file: the batch cannot be trusted, so its
 * commit fails (and rolls back) with this message. */
static void s_read_failed(window_t *w, int which, const char *what)
{
	if (w->read_err[0] == '\0')
		snprintf(w->read_err, sizeof(w->read_err), "decider.sqlite: %.40s...: %s",
		         s_sql[which], what != NULL ? what : sqlite3_errmsg(w->db));
}

/*
 * The batch's reads share one read transaction, begun at the first: on
 * its own each SELECT took and dropped WAL read locks (two fcntl and an
 * fstat), which cost more than the read.  It ends before the commit's
 * write transaction begins, so another writer of the file waits on the
 * busy timeout as before rather than failing on a stale snapshot.
 */
static void s_read_begin(window_t *w)
{
	char why[256];

	if (w->reading || sqlite3_get_autocommit(w->db) == 0)
		return;
	if (s_done(w, ST_BEGIN_READ, why, sizeof(why)) == 0)
		w->reading = true; /* else each read is its own transaction */
}

static void s_read_end(window_t *w)
{
	char why[256];

	if (w->reading && sqlite3_get_autocommit(w->db) == 0 &&
	    s_done(w, ST_COMMIT, why, sizeof(why)) < 0)
		log_warnx("%s", why);
	w->reading = false;
}

/*
 * Whether this batch already read the file's rows of one kind of lookup
 * (kind: 'k' key, 'f' fingerprint, 'g' group's rows, 'G' group, 'a'
 * accession, 't' purchases of a ticker in a day range, 'c' clusters of a
 * ticker) for the string s; if not, it is noted as read (the caller reads
 * now) and false is returned.  Out of memory it is not noted: the read is
 * made again later, which is only slower (memory's copies are kept).
 */
static bool s_was_read(const window_t *w, char kind, const char *s);

static bool s_read_before(window_t *w, char kind, const char *s)
{
	size_t n = strlen(s);
	char *k;

	if (s_was_read(w, kind, s))
		return true;
	if ((k = malloc(n + 2)) == NULL)
		return false;
	k[0] = kind;
	memcpy(k + 1, s, n + 1);
	if (s_map_set(&w->read, k, k) < 0)
		free(k);
	return false;
}

/* Whether s_read_before(w, kind, s) noted a read, without noting one (and
 * without an allocation for s of usual length). */
static bool s_was_read(const window_t *w, char kind, const char *s)
{
	char buf[256], *k = buf;
	size_t n = strlen(s);
	bool got;

	if (n + 2 > sizeof(buf) && (k = malloc(n + 2)) == NULL)
		return false; /* read again: only slower */
	k[0] = kind;
	memcpy(k + 1, s, n + 1);
	got = s_map_get(&w->read, k) != NULL;
	if (k != buf)
		free(k);
	return got;
}

/* The prune bound of reads: what a window_prune of this batch deletes at
 * the commit is not read (INT64_MIN when none). */
static void s_bind_live(window_t *w, sqlite3_stmt *st, int i, bool days)
{
	sqlite3_bind_int64(st, i, days ? w->prune_day : w->prune_time);
}

/*
 * Bring every row the bound statement `which` yields into memory and its
 * indexes, but for keys memory already holds (memory's copy is this
 * batch's, newer than the file's).  A failure is noted (s_read_failed)
 * and ends the read.
 */
static void s_fetch_rows(window_t *w, int which)
{
	sqlite3_stmt *st = w->st[which];
	int rc;

	s_read_begin(w);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		struct win_trade *r;

		if (key == NULL || s_map_get(&w->keys, key) != NULL)
			continue;
		if ((r = s_read_trade(w, st)) == NULL) {
			s_read_failed(w, which,
			              "out of memory, or a row without its source or group");
			break;
		}
		if (s_map_set(&w->keys, r->key, r) < 0) {
			s_trade_free(w, r);
			s_read_failed(w, which, "out of memory");
			break;
		}
		s_age_append(w, r);
		w->nrows++;
		if (s_index(w, r, (const char *)sqlite3_column_text(st, 5),
		            (const char *)sqlite3_column_text(st, 2),
		            (const char *)sqlite3_column_text(st, 4),
		            (const char *)sqlite3_column_text(st, 8)) < 0) {
			s_remove(w, r);
			s_read_failed(w, which, "out of memory");
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s_read_failed(w, which, NULL);
	sqlite3_reset(st);
}

/* A registered group from a row of GROUP_COLS, into memory (not dirty);
 * NULL when out of memory. */
static struct win_group *s_group_load(window_t *w, sqlite3_stmt *st)
{
	const char *grp = (const char *)sqlite3_column_text(st, 0);
	const char *source = (const char *)sqlite3_column_text(st, 1);
	const char *acc = (const char *)sqlite3_column_text(st, 2);
	const char *owner_key = (const char *)sqlite3_column_text(st, 5);
	struct win_group *g, *head;

	if (grp == NULL || source == NULL || acc == NULL || owner_key == NULL)
		return NULL;
	g = s_group_new(w, grp, source, acc, (const char *)sqlite3_column_text(st, 4), owner_key);
	if (g == NULL)
		return NULL;
	g->side = (int8_t)sqlite3_column_int(st, 3);
	g->ref_time = sqlite3_column_int64(st, 7);
	if (!s_set_str(w, &g->intent, (const char *)sqlite3_column_text(st, 6)) ||
	    s_map_set(&w->groups, g->grp, g) < 0) {
		s_group_free(w, g);
		return NULL;
	}
	head = s_map_get(&w->accs, g->accession);
	if (s_map_set(&w->accs, g->accession, g) < 0) {
		s_map_del(&w->groups, g->grp);
		s_group_free(w, g);
		return NULL;
	}
	g->acc_next = head;
	if (head != NULL)
		head->acc_prev = g;
	g->registered = true;
	return g;
}

/* Bring the file's groups the bound statement `which` yields into memory,
 * but for those memory holds.  A failure is noted. */
static void s_fetch_groups(window_t *w, int which)
{
	sqlite3_stmt *st = w->st[which];
	int rc;

	s_read_begin(w);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *grp = (const char *)sqlite3_column_text(st, 0);

		if (grp == NULL || s_map_get(&w->groups, grp) != NULL)
			continue;
		if (s_group_load(w, st) == NULL) {
			s_read_failed(w, which, "out of memory, or a group without its names");
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s_read_failed(w, which, NULL);
	sqlite3_reset(st);
}

/*
 * Once a batch per (kind, s): bring the rows (or, for the statements of
 * filing_owner, the groups) that the one-string statement `which` finds
 * for s into memory.  A failure is noted (s_read_failed).
 */
static void s_read_once(window_t *w, char kind, int which, const char *s)
{
	sqlite3_stmt *st;

	if (s_read_before(w, kind, s))
		return;
	st = s_st(w, which);
	s_bind_text(st, 1, s);
	s_bind_live(w, st, 2, false);
	if (which == ST_GET_GROUP || which == ST_GROUPS_BY_ACC)
		s_fetch_groups(w, which);
	else
		s_fetch_rows(w, which);
}

/* The group grp in memory, read from the file when this batch has not
 * read it yet; NULL when neither has it. */
static struct win_group *s_group_fetch(window_t *w, const char *grp)
{
	struct win_group *g = s_map_get(&w->groups, grp);

	if (g != NULL)
		return g;
	s_read_once(w, 'G', ST_GET_GROUP, grp);
	return s_map_get(&w->groups, grp);
}

/* One number a statement without parameters, or with the prune bound as
 * its first, yields; -1 when it fails. */
static int64_t s_scalar(window_t *w, int which, bool live, char *err, size_t errlen)
{
	sqlite3_stmt *st = s_st(w, which);
	int64_t v = -1;

	if (live)
		s_bind_live(w, st, 1, false);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		s_sql_fail(w, which, err, errlen);
	sqlite3_reset(st);
	return v;
}

/* After opening or a rollback: the next batch's number (rows record the
 * first they were stored in) and the file's rows.  When they cannot be
 * read both stay as they were: the file is as the last commit left it, so
 * file_rows is still at least its rows. */
static int s_read_state(window_t *w, char *err, size_t errlen)
{
	int64_t last = s_scalar(w, ST_MAX_BATCH, false, err, errlen);
	int64_t rows = s_scalar(w, ST_COUNT_TRADES, false, err, errlen);

	if (last < 0 || rows < 0)
		return -1;
	w->file_rows = rows;
	w->batch = last + 1;
	return 0;
}

window_t *window_open(const char *state_dir, size_t max_trades, char *err, size_t errlen)
{
	window_t *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->max_trades = max_trades > 0 ? max_trades : SIZE_MAX;
	w->keys.key = s_key_row;
	w->groups.key = s_key_grp;
	w->tickers.key = s_key_ticker;
	w->accs.key = s_key_acc;
	w->signals.key = s_key_signal;
	w->clusters.key = s_key_cluster;
	w->fps.hkey = s_hkey_fph;
	w->read.key = s_key_self;
	w->resent.key = s_key_resent;
	w->prune_time = w->prune_day = INT64_MIN;
	w->db = store_open(state_dir, WINDOW_FILE, s_migrations, false, err, errlen);
	if (w->db == NULL) {
		free(w);
		return NULL;
	}
	if (store_exec(w->db, "PRAGMA cache_size = -" WINDOW_CACHE_KIB, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(w->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
		                       NULL) != SQLITE_OK) {
			s_sql_fail(w, i, err, errlen);
			goto fail;
		}
	if (s_read_state(w, err, errlen) < 0)
		goto fail;
	return w;
fail:
	window_close(&w);
	return NULL;
}

void window_close(window_t **wp)
{
	window_t *w;

	if (wp == NULL || *wp == NULL)
		return;
	w = *wp;
	s_read_end(w);
	s_forget_all(w);
	free(w->dirty_rows.v);
	free(w->dirty_groups.v);
	free(w->outbox.v);
	free(w->det_rows.v);
	free(w->graveyard.v);
	free(w->dead_groups.v);
	s_resent_clear(w);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(w->st[i]);
	store_close(&w->db);
	free(w);
	*wp = NULL;
}

int window_rollback(window_t *w, char *err, size_t errlen)
{
	char why[256];

	if (sqlite3_get_autocommit(w->db) == 0 && s_done(w, ST_ROLLBACK, why, sizeof(why)) < 0)
		log_warnx("%s", why);
	w->reading = false;
	s_forget_all(w);
	return s_read_state(w, err, errlen);
}

/* ---- the commit --------------------------------------------------------- */

/* Bind a fingerprint too long for s_write_trade's buffer (SQLite copies
 * it); false when out of memory. */
static bool s_bind_fp_long(sqlite3_stmt *st, int i, const struct win_trade *t)
{
	size_t n = window_fp(t, NULL, 0);
	char *p = malloc(n + 1);

	if (p == NULL)
		return false;
	window_fp(t, p, n + 1);
	sqlite3_bind_text(st, i, p, (int)n, SQLITE_TRANSIENT);
	free(p);
	return true;
}

/* A row the file has: its judgment only. */
static int s_update_trade(window_t *w, const struct win_trade *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s_st(w, ST_UPD_TRADE);

	s_bind_text(st, 1, t->key);
	s_bind_num(st, 2, t->gvalue);
	s_bind_text(st, 3, t->dup_of);
	s_bind_text(st, 4, t->used_by);
	s_bind_text(st, 5, t->outcome);
	return s_done(w, ST_UPD_TRADE, err, errlen);
}

static int s_write_trade(window_t *w, const struct win_trade *t, char *err, size_t errlen)
{
	static const struct win_detail none;
	const struct win_detail *det = t->det != NULL ? t->det : &none;
	sqlite3_stmt *st;
	char fp[1024];
	size_t fplen;

	char date[11];

	if (!t->fresh)
		return s_update_trade(w, t, err, errlen);
	st = s_st(w, ST_PUT_TRADE);
	if (t->det != NULL && s_detail_fp(t->det) != NULL)
		fplen = (size_t)snprintf(fp, sizeof(fp), "%s", s_detail_fp(t->det));
	else
		fplen = window_fp(t, fp, sizeof(fp));
	window_trade_date(t, date);

	s_bind_text(st, 1, t->key);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t->chash);
	s_bind_text(st, 3, win_source(t));
	sqlite3_bind_int(st, 4, t->srank);
	s_bind_text(st, 5, win_accession(t));
	s_bind_text(st, 6, win_grp(t));
	sqlite3_bind_int(st, 7, t->side);
	s_bind_text(st, 8, det->owner);
	s_bind_text(st, 9, win_owner_cik(t));
	s_bind_text(st, 10, t->owner_key);
	s_bind_text(st, 11, det->title);
	s_bind_text(st, 12, t->ticker);
	s_bind_text(st, 13, det->issuer);
	s_bind_text(st, 14, det->vticker);
	s_bind_text(st, 15, det->figi);
	s_bind_text(st, 16, det->isin);
	s_bind_text(st, 17, date);
	sqlite3_bind_int64(st, 18, t->trade_day);
	s_bind_num(st, 19, t->shares);
	s_bind_num(st, 20, t->price);
	s_bind_num(st, 21, t->value);
	s_bind_num(st, 22, t->shares_after);
	sqlite3_bind_int(st, 23, t->direct);
	sqlite3_bind_int(st, 24, t->amendment);
	if (fplen < sizeof(fp))
		s_bind_text(st, 25, fp);
	else if (!s_bind_fp_long(st, 25, t))
		return s_sql_fail(w, ST_PUT_TRADE, err, errlen);
	sqlite3_bind_int64(st, 26, t->ref_time);
	sqlite3_bind_int(st, 27, 0); /* judged before it is written */
	s_bind_num(st, 28, t->gvalue);
	s_bind_text(st, 29, t->dup_of);
	s_bind_text(st, 30, t->used_by);
	s_bind_text(st, 31, t->outcome);
	sqlite3_bind_int64(st, 32, t->first_batch);
	return s_done(w, ST_PUT_TRADE, err, errlen);
}

static int s_write_group(window_t *w, const struct win_group *g, char *err, size_t errlen)
{
	sqlite3_stmt *st = s_st(w, ST_PUT_GROUP);

	s_bind_text(st, 1, g->grp);
	s_bind_text(st, 2, g->source);
	s_bind_text(st, 3, g->accession);
	sqlite3_bind_int(st, 4, g->side);
	s_bind_text(st, 5, g->owner_cik);
	s_bind_text(st, 6, g->owner_key);
	s_bind_text(st, 7, g->intent);
	sqlite3_bind_int64(st, 8, g->ref_time);
	return s_done(w, ST_PUT_GROUP, err, errlen);
}

static int s_write_signal(window_t *w, const struct win_signal *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = s_st(w, ST_PUT_SIGNAL);

	s_bind_text(st, 1, s->id);
	s_bind_text(st, 2, s->row->rule);
	sqlite3_bind_int(st, 3, s->row->side);
	s_bind_text(st, 4, s->row->ticker);
	s_bind_text(st, 5, s->row->reason);
	s_bind_text(st, 6, s->row->evidence);
	sqlite3_bind_int64(st, 7, s->created_at);
	sqlite3_bind_int64(st, 8, s->row->expires_at);
	return s_done(w, ST_PUT_SIGNAL, err, errlen);
}

static int s_write_clusters(window_t *w, char *err, size_t errlen)
{
	size_t n = 0;
	void **v = s_map_values(&w->clusters, &n);
	int rc = 0;

	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		for (struct win_cl *c = v[i]; c != NULL && rc == 0; c = c->next) {
			sqlite3_stmt *st;

			if (!c->dirty)
				continue;
			st = s_st(w, ST_PUT_CLUSTER);
			s_bind_text(st, 1, c->c.id);
			s_bind_text(st, 2, c->c.ticker);
			sqlite3_bind_int64(st, 3, c->c.first_day);
			sqlite3_bind_int64(st, 4, c->c.last_day);
			rc = s_done(w, ST_PUT_CLUSTER, err, errlen);
		}
	free(v);
	return rc;
}

/*
 * Keep the file within max_trades rows: past it, the oldest judged rows
 * (first seen first) go, a tenth of the bound more than the excess, so
 * that the count (a scan of the file) is taken once per tenth of the
 * bound rather than at every commit.  *rows is an upper bound of the
 * file's rows on entry (exact when exact is set) and the count on return.
 * A forgotten row's group and intent stay, so nothing is decided twice;
 * cluster_buy sees fewer purchases.
 */
static int s_evict(window_t *w, int64_t *rows, bool exact, char *err, size_t errlen)
{
	int64_t keep, n;
	sqlite3_stmt *st;

	if (w->max_trades == SIZE_MAX || (!exact && *rows <= (int64_t)w->max_trades))
		return 0;
	if ((n = s_scalar(w, ST_COUNT_TRADES, false, err, errlen)) < 0)
		return -1;
	*rows = n;
	if (n <= (int64_t)w->max_trades)
		return 0;
	keep = (int64_t)(w->max_trades - w->max_trades / 10);
	st = s_st(w, ST_EVICT);
	sqlite3_bind_int64(st, 1, n - keep);
	if (s_done(w, ST_EVICT, err, errlen) < 0)
		return -1;
	*rows = n - sqlite3_changes(w->db);
	if (w->evicted_warned++ % 100 == 0)
		log_warnx(
		    "decider: window full (%zu trades): the oldest %lld forgotten early; raise "
		    "decider.window.max_trades",
		    w->max_trades, (long long)(n - *rows));
	return 0;
}

/* Write the batch (the transaction is open); *rows: the file's rows
 * after it, or more. */
static int s_write_all(window_t *w, int64_t *rows, char *err, size_t errlen)
{
	bool pruned = w->prune_time != INT64_MIN;

	*rows = w->file_rows;
	if (pruned) {
		static const int which[] = { ST_PRUNE_TRADE, ST_PRUNE_GROUP, ST_PRUNE_SIGNAL,
			                     ST_PRUNE_CLUSTER, ST_PRUNE_OUTBOX };

		for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
			sqlite3_stmt *st = s_st(w, which[i]);

			sqlite3_bind_int64(
			    st, 1, which[i] == ST_PRUNE_CLUSTER ? w->prune_day : w->prune_time);
			if (s_done(w, which[i], err, errlen) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < w->dirty_rows.n; i++) {
		struct win_trade *r = w->dirty_rows.v[i];

		if (r->dead)
			continue;
		*rows += r->fresh; /* a new row, or one rewritten whole */
		if (s_write_trade(w, r, err, errlen) < 0)
			return -1;
	}
	for (size_t i = 0; i < w->dirty_groups.n; i++) {
		struct win_group *g = w->dirty_groups.v[i];

		if (g->registered && s_write_group(w, g, err, errlen) < 0)
			return -1;
	}
	for (size_t i = 0; i < w->signals.nb; i++)
		if (w->signals.b[i] != NULL && s_write_signal(w, w->signals.b[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < w->outbox.n; i++) {
		const struct win_out *o = w->outbox.v[i];
		sqlite3_stmt *st = s_st(w, ST_PUT_OUTBOX);

		s_bind_text(st, 1, o->id);
		sqlite3_bind_blob(st, 2, o->rec, (int)o->len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, o->created_at);
		if (s_done(w, ST_PUT_OUTBOX, err, errlen) < 0)
			return -1;
	}
	if (s_write_clusters(w, err, errlen) < 0)
		return -1;
	return s_evict(w, rows, pruned, err, errlen);
}

int window_commit(window_t *w, char *err, size_t errlen)
{
	char why[512];
	int64_t rows;

	if (w->read_err[0] != '\0') {
		snprintf(err, errlen, "%s", w->read_err);
		goto fail;
	}
	if (w->dirty_rows.n == 0 && w->dirty_groups.n == 0 && w->signals.n == 0 &&
	    w->outbox.n == 0 && !w->clusters_dirty && w->prune_time == INT64_MIN) {
		/* nothing to write; still a new batch */
		s_read_end(w);
		s_forget_all(w);
		w->batch++;
		return 0;
	}
	s_read_end(w);
	if (s_done(w, ST_BEGIN, err, errlen) < 0)
		goto fail;
	if (s_write_all(w, &rows, err, errlen) < 0 || s_done(w, ST_COMMIT, err, errlen) < 0)
		goto fail;
	/* the file holds it all now */
	s_forget_all(w);
	w->file_rows = rows;
	w->batch++;
	return 0;
fail:
	/* The file still holds the last commit: memory forgets the batch. */
	if (window_rollback(w, why, sizeof(why)) < 0)
		log_warnx("decider: reading the window again: %s", why);
	return -1;
}

void window_drop_reads(window_t *w)
{
	if (w->nrows == 0 && w->read.n == 0 && w->groups.n == 0 && w->signals.n == 0 &&
	    w->clusters.n == 0 && !w->reading)
		return; /* nothing held: the idle loop's usual case */
	for (const struct win_trade *r = w->oldest; r != NULL; r = r->anext)
		if (r->pending)
			return;
	if (w->dirty_rows.n == 0 && w->dirty_groups.n == 0 && w->signals.n == 0 &&
	    w->outbox.n == 0 && !w->clusters_dirty && w->prune_time == INT64_MIN &&
	    w->read_err[0] == '\0') {
		s_read_end(w);
		s_forget_all(w);
	}
}

/* ---- trades ------------------------------------------------------------- */

struct win_trade *window_lookup(window_t *w, const char *key)
{
	struct win_trade *r = s_map_get(&w->keys, key);

	if (r != NULL)
		return r;
	s_read_once(w, 'k', ST_GET_TRADE, key);
	return s_map_get(&w->keys, key);
}

const struct win_detail *window_detail(window_t *w, struct win_trade *r, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct win_detail got, *d;
	int rc;

	if (r->det != NULL)
		return r->det;
	st = s_st(w, ST_GET_DETAIL);
	s_bind_text(st, 1, r->key);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(err, errlen, "decider.sqlite: trade %.64s is not in the file",
			         r->key);
		else
			s_sql_fail(w, ST_GET_DETAIL, err, errlen);
		sqlite3_reset(st);
		return NULL;
	}
	got.owner = (const char *)sqlite3_column_text(st, 0);
	got.title = (const char *)sqlite3_column_text(st, 1);
	got.issuer = (const char *)sqlite3_column_text(st, 2);
	got.vticker = (const char *)sqlite3_column_text(st, 3);
	got.figi = (const char *)sqlite3_column_text(st, 4);
	got.isin = (const char *)sqlite3_column_text(st, 5);
	d = s_detail_new(&got, NULL);
	sqlite3_reset(st);
	if (d == NULL || !s_detail_set(w, r, d)) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return d;
}

/* Copy t's content into r (strings duplicated); false when out of memory
 * (r then keeps what it had, possibly partly replaced). */
static bool s_fill(window_t *w, struct win_trade *r, const struct win_put *t)
{
	struct win_detail *d;
	char fp[1024];

	if (!s_set_str(w, &r->owner_key, t->owner_key) || !s_set_str(w, &r->ticker, t->ticker))
		return false;
	r->chash = t->chash;
	r->srank = t->srank;
	r->side = t->side;
	r->trade_day = (int32_t)t->trade_day;
	r->shares = t->shares;
	r->price = t->price;
	r->value = t->value;
	r->shares_after = t->shares_after;
	r->direct = t->direct;
	r->amendment = t->amendment;
	r->ref_time = t->ref_time;
	/* a fingerprint too long for fp (no valid trade's is) is built when
	 * needed instead */
	d = s_detail_new(&t->det, window_fp(r, fp, sizeof(fp)) < sizeof(fp) ? fp : NULL);
	if (d == NULL || !s_detail_set(w, r, d))
		return false;
	r->has_figi = d->figi != NULL;
	r->fresh = true;
	return true;
}

struct win_trade *window_put(window_t *w, const struct win_put *t)
{
	struct win_trade *r = window_lookup(w, t->key);

	if (r != NULL) {
		/* the same key again, with other content: re-index it.  Out
		 * of memory half way, it is forgotten (the file keeps its
		 * last committed content). */
		s_unindex(w, r);
		if (!s_fill(w, r, t)) {
			s_remove(w, r);
			return NULL;
		}
		s_release(&w->pool, r->dup_of);
		s_release(&w->pool, r->outcome);
		r->dup_of = r->outcome = NULL;
		r->pending = true;
		if (s_index(w, r, t->grp, t->source, t->accession, t->owner_cik) < 0) {
			s_remove(w, r);
			return NULL;
		}
		s_mark_dirty(w, r);
		return r;
	}
	r = s_trade_new(t->key);
	if (r == NULL)
		return NULL;
	if (!s_fill(w, r, t) || s_map_set(&w->keys, r->key, r) < 0) {
		s_trade_free(w, r);
		return NULL;
	}
	r->gvalue = NAN;
	r->pending = true;
	r->first_batch = w->batch;
	s_age_append(w, r);
	w->nrows++;
	if (s_index(w, r, t->grp, t->source, t->accession, t->owner_cik) < 0) {
		s_remove(w, r);
		return NULL;
	}
	s_mark_dirty(w, r);
	return r;
}

static int s_cmp_key(const void *a, const void *b)
{
	const struct win_trade *x = *(const struct win_trade *const *)a;
	const struct win_trade *y = *(const struct win_trade *const *)b;

	return strcmp(x->key, y->key);
}

int window_group_rows(window_t *w, const char *grp, struct win_trade ***rows, size_t *n)
{
	struct win_group *g;
	struct win_trade **v;
	size_t k = 0;

	*rows = NULL;
	*n = 0;
	s_read_once(w, 'g', ST_TRADES_BY_GRP, grp);
	g = s_map_get(&w->groups, grp);
	if (g == NULL || g->nrows == 0)
		return 0;
	v = malloc(g->nrows * sizeof(*v));
	if (v == NULL)
		return -1;
	for (struct win_trade *r = g->rows; r != NULL && k < g->nrows; r = r->gnext)
		v[k++] = r;
	qsort(v, k, sizeof(*v), s_cmp_key);
	*rows = v;
	*n = k;
	return 0;
}

int window_mark(window_t *w, struct win_trade *r, double gvalue, const char *dup_of,
                const char *outcome, const char *id)
{
	if (!s_set_str(w, &r->dup_of, dup_of) || !s_set_str(w, &r->outcome, outcome))
		return -1;
	r->pending = false;
	r->gvalue = gvalue;
	if (id != NULL && r->used_by == NULL && !s_set_str(w, &r->used_by, id))
		return -1;
	s_mark_dirty(w, r);
	return 0;
}

int window_use(window_t *w, struct win_trade *r, const char *id)
{
	if (r->used_by != NULL)
		return 0;
	if (!s_set_str(w, &r->used_by, id))
		return -1;
	s_mark_dirty(w, r);
	return 0;
}

/* The judging order within one batch (rules.c sorts groups the same way). */
static int s_cmp_order(const struct win_trade *a, const struct win_trade *b)
{
	int c;

	if (a->first_batch != b->first_batch)
		return a->first_batch < b->first_batch ? -1 : 1;
	if (a->amendment != b->amendment)
		return a->amendment ? 1 : -1;
	if (a->srank != b->srank)
		return a->srank < b->srank ? -1 : 1;
	if ((c = strcmp(win_grp(a), win_grp(b))) != 0)
		return c;
	return strcmp(a->key, b->key);
}

/* Read the file's rows with r's fingerprint, once a batch. */
static void s_fetch_fp(window_t *w, const struct win_trade *r)
{
	char buf[1024], *fp = buf;

	if (r->det != NULL && s_detail_fp(r->det) != NULL) {
		fp = (char *)s_detail_fp(r->det);
	} else {
		size_t n = window_fp(r, buf, sizeof(buf));

		if (n >= sizeof(buf)) {
			if ((fp = malloc(n + 1)) == NULL) {
				s_read_failed(w, ST_TRADES_BY_FP, "out of memory");
				return;
			}
			window_fp(r, fp, n + 1);
		}
	}
	s_read_once(w, 'f', ST_TRADES_BY_FP, fp);
	if (fp != buf && (r->det == NULL || fp != s_detail_fp(r->det)))
		free(fp);
}

struct win_trade *window_find_repeat(window_t *w, const struct win_trade *r)
{
	struct win_trade *best = NULL;

	s_fetch_fp(w, r);

	for (struct win_trade *q = s_hmap_get(&w->fps, r->fph); q != NULL; q = q->fnext) {
		const char *qa = win_accession(q), *ra = win_accession(r);
		bool other_filing = qa == NULL || ra == NULL || strcmp(qa, ra) != 0;
		bool special = q->amendment || r->amendment || qa == NULL || ra == NULL;

		if (q == r || !other_filing || !special || s_cmp_order(q, r) >= 0 ||
		    !s_fp_equal(q, r))
			continue;
		if (best == NULL || s_cmp_order(q, best) < 0)
			best = q;
	}
	return best;
}

/* ---- groups ------------------------------------------------------------- */

struct win_group *window_group_get(window_t *w, const char *grp)
{
	struct win_group *g = s_group_fetch(w, grp);

	return g != NULL && g->registered ? g : NULL;
}

struct win_group *window_group_copy(window_t *w, const char *grp, const char *accession, int side,
                                    const char *owner_cik, const char *owner_key)
{
	struct win_group *best = NULL;

	s_read_once(w, 'a', ST_GROUPS_BY_ACC, accession);
	for (struct win_group *g = s_map_get(&w->accs, accession); g != NULL; g = g->acc_next) {
		bool same;

		if (g->side != side || strcmp(g->grp, grp) == 0)
			continue;
		if (owner_cik != NULL && g->owner_cik != NULL)
			same = strcmp(owner_cik, g->owner_cik) == 0;
		else
			same = strcmp(owner_key, g->owner_key) == 0;
		if (!same)
			continue;
		if (best == NULL || (best->intent == NULL && g->intent != NULL) ||
		    ((best->intent == NULL) == (g->intent == NULL) &&
		     strcmp(g->grp, best->grp) < 0))
			best = g;
	}
	return best;
}

int window_group_put(window_t *w, const char *grp, const char *source, const char *accession,
                     int side, const char *owner_cik, const char *owner_key, const char *intent,
                     int64_t ref_time)
{
	struct win_group *g = s_group_fetch(w, grp);

	if (accession == NULL || source == NULL || owner_key == NULL)
		return -1;
	if (g == NULL && (g = s_group_for(w, grp, source, accession, owner_cik, owner_key, side,
	                                  ref_time)) == NULL)
		return -1;
	if (!g->registered) {
		struct win_group *head = s_map_get(&w->accs, g->accession);

		if (g->accession == NULL || s_map_set(&w->accs, g->accession, g) < 0)
			return -1;
		g->acc_next = head;
		g->acc_prev = NULL;
		if (head != NULL)
			head->acc_prev = g;
		g->registered = true;
	}
	if (intent != NULL && g->intent == NULL && !s_set_str(w, &g->intent, intent))
		return -1;
	if (ref_time > g->ref_time)
		g->ref_time = ref_time;
	s_group_dirty(w, g);
	return 0;
}

/* ---- signals ------------------------------------------------------------ */

/*
 * The outbox row is kept in memory and written with the batch, in the
 * commit's one transaction (it was its own autocommit transaction, a
 * second WAL commit for every intent, which stalled the loop: with every
 * trade qualifying, a flush of 1,400 intents took up to a second).  Still
 * safe: the outbox only serves repeats of trades the window remembers as
 * used, and the window remembers that in the same commit, so the file
 * never holds a used row without its outbox row; a batch lost to a kill or
 * a rollback loses both, its trades come again and make the same intent
 * (same id) again, which the executor journalled if it got the first.
 */
int window_outbox_put(window_t *w, const char *id, const void *rec, size_t len, int64_t created_at,
                      char *err, size_t errlen)
{
	struct win_out *o = malloc(sizeof(*o) + len);

	if (o == NULL || (o->id = strdup(id)) == NULL) {
		free(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->created_at = created_at;
	o->len = len;
	memcpy(o->rec, rec, len);
	if (s_ptrs_push(&w->outbox, o) < 0) {
		free(o->id);
		free(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int window_outbox_get(window_t *w, const char *id, void **rec, size_t *len, char *err,
                      size_t errlen)
{
	sqlite3_stmt *st = s_st(w, ST_GET_OUTBOX);
	int rc;

	*rec = NULL;
	*len = 0;
	for (size_t i = w->outbox.n; i > 0; i--) {
		const struct win_out *o = w->outbox.v[i - 1];

		if (strcmp(o->id, id) != 0)
			continue;
		if ((*rec = malloc(o->len ? o->len : 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(*rec, o->rec, o->len);
		*len = o->len;
		return 1;
	}
	s_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return s_sql_fail(w, ST_GET_OUTBOX, err, errlen);
	*len = (size_t)sqlite3_column_bytes(st, 0);
	*rec = malloc(*len ? *len : 1);
	if (*rec == NULL) {
		sqlite3_reset(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*rec, sqlite3_column_blob(st, 0), *len);
	sqlite3_reset(st);
	return 1;
}

int window_signal_exists(window_t *w, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if (s_map_get(&w->signals, id) != NULL)
		return 1;
	if (s_was_read(w, 's', id))
		return 0; /* not in the file: read before (see below) */
	s_read_begin(w);
	st = s_st(w, ST_GET_SIGNAL);
	s_bind_text(st, 1, id);
	s_bind_live(w, st, 2, false);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE) {
		s_read_failed(w, ST_GET_SIGNAL, NULL);
		return -1;
	}
	/* An id the file lacks is noted, so that window_signal_put after
	 * it costs no second read (a miss noted is still a miss: the file
	 * changes only at the commit, which forgets the note). */
	(void)s_read_before(w, 's', id);
	return 0;
}

const char *window_read_error(const window_t *w)
{
	return w->read_err[0] != '\0' ? w->read_err : NULL;
}

/* Forget the intents last sent again at least every_s seconds before
 * now (or after it: the clock went back): they are due again anyway. */
static void s_resent_sweep(window_t *w, int64_t now, int every_s)
{
	size_t n = 0;
	void **v = s_map_values(&w->resent, &n);

	for (size_t i = 0; v != NULL && i < n; i++) {
		struct win_resent *x = v[i];

		if (now - x->at >= every_s || now < x->at) {
			s_map_del(&w->resent, x->id);
			free(x);
		}
	}
	free(v);
	w->resent_sweep = 2 * w->resent.n > 256 ? 2 * w->resent.n : 256;
}

bool window_resend_due(window_t *w, const char *id, int64_t now, int every_s)
{
	struct win_resent *x;
	size_t len;

	if (window_signal_exists(w, id) != 1)
		return false;
	x = s_map_get(&w->resent, id);
	if (x != NULL) {
		if (now - x->at < every_s && now >= x->at)
			return false;
		x->at = now;
		return true;
	}
	if (w->resent.n >= w->resent_sweep)
		s_resent_sweep(w, now, every_s);
	len = strlen(id);
	/* out of memory: due, but not noted (a copy more, not a loss) */
	if ((x = malloc(sizeof(*x) + len + 1)) != NULL) {
		x->at = now;
		memcpy(x->id, id, len + 1);
		if (s_map_set(&w->resent, x->id, x) < 0)
			free(x);
	}
	return true;
}

/* Append s and its NUL at p; returns the copy. */
static char *s_put_str(char **p, const char *s)
{
	char *at = *p;
	size_t n = strlen(s) + 1;

	memcpy(at, s, n);
	*p += n;
	return at;
}

int window_signal_put(window_t *w, const intent_t *in)
{
	struct win_signal *s;
	struct win_signal_row *row;
	size_t len = 1;
	char *p;

	if (window_signal_exists(w, in->id) != 0)
		return 0; /* remembered (or unreadable: the commit fails) */
	for (size_t i = 0; i < in->n_evidence; i++)
		len += strlen(in->evidence[i]) + 1;
	len += strlen(in->rule) + strlen(in->ticker) + strlen(in->reason) + 3;
	s = calloc(1, sizeof(*s));
	row = malloc(sizeof(*row) + len);
	if (s == NULL || row == NULL)
		goto oom;
	p = (char *)(row + 1);
	row->rule = s_put_str(&p, in->rule);
	row->ticker = s_put_str(&p, in->ticker);
	row->reason = s_put_str(&p, in->reason);
	row->evidence = p;
	*p = '\0';
	for (size_t i = 0; i < in->n_evidence; i++)
		p += sprintf(p, "%s%s", i > 0 ? "\n" : "", in->evidence[i]);
	row->side = (int)in->side;
	row->expires_at = in->expires_at;
	s->row = row;
	s->created_at = in->created_at;
	s->id = s_intern(&w->pool, in->id);
	if (s->id == NULL || s_map_set(&w->signals, s->id, s) < 0)
		goto oom;
	return 0;
oom:
	if (s != NULL)
		s_release(&w->pool, s->id);
	free(row);
	free(s);
	return -1;
}

long window_signal_count(window_t *w)
{
	char err[256];
	int64_t n = s_scalar(w, ST_COUNT_SIGNALS, true, err, sizeof(err));

	if (n < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return (long)n + (long)w->signals.n;
}

/* ---- clusters ----------------------------------------------------------- */

static int s_cmp_day_key(const void *a, const void *b)
{
	const struct win_trade *x = *(const struct win_trade *const *)a;
	const struct win_trade *y = *(const struct win_trade *const *)b;

	if (x->trade_day != y->trade_day)
		return x->trade_day < y->trade_day ? -1 : 1;
	return strcmp(x->key, y->key);
}

int window_cluster_candidates(window_t *w, const char *ticker, int64_t from_day, int64_t to_day,
                              struct win_trade ***rows, size_t *n)
{
	struct ptrs v = { 0 };
	size_t len = strlen(ticker) + 48; /* and two numbers */
	char *what = malloc(len);

	*rows = NULL;
	*n = 0;
	if (what != NULL)
		snprintf(what, len, "%s|%lld|%lld", ticker, (long long)from_day, (long long)to_day);
	/* out of memory: read, not noted */
	if (what == NULL || !s_read_before(w, 't', what)) {
		sqlite3_stmt *st = s_st(w, ST_TRADES_BY_TICKER);

		s_bind_text(st, 1, ticker);
		sqlite3_bind_int(st, 2, SIDE_BUY);
		sqlite3_bind_int64(st, 3, from_day);
		sqlite3_bind_int64(st, 4, to_day);
		s_bind_live(w, st, 5, false);
		s_fetch_rows(w, ST_TRADES_BY_TICKER);
	}
	free(what);
	if (w->read_err[0] != '\0')
		return -1;

	for (struct win_trade *r = s_map_get(&w->tickers, ticker); r != NULL; r = r->tnext) {
		if (r->pending || r->dup_of != NULL || r->trade_day < from_day ||
		    r->trade_day > to_day)
			continue;
		if (s_ptrs_push(&v, r) < 0) {
			free(v.v);
			return -1;
		}
	}
	if (v.n > 0)
		qsort(v.v, v.n, sizeof(*v.v), s_cmp_day_key);
	*rows = (struct win_trade **)v.v;
	*n = v.n;
	return 0;
}

/*
 * Put c into memory's list of its ticker (ordered by first_day, then id):
 * a cluster with c's id is replaced, unless from_file (memory's copy is
 * this batch's, newer).  0, or -1 when out of memory.
 */
static int s_cluster_set(window_t *w, const struct win_cluster *c, bool from_file)
{
	struct win_cl *head = s_map_get(&w->clusters, c->ticker), *x, **pp;

	for (x = head; x != NULL; x = x->next)
		if (strcmp(x->c.id, c->id) == 0) {
			if (!from_file) {
				x->c = *c;
				x->dirty = w->clusters_dirty = true;
			}
			return 0;
		}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -1;
	x->c = *c;
	x->dirty = !from_file;
	for (pp = &head; *pp != NULL &&
	                 ((*pp)->c.first_day < c->first_day ||
	                  ((*pp)->c.first_day == c->first_day && strcmp((*pp)->c.id, c->id) < 0));
	     pp = &(*pp)->next)
		;
	x->next = *pp;
	*pp = x;
	if (s_map_set(&w->clusters, c->ticker, head) < 0) {
		*pp = x->next;
		free(x);
		return -1;
	}
	if (!from_file)
		w->clusters_dirty = true;
	return 0;
}

/* Read the file's clusters of ticker, once a batch; -1 when that fails. */
static int s_fetch_clusters(window_t *w, const char *ticker)
{
	sqlite3_stmt *st;
	int rc;

	if (s_read_before(w, 'c', ticker))
		return 0;
	s_read_begin(w);
	st = s_st(w, ST_CLUSTERS_BY_TICKER);
	s_bind_text(st, 1, ticker);
	s_bind_live(w, st, 2, true);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct win_cluster c;

		memset(&c, 0, sizeof(c));
		snprintf(c.id, sizeof(c.id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(c.ticker, sizeof(c.ticker), "%s",
		         (const char *)sqlite3_column_text(st, 1));
		c.first_day = sqlite3_column_int64(st, 2);
		c.last_day = sqlite3_column_int64(st, 3);
		if (s_cluster_set(w, &c, true) < 0) {
			s_read_failed(w, ST_CLUSTERS_BY_TICKER, "out of memory");
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s_read_failed(w, ST_CLUSTERS_BY_TICKER, NULL);
	sqlite3_reset(st);
	return w->read_err[0] != '\0' ? -1 : 0;
}

int window_clusters(window_t *w, const char *ticker, struct win_cluster **out, size_t *n)
{
	struct win_cluster *v = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (s_fetch_clusters(w, ticker) < 0)
		return -1;
	for (struct win_cl *c = s_map_get(&w->clusters, ticker); c != NULL; c = c->next) {
		struct win_cluster *nv = realloc(v, (k + 1) * sizeof(*nv));

		if (nv == NULL) {
			free(v);
			return -1;
		}
		v = nv;
		v[k++] = c->c;
	}
	*out = v;
	*n = k;
	return 0;
}

int window_cluster_put(window_t *w, const struct win_cluster *c)
{
	if (s_fetch_clusters(w, c->ticker) < 0)
		return -1;
	return s_cluster_set(w, c, false);
}

/* ---- pruning ------------------------------------------------------------ */

int window_prune(window_t *w, int64_t cutoff_time, int64_t cutoff_day, char *err, size_t errlen)
{
	size_t n = 0;
	void **v;

	for (struct win_trade *r = w->oldest, *next; r != NULL; r = next) {
		next = r->anext;
		if (r->ref_time >= cutoff_time)
			continue;
		if (!r->pending) {
			s_remove(w, r);
		} else if (!r->fresh) {
			/* Kept, but the commit's prune deletes the file's copy:
			 * write it whole again (its words read back first). */
			if (window_detail(w, r, err, errlen) == NULL)
				return -1;
			r->fresh = true;
			s_mark_dirty(w, r);
		}
	}
	v = s_map_values(&w->groups, &n);
	if (v == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct win_group *g = v[i];

		if (g->registered && g->ref_time < cutoff_time) {
			s_group_unlink_acc(w, g);
			g->registered = false;
			s_group_maybe_free(w, g);
		}
	}
	free(v);
	/* memory's signals are this batch's: kept (the file's are deleted at
	 * the commit) */
	v = s_map_values(&w->clusters, &n);
	if (v == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct win_cl *head = v[i], **pp = &head;
		char ticker[64];

		snprintf(ticker, sizeof(ticker), "%s", head->c.ticker);
		/* Out of the map while its head is alive: the map reads a key
		 * from each value it probes.  Put back below when any is left
		 * (the slot it left is free, so that cannot fail). */
		s_map_del(&w->clusters, ticker);
		while (*pp != NULL) {
			struct win_cl *c = *pp;

			if (c->c.last_day < cutoff_day) {
				*pp = c->next;
				free(c);
			} else {
				pp = &c->next;
			}
		}
		if (head != NULL)
			s_map_set(&w->clusters, ticker, head);
	}
	free(v);
	if (cutoff_time > w->prune_time)
		w->prune_time = cutoff_time;
	if (cutoff_day > w->prune_day)
		w->prune_day = cutoff_day;
	return 0;
oom:
	snprintf(err, errlen, "out of memory pruning the window");
	return -1;
}

int64_t window_batch(const window_t *w)
{
	return w->batch;
}

size_t window_size(window_t *w)
{
	char err[256];
	int64_t n = s_scalar(w, ST_COUNT_TRADES, false, err, sizeof(err));

	if (n < 0)
		log_warnx("%s", err);
	return n < 0 ? 0 : (size_t)n;
}

size_t window_held(const window_t *w)
{
	return w->nrows;
}
