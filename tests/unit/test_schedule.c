/*
 * test_schedule.c - when the scraper's sources run, with a fixed clock:
 * windows in US Eastern time, weekends, NYSE holidays, DST changes, the
 * daily FinViz run and its catch-up.
 *
 * Instants are written as RFC 3339 with the Eastern offset of that day
 * (-05:00 EST, -04:00 EDT), so the expectations do not depend on the
 * conversion code under test.  2026: DST from Sunday March 8 to Sunday
 * November 1; Good Friday April 3; Independence Day observed Friday July 3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../scraper/schedule.h"
#include "timeutil.h"

static int64_t T(const char *s)
{
	int64_t t;

	if (time_parse_rfc3339(s, &t) != 0)
		fail_msg("bad time in test: %s", s);
	return t;
}

/* Compare instants and print both in RFC 3339 when they differ. */
#define assert_time(got, want)                                                                     \
	do {                                                                                       \
		int64_t g_ = (got), w_ = (want);                                                   \
		char gb_[TIME_RFC3339_LEN], wb_[TIME_RFC3339_LEN];                                 \
		if (g_ != w_)                                                                      \
			fail_msg("got %s, want %s",                                                \
			         g_ == SCHED_NONE ? "none"                                         \
			                          : time_format_rfc3339(g_, gb_, sizeof(gb_)),     \
			         time_format_rfc3339(w_, wb_, sizeof(wb_)));                       \
	} while (0)

/* EDGAR's default: every 60 s, 06:00-22:00 ET, trading days only. */
static struct sched s_edgar(void)
{
	struct sched s = {
		.kind = SCHED_INTERVAL,
		.interval_s = 60,
		.trading_days_only = true,
		.window_start = 6 * 3600,
		.window_end = 22 * 3600,
	};
	return s;
}

/* FinViz's default: once a day at 18:00 ET, trading days only. */
static struct sched s_finviz(void)
{
	struct sched s = {
		.kind = SCHED_DAILY,
		.daily_at = 18 * 3600,
		.trading_days_only = true,
		.window_start = 6 * 3600,
		.window_end = 22 * 3600,
	};
	return s;
}

/* ---- parsing HH:MM ---- */

static void test_hhmm_reads_times_of_day(void **state)
{
	int sec = -1;

	(void)state;
	assert_int_equal(sched_parse_hhmm("06:00", false, &sec), 0);
	assert_int_equal(sec, 6 * 3600);
	assert_int_equal(sched_parse_hhmm("6:30", false, &sec), 0);
	assert_int_equal(sec, 6 * 3600 + 30 * 60);
	assert_int_equal(sched_parse_hhmm("23:59", false, &sec), 0);
	assert_int_equal(sec, 23 * 3600 + 59 * 60);
	assert_int_equal(sched_parse_hhmm("00:00", false, &sec), 0);
	assert_int_equal(sec, 0);
}

static void test_hhmm_24_00_only_where_the_end_of_the_day_is_meant(void **state)
{
	int sec = -1;

	(void)state;
	assert_int_equal(sched_parse_hhmm("24:00", false, &sec), -1);
	assert_int_equal(sched_parse_hhmm("24:00", true, &sec), 0);
	assert_int_equal(sec, 86400);
	assert_int_equal(sched_parse_hhmm("24:01", true, &sec), -1);
}

static void test_hhmm_refuses_what_is_not_a_time(void **state)
{
	static const char *const bad[] = { "",    "25:00",  "12:60", "1200",  "12:5",   "12:05x",
		                           ":30", "123:00", "-1:00", "ab:cd", "12:05 ", NULL };
	int sec;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++)
		if (sched_parse_hhmm(bad[i], true, &sec) != -1)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(sched_parse_hhmm(NULL, true, &sec), -1);
}

static void test_check_refuses_an_empty_or_inverted_window(void **state)
{
	struct sched s = s_edgar();
	char err[128];

	(void)state;
	assert_int_equal(sched_check(&s, err, sizeof(err)), 0);
	s.window_end = s.window_start;
	assert_int_equal(sched_check(&s, err, sizeof(err)), -1);
	s.window_end = s.window_start - 60;
	assert_int_equal(sched_check(&s, err, sizeof(err)), -1);
	s = s_edgar();
	s.interval_s = 0;
	assert_int_equal(sched_check(&s, err, sizeof(err)), -1);
}

