/*
 * source.c - what the sources share: HTTP clients from the settings, the
 * conditional GET and how its outcome is judged, and the generic "list of
 * HTML pages" source that OpenInsider and FinViz are (see source.h).
 */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htmlutil.h"
#include "log.h"

http_client_t *src_http_new(const conf_t *c, const char *user_agent, double rate_per_s,
                            volatile sig_atomic_t *stop)
{
	struct http_opts o = {
		.user_agent = user_agent,
		.connect_timeout_ms = (long)conf_int(c, "scraper.connect_timeout_ms"),
		.timeout_ms = (long)conf_int(c, "scraper.request_timeout_ms"),
		.max_bytes = (size_t)conf_int(c, "scraper.max_document_bytes"),
		.max_retries = (int)conf_int(c, "scraper.http_retries"),
		.backoff_base_ms = (long)conf_int(c, "scraper.retry_backoff_ms"),
		.backoff_max_ms = (long)conf_int(c, "scraper.retry_backoff_max_ms"),
		.rate_per_s = rate_per_s,
		/* One token: requests are spaced evenly, never bunched, so no
		 * second ever holds more than the rate (SEC counts per second). */
		.burst = 1,
		.stop = stop,
	};

	if (o.max_retries == 0)
		o.max_retries = -1; /* http.h: < 0 is "none", 0 would be the default */
	if (o.backoff_max_ms < o.backoff_base_ms)
		o.backoff_max_ms = o.backoff_base_ms;
	return http_new(&o);
}

enum src_got src_get(http_client_t *hc, const struct src_ctx *cx, const char *url, bool conditional,
                     struct http_response *resp, struct src_stats *st)
{
	struct http_request req = { .url = url, .max_retries = -1 };
	struct fc_validators v = { "", "" };
	bool have = false;
	int rc;

	if (conditional && cx->cache != NULL &&
	    (have = fetch_cache_validators(cx->cache, url, &v) == 1)) {
		req.if_none_match = v.etag[0] != '\0' ? v.etag : NULL;
		req.if_modified_since = v.last_modified[0] != '\0' ? v.last_modified : NULL;
	}
	rc = http_do(hc, &req, resp);
	st->requests += (unsigned)resp->attempts;
	if (rc != 0) {
		if (cx->stop != NULL && *cx->stop)
			return SRC_GOT_STOPPED;
		/* A response that arrived but was refused keeps its status. */
		return resp->status != 0 ? SRC_GOT_REFUSED : SRC_GOT_NETWORK;
	}
	if (resp->status == 304) {
		/* Mark the validators used, so pruning keeps them. */
		if (have)
			fetch_cache_set_validators(cx->cache, url, v.etag, v.last_modified,
			                           cx->now);
		return SRC_GOT_NOT_MODIFIED;
	}
	if (resp->status >= 200 && resp->status <= 299)
		return SRC_GOT_OK;
	return SRC_GOT_HTTP_ERROR;
}

void src_keep_validators(const struct src_ctx *cx, const char *url,
                         const struct http_response *resp)
{
	if (cx->cache == NULL)
		return;
	fetch_cache_set_validators(cx->cache, url, http_header(resp, "ETag"),
	                           http_header(resp, "Last-Modified"), cx->now);
}

char *src_join_url(const char *base, const char *page, char *err, size_t errlen)
{
	size_t bl;
	char *url;

	if (strncasecmp(page, "http://", 7) == 0 || strncasecmp(page, "https://", 8) == 0)
		return strdup(page);
	if (page[0] != '/') {
		snprintf(err, errlen, "'%.100s' is neither a path (/...) nor an http(s) URL", page);
		return NULL;
	}
	bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (asprintf(&url, "%.*s%s", (int)bl, base, page) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return url;
}

/* ---- the page source ---- */

struct page_src {
	char *name;          /* "openinsider", "finviz": logs and the parser */
	http_client_t *http; /* browser-like User-Agent, its own rate */
	char **urls;         /* the pages, joined to the base URL */
	size_t n;
};

struct page_src *page_src_new(const conf_t *c, const char *name, const char *base,
                              const char *const *pages, size_t n_pages, const char *user_agent,
                              double rate_per_s, volatile sig_atomic_t *stop, char *err,
                              size_t errlen)
{
	struct page_src *p = calloc(1, sizeof(*p));
	char why[256];

	if (p == NULL || (p->name = strdup(name)) == NULL ||
	    (n_pages > 0 && (p->urls = calloc(n_pages, sizeof(char *))) == NULL)) {
		snprintf(err, errlen, "%s: out of memory", name);
		page_src_free(&p);
		return NULL;
	}
	if (n_pages == 0) {
		snprintf(err, errlen, "%s: no pages to read (scraper.%s_pages is empty)", name,
		         name);
		page_src_free(&p);
		return NULL;
	}
	for (size_t i = 0; i < n_pages; i++) {
		if ((p->urls[i] = src_join_url(base, pages[i], why, sizeof(why))) == NULL) {
			snprintf(err, errlen, "%s: scraper.%s_pages: %s", name, name, why);
			page_src_free(&p);
			return NULL;
		}
		p->n++;
	}
	p->http = src_http_new(c, user_agent, rate_per_s, stop);
	if (p->http == NULL) {
		snprintf(err, errlen, "%s: cannot create an HTTP client", name);
		page_src_free(&p);
		return NULL;
	}
	return p;
}

void page_src_free(struct page_src **pp)
{
	struct page_src *p = pp != NULL ? *pp : NULL;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->urls[i]);
	free(p->urls);
	http_free(&p->http);
	free(p->name);
	free(p);
	*pp = NULL;
}

