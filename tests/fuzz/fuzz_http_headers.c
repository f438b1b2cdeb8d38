/*
 * Fuzz target: what common/http.c keeps of a server's answer, without a
 * network.  The input is played to the real libcurl callbacks
 * (http_priv.h) the way libcurl plays a transfer:
 *
 *   byte 0     the body cap: max_bytes = CAPS[byte & 7]
 *   byte 1     seed of the body's chunk sizes
 *   then       header lines, one callback per line (up to and with its
 *              '\n'); an empty line ends a response's headers, and when the
 *              next line starts with "HTTP/" another response follows (a
 *              redirect, a "100 Continue"); otherwise the rest is the body,
 *              in chunks of 1 to 16 KiB.  When the last response says
 *              "Content-Encoding: gzip" or "deflate", the body is inflated
 *              first and the decoded bytes go to the body callback, 16 KiB
 *              at a time, as libcurl does (so a gzip bomb meets the cap).
 *
 * Each line and chunk is copied into an allocation of its own size, so a
 * read past it is an ASan report.  After every call the kept state must be
 * one http.c can use: at most HTTP_MAX_HEADERS headers holding at most the
 * bytes counted against HTTP_MAX_HEADER_BYTES, each "name: value" with a
 * non-empty name and no CR, LF or NUL; a body that is exactly the bytes
 * accepted, NUL-terminated, never over max_bytes, refused exactly when it
 * would pass it; Retry-After in [-1, 365 days].  A refused call ends the
 * transfer, as in libcurl; then everything is freed (LeakSanitizer).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "curl_load.h"
#include "http_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WRITE  16384 /* CURL_MAX_WRITE_SIZE: libcurl's largest body piece */
#define YEAR_MS    (86400L * 365 * 1000)
#define DIGITS_MAX 18 /* digits strtoll reads without overflow */

static const size_t CAPS[8] = { 1, 7, 100, 4096, 16384, 65536, 1 << 20, 16 << 20 };

/* The body accepted so far, to compare with what the callback kept. */
struct shadow {
	char *p;
	size_t len, cap;
	bool refused; /* the body callback returned short: transfer over */
};

static uint64_t s_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void s_check_retry_after(const char *v)
{
	long ms = http_retry_after_ms(v);
	size_t digits = strspn(v, "0123456789");

	if (ms < -1 || ms > YEAR_MS)
		abort();
	/* A plain delta-seconds value is read exactly, up to the cap. */
	if (digits > 0 && digits <= DIGITS_MAX && v[digits] == '\0') {
		long long s = strtoll(v, NULL, 10);

		if (ms != (s < YEAR_MS / 1000 ? s : YEAR_MS / 1000) * 1000)
			abort();
	}
}

/* The headers kept must fit the caps and be clean "name: value" lines. */
static void s_check_headers(const struct http_xfer *x)
{
	size_t total = 0;

	if (x->nheaders > HTTP_MAX_HEADERS)
		abort();
	if (x->headers == NULL) {
		if (x->nheaders != 0)
			abort();
		return;
	}
	if (x->headers[x->nheaders] != NULL)
		abort();
	for (size_t i = 0; i < x->nheaders; i++) {
		const char *h = x->headers[i];
		size_t len = strlen(h), name = strcspn(h, ":");

		if (name == 0 || name + 1 >= len || h[name + 1] != ' ')
			abort();
		if (strpbrk(h, "\r\n") != NULL)
			abort();
		total += len;
	}
	if (total > x->hbytes + 2 * x->nheaders)
		abort();
	if (x->hbytes > HTTP_MAX_HEADER_BYTES && !x->hdr_overflow)
		abort();
}

/* One header line to the callback, from its own allocation.  false: the
 * callback ended the transfer. */
static bool s_header(struct http_xfer *x, const uint8_t *line, size_t n)
{
	char *copy = malloc(n > 0 ? n : 1);
	size_t rc;

	if (copy == NULL)
		return false;
	memcpy(copy, line, n);
	rc = http_xfer_header(copy, 1, n, x);
	free(copy);
	if (rc != n && rc != 0)
		abort();
	if (rc == 0 && !x->hdr_overflow && !x->nomem)
		abort();
	s_check_headers(x);
	if (rc == n && x->nheaders > 0 &&
	    strncasecmp(x->headers[x->nheaders - 1], "Retry-After: ", 13) == 0)
		s_check_retry_after(x->headers[x->nheaders - 1] + 13);
	return rc == n;
}