/* ---- interval sources ---- */

static void test_first_run_on_a_trading_day_inside_the_window_is_now(void **state)
{
	struct sched s = s_edgar();
	int64_t now = T("2026-03-03T10:00:00-05:00"); /* Tuesday */

	(void)state;
	assert_time(sched_next_due(&s, SCHED_NEVER, now), now);
	assert_true(sched_allowed_at(&s, now));
}

static void test_next_run_is_one_interval_after_the_last(void **state)
{
	struct sched s = s_edgar();
	int64_t now = T("2026-03-03T10:00:30-05:00");

	(void)state;
	assert_time(sched_next_due(&s, now - 30, now), now + 30);
}

static void test_an_overdue_source_runs_now_not_in_the_past(void **state)
{
	struct sched s = s_edgar();
	int64_t now = T("2026-03-03T10:00:00-05:00");

	(void)state;
	assert_time(sched_next_due(&s, now - 3600, now), now);
}

static void test_before_the_window_waits_for_its_start(void **state)
{
	struct sched s = s_edgar();

	(void)state;
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-03-03T05:59:59-05:00")),
	            T("2026-03-03T06:00:00-05:00"));
	assert_false(sched_allowed_at(&s, T("2026-03-03T05:59:59-05:00")));
}

static void test_window_start_is_inside_and_its_end_is_outside(void **state)
{
	struct sched s = s_edgar();
	int64_t open = T("2026-03-03T06:00:00-05:00"), last = T("2026-03-03T21:59:59-05:00");

	(void)state;
	assert_time(sched_next_due(&s, SCHED_NEVER, open), open);
	assert_time(sched_next_due(&s, SCHED_NEVER, last), last);
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-03-03T22:00:00-05:00")),
	            T("2026-03-04T06:00:00-05:00"));
	assert_true(sched_allowed_at(&s, open));
	assert_true(sched_allowed_at(&s, last));
	assert_false(sched_allowed_at(&s, last + 1));
}

static void test_a_run_near_the_end_of_friday_waits_for_monday(void **state)
{
	struct sched s = s_edgar();
	/* DST begins on Sunday March 8: Friday is EST, Monday EDT. */
	int64_t last = T("2026-03-06T21:59:30-05:00"), now = T("2026-03-06T21:59:45-05:00");

	(void)state;
	assert_time(sched_next_due(&s, last, now), T("2026-03-09T06:00:00-04:00"));
}

static void test_a_weekend_waits_for_monday(void **state)
{
	struct sched s = s_edgar();

	(void)state;
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-03-14T12:00:00-04:00")),
	            T("2026-03-16T06:00:00-04:00"));
	assert_false(sched_allowed_at(&s, T("2026-03-14T12:00:00-04:00")));
	assert_false(sched_allowed_at(&s, T("2026-03-15T12:00:00-04:00")));
}

static void test_exchange_holidays_are_skipped(void **state)
{
	struct sched s = s_edgar();

	(void)state;
	/* Good Friday (a federal working day, but NYSE is closed). */
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-04-03T10:00:00-04:00")),
	            T("2026-04-06T06:00:00-04:00"));
	/* July 4 falls on a Saturday in 2026: closed Friday July 3. */
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-07-02T22:30:00-04:00")),
	            T("2026-07-06T06:00:00-04:00"));
	/* Thanksgiving, then the day after (an early close, still a trading day). */
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-11-26T09:00:00-05:00")),
	            T("2026-11-27T06:00:00-05:00"));
	/* Christmas on a Friday, New Year's Day on the next Friday. */
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-12-24T23:00:00-05:00")),
	            T("2026-12-28T06:00:00-05:00"));
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-12-31T23:00:00-05:00")),
	            T("2027-01-04T06:00:00-05:00"));
}

