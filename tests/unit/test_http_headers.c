/*
 * test_http_headers.c - what common/http.c keeps of a server's header lines
 * and body pieces (the libcurl callbacks, through http_priv.h, fed as
 * libcurl feeds them), and how it reads Retry-After.  The cases the fuzz
 * target fuzz_http_headers found are here too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl_load.h"
#include "http_priv.h"
#include "log.h"
#include "support/httpd.h"

#define UA      "coattail-test/1.0 (test@example.com)"
#define YEAR_MS (86400L * 365 * 1000)

/* One line to the header callback, as libcurl hands it over (with its line
 * end); returns what the callback returned. */
static size_t s_line(struct http_xfer *x, const char *line)
{
	size_t n = strlen(line);
	char *copy = malloc(n + 1);
	size_t rc;

	assert_non_null(copy);
	memcpy(copy, line, n + 1);
	rc = http_xfer_header(copy, 1, n, x);
	free(copy);
	return rc;
}

/* The same with bytes that may hold a NUL. */
static size_t s_bytes(struct http_xfer *x, const char *data, size_t n)
{
	char *copy = malloc(n);
	size_t rc;

	assert_non_null(copy);
	memcpy(copy, data, n);
	rc = http_xfer_header(copy, 1, n, x);
	free(copy);
	return rc;
}

static const char *s_get(const struct http_xfer *x, const char *name)
{
	struct http_response view = { .headers = x->headers };

	return http_header(&view, name);
}

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- header lines ------------------------------------------------------- */

static void test_headers_are_kept_trimmed_and_found_in_any_case(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };

	(void)state;
	assert_int_equal(s_line(&x, "HTTP/1.1 200 OK\r\n"), 17);
	assert_int_equal(s_line(&x, "Content-Type:  text/html \t\r\n"), 28);
	assert_int_equal(s_line(&x, "ETag :\"v1\"\r\n"), 12);
	assert_int_equal(s_line(&x, "X-Empty:\r\n"), 10);
	assert_int_equal(s_line(&x, "\r\n"), 2);
	assert_int_equal(x.nheaders, 3);
	assert_string_equal(x.headers[0], "Content-Type: text/html");
	assert_string_equal(x.headers[1], "ETag: \"v1\"");
	assert_string_equal(x.headers[2], "X-Empty: ");
	assert_string_equal(s_get(&x, "content-type"), "text/html");
	assert_string_equal(s_get(&x, "x-empty"), "");
	assert_null(s_get(&x, "Content"));
	http_xfer_free(&x);
	assert_null(x.headers);
	assert_int_equal(x.max_bytes, 100);
}

/* Found by fuzz_http_headers: libcurl hands over a line holding a bare CR
 * (and the callback kept it), so an ETag such as "a<CR>b" went into the
 * fetch cache and every later conditional GET of that page failed ("bad
 * If-None-Match value").  CR, LF and NUL now become spaces. */
static void test_a_cr_lf_or_nul_inside_a_header_becomes_a_space(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };
	static const char nul_line[] = "X-Nul: a\0b\r\n";

	(void)state;
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	assert_int_equal(s_line(&x, "ETag: \"a\rb\"\r\n"), 13);
	assert_int_equal(s_line(&x, "X-Odd\r: 1\n2\r\n"), 13);
	assert_int_equal(s_bytes(&x, nul_line, sizeof(nul_line) - 1), sizeof(nul_line) - 1);
	assert_int_equal(x.nheaders, 3);
	assert_string_equal(s_get(&x, "ETag"), "\"a b\"");
	assert_string_equal(x.headers[1], "X-Odd : 1 2");
	assert_string_equal(s_get(&x, "X-Nul"), "a b");
	http_xfer_free(&x);
}

/* The cleaned ETag can be sent back: the conditional GET goes out. */
static void test_a_cleaned_etag_works_as_if_none_match(void **state)
{
	struct httpd *h = *state;
	struct http_xfer x = { .max_bytes = 100 };
	struct http_opts o = { .user_agent = UA, .max_retries = -1 };
	http_client_t *c = http_new(&o);
	struct http_request req = { .url = httpd_url(h, "/page"), .max_retries = -1 };
	struct http_response r;

	assert_non_null(c);
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	s_line(&x, "ETag: \"a\rb\"\r\n");
	req.if_none_match = s_get(&x, "ETag");
	httpd_push(h, &(struct httpd_response){ .status = 304 });
	assert_int_equal(http_do(c, &req, &r), 0);
	assert_int_equal(r.status, 304);
	assert_string_equal(httpd_req_header(httpd_request(h, 0), "If-None-Match"), "\"a b\"");
	http_response_free(&r);
	http_xfer_free(&x);
	http_free(&c);
}

