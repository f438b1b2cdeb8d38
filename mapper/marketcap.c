/*
 * marketcap.c - shares outstanding from SEC data (see marketcap.h).
 */
#include "marketcap.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "timeutil.h"

#define TICKERS_PATH  "/files/company_tickers.json"
#define CONCEPT_FMT   "%s/api/xbrl/companyconcept/CIK%s/dei/EntityCommonStockSharesOutstanding.json"
#define SEC_MAX_BYTES ((size_t)32 * 1024 * 1024)
#define TICKERS_MAX   200000 /* entries read from the map (SEC has ~10k) */

struct marketcap {
	struct marketcap_opts o;
	char *www_url, *data_url; /* our copies, without a trailing '/' */
	figi_cache_t *cache;      /* borrowed */
	http_client_t *http;
	int64_t down_until_ms; /* no request before this (monotonic ms) */
	int64_t map_at;        /* the ticker map last judged fresh was fetched then */
	int64_t map_until;     /* and is fresh until then (Unix s; 0: read sec_meta) */
	unsigned long requests;
	struct log_limit warn_limit;
};

static char *s_base(const char *url)
{
	char *s = strdup(url != NULL ? url : "");
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

marketcap_t *marketcap_new(const struct marketcap_opts *o, figi_cache_t *cache)
{
	marketcap_t *m;
	struct http_opts ho = { 0 };

	if (o->user_agent == NULL || o->user_agent[0] == '\0')
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->o = *o;
	m->cache = cache;
	m->warn_limit = (struct log_limit)LOG_LIMIT_INIT(300, 3);
	m->www_url = s_base(o->www_url);
	m->data_url = s_base(o->data_url);
	ho.user_agent = o->user_agent;
	ho.timeout_ms = o->timeout_ms;
	ho.connect_timeout_ms = o->timeout_ms < 5000 ? o->timeout_ms : 5000;
	ho.max_bytes = SEC_MAX_BYTES;
	ho.max_retries = -1; /* none: a failure pauses SEC use instead */
	ho.rate_per_s = o->rate_per_s > 0 ? o->rate_per_s : 5.0;
	ho.burst = 1;
	ho.stop = o->stop;
	ho.load_on_first_request = true; /* as the mapper's OpenFIGI client */
	m->http = http_new(&ho);
	if (m->www_url == NULL || m->data_url == NULL || m->http == NULL) {
		marketcap_free(&m);
		return NULL;
	}
	return m;
}

void marketcap_free(marketcap_t **mp)
{
	marketcap_t *m = *mp;

	if (m == NULL)
		return;
	http_free(&m->http);
	free(m->www_url);
	free(m->data_url);
	free(m);
	*mp = NULL;
}

unsigned long marketcap_requests(const marketcap_t *m)
{
	return m != NULL ? m->requests : 0;
}

/* ---- parsers ---- */

int marketcap_sec_ticker(const char *ticker, char *out, size_t len)
{
	size_t n = 0;

	if (ticker == NULL || ticker[0] == '\0')
		return -1;
	for (const char *p = ticker; *p != '\0'; p++) {
		char c = *p;

		if (c == '.' || c == '/')
			c = '-';
		else if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return -1;
		if (n + 1 >= len || n >= MARKETCAP_TICKER_MAX)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

/* A CIK as SEC's JSON gives it (integer, or a string of digits) -> 10
 * digits.  0 or -1. */
static int s_cik(json_t *v, char out[11])
{
	long long n;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = strlen(s);

		if (len == 0 || len > 10 || strspn(s, "0123456789") != len)
			return -1;
		n = atoll(s);
	} else {
		return -1;
	}
	if (n <= 0 || n > 9999999999LL)
		return -1;
	snprintf(out, 11, "%010lld", n);
	return 0;
}

int marketcap_parse_tickers(const char *body, size_t len, struct marketcap_ticker **items,
                            size_t *n, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	size_t cap, count = 0;
	struct marketcap_ticker *arr;

	*items = NULL;
	*n = 0;
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "company_tickers.json is not JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "company_tickers.json is not an object");
		json_decref(root);
		return -1;
	}
	cap = json_object_size(root);
	if (cap > TICKERS_MAX)
		cap = TICKERS_MAX;
	arr = calloc(cap > 0 ? cap : 1, sizeof(*arr));
	if (arr == NULL) {
		snprintf(err, errlen, "out of memory");
		json_decref(root);
		return -1;
	}
	json_object_foreach(root, k, v)
	{
		json_t *t = json_object_get(v, "ticker");

		if (count >= cap)
			break;
		if (!json_is_object(v) || !json_is_string(t) ||
		    s_cik(json_object_get(v, "cik_str"), arr[count].cik) != 0 ||
		    marketcap_sec_ticker(json_string_value(t), arr[count].ticker,
		                         sizeof(arr[count].ticker)) != 0)
			continue;
		count++;
	}
	json_decref(root);
	if (count == 0 && cap > 0) {
		free(arr);
		snprintf(err, errlen, "company_tickers.json has no usable entry");
		return -1;
	}
	*items = arr;
	*n = count;
	return 0;
}

static int s_is_date(const char *s)
{
	civil_date_t d;

	return s != NULL && strlen(s) == 10 && date_parse(s, &d) == 0;
}

int marketcap_parse_concept(const char *body, size_t len, double *shares, char as_of[11], char *err,
                            size_t errlen)
{
	json_error_t jerr;
	json_t *root, *units, *arr, *e;
	const char *best_end = NULL, *best_filed = NULL;
	double best = NAN;
	size_t i;
	int rc;

	*shares = NAN;
	as_of[0] = '\0';
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "company concept is not JSON: %s", jerr.text);
		return -1;
	}
	units = json_object_get(root, "units");
	if (!json_is_object(root) || !json_is_object(units)) {
		snprintf(err, errlen, "company concept has no units");
		json_decref(root);
		return -1;
	}
	arr = json_object_get(units, "shares");
	if (!json_is_array(arr)) {
		json_decref(root);
		return 0; /* a figure in another unit is not a share count */
	}
	json_array_foreach(arr, i, e)
	{
		const char *end = json_string_value(json_object_get(e, "end"));
		const char *filed = json_string_value(json_object_get(e, "filed"));
		json_t *val = json_object_get(e, "val");
		double v;
		int c;

		if (!json_is_number(val) || !s_is_date(end))
			continue;
		v = json_number_value(val);
		if (!(v > 0 && v < FIGI_CACHE_SHARES_MAX))
			continue;
		if (!s_is_date(filed))
			filed = NULL;
		if (best_end != NULL) {
			c = strcmp(end, best_end);
			if (c == 0)
				c = strcmp(filed ? filed : "", best_filed ? best_filed : "");
			if (c <= 0)
				continue; /* the first of equals wins */
		}
		best_end = end;
		best_filed = filed;
		best = v;
	}
	rc = 0;
	if (best_end != NULL) {
		*shares = best;
		memcpy(as_of, best_end, 11);
		rc = 1;
	}
	json_decref(root);
	return rc;
}

