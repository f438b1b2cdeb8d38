/*
 * http.c - the libcurl wrapper every HTTP client uses (see http.h).
 *
 * One easy handle per client, reset (not recreated) before each request:
 * curl_easy_reset keeps the live connections, so consecutive requests to the
 * same host reuse one keep-alive connection.  A client is used by one thread
 * at a time.
 *
 * What comes back from a server is outside input: the body is capped while it
 * arrives (after gzip decoding, so a small compressed bomb cannot grow past
 * max_bytes), the response headers are capped too, and only http and https
 * are spoken, redirects included.
 */
#include "http.h"
#include "http_priv.h"
#include "curl_load.h" /* libcurl by its own names, loaded on first use */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HTTP_DEF_CONNECT_MS  5000L
#define HTTP_DEF_TIMEOUT_MS  30000L
#define HTTP_DEF_MAX_BYTES   ((size_t)16 * 1024 * 1024)
#define HTTP_DEF_RETRIES     3
#define HTTP_DEF_BACKOFF_MS  500L
#define HTTP_DEF_BACKOFF_MAX 60000L
#define HTTP_MAX_REDIRS      5L
#define HTTP_SLEEP_SLICE_MS  50L
#define HTTP_URL_SHOWN       160 /* longest URL quoted in an error */

/* The token bucket of one host. */
struct s_bucket {
	char *host;    /* lower-case host name */
	double tokens; /* requests that may start now (fractional) */
	double last;   /* monotonic seconds of the last refill */
	struct s_bucket *next;
};

struct http_client {
	struct http_opts opts;    /* with defaults filled in */
	char *user_agent;         /* our copy; opts.user_agent points here */
	CURL *curl;               /* reused: its connection cache is the keep-alive */
	struct s_bucket *buckets; /* one per host seen, for the rate limit */
	struct http_stats stats;
	uint64_t rng; /* xorshift state for the backoff jitter */
};

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool s_stopped(const struct http_client *c)
{
	return c->opts.stop != NULL && *c->opts.stop != 0;
}

/*
 * Sleep ms milliseconds in slices of HTTP_SLEEP_SLICE_MS so that *stop ends
 * the wait within one slice.  Returns 0 after the full wait, -1 when stopped.
 */
