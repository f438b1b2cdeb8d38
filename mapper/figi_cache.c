/*
 * figi_cache.c - the mapper's SQLite state (see figi_cache.h).
 *
 * Statements are prepared once and reset after each use.  A database error
 * never costs a trade: a failed read is a miss (the job goes to OpenFIGI),
 * a failed write only means the answer is asked for again next time.
 *
 * Answers are also kept in three bounded in-process memos (memo.h) until
 * the expiry of the row they copy, so a repeated lookup costs no SQLite
 * read: FIGI answers of every kind (a row, "not found", an error with its
 * text, a refusal with its reason), share counts and "SEC has no figure",
 * and ticker-to-CIK lookups (a CIK or "unknown") until the caller's expiry
 * of the map.  A live row is only rewritten once it has expired (a job, a
 * CIK or the map is asked for again only when the cache has no live
 * answer), so a copy used until that expiry says what SQLite would, however
 * many mappers share the file; a negative answer or a refusal is no
 * different.  Misses (no live row) always go to
 * SQLite, so another mapper's fresh answer is seen as soon as it is
 * written.  Our own writes drop the key from the memo.
 */
#include "figi_cache.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "memo.h"
#include "store.h"

static const char *const s_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE figi ("
	" job TEXT PRIMARY KEY,"
	" status INTEGER NOT NULL," /* enum figi_answer (FIGI_BAD: refused; no migration) */
	" message TEXT,"
	" figi TEXT, name TEXT, ticker TEXT, exch_code TEXT, composite_figi TEXT,"
	" security_type TEXT, market_sector TEXT, share_class_figi TEXT,"
	" security_type2 TEXT, security_description TEXT,"
	" fetched_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE sec_ticker (ticker TEXT PRIMARY KEY, cik TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sec_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sec_shares ("
	" cik TEXT PRIMARY KEY,"
	" shares REAL," /* NULL: SEC has no figure */
	" as_of TEXT,"
	" fetched_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;",
	NULL,
};

enum {
	ST_FIGI_GET,
	ST_FIGI_PUT,
	ST_FIGI_COUNT,
	ST_META_GET,
	ST_META_PUT,
	ST_TICKER_DEL,
	ST_TICKER_PUT,
	ST_TICKER_GET,
	ST_SHARES_GET,
	ST_SHARES_PUT,
	ST_N
};

static const char *const s_sql[ST_N] = {
	[ST_FIGI_GET] =
	    "SELECT status, message, figi, name, ticker, exch_code, composite_figi,"
	    " security_type, market_sector, share_class_figi, security_type2,"
	    " security_description, expires_at FROM figi WHERE job = ?1 AND expires_at > ?2",
	[ST_FIGI_PUT] = "INSERT OR REPLACE INTO figi (job, status, message, figi, name, ticker,"
	                " exch_code, composite_figi, security_type, market_sector,"
	                " share_class_figi, security_type2, security_description, fetched_at,"
	                " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	                " ?13, ?14, ?15)",
	[ST_FIGI_COUNT] = "SELECT count(*) FROM figi",
	[ST_META_GET] = "SELECT value FROM sec_meta WHERE name = ?1",
	[ST_META_PUT] = "INSERT OR REPLACE INTO sec_meta (name, value) VALUES (?1, ?2)",
	[ST_TICKER_DEL] = "DELETE FROM sec_ticker",
	[ST_TICKER_PUT] = "INSERT OR REPLACE INTO sec_ticker (ticker, cik) VALUES (?1, ?2)",
	[ST_TICKER_GET] = "SELECT cik FROM sec_ticker WHERE ticker = ?1",
	[ST_SHARES_GET] = ("SELECT shares, expires_at FROM sec_shares WHERE cik = ?1"
	                   " AND expires_at > ?2"),
	[ST_SHARES_PUT] = ("INSERT OR REPLACE INTO sec_shares (cik, shares, as_of, fetched_at,"
	                   " expires_at) VALUES (?1, ?2, ?3, ?4, ?5)"),
};

struct figi_cache {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	int in_tx;           /* figi_cache_begin depth */
	memo_t *memo_figi;   /* job key -> answer (s_memo_answer), or NULL: off */
	memo_t *memo_shares; /* CIK -> share count or NAN (a double), or NULL: off */
	memo_t *memo_cik;    /* SEC ticker -> CIK, "" when unknown, or NULL: off */
};

