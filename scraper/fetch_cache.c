/*
 * fetch_cache.c - the scraper's SQLite state (see fetch_cache.h).
 *
 * Statements are prepared once and reset after each use.  Trades are kept
 * as the msgpack encoding of the record (the wire format, validated again
 * when read back), with the time that bounds their life: the filing time,
 * or, for a trade without one, the time it was first seen (kept when the
 * same key is stored again, so such a trade still ages out).
 */
#include "fetch_cache.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

static const char *const s_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE filing ("
	" accession TEXT PRIMARY KEY,"
	" form TEXT NOT NULL,"
	" cik TEXT NOT NULL,"
	" index_url TEXT,"
	" accepted_at INTEGER," /* NULL: unknown */
	" first_seen INTEGER NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0," /* enum fc_filing_state */
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" error TEXT,"
	" updated_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX filing_state ON filing (state, accepted_at);"
	"CREATE TABLE page ("
	" url TEXT PRIMARY KEY,"
	" etag TEXT,"
	" last_modified TEXT,"
	" used_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE trade ("
	" key TEXT PRIMARY KEY,"
	" source TEXT NOT NULL,"
	" at INTEGER NOT NULL," /* filed_at, else first_seen */
	" first_seen INTEGER NOT NULL,"
	" rec BLOB NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX trade_source_at ON trade (source, at);"
	"CREATE TABLE run (source TEXT PRIMARY KEY, last_run INTEGER NOT NULL) WITHOUT ROWID;",
	NULL,
};

enum {
	ST_PAGE_GET,
	ST_PAGE_PUT,
	ST_PAGE_DEL,
	ST_FILING_ADD,
	ST_FILING_PENDING,
	ST_FILING_FAIL,
	ST_FILING_SET,
	ST_FILING_STATE,
	ST_TRADE_PUT,
	ST_TRADE_EACH,
	ST_TRADE_DEL,
	ST_RUN_GET,
	ST_RUN_PUT,
	ST_N
};

static const char *const s_sql[ST_N] = {
	[ST_PAGE_GET] = "SELECT etag, last_modified FROM page WHERE url = ?1",
	[ST_PAGE_PUT] = "INSERT OR REPLACE INTO page (url, etag, last_modified, used_at)"
	                " VALUES (?1, ?2, ?3, ?4)",
	[ST_PAGE_DEL] = "DELETE FROM page WHERE url = ?1",
	[ST_FILING_ADD] =
	    "INSERT OR IGNORE INTO filing (accession, form, cik, index_url,"
	    " accepted_at, first_seen, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[ST_FILING_PENDING] = "SELECT accession, form, cik, index_url, accepted_at, attempts"
	                      " FROM filing WHERE state = 0 AND (accepted_at IS NULL OR"
	                      " accepted_at >= ?1) ORDER BY accepted_at DESC, accession DESC"
	                      " LIMIT ?2",
	[ST_FILING_FAIL] = "UPDATE filing SET attempts = attempts + 1, error = ?2,"
	                   " updated_at = ?3, state = CASE WHEN attempts + 1 >= ?4 THEN 3"
	                   " ELSE 0 END WHERE accession = ?1",
	[ST_FILING_SET] = "UPDATE filing SET state = ?2, error = ?3, updated_at = ?4"
	                  " WHERE accession = ?1",
	[ST_FILING_STATE] = "SELECT state FROM filing WHERE accession = ?1",
	[ST_TRADE_PUT] = "INSERT INTO trade (key, source, at, first_seen, rec)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO UPDATE SET"
	                 " source = excluded.source, rec = excluded.rec,"
	                 " at = CASE WHEN ?6 THEN excluded.at ELSE trade.at END",
	[ST_TRADE_EACH] = "SELECT key, rec FROM trade WHERE source = ?1 AND at >= ?2"
	                  " ORDER BY at, key",
	[ST_TRADE_DEL] = "DELETE FROM trade WHERE key = ?1",
	[ST_RUN_GET] = "SELECT last_run FROM run WHERE source = ?1",
	[ST_RUN_PUT] = "INSERT OR REPLACE INTO run (source, last_run) VALUES (?1, ?2)",
};