static int s_sleep_ms(const struct http_client *c, long ms)
{
	double end = s_now() + (double)ms / 1000.0;

	for (;;) {
		double left;
		long slice;
		struct timespec ts;

		if (s_stopped(c))
			return -1;
		left = (end - s_now()) * 1000.0;
		if (left <= 0)
			return 0;
		slice = left < HTTP_SLEEP_SLICE_MS ? (long)left + 1 : HTTP_SLEEP_SLICE_MS;
		ts.tv_sec = slice / 1000;
		ts.tv_nsec = (slice % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
}

static uint64_t s_rand(struct http_client *c)
{
	uint64_t x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static bool s_has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* ---- URLs in error messages --------------------------------------------- */

/* A query parameter whose value must not reach a log (an API key in a URL). */
static bool s_secret_param(const char *name, size_t len)
{
	static const char *const words[] = { "key", "token", "secret",  "passw",
		                             "sig", "auth",  "session", "credential" };
	char buf[64];

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(buf, words[i]) != NULL)
			return true;
	return false;
}

static void s_put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	while (n-- > 0 && *o + 1 < outlen)
		out[(*o)++] = *s++;
	out[*o] = '\0';
}

/*
 * The URL as quoted in error messages: without user:password@, with the
 * values of secret-looking query parameters replaced, control characters
 * replaced, and cut to HTTP_URL_SHOWN characters so that what happened still
 * fits in http_response.error.
 */
static void s_url_shown(const char *url, char *out, size_t outlen)
{
	char buf[1024];
	size_t o = 0;
	const char *auth, *p, *q;
	size_t alen;

	buf[0] = '\0';
	p = strstr(url, "://");
	auth = p != NULL ? p + 3 : url;
	alen = strcspn(auth, "/?#");
	s_put(buf, sizeof(buf), &o, url, (size_t)(auth - url));
	p = memrchr(auth, '@', alen);
	if (p != NULL) {
		alen -= (size_t)(p + 1 - auth);
		auth = p + 1;
	}
	s_put(buf, sizeof(buf), &o, auth, alen);
	p = auth + alen;
	q = strchr(p, '?');
	if (q == NULL) {
		s_put(buf, sizeof(buf), &o, p, strlen(p));
	} else {
		s_put(buf, sizeof(buf), &o, p, (size_t)(q - p) + 1);
		p = q + 1;
		while (*p != '\0' && *p != '#') {
			size_t plen = strcspn(p, "&#");
			const char *eq = memchr(p, '=', plen);

			if (eq != NULL && s_secret_param(p, (size_t)(eq - p))) {
				s_put(buf, sizeof(buf), &o, p, (size_t)(eq - p) + 1);
				s_put(buf, sizeof(buf), &o, "REDACTED", 8);
			} else {
				s_put(buf, sizeof(buf), &o, p, plen);
			}
			p += plen;
			if (*p == '&')
				s_put(buf, sizeof(buf), &o, p++, 1);
		}
		s_put(buf, sizeof(buf), &o, p, strlen(p));
	}
	for (char *s = buf; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	if (strlen(buf) > HTTP_URL_SHOWN)
		snprintf(out, outlen, "%.*s...", HTTP_URL_SHOWN, buf);
	else
		snprintf(out, outlen, "%s", buf);
}

/* resp->error = "METHOD URL: what happened". */
static void s_fail(struct http_response *resp, const char *method, const char *url_shown,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void s_fail(struct http_response *resp, const char *method, const char *url_shown,
                   const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(resp->error, sizeof(resp->error), "%s %s: %s", method, url_shown, what);
}

/* ---- client ------------------------------------------------------------- */

http_client_t *http_new(const struct http_opts *opts)
{
	struct http_client *c;
	char err[512];

	if (opts == NULL || opts->user_agent == NULL || opts->user_agent[0] == '\0' ||
	    s_has_crlf(opts->user_agent)) {
		log_warnx("http: a client needs a one-line User-Agent");
		return NULL;
	}
	/* libcurl is loaded (and globally initialised) with the process's
	 * first client, or its first request (s_attach), never cleaned up:
	 * clients may come and go on several threads. */
	if (!opts->load_on_first_request && curl_load(err, sizeof(err)) < 0) {
		log_warnx("http: %s", err);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->opts = *opts;
	c->user_agent = strdup(opts->user_agent);
	if (!opts->load_on_first_request)
		c->curl = curl_easy_init();
	if (c->user_agent == NULL || (!opts->load_on_first_request && c->curl == NULL)) {
		log_warnx("http: cannot create a client (out of memory)");
		http_free(&c);
		return NULL;
	}
	c->opts.user_agent = c->user_agent;
	/* A zeroed field means "the default", so `{ .user_agent = ua }` works. */
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = HTTP_DEF_CONNECT_MS;
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = HTTP_DEF_TIMEOUT_MS;
	if (c->opts.max_bytes == 0)
		c->opts.max_bytes = HTTP_DEF_MAX_BYTES;
	if (c->opts.max_retries == 0)
		c->opts.max_retries = HTTP_DEF_RETRIES;
	else if (c->opts.max_retries < 0)
		c->opts.max_retries = 0;
	if (c->opts.backoff_base_ms <= 0)
		c->opts.backoff_base_ms = HTTP_DEF_BACKOFF_MS;
	if (c->opts.backoff_max_ms <= 0)
		c->opts.backoff_max_ms = HTTP_DEF_BACKOFF_MAX;
	if (c->opts.backoff_base_ms > c->opts.backoff_max_ms)
		c->opts.backoff_base_ms = c->opts.backoff_max_ms;
	if (c->opts.rate_per_s < 0)
		c->opts.rate_per_s = 0;
	if (c->opts.burst <= 0)
		c->opts.burst = 1;
	c->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9E3779B97F4A7C15ULL;
	return c;
}

void http_free(http_client_t **cp)
{
	struct http_client *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	while (c->buckets != NULL) {
		struct s_bucket *b = c->buckets;

		c->buckets = b->next;
		free(b->host);
		free(b);
	}
	free(c->user_agent);
	free(c);
	*cp = NULL;
}

void http_get_stats(const http_client_t *c, struct http_stats *st)
{
	if (st == NULL)
		return;
	if (c == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = c->stats;
}

/* ---- rate limit --------------------------------------------------------- */

/* The lower-case host of url, or "" when it does not parse (libcurl will then
 * refuse the URL itself); NULL only when out of memory. */
static char *s_url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *res;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		res = strdup(host);
		curl_free(host);
	} else {
		res = strdup("");
	}
	curl_url_cleanup(u);
	for (char *p = res; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return res;
}

/*
 * Take one token from the bucket of url's host, sleeping until one is there:
 * the bucket holds at most `burst` tokens and gains rate_per_s per second.
 * Returns 0, or -1 when *stop ended the wait.
 */
static int s_rate_wait(struct http_client *c, const char *url)
{
	struct s_bucket *b;
	char *host;
	double now;

	if (c->opts.rate_per_s <= 0)
		return 0;
	host = s_url_host(url);
	if (host == NULL)
		return 0; /* out of memory: the transfer will fail anyway */
	for (b = c->buckets; b != NULL; b = b->next)
		if (strcmp(b->host, host) == 0)
			break;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL) {
			free(host);
			return 0;
		}
		b->host = host;
		b->tokens = c->opts.burst;
		b->last = s_now();
		b->next = c->buckets;
		c->buckets = b;
	} else {
		free(host);
	}
	for (;;) {
		now = s_now();
		b->tokens += (now - b->last) * c->opts.rate_per_s;
		if (b->tokens > c->opts.burst)
			b->tokens = c->opts.burst;
		b->last = now;
		if (b->tokens >= 1.0 - 1e-9)
			break;
		if (s_sleep_ms(c, (long)((1.0 - b->tokens) / c->opts.rate_per_s * 1000.0) + 1) < 0)
			return -1;
	}
	b->tokens -= 1.0;
	return 0;
}

/* ---- one attempt -------------------------------------------------------- */

/* The value of the first header called name (any case) in a NULL-terminated
 * "name: value" array, or NULL. */
static const char *s_find_header(char *const *headers, const char *name)
{
	size_t nlen;

	if (headers == NULL || name == NULL)
		return NULL;
	nlen = strlen(name);
	for (size_t i = 0; headers[i] != NULL; i++)
		if (strncasecmp(headers[i], name, nlen) == 0 && headers[i][nlen] == ':')
			return headers[i] + nlen + 2;
	return NULL;
}

/* Drop the headers kept (a new response starts). */
static void s_headers_clear(struct http_xfer *x)
{
	for (size_t i = 0; i < x->nheaders; i++)
		free(x->headers[i]);
	x->nheaders = 0;
	x->hbytes = 0;
	x->last_len = x->last_cap = 0;
	if (x->headers != NULL)
		x->headers[0] = NULL;
}

void http_xfer_free(struct http_xfer *x)
{
	const struct http_client *c = x->c;
	size_t max_bytes = x->max_bytes;

	s_headers_clear(x);
	free(x->headers);
	free(x->body);
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->max_bytes = max_bytes;
}

/*
 * A piece of the decoded body: appended while the body stays within
 * max_bytes (the buffer doubling, but never past max_bytes + 1), else the
 * transfer is aborted with too_large set and nothing of the piece kept.
 */
size_t http_xfer_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;
	size_t max = x->max_bytes;

	if (n > max - x->len) {
		x->too_large = true;
		return 0; /* anything but n aborts the transfer */
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap < 4096 ? 4096 : x->cap;
		char *p;

		while (cap < x->len + n + 1)
			cap = cap > max / 2 ? max + 1 : cap * 2;
		p = realloc(x->body, cap);
		if (p == NULL) {
			x->nomem = true;
			return 0;
		}
		x->body = p;
		x->cap = cap;
	}
	if (n > 0)
		memcpy(x->body + x->len, data, n);
	x->len += n;
	x->body[x->len] = '\0';
	return n;
}

static bool s_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy n bytes of a header line, each CR, LF or NUL as a space: RFC 9110
 * 5.5 lets a recipient replace them, and a value holding one must not reach
 * a caller who may send it back (an ETag as If-None-Match would make every
 * later request fail). */
static void s_copy_clean(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] == '\r' || src[i] == '\n' || src[i] == '\0') ? ' ' : src[i];
}

