/*
 * test_http.c - the libcurl wrapper against the scripted test server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "support/httpd.h"

#define UA "coattail-test/1.0 (test@example.com)"

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client with short backoffs so that retry tests run fast. */
static http_client_t *s_client(void)
{
	struct http_opts o = {
		.user_agent = UA,
		.timeout_ms = 5000,
		.backoff_base_ms = 10,
		.backoff_max_ms = 100,
	};
	http_client_t *c = http_new(&o);

	assert_non_null(c);
	return c;
}

static int s_get(http_client_t *c, const char *url, struct http_response *resp)
{
	struct http_request req = { .url = url, .max_retries = -1 };

	return http_do(c, &req, resp);
}

/* Set *flag after delay_ms, from another thread (as a signal handler would). */
struct s_stopper {
	volatile sig_atomic_t *flag;
	int delay_ms;
	pthread_t tid;
};

static void *s_stopper_main(void *arg)
{
	struct s_stopper *s = arg;
	struct timespec ts = { .tv_sec = s->delay_ms / 1000,
		               .tv_nsec = (long)(s->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	*s->flag = 1;
	return NULL;
}

/* ---- plain requests ----------------------------------------------------- */

static void test_get_200_returns_the_body(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_push(h, &(struct httpd_response){ .body = "hello, world" });
	assert_int_equal(s_get(c, httpd_url(h, "/a/b?x=1"), &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 12);
	assert_string_equal(r.body, "hello, world");
	assert_int_equal(r.attempts, 1);
	assert_string_equal(r.error, "");
	assert_int_equal(httpd_request_count(h), 1);
	assert_string_equal(httpd_request(h, 0)->method, "GET");
	assert_string_equal(httpd_request(h, 0)->path, "/a/b?x=1");
	http_response_free(&r);
	http_free(&c);
	assert_null(c);
}

static void test_empty_body_is_an_empty_string(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_push(h, &(struct httpd_response){ .status = 204 });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_int_equal(r.status, 204);
	assert_non_null(r.body);
	assert_int_equal(r.len, 0);
	assert_non_null(r.headers);
	http_response_free(&r);
	http_free(&c);
}

static void test_404_is_a_response_and_not_retried(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_push(h, &(struct httpd_response){ .status = 404, .body = "no such filing" });
	httpd_push(h, &(struct httpd_response){ .status = 200 });
	assert_int_equal(s_get(c, httpd_url(h, "/missing"), &r), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "no such filing");
	assert_int_equal(r.attempts, 1);
	assert_int_equal(httpd_request_count(h), 1);
	http_response_free(&r);
	http_free(&c);
}

static void test_user_agent_and_accept_encoding_are_sent(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	const char *ae;

	httpd_push(h, &(struct httpd_response){ .body = "x" });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_string_equal(httpd_req_header(httpd_request(h, 0), "User-Agent"), UA);
	ae = httpd_req_header(httpd_request(h, 0), "Accept-Encoding");
	assert_non_null(ae);
	assert_non_null(strstr(ae, "gzip"));
	http_response_free(&r);
	http_free(&c);
}

static void test_gzip_body_is_decoded(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	static const char text[] = "<feed>insider trades, compressed on the wire</feed>";

	httpd_push(h, &(struct httpd_response){ .body = text, .gzip = true });
	assert_int_equal(s_get(c, httpd_url(h, "/feed"), &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, text);
	assert_int_equal(r.len, strlen(text));
	assert_string_equal(http_header(&r, "Content-Encoding"), "gzip");
	http_response_free(&r);
	http_free(&c);
}

static void test_large_gzip_body_is_decoded(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	size_t n = 200000; /* more than one stored deflate block */
	char *big = malloc(n + 1);

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	httpd_push(h, &(struct httpd_response){ .body = big, .gzip = true });
	assert_int_equal(s_get(c, httpd_url(h, "/big"), &r), 0);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.body, big, n);
	http_response_free(&r);
	http_free(&c);
	free(big);
}

static void test_response_headers_are_readable_in_any_case(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_push(
	    h, &(struct httpd_response){
	           .body = "{}",
	           .headers = "Content-Type: application/json\r\nX-RateLimit-Remaining:  41 \n" });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_string_equal(http_header(&r, "content-type"), "application/json");
	assert_string_equal(http_header(&r, "CONTENT-TYPE"), "application/json");
	assert_string_equal(http_header(&r, "x-ratelimit-remaining"), "41");
	assert_null(http_header(&r, "Content-Typ"));
	assert_null(http_header(&r, "X-Absent"));
	http_response_free(&r);
	http_free(&c);
}

static void test_conditional_headers_are_sent_and_304_returned(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	const char *date = "Wed, 21 Oct 2015 07:28:00 GMT";
	struct http_request req = { .url = httpd_url(h, "/index.json"),
		                    .if_none_match = "\"abc123\"",
		                    .if_modified_since = date,
		                    .max_retries = -1 };

	httpd_push(h, &(struct httpd_response){ .status = 304, .headers = "ETag: \"abc123\"" });
	assert_int_equal(http_do(c, &req, &r), 0);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.attempts, 1);
	assert_string_equal(http_header(&r, "etag"), "\"abc123\"");
	assert_string_equal(httpd_req_header(httpd_request(h, 0), "If-None-Match"), "\"abc123\"");
	assert_string_equal(httpd_req_header(httpd_request(h, 0), "If-Modified-Since"), date);
	http_response_free(&r);
	http_free(&c);
}

static void test_post_sends_body_and_headers(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	const char *hdrs[] = { "Content-Type: application/json", "X-Api-Key: s3cret", NULL };
	const char *body = "[{\"idType\":\"TICKER\",\"idValue\":\"AAPL\"}]";
	struct http_request req = { .method = "POST",
		                    .url = httpd_url(h, "/v3/mapping"),
		                    .headers = hdrs,
		                    .body = body,
		                    .body_len = strlen(body),
		                    .max_retries = -1 };
	const struct httpd_request *got;

	httpd_push(h, &(struct httpd_response){ .status = 201, .body = "ok" });
	assert_int_equal(http_do(c, &req, &r), 0);
	assert_int_equal(r.status, 201);
	got = httpd_request(h, 0);
	assert_string_equal(got->method, "POST");
	assert_string_equal(got->body, body);
	assert_int_equal(got->body_len, strlen(body));
	assert_string_equal(httpd_req_header(got, "content-type"), "application/json");
	assert_string_equal(httpd_req_header(got, "X-Api-Key"), "s3cret");
	assert_null(httpd_req_header(got, "Expect"));
	http_response_free(&r);
	http_free(&c);
}

static void test_delete_uses_the_method_given(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	struct http_request req = { .method = "DELETE",
		                    .url = httpd_url(h, "/orders/42"),
		                    .max_retries = -1 };

	httpd_push(h, &(struct httpd_response){ .status = 204 });
	assert_int_equal(http_do(c, &req, &r), 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(httpd_request(h, 0)->method, "DELETE");
	http_response_free(&r);
	http_free(&c);
}

static void test_requests_reuse_one_connection(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	for (int i = 0; i < 3; i++) {
		httpd_push(h, &(struct httpd_response){ .body = "k" });
		assert_int_equal(s_get(c, httpd_url(h, "/k"), &r), 0);
		http_response_free(&r);
	}
	assert_int_equal(httpd_request_count(h), 3);
	assert_int_equal(httpd_request(h, 1)->conn, httpd_request(h, 0)->conn);
	assert_int_equal(httpd_request(h, 2)->conn, httpd_request(h, 0)->conn);
	http_free(&c);
}

/* ---- retries ------------------------------------------------------------ */

static void test_503_twice_then_200_takes_three_attempts(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	struct http_stats st;

	httpd_push(h, &(struct httpd_response){ .status = 503 });
	httpd_push(h, &(struct httpd_response){ .status = 503 });
	httpd_push(h, &(struct httpd_response){ .body = "finally" });
	assert_int_equal(s_get(c, httpd_url(h, "/flaky"), &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "finally");
	assert_int_equal(r.attempts, 3);
	assert_int_equal(httpd_request_count(h), 3);
	http_get_stats(c, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.failures, 0);
	http_response_free(&r);
	http_free(&c);
}

static void test_5xx_after_all_retries_is_returned(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	for (int i = 0; i < 4; i++)
		httpd_push(h, &(struct httpd_response){ .status = 502, .body = "bad gateway" });
	assert_int_equal(s_get(c, httpd_url(h, "/down"), &r), 0);
	assert_int_equal(r.status, 502);
	assert_int_equal(r.attempts, 4); /* the first try and the default 3 retries */
	assert_string_equal(r.body, "bad gateway");
	http_response_free(&r);
	http_free(&c);
}

static void test_429_with_retry_after_one_waits_a_second(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client(); /* backoff cap 100 ms: Retry-After wins */
	struct http_opts o = { .user_agent = UA, .backoff_base_ms = 10, .backoff_max_ms = 5000 };
	struct http_response r;
	double t0;

	http_free(&c);
	c = http_new(&o);
	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){ .status = 429, .headers = "Retry-After: 1" });
	httpd_push(h, &(struct httpd_response){ .body = "ok" });
	t0 = s_now();
	assert_int_equal(s_get(c, httpd_url(h, "/limited"), &r), 0);
	assert_true(s_now() - t0 >= 0.9);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	assert_true(httpd_request(h, 1)->at - httpd_request(h, 0)->at >= 0.9);
	http_response_free(&r);
	http_free(&c);
}

static void test_retry_after_is_capped_at_backoff_max(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client(); /* backoff_max_ms 100 */
	struct http_response r;
	double t0;

	httpd_push(h, &(struct httpd_response){ .status = 503, .headers = "Retry-After: 3600" });
	httpd_push(h, &(struct httpd_response){ .body = "ok" });
	t0 = s_now();
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_true(s_now() - t0 < 2.0);
	assert_int_equal(r.attempts, 2);
	http_response_free(&r);
	http_free(&c);
}

static void test_retry_after_as_a_past_http_date_retries_at_once(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .backoff_base_ms = 5000, .backoff_max_ms = 60000 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	double t0;

	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){
	                  .status = 503, .headers = "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT" });
	httpd_push(h, &(struct httpd_response){ .body = "ok" });
	t0 = s_now();
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	/* The date was honoured instead of the 5 s exponential backoff. */
	assert_true(s_now() - t0 < 2.0);
	assert_int_equal(r.attempts, 2);
	http_response_free(&r);
	http_free(&c);
}