static void test_every_day_counts_when_trading_days_only_is_off(void **state)
{
	struct sched s = s_edgar();
	int64_t sat = T("2026-03-14T12:00:00-04:00");

	(void)state;
	s.trading_days_only = false;
	assert_time(sched_next_due(&s, SCHED_NEVER, sat), sat);
	assert_true(sched_allowed_at(&s, sat));
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-04-03T23:00:00-04:00")),
	            T("2026-04-04T06:00:00-04:00"));
}

static void test_the_window_is_eastern_wall_time_across_dst_changes(void **state)
{
	struct sched s = s_edgar();

	(void)state;
	/* Spring forward: Friday 22:00 EST -> Monday 06:00 EDT (10:00Z). */
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-03-06T22:00:00-05:00")),
	            T("2026-03-09T10:00:00Z"));
	/* Fall back: Friday 22:00 EDT -> Monday 06:00 EST (11:00Z). */
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-10-30T22:00:00-04:00")),
	            T("2026-11-02T11:00:00Z"));
	/* On the change days themselves (every day allowed). */
	s.trading_days_only = false;
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-03-07T22:00:00-05:00")),
	            T("2026-03-08T06:00:00-04:00"));
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-10-31T22:00:00-04:00")),
	            T("2026-11-01T06:00:00-05:00"));
	/* 21:59 EDT on the fall-back Sunday is still inside: a 25-hour day. */
	assert_true(sched_allowed_at(&s, T("2026-11-01T21:59:00-05:00")));
	assert_false(sched_allowed_at(&s, T("2026-11-01T22:00:00-05:00")));
}

static void test_a_window_to_24_00_runs_until_midnight(void **state)
{
	struct sched s = s_edgar();
	int64_t late = T("2026-03-03T23:59:59-05:00");

	(void)state;
	s.window_start = 0;
	s.window_end = 86400;
	assert_time(sched_next_due(&s, SCHED_NEVER, late), late);
	assert_time(sched_next_due(&s, late - 59, late), T("2026-03-04T00:00:00-05:00"));
	/* Friday night rolls to Monday midnight. */
	assert_time(
	    sched_next_due(&s, T("2026-03-13T23:59:30-04:00"), T("2026-03-13T23:59:40-04:00")),
	    T("2026-03-16T00:00:00-04:00"));
}

static void test_a_clock_that_went_back_waits_one_interval_at_most(void **state)
{
	struct sched s = s_edgar();
	int64_t now = T("2026-03-03T10:00:00-05:00");

	(void)state;
	assert_time(sched_next_due(&s, now + 3600, now), now + 60);
}

static void test_ten_minute_interval_of_openinsider(void **state)
{
	struct sched s = s_edgar();
	int64_t last = T("2026-03-03T21:55:00-05:00");

	(void)state;
	s.interval_s = 600;
	assert_time(sched_next_due(&s, last, last + 1), T("2026-03-04T06:00:00-05:00"));
	last = T("2026-03-03T12:00:00-05:00");
	assert_time(sched_next_due(&s, last, last + 5), last + 600);
}

/* ---- the daily source ---- */

static void test_daily_source_runs_at_its_time(void **state)
{
	struct sched s = s_finviz();

	(void)state;
	assert_time(sched_next_due(&s, SCHED_NEVER, T("2026-03-03T10:00:00-05:00")),
	            T("2026-03-03T18:00:00-05:00"));
}

static void test_daily_first_start_after_its_time_runs_now(void **state)
{
	struct sched s = s_finviz();
	int64_t now = T("2026-03-03T20:00:00-05:00");

	(void)state;
	assert_time(sched_next_due(&s, SCHED_NEVER, now), now);
}

static void test_daily_source_runs_once_a_day(void **state)
{
	struct sched s = s_finviz();
	int64_t ran = T("2026-03-03T18:00:02-05:00");

	(void)state;
	assert_time(sched_next_due(&s, ran, ran + 1800), T("2026-03-04T18:00:00-05:00"));
	/* After midnight, still the same evening's time is next. */
	assert_time(sched_next_due(&s, ran, T("2026-03-04T00:30:00-05:00")),
	            T("2026-03-04T18:00:00-05:00"));
}

