/*
 * test_numparse.c - number and date cells as the insider-trade sources
 * print them, read strictly: what is not exactly a number is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../scraper/numparse.h"

static double s_num(const char *s)
{
	double x = -12345;

	assert_int_equal(np_number(s, &x), NP_OK);
	return x;
}

static void test_dollars_commas_signs_and_percent(void **state)
{
	(void)state;
	assert_true(s_num("$29.90") == 29.90);
	assert_true(s_num("+3,597") == 3597);
	assert_true(s_num("-10,493") == -10493);
	assert_true(s_num("+$251,999") == 251999);
	assert_true(s_num("-$313,792") == -313792);
	assert_true(s_num("$-5") == -5);
	assert_true(s_num("1,022,824") == 1022824);
	assert_true(s_num("  11.37 ") == 11.37);
	assert_true(s_num("\xc2\xa0"
	                  "52,731\xc2\xa0") == 52731); /* &nbsp; around it */
	assert_true(s_num("-6%") == -6);
	assert_true(s_num("196.356") == 196.356);
	assert_true(s_num("5.3569") == 5.3569);
	assert_true(s_num("0.00") == 0);
	assert_true(s_num("007") == 7);
}

static void test_minus_zero_dollars_is_zero(void **state)
{
	(void)state;
	assert_true(s_num("-$0") == 0);
	assert_false(signbit(s_num("-$0")));
	assert_false(signbit(s_num("-0.00")));
}

static void test_empty_cells_are_null_not_zero(void **state)
{
	double x = 1;

	(void)state;
	assert_int_equal(np_number("", &x), NP_EMPTY);
	assert_int_equal(np_number("   ", &x), NP_EMPTY);
	assert_int_equal(np_number("\xc2\xa0", &x), NP_EMPTY);
	assert_int_equal(np_number(NULL, &x), NP_EMPTY);
	assert_true(x == 1); /* untouched */
}

static void test_what_strtod_would_take_is_refused(void **state)
{
	static const char *const bad[] = {
		"1e308",    "inf",
		"nan",      "NaN",
		"0x10",     "1.",
		".5",       "--1",
		"+-1",      "1,23",
		"1234,567", "1,,000",
		",100",     "100,",
		"12a",      "New",
		">999%",    "$",
		"-",        "1 000",
		"1.2.3",    "99999999999999999999",
	};
	double x;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (np_number(bad[i], &x) != NP_BAD)
			print_error("'%s' was read\n", bad[i]);
		assert_int_equal(np_number(bad[i], &x), NP_BAD);
	}
}

static void test_bound_is_the_contracts(void **state)
{
	double x;

	(void)state;
	assert_int_equal(np_number("1,000,000,000,000,000", &x), NP_OK); /* 1e15 */
	assert_int_equal(np_number("1,000,000,000,000,001", &x), NP_BAD);
	assert_int_equal(np_number("0000000000000000000001", &x), NP_OK); /* zeros are free */
}

static void test_numbers_ignore_the_process_locale(void **state)
{
	(void)state;
	/* A locale with a decimal comma must not change how "11.37" reads. */
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL &&
	    setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL) {
		setlocale(LC_NUMERIC, "C");
		skip();
		return;
	}
	assert_true(s_num("11.37") == 11.37);
	setlocale(LC_NUMERIC, "C");
}

static void test_xml_dates_with_and_without_zone(void **state)
{
	civil_date_t d;

	(void)state;
	assert_int_equal(np_xml_date("2023-05-11", &d), 0);
	assert_true(d.year == 2023 && d.month == 5 && d.day == 11);
	assert_int_equal(np_xml_date("2024-03-05-05:00", &d), 0);
	assert_true(d.day == 5);
	assert_int_equal(np_xml_date("2024-03-05Z", &d), 0);
	assert_int_equal(np_xml_date(" 2024-02-29 ", &d), 0);
	assert_int_equal(np_xml_date("2023-02-29", &d), -1);
	assert_int_equal(np_xml_date("2024-13-01", &d), -1);
	assert_int_equal(np_xml_date("2024-1-01", &d), -1);
	assert_int_equal(np_xml_date("2024-03-05T10:00", &d), -1);
	assert_int_equal(np_xml_date("", &d), -1);
}