static void test_max_retries_zero_makes_one_attempt(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	struct http_request req = { .method = "POST",
		                    .url = httpd_url(h, "/orders"),
		                    .body = "{}",
		                    .body_len = 2,
		                    .max_retries = 0 };

	httpd_push(h, &(struct httpd_response){ .status = 503 });
	httpd_push(h, &(struct httpd_response){ .status = 200 });
	assert_int_equal(http_do(c, &req, &r), 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(httpd_request_count(h), 1);
	http_response_free(&r);
	http_free(&c);
}

static void test_client_max_retries_negative_means_no_retries(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .max_retries = -1 };
	http_client_t *c = http_new(&o);
	struct http_response r;

	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){ .status = 500 });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.attempts, 1);
	http_response_free(&r);
	http_free(&c);
}

static void test_connection_closed_without_answer_is_retried(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_push(h, &(struct httpd_response){ .close = true });
	httpd_push(h, &(struct httpd_response){ .body = "second time lucky" });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "second time lucky");
	assert_int_equal(r.attempts, 2);
	http_response_free(&r);
	http_free(&c);
}

/* ---- failures ----------------------------------------------------------- */

static void test_connection_refused_fails_naming_the_url(void **state)
{
	http_client_t *c = s_client();
	struct http_response r;
	struct http_stats st;
	char url[128];
	int port = httpd_unused_port();

	(void)state;
	assert_true(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cgi-bin/browse-edgar", port);
	assert_int_equal(s_get(c, url, &r), -1);
	assert_int_equal(r.status, 0);
	assert_null(r.body);
	assert_int_equal(r.attempts, 4);
	assert_non_null(strstr(r.error, "GET "));
	assert_non_null(strstr(r.error, url));
	http_get_stats(c, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.requests, 4);
	http_response_free(&r);
	http_free(&c);
}

static void test_secrets_in_the_url_stay_out_of_errors(void **state)
{
	http_client_t *c = s_client();
	struct http_response r;
	char url[160];
	int port = httpd_unused_port();
	struct http_request req = { .url = url, .max_retries = 0 };

	(void)state;
	snprintf(url, sizeof(url),
	         "http://user:pa55word@127.0.0.1:%d/q?symbol=AAPL&apikey=XYZSECRET", port);
	assert_int_equal(http_do(c, &req, &r), -1);
	assert_null(strstr(r.error, "XYZSECRET"));
	assert_null(strstr(r.error, "pa55word"));
	assert_non_null(strstr(r.error, "symbol=AAPL"));
	assert_non_null(strstr(r.error, "apikey=REDACTED"));
	http_response_free(&r);
	http_free(&c);
}

static void test_slow_server_times_out(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .timeout_ms = 300 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	struct http_request req = { .url = httpd_url(h, "/slow"), .max_retries = 0 };
	double t0 = s_now();

	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){ .delay_ms = 3000, .body = "late" });
	assert_int_equal(http_do(c, &req, &r), -1);
	assert_true(s_now() - t0 < 2.5);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.error, "timed out after 300 ms"));
	assert_non_null(strstr(r.error, "/slow"));
	http_response_free(&r);
	http_free(&c);
}