/*
 * A continuation line (obsolete line folding): its text, blanks trimmed,
 * joins the last header after one space.  The last header's length and
 * allocation are tracked and grow by doubling, so a header folded over
 * thousands of lines costs linear time.  A continuation with no header
 * before it in the response is ignored (RFC 9112 5.2).  0, or -1 when out
 * of memory.
 */
static int s_fold(struct http_xfer *x, const char *data, size_t len)
{
	char *line;
	size_t need;
	bool sep;

	while (len > 0 && s_blank(*data))
		data++, len--;
	while (len > 0 && s_blank(data[len - 1]))
		len--;
	if (x->nheaders == 0 || len == 0)
		return 0;
	line = x->headers[x->nheaders - 1];
	sep = line[x->last_len - 1] != ' '; /* an empty value ends in ": " */
	need = x->last_len + (sep ? 1 : 0) + len + 1;
	if (need > x->last_cap) {
		size_t cap = x->last_cap * 2 > need ? x->last_cap * 2 : need;

		line = realloc(line, cap);
		if (line == NULL) {
			x->nomem = true;
			return -1;
		}
		x->headers[x->nheaders - 1] = line;
		x->last_cap = cap;
	}
	if (sep)
		line[x->last_len++] = ' ';
	s_copy_clean(line + x->last_len, data, len);
	x->last_len += len;
	line[x->last_len] = '\0';
	return 0;
}