static void test_redirects_leave_the_last_response_s_headers(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };

	(void)state;
	s_line(&x, "HTTP/1.1 301 Moved Permanently\r\n");
	s_line(&x, "Location: /b\r\n");
	s_line(&x, "Retry-After: 5\r\n");
	s_line(&x, "\r\n");
	s_line(&x, "HTTP/1.1 100 Continue\r\n");
	s_line(&x, "\r\n");
	s_line(&x, "HTTP/2 200 \r\n");
	s_line(&x, "ETag: \"v2\"\r\n");
	s_line(&x, "\r\n");
	assert_int_equal(x.nheaders, 1);
	assert_null(s_get(&x, "Location"));
	assert_null(s_get(&x, "Retry-After"));
	assert_string_equal(s_get(&x, "ETag"), "\"v2\"");
	http_xfer_free(&x);
}

/* Only the first line of a block is a status line: a header that merely
 * starts with "HTTP/" (libcurl passes "HTTP/1.1: x" on as a header) no
 * longer throws away the headers before it, nor resets the caps' counts. */
static void test_a_header_starting_with_http_is_not_a_status_line(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };

	(void)state;
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	s_line(&x, "ETag: \"v1\"\r\n");
	s_line(&x, "HTTP/1.1: 302\r\n");
	assert_int_equal(x.nheaders, 2);
	assert_string_equal(s_get(&x, "ETag"), "\"v1\"");
	assert_string_equal(s_get(&x, "HTTP/1.1"), "302");
	http_xfer_free(&x);
}

static void test_lines_without_a_name_are_ignored(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };

	(void)state;
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	/* A continuation before any header (RFC 9112 5.2), no colon, no
	 * name: nothing kept, the transfer goes on. */
	assert_int_equal(s_line(&x, " folded: too early\r\n"), 20);
	assert_int_equal(s_line(&x, "no colon here\r\n"), 15);
	assert_int_equal(s_line(&x, ": no name\r\n"), 11);
	assert_int_equal(s_line(&x, " \t : blank name\r\n"), 17);
	assert_int_equal(x.nheaders, 0);
	http_xfer_free(&x);
}

static void test_folded_lines_join_the_header_before_them(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };

	(void)state;
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	s_line(&x, "X-Long: a\r\n");
	s_line(&x, "  b \r\n");
	s_line(&x, "\tc\r\n");
	s_line(&x, "   \r\n"); /* blanks only: nothing to add */
	s_line(&x, "X-Empty:\r\n");
	s_line(&x, " d\r\n");
	assert_int_equal(x.nheaders, 2);
	assert_string_equal(s_get(&x, "X-Long"), "a b c");
	assert_string_equal(s_get(&x, "X-Empty"), "d");
	http_xfer_free(&x);
}

/* A header folded over 131,000 lines took the old callback 1.0 s in a
 * release build (strlen of the growing header and a realloc per line):
 * quadratic.  The last header's length and allocation are now tracked.
 * Without libcurl's own 300 KB header cap (a libcurl before 8.3 without
 * Debian's backport of that fix) a server could make every response cost
 * that. */
static void test_a_header_folded_over_many_lines_costs_linear_time(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };
	size_t lines = 0;
	double t0;

	(void)state;
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	s_line(&x, "X: a\r\n");
	t0 = s_now();
	while (s_line(&x, " a\r\n") == 4)
		lines++;
	assert_true(x.hdr_overflow);
	assert_true(lines > 130000);
	assert_true(strlen(x.headers[0]) > 2 * 130000);
	assert_true(s_now() - t0 < 0.5);
	http_xfer_free(&x);
}

static void test_more_than_500_headers_abort_the_transfer(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };
	char line[64];

	(void)state;
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++) {
		snprintf(line, sizeof(line), "X-%d: %d\r\n", i, i);
		assert_int_equal(s_line(&x, line), strlen(line));
	}
	assert_int_equal(x.nheaders, HTTP_MAX_HEADERS);
	assert_false(x.hdr_overflow);
	assert_int_equal(s_line(&x, "X-One-More: 1\r\n"), 0);
	assert_true(x.hdr_overflow);
	http_xfer_free(&x);
}

static void test_headers_over_256_kib_abort_the_transfer(void **state)
{
	struct http_xfer x = { .max_bytes = 100 };
	size_t vlen = 64 * 1024, n = vlen + 16;
	char *line = malloc(n);
	int kept = 0;

	(void)state;
	assert_non_null(line);
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	snprintf(line, n, "X: ");
	memset(line + 3, 'v', vlen);
	memcpy(line + 3 + vlen, "\r\n", 3);
	while (s_line(&x, line) != 0)
		kept++;
	assert_int_equal(kept, 3); /* the fourth passes 256 KiB */
	assert_true(x.hdr_overflow);
	/* A new response (a redirect) starts its count afresh. */
	x.hdr_overflow = false;
	s_line(&x, "\r\n");
	s_line(&x, "HTTP/1.1 200 OK\r\n");
	assert_int_equal(s_line(&x, line), strlen(line));
	assert_int_equal(x.nheaders, 1);
	free(line);
	http_xfer_free(&x);
}

