/*
 * httpd.h - a tiny scripted HTTP/1.1 server for unit tests.
 *
 * It listens on 127.0.0.1 on an ephemeral port, in threads of the test
 * process, and answers each request with the next canned response the test
 * queued (httpd_push), else with what the test's handler says
 * (httpd_set_handler), else with "500 no scripted response".  Every request
 * is recorded (method, target, headers, body, connection number) so a test
 * can assert on what its client sent.
 *
 *	struct httpd *h = httpd_start();
 *	httpd_push(h, &(struct httpd_response){ .status = 503 });
 *	httpd_push(h, &(struct httpd_response){ .body = "hello",
 *						 .headers = "ETag: \"v1\"" });
 *	... client GETs httpd_url(h, "/x") ...
 *	assert_int_equal(httpd_request_count(h), 2);
 *	assert_string_equal(httpd_request(h, 1)->path, "/x");
 *	httpd_stop(&h);
 *
 * Keep-alive is supported (each connection has its own thread), as are
 * Content-Length request bodies and "Expect: 100-continue"; chunked request
 * bodies are not (answered 501).  httpd_start() unsets the proxy environment
 * variables (http_proxy, ALL_PROXY, ...) so that libcurl talks to it
 * directly.
 */
#ifndef COATTAIL_TEST_HTTPD_H
#define COATTAIL_TEST_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

/* One scripted answer.  All pointers are copied by httpd_push (and used
 * before a handler's next call), so temporaries are fine. */
struct httpd_response {
	int status;          /* 0 means 200 */
	const char *headers; /* extra header lines, "Name: value" separated by
	                        "\n" or "\r\n", or NULL */
	const char *body;    /* NULL: empty body */
	size_t body_len;     /* 0: strlen(body) */
	int delay_ms;        /* wait this long before answering (ends early
	                        when the server stops) */
	bool close;          /* close the connection without answering */
	bool gzip;           /* send the body gzip-encoded, with
	                        Content-Encoding: gzip */
	bool no_length;      /* no Content-Length: the body ends when the
	                        server closes the connection */
};

/* A recorded request.  Stable until httpd_clear() or httpd_stop(). */
struct httpd_request {
	char *method;   /* "GET" */
	char *path;     /* the request target as sent: "/a?b=c" */
	char **headers; /* "Name: value" as sent, NULL-terminated */
	size_t nheaders;
	char *body; /* NUL-terminated; body_len excludes the NUL */
	size_t body_len;
	int conn;  /* connection number, from 0 in accept order: equal
	              numbers mean a reused (keep-alive) connection */
	double at; /* CLOCK_MONOTONIC seconds when it was complete */
};

/*
 * Decide the answer to req by filling *resp (zeroed on entry).  Called with
 * no server lock held, one call at a time; arg is httpd_set_handler's.
 */
typedef void (*httpd_handler_fn)(const struct httpd_request *req, struct httpd_response *resp,
                                 void *arg);

struct httpd;

/* Start a server on 127.0.0.1:<ephemeral>; NULL (with a message on stderr)
 * on failure. */
struct httpd *httpd_start(void);

/* Stop it: ends pending delays, closes every connection, joins the threads,
 * frees everything; *h becomes NULL.  Safe on NULL. */
void httpd_stop(struct httpd **h);
/* cmocka setup and teardown of a test whose state is one server:
 * *state = httpd_start() (-1 when it fails), and httpd_stop of it. */
int httpd_setup(void **state);
int httpd_teardown(void **state);

int httpd_port(const struct httpd *h);

/*
 * "http://127.0.0.1:PORT" followed by path (which should start with '/').
 * The string lives in a ring of 16 buffers owned by h: valid for the next 15
 * calls and until httpd_stop.
 */
const char *httpd_url(struct httpd *h, const char *path);

/* Queue a canned response; responses are used in the order queued. */
void httpd_push(struct httpd *h, const struct httpd_response *resp);

/* Answer with fn once the queue is empty; NULL removes the handler. */
void httpd_set_handler(struct httpd *h, httpd_handler_fn fn, void *arg);

/* Requests received so far, and the i-th of them (NULL past the end). */
int httpd_request_count(struct httpd *h);
const struct httpd_request *httpd_request(struct httpd *h, int i);

/* Wait until at least n requests have arrived, or timeout_ms passed;
 * returns the count then. */
int httpd_wait_requests(struct httpd *h, int n, int timeout_ms);

/* Forget the recorded requests and the queued responses. */
void httpd_clear(struct httpd *h);

/* Value of a request header (case-insensitive name), or NULL. */
const char *httpd_req_header(const struct httpd_request *req, const char *name);

/*
 * A port on 127.0.0.1 where nothing listens (bound, then closed at once), for
 * "connection refused" tests; -1 on failure.
 */
int httpd_unused_port(void);

/*
 * gzip-encode data (stored deflate blocks, with the real CRC-32: valid for any
 * gzip reader, no zlib needed).  Returns a malloc'd buffer and its length in
 * *out_len, or NULL when out of memory.
 */
unsigned char *httpd_gzip(const void *data, size_t len, size_t *out_len);

#endif