struct fetch_cache {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
};

static void s_db_warn(fetch_cache_t *fc, const char *what)
{
	log_warnx("fetch cache: %s: %s", what, sqlite3_errmsg(fc->db));
}

/* Reset and unbind a statement for its next use; returns it. */
static sqlite3_stmt *s_stmt(fetch_cache_t *fc, int i)
{
	sqlite3_reset(fc->st[i]);
	sqlite3_clear_bindings(fc->st[i]);
	return fc->st[i];
}

static void s_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || s[0] == '\0')
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Column text into buf (NUL-terminated, "" for NULL); false when it did
 * not fit (buf is then ""). */
static bool s_col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;

	buf[0] = '\0';
	if (n >= len)
		return false;
	if (n > 0)
		memcpy(buf, t, n);
	buf[n] = '\0';
	return true;
}

fetch_cache_t *fetch_cache_open(const char *state_dir, char *err, size_t errlen)
{
	fetch_cache_t *fc = calloc(1, sizeof(*fc));

	if (fc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fc->db = store_open(state_dir, FETCH_CACHE_FILE, s_migrations, false, err, errlen);
	if (fc->db == NULL) {
		free(fc);
		return NULL;
	}
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(fc->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &fc->st[i],
		                       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s/%s: %s", state_dir, FETCH_CACHE_FILE,
			         sqlite3_errmsg(fc->db));
			fetch_cache_close(&fc);
			return NULL;
		}
	}
	return fc;
}

void fetch_cache_close(fetch_cache_t **fcp)
{
	fetch_cache_t *fc = fcp != NULL ? *fcp : NULL;

	if (fc == NULL)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(fc->st[i]);
	store_close(&fc->db);
	free(fc);
	*fcp = NULL;
}

/* ---- conditional requests ---- */

int fetch_cache_validators(fetch_cache_t *fc, const char *url, struct fc_validators *v)
{
	sqlite3_stmt *st = s_stmt(fc, ST_PAGE_GET);
	int rc, found = 0;

	v->etag[0] = v->last_modified[0] = '\0';
	s_bind_text(st, 1, url);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s_col_text(st, 0, v->etag, sizeof(v->etag));
		s_col_text(st, 1, v->last_modified, sizeof(v->last_modified));
		found = v->etag[0] != '\0' || v->last_modified[0] != '\0';
	} else if (rc != SQLITE_DONE) {
		s_db_warn(fc, "reading validators");
	}
	sqlite3_reset(st);
	return found;
}

int fetch_cache_set_validators(fetch_cache_t *fc, const char *url, const char *etag,
                               const char *last_modified, int64_t now)
{
	bool forget = (etag == NULL || etag[0] == '\0') &&
	              (last_modified == NULL || last_modified[0] == '\0');
	sqlite3_stmt *st;
	int rc;

	/* A value that would not fit when read back is as good as none. */
	if (etag != NULL && strlen(etag) >= FC_VALIDATOR_LEN)
		etag = NULL;
	if (last_modified != NULL && strlen(last_modified) >= FC_VALIDATOR_LEN)
		last_modified = NULL;
	forget |= etag == NULL && last_modified == NULL;
	st = s_stmt(fc, forget ? ST_PAGE_DEL : ST_PAGE_PUT);
	s_bind_text(st, 1, url);
	if (!forget) {
		s_bind_text(st, 2, etag);
		s_bind_text(st, 3, last_modified);
		sqlite3_bind_int64(st, 4, now);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(fc, "storing validators");
		return -1;
	}
	return 0;
}

/* ---- EDGAR filings ---- */

