/*
 * source.h - the fetch side of the scraper's sources, as scraper.c drives
 * them: one cycle at a time, each cycle fetching what is new and appending
 * the trades it parsed to a list.  Storing those trades and emitting the
 * lookback window again is scraper.c's job, the same for every source.
 *
 *   edgar        edgar.c           getcurrent Atom feed -> new filings ->
 *                                  one full submission (.txt) each
 *   openinsider  openinsider_src.c listing / screener pages
 *   finviz       finviz_src.c      insider-trading and quote pages
 *
 * A cycle never gives up the process: an unreachable network, a refusal or
 * a page whose shape changed is logged (naming the source and the cause),
 * counted in src_stats.errors, and the cycle goes on where that makes
 * sense or ends early where it does not (a network failure ends it: one
 * message per cycle, and the next cycle tries again).
 */
#ifndef COATTAIL_SOURCE_H
#define COATTAIL_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "fetch_cache.h"
#include "http.h"
#include "parse.h"

/* What a cycle is given. */
struct src_ctx {
	fetch_cache_t *cache;
	int64_t now;                 /* wall-clock start of the cycle (UTC) */
	int64_t since;               /* start of the lookback window */
	volatile sig_atomic_t *stop; /* set on SIGTERM: end the cycle */
};

/* What a cycle did, for its log line and the exit status of --once. */
struct src_stats {
	unsigned requests;     /* HTTP attempts, retries included */
	unsigned pages;        /* pages / feed pages read (200) */
	unsigned not_modified; /* conditional requests answered 304 */
	unsigned filings_new;  /* edgar: filings first seen in the feed */
	unsigned documents;    /* edgar: filing documents fetched */
	unsigned pending;      /* edgar: filings left for a later cycle */
	size_t trades_read;    /* trades parsed this cycle */
	unsigned errors;       /* failures (each logged once) */
	bool unreachable;      /* no response at all: the cycle ended early */
	bool blocked;          /* the source refused us (403, challenge, rate block) */
	int64_t hold_s;        /* > 0: do not run again for this many seconds */
};

/* ---- shared helpers (source.c) ---- */

/*
 * An HTTP client for one source, from the scraper.* HTTP settings, with
 * the given User-Agent and requests per second (0: unlimited).  NULL when
 * out of memory.
 */
http_client_t *src_http_new(const conf_t *c, const char *user_agent, double rate_per_s,
                            volatile sig_atomic_t *stop);

enum src_got {
	SRC_GOT_OK,           /* 2xx: resp holds the body */
	SRC_GOT_NOT_MODIFIED, /* 304 to a conditional request */
	SRC_GOT_HTTP_ERROR,   /* another status (after retries) */
	SRC_GOT_REFUSED,      /* a response arrived but was refused (too large) */
	SRC_GOT_NETWORK,      /* no response: resp->error says why */
	SRC_GOT_STOPPED,      /* the stop flag ended it */
};

/*
 * GET url.  conditional: send the ETag / Last-Modified stored for url (and
 * on a 304 mark them used).  Counts the attempts in st->requests.  resp is
 * always to be released with http_response_free().
 */
enum src_got src_get(http_client_t *hc, const struct src_ctx *cx, const char *url, bool conditional,
                     struct http_response *resp, struct src_stats *st);

/* After a 200 whose body parsed: keep its ETag / Last-Modified for url. */
void src_keep_validators(const struct src_ctx *cx, const char *url,
                         const struct http_response *resp);

/*
 * Join a configured page to a base URL: "/path?q" -> base + "/path?q";
 * "http://..." or "https://..." is taken as is.  malloc'd, or NULL with err
 * (a page that is neither).
 */
char *src_join_url(const char *base, const char *page, char *err, size_t errlen);

/* ---- edgar (edgar.c) ---- */

struct edgar_src;

/*
 * The edgar source from the config.  Refuses (NULL, err) to start without
 * scraper.sec_user_agent, or with one that names no contact e-mail address:
 * SEC answers undeclared tools with 403.
 */
struct edgar_src *edgar_src_new(const conf_t *c, volatile sig_atomic_t *stop, char *err,
                                size_t errlen);
void edgar_src_free(struct edgar_src **e);
/*
 * One cycle: read the feed while its filings are new, record them in the
 * cache, fetch the document of each pending filing in the lookback window
 * (newest first, at most edgar_max_documents) and append its trades to out.
 * Returns 0, or -1 when something failed (st says what; it was logged).
 */
int edgar_src_cycle(struct edgar_src *e, const struct src_ctx *cx, struct trade_list *out,
                    struct src_stats *st);
/*
 * The raw Form 4 XML named by a filing folder's index.json (SEC JSON): the
 * first .xml item that is a file, not under an xsl* folder (the rendered
 * copy), with a plain file name.  0 with name filled (NUL-terminated, less
 * than namelen bytes), or -1 with err.
 */
int edgar_index_json_xml(const char *body, size_t len, char *name, size_t namelen, char *err,
                         size_t errlen);

/* ---- openinsider and finviz (source.c, openinsider_src.c, finviz_src.c) ---- */

/* A source that reads a list of HTML pages with conditional requests. */
struct page_src;

struct page_src *openinsider_src_new(const conf_t *c, volatile sig_atomic_t *stop, char *err,
                                     size_t errlen);
struct page_src *finviz_src_new(const conf_t *c, volatile sig_atomic_t *stop, char *err,
                                size_t errlen);

/*
 * The generic page source: name ("openinsider"), the base URL, the pages
 * (each joined to base), a User-Agent and a rate.  NULL with err.
 */
struct page_src *page_src_new(const conf_t *c, const char *name, const char *base,
                              const char *const *pages, size_t n_pages, const char *user_agent,
                              double rate_per_s, volatile sig_atomic_t *stop, char *err,
                              size_t errlen);
void page_src_free(struct page_src **p);
/* Number of pages and the i-th page's URL (for logs and tests). */
size_t page_src_count(const struct page_src *p);
const char *page_src_url(const struct page_src *p, size_t i);
/*
 * One cycle: every page, conditionally; a 200 is parsed (the page's trades
 * appended to out), a 304 means nothing changed since the last cycle.  A
 * 403, a challenge page or an empty insider table is "blocked"; a page
 * without the expected table fails loudly.  0, or -1 when a page failed.
 */
int page_src_cycle(struct page_src *p, const struct src_ctx *cx, struct trade_list *out,
                   struct src_stats *st);

#endif
