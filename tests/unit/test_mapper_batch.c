/*
 * test_mapper_batch.c - when the mapper may send: the batch window and job
 * counts, the token bucket that keeps OpenFIGI's rate limits, and the
 * backoff after failures.  Clocks are passed in, so nothing here waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "../../mapper/batch.h"

/*
 * Offer a request every `step_ms` for `span_ms`, starting at t0, taking a
 * token when there is one; then check that no window of window_ms holds
 * more than limit sends.  Returns the number sent.
 */
static int s_simulate(int limit, int64_t window_ms, int burst, int64_t step_ms, int64_t span_ms)
{
	struct tbucket b;
	int64_t *sent = calloc((size_t)(span_ms / step_ms + 2), sizeof(*sent));
	int n = 0;

	assert_non_null(sent);
	tbucket_init(&b, limit, window_ms, burst, 1000);
	for (int64_t t = 1000; t <= 1000 + span_ms; t += step_ms)
		if (tbucket_take(&b, t))
			sent[n++] = t;
	/* Sliding windows starting at each send: the strictest reading. */
	for (int i = 0, j = 0; i < n; i++) {
		while (j < n && sent[j] < sent[i] + window_ms)
			j++;
		if (j - i > limit)
			fail_msg("%d sends in %lld ms from t=%lld (limit %d)", j - i,
			         (long long)window_ms, (long long)sent[i], limit);
	}
	free(sent);
	return n;
}

static void test_no_window_ever_holds_more_than_the_limit(void **state)
{
	(void)state;
	/* Without a key: 25 per minute; with one: 25 per 6 s; odd shapes. */
	s_simulate(25, 60000, 5, 10, 10 * 60000);
	s_simulate(25, 6000, 5, 1, 60000);
	s_simulate(25, 6000, 25, 1, 60000);
	s_simulate(25, 6000, 1, 1, 60000);
	s_simulate(3, 1000, 3, 1, 20000);
	s_simulate(1, 1000, 1, 1, 20000);
}

static void test_the_bucket_keeps_close_to_the_limit_under_load(void **state)
{
	int n;

	(void)state;
	/* Ten minutes flat out with a key: 250 per minute allowed; the
	 * bucket (burst 5, refill 20 per 6 s) gives 5 + 100 * 20. */
	n = s_simulate(25, 6000, 5, 1, 10 * 60000);
	assert_true(n >= 2000 && n <= 2006);
	/* Without a key, burst 1: 24 per minute after the first. */
	n = s_simulate(25, 60000, 1, 1, 10 * 60000);
	assert_true(n >= 240 && n <= 242);
}

static void test_a_burst_goes_at_once_then_requests_are_spaced(void **state)
{
	struct tbucket b;
	int64_t t = 5000;

	(void)state;
	tbucket_init(&b, 25, 60000, 5, t);
	for (int i = 0; i < 5; i++)
		assert_true(tbucket_take(&b, t));
	assert_false(tbucket_take(&b, t));
	/* Refill: 20 per minute, one every 3000 ms. */
	assert_int_equal(tbucket_wait_ms(&b, t), 3000);
	assert_int_equal(tbucket_wait_ms(&b, t + 1000), 2000);
	assert_false(tbucket_take(&b, t + 2999));
	assert_true(tbucket_take(&b, t + 3000));
	assert_int_equal(tbucket_wait_ms(&b, t + 3000), 3000);
}

static void test_a_429_empties_the_bucket(void **state)
{
	struct tbucket b;

	(void)state;
	tbucket_init(&b, 25, 6000, 5, 0);
	assert_int_equal(tbucket_wait_ms(&b, 0), 0);
	tbucket_drain(&b, 10);
	assert_false(tbucket_take(&b, 10));
	assert_int_equal(tbucket_wait_ms(&b, 10), 300); /* 20 per 6 s */
	/* The clock going backwards does not mint tokens. */
	assert_false(tbucket_take(&b, 0));
}

static void test_a_batch_is_due_when_full_when_flushing_or_after_the_window(void **state)
{
	(void)state;
	assert_true(batch_due_ms(0, 100, 100, 500, false) == BATCH_NEVER);
	assert_true(batch_due_ms(0, 100, 100, 500, true) == BATCH_NEVER);
	assert_int_equal(batch_due_ms(1, 100, 100, 500, false), 600);
	assert_int_equal(batch_due_ms(99, 100, 100, 500, false), 600);
	assert_int_equal(batch_due_ms(100, 100, 100, 500, false), 100);
	assert_int_equal(batch_due_ms(250, 100, 100, 500, false), 100);
	assert_int_equal(batch_due_ms(3, 100, 10, 500, true), 100);
	assert_int_equal(batch_due_ms(3, 100, 10, 0, false), 100);
}

