/*
 * fetch_cache.h - the scraper's state, state_dir/scraper.sqlite.
 *
 *   - EDGAR filings seen in the feed, each with its state: pending until
 *     its document was fetched and parsed once (done), or until it proved
 *     unreadable (bad) or failed too often (gave up).  The feed is paged
 *     only while its filings are new, and a filing's document is
 *     downloaded once: this table is both the cursor and the "fetched"
 *     list.
 *   - ETag / Last-Modified per page URL, for conditional requests.
 *   - The trades parsed within the lookback window, so that every cycle
 *     emits them again (DESIGN.md "Delivery": a trade lost in flight
 *     comes again with the next cycle) without fetching anything twice.
 *     Trades are stored as msgpack records, keyed by their key.
 *   - When each source last ran, so "once a day" survives restarts.
 *
 * Every table is bounded: trades and filings older than the lookback
 * window and validators not used for 30 days are pruned.  A database error
 * never costs a trade: reads that fail are misses (logged), writes that
 * fail are logged and the caller goes on with what it has in memory.
 */
#ifndef COATTAIL_FETCH_CACHE_H
#define COATTAIL_FETCH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "record.h"

#define FETCH_CACHE_FILE "scraper.sqlite"
/* Longest ETag / Last-Modified value kept (longer ones are not used). */
#define FC_VALIDATOR_LEN 256
/* Longest filing index URL kept. */
#define FC_URL_LEN 512
/* "Never ran". */
#define FC_NEVER INT64_MIN

typedef struct fetch_cache fetch_cache_t;

/* Open (create, migrate) state_dir/scraper.sqlite; NULL with err. */
fetch_cache_t *fetch_cache_open(const char *state_dir, char *err, size_t errlen);
/* Close; idempotent, NULLs the pointer. */
void fetch_cache_close(fetch_cache_t **fc);

/* ---- conditional requests ---- */

struct fc_validators {
	char etag[FC_VALIDATOR_LEN];          /* "" when none */
	char last_modified[FC_VALIDATOR_LEN]; /* "" when none */
};

/* The validators stored for url: 1 (v filled), 0 none (v emptied). */
int fetch_cache_validators(fetch_cache_t *fc, const char *url, struct fc_validators *v);
/*
 * Remember the validators a 200 response carried, after its body was
 * parsed successfully (a page that failed to parse must be fetched whole
 * again, not answered 304).  Both NULL or empty: forget the URL.  0 or -1.
 */
int fetch_cache_set_validators(fetch_cache_t *fc, const char *url, const char *etag,
                               const char *last_modified, int64_t now);

/* ---- EDGAR filings ---- */

enum fc_filing_state {
	FC_PENDING = 0, /* its document is still to be fetched */
	FC_DONE = 1,    /* fetched and parsed: never fetched again */
	FC_BAD = 2,     /* fetched but unreadable (an accepted filing never changes) */
	FC_GAVE_UP = 3, /* fetching failed FC_MAX_ATTEMPTS times */
};

/* Fetch attempts of one filing before it is given up. */
#define FC_MAX_ATTEMPTS 5

struct fc_filing {
	char accession[ACCESSION_LEN];
	char form[8];               /* "4" or "4/A" */
	char cik[CIK_LEN];          /* the archive folder's CIK */
	char index_url[FC_URL_LEN]; /* "" when unknown */
	int64_t accepted_at;        /* REC_NULL_TIME when unknown */
	int attempts;               /* failed fetches so far */
};

/*
 * Record a filing announced by the feed.  1 when it is new (now pending),
 * 0 when it was known already (in any state), -1 on a database error.
 */
int fetch_cache_add_filing(fetch_cache_t *fc, const struct edgar_filing *f, int64_t now);
/*
 * The pending filings accepted at or after `since` (or of unknown
 * acceptance time), newest first, at most max of them.  *out is malloc'd
 * (free it), *n set.  0, or -1 on a database error (*out NULL, *n 0).
 */
int fetch_cache_pending_filings(fetch_cache_t *fc, int64_t since, size_t max,
                                struct fc_filing **out, size_t *n);
/*
 * The outcome of fetching a filing's document: FC_DONE or FC_BAD end it;
 * FC_PENDING counts a failed attempt and turns into FC_GAVE_UP at
 * FC_MAX_ATTEMPTS (the returned state says which).  error may be NULL.
 * Returns the state stored, or -1.
 */
int fetch_cache_filing_result(fetch_cache_t *fc, const char *accession, enum fc_filing_state st,
                              const char *error, int64_t now);
/* A filing's state, or -1 when unknown. */
int fetch_cache_filing_state(fetch_cache_t *fc, const char *accession);

/* ---- trades ---- */

/*
 * Store (insert or replace, by key) the trades of l whose filing time (or,
 * without one, first-seen time) is at or after `since`; older ones are not
 * kept.  *stored (may be NULL) gets the number written.  One transaction.
 * 0, or -1 on a database error.
 */
int fetch_cache_put_trades(fetch_cache_t *fc, const char *source, const struct trade_list *l,
                           int64_t since, int64_t now, size_t *stored);

/* Called per stored trade; the callee may take over what r owns (and
 * record_init it); return non-zero to stop. */
typedef int (*fc_trade_fn)(void *arg, record_t *r);

/*
 * Call fn for each stored trade of `source` whose filing time (else
 * first-seen time) is at or after `since`, oldest first.  A stored record
 * that no longer decodes is deleted and logged.  Returns the number of
 * trades passed to fn, or -1 on a database error.
 */
long fetch_cache_each_trade(fetch_cache_t *fc, const char *source, int64_t since, fc_trade_fn fn,
                            void *arg);

/* ---- runs ---- */

/* Start of the source's last run, or FC_NEVER. */
int64_t fetch_cache_last_run(fetch_cache_t *fc, const char *source);
int fetch_cache_set_last_run(fetch_cache_t *fc, const char *source, int64_t t);

/* ---- pruning ---- */

/*
 * Delete trades whose time is before trades_before, filings accepted (or
 * first seen) before filings_before, and validators last used before
 * pages_before.  0, or -1.
 */
int fetch_cache_prune(fetch_cache_t *fc, int64_t trades_before, int64_t filings_before,
                      int64_t pages_before);

#endif