static void test_body_over_max_bytes_fails(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .max_bytes = 1000 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	char big[5000];

	assert_non_null(c);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Once with a Content-Length, once with a body that just keeps coming. */
	httpd_push(h, &(struct httpd_response){ .body = big });
	assert_int_equal(s_get(c, httpd_url(h, "/huge"), &r), -1);
	assert_non_null(strstr(r.error, "response larger than 1000 bytes"));
	assert_non_null(strstr(r.error, "/huge"));
	assert_null(r.body);
	assert_int_equal(r.attempts, 1); /* not worth retrying */
	http_response_free(&r);

	httpd_push(h, &(struct httpd_response){ .body = big, .no_length = true });
	assert_int_equal(s_get(c, httpd_url(h, "/stream"), &r), -1);
	assert_non_null(strstr(r.error, "response larger than 1000 bytes"));
	assert_int_equal(r.attempts, 1);
	http_response_free(&r);
	http_free(&c);
}

static void test_declared_length_over_max_bytes_fails_before_the_body(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .max_bytes = 1000, .timeout_ms = 3000 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	double t0 = s_now();

	assert_non_null(c);
	/* The server announces 10 MB and sends nothing: refused on the header. */
	httpd_push(h, &(struct httpd_response){ .headers = "Content-Length: 10000000" });
	assert_int_equal(s_get(c, httpd_url(h, "/announced"), &r), -1);
	assert_non_null(strstr(r.error, "response larger than 1000 bytes"));
	assert_true(s_now() - t0 < 2.0);
	assert_int_equal(r.status, 200);
	assert_string_equal(http_header(&r, "content-length"), "10000000");
	http_response_free(&r);
	http_free(&c);
}

