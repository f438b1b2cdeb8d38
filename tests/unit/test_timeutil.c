/*
 * test_timeutil.c - RFC 3339, civil dates, US Eastern time, NYSE calendar.
 *
 * The expected values are written out here, not computed by the code under
 * test: epoch seconds checked against Python's calendar.timegm, the NYSE
 * holidays and early closes of 2020-2027 as the exchange published them
 * (NYSE Group's calendar announcements of 2019-12, 2020-12, 2021-12 and
 * 2024-11), those of 2028-2030 as its rules give them.  Where the C library
 * is an independent oracle (gmtime_r for civil dates, the system's tz
 * database for America/New_York) the tests compare against it day by day.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

#define DAY  86400
#define HOUR 3600

/* A time the test knows to be well formed; fails the test otherwise. */
static int64_t s_t(const char *rfc3339)
{
	int64_t t = 0;

	if (time_parse_rfc3339(rfc3339, &t) != 0)
		fail_msg("test setup: cannot parse %s", rfc3339);
	return t;
}

static civil_date_t s_d(int y, int m, int d)
{
	return (civil_date_t){ y, m, d };
}

static void s_assert_date(civil_date_t got, int y, int m, int d)
{
	if (got.year != y || got.month != m || got.day != d)
		fail_msg("date %04d-%02d-%02d, expected %04d-%02d-%02d", got.year, got.month,
		         got.day, y, m, d);
}

static bool s_same_date(civil_date_t a, civil_date_t b)
{
	return a.year == b.year && a.month == b.month && a.day == b.day;
}

/* ---- RFC 3339 ----------------------------------------------------------------- */