/* The fields of a figi_row, in the order s_row_pack writes them. */
#define ROW_FIELDS(r)                                                                              \
	{                                                                                          \
		&(r)->figi, &(r)->name, &(r)->ticker, &(r)->exch_code, &(r)->composite_figi,       \
		    &(r)->security_type, &(r)->market_sector, &(r)->share_class_figi,              \
		    &(r)->security_type2, &(r)->security_description                               \
	}
#define ROW_NFIELDS 10

static void s_db_warn(figi_cache_t *c, const char *what)
{
	log_warnx("cache: %s: %s", what, sqlite3_errmsg(c->db));
}

figi_cache_t *figi_cache_open(const char *state_dir, int64_t now, char *err, size_t errlen)
{
	figi_cache_t *c = calloc(1, sizeof(*c));
	char why[512];

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->db = store_open(state_dir, FIGI_CACHE_FILE, s_migrations, false, err, errlen);
	if (c->db == NULL) {
		free(c);
		return NULL;
	}
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(c->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i],
		                       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s/%s: %s", state_dir, FIGI_CACHE_FILE,
			         sqlite3_errmsg(c->db));
			figi_cache_close(&c);
			return NULL;
		}
	}
	if (figi_cache_set_memo(c, FIGI_CACHE_MEMO_DEFAULT) != 0) {
		snprintf(err, errlen, "out of memory");
		figi_cache_close(&c);
		return NULL;
	}
	/* Expired answers are misses anyway; drop them so the file stays the
	 * size of what is in use. */
	{
		char sql[160];

		snprintf(sql, sizeof(sql),
		         "DELETE FROM figi WHERE expires_at <= %lld;"
		         "DELETE FROM sec_shares WHERE expires_at <= %lld",
		         (long long)now, (long long)now);
		if (store_exec(c->db, sql, why, sizeof(why)) != 0)
			log_warnx("cache: %s", why);
	}
	return c;
}

void figi_cache_close(figi_cache_t **cp)
{
	figi_cache_t *c = *cp;

	if (c == NULL)
		return;
	if (c->in_tx > 0)
		store_exec(c->db, "COMMIT", NULL, 0);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(c->st[i]);
	store_close(&c->db);
	memo_free(&c->memo_figi);
	memo_free(&c->memo_shares);
	memo_free(&c->memo_cik);
	free(c);
	*cp = NULL;
}

int figi_cache_set_memo(figi_cache_t *c, size_t entries)
{
	memo_free(&c->memo_figi);
	memo_free(&c->memo_shares);
	memo_free(&c->memo_cik);
	if (entries == 0)
		return 0;
	c->memo_figi = memo_new(entries);
	c->memo_shares = memo_new(entries);
	c->memo_cik = memo_new(entries);
	if (c->memo_figi == NULL || c->memo_shares == NULL || c->memo_cik == NULL) {
		memo_free(&c->memo_figi);
		memo_free(&c->memo_shares);
		memo_free(&c->memo_cik);
		return -1;
	}
	return 0;
}

size_t figi_cache_memo_count(const figi_cache_t *c)
{
	return memo_count(c->memo_figi) + memo_count(c->memo_shares) + memo_count(c->memo_cik);
}

long figi_cache_reads(const figi_cache_t *c)
{
	static const int reads[] = { ST_FIGI_GET, ST_META_GET, ST_TICKER_GET, ST_SHARES_GET };
	long n = 0;

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		n += sqlite3_stmt_status(c->st[reads[i]], SQLITE_STMTSTATUS_RUN, 0);
	return n;
}

int figi_cache_begin(figi_cache_t *c)
{
	char why[512];

	if (c->in_tx++ > 0)
		return 0;
	/* IMMEDIATE: take the write lock now, waiting (busy timeout) for
	 * another mapper sharing the file, instead of failing at the first
	 * write of a deferred transaction. */
	if (store_exec(c->db, "BEGIN IMMEDIATE", why, sizeof(why)) != 0) {
		log_warnx("cache: %s", why);
		c->in_tx = 0;
		return -1;
	}
	return 0;
}

