/*
 * marketcap.h - shares outstanding from SEC data, for the market-cap
 * estimate (shares outstanding x the trade's price).
 *
 * The issuer's CIK comes from the trade (issuer_cik) or from SEC's ticker
 * map (www.sec.gov/files/company_tickers.json); the figure is the latest
 * dei:EntityCommonStockSharesOutstanding of the XBRL company concept API
 * (data.sec.gov/api/xbrl/companyconcept/CIK##########/dei/...).  Both are
 * cached in the mapper's SQLite file.  Anything missing or failing makes the
 * figure unknown (NAN), never an error: after a failed request SEC is left
 * alone for retry_ms, and trades go on without the figure meanwhile.
 */
#ifndef COATTAIL_MARKETCAP_H
#define COATTAIL_MARKETCAP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "figi_cache.h"

/* Longest ticker kept from SEC's map. */
#define MARKETCAP_TICKER_MAX 20
struct marketcap_opts {
	const char *www_url;         /* "https://www.sec.gov" (company_tickers.json) */
	const char *data_url;        /* "https://data.sec.gov" (XBRL) */
	const char *user_agent;      /* SEC wants a contact; required */
	long timeout_ms;             /* one request */
	double rate_per_s;           /* requests per second (SEC allows 10) */
	int64_t shares_ttl_s;        /* a figure is reused this long */
	int64_t none_ttl_s;          /* "SEC has no figure" is reused this long */
	int64_t tickers_ttl_s;       /* the ticker map is fetched again after this */
	int64_t retry_ms;            /* after a failure, no SEC request for this long */
	volatile sig_atomic_t *stop; /* ends a request early (SIGTERM) */
};

typedef struct marketcap marketcap_t;

/* NULL when out of memory or without a user agent.  The cache is borrowed. */
marketcap_t *marketcap_new(const struct marketcap_opts *o, figi_cache_t *cache);
void marketcap_free(marketcap_t **m);

/*
 * Shares outstanding of the issuer of `ticker` (a trade's ticker, upper
 * case) with CIK issuer_cik (10 digits, or NULL: looked up by ticker).
 * Returns 1 with *shares set (NAN when unknown), or 0 when an answer needs a
 * request and may_fetch is false (call again with may_fetch true, outside
 * the hot path).  With may_fetch true it always returns 1.  now is Unix
 * seconds, now_ms a monotonic clock (the failure pause).
 */
int marketcap_shares(marketcap_t *m, const char *ticker, const char *issuer_cik, bool may_fetch,
                     int64_t now, int64_t now_ms, double *shares);

/* Requests sent so far (tests, logs). */
unsigned long marketcap_requests(const marketcap_t *m);

/* ---- parsers (exposed for tests) ---- */

struct marketcap_ticker {
	char ticker[MARKETCAP_TICKER_MAX + 1];
	char cik[11];
};

/* SEC's way of writing a ticker: upper case, '.' and '/' as '-'
 * ("BRK.B" -> "BRK-B").  0, or -1 when empty, too long or not
 * [A-Za-z0-9./-]. */
int marketcap_sec_ticker(const char *ticker, char *out, size_t len);

/*
 * company_tickers.json: {"0":{"cik_str":320193,"ticker":"AAPL","title":..},..}.
 * *items is malloc'd (caller frees), *n set.  Entries with a bad CIK or
 * ticker are skipped.  0, or -1 with err when the document is not that
 * shape at all.
 */
int marketcap_parse_tickers(const char *body, size_t len, struct marketcap_ticker **items,
                            size_t *n, char *err, size_t errlen);

/*
 * A companyconcept document: {"cik":..,"units":{"shares":[{"end":"YYYY-MM-DD",
 * "val":N,"filed":"YYYY-MM-DD",..},..]}}.  The figure is the one with the
 * latest "end", then the latest "filed"; values must be > 0 and < 1e13.
 * Returns 1 with *shares and as_of ("YYYY-MM-DD"), 0 when the document
 * holds no usable figure, -1 with err when it is not that shape.
 */
int marketcap_parse_concept(const char *body, size_t len, double *shares, char as_of[11], char *err,
                            size_t errlen);

#endif
