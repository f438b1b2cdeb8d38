/*
 * http.h - the libcurl wrapper every HTTP client in coattail uses.
 *
 * One http_client_t per remote service.  It sets connect and total timeouts,
 * caps the response size, asks for gzip, sends a User-Agent, limits the
 * request rate per host with a token bucket, and retries connection errors,
 * 429 and 5xx with exponential backoff and jitter, honouring Retry-After.
 * Waits end early when *stop becomes non-zero (SIGTERM), so a stage never
 * hangs in here past its drain time.
 */
#ifndef COATTAIL_HTTP_H
#define COATTAIL_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct http_opts {
	const char *user_agent;      /* required */
	long connect_timeout_ms;     /* default 5000 */
	long timeout_ms;             /* whole request; default 30000 */
	size_t max_bytes;            /* response body cap; default 16 MiB */
	int max_retries;             /* retries after the first try; default 3; < 0: none */
	long backoff_base_ms;        /* first backoff; default 500 */
	long backoff_max_ms;         /* cap of one backoff and of Retry-After; default 60000 */
	double rate_per_s;           /* per host; 0 = unlimited */
	int burst;                   /* bucket size; default 1 */
	volatile sig_atomic_t *stop; /* abort waits when *stop != 0; may be NULL */
	/* false: http_new loads libcurl (curl_load.h) and fails when it can't,
	 * so a stage that cannot speak HTTP stops at start.  true: the first
	 * http_do does, and a failure is that request's (resp->error says
	 * "cannot load libcurl.so.4: ..."), for a client that may never be
	 * needed (the mapper's, while its caches answer). */
	bool load_on_first_request;
};

typedef struct http_client http_client_t;

struct http_request {
	const char *method; /* "GET" (default when NULL), "POST", "DELETE", ... */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL */
	const char *body;           /* may be NULL */
	size_t body_len;
	const char *if_none_match;     /* ETag for a conditional GET, or NULL */
	const char *if_modified_since; /* Last-Modified value, or NULL */
	int max_retries;               /* -1: the client's default; 0: one try only */
};

struct http_response {
	long status; /* HTTP status of the last attempt; 0 when none arrived */
	char *body;  /* NUL-terminated (the NUL not counted in len) */
	size_t len;
	int attempts;    /* tries made */
	char **headers;  /* "name: value" of the last attempt, NULL-terminated */
	char error[256]; /* transport error of the last attempt, "" if none */
};

http_client_t *http_new(const struct http_opts *opts);
void http_free(http_client_t **c);

/*
 * Perform a request, retrying as described above.  Returns 0 when an HTTP
 * response arrived (any status: the caller judges it; after retries, the
 * last one), or -1 when none did (connection refused, timeout, body over
 * max_bytes, stopped), with resp->error saying what happened and where
 * ("GET http://host/path: timed out after 30000 ms").  resp is always
 * initialised; release it with http_response_free().
 */
int http_do(http_client_t *c, const struct http_request *req, struct http_response *resp);
void http_response_free(struct http_response *resp);

/* Value of a response header (case-insensitive name), or NULL. */
const char *http_header(const struct http_response *resp, const char *name);

/* Counters, for logs and tests. */
struct http_stats {
	unsigned long requests; /* attempts sent */
	unsigned long retries;
	unsigned long failures; /* http_do calls that returned -1 */
};
void http_get_stats(const http_client_t *c, struct http_stats *st);

#endif
