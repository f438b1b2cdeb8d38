/*
 * test_hostile.c - hostile documents the parser tests do not already
 * cover (they cover XXE, billion laughs, deep nesting, invalid UTF-8 and
 * the 10,000-row cap): a 100 MB answer meets the fetch size cap at the
 * scraper's default (16 MiB) and is refused quickly, with or without a
 * Content-Length, before a parser could see it; so a million table rows
 * (tens of MB of HTML) never reach a parser, and what fits under the cap
 * meets the row cap (test_openinsider, test_finviz).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "http.h"
#include "support/httpd.h"

#define UA "coattail-test/1.0 test@example.com"
/* settings_scraper.c: scraper.max_document_bytes */
#define DEFAULT_DOCUMENT_CAP (16 * 1024 * 1024)
#define HUNDRED_MB           (100 * 1024 * 1024)

static char *s_big; /* 100 MB of table rows */

static int s_setup(void **state)
{
	static const char row[] = "<tr><td>X</td><td>2026-04-24</td><td>ZZZZ</td></tr>\n";
	size_t n = sizeof(row) - 1;
	struct httpd *h = httpd_start();

	if (h == NULL)
		return -1;
	s_big = malloc(HUNDRED_MB + 1);
	if (s_big == NULL)
		return -1;
	for (size_t off = 0; off + n <= HUNDRED_MB; off += n)
		memcpy(s_big + off, row, n);
	memset(s_big + HUNDRED_MB - HUNDRED_MB % n, ' ', HUNDRED_MB % n);
	s_big[HUNDRED_MB] = '\0';
	*state = h;
	return 0;
}

static int s_teardown(void **state)
{
	struct httpd *h = *state;

	httpd_stop(&h);
	free(s_big);
	return 0;
}

static double s_seconds(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void s_refused(struct httpd *h, bool no_length)
{
	struct http_opts o = { .user_agent = UA,
		               .max_bytes = DEFAULT_DOCUMENT_CAP,
		               .timeout_ms = 60000 };
	http_client_t *c = http_new(&o);
	struct http_request req = { .max_retries = -1 };
	struct http_response r;
	struct timespec t0;

	assert_non_null(c);
	httpd_push(h, &(struct httpd_response){
	                  .body = s_big, .body_len = HUNDRED_MB, .no_length = no_length });
	req.url = httpd_url(h, "/a-million-rows");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(http_do(c, &req, &r), -1);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, "response larger than 16777216 bytes"));
	assert_null(r.body); /* nothing kept for a parser */
	assert_int_equal(r.attempts, 1);
	/* The cap ends the transfer: it does not wait for the 100 MB. */
	assert_true(s_seconds(&t0) < 20.0);
	http_response_free(&r);
	http_free(&c);
}

static void test_100_mb_answer_with_a_length_is_refused_at_the_document_cap(void **state)
{
	s_refused(*state, false);
}

static void test_100_mb_answer_that_keeps_coming_is_cut_at_the_document_cap(void **state)
{
	s_refused(*state, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_100_mb_answer_with_a_length_is_refused_at_the_document_cap),
		cmocka_unit_test(test_100_mb_answer_that_keeps_coming_is_cut_at_the_document_cap),
	};

	return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