/*
 * A header line "name: value" kept as exactly that, the blanks around name
 * and value trimmed.  A line without a colon or without a name is ignored.
 * 0, or -1 when out of memory.
 */
static int s_add_header(struct http_xfer *x, const char *data, size_t len)
{
	const char *colon = memchr(data, ':', len), *v;
	size_t nlen, vlen;
	char *line;

	if (colon == NULL)
		return 0;
	nlen = (size_t)(colon - data);
	while (nlen > 0 && s_blank(data[nlen - 1]))
		nlen--;
	if (nlen == 0)
		return 0;
	v = colon + 1;
	vlen = len - (size_t)(v - data);
	while (vlen > 0 && s_blank(*v))
		v++, vlen--;
	while (vlen > 0 && s_blank(v[vlen - 1]))
		vlen--;
	if (x->nheaders + 2 > x->hcap) {
		size_t cap = x->hcap == 0 ? 16 : x->hcap * 2;
		char **p = realloc(x->headers, cap * sizeof(*p));

		if (p == NULL) {
			x->nomem = true;
			return -1;
		}
		x->headers = p;
		x->hcap = cap;
	}
	line = malloc(nlen + 2 + vlen + 1);
	if (line == NULL) {
		x->nomem = true;
		return -1;
	}
	s_copy_clean(line, data, nlen);
	memcpy(line + nlen, ": ", 2);
	s_copy_clean(line + nlen + 2, v, vlen);
	line[nlen + 2 + vlen] = '\0';
	x->headers[x->nheaders++] = line;
	x->headers[x->nheaders] = NULL;
	x->last_len = nlen + 2 + vlen;
	x->last_cap = x->last_len + 1;
	return 0;
}

/*
 * One header line, as libcurl hands it over: every line of every response,
 * those of redirects and of "100 Continue" included, each with its line end,
 * and an empty line after each response's headers.  The first line of a
 * block that starts with "HTTP/" is a status line: a new response, whose
 * headers replace those kept, so what is kept at the end is the last
 * response's (a header line that merely starts with "HTTP/" changes
 * nothing).  Past HTTP_MAX_HEADER_BYTES (counted as received, without line
 * ends) or HTTP_MAX_HEADERS in one response the transfer is aborted, with
 * hdr_overflow set.
 */
size_t http_xfer_header(char *data, size_t size, size_t nitems, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nitems, len = n;
	bool first;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0) {
		x->in_block = false; /* the end of a response's headers */
		return n;
	}
	first = !x->in_block;
	x->in_block = true;
	if (first && len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		s_headers_clear(x);
		return n;
	}
	x->hbytes += len;
	if (x->hbytes > HTTP_MAX_HEADER_BYTES || x->nheaders >= HTTP_MAX_HEADERS) {
		x->hdr_overflow = true;
		return 0;
	}
	if (s_blank(data[0]))
		return s_fold(x, data, len) == 0 ? n : 0;
	return s_add_header(x, data, len) == 0 ? n : 0;
}