/* ---- fetching ---- */

static void s_pause(marketcap_t *m, int64_t now_ms, const char *what)
{
	m->down_until_ms = now_ms + m->o.retry_ms;
	log_warnx_limited(&m->warn_limit, "SEC data: %s; market caps stay null for the next %lld s",
	                  what, (long long)(m->o.retry_ms / 1000));
}

static int s_get(marketcap_t *m, const char *url, struct http_response *resp)
{
	struct http_request req = { .method = "GET", .url = url, .max_retries = -1 };

	m->requests++;
	return http_do(m->http, &req, resp);
}

/* Fetch and store the ticker map.  0, or -1 (SEC paused). */
static int s_fetch_tickers(marketcap_t *m, int64_t now, int64_t now_ms)
{
	struct http_response resp;
	struct marketcap_ticker *items = NULL;
	struct sec_ticker *rows = NULL;
	char url[2048], err[256], what[2400];
	size_t n = 0;
	int rc = -1;

	snprintf(url, sizeof(url), "%s%s", m->www_url, TICKERS_PATH);
	if (s_get(m, url, &resp) != 0) {
		snprintf(what, sizeof(what), "%s", resp.error);
		goto out;
	}
	if (resp.status != 200) {
		snprintf(what, sizeof(what), "GET %s: HTTP %ld", url, resp.status);
		goto out;
	}
	if (marketcap_parse_tickers(resp.body, resp.len, &items, &n, err, sizeof(err)) != 0) {
		snprintf(what, sizeof(what), "%s", err);
		goto out;
	}
	rows = calloc(n > 0 ? n : 1, sizeof(*rows));
	if (rows == NULL) {
		snprintf(what, sizeof(what), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rows[i].ticker = items[i].ticker;
		rows[i].cik = items[i].cik;
	}
	if (figi_cache_tickers_replace(m->cache, rows, n, now) != 0) {
		snprintf(what, sizeof(what), "cannot store the ticker map");
		goto out;
	}
	log_info("SEC data: ticker map loaded (%zu tickers)", n);
	rc = 0;
out:
	if (rc != 0)
		s_pause(m, now_ms, what);
	free(rows);
	free(items);
	http_response_free(&resp);
	return rc;
}

/*
 * The CIK for a trade.  1 and cik, 0 unknown, 2 a request is needed and
 * may_fetch is false.  The map's fetch time is read once per map, not per
 * trade: while the map is fresh (fetched_at <= now < fetched_at +
 * tickers_ttl_s) the time read is reused, and each answer of the map (a
 * CIK or unknown) is memoised until then (figi_cache_cik_of), so a repeated
 * ticker costs no SQLite read.  A stale map that still serves (SEC paused)
 * is read every time.
 */
static int s_cik_for(marketcap_t *m, const char *ticker, const char *issuer_cik, bool may_fetch,
                     int64_t now, int64_t now_ms, char cik[11])
{
	char sec[MARKETCAP_TICKER_MAX + 1];
	int64_t at = 0;
	bool fresh;

	if (issuer_cik != NULL && strlen(issuer_cik) == 10 &&
	    strspn(issuer_cik, "0123456789") == 10 && strcmp(issuer_cik, "0000000000") != 0) {
		memcpy(cik, issuer_cik, 11);
		return 1;
	}
	if (marketcap_sec_ticker(ticker, sec, sizeof(sec)) != 0)
		return 0;
	fresh = m->map_at <= now && now < m->map_until;
	if (!fresh && figi_cache_tickers_fetched_at(m->cache, &at) == 1 && at <= now &&
	    now - at < m->o.tickers_ttl_s) {
		fresh = true;
		m->map_at = at;
		m->map_until = at + m->o.tickers_ttl_s;
	}
	if (!fresh && now_ms >= m->down_until_ms) {
		if (!may_fetch)
			return 2;
		/* On failure an older map, if any, still serves. */
		if (s_fetch_tickers(m, now, now_ms) == 0 && m->o.tickers_ttl_s > 0) {
			fresh = true;
			m->map_at = now;
			m->map_until = now + m->o.tickers_ttl_s;
		}
	}
	return figi_cache_cik_of(m->cache, sec, now, fresh ? m->map_until : 0, cik) == 1 ? 1 : 0;
}

int marketcap_shares(marketcap_t *m, const char *ticker, const char *issuer_cik, bool may_fetch,
                     int64_t now, int64_t now_ms, double *shares)
{
	struct http_response resp;
	char cik[11], url[2048], err[256], what[2400], as_of[11];
	double v;
	int rc;

	*shares = NAN;
	rc = s_cik_for(m, ticker, issuer_cik, may_fetch, now, now_ms, cik);
	if (rc == 2)
		return 0;
	if (rc != 1)
		return 1;
	if (figi_cache_shares_get(m->cache, cik, now, &v) == 1) {
		*shares = v;
		return 1;
	}
	if (now_ms < m->down_until_ms)
		return 1;
	if (!may_fetch)
		return 0;
	snprintf(url, sizeof(url), CONCEPT_FMT, m->data_url, cik);
	if (s_get(m, url, &resp) != 0) {
		s_pause(m, now_ms, resp.error);
		goto out;
	}
	if (resp.status == 404) {
		/* No such concept for this filer (funds, foreign issuers). */
		figi_cache_shares_put(m->cache, cik, NAN, NULL, now, m->o.none_ttl_s);
		goto out;
	}
	if (resp.status != 200) {
		snprintf(what, sizeof(what), "GET %s: HTTP %ld", url, resp.status);
		s_pause(m, now_ms, what);
		goto out;
	}
	rc = marketcap_parse_concept(resp.body, resp.len, &v, as_of, err, sizeof(err));
	if (rc < 0) {
		/* A malformed document costs this issuer's figure for a while,
		 * nothing more. */
		log_warnx_limited(&m->warn_limit, "SEC data: CIK %s: %s", cik, err);
		figi_cache_shares_put(m->cache, cik, NAN, NULL, now, m->o.none_ttl_s);
	} else if (rc == 0) {
		figi_cache_shares_put(m->cache, cik, NAN, NULL, now, m->o.none_ttl_s);
	} else {
		figi_cache_shares_put(m->cache, cik, v, as_of, now, m->o.shares_ttl_s);
		*shares = v;
	}
out:
	http_response_free(&resp);
	return 1;
}
