/*
 * http_priv.h - what common/http.c does with the bytes a server sends,
 * reachable without a transfer: the libcurl header and body callbacks of one
 * attempt and the Retry-After reader.  Nothing but http.c, its unit tests
 * and its fuzz target (tests/fuzz/fuzz_http_headers.c) includes this.
 *
 * libcurl calls http_xfer_header once per header line (status lines of
 * redirects and of "100 Continue" included, each line with its CRLF) and
 * http_xfer_body with pieces of the decoded body; a return value other than
 * the size given aborts the transfer.
 */
#ifndef COATTAIL_HTTP_PRIV_H
#define COATTAIL_HTTP_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* Response headers kept per response (bytes of name and value as received,
 * and lines); past either the transfer is aborted. */
#define HTTP_MAX_HEADER_BYTES (256 * 1024)
#define HTTP_MAX_HEADERS      500

/* One attempt's response, filled by the callbacks.  Zero it, set max_bytes
 * (and c, for the transfer's *stop), pass it as the callbacks' argument;
 * http_xfer_free releases what they kept. */
struct http_xfer {
	const struct http_client *c; /* whose *stop ends the transfer; may be NULL */
	size_t max_bytes;            /* body cap, after decoding */
	char *body;                  /* decoded body so far, NUL-terminated when non-NULL */
	size_t len, cap;
	char **headers; /* "name: value" of the current response, NULL-terminated */
	size_t nheaders, hcap;
	size_t hbytes;     /* header bytes of the current response */
	size_t last_len;   /* strlen(headers[nheaders - 1]) (folding appends to it) */
	size_t last_cap;   /* its allocation */
	bool in_block;     /* inside a header block (after its first line) */
	bool too_large;    /* body passed max_bytes */
	bool hdr_overflow; /* headers passed HTTP_MAX_HEADER_BYTES / _HEADERS */
	bool nomem;
	bool stopped; /* *stop seen during the transfer */
};

/* libcurl's CURLOPT_HEADERFUNCTION and CURLOPT_WRITEFUNCTION; arg is the
 * struct http_xfer. */
size_t http_xfer_header(char *data, size_t size, size_t nitems, void *arg);
size_t http_xfer_body(char *data, size_t size, size_t nmemb, void *arg);

/* Free the body and headers kept, ready for another attempt (max_bytes and
 * c stay; the flags are the caller's to reset). */
void http_xfer_free(struct http_xfer *x);

/*
 * A Retry-After value in milliseconds: delta-seconds or an HTTP-date (RFC
 * 9110 10.2.3), a date in the past 0, either capped at 365 days; -1 when v
 * is NULL or not one of those.  Dates need libcurl loaded (curl_load.h).
 */
long http_retry_after_ms(const char *v);

#endif