/* Called by libcurl during the transfer (at least about once a second even
 * when nothing moves): non-zero aborts it, which is how *stop cuts a
 * request short. */
static int s_xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
	struct http_xfer *x = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (x->c != NULL && s_stopped(x->c)) {
		x->stopped = true;
		return 1;
	}
	return 0;
}

/*
 * Set every option of one request on the (reset) handle.  Returns 0, or -1
 * when libcurl refused an option (then the request cannot be made as asked).
 */
static int s_setup(struct http_client *c, const struct http_request *req, const char *method,
                   struct curl_slist *hdrs, struct http_xfer *x, char *errbuf)
{
	CURL *h = c->curl;
	/* Content-Length counts compressed bytes: leave room for gzip's few
	 * bytes of overhead on an incompressible body, the write callback
	 * enforces the exact cap on the decoded body anyway. */
	curl_off_t maxfile = (curl_off_t)(c->opts.max_bytes + c->opts.max_bytes / 64 + 1024);
	bool bad = false;

	curl_easy_reset(h);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_URL, req->url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |=
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, c->opts.user_agent) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, maxfile) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
	                        (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK;
#endif
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRS) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_xfer_body) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_xfer_header) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, s_xferinfo_cb) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
	if (hdrs != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;

	if (strcmp(method, "GET") == 0 && req->body == NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	} else if (strcmp(method, "HEAD") == 0) {
		bad |= curl_easy_setopt(h, CURLOPT_NOBODY, 1L) != CURLE_OK;
	} else {
		if (strcmp(method, "POST") != 0)
			bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
		if (req->body != NULL || strcmp(method, "POST") == 0) {
			bad |= curl_easy_setopt(
			           h, CURLOPT_POSTFIELDSIZE_LARGE,
			           (curl_off_t)(req->body != NULL ? req->body_len : 0)) != CURLE_OK;
			bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS,
			                        req->body != NULL ? req->body : "") != CURLE_OK;
		}
	}
	return bad ? -1 : 0;
}

/* The request headers: the caller's, the conditional ones, and an empty
 * "Expect:" so that a POST body goes out at once instead of after a
 * "100 Continue" that many APIs never send.  -1 on a line break in a
 * header (header injection) or out of memory, with *why set. */
static int s_build_headers(const struct http_request *req, struct curl_slist **out,
                           const char **why)
{
	struct curl_slist *l = NULL, *t;
	char buf[1024];

	*out = NULL;
	for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		if (s_has_crlf(req->headers[i])) {
			*why = "a request header contains a line break";
			goto fail;
		}
		if ((t = curl_slist_append(l, req->headers[i])) == NULL)
			goto nomem;
		l = t;
	}
	if (req->if_none_match != NULL) {
		if (s_has_crlf(req->if_none_match) ||
		    (size_t)snprintf(buf, sizeof(buf), "If-None-Match: %s", req->if_none_match) >=
		        sizeof(buf)) {
			*why = "bad If-None-Match value";
			goto fail;
		}
		if ((t = curl_slist_append(l, buf)) == NULL)
			goto nomem;
		l = t;
	}
	if (req->if_modified_since != NULL) {
		if (s_has_crlf(req->if_modified_since) ||
		    (size_t)snprintf(buf, sizeof(buf), "If-Modified-Since: %s",
		                     req->if_modified_since) >= sizeof(buf)) {
			*why = "bad If-Modified-Since value";
			goto fail;
		}
		if ((t = curl_slist_append(l, buf)) == NULL)
			goto nomem;
		l = t;
	}
	if (req->body != NULL) {
		if ((t = curl_slist_append(l, "Expect:")) == NULL)
			goto nomem;
		l = t;
	}
	*out = l;
	return 0;
nomem:
	*why = "out of memory";
fail:
	curl_slist_free_all(l);
	return -1;
}

/* Transport errors worth another try: the network or the server hiccuped.
 * Refused URLs, protocols, certificates and our own aborts are not. */
static bool s_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* See http_priv.h.  The cap also keeps the milliseconds within a 32-bit
 * long. */