/* ---- body pieces -------------------------------------------------------- */

static void test_the_body_is_capped_at_max_bytes(void **state)
{
	struct http_xfer x = { .max_bytes = 10 };
	char a[] = "0123456", b[] = "789", c[] = "X";

	(void)state;
	assert_int_equal(http_xfer_body(a, 1, 7, &x), 7);
	assert_int_equal(http_xfer_body(c, 1, 0, &x), 0); /* an empty piece */
	assert_false(x.too_large);
	assert_int_equal(http_xfer_body(b, 1, 3, &x), 3);
	assert_int_equal(x.len, 10);
	assert_string_equal(x.body, "0123456789");
	assert_int_equal(http_xfer_body(c, 1, 1, &x), 0);
	assert_true(x.too_large);
	assert_int_equal(x.len, 10);
	assert_string_equal(x.body, "0123456789");
	http_xfer_free(&x);
	assert_null(x.body);
	assert_false(x.too_large);
}

/* ---- Retry-After ---------------------------------------------------------- */

static int s_load(void **state)
{
	char err[256];

	(void)state;
	if (curl_load(err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static void test_retry_after_in_seconds(void **state)
{
	(void)state;
	assert_int_equal(http_retry_after_ms("0"), 0);
	assert_int_equal(http_retry_after_ms("120"), 120000);
	assert_int_equal(http_retry_after_ms(" \t7 \t"), 7000);
	assert_int_equal(http_retry_after_ms("007"), 7000);
	/* Capped at a year, however large. */
	assert_int_equal(http_retry_after_ms("31536000"), YEAR_MS);
	assert_int_equal(http_retry_after_ms("31536001"), YEAR_MS);
	assert_int_equal(http_retry_after_ms("99999999999999999999999999"), YEAR_MS);
}

/* An HTTP-date n seconds from now, in the format fmt. */
static void s_date(char *buf, size_t len, long n, const char *fmt)
{
	time_t t = time(NULL) + n;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, fmt, &tm);
}

static void test_retry_after_as_an_http_date(void **state)
{
	static const char *const fmts[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
		"%a %b %e %H:%M:%S %Y",      /* asctime */
	};
	char date[64];

	(void)state;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		long ms;

		s_date(date, sizeof(date), 120, fmts[i]);
		ms = http_retry_after_ms(date);
		assert_true(ms >= 117000 && ms <= 120000);
	}
	assert_int_equal(http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), 0); /* past */
	s_date(date, sizeof(date), 3L * 365 * 86400, fmts[0]);
	assert_int_equal(http_retry_after_ms(date), YEAR_MS);
}

static void test_retry_after_that_is_neither_is_ignored(void **state)
{
	(void)state;
	assert_int_equal(http_retry_after_ms(NULL), -1);
	assert_int_equal(http_retry_after_ms(""), -1);
	assert_int_equal(http_retry_after_ms("   "), -1);
	assert_int_equal(http_retry_after_ms("soon"), -1);
	assert_int_equal(http_retry_after_ms("5s"), -1);
	assert_int_equal(http_retry_after_ms("5 seconds"), -1);
	assert_int_equal(http_retry_after_ms("1.5"), -1);
	assert_int_equal(http_retry_after_ms("0x10"), -1);
	assert_int_equal(http_retry_after_ms("-5"), -1);
	assert_int_equal(http_retry_after_ms("+5"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_are_kept_trimmed_and_found_in_any_case),
		cmocka_unit_test(test_a_cr_lf_or_nul_inside_a_header_becomes_a_space),
		cmocka_unit_test_setup_teardown(test_a_cleaned_etag_works_as_if_none_match,
		                                httpd_setup, httpd_teardown),
		cmocka_unit_test(test_redirects_leave_the_last_response_s_headers),
		cmocka_unit_test(test_a_header_starting_with_http_is_not_a_status_line),
		cmocka_unit_test(test_lines_without_a_name_are_ignored),
		cmocka_unit_test(test_folded_lines_join_the_header_before_them),
		cmocka_unit_test(test_a_header_folded_over_many_lines_costs_linear_time),
		cmocka_unit_test(test_more_than_500_headers_abort_the_transfer),
		cmocka_unit_test(test_headers_over_256_kib_abort_the_transfer),
		cmocka_unit_test(test_the_body_is_capped_at_max_bytes),
		cmocka_unit_test_setup(test_retry_after_in_seconds, s_load),
		cmocka_unit_test_setup(test_retry_after_as_an_http_date, s_load),
		cmocka_unit_test_setup(test_retry_after_that_is_neither_is_ignored, s_load),
	};

	log_init("test_http_headers", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