static void test_gzip_bomb_is_capped_after_decoding(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .max_bytes = 4096 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	char big[8192];

	assert_non_null(c);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	httpd_push(h, &(struct httpd_response){ .body = big, .gzip = true });
	assert_int_equal(s_get(c, httpd_url(h, "/z"), &r), -1);
	assert_non_null(strstr(r.error, "response larger than 4096 bytes"));
	http_response_free(&r);
	http_free(&c);
}

static void test_body_exactly_max_bytes_is_accepted(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .max_bytes = 1000 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	char body[1001];

	assert_non_null(c);
	memset(body, 'y', 1000);
	body[1000] = '\0';
	httpd_push(h, &(struct httpd_response){ .body = body, .no_length = true });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), 0);
	assert_int_equal(r.len, 1000);
	http_response_free(&r);
	http_free(&c);
}

static void test_redirect_is_followed(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	char loc[128];

	snprintf(loc, sizeof(loc), "Location: %s\r\nX-Hop: first", httpd_url(h, "/new"));
	httpd_push(h, &(struct httpd_response){ .status = 301, .headers = loc });
	httpd_push(h, &(struct httpd_response){ .body = "moved here", .headers = "X-Hop: last" });
	assert_int_equal(s_get(c, httpd_url(h, "/old"), &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "moved here");
	assert_string_equal(http_header(&r, "X-Hop"), "last"); /* the last response's */
	assert_null(http_header(&r, "Location"));
	assert_string_equal(httpd_request(h, 1)->path, "/new");
	http_response_free(&r);
	http_free(&c);
}

static void test_redirect_to_another_protocol_is_refused(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_push(h, &(struct httpd_response){ .status = 302,
	                                        .headers = "Location: file:///etc/passwd" });
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), -1);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(r.error, "only http and https"));
	http_response_free(&r);

	assert_int_equal(s_get(c, "ftp://127.0.0.1/x", &r), -1);
	assert_non_null(strstr(r.error, "ftp://127.0.0.1/x"));
	http_response_free(&r);
	http_free(&c);
}