int fetch_cache_add_filing(fetch_cache_t *fc, const struct edgar_filing *f, int64_t now)
{
	sqlite3_stmt *st = s_stmt(fc, ST_FILING_ADD);
	int rc;

	s_bind_text(st, 1, f->accession);
	sqlite3_bind_text(st, 2, f->form, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, f->cik, -1, SQLITE_TRANSIENT);
	if (f->index_url != NULL && strlen(f->index_url) < FC_URL_LEN)
		s_bind_text(st, 4, f->index_url);
	if (f->accepted_at != REC_NULL_TIME)
		sqlite3_bind_int64(st, 5, f->accepted_at);
	sqlite3_bind_int64(st, 6, now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(fc, "adding a filing");
		return -1;
	}
	return sqlite3_changes(fc->db) > 0 ? 1 : 0;
}

int fetch_cache_pending_filings(fetch_cache_t *fc, int64_t since, size_t max,
                                struct fc_filing **out, size_t *n)
{
	sqlite3_stmt *st = s_stmt(fc, ST_FILING_PENDING);
	struct fc_filing *items = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fc_filing *f;

		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct fc_filing *t = realloc(items, ncap * sizeof(*t));
			if (t == NULL) {
				log_warnx("fetch cache: out of memory");
				break;
			}
			items = t;
			cap = ncap;
		}
		f = &items[*n];
		memset(f, 0, sizeof(*f));
		if (!s_col_text(st, 0, f->accession, sizeof(f->accession)) ||
		    !s_col_text(st, 1, f->form, sizeof(f->form)) ||
		    !s_col_text(st, 2, f->cik, sizeof(f->cik)))
			continue; /* not something this code wrote */
		s_col_text(st, 3, f->index_url, sizeof(f->index_url));
		f->accepted_at = sqlite3_column_type(st, 4) == SQLITE_NULL
		                     ? REC_NULL_TIME
		                     : sqlite3_column_int64(st, 4);
		f->attempts = sqlite3_column_int(st, 5);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		s_db_warn(fc, "listing pending filings");
		free(items);
		*n = 0;
		return -1;
	}
	*out = items;
	return 0;
}

int fetch_cache_filing_state(fetch_cache_t *fc, const char *accession)
{
	sqlite3_stmt *st = s_stmt(fc, ST_FILING_STATE);
	int rc, state = -1;

	s_bind_text(st, 1, accession);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		state = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		s_db_warn(fc, "reading a filing's state");
	sqlite3_reset(st);
	return state;
}

int fetch_cache_filing_result(fetch_cache_t *fc, const char *accession, enum fc_filing_state state,
                              const char *error, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (state == FC_PENDING) {
		st = s_stmt(fc, ST_FILING_FAIL);
		s_bind_text(st, 1, accession);
		s_bind_text(st, 2, error);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int(st, 4, FC_MAX_ATTEMPTS);
	} else {
		st = s_stmt(fc, ST_FILING_SET);
		s_bind_text(st, 1, accession);
		sqlite3_bind_int(st, 2, (int)state);
		s_bind_text(st, 3, error);
		sqlite3_bind_int64(st, 4, now);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(fc, "storing a filing's state");
		return -1;
	}
	return fetch_cache_filing_state(fc, accession);
}

/* ---- trades ---- */

int fetch_cache_put_trades(fetch_cache_t *fc, const char *source, const struct trade_list *l,
                           int64_t since, int64_t now, size_t *stored)
{
	char err[256];
	size_t n = 0;
	int rc = 0;

	if (stored != NULL)
		*stored = 0;
	if (l->n == 0)
		return 0;
	if (store_exec(fc->db, "BEGIN", err, sizeof(err)) != 0) {
		log_warnx("fetch cache: %s", err);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		const record_t *r = &l->items[i];
		bool has_time = r->u.trade.filed_at != REC_NULL_TIME;
		int64_t at = has_time ? r->u.trade.filed_at : now;
		sqlite3_stmt *st;
		char *mp;
		size_t len;

		if (r->type != REC_TRADE || at < since)
			continue;
		if (record_to_msgpack(r, &mp, &len, err, sizeof(err)) != 0) {
			log_warnx("fetch cache: not storing trade %s: %s",
			          r->u.trade.key ? r->u.trade.key : "?", err);
			continue;
		}
		st = s_stmt(fc, ST_TRADE_PUT);
		s_bind_text(st, 1, r->u.trade.key);
		s_bind_text(st, 2, source);
		sqlite3_bind_int64(st, 3, at);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_blob(st, 5, mp, (int)len, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, has_time);
		if (sqlite3_step(st) != SQLITE_DONE) {
			s_db_warn(fc, "storing a trade");
			rc = -1;
		} else {
			n++;
		}
		sqlite3_reset(st);
		free(mp);
		if (rc != 0)
			break;
	}
	if (store_exec(fc->db, rc == 0 ? "COMMIT" : "ROLLBACK", err, sizeof(err)) != 0) {
		log_warnx("fetch cache: %s", err);
		rc = -1;
	}
	if (stored != NULL)
		*stored = rc == 0 ? n : 0;
	return rc;
}