static void test_openinsider_datetime(void **state)
{
	civil_date_t d;
	int h, m, s;

	(void)state;
	assert_int_equal(np_iso_datetime("2026-04-24 21:35:59", &d, &h, &m, &s), 0);
	assert_true(d.year == 2026 && d.month == 4 && d.day == 24 && h == 21 && m == 35 && s == 59);
	assert_int_equal(np_iso_datetime("2026-04-24", &d, &h, &m, &s), -1);
	assert_int_equal(np_iso_datetime("2026-04-24 24:00:00", &d, &h, &m, &s), -1);
	assert_int_equal(np_iso_datetime("2026-04-24 21:35:59 extra", &d, &h, &m, &s), -1);
}

static void test_finviz_dates_with_and_without_year(void **state)
{
	int mo, d, y;

	(void)state;
	assert_int_equal(np_month_day("Jun 30 '26", &mo, &d, &y), 0);
	assert_true(mo == 6 && d == 30 && y == 2026);
	assert_int_equal(np_month_day("May 25", &mo, &d, &y), 0);
	assert_true(mo == 5 && d == 25 && y == 0);
	assert_int_equal(np_month_day("Feb 29", &mo, &d, &y), 0); /* year unknown yet */
	assert_int_equal(np_month_day("Feb 29 '23", &mo, &d, &y), -1);
	assert_int_equal(np_month_day("June 3, 2024", &mo, &d, &y), 0);
	assert_true(mo == 6 && d == 3 && y == 2024);
	assert_int_equal(np_month_day("Jun 31", &mo, &d, &y), -1);
	assert_int_equal(np_month_day("Foo 12", &mo, &d, &y), -1);
	assert_int_equal(np_month_day("May 123", &mo, &d, &y), -1);
	assert_int_equal(np_month_day("May", &mo, &d, &y), -1);
}

static void test_finviz_filing_times_on_a_12_hour_clock(void **state)
{
	int mo, d, h, m;

	(void)state;
	assert_int_equal(np_month_day_time("Jul 02 09:13 PM", &mo, &d, &h, &m), 0);
	assert_true(mo == 7 && d == 2 && h == 21 && m == 13);
	assert_int_equal(np_month_day_time("Jul 01 12:05 AM", &mo, &d, &h, &m), 0);
	assert_true(h == 0 && m == 5);
	assert_int_equal(np_month_day_time("Jul 01 12:05 PM", &mo, &d, &h, &m), 0);
	assert_true(h == 12);
	assert_int_equal(np_month_day_time("Jul 01 13:05 PM", &mo, &d, &h, &m), -1);
	assert_int_equal(np_month_day_time("Jul 01 09:13", &mo, &d, &h, &m), -1);
	assert_int_equal(np_month_day_time("n/a", &mo, &d, &h, &m), -1);
}

static void test_year_resolution_looks_back_from_the_reference(void **state)
{
	civil_date_t out;
	const civil_date_t jan3 = { 2024, 1, 3 }, mar5 = { 2024, 3, 5 }, mar1_25 = { 2025, 3, 1 };

	(void)state;
	assert_int_equal(np_resolve_year(12, 28, jan3, &out), 0);
	assert_true(out.year == 2023 && out.month == 12 && out.day == 28);
	assert_int_equal(np_resolve_year(1, 3, jan3, &out), 0); /* the same day counts */
	assert_true(out.year == 2024);
	assert_int_equal(np_resolve_year(2, 29, mar5, &out), 0);
	assert_true(out.year == 2024);
	assert_int_equal(np_resolve_year(2, 29, mar1_25, &out), 0); /* last leap year */
	assert_true(out.year == 2024);
	assert_int_equal(np_resolve_year(2, 30, mar5, &out), -1);
}