size_t page_src_count(const struct page_src *p)
{
	return p->n;
}

const char *page_src_url(const struct page_src *p, size_t i)
{
	return i < p->n ? p->urls[i] : NULL;
}

/*
 * A page that did not come back 2xx.  403 and 429 are refusals: FinViz
 * answers clients it distrusts with 403 or a Cloudflare challenge (often
 * with 503), which is "blocked", never "no trades".
 */
static void s_page_http_error(struct page_src *p, const char *url, const struct http_response *resp,
                              struct src_stats *st)
{
	char title[120] = "";
	bool challenge = resp->body != NULL && doc_sniff(resp->body, resp->len) == DOC_BLOCKED;

	if (resp->body != NULL)
		hu_html_title(resp->body, resp->len, title, sizeof(title));
	if (resp->status == 403 || resp->status == 429 || challenge) {
		st->blocked = true;
		if (challenge)
			log_warnx("%s: blocked: HTTP %ld from %s is a challenge page ('%s'), "
			          "not the page; nothing was read from it",
			          p->name, resp->status, url, title);
		else
			log_warnx("%s: blocked: HTTP %ld from %s", p->name, resp->status, url);
	} else if (resp->status == 404) {
		log_warnx("%s: HTTP 404 from %s: no such page (check scraper.%s_pages)", p->name,
		          url, p->name);
	} else {
		log_warnx("%s: HTTP %ld from %s after %d attempt%s%s%s%s", p->name, resp->status,
		          url, resp->attempts, resp->attempts == 1 ? "" : "s",
		          title[0] ? " ('" : "", title, title[0] ? "')" : "");
	}
	st->errors++;
}

int page_src_cycle(struct page_src *p, const struct src_ctx *cx, struct trade_list *out,
                   struct src_stats *st)
{
	int rc = 0;

	for (size_t i = 0; i < p->n; i++) {
		const char *url = p->urls[i];
		struct http_response resp;
		struct parse_result res;
		struct parse_ctx ctx;
		char err[512], sum[512];
		size_t mark = out->n;
		enum src_got got;

		if (cx->stop != NULL && *cx->stop)
			break;
		got = src_get(p->http, cx, url, true, &resp, st);
		switch (got) {
		case SRC_GOT_STOPPED:
			http_response_free(&resp);
			return rc;
		case SRC_GOT_NETWORK:
			/* One message per cycle: the next page would fail the same. */
			log_warnx("%s: network: %s; retrying next cycle", p->name, resp.error);
			st->unreachable = true;
			st->errors++;
			http_response_free(&resp);
			return -1;
		case SRC_GOT_NOT_MODIFIED:
			st->not_modified++;
			log_info("%s: %s: not modified since it was last read (304)", p->name, url);
			http_response_free(&resp);
			continue;
		case SRC_GOT_REFUSED:
			log_warnx("%s: %s", p->name, resp.error);
			st->errors++;
			http_response_free(&resp);
			rc = -1;
			continue;
		case SRC_GOT_HTTP_ERROR:
			s_page_http_error(p, url, &resp, st);
			http_response_free(&resp);
			rc = -1;
			continue;
		case SRC_GOT_OK:
			break;
		}
		st->pages++;
		parse_ctx_init(&ctx);
		ctx.url = url;
		ctx.now = cx->now;
		if (parse_trades(resp.body, resp.len, p->name, &ctx, out, &res, NULL, err,
		                 sizeof(err)) != 0) {
			parse_result_summary(&res, sum, sizeof(sum));
			if (res.status == PARSE_BLOCKED)
				st->blocked = true;
			log_warnx("%s%s%s [%s: %s]",
			          strncmp(err, p->name, strlen(p->name)) == 0 ? "" : p->name,
			          strncmp(err, p->name, strlen(p->name)) == 0 ? "" : ": ", err, url,
			          sum);
			st->errors++;
			rc = -1;
		} else {
			parse_result_summary(&res, sum, sizeof(sum));
			log_info("%s: %s: %s", p->name, url, sum);
			st->trades_read += out->n - mark;
			src_keep_validators(cx, url, &resp);
		}
		http_response_free(&resp);
	}
	return rc;
}