int figi_cache_commit(figi_cache_t *c)
{
	char why[512];

	if (c->in_tx == 0 || --c->in_tx > 0)
		return 0;
	if (store_exec(c->db, "COMMIT", why, sizeof(why)) != 0) {
		log_warnx("cache: %s", why);
		store_exec(c->db, "ROLLBACK", NULL, 0);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *s_stmt(figi_cache_t *c, int which)
{
	sqlite3_stmt *st = c->st[which];

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

static int s_col_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	*out = NULL;
	if (s == NULL)
		return 0;
	*out = strdup((const char *)s);
	return *out == NULL ? -1 : 0;
}

/*
 * A found row as one memo value: per field a byte (1 present, 0 null), then
 * for a present field its text and NUL.  *out is malloc'd; 0 or -1.
 */
static int s_row_pack(const struct figi_row *row, char **out, size_t *outlen)
{
	char *const *f[ROW_NFIELDS] = ROW_FIELDS(row);
	size_t n = 0, o = 0;
	char *buf;

	for (int i = 0; i < ROW_NFIELDS; i++)
		n += 1 + (*f[i] != NULL ? strlen(*f[i]) + 1 : 0);
	buf = malloc(n);
	if (buf == NULL)
		return -1;
	for (int i = 0; i < ROW_NFIELDS; i++) {
		buf[o++] = *f[i] != NULL;
		if (*f[i] != NULL) {
			size_t k = strlen(*f[i]) + 1;

			memcpy(buf + o, *f[i], k);
			o += k;
		}
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/*
 * The row s_row_pack wrote, copied whole into one allocation (row->block)
 * that its strings point into: one malloc per memo hit instead of one per
 * field.  0, or -1 (out of memory or a value of the wrong shape; row then
 * zeroed).
 */
static int s_row_unpack(const char *buf, size_t len, struct figi_row *row)
{
	char **f[ROW_NFIELDS] = ROW_FIELDS(row);
	size_t o = 0;
	char *b;

	memset(row, 0, sizeof(*row));
	b = malloc(len > 0 ? len : 1);
	if (b == NULL)
		return -1;
	memcpy(b, buf, len);
	row->block = b;
	for (int i = 0; i < ROW_NFIELDS; i++) {
		const char *e;

		if (o >= len)
			goto bad;
		if (b[o++] == 0)
			continue;
		e = memchr(b + o, '\0', len - o);
		if (e == NULL)
			goto bad;
		*f[i] = b + o;
		o = (size_t)(e - b) + 1;
	}
	return 0;
bad:
	figi_row_free(row);
	return -1;
}

/*
 * Remember an answer until its row's expiry: a byte with its kind, then for
 * FIGI_FOUND the row (s_row_pack), else the answer's text (maybe none).  A
 * failure only costs the memo.
 */
static void s_memo_answer(figi_cache_t *c, const char *job_key, enum figi_answer kind,
                          const struct figi_row *row, const char *msg, int64_t expires_at)
{
	char *packed = NULL, *buf;
	const char *body = msg != NULL ? msg : "";
	size_t blen;

	if (c->memo_figi == NULL)
		return;
	if (kind == FIGI_FOUND) {
		if (s_row_pack(row, &packed, &blen) != 0)
			return;
		body = packed;
	} else {
		blen = strlen(body);
	}
	buf = malloc(1 + blen);
	if (buf != NULL) {
		buf[0] = (char)kind;
		memcpy(buf + 1, body, blen);
		(void)memo_put(c->memo_figi, job_key, buf, 1 + blen, expires_at);
		free(buf);
	}
	free(packed);
}

/* The answer s_memo_answer kept for job_key, live at now: its kind with row
 * or msg filled as figi_cache_get does, or 0 when there is none usable. */
static int s_memo_lookup(figi_cache_t *c, const char *job_key, int64_t now, struct figi_row *row,
                         char *msg, size_t msglen)
{
	size_t len;
	const char *v = memo_get(c->memo_figi, job_key, now, &len);

	if (v == NULL || len < 1)
		return 0;
	switch (v[0]) {
	case FIGI_FOUND:
		return s_row_unpack(v + 1, len - 1, row) == 0 ? FIGI_FOUND : 0;
	case FIGI_NOT_FOUND:
	case FIGI_ERROR:
	case FIGI_BAD:
		if (msglen > 0)
			snprintf(msg, msglen, "%s", v + 1); /* the memo ends a value with NUL */
		return v[0];
	default:
		return 0;
	}
}

int figi_cache_get(figi_cache_t *c, const char *job_key, int64_t now, struct figi_row *row,
                   char *msg, size_t msglen)
{
	sqlite3_stmt *st;
	int rc, status;

	memset(row, 0, sizeof(*row));
	if (msglen > 0)
		msg[0] = '\0';
	status = s_memo_lookup(c, job_key, now, row, msg, msglen);
	if (status != 0)
		return status;
	st = s_stmt(c, ST_FIGI_GET);
	s_bind_text(st, 1, job_key);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		s_db_warn(c, "reading an answer");
		sqlite3_reset(st);
		return -1;
	}
	status = sqlite3_column_int(st, 0);
	if (sqlite3_column_text(st, 1) != NULL && msglen > 0)
		snprintf(msg, msglen, "%s", (const char *)sqlite3_column_text(st, 1));
	if (status == FIGI_FOUND) {
		if (s_col_dup(st, 2, &row->figi) || s_col_dup(st, 3, &row->name) ||
		    s_col_dup(st, 4, &row->ticker) || s_col_dup(st, 5, &row->exch_code) ||
		    s_col_dup(st, 6, &row->composite_figi) ||
		    s_col_dup(st, 7, &row->security_type) ||
		    s_col_dup(st, 8, &row->market_sector) ||
		    s_col_dup(st, 9, &row->share_class_figi) ||
		    s_col_dup(st, 10, &row->security_type2) ||
		    s_col_dup(st, 11, &row->security_description)) {
			figi_row_free(row);
			sqlite3_reset(st);
			return -1;
		}
		if (!openfigi_figi_valid(row->figi)) {
			/* Not written by us: ignore it, ask again. */
			figi_row_free(row);
			status = 0;
		} else {
			s_memo_answer(c, job_key, FIGI_FOUND, row, NULL,
			              sqlite3_column_int64(st, 12));
		}
	} else if (status == FIGI_NOT_FOUND || status == FIGI_ERROR || status == FIGI_BAD) {
		s_memo_answer(c, job_key, (enum figi_answer)status, NULL,
		              (const char *)sqlite3_column_text(st, 1),
		              sqlite3_column_int64(st, 12));
	} else {
		/* A status we do not know (a newer mapper's, or not ours): a
		 * miss, asked again. */
		if (msglen > 0)
			msg[0] = '\0';
		status = 0;
	}
	sqlite3_reset(st);
	return status;
}

int figi_cache_put(figi_cache_t *c, const char *job_key, enum figi_answer kind,
                   const struct figi_row *row, const char *msg, int64_t now, int64_t ttl_s)
{
	sqlite3_stmt *st = s_stmt(c, ST_FIGI_PUT);
	const struct figi_row none = { 0 };
	const struct figi_row *r = (kind == FIGI_FOUND && row != NULL) ? row : &none;
	int rc;

	if (kind == FIGI_FOUND && (row == NULL || row->figi == NULL))
		return -1;
	/* The row is rewritten: what the memo holds of it is stale. */
	memo_forget(c->memo_figi, job_key);
	s_bind_text(st, 1, job_key);
	sqlite3_bind_int(st, 2, (int)kind);
	s_bind_text(st, 3, msg);
	s_bind_text(st, 4, r->figi);
	s_bind_text(st, 5, r->name);
	s_bind_text(st, 6, r->ticker);
	s_bind_text(st, 7, r->exch_code);
	s_bind_text(st, 8, r->composite_figi);
	s_bind_text(st, 9, r->security_type);
	s_bind_text(st, 10, r->market_sector);
	s_bind_text(st, 11, r->share_class_figi);
	s_bind_text(st, 12, r->security_type2);
	s_bind_text(st, 13, r->security_description);
	sqlite3_bind_int64(st, 14, now);
	sqlite3_bind_int64(st, 15, now + ttl_s);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(c, "storing an answer");
		return -1;
	}
	return 0;
}

long figi_cache_count(figi_cache_t *c)
{
	sqlite3_stmt *st = s_stmt(c, ST_FIGI_COUNT);
	long n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* ---- SEC data ---- */

int figi_cache_tickers_fetched_at(figi_cache_t *c, int64_t *t)
{
	sqlite3_stmt *st = s_stmt(c, ST_META_GET);
	int found = 0;

	s_bind_text(st, 1, "tickers_fetched_at");
	if (sqlite3_step(st) == SQLITE_ROW) {
		*t = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	return found;
}

int figi_cache_tickers_replace(figi_cache_t *c, const struct sec_ticker *items, size_t n,
                               int64_t now)
{
	sqlite3_stmt *st;

	if (figi_cache_begin(c) != 0)
		return -1;
	st = s_stmt(c, ST_TICKER_DEL);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		st = s_stmt(c, ST_TICKER_PUT);
		s_bind_text(st, 1, items[i].ticker);
		s_bind_text(st, 2, items[i].cik);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	st = s_stmt(c, ST_META_PUT);
	s_bind_text(st, 1, "tickers_fetched_at");
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_reset(st);
	/* What the memo holds is of the old map. */
	memo_clear(c->memo_cik);
	return figi_cache_commit(c);
fail:
	s_db_warn(c, "storing the ticker map");
	sqlite3_reset(st);
	store_exec(c->db, "ROLLBACK", NULL, 0);
	c->in_tx = 0;
	return -1;
}

int figi_cache_cik_of(figi_cache_t *c, const char *ticker, int64_t now, int64_t live_until,
                      char cik[11])
{
	sqlite3_stmt *st;
	const char *memo;
	size_t memolen;
	int rc, found = 0;

	memo = memo_get(c->memo_cik, ticker, now, &memolen);
	if (memo != NULL && (memolen == 10 || memolen == 0)) {
		if (memolen == 0)
			return 0;
		memcpy(cik, memo, 11); /* with the memo's NUL */
		return 1;
	}
	st = s_stmt(c, ST_TICKER_GET);
	s_bind_text(st, 1, ticker);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);

		if (s != NULL && strlen((const char *)s) == 10) {
			memcpy(cik, s, 11);
			found = 1;
		}
	} else if (rc != SQLITE_DONE) {
		s_db_warn(c, "reading the ticker map");
		found = -1;
	}
	sqlite3_reset(st);
	if (found >= 0 && live_until > now)
		(void)memo_put(c->memo_cik, ticker, found ? cik : "", found ? 10 : 0, live_until);
	return found;
}

/* A share count as the cache keeps one: a number of shares > 0 and below
 * FIGI_CACHE_SHARES_MAX (NAN, "SEC has no figure", is not one). */
static bool s_shares_ok(double v)
{
	return v > 0 && v < FIGI_CACHE_SHARES_MAX;
}

int figi_cache_shares_get(figi_cache_t *c, const char *cik, int64_t now, double *shares)
{
	sqlite3_stmt *st;
	const void *memo;
	size_t memolen;
	int rc, found = 0;

	memo = memo_get(c->memo_shares, cik, now, &memolen);
	if (memo != NULL && memolen == sizeof(*shares)) {
		memcpy(shares, memo, sizeof(*shares));
		return 1;
	}
	st = s_stmt(c, ST_SHARES_GET);
	s_bind_text(st, 1, cik);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int type = sqlite3_column_type(st, 0);
		double v = type == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);

		/* NULL is "SEC has none"; a row we would not have written (a
		 * count <= 0 or past the limit, text) is a miss: asked again. */
		if (type == SQLITE_NULL ||
		    ((type == SQLITE_FLOAT || type == SQLITE_INTEGER) && s_shares_ok(v))) {
			*shares = v;
			found = 1;
			(void)memo_put(c->memo_shares, cik, shares, sizeof(*shares),
			               sqlite3_column_int64(st, 1));
		}
	} else if (rc != SQLITE_DONE) {
		s_db_warn(c, "reading shares outstanding");
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

int figi_cache_shares_put(figi_cache_t *c, const char *cik, double shares, const char *as_of,
                          int64_t now, int64_t ttl_s)
{
	sqlite3_stmt *st;
	int rc;

	if (!isnan(shares) && !s_shares_ok(shares)) {
		log_warnx("cache: CIK %s: %g is not a share count; not stored", cik, shares);
		return -1;
	}
	st = s_stmt(c, ST_SHARES_PUT);
	memo_forget(c->memo_shares, cik);
	s_bind_text(st, 1, cik);
	if (isnan(shares))
		sqlite3_bind_null(st, 2);
	else
		sqlite3_bind_double(st, 2, shares);
	s_bind_text(st, 3, as_of);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + ttl_s);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(c, "storing shares outstanding");
		return -1;
	}
	return 0;
}