static void s_redirect_forever(const struct httpd_request *req, struct httpd_response *resp,
                               void *arg)
{
	static char loc[256];
	struct httpd *h = arg;

	snprintf(loc, sizeof(loc), "Location: %s", httpd_url(h, req->path));
	resp->status = 302;
	resp->headers = loc;
}

static void test_redirect_loop_stops_after_five(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;

	httpd_set_handler(h, s_redirect_forever, h);
	assert_int_equal(s_get(c, httpd_url(h, "/loop"), &r), -1);
	assert_non_null(strstr(r.error, "more than 5 redirects"));
	assert_int_equal(httpd_request_count(h), 6);
	http_response_free(&r);
	http_free(&c);
}

static void test_header_with_a_line_break_is_refused(void **state)
{
	struct httpd *h = *state;
	http_client_t *c = s_client();
	struct http_response r;
	const char *hdrs[] = { "X-A: 1\r\nX-Injected: 2", NULL };
	struct http_request req = { .url = httpd_url(h, "/"), .headers = hdrs, .max_retries = -1 };

	assert_int_equal(http_do(c, &req, &r), -1);
	assert_non_null(strstr(r.error, "line break"));
	assert_null(strstr(r.error, "X-A")); /* headers may hold keys: never quoted */
	assert_int_equal(httpd_request_count(h), 0);
	http_response_free(&r);
	http_free(&c);
}

static void test_client_needs_a_user_agent(void **state)
{
	struct http_opts o = { .user_agent = NULL };

	(void)state;
	assert_null(http_new(&o));
	o.user_agent = "a\r\nb";
	assert_null(http_new(&o));
}

/* ---- rate limit and stop ------------------------------------------------ */

static void test_rate_limit_spaces_requests(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .rate_per_s = 10, .burst = 1 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	double t0 = s_now();

	assert_non_null(c);
	for (int i = 0; i < 5; i++) {
		httpd_push(h, &(struct httpd_response){ .body = "r" });
		assert_int_equal(s_get(c, httpd_url(h, "/r"), &r), 0);
		http_response_free(&r);
	}
	/* The first goes at once, then one per 100 ms: 0.4 s in all. */
	assert_true(s_now() - t0 >= 0.35);
	assert_int_equal(httpd_request_count(h), 5);
	http_free(&c);
}

static void test_rate_limit_burst_lets_the_first_requests_through(void **state)
{
	struct httpd *h = *state;
	struct http_opts o = { .user_agent = UA, .rate_per_s = 1, .burst = 3 };
	http_client_t *c = http_new(&o);
	struct http_response r;
	double t0 = s_now();

	assert_non_null(c);
	for (int i = 0; i < 3; i++) {
		httpd_push(h, &(struct httpd_response){ .body = "b" });
		assert_int_equal(s_get(c, httpd_url(h, "/b"), &r), 0);
		http_response_free(&r);
	}
	assert_true(s_now() - t0 < 0.9);
	http_free(&c);
}