/* One body piece to the callback.  false: it ended the transfer. */
static bool s_body(struct http_xfer *x, struct shadow *sh, const void *piece, size_t n)
{
	char *copy = malloc(n > 0 ? n : 1);
	size_t rc;

	if (copy == NULL)
		return false;
	memcpy(copy, piece, n);
	rc = http_xfer_body(copy, 1, n, x);
	if (rc == n) {
		if (sh->len + n > x->max_bytes)
			abort(); /* over the cap, yet accepted */
		if (sh->len + n > sh->cap) {
			size_t cap = sh->cap ? sh->cap : 4096;
			char *p;

			while (cap < sh->len + n)
				cap *= 2;
			p = realloc(sh->p, cap);
			if (p == NULL) {
				free(copy);
				return false;
			}
			sh->p = p;
			sh->cap = cap;
		}
		if (n > 0)
			memcpy(sh->p + sh->len, copy, n);
		sh->len += n;
	} else if (rc != 0 || (!x->nomem && (!x->too_large || sh->len + n <= x->max_bytes))) {
		abort(); /* refused without reason */
	}
	free(copy);
	if (x->len != sh->len || x->len > x->max_bytes)
		abort();
	if (x->body == NULL
	        ? x->len != 0
	        : (x->body[x->len] != '\0' || (x->len > 0 && memcmp(x->body, sh->p, x->len) != 0)))
		abort();
	if (rc != n)
		sh->refused = true;
	return rc == n;
}

/* The body as libcurl hands it over: raw in chunks of varying size. */
static void s_raw_body(struct http_xfer *x, struct shadow *sh, const uint8_t *p, size_t n,
                       uint64_t seed)
{
	while (n > 0) {
		uint64_t r = s_next(&seed);
		size_t k = (r & 1) ? 1 + (size_t)(r >> 8) % 64 : 1 + (size_t)(r >> 8) % MAX_WRITE;

		if (k > n)
			k = n;
		if (!s_body(x, sh, p, k))
			return;
		p += k;
		n -= k;
	}
	/* libcurl may end with an empty write. */
	(void)s_body(x, sh, p, 0);
}

/* The body decoded (gzip or zlib/raw deflate), 16 KiB of output at a time;
 * a stream zlib refuses ends the transfer there, as libcurl's would. */
static void s_inflated_body(struct http_xfer *x, struct shadow *sh, const uint8_t *p, size_t n,
                            bool gzip)
{
	z_stream z;
	unsigned char *out = malloc(MAX_WRITE);
	int rc;

	if (out == NULL)
		return;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
		free(out);
		return;
	}
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)(n < UINT32_MAX ? n : UINT32_MAX);
	do {
		z.next_out = out;
		z.avail_out = MAX_WRITE;
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			break;
		if (MAX_WRITE - z.avail_out > 0 && !s_body(x, sh, out, MAX_WRITE - z.avail_out))
			break;
	} while (rc == Z_OK);
	inflateEnd(&z);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool loaded;
	struct http_xfer x;
	struct shadow sh = { 0 };
	struct http_response view;
	const uint8_t *p, *end = data + size;
	const char *enc, *ra;
	uint64_t seed;
	bool in_headers = true;

	if (!loaded) {
		char err[256];

		if (curl_load(err, sizeof(err)) != 0)
			abort(); /* curl_getdate, for Retry-After dates */
		loaded = true;
	}
	if (size < 2)
		return 0;
	memset(&x, 0, sizeof(x));
	x.max_bytes = CAPS[data[0] & 7];
	seed = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)data[0] << 8) ^ data[1];
	p = data + 2;

	/* Header blocks, one line per call. */
	while (in_headers && p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		bool blank = n == 1 || (n == 2 && p[0] == '\r');

		if (!s_header(&x, p, n))
			goto out;
		p += n;
		if (blank && !(end - p >= 5 && memcmp(p, "HTTP/", 5) == 0))
			in_headers = false;
	}

	/* What the caller reads from the last response. */
	memset(&view, 0, sizeof(view));
	view.headers = x.headers;
	ra = http_header(&view, "Retry-After");
	if (ra != NULL)
		s_check_retry_after(ra);
	enc = http_header(&view, "Content-Encoding");

	/* The body. */
	if (enc != NULL && (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0))
		s_inflated_body(&x, &sh, p, (size_t)(end - p), true);
	else if (enc != NULL && strcasecmp(enc, "deflate") == 0)
		s_inflated_body(&x, &sh, p, (size_t)(end - p), false);
	else
		s_raw_body(&x, &sh, p, (size_t)(end - p), seed);
	if (sh.refused != (x.too_large || x.nomem))
		abort();
out:
	http_xfer_free(&x);
	if (x.body != NULL || x.headers != NULL || x.len != 0)
		abort();
	free(sh.p);
	return 0;
}