static void test_rfc3339_parses_utc_times(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31Z", &t), 0);
	assert_int_equal(t, 1641503131);
	assert_int_equal(time_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(time_parse_rfc3339("9999-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, 253402300799);
	assert_int_equal(time_parse_rfc3339("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1709164800);
	assert_int_equal(time_parse_rfc3339("2000-03-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 951868800);
}

static void test_rfc3339_fraction_is_truncated_not_rounded(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31.123Z", &t), 0);
	assert_int_equal(t, 1641503131);
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31.999999999Z", &t), 0);
	assert_int_equal(t, 1641503131);
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31.5-05:00", &t), 0);
	assert_int_equal(t, 1641503131 + 5 * HOUR);
	assert_int_equal(
	    time_parse_rfc3339("2022-01-06T21:05:31.00000000000000000000000000000000000001Z", &t),
	    0);
	assert_int_equal(t, 1641503131);
}

static void test_rfc3339_applies_eastern_offsets(void **state)
{
	int64_t t;

	(void)state;
	/* EST: 18:02:43-05:00 is 23:02:43Z. */
	assert_int_equal(time_parse_rfc3339("2025-12-12T18:02:43-05:00", &t), 0);
	assert_int_equal(t, 1765580563);
	/* EDT: 09:30-04:00 is 13:30Z. */
	assert_int_equal(time_parse_rfc3339("2024-07-08T09:30:00-04:00", &t), 0);
	assert_int_equal(t, s_t("2024-07-08T13:30:00Z"));
	/* An offset can move the instant across midnight and a year end. */
	assert_int_equal(time_parse_rfc3339("2021-12-31T22:00:00-05:00", &t), 0);
	assert_int_equal(t, s_t("2022-01-01T03:00:00Z"));
	assert_int_equal(time_parse_rfc3339("2022-01-01T01:00:00+05:30", &t), 0);
	assert_int_equal(t, s_t("2021-12-31T19:30:00Z"));
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31+00:00", &t), 0);
	assert_int_equal(t, 1641503131);
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31-00:00", &t), 0);
	assert_int_equal(t, 1641503131);
	assert_int_equal(time_parse_rfc3339("2022-01-06T21:05:31+23:59", &t), 0);
	assert_int_equal(t, 1641503131 - 23 * HOUR - 59 * 60);
}

static void test_rfc3339_accepts_lowercase_t_z_and_space_separator(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(time_parse_rfc3339("2022-01-06t21:05:31z", &t), 0);
	assert_int_equal(t, 1641503131);
	assert_int_equal(time_parse_rfc3339("2022-01-06 21:05:31Z", &t), 0);
	assert_int_equal(t, 1641503131);
}

static void test_rfc3339_format_writes_utc_with_z(void **state)
{
	char buf[TIME_RFC3339_LEN];
	char small[11];

	(void)state;
	assert_string_equal(time_format_rfc3339(1641503131, buf, sizeof(buf)),
	                    "2022-01-06T21:05:31Z");
	assert_string_equal(time_format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	assert_string_equal(time_format_rfc3339(-1, buf, sizeof(buf)), "1969-12-31T23:59:59Z");
	assert_string_equal(time_format_rfc3339(253402300799, buf, sizeof(buf)),
	                    "9999-12-31T23:59:59Z");
	assert_int_equal(strlen(buf) + 1, TIME_RFC3339_LEN);
	/* A short buffer is truncated and still terminated. */
	assert_string_equal(time_format_rfc3339(1641503131, small, sizeof(small)), "2022-01-06");
}

/* The formatter writes, for every time and every buffer length, exactly
 * what snprintf with its old format wrote (the fields of the clamped time
 * computed here independently, with date_of_utc and floor division). */
static void test_rfc3339_format_is_byte_identical_to_snprintf(void **state)
{
	static const int64_t edges[] = {
		INT64_MIN,
		-62135596801LL,
		-62135596800LL,
		-86401,
		-86400,
		-1,
		0,
		59,
		3599,
		86399,
		86400,
		951782400,
		1641503131,
		4102444800LL,
		253402300799LL,
		253402300800LL,
		INT64_MAX,
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	(void)state;

	for (int i = 0; i < 200000; i++) {
		int64_t t, c, sod;
		char want[64], got[64];
		civil_date_t d;
		size_t len;

		if (i < (int)(sizeof(edges) / sizeof(edges[0]))) {
			t = edges[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly 0001-9999, some far outside */
			t = (int64_t)(x % 320000000000ULL) - 62200000000LL;
			if (i % 97 == 0)
				t = (int64_t)x;
		}
		c = t < -62135596800LL ? -62135596800LL : t > 253402300799LL ? 253402300799LL : t;
		d = date_of_utc(c);
		sod = c % 86400;
		if (sod < 0)
			sod += 86400;
		for (len = 1; len <= TIME_RFC3339_LEN + 2; len++) {
			memset(want, 'x', sizeof(want));
			memset(got, 'x', sizeof(got));
			snprintf(want, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.year, d.month,
			         d.day, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
			time_format_rfc3339(t, got, len);
			if (memcmp(want, got, sizeof(want)) != 0)
				fail_msg("time %lld, len %zu: \"%s\", want \"%s\"", (long long)t,
				         len, got, want);
		}
	}
}

static void test_rfc3339_round_trips(void **state)
{
	static const char *const texts[] = {
		"1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2022-01-06T21:05:31Z",
		"2024-03-10T07:00:00Z", "2024-11-03T05:59:59Z", "2099-12-31T23:59:59Z",
		"2100-03-01T00:00:00Z", "9999-12-31T23:59:59Z",
	};
	char buf[TIME_RFC3339_LEN];
	int64_t t, back;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(time_parse_rfc3339(texts[i], &t), 0);
		assert_string_equal(time_format_rfc3339(t, buf, sizeof(buf)), texts[i]);
	}
	/* Times spread over the whole range, odd step so every second of the
	 * day and every day of the month comes up. */
	for (t = 0; t <= 253402300799; t += 7919LL * 3607 + 13) {
		time_format_rfc3339(t, buf, sizeof(buf));
		assert_int_equal(time_parse_rfc3339(buf, &back), 0);
		assert_int_equal(back, t);
	}
}

static void s_assert_rejected(const char *s)
{
	int64_t t = 12345;

	if (time_parse_rfc3339(s, &t) != -1)
		fail_msg("accepted \"%s\"", s);
	/* A refused input must not half-fill the output. */
	assert_int_equal(t, 12345);
}

static void test_rfc3339_rejects_bad_month_and_day(void **state)
{
	(void)state;
	s_assert_rejected("2022-13-01T00:00:00Z");
	s_assert_rejected("2022-00-10T00:00:00Z");
	s_assert_rejected("2022-01-00T00:00:00Z");
	s_assert_rejected("2022-01-32T00:00:00Z");
	s_assert_rejected("2022-04-31T00:00:00Z");
	s_assert_rejected("2022-06-31T00:00:00Z");
	s_assert_rejected("2022-09-31T00:00:00Z");
	s_assert_rejected("2022-11-31T00:00:00Z");
	s_assert_rejected("2024-02-30T00:00:00Z");
}

static void test_rfc3339_rejects_feb_29_in_non_leap_years(void **state)
{
	int64_t t;

	(void)state;
	s_assert_rejected("2023-02-29T00:00:00Z");
	s_assert_rejected("2100-02-29T00:00:00Z"); /* divisible by 100, not 400 */
	s_assert_rejected("2025-02-29T12:00:00Z");
	assert_int_equal(time_parse_rfc3339("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(time_parse_rfc3339("2000-02-29T00:00:00Z", &t), 0);
	assert_int_equal(time_parse_rfc3339("2400-02-29T00:00:00Z", &t), 0);
}

static void test_rfc3339_rejects_hour_24_minute_60_and_leap_second(void **state)
{
	(void)state;
	s_assert_rejected("2022-01-06T24:00:00Z");
	s_assert_rejected("2022-01-06T23:60:00Z");
	s_assert_rejected("2022-01-06T23:59:60Z");
	s_assert_rejected("2016-12-31T23:59:60Z");
	s_assert_rejected("2022-01-06T21:05:31+24:00");
	s_assert_rejected("2022-01-06T21:05:31-05:60");
}

static void test_rfc3339_rejects_garbage_and_trailing_junk(void **state)
{
	(void)state;
	assert_int_equal(time_parse_rfc3339(NULL, NULL), -1);
	s_assert_rejected("");
	s_assert_rejected("garbage");
	s_assert_rejected("2022-01-06");
	s_assert_rejected("2022-01-06T21:05");
	s_assert_rejected("2022-01-06T21:05:31");        /* no offset */
	s_assert_rejected("2022-01-06T21:05:31Zx");      /* trailing junk */
	s_assert_rejected("2022-01-06T21:05:31Z ");      /* trailing space */
	s_assert_rejected("2022-01-06T21:05:31-05:00Z"); /* two offsets */
	s_assert_rejected("2022-01-06T21:05:31-05");
	s_assert_rejected("2022-01-06T21:05:31-05:0");
	s_assert_rejected("2022-01-06T21:05:31-0500");
	s_assert_rejected("2022-01-06T21:05:31.Z"); /* fraction without digits */
	s_assert_rejected("2022-01-06T21:05:31,5Z");
	s_assert_rejected(" 2022-01-06T21:05:31Z");
	s_assert_rejected("2022-01-06X21:05:31Z");
	s_assert_rejected("2022-01-06T21:05:31UTC");
	s_assert_rejected("2022-1-6T21:05:31Z"); /* fields must be zero-padded */
	s_assert_rejected("2022-01-06T1:05:31Z");
	s_assert_rejected("2022/01/06T21:05:31Z");
	s_assert_rejected("2022-01-06T21:05:3aZ");
	s_assert_rejected("2022-01-06T-1:05:31Z");
}

static void test_rfc3339_rejects_years_out_of_range_and_overflow(void **state)
{
	(void)state;
	s_assert_rejected("1969-12-31T23:59:59Z");
	s_assert_rejected("0000-01-01T00:00:00Z");
	s_assert_rejected("10000-01-01T00:00:00Z");
	s_assert_rejected("99999999999999999999-01-01T00:00:00Z");
	s_assert_rejected("2022-01-06T99999999999999999999:00:00Z");
	s_assert_rejected("2022-01-06T21:05:31+99999999999999999999:00");
	s_assert_rejected("+2022-01-06T21:05:31Z");
	s_assert_rejected("-2022-01-06T21:05:31Z");
}

/* ---- civil dates --------------------------------------------------------------- */

static void test_date_parse_is_strict(void **state)
{
	civil_date_t d = { 1, 2, 3 };

	(void)state;
	assert_int_equal(date_parse("2024-02-29", &d), 0);
	s_assert_date(d, 2024, 2, 29);
	assert_int_equal(date_parse("0001-01-01", &d), 0);
	s_assert_date(d, 1, 1, 1);
	d = s_d(1, 2, 3);
	assert_int_equal(date_parse("2023-02-29", &d), -1);
	assert_int_equal(date_parse("2024-13-01", &d), -1);
	assert_int_equal(date_parse("2024-04-31", &d), -1);
	assert_int_equal(date_parse("0000-01-01", &d), -1);
	assert_int_equal(date_parse("2024-02-29T00:00:00Z", &d), -1);
	assert_int_equal(date_parse("2024-02-29 ", &d), -1);
	assert_int_equal(date_parse("2024-2-29", &d), -1);
	assert_int_equal(date_parse("20240229", &d), -1);
	assert_int_equal(date_parse("", &d), -1);
	assert_int_equal(date_parse(NULL, &d), -1);
	s_assert_date(d, 1, 2, 3); /* untouched on failure */
}

static void test_date_format_pads_fields(void **state)
{
	char buf[11];

	(void)state;
	assert_string_equal(date_format(s_d(2024, 2, 9), buf, sizeof(buf)), "2024-02-09");
	assert_string_equal(date_format(s_d(1, 1, 1), buf, sizeof(buf)), "0001-01-01");
	assert_string_equal(date_format(s_d(9999, 12, 31), buf, sizeof(buf)), "9999-12-31");
}

/* date_format writes by hand what snprintf("%04d-%02d-%02d") writes, for
 * every date it can and leaves the rest (and short buffers) to snprintf. */
static void test_date_format_is_the_printf_text(void **state)
{
	static const int years[] = { -1, 0, 7, 99, 1969, 2026, 9999, 10000, 123456 };
	static const int months[] = { -3, 0, 1, 9, 10, 12, 99, 100 };
	static const int days[] = { -1, 0, 1, 9, 10, 31, 99, 100 };
	char got[32], want[32];
	(void)state;

	for (size_t y = 0; y < sizeof(years) / sizeof(years[0]); y++)
		for (size_t m = 0; m < sizeof(months) / sizeof(months[0]); m++)
			for (size_t d = 0; d < sizeof(days) / sizeof(days[0]); d++)
				for (size_t len = 1; len <= sizeof(got); len += 5) {
					civil_date_t c = s_d(years[y], months[m], days[d]);

					snprintf(want, len, "%04d-%02d-%02d", c.year, c.month,
					         c.day);
					date_format(c, got, len);
					if (strcmp(got, want) != 0)
						fail_msg("%d-%d-%d in %zu: '%s', want '%s'", c.year,
						         c.month, c.day, len, got, want);
				}
	for (int64_t day = -800000; day <= 3000000; day += 997) {
		civil_date_t c = date_from_days(day);

		snprintf(want, sizeof(want), "%04d-%02d-%02d", c.year, c.month, c.day);
		assert_string_equal(date_format(c, got, 11), want);
	}
}

static void test_date_valid_checks_month_lengths_and_range(void **state)
{
	(void)state;
	assert_true(date_valid(s_d(2024, 1, 31)));
	assert_true(date_valid(s_d(2024, 2, 29)));
	assert_false(date_valid(s_d(2023, 2, 29)));
	assert_false(date_valid(s_d(2100, 2, 29)));
	assert_true(date_valid(s_d(2000, 2, 29)));
	assert_false(date_valid(s_d(2024, 4, 31)));
	assert_false(date_valid(s_d(2024, 0, 1)));
	assert_false(date_valid(s_d(2024, 13, 1)));
	assert_false(date_valid(s_d(2024, 1, 0)));
	assert_false(date_valid(s_d(2024, 1, -1)));
	assert_false(date_valid(s_d(0, 1, 1)));
	assert_false(date_valid(s_d(10000, 1, 1)));
}

static void test_days_since_epoch_known_values(void **state)
{
	(void)state;
	assert_int_equal(date_to_days(s_d(1970, 1, 1)), 0);
	assert_int_equal(date_to_days(s_d(1969, 12, 31)), -1);
	assert_int_equal(date_to_days(s_d(2000, 3, 1)), 11017);
	assert_int_equal(date_to_days(s_d(2024, 2, 29)), 19782);
	assert_int_equal(date_to_days(s_d(1, 1, 1)), -719162);
	assert_int_equal(date_to_days(s_d(9999, 12, 31)), 2932896);
	s_assert_date(date_from_days(0), 1970, 1, 1);
	s_assert_date(date_from_days(19782), 2024, 2, 29);
	s_assert_date(date_from_days(-719162), 1, 1, 1);
	s_assert_date(date_from_days(2932896), 9999, 12, 31);
	assert_int_equal(date_weekday(s_d(1970, 1, 1)), 4); /* Thursday */
	assert_int_equal(date_weekday(s_d(2024, 3, 10)), 0);
	assert_int_equal(date_weekday(s_d(2000, 1, 1)), 6);
	assert_int_equal(date_weekday(s_d(1, 1, 1)), 1);
}

/* gmtime_r is an independent implementation of the same calendar. */
static void test_civil_dates_agree_with_gmtime_1800_to_2200(void **state)
{
	int64_t first = date_to_days(s_d(1800, 1, 1)), last = date_to_days(s_d(2200, 12, 31));

	(void)state;
	assert_int_equal(first, -62091);
	for (int64_t n = first; n <= last; n++) {
		time_t t = (time_t)(n * DAY);
		struct tm tm;
		civil_date_t d = date_from_days(n);

		assert_non_null(gmtime_r(&t, &tm));
		s_assert_date(d, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		assert_int_equal(date_to_days(d), n);
		assert_int_equal(date_weekday(d), tm.tm_wday);
		assert_true(date_valid(d));
		s_assert_date(date_of_utc(n * DAY + 43210), d.year, d.month, d.day);
		s_assert_date(date_of_utc(n * DAY + DAY - 1), d.year, d.month, d.day);
	}
}

static void test_date_add_days_crosses_months_years_and_leap_days(void **state)
{
	(void)state;
	s_assert_date(date_add_days(s_d(2024, 2, 28), 1), 2024, 2, 29);
	s_assert_date(date_add_days(s_d(2023, 2, 28), 1), 2023, 3, 1);
	s_assert_date(date_add_days(s_d(2024, 12, 31), 1), 2025, 1, 1);
	s_assert_date(date_add_days(s_d(2025, 1, 1), -1), 2024, 12, 31);
	s_assert_date(date_add_days(s_d(2024, 3, 1), -1), 2024, 2, 29);
	s_assert_date(date_add_days(s_d(2020, 1, 1), 366), 2021, 1, 1);
	s_assert_date(date_add_days(s_d(2024, 5, 15), 0), 2024, 5, 15);
}

static void test_date_of_utc_floors_times_before_1970(void **state)
{
	(void)state;
	s_assert_date(date_of_utc(-1), 1969, 12, 31);
	s_assert_date(date_of_utc(-DAY), 1969, 12, 31);
	s_assert_date(date_of_utc(-DAY - 1), 1969, 12, 30);
	s_assert_date(date_of_utc(1641503131), 2022, 1, 6);
}

/* ---- US Eastern time ------------------------------------------------------------ */

/* Second Sunday of March and first Sunday of November, 2020-2030. */
static const struct {
	int year, march_day, november_day;
} s_dst_switches[] = {
	{ 2020, 8, 1 },  { 2021, 14, 7 }, { 2022, 13, 6 }, { 2023, 12, 5 },
	{ 2024, 10, 3 }, { 2025, 9, 2 },  { 2026, 8, 1 },  { 2027, 14, 7 },
	{ 2028, 12, 5 }, { 2029, 11, 4 }, { 2030, 10, 3 },
};
#define N_DST_SWITCHES (sizeof(s_dst_switches) / sizeof(s_dst_switches[0]))

static void s_dst_instants(size_t i, int64_t *start, int64_t *end)
{
	char buf[32];

	/* 02:00 EST = 07:00Z; 02:00 EDT = 06:00Z. */
	snprintf(buf, sizeof(buf), "%04d-03-%02dT07:00:00Z", s_dst_switches[i].year,
	         s_dst_switches[i].march_day);
	*start = s_t(buf);
	snprintf(buf, sizeof(buf), "%04d-11-%02dT06:00:00Z", s_dst_switches[i].year,
	         s_dst_switches[i].november_day);
	*end = s_t(buf);
}

static void s_assert_eastern(int64_t utc, civil_date_t d, int hour, int min, int sec)
{
	civil_date_t got;
	int sod = -1;

	utc_to_eastern(utc, &got, &sod);
	s_assert_date(got, d.year, d.month, d.day);
	assert_int_equal(sod, hour * 3600 + min * 60 + sec);
}

static void test_dst_switches_at_exact_utc_instants_2020_to_2030(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DST_SWITCHES; i++) {
		int y = s_dst_switches[i].year;
		civil_date_t mar = s_d(y, 3, s_dst_switches[i].march_day);
		civil_date_t nov = s_d(y, 11, s_dst_switches[i].november_day);
		int64_t start, end;

		s_dst_instants(i, &start, &end);
		assert_int_equal(date_weekday(mar), 0);
		assert_int_equal(date_weekday(nov), 0);

		assert_false(eastern_is_dst(start - 1));
		assert_true(eastern_is_dst(start));
		assert_true(eastern_is_dst(end - 1));
		assert_false(eastern_is_dst(end));
		assert_int_equal(eastern_offset(start - 1), -5 * HOUR);
		assert_int_equal(eastern_offset(start), -4 * HOUR);
		assert_int_equal(eastern_offset(end - 1), -4 * HOUR);
		assert_int_equal(eastern_offset(end), -5 * HOUR);
		/* Mid-winter and mid-summer. */
		assert_int_equal(eastern_offset(start - 30 * DAY), -5 * HOUR);
		assert_int_equal(eastern_offset(start + 90 * DAY), -4 * HOUR);
		assert_int_equal(eastern_offset(end + 30 * DAY), -5 * HOUR);

		/* The wall clock jumps 01:59:59 EST -> 03:00:00 EDT ... */
		s_assert_eastern(start - 1, mar, 1, 59, 59);
		s_assert_eastern(start, mar, 3, 0, 0);
		/* ... and falls back 01:59:59 EDT -> 01:00:00 EST. */
		s_assert_eastern(end - 1, nov, 1, 59, 59);
		s_assert_eastern(end, nov, 1, 0, 0);
		s_assert_eastern(end - HOUR, nov, 1, 0, 0);
	}
}

static void test_skipped_march_hour_is_read_as_est(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DST_SWITCHES; i++) {
		civil_date_t mar = s_d(s_dst_switches[i].year, 3, s_dst_switches[i].march_day);
		int64_t start, end, u;

		s_dst_instants(i, &start, &end);
		assert_int_equal(eastern_to_utc(mar, 1, 59, 59, &u), 0);
		assert_int_equal(u, start - 1);
		/* 02:00-02:59 do not exist; read as EST they land an hour on. */
		assert_int_equal(eastern_to_utc(mar, 2, 0, 0, &u), 0);
		assert_int_equal(u, start);
		assert_int_equal(eastern_to_utc(mar, 2, 30, 0, &u), 0);
		assert_int_equal(u, start + 30 * 60);
		s_assert_eastern(u, mar, 3, 30, 0);
		assert_int_equal(eastern_to_utc(mar, 3, 0, 0, &u), 0);
		assert_int_equal(u, start);
		assert_int_equal(eastern_to_utc(mar, 0, 0, 0, &u), 0);
		assert_int_equal(u, start - 2 * HOUR);
	}
}

static void test_repeated_november_hour_picks_edt(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DST_SWITCHES; i++) {
		civil_date_t nov = s_d(s_dst_switches[i].year, 11, s_dst_switches[i].november_day);
		int64_t start, end, u;

		s_dst_instants(i, &start, &end);
		/* 01:30 happens twice: 05:30Z (EDT) and 06:30Z (EST). */
		assert_int_equal(eastern_to_utc(nov, 1, 30, 0, &u), 0);
		assert_int_equal(u, end - 30 * 60);
		s_assert_eastern(end + 30 * 60, nov, 1, 30, 0);
		assert_int_equal(eastern_to_utc(nov, 1, 0, 0, &u), 0);
		assert_int_equal(u, end - HOUR);
		assert_int_equal(eastern_to_utc(nov, 0, 59, 59, &u), 0);
		assert_int_equal(u, end - HOUR - 1);
		/* From 02:00 on the day is plain EST: 02:00 EST = 07:00Z, an
		 * hour after the 06:00Z switch. */
		assert_int_equal(eastern_to_utc(nov, 2, 0, 0, &u), 0);
		assert_int_equal(u, end + HOUR);
		assert_int_equal(eastern_to_utc(nov, 12, 0, 0, &u), 0);
		assert_int_equal(u, end + 11 * HOUR);
	}
}

static void test_eastern_to_utc_rejects_invalid_wall_times(void **state)
{
	int64_t u = 777;

	(void)state;
	assert_int_equal(eastern_to_utc(s_d(2024, 2, 30), 9, 30, 0, &u), -1);
	assert_int_equal(eastern_to_utc(s_d(2024, 1, 8), 24, 0, 0, &u), -1);
	assert_int_equal(eastern_to_utc(s_d(2024, 1, 8), -1, 0, 0, &u), -1);
	assert_int_equal(eastern_to_utc(s_d(2024, 1, 8), 9, 60, 0, &u), -1);
	assert_int_equal(eastern_to_utc(s_d(2024, 1, 8), 9, 30, 60, &u), -1);
	assert_int_equal(u, 777);
	assert_int_equal(eastern_to_utc(s_d(2024, 1, 8), 9, 30, 0, &u), 0);
	assert_int_equal(u, s_t("2024-01-08T14:30:00Z"));
}

/*
 * The system's tz database is an independent source for America/New_York;
 * compare every quarter hour of 2007-2037 (the rule's whole span that the
 * database and a 32-bit-safe range cover).  Skipped when the zone is absent.
 */
static void test_eastern_time_agrees_with_tz_database_2007_to_2037(void **state)
{
	const char *zone = "/usr/share/zoneinfo/America/New_York";
	char *saved = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;
	int64_t from = s_t("2007-01-01T00:00:00Z"), to = s_t("2038-01-01T00:00:00Z");

	(void)state;
	if (access(zone, R_OK) != 0) {
		fprintf(stderr, "SKIP: %s absent: tz database comparison skipped\n", zone);
		free(saved);
		skip();
	}
	setenv("TZ", "America/New_York", 1);
	tzset();
	for (int64_t u = from; u < to; u += 900) {
		time_t tt = (time_t)u;
		struct tm tm;
		civil_date_t d;
		int sod;
		int64_t back;

		assert_non_null(localtime_r(&tt, &tm));
		assert_int_equal(eastern_offset(u), tm.tm_gmtoff);
		assert_int_equal(eastern_is_dst(u), tm.tm_isdst > 0);
		utc_to_eastern(u, &d, &sod);
		s_assert_date(d, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		assert_int_equal(sod, tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
		/* Back again: exact, except the EST copy of the repeated hour,
		 * which eastern_to_utc reads as EDT, an hour earlier. */
		assert_int_equal(eastern_to_utc(d, sod / 3600, sod / 60 % 60, sod % 60, &back), 0);
		if (back != u) {
			assert_int_equal(back, u - HOUR);
			assert_false(eastern_is_dst(u));
			assert_true(eastern_is_dst(u - HOUR));
		}
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* ---- NYSE calendar --------------------------------------------------------------- */

/*
 * Every weekday the NYSE is closed, 2020-2030.  2020-2027 from the exchange's
 * published calendars; 2028-2030 as its rules give them.  Note the years with
 * no New Year holiday (2022, 2028: January 1 a Saturday, and Rule 7.2 keeps the
 * Friday before open) and the observed days of weekend holidays.
 */
static const civil_date_t s_nyse_holidays[] = {
	/* 2020 */
	{ 2020, 1, 1 },
	{ 2020, 1, 20 },
	{ 2020, 2, 17 },
	{ 2020, 4, 10 },
	{ 2020, 5, 25 },
	{ 2020, 7, 3 }, /* July 4 a Saturday */
	{ 2020, 9, 7 },
	{ 2020, 11, 26 },
	{ 2020, 12, 25 },
	/* 2021 */
	{ 2021, 1, 1 },
	{ 2021, 1, 18 },
	{ 2021, 2, 15 },
	{ 2021, 4, 2 },
	{ 2021, 5, 31 },
	{ 2021, 7, 5 }, /* July 4 a Sunday */
	{ 2021, 9, 6 },
	{ 2021, 11, 25 },
	{ 2021, 12, 24 }, /* Christmas a Saturday */
	/* 2022: no New Year holiday */
	{ 2022, 1, 17 },
	{ 2022, 2, 21 },
	{ 2022, 4, 15 },
	{ 2022, 5, 30 },
	{ 2022, 6, 20 }, /* Juneteenth a Sunday */
	{ 2022, 7, 4 },
	{ 2022, 9, 5 },
	{ 2022, 11, 24 },
	{ 2022, 12, 26 }, /* Christmas a Sunday */
	/* 2023 */
	{ 2023, 1, 2 }, /* New Year a Sunday */
	{ 2023, 1, 16 },
	{ 2023, 2, 20 },
	{ 2023, 4, 7 },
	{ 2023, 5, 29 },
	{ 2023, 6, 19 },
	{ 2023, 7, 4 },
	{ 2023, 9, 4 },
	{ 2023, 11, 23 },
	{ 2023, 12, 25 },
	/* 2024 */
	{ 2024, 1, 1 },
	{ 2024, 1, 15 },
	{ 2024, 2, 19 },
	{ 2024, 3, 29 },
	{ 2024, 5, 27 },
	{ 2024, 6, 19 },
	{ 2024, 7, 4 },
	{ 2024, 9, 2 },
	{ 2024, 11, 28 },
	{ 2024, 12, 25 },
	/* 2025 */
	{ 2025, 1, 1 },
	{ 2025, 1, 9 }, /* President Carter's day of mourning */
	{ 2025, 1, 20 },
	{ 2025, 2, 17 },
	{ 2025, 4, 18 },
	{ 2025, 5, 26 },
	{ 2025, 6, 19 },
	{ 2025, 7, 4 },
	{ 2025, 9, 1 },
	{ 2025, 11, 27 },
	{ 2025, 12, 25 },
	/* 2026 */
	{ 2026, 1, 1 },
	{ 2026, 1, 19 },
	{ 2026, 2, 16 },
	{ 2026, 4, 3 },
	{ 2026, 5, 25 },
	{ 2026, 6, 19 },
	{ 2026, 7, 3 }, /* July 4 a Saturday */
	{ 2026, 9, 7 },
	{ 2026, 11, 26 },
	{ 2026, 12, 25 },
	/* 2027 */
	{ 2027, 1, 1 },
	{ 2027, 1, 18 },
	{ 2027, 2, 15 },
	{ 2027, 3, 26 },
	{ 2027, 5, 31 },
	{ 2027, 6, 18 }, /* Juneteenth a Saturday */
	{ 2027, 7, 5 },  /* July 4 a Sunday */
	{ 2027, 9, 6 },
	{ 2027, 11, 25 },
	{ 2027, 12, 24 }, /* Christmas a Saturday */
	/* 2028: no New Year holiday (2027-12-31 is a trading Friday) */
	{ 2028, 1, 17 },
	{ 2028, 2, 21 },
	{ 2028, 4, 14 },
	{ 2028, 5, 29 },
	{ 2028, 6, 19 },
	{ 2028, 7, 4 },
	{ 2028, 9, 4 },
	{ 2028, 11, 23 },
	{ 2028, 12, 25 },
	/* 2029 */
	{ 2029, 1, 1 },
	{ 2029, 1, 15 },
	{ 2029, 2, 19 },
	{ 2029, 3, 30 },
	{ 2029, 5, 28 },
	{ 2029, 6, 19 },
	{ 2029, 7, 4 },
	{ 2029, 9, 3 },
	{ 2029, 11, 22 },
	{ 2029, 12, 25 },
	/* 2030 */
	{ 2030, 1, 1 },
	{ 2030, 1, 21 },
	{ 2030, 2, 18 },
	{ 2030, 4, 19 },
	{ 2030, 5, 27 },
	{ 2030, 6, 19 },
	{ 2030, 7, 4 },
	{ 2030, 9, 2 },
	{ 2030, 11, 28 },
	{ 2030, 12, 25 },
};

/* Every 13:00 ET early close, 2020-2030. */
static const civil_date_t s_nyse_early_closes[] = {
	{ 2020, 11, 27 }, { 2020, 12, 24 }, /* no July 2: July 3 a holiday */
	{ 2021, 11, 26 },                   /* Dec 24 the holiday */
	{ 2022, 11, 25 },                   /* July 3 a Sunday */
	{ 2023, 7, 3 },   { 2023, 11, 24 }, /* Dec 24 a Sunday */
	{ 2024, 7, 3 },   { 2024, 11, 29 }, { 2024, 12, 24 }, { 2025, 7, 3 }, { 2025, 11, 28 },
	{ 2025, 12, 24 }, { 2026, 11, 27 }, { 2026, 12, 24 }, /* July 3 the holiday */
	{ 2027, 11, 26 },                                     /* like 2021 */
	{ 2028, 7, 3 },   { 2028, 11, 24 },                   /* Dec 24 a Sunday */
	{ 2029, 7, 3 },   { 2029, 11, 23 }, { 2029, 12, 24 }, { 2030, 7, 3 }, { 2030, 11, 29 },
	{ 2030, 12, 24 },
};

static bool s_in(const civil_date_t *list, size_t n, civil_date_t d)
{
	for (size_t i = 0; i < n; i++)
		if (s_same_date(list[i], d))
			return true;
	return false;
}

#define IN_TABLE(tab, d) s_in((tab), sizeof(tab) / sizeof((tab)[0]), (d))

/*
 * Walk every day 2020-2030 with gmtime_r (independent of the code under test)
 * and hold the calendar to the tables in both directions: a listed day is a
 * holiday, an unlisted weekday is a trading day, a weekend day is neither.
 */
static void test_nyse_holidays_2020_to_2030_match_published_calendars(void **state)
{
	int64_t from = 1577836800; /* 2020-01-01T00:00:00Z */
	int64_t to = 1924992000;   /* 2031-01-01T00:00:00Z */
	size_t holidays = 0, trading = 0;
	char buf[11];

	(void)state;
	for (size_t i = 0; i < sizeof(s_nyse_holidays) / sizeof(s_nyse_holidays[0]); i++) {
		int wd = date_weekday(s_nyse_holidays[i]);

		/* Table sanity: the list holds weekdays only. */
		if (wd == 0 || wd == 6)
			fail_msg("table lists weekend day %s",
			         date_format(s_nyse_holidays[i], buf, sizeof(buf)));
	}
	for (int64_t u = from; u < to; u += DAY) {
		time_t tt = (time_t)u;
		struct tm tm;
		civil_date_t d;
		bool weekend, listed;

		assert_non_null(gmtime_r(&tt, &tm));
		d = s_d(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		weekend = tm.tm_wday == 0 || tm.tm_wday == 6;
		listed = IN_TABLE(s_nyse_holidays, d);
		if (nyse_is_holiday(d) != listed)
			fail_msg("%s: nyse_is_holiday %d, published %d",
			         date_format(d, buf, sizeof(buf)), nyse_is_holiday(d), listed);
		if (nyse_is_trading_day(d) != (!weekend && !listed))
			fail_msg("%s: nyse_is_trading_day %d, expected %d",
			         date_format(d, buf, sizeof(buf)), nyse_is_trading_day(d),
			         !weekend && !listed);
		holidays += listed;
		trading += !weekend && !listed;
	}
	assert_int_equal(holidays, sizeof(s_nyse_holidays) / sizeof(s_nyse_holidays[0]));
	/* 4018 days, 2870 weekdays, 107 of them holidays. */
	assert_int_equal(holidays, 107);
	assert_int_equal(trading, 2870 - 107);
}

static void test_nyse_early_closes_2020_to_2030(void **state)
{
	int64_t from = 1577836800, to = 1924992000;
	size_t early = 0;
	char buf[11];

	(void)state;
	for (int64_t u = from; u < to; u += DAY) {
		time_t tt = (time_t)u;
		struct tm tm;
		civil_date_t d;
		bool listed;

		assert_non_null(gmtime_r(&tt, &tm));
		d = s_d(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		listed = IN_TABLE(s_nyse_early_closes, d);
		if (nyse_is_early_close(d) != listed)
			fail_msg("%s: nyse_is_early_close %d, expected %d",
			         date_format(d, buf, sizeof(buf)), nyse_is_early_close(d), listed);
		if (listed)
			assert_true(nyse_is_trading_day(d));
		early += listed;
	}
	assert_int_equal(early, sizeof(s_nyse_early_closes) / sizeof(s_nyse_early_closes[0]));
}

static void test_saturday_new_year_is_not_observed_on_friday(void **state)
{
	(void)state;
	assert_true(nyse_is_trading_day(s_d(2021, 12, 31)));
	assert_true(nyse_is_trading_day(s_d(2022, 1, 3)));
	assert_true(nyse_is_trading_day(s_d(2027, 12, 31)));
	assert_true(nyse_is_trading_day(s_d(2028, 1, 3)));
	assert_true(nyse_is_trading_day(s_d(2010, 12, 31))); /* 2011-01-01 a Saturday */
	/* A Sunday New Year moves to Monday. */
	assert_true(nyse_is_holiday(s_d(2023, 1, 2)));
	assert_true(nyse_is_holiday(s_d(2017, 1, 2)));
	/* The weekend days themselves are not reported as holidays. */
	assert_false(nyse_is_holiday(s_d(2022, 1, 1)));
	assert_false(nyse_is_trading_day(s_d(2022, 1, 1)));
	assert_false(nyse_is_holiday(s_d(2023, 1, 1)));
}

static void test_july_4_on_saturday_closes_friday_without_early_close(void **state)
{
	(void)state;
	assert_true(nyse_is_holiday(s_d(2020, 7, 3)));
	assert_false(nyse_is_early_close(s_d(2020, 7, 2)));
	assert_false(nyse_is_early_close(s_d(2020, 7, 3)));
	assert_true(nyse_is_holiday(s_d(2026, 7, 3)));
	assert_false(nyse_is_early_close(s_d(2026, 7, 2)));
	assert_true(nyse_is_trading_day(s_d(2026, 7, 2)));
	/* July 4 a Monday: no early close on Friday July 1. */
	assert_false(nyse_is_early_close(s_d(2022, 7, 1)));
	/* Wednesday July 3 closes early. */
	assert_true(nyse_is_early_close(s_d(2024, 7, 3)));
	assert_true(nyse_is_early_close(s_d(2019, 7, 3)));
	/* Christmas a Saturday: Friday Dec 24 closed, Thursday Dec 23 a full day. */
	assert_true(nyse_is_holiday(s_d(2021, 12, 24)));
	assert_false(nyse_is_early_close(s_d(2021, 12, 23)));
	assert_false(nyse_is_early_close(s_d(2021, 12, 24)));
}

static void test_special_closures_2018_and_2025(void **state)
{
	(void)state;
	assert_true(nyse_is_holiday(s_d(2018, 12, 5)));
	assert_false(nyse_is_trading_day(s_d(2018, 12, 5)));
	assert_true(nyse_is_trading_day(s_d(2018, 12, 4)));
	assert_true(nyse_is_trading_day(s_d(2018, 12, 6)));
	assert_true(nyse_is_holiday(s_d(2025, 1, 9)));
	assert_true(nyse_is_trading_day(s_d(2025, 1, 8)));
	assert_true(nyse_is_trading_day(s_d(2025, 1, 10)));
	/* Not a yearly rule. */
	assert_true(nyse_is_trading_day(s_d(2019, 12, 5)));
	assert_true(nyse_is_trading_day(s_d(2026, 1, 9)));
}

static void test_good_friday_follows_gregorian_easter(void **state)
{
	/* Easter extremes and ordinary years: Good Friday two days before. */
	static const civil_date_t good_fridays[] = {
		{ 1818, 3, 20 }, { 2000, 4, 21 }, { 2008, 3, 21 }, { 2011, 4, 22 },
		{ 2019, 4, 19 }, { 2038, 4, 23 }, { 2285, 3, 20 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good_fridays) / sizeof(good_fridays[0]); i++) {
		assert_int_equal(date_weekday(good_fridays[i]), 5);
		assert_true(nyse_is_holiday(good_fridays[i]));
		assert_true(nyse_is_trading_day(date_add_days(good_fridays[i], -1)));
		assert_true(nyse_is_trading_day(date_add_days(good_fridays[i], 7)));
		assert_true(nyse_is_trading_day(date_add_days(good_fridays[i], -7)));
	}
}

static void test_juneteenth_is_a_holiday_only_from_2022(void **state)
{
	(void)state;
	assert_true(nyse_is_trading_day(s_d(2021, 6, 18))); /* Saturday's federal Friday */
	assert_true(nyse_is_trading_day(s_d(2020, 6, 19)));
	assert_true(nyse_is_holiday(s_d(2022, 6, 20)));
	assert_true(nyse_is_holiday(s_d(2024, 6, 19)));
}

static void test_invalid_dates_are_never_trading_days(void **state)
{
	int64_t o = 5, c = 6;

	(void)state;
	assert_false(nyse_is_trading_day(s_d(2024, 2, 30)));
	assert_false(nyse_is_holiday(s_d(2024, 13, 1)));
	assert_false(nyse_is_early_close(s_d(2024, 11, 31)));
	assert_int_equal(nyse_session(s_d(2024, 0, 0), &o, &c), -1);
	assert_int_equal(o, 5);
	assert_int_equal(c, 6);
}

static void s_assert_session(civil_date_t d, const char *open, const char *close)
{
	int64_t o = 0, c = 0;

	assert_int_equal(nyse_session(d, &o, &c), 0);
	assert_int_equal(o, s_t(open));
	assert_int_equal(c, s_t(close));
}

static void test_session_hours_in_winter_and_summer(void **state)
{
	(void)state;
	s_assert_session(s_d(2024, 1, 8), "2024-01-08T14:30:00Z", "2024-01-08T21:00:00Z");
	s_assert_session(s_d(2024, 7, 8), "2024-07-08T13:30:00Z", "2024-07-08T20:00:00Z");
	/* Either side of the March and November switches. */
	s_assert_session(s_d(2024, 3, 8), "2024-03-08T14:30:00Z", "2024-03-08T21:00:00Z");
	s_assert_session(s_d(2024, 3, 11), "2024-03-11T13:30:00Z", "2024-03-11T20:00:00Z");
	s_assert_session(s_d(2024, 11, 1), "2024-11-01T13:30:00Z", "2024-11-01T20:00:00Z");
	s_assert_session(s_d(2024, 11, 4), "2024-11-04T14:30:00Z", "2024-11-04T21:00:00Z");
}

static void test_early_close_session_ends_at_13_eastern(void **state)
{
	(void)state;
	s_assert_session(s_d(2024, 7, 3), "2024-07-03T13:30:00Z", "2024-07-03T17:00:00Z");
	s_assert_session(s_d(2024, 11, 29), "2024-11-29T14:30:00Z", "2024-11-29T18:00:00Z");
	s_assert_session(s_d(2024, 12, 24), "2024-12-24T14:30:00Z", "2024-12-24T18:00:00Z");
	s_assert_session(s_d(2023, 7, 3), "2023-07-03T13:30:00Z", "2023-07-03T17:00:00Z");
}

static void test_session_refused_on_weekends_and_holidays(void **state)
{
	int64_t o = 1, c = 2;

	(void)state;
	assert_int_equal(nyse_session(s_d(2024, 1, 6), &o, &c), -1);   /* Saturday */
	assert_int_equal(nyse_session(s_d(2024, 1, 7), &o, &c), -1);   /* Sunday */
	assert_int_equal(nyse_session(s_d(2024, 12, 25), &o, &c), -1); /* Christmas */
	assert_int_equal(nyse_session(s_d(2025, 1, 9), &o, &c), -1);   /* Carter */
	assert_int_equal(o, 1);
	assert_int_equal(c, 2);
	assert_int_equal(nyse_session(s_d(2024, 1, 8), NULL, NULL), 0);
}

/* Every session 2020-2030 opens 09:30 and closes 16:00 (13:00 early) ET. */
static void test_every_session_2020_to_2030_is_0930_to_1600_eastern(void **state)
{
	civil_date_t d = s_d(2020, 1, 1);
	int sessions = 0;

	(void)state;
	for (; d.year <= 2030; d = date_add_days(d, 1)) {
		int64_t o, c;
		civil_date_t od, cd;
		int osod, csod;
		bool early = IN_TABLE(s_nyse_early_closes, d);

		if (nyse_session(d, &o, &c) != 0)
			continue;
		sessions++;
		utc_to_eastern(o, &od, &osod);
		utc_to_eastern(c, &cd, &csod);
		assert_true(s_same_date(od, d));
		assert_true(s_same_date(cd, d));
		assert_int_equal(osod, 9 * HOUR + 30 * 60);
		assert_int_equal(csod, (early ? 13 : 16) * HOUR);
		assert_int_equal(c - o, early ? 3 * HOUR + 30 * 60 : 6 * HOUR + 30 * 60);
		assert_true(nyse_is_open(o));
		assert_true(nyse_is_open(c - 1));
		assert_false(nyse_is_open(o - 1));
		assert_false(nyse_is_open(c));
		assert_int_equal(nyse_next_open(o), o);
		assert_int_equal(nyse_next_open(o - 6 * HOUR), o);
	}
	assert_int_equal(sessions, 2870 - 107);
}

static void test_nyse_is_open_only_during_the_session(void **state)
{
	(void)state;
	assert_false(nyse_is_open(s_t("2024-01-08T14:29:59Z")));
	assert_true(nyse_is_open(s_t("2024-01-08T14:30:00Z")));
	assert_true(nyse_is_open(s_t("2024-01-08T20:59:59Z")));
	assert_false(nyse_is_open(s_t("2024-01-08T21:00:00Z")));
	assert_false(nyse_is_open(s_t("2024-01-06T16:00:00Z"))); /* Saturday */
	assert_false(nyse_is_open(s_t("2024-12-25T16:00:00Z"))); /* Christmas */
	assert_false(nyse_is_open(s_t("2024-03-29T16:00:00Z"))); /* Good Friday */
	assert_true(nyse_is_open(s_t("2024-12-24T17:59:59Z")));
	assert_false(nyse_is_open(s_t("2024-12-24T18:00:00Z"))); /* after 13:00 ET */
	assert_false(nyse_is_open(s_t("2024-12-24T20:00:00Z")));
	/* 00:30 UTC Tuesday is still Monday evening in New York: closed. */
	assert_false(nyse_is_open(s_t("2024-01-09T00:30:00Z")));
}

static void test_next_open_skips_nights_weekends_and_holidays(void **state)
{
	(void)state;
	/* Before the open on a trading day: today's open; at it: the same. */
	assert_int_equal(nyse_next_open(s_t("2024-01-08T05:00:00Z")), s_t("2024-01-08T14:30:00Z"));
	assert_int_equal(nyse_next_open(s_t("2024-01-08T14:30:00Z")), s_t("2024-01-08T14:30:00Z"));
	/* During the session and after the close: the next day's. */
	assert_int_equal(nyse_next_open(s_t("2024-01-08T14:30:01Z")), s_t("2024-01-09T14:30:00Z"));
	assert_int_equal(nyse_next_open(s_t("2024-01-08T22:00:00Z")), s_t("2024-01-09T14:30:00Z"));
	/* Late Monday evening ET is Tuesday in UTC. */
	assert_int_equal(nyse_next_open(s_t("2024-01-09T03:00:00Z")), s_t("2024-01-09T14:30:00Z"));
	/* Friday after the close -> Monday; Saturday and Sunday -> Monday. */
	assert_int_equal(nyse_next_open(s_t("2024-01-05T21:00:00Z")), s_t("2024-01-08T14:30:00Z"));
	assert_int_equal(nyse_next_open(s_t("2024-01-06T12:00:00Z")), s_t("2024-01-08T14:30:00Z"));
	assert_int_equal(nyse_next_open(s_t("2024-01-07T23:59:59Z")), s_t("2024-01-08T14:30:00Z"));
	/* MLK weekend: Friday -> Tuesday. */
	assert_int_equal(nyse_next_open(s_t("2024-01-12T22:00:00Z")), s_t("2024-01-16T14:30:00Z"));
	/* Good Friday 2024 with the clocks already in EDT: Thursday -> Monday. */
	assert_int_equal(nyse_next_open(s_t("2024-03-28T20:00:00Z")), s_t("2024-04-01T13:30:00Z"));
	/* The DST weekend: Friday's open was 14:30Z, Monday's is 13:30Z. */
	assert_int_equal(nyse_next_open(s_t("2024-03-08T21:00:00Z")), s_t("2024-03-11T13:30:00Z"));
	assert_int_equal(nyse_next_open(s_t("2024-11-01T20:00:00Z")), s_t("2024-11-04T14:30:00Z"));
	/* After the Christmas Eve early close -> December 26. */
	assert_int_equal(nyse_next_open(s_t("2024-12-24T18:00:00Z")), s_t("2024-12-26T14:30:00Z"));
	/* Carter closure: Wednesday -> Friday. */
	assert_int_equal(nyse_next_open(s_t("2025-01-08T21:00:00Z")), s_t("2025-01-10T14:30:00Z"));
	/* Saturday New Year: Thursday -> Friday Dec 31 2021 is open. */
	assert_int_equal(nyse_next_open(s_t("2021-12-30T21:00:00Z")), s_t("2021-12-31T14:30:00Z"));
	/* Thanksgiving Wednesday -> Friday (early-close day opens as usual). */
	assert_int_equal(nyse_next_open(s_t("2024-11-27T21:00:00Z")), s_t("2024-11-29T14:30:00Z"));
	/* Christmas on Saturday 2021: Thursday Dec 23 -> Monday Dec 27. */
	assert_int_equal(nyse_next_open(s_t("2021-12-23T21:00:00Z")), s_t("2021-12-27T14:30:00Z"));
}

static void test_next_trading_day_skips_weekends_and_holidays(void **state)
{
	(void)state;
	s_assert_date(nyse_next_trading_day(s_d(2024, 1, 8)), 2024, 1, 9);
	s_assert_date(nyse_next_trading_day(s_d(2024, 1, 5)), 2024, 1, 8);
	s_assert_date(nyse_next_trading_day(s_d(2024, 1, 6)), 2024, 1, 8);
	s_assert_date(nyse_next_trading_day(s_d(2024, 1, 12)), 2024, 1, 16);
	s_assert_date(nyse_next_trading_day(s_d(2024, 11, 27)), 2024, 11, 29);
	s_assert_date(nyse_next_trading_day(s_d(2024, 12, 24)), 2024, 12, 26);
	s_assert_date(nyse_next_trading_day(s_d(2024, 12, 31)), 2025, 1, 2);
	s_assert_date(nyse_next_trading_day(s_d(2021, 12, 30)), 2021, 12, 31);
	s_assert_date(nyse_next_trading_day(s_d(2021, 12, 31)), 2022, 1, 3);
	s_assert_date(nyse_next_trading_day(s_d(2025, 1, 8)), 2025, 1, 10);
	s_assert_date(nyse_next_trading_day(s_d(2020, 7, 2)), 2020, 7, 6);
}

/* ---- clocks and extremes --------------------------------------------------------- */

static void test_fixed_clock_overrides_time_now(void **state)
{
	int64_t real;

	(void)state;
	time_set_now(1641503131);
	assert_int_equal(time_now(), 1641503131);
	assert_int_equal(time_now(), 1641503131);
	time_set_now(0);
	assert_int_equal(time_now(), 0);
	time_set_now(TIME_UNSET);
	real = (int64_t)time(NULL);
	assert_true(time_now() >= real - 2 && time_now() <= real + 2);
}

static void test_monotonic_clock_never_goes_back(void **state)
{
	int64_t a, b;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	(void)state;
	a = time_mono_ms();
	nanosleep(&ts, NULL);
	b = time_mono_ms();
	assert_true(a > 0);
	assert_true(b - a >= 20);
	assert_true(b - a < 10000);
	/* The fixed wall clock does not affect it. */
	time_set_now(0);
	assert_true(time_mono_ms() >= b);
	time_set_now(TIME_UNSET);
}

static void test_extreme_inputs_do_not_overflow_or_hang(void **state)
{
	char buf[TIME_RFC3339_LEN];
	civil_date_t d;
	int sod;

	(void)state;
	assert_false(nyse_is_open(INT64_MAX));
	assert_false(nyse_is_open(INT64_MIN));
	assert_int_equal(nyse_next_open(INT64_MAX), INT64_MAX);
	assert_true(nyse_next_open(INT64_MIN) > INT64_MIN);
	s_assert_date(date_of_utc(INT64_MIN), 1, 1, 1);
	s_assert_date(date_of_utc(INT64_MAX), 9999, 12, 31);
	s_assert_date(date_from_days(INT64_MAX), 9999, 12, 31);
	s_assert_date(date_from_days(INT64_MIN), 1, 1, 1);
	assert_string_equal(time_format_rfc3339(INT64_MAX, buf, sizeof(buf)),
	                    "9999-12-31T23:59:59Z");
	utc_to_eastern(INT64_MAX, &d, &sod);
	assert_true(sod >= 0 && sod < DAY);
	(void)eastern_is_dst(INT64_MIN);
	assert_false(date_valid(nyse_next_trading_day(s_d(9999, 12, 31))));
	assert_true(nyse_is_trading_day(nyse_next_trading_day(s_d(0, 1, 1))));
	assert_int_equal(date_to_days(s_d(INT32_MAX, 12, 31)) > 0, 1);
	assert_int_equal(date_to_days(s_d(INT32_MIN, 1, 1)) < 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_parses_utc_times),
		cmocka_unit_test(test_rfc3339_fraction_is_truncated_not_rounded),
		cmocka_unit_test(test_rfc3339_applies_eastern_offsets),
		cmocka_unit_test(test_rfc3339_accepts_lowercase_t_z_and_space_separator),
		cmocka_unit_test(test_rfc3339_format_writes_utc_with_z),
		cmocka_unit_test(test_rfc3339_format_is_byte_identical_to_snprintf),
		cmocka_unit_test(test_rfc3339_round_trips),
		cmocka_unit_test(test_rfc3339_rejects_bad_month_and_day),
		cmocka_unit_test(test_rfc3339_rejects_feb_29_in_non_leap_years),
		cmocka_unit_test(test_rfc3339_rejects_hour_24_minute_60_and_leap_second),
		cmocka_unit_test(test_rfc3339_rejects_garbage_and_trailing_junk),
		cmocka_unit_test(test_rfc3339_rejects_years_out_of_range_and_overflow),
		cmocka_unit_test(test_date_parse_is_strict),
		cmocka_unit_test(test_date_format_pads_fields),
		cmocka_unit_test(test_date_format_is_the_printf_text),
		cmocka_unit_test(test_date_valid_checks_month_lengths_and_range),
		cmocka_unit_test(test_days_since_epoch_known_values),
		cmocka_unit_test(test_civil_dates_agree_with_gmtime_1800_to_2200),
		cmocka_unit_test(test_date_add_days_crosses_months_years_and_leap_days),
		cmocka_unit_test(test_date_of_utc_floors_times_before_1970),
		cmocka_unit_test(test_dst_switches_at_exact_utc_instants_2020_to_2030),
		cmocka_unit_test(test_skipped_march_hour_is_read_as_est),
		cmocka_unit_test(test_repeated_november_hour_picks_edt),
		cmocka_unit_test(test_eastern_to_utc_rejects_invalid_wall_times),
		cmocka_unit_test(test_eastern_time_agrees_with_tz_database_2007_to_2037),
		cmocka_unit_test(test_nyse_holidays_2020_to_2030_match_published_calendars),
		cmocka_unit_test(test_nyse_early_closes_2020_to_2030),
		cmocka_unit_test(test_saturday_new_year_is_not_observed_on_friday),
		cmocka_unit_test(test_july_4_on_saturday_closes_friday_without_early_close),
		cmocka_unit_test(test_special_closures_2018_and_2025),
		cmocka_unit_test(test_good_friday_follows_gregorian_easter),
		cmocka_unit_test(test_juneteenth_is_a_holiday_only_from_2022),
		cmocka_unit_test(test_invalid_dates_are_never_trading_days),
		cmocka_unit_test(test_session_hours_in_winter_and_summer),
		cmocka_unit_test(test_early_close_session_ends_at_13_eastern),
		cmocka_unit_test(test_session_refused_on_weekends_and_holidays),
		cmocka_unit_test(test_every_session_2020_to_2030_is_0930_to_1600_eastern),
		cmocka_unit_test(test_nyse_is_open_only_during_the_session),
		cmocka_unit_test(test_next_open_skips_nights_weekends_and_holidays),
		cmocka_unit_test(test_next_trading_day_skips_weekends_and_holidays),
		cmocka_unit_test(test_fixed_clock_overrides_time_now),
		cmocka_unit_test(test_monotonic_clock_never_goes_back),
		cmocka_unit_test(test_extreme_inputs_do_not_overflow_or_hang),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
