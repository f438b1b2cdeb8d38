/*
 * figi_cache.h - the mapper's state: state_dir/mapper.sqlite.
 *
 * Three kinds of answers, each with its own lifetime:
 *   - OpenFIGI answers per job key (openfigi_job_key): found (the chosen
 *     row), not found ("No identifier found."), error (an {"error":...}
 *     element), or refused (FIGI_BAD: the request holding the job alone
 *     was refused, a 400 or an unreadable answer, with the reason), with an
 *     expiry time.  The status column holds the enum figi_answer; a status
 *     this build does not know is a miss (asked again), so a file written
 *     by an older or newer mapper keeps working either way;
 *   - SEC's ticker -> CIK map (company_tickers.json), replaced as a whole;
 *   - shares outstanding per CIK, or "SEC has none", with an expiry time.
 * Several mappers may share one file (SQLite WAL, busy timeout): one
 * mapper's answer saves the others a request.  Times are Unix seconds passed
 * in by the caller, so tests control the clock.
 */
#ifndef COATTAIL_FIGI_CACHE_H
#define COATTAIL_FIGI_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "openfigi.h"

#define FIGI_CACHE_FILE "mapper.sqlite"
/* Answers kept in memory per kind until set otherwise (memo.h). */
#define FIGI_CACHE_MEMO_DEFAULT 8192
/* A share count is > 0 and below this; nothing else is stored or read back. */
#define FIGI_CACHE_SHARES_MAX 1e13

typedef struct figi_cache figi_cache_t;

/* Open or create state_dir/mapper.sqlite and drop expired entries.  NULL
 * with err on failure. */
figi_cache_t *figi_cache_open(const char *state_dir, int64_t now, char *err, size_t errlen);
void figi_cache_close(figi_cache_t **c);

/*
 * Keep up to `entries` answers of each kind in memory until their rows
 * expire, so that a repeated lookup costs no SQLite read (0: off): OpenFIGI
 * answers (found, not found, error, refused), share counts (a figure or "SEC has
 * none") and ticker-to-CIK lookups (a CIK or unknown).  A miss is not
 * kept.  Replaces the memos, empty.  0, or -1 when out of memory (the memo
 * is then off).
 */
int figi_cache_set_memo(figi_cache_t *c, size_t entries);
/* Answers the memos hold now (tests). */
size_t figi_cache_memo_count(const figi_cache_t *c);
/* Lookups that read SQLite so far (SQLite's own run count of the SELECTs
 * behind figi_cache_get, _tickers_fetched_at, _cik_of and _shares_get),
 * for tests and logs. */
long figi_cache_reads(const figi_cache_t *c);

/* Group many writes in one transaction (one commit per OpenFIGI answer).
 * 0 or -1 (logged). */
int figi_cache_begin(figi_cache_t *c);
int figi_cache_commit(figi_cache_t *c);

/*
 * Look up a job.  Returns FIGI_FOUND (row filled: free with figi_row_free),
 * FIGI_NOT_FOUND, FIGI_ERROR or FIGI_BAD (msg filled with the answer's text
 * or the refusal's reason) for an entry that has not expired at `now`; 0
 * when there is none, it expired or its status is unknown; -1 on a database
 * error (logged; the caller treats it as a miss).
 */
int figi_cache_get(figi_cache_t *c, const char *job_key, int64_t now, struct figi_row *row,
                   char *msg, size_t msglen);

/* Store an answer (kind FIGI_FOUND with row, or FIGI_NOT_FOUND, FIGI_ERROR
 * or FIGI_BAD with msg) valid until now + ttl_s.  0 or -1 (logged). */
int figi_cache_put(figi_cache_t *c, const char *job_key, enum figi_answer kind,
                   const struct figi_row *row, const char *msg, int64_t now, int64_t ttl_s);

/* Entries (of every kind), for tests and logs. */
long figi_cache_count(figi_cache_t *c);

/* ---- SEC data ---- */

struct sec_ticker {
	const char *ticker; /* "BRK-B" as SEC writes it */
	const char *cik;    /* 10 digits */
};

/* When the ticker map was last replaced: 1 and *t, or 0 when never. */
int figi_cache_tickers_fetched_at(figi_cache_t *c, int64_t *t);
/* Replace the whole ticker map in one transaction.  0 or -1 (logged). */
int figi_cache_tickers_replace(figi_cache_t *c, const struct sec_ticker *items, size_t n,
                               int64_t now);
/*
 * The CIK of a ticker as SEC writes it: 1 and cik (11 bytes), 0 unknown,
 * -1 on error.  The answer, either way, is kept in memory until live_until
 * (Unix s; the caller's expiry of the map it judged fresh at now; not kept
 * when <= now) or until the map is replaced through this handle.
 */
int figi_cache_cik_of(figi_cache_t *c, const char *ticker, int64_t now, int64_t live_until,
                      char cik[11]);

/* Shares outstanding of a CIK: 1 with *shares (NAN: SEC has no figure), 0
 * when unknown or expired (or the row holds no share count: see
 * FIGI_CACHE_SHARES_MAX), -1 on error. */
int figi_cache_shares_get(figi_cache_t *c, const char *cik, int64_t now, double *shares);
/* Store shares (NAN: none) valid until now + ttl_s; as_of may be NULL.
 * 0, or -1 (logged) on a database error or a value that is neither NAN nor
 * a share count (<= 0, infinite, FIGI_CACHE_SHARES_MAX or more). */
int figi_cache_shares_put(figi_cache_t *c, const char *cik, double shares, const char *as_of,
                          int64_t now, int64_t ttl_s);

#endif