long fetch_cache_each_trade(fetch_cache_t *fc, const char *source, int64_t since, fc_trade_fn fn,
                            void *arg)
{
	sqlite3_stmt *st = s_stmt(fc, ST_TRADE_EACH);
	char **bad = NULL;
	size_t nbad = 0;
	long count = 0;
	int rc;

	s_bind_text(st, 1, source);
	sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *mp = sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		char err[256];
		bool ok = false;
		record_t r;

		memset(&r, 0, sizeof(r));
		if (mp != NULL && record_from_msgpack(mp, (size_t)len, &r, err, sizeof(err)) == 0) {
			ok = r.type == REC_TRADE;
			if (!ok)
				record_free(&r);
		}
		if (!ok) {
			const char *key = (const char *)sqlite3_column_text(st, 0);
			char **t;

			log_warnx("fetch cache: stored trade %s does not decode; deleted",
			          key ? key : "?");
			t = realloc(bad, (nbad + 1) * sizeof(*t));
			if (t != NULL && key != NULL && (t[nbad] = strdup(key)) != NULL)
				nbad++;
			if (t != NULL)
				bad = t;
			continue;
		}
		count++;
		rc = fn(arg, &r);
		record_free(&r);
		if (rc != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(fc, "reading trades");
		count = -1;
	}
	for (size_t i = 0; i < nbad; i++) {
		sqlite3_stmt *del = s_stmt(fc, ST_TRADE_DEL);
		s_bind_text(del, 1, bad[i]);
		if (sqlite3_step(del) != SQLITE_DONE)
			s_db_warn(fc, "deleting a trade");
		sqlite3_reset(del);
		free(bad[i]);
	}
	free(bad);
	return count;
}

/* ---- runs ---- */

int64_t fetch_cache_last_run(fetch_cache_t *fc, const char *source)
{
	sqlite3_stmt *st = s_stmt(fc, ST_RUN_GET);
	int64_t t = FC_NEVER;
	int rc;

	s_bind_text(st, 1, source);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		t = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		s_db_warn(fc, "reading the last run");
	sqlite3_reset(st);
	return t;
}

int fetch_cache_set_last_run(fetch_cache_t *fc, const char *source, int64_t t)
{
	sqlite3_stmt *st = s_stmt(fc, ST_RUN_PUT);
	int rc;

	s_bind_text(st, 1, source);
	sqlite3_bind_int64(st, 2, t);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		s_db_warn(fc, "storing the last run");
		return -1;
	}
	return 0;
}

/* ---- pruning ---- */

int fetch_cache_prune(fetch_cache_t *fc, int64_t trades_before, int64_t filings_before,
                      int64_t pages_before)
{
	char sql[512], err[256];

	snprintf(sql, sizeof(sql),
	         "DELETE FROM trade WHERE at < %lld;"
	         "DELETE FROM filing WHERE COALESCE(accepted_at, first_seen) < %lld;"
	         "DELETE FROM page WHERE used_at < %lld",
	         (long long)trades_before, (long long)filings_before, (long long)pages_before);
	if (store_exec(fc->db, sql, err, sizeof(err)) != 0) {
		log_warnx("fetch cache: pruning: %s", err);
		return -1;
	}
	return 0;
}