long http_retry_after_ms(const char *v)
{
	const long long cap = 86400LL * 365 < LONG_MAX / 1000 ? 86400LL * 365 : LONG_MAX / 1000;
	long long secs;

	if (v == NULL)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		char *end;

		errno = 0;
		secs = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0')
			return -1;
		if (errno == ERANGE)
			secs = cap;
	} else {
		time_t t = curl_getdate(v, NULL);

		if (t == (time_t)-1)
			return -1;
		secs = (long long)t - (long long)time(NULL);
		if (secs < 0)
			secs = 0;
	}
	return (long)(secs < cap ? secs : cap) * 1000;
}

/* The wait before retry number n+1 (n from 0): Retry-After when the server
 * gave one, else base*2^n, each capped at backoff_max_ms; the exponential
 * wait gets 0..50% random jitter so that clients spread out. */
static long s_backoff_ms(struct http_client *c, int n, long retry_after_ms)
{
	long d = c->opts.backoff_base_ms;

	if (retry_after_ms >= 0)
		return retry_after_ms < c->opts.backoff_max_ms ? retry_after_ms
		                                               : c->opts.backoff_max_ms;
	for (int i = 0; i < n && d < c->opts.backoff_max_ms; i++)
		d = d > c->opts.backoff_max_ms / 2 ? c->opts.backoff_max_ms : d * 2;
	if (d > c->opts.backoff_max_ms)
		d = c->opts.backoff_max_ms;
	return d + (long)(s_rand(c) % (uint64_t)(d / 2 + 1));
}

/* Describe a failed transfer into resp->error. */
static void s_describe(struct http_client *c, const struct http_xfer *x, CURLcode rc,
                       const char *errbuf, const char *method, const char *shown,
                       struct http_response *resp)
{
	if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		s_fail(resp, method, shown, "response larger than %zu bytes", c->opts.max_bytes);
	else if (x->hdr_overflow)
		s_fail(resp, method, shown, "response headers larger than %d bytes or %d lines",
		       HTTP_MAX_HEADER_BYTES, HTTP_MAX_HEADERS);
	else if (x->nomem || rc == CURLE_OUT_OF_MEMORY)
		s_fail(resp, method, shown, "out of memory");
	else if (x->stopped || rc == CURLE_ABORTED_BY_CALLBACK)
		s_fail(resp, method, shown, "stopped");
	else if (rc == CURLE_OPERATION_TIMEDOUT && strncmp(errbuf, "Operation", 9) != 0)
		s_fail(resp, method, shown, "connect timed out after %ld ms",
		       c->opts.connect_timeout_ms < c->opts.timeout_ms ? c->opts.connect_timeout_ms
		                                                       : c->opts.timeout_ms);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		s_fail(resp, method, shown, "timed out after %ld ms", c->opts.timeout_ms);
	else if (rc == CURLE_TOO_MANY_REDIRECTS)
		s_fail(resp, method, shown, "more than %ld redirects", HTTP_MAX_REDIRS);
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		s_fail(resp, method, shown, "only http and https are allowed (%s)",
		       errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	else
		s_fail(resp, method, shown, "%s",
		       errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
}

/* ---- the request loop --------------------------------------------------- */

/*
 * See http.h.  On 0, resp->body is never NULL (an empty body is "") and
 * resp->headers is a NULL-terminated array (maybe empty).  On -1 there is no
 * body; status and headers are those of a response that arrived but was
 * refused (too large), else 0 / NULL.
 */
/*
 * The easy handle of a client made with load_on_first_request, created (and
 * libcurl loaded) by its first request.  0, or -1 with why in err.
 */
static int s_attach(struct http_client *c, char *err, size_t errlen)
{
	if (c->curl != NULL)
		return 0;
	if (curl_load(err, errlen) < 0)
		return -1;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		snprintf(err, errlen, "cannot create a libcurl handle (out of memory)");
		return -1;
	}
	return 0;
}

int http_do(http_client_t *c, const struct http_request *req, struct http_response *resp)
{
	const char *method, *why = NULL;
	char shown[HTTP_URL_SHOWN + 8];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	struct http_xfer x;
	CURLcode rc = CURLE_OK;
	int retries;

	if (resp == NULL)
		return -1;
	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	if (c == NULL || req == NULL || req->url == NULL) {
		snprintf(resp->error, sizeof(resp->error), "http_do: no client or no URL");
		return -1;
	}
	method = req->method != NULL ? req->method : "GET";
	s_url_shown(req->url, shown, sizeof(shown));
	if (c->curl == NULL) {
		char lerr[512];

		if (s_attach(c, lerr, sizeof(lerr)) < 0) {
			s_fail(resp, method, shown, "%s", lerr);
			goto failed;
		}
	}
	if (method[0] == '\0' || strlen(method) > 32 ||
	    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method)) {
		s_fail(resp, "?", shown, "bad HTTP method");
		goto failed;
	}
	if (s_build_headers(req, &hdrs, &why) < 0) {
		s_fail(resp, method, shown, "%s", why);
		goto failed;
	}
	retries = req->max_retries < 0 ? c->opts.max_retries : req->max_retries;
	x.c = c;
	x.max_bytes = c->opts.max_bytes;