static void test_stop_during_backoff_returns_promptly(void **state)
{
	struct httpd *h = *state;
	volatile sig_atomic_t stop = 0;
	struct http_opts o = { .user_agent = UA, .backoff_max_ms = 60000, .stop = &stop };
	http_client_t *c = http_new(&o);
	struct http_response r;
	struct s_stopper s = { .flag = &stop, .delay_ms = 200 };
	double t0;

	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){ .status = 503, .headers = "Retry-After: 30" });
	assert_int_equal(pthread_create(&s.tid, NULL, s_stopper_main, &s), 0);
	t0 = s_now();
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), -1);
	assert_true(s_now() - t0 < 1.5); /* not the 30 s asked for */
	assert_non_null(strstr(r.error, "stopped"));
	assert_int_equal(r.attempts, 1);
	pthread_join(s.tid, NULL);
	http_response_free(&r);
	http_free(&c);
}

static void test_stop_during_a_slow_transfer_returns_promptly(void **state)
{
	struct httpd *h = *state;
	volatile sig_atomic_t stop = 0;
	struct http_opts o = { .user_agent = UA, .stop = &stop };
	http_client_t *c = http_new(&o);
	struct http_response r;
	struct s_stopper s = { .flag = &stop, .delay_ms = 200 };
	double t0;

	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){ .delay_ms = 10000 });
	assert_int_equal(pthread_create(&s.tid, NULL, s_stopper_main, &s), 0);
	t0 = s_now();
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), -1);
	/* libcurl calls back at least about once a second while idle. */
	assert_true(s_now() - t0 < 2.5);
	assert_non_null(strstr(r.error, "stopped"));
	assert_int_equal(r.attempts, 1);
	pthread_join(s.tid, NULL);
	http_response_free(&r);
	http_free(&c);
}

static void test_stopped_client_sends_nothing(void **state)
{
	struct httpd *h = *state;
	volatile sig_atomic_t stop = 1;
	struct http_opts o = { .user_agent = UA, .stop = &stop };
	http_client_t *c = http_new(&o);
	struct http_response r;

	assert_non_null(c);
	assert_int_equal(s_get(c, httpd_url(h, "/"), &r), -1);
	assert_non_null(strstr(r.error, "stopped"));
	assert_int_equal(httpd_request_count(h), 0);
	http_response_free(&r);
	http_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, httpd_setup, httpd_teardown)
		T(test_get_200_returns_the_body),
		T(test_empty_body_is_an_empty_string),
		T(test_404_is_a_response_and_not_retried),
		T(test_user_agent_and_accept_encoding_are_sent),
		T(test_gzip_body_is_decoded),
		T(test_large_gzip_body_is_decoded),
		T(test_response_headers_are_readable_in_any_case),
		T(test_conditional_headers_are_sent_and_304_returned),
		T(test_post_sends_body_and_headers),
		T(test_delete_uses_the_method_given),
		T(test_requests_reuse_one_connection),
		T(test_503_twice_then_200_takes_three_attempts),
		T(test_5xx_after_all_retries_is_returned),
		T(test_429_with_retry_after_one_waits_a_second),
		T(test_retry_after_is_capped_at_backoff_max),
		T(test_retry_after_as_a_past_http_date_retries_at_once),
		T(test_max_retries_zero_makes_one_attempt),
		T(test_client_max_retries_negative_means_no_retries),
		T(test_connection_closed_without_answer_is_retried),
		T(test_connection_refused_fails_naming_the_url),
		T(test_secrets_in_the_url_stay_out_of_errors),
		T(test_slow_server_times_out),
		T(test_body_over_max_bytes_fails),
		T(test_declared_length_over_max_bytes_fails_before_the_body),
		T(test_gzip_bomb_is_capped_after_decoding),
		T(test_body_exactly_max_bytes_is_accepted),
		T(test_redirect_is_followed),
		T(test_redirect_to_another_protocol_is_refused),
		T(test_redirect_loop_stops_after_five),
		T(test_header_with_a_line_break_is_refused),
		T(test_client_needs_a_user_agent),
		T(test_rate_limit_spaces_requests),
		T(test_rate_limit_burst_lets_the_first_requests_through),
		T(test_stop_during_backoff_returns_promptly),
		T(test_stop_during_a_slow_transfer_returns_promptly),
		T(test_stopped_client_sends_nothing),
#undef T
	};

	log_init("test_http", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