static void test_daily_source_skips_the_weekend_and_holidays(void **state)
{
	struct sched s = s_finviz();

	(void)state;
	assert_time(
	    sched_next_due(&s, T("2026-03-13T18:00:01-04:00"), T("2026-03-14T09:00:00-04:00")),
	    T("2026-03-16T18:00:00-04:00"));
	/* Thursday's run done; Good Friday closed -> Monday. */
	assert_time(
	    sched_next_due(&s, T("2026-04-02T18:00:01-04:00"), T("2026-04-02T19:00:00-04:00")),
	    T("2026-04-06T18:00:00-04:00"));
	assert_false(sched_allowed_at(&s, T("2026-04-03T18:00:00-04:00")));
	/* Its time of day is the schedule: the polling window does not apply. */
	assert_true(sched_allowed_at(&s, T("2026-03-03T03:00:00-05:00")));
}

static void test_daily_missed_day_is_caught_up_once(void **state)
{
	struct sched s = s_finviz();
	int64_t now = T("2026-03-04T10:00:00-05:00"); /* Wednesday; Tuesday was missed */

	(void)state;
	assert_time(sched_next_due(&s, T("2026-03-02T18:00:01-05:00"), now), now);
	/* Caught up at 10:00: the next is Wednesday's own run. */
	assert_time(sched_next_due(&s, now, now + 60), T("2026-03-04T18:00:00-05:00"));
}

static void test_daily_missed_friday_is_not_run_on_the_weekend(void **state)
{
	struct sched s = s_finviz();

	(void)state;
	assert_time(
	    sched_next_due(&s, T("2026-03-12T18:00:01-04:00"), T("2026-03-14T10:00:00-04:00")),
	    T("2026-03-16T18:00:00-04:00"));
	s.trading_days_only = false;
	assert_time(
	    sched_next_due(&s, T("2026-03-12T18:00:01-04:00"), T("2026-03-14T10:00:00-04:00")),
	    T("2026-03-14T10:00:00-04:00"));
}

static void test_daily_time_is_eastern_across_dst(void **state)
{
	struct sched s = s_finviz();

	(void)state;
	/* Friday 18:00 EST ran; Monday 18:00 is EDT (22:00Z, not 23:00Z). */
	assert_time(
	    sched_next_due(&s, T("2026-03-06T18:00:01-05:00"), T("2026-03-07T12:00:00-05:00")),
	    T("2026-03-09T22:00:00Z"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hhmm_reads_times_of_day),
		cmocka_unit_test(test_hhmm_24_00_only_where_the_end_of_the_day_is_meant),
		cmocka_unit_test(test_hhmm_refuses_what_is_not_a_time),
		cmocka_unit_test(test_check_refuses_an_empty_or_inverted_window),
		cmocka_unit_test(test_first_run_on_a_trading_day_inside_the_window_is_now),
		cmocka_unit_test(test_next_run_is_one_interval_after_the_last),
		cmocka_unit_test(test_an_overdue_source_runs_now_not_in_the_past),
		cmocka_unit_test(test_before_the_window_waits_for_its_start),
		cmocka_unit_test(test_window_start_is_inside_and_its_end_is_outside),
		cmocka_unit_test(test_a_run_near_the_end_of_friday_waits_for_monday),
		cmocka_unit_test(test_a_weekend_waits_for_monday),
		cmocka_unit_test(test_exchange_holidays_are_skipped),
		cmocka_unit_test(test_every_day_counts_when_trading_days_only_is_off),
		cmocka_unit_test(test_the_window_is_eastern_wall_time_across_dst_changes),
		cmocka_unit_test(test_a_window_to_24_00_runs_until_midnight),
		cmocka_unit_test(test_a_clock_that_went_back_waits_one_interval_at_most),
		cmocka_unit_test(test_ten_minute_interval_of_openinsider),
		cmocka_unit_test(test_daily_source_runs_at_its_time),
		cmocka_unit_test(test_daily_first_start_after_its_time_runs_now),
		cmocka_unit_test(test_daily_source_runs_once_a_day),
		cmocka_unit_test(test_daily_source_skips_the_weekend_and_holidays),
		cmocka_unit_test(test_daily_missed_day_is_caught_up_once),
		cmocka_unit_test(test_daily_missed_friday_is_not_run_on_the_weekend),
		cmocka_unit_test(test_daily_time_is_eastern_across_dst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