	for (int n = 0;; n++) {
		long ra = -1, status = 0;
		bool again;

		if (s_stopped(c) || s_rate_wait(c, req->url) < 0) {
			s_fail(resp, method, shown, "stopped after %d attempts", resp->attempts);
			goto failed;
		}
		http_xfer_free(&x);
		errbuf[0] = '\0';
		if (s_setup(c, req, method, hdrs, &x, errbuf) < 0) {
			s_fail(resp, method, shown, "libcurl refused an option");
			goto failed;
		}
		rc = curl_easy_perform(c->curl);
		resp->attempts++;
		c->stats.requests++;
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
		resp->status = status;
		if (rc == CURLE_OK) {
			again = status == 429 || (status >= 500 && status <= 599);
			if (again)
				ra = http_retry_after_ms(s_find_header(x.headers, "Retry-After"));
		} else {
			again = s_retryable(rc) && !x.too_large && !x.stopped && !x.nomem &&
			        !x.hdr_overflow;
		}
		if (!again || n >= retries)
			break;
		{
			long wait = s_backoff_ms(c, n, ra);

			if (rc == CURLE_OK)
				log_debug("http: %s %s: status %ld, retry %d of %d in %ld ms",
				          method, shown, status, n + 1, retries, wait);
			else
				log_debug("http: %s %s: %s, retry %d of %d in %ld ms", method,
				          shown,
				          errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc),
				          n + 1, retries, wait);
			c->stats.retries++;
			if (s_sleep_ms(c, wait) < 0) {
				s_fail(resp, method, shown, "stopped after %d attempts",
				       resp->attempts);
				goto failed;
			}
		}
	}

	if (rc != CURLE_OK) {
		s_describe(c, &x, rc, errbuf, method, shown, resp);
		if (resp->attempts > 1) {
			size_t l = strlen(resp->error);

			snprintf(resp->error + l, sizeof(resp->error) - l, " (after %d attempts)",
			         resp->attempts);
		}
		goto failed;
	}
	if (x.body == NULL && (x.body = calloc(1, 1)) == NULL) {
		s_fail(resp, method, shown, "out of memory");
		goto failed;
	}
	if (x.headers == NULL && (x.headers = calloc(1, sizeof(char *))) == NULL) {
		s_fail(resp, method, shown, "out of memory");
		goto failed;
	}
	resp->body = x.body;
	resp->len = x.len;
	resp->headers = x.headers;
	curl_slist_free_all(hdrs);
	return 0;

failed:
	/* A response refused for its size keeps its status and headers (they
	 * say what was sent); otherwise none arrived on the last attempt. */
	if (x.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		resp->headers = x.headers;
		x.headers = NULL;
		x.nheaders = 0;
	} else {
		resp->status = 0;
	}
	http_xfer_free(&x);
	curl_slist_free_all(hdrs);
	c->stats.failures++;
	return -1;
}

void http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	for (size_t i = 0; resp->headers != NULL && resp->headers[i] != NULL; i++)
		free(resp->headers[i]);
	free(resp->headers);
	resp->body = NULL;
	resp->headers = NULL;
	resp->len = 0;
}

const char *http_header(const struct http_response *resp, const char *name)
{
	return resp != NULL ? s_find_header(resp->headers, name) : NULL;
}