/* A small xorshift, so the cases are the same every run. */
static uint64_t s_rand(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

/*
 * Short numbers are computed without strtod (digits / 10^k): bit for bit
 * what strtod gives, at every length up to and past the 15 digits the
 * shortcut takes, around 2^53, with leading zeros, grouping and signs.
 */
static void test_short_numbers_read_exactly_as_strtod_reads_them(void **state)
{
	static const char *const edge[] = { "9007199254740993",
		                            "9007199254740992.5",
		                            "999999999999999",
		                            "999999999999999.9",
		                            "0.1",
		                            "0.2",
		                            "0.3",
		                            "1.005",
		                            "2.675",
		                            "1.15",
		                            "0.000000000000001",
		                            "0.0000000000000001",
		                            "123456789012345",
		                            "12345678901234.5",
		                            "1234567890123.45",
		                            "4503599627370497.5",
		                            "0.999999999999999",
		                            "000000000000000001",
		                            "1.000000000000001",
		                            "85710.4",
		                            "7.0000000000000005",
		                            "0.30000000000000004" };
	uint64_t st = 88172645463325252ull;

	(void)state;
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		double want = strtod(edge[i], NULL), got = -1;
		if (want > NP_MAX) {
			assert_int_equal(np_number(edge[i], &got), NP_BAD);
			continue;
		}
		assert_int_equal(np_number(edge[i], &got), NP_OK);
		assert_memory_equal(&got, &want, sizeof(got));
	}
	for (int i = 0; i < 200000; i++) {
		char plain[64], cell[96];
		int ilen = 1 + (int)(s_rand(&st) % 16), flen = (int)(s_rand(&st) % 12);
		size_t n = 0, c = 0;
		double want, got = -1;
		bool neg = s_rand(&st) % 4 == 0, group = s_rand(&st) % 3 == 0;

		for (int k = 0; k < ilen; k++)
			plain[n++] = (char)('0' + s_rand(&st) % (k == 0 && i % 5 ? 9 : 10) +
			                    (k == 0 && i % 5 ? 1 : 0));
		if (flen > 0) {
			plain[n++] = '.';
			for (int k = 0; k < flen; k++)
				plain[n++] = (char)('0' + s_rand(&st) % 10);
		}
		plain[n] = '\0';
		if (neg)
			cell[c++] = '-';
		cell[c++] = '$';
		for (int k = 0; plain[k] != '\0'; k++) {
			/* "1,234,567": a ',' before each group of three integer digits */
			if (group && k > 0 && k < ilen && (ilen - k) % 3 == 0)
				cell[c++] = ',';
			cell[c++] = plain[k];
		}
		cell[c] = '\0';
		want = strtod(plain, NULL);
		if (want > NP_MAX || ilen > 16) {
			assert_int_equal(np_number(cell, &got), NP_BAD);
			continue;
		}
		if (np_number(cell, &got) != NP_OK)
			fail_msg("'%s' not read", cell);
		if (neg && want != 0)
			want = -want;
		if (memcmp(&got, &want, sizeof(got)) != 0)
			fail_msg("'%s': %.17g, strtod says %.17g", cell, got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dollars_commas_signs_and_percent),
		cmocka_unit_test(test_minus_zero_dollars_is_zero),
		cmocka_unit_test(test_empty_cells_are_null_not_zero),
		cmocka_unit_test(test_what_strtod_would_take_is_refused),
		cmocka_unit_test(test_bound_is_the_contracts),
		cmocka_unit_test(test_short_numbers_read_exactly_as_strtod_reads_them),
		cmocka_unit_test(test_numbers_ignore_the_process_locale),
		cmocka_unit_test(test_xml_dates_with_and_without_zone),
		cmocka_unit_test(test_openinsider_datetime),
		cmocka_unit_test(test_finviz_dates_with_and_without_year),
		cmocka_unit_test(test_finviz_filing_times_on_a_12_hour_clock),
		cmocka_unit_test(test_year_resolution_looks_back_from_the_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