static void test_requests_needed_is_the_ceiling(void **state)
{
	(void)state;
	assert_int_equal(batch_requests(0, 100), 0);
	assert_int_equal(batch_requests(1, 100), 1);
	assert_int_equal(batch_requests(100, 100), 1);
	assert_int_equal(batch_requests(101, 100), 2);
	assert_int_equal(batch_requests(250, 100), 3);
	assert_int_equal(batch_requests(250, 10), 25);
	assert_int_equal(batch_requests(5, 0), 0);
}

static void test_backoff_doubles_with_jitter_up_to_the_cap(void **state)
{
	struct backoff b;
	int64_t nominal = 1000;

	(void)state;
	backoff_init(&b, 1000, 30000, 42);
	for (int i = 0; i < 10; i++) {
		int64_t w = backoff_fail(&b, 50000, 0);
		int64_t lo = nominal * 8 / 10, hi = nominal * 12 / 10;

		if (hi > 30000)
			hi = 30000;
		if (lo > 30000)
			lo = 30000 * 8 / 10;
		assert_true(w >= lo && w <= hi);
		assert_int_equal(b.until_ms, 50000 + w);
		if (nominal < 30000)
			nominal *= 2;
	}
	backoff_reset(&b);
	assert_int_equal(b.until_ms, 0);
	assert_true(backoff_fail(&b, 0, 0) <= 1200);
}

static void test_backoff_honours_what_the_server_asked_for_within_the_cap(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 60000, 7);
	assert_int_equal(backoff_fail(&b, 0, 45000), 45000);
	backoff_reset(&b);
	assert_int_equal(backoff_fail(&b, 0, 3600000), 60000); /* capped */
	backoff_reset(&b);
	assert_true(backoff_fail(&b, 0, -1) <= 120);
}

static void test_jitter_differs_between_mappers(void **state)
{
	struct backoff a, b;
	int differ = 0;

	(void)state;
	backoff_init(&a, 10000, 10000, 1);
	backoff_init(&b, 10000, 10000, 2);
	for (int i = 0; i < 8; i++) {
		/* At the cap the jitter can only shorten: [8000, 10000]. */
		int64_t x = backoff_fail(&a, 0, 0), y = backoff_fail(&b, 0, 0);

		assert_true(x >= 8000 && x <= 10000 && y >= 8000 && y <= 10000);
		differ += x != y;
	}
	assert_true(differ > 0);
}

static void test_retry_hints_from_ratelimit_reset_or_retry_after(void **state)
{
	(void)state;
	assert_int_equal(batch_retry_hint_ms("60", NULL), 60000);
	assert_int_equal(batch_retry_hint_ms(" 5 ", "99"), 5000);
	assert_int_equal(batch_retry_hint_ms(NULL, "7"), 7000);
	assert_int_equal(batch_retry_hint_ms("soon", "3"), 3000);
	assert_int_equal(batch_retry_hint_ms("1e3", NULL), -1);
	assert_int_equal(batch_retry_hint_ms("-5", NULL), -1);
	assert_int_equal(batch_retry_hint_ms("9999999999", NULL), -1);
	assert_int_equal(batch_retry_hint_ms("", ""), -1);
	assert_int_equal(batch_retry_hint_ms(NULL, "Wed, 21 Oct 2015 07:28:00 GMT"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_window_ever_holds_more_than_the_limit),
		cmocka_unit_test(test_the_bucket_keeps_close_to_the_limit_under_load),
		cmocka_unit_test(test_a_burst_goes_at_once_then_requests_are_spaced),
		cmocka_unit_test(test_a_429_empties_the_bucket),
		cmocka_unit_test(test_a_batch_is_due_when_full_when_flushing_or_after_the_window),
		cmocka_unit_test(test_requests_needed_is_the_ceiling),
		cmocka_unit_test(test_backoff_doubles_with_jitter_up_to_the_cap),
		cmocka_unit_test(test_backoff_honours_what_the_server_asked_for_within_the_cap),
		cmocka_unit_test(test_jitter_differs_between_mappers),
		cmocka_unit_test(test_retry_hints_from_ratelimit_reset_or_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
