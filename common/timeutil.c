/*
 * timeutil.c - RFC 3339 times, civil dates, US Eastern time and the NYSE
 * trading calendar, all by arithmetic.
 *
 * Nothing here calls localtime, mktime, strftime or reads TZ or the locale:
 * a daemon's decisions must not change with the machine it runs on.  Civil
 * dates use Howard Hinnant's days-from-civil algorithms (proleptic Gregorian
 * calendar, days counted from 1970-01-01), Eastern time the US DST rule in
 * force since 2007, and the NYSE calendar the exchange's holiday rules
 * (NYSE Rule 7.2) with the Gregorian Easter computation for Good Friday.
 *
 * Supported range: civil dates 0001-01-01 .. 9999-12-31.  Times and day
 * counts outside it are clamped to it, so that no input, however wild,
 * overflows the arithmetic.
 */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY 86400
#define EST_OFFSET   (-5 * 3600)
#define EDT_OFFSET   (-4 * 3600)

/* Day numbers of 0001-01-01 and 9999-12-31, and the first and last second
 * of that range. */
#define DAYS_MIN (-719162)
#define DAYS_MAX 2932896
#define TIME_MIN ((int64_t)DAYS_MIN * SECS_PER_DAY)
#define TIME_MAX ((int64_t)DAYS_MAX * SECS_PER_DAY + SECS_PER_DAY - 1)

enum { SUNDAY = 0, MONDAY = 1, THURSDAY = 4, FRIDAY = 5, SATURDAY = 6 };

/* ---- clock ---------------------------------------------------------------- */

static int64_t s_fixed_now = TIME_UNSET;

int64_t time_now(void)
{
	struct timespec ts;

	if (s_fixed_now != TIME_UNSET)
		return s_fixed_now;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t)time(NULL);
	return (int64_t)ts.tv_sec;
}

void time_set_now(int64_t t)
{
	s_fixed_now = t;
}

/* CLOCK_MONOTONIC does not jump when the wall clock is set (NTP, an
 * operator), so timeouts measured with it neither fire early nor hang. */
int64_t time_mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- civil dates ------------------------------------------------------------ */

static bool s_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && s_is_leap(y))
		return 29;
	return days[m - 1];
}

bool date_valid(civil_date_t d)
{
	return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
	       d.day <= s_days_in_month(d.year, d.month);
}

/*
 * Days since 1970-01-01 of a civil date (Hinnant's days_from_civil).  The
 * year is counted from March, so that the leap day is the last day of its
 * "year" and the month lengths from March on follow the (153 m + 2) / 5
 * pattern.  Exact for valid dates; an out-of-range month or day is simply
 * carried by the same arithmetic (no overflow: everything is int64).
 */
int64_t date_to_days(civil_date_t d)
{
	int64_t y = (int64_t)d.year - (d.month <= 2);
	int64_t m = d.month;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                       /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d.day - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

/* The inverse (Hinnant's civil_from_days); days outside 0001-01-01 ..
 * 9999-12-31 are clamped to that range. */
civil_date_t date_from_days(int64_t days)
{
	civil_date_t d;
	int64_t z, era, doe, yoe, doy, mp, y;

	if (days < DAYS_MIN)
		days = DAYS_MIN;
	if (days > DAYS_MAX)
		days = DAYS_MAX;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d.year = (int)(y + (d.month <= 2));
	return d;
}

static int s_weekday_of_days(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	int64_t w = (days + THURSDAY) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int date_weekday(civil_date_t d)
{
	return s_weekday_of_days(date_to_days(d));
}

civil_date_t date_add_days(civil_date_t d, int n)
{
	return date_from_days(date_to_days(d) + n);
}

static int64_t s_clamp_time(int64_t t)
{
	if (t < TIME_MIN)
		return TIME_MIN;
	if (t > TIME_MAX)
		return TIME_MAX;
	return t;
}

/* Floor division and its remainder, for times before 1970. */
static int64_t s_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

civil_date_t date_of_utc(int64_t t)
{
	return date_from_days(s_floor_div(s_clamp_time(t), SECS_PER_DAY));
}

/* ---- parsing and formatting -------------------------------------------------- */

/* Exactly n ASCII digits (not isdigit(): that depends on the locale). */
static int s_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" at s (no terminator check), into *d, range-checked. */
static int s_parse_date(const char *s, civil_date_t *d)
{
	civil_date_t r;

	if (s_digits(s, 4, &r.year) != 0 || s[4] != '-' || s_digits(s + 5, 2, &r.month) != 0 ||
	    s[7] != '-' || s_digits(s + 8, 2, &r.day) != 0)
		return -1;
	if (!date_valid(r))
		return -1;
	*d = r;
	return 0;
}

/*
 * The grammar is RFC 3339's date-time, with the separators its section 5.6
 * note allows ("t" and a space) and nothing more: every field has its exact
 * width, so an over-long number cannot overflow, and the string must end
 * right after the offset.  A leap second (":60") is refused: no source we
 * read produces one and an int64 epoch cannot represent it.  The fraction
 * may be any length and is dropped (truncation, not rounding, so a time never
 * moves into the next second).
 */
int time_parse_rfc3339(const char *s, int64_t *t)
{
	civil_date_t d;
	int hh, mm, ss, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t v;

	if (s == NULL || t == NULL)
		return -1;
	/* Each check stops at the first mismatch, so a short string's NUL
	 * ends the parse before anything past it is read. */
	if (s_parse_date(s, &d) != 0 || d.year < 1970)
		return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	p = s + 11;
	if (s_digits(p, 2, &hh) != 0 || p[2] != ':' || s_digits(p + 3, 2, &mm) != 0 ||
	    p[5] != ':' || s_digits(p + 6, 2, &ss) != 0)
		return -1;
	if (hh > 23 || mm > 59 || ss > 59)
		return -1;
	p += 8;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (s_digits(p, 2, &oh) != 0 || p[2] != ':' || s_digits(p + 3, 2, &om) != 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		p += 5;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	v = date_to_days(d) * SECS_PER_DAY + hh * 3600 + mm * 60 + ss;
	/* Local time = UTC + offset, so UTC = local - offset. */
	v -= (int64_t)sign * (oh * 3600 + om * 60);
	*t = v;
	return 0;
}

/* v as exactly n decimal digits at p (v < 10^n). */
static void s_put_digits(char *p, int v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * The bytes snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", ...) wrote,
 * without printf: every record codec formats its times through here (the
 * decoder checks a time string by formatting the time it read), and
 * snprintf cost ~3,300 instructions a call.  The clamped time's year is
 * 1-9999, so each field has exactly its width; a short buf gets the same
 * truncated, terminated prefix snprintf gave.
 */
char *time_format_rfc3339(int64_t t, char *buf, size_t len)
{
	char s[TIME_RFC3339_LEN];
	civil_date_t d;
	int64_t sod;
	size_t n = TIME_RFC3339_LEN - 1;

	if (buf == NULL || len == 0)
		return buf;
	t = s_clamp_time(t);
	d = date_of_utc(t);
	sod = t - s_floor_div(t, SECS_PER_DAY) * SECS_PER_DAY;
	s_put_digits(s, d.year, 4);
	s[4] = '-';
	s_put_digits(s + 5, d.month, 2);
	s[7] = '-';
	s_put_digits(s + 8, d.day, 2);
	s[10] = 'T';
	s_put_digits(s + 11, (int)(sod / 3600), 2);
	s[13] = ':';
	s_put_digits(s + 14, (int)(sod / 60 % 60), 2);
	s[16] = ':';
	s_put_digits(s + 17, (int)(sod % 60), 2);
	s[19] = 'Z';
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

int date_parse(const char *s, civil_date_t *d)
{
	civil_date_t r;

	if (s == NULL || d == NULL)
		return -1;
	if (s_parse_date(s, &r) != 0 || s[10] != '\0')
		return -1;
	*d = r;
	return 0;
}

/* "%04d-%02d-%02d", written by hand for the dates it prints in 10 bytes
 * (the decider writes one per window row and per reason), by snprintf for
 * any other. */
char *date_format(civil_date_t d, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return buf;
	if (len < 11 || d.year < 0 || d.year > 9999 || d.month < 0 || d.month > 99 || d.day < 0 ||
	    d.day > 99) {
		snprintf(buf, len, "%04d-%02d-%02d", d.year, d.month, d.day);
		return buf;
	}
	s_put_digits(buf, d.year, 4);
	buf[4] = '-';
	s_put_digits(buf + 5, d.month, 2);
	buf[7] = '-';
	s_put_digits(buf + 8, d.day, 2);
	buf[10] = '\0';
	return buf;
}

/* ---- US Eastern time ------------------------------------------------------- */

/* Day number of the n-th (1-based) weekday wd of a month. */
static int64_t s_nth_weekday(int year, int month, int wd, int n)
{
	int64_t first = date_to_days((civil_date_t){ year, month, 1 });
	int first_wd = s_weekday_of_days(first);

	return first + (wd - first_wd + 7) % 7 + 7 * (n - 1);
}

/* Day number of the last weekday wd of a month. */
static int64_t s_last_weekday(int year, int month, int wd)
{
	int64_t last = date_to_days((civil_date_t){ year, month, s_days_in_month(year, month) });
	int last_wd = s_weekday_of_days(last);

	return last - (last_wd - wd + 7) % 7;
}

/*
 * DST runs from the second Sunday of March at 02:00 EST (07:00 UTC) to the
 * first Sunday of November at 02:00 EDT (06:00 UTC).  Both switches fall
 * well inside the UTC year, so the UTC year selects the right pair.
 */
bool eastern_is_dst(int64_t utc)
{
	int year;
	int64_t start, end;

	utc = s_clamp_time(utc);
	year = date_of_utc(utc).year;
	start = s_nth_weekday(year, 3, SUNDAY, 2) * SECS_PER_DAY + 7 * 3600;
	end = s_nth_weekday(year, 11, SUNDAY, 1) * SECS_PER_DAY + 6 * 3600;
	return utc >= start && utc < end;
}

int eastern_offset(int64_t utc)
{
	return eastern_is_dst(utc) ? EDT_OFFSET : EST_OFFSET;
}

/*
 * Try EDT first: if the wall time read as EDT lands on an instant that is
 * in DST, it is the answer (this picks the EDT reading of November's
 * repeated hour).  Otherwise read it as EST, which is right for all winter
 * times and turns March's skipped 02:xx into 03:xx EDT.
 */
int eastern_to_utc(civil_date_t d, int hour, int min, int sec, int64_t *utc)
{
	int64_t local, u;

	if (!date_valid(d) || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
		return -1;
	local = date_to_days(d) * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
	u = local - EDT_OFFSET;
	if (!eastern_is_dst(u))
		u = local - EST_OFFSET;
	if (utc != NULL)
		*utc = u;
	return 0;
}

void utc_to_eastern(int64_t utc, civil_date_t *d, int *sec_of_day)
{
	int64_t local, days;

	utc = s_clamp_time(utc);
	local = utc + eastern_offset(utc);
	days = s_floor_div(local, SECS_PER_DAY);
	if (d != NULL)
		*d = date_from_days(days);
	if (sec_of_day != NULL)
		*sec_of_day = (int)(local - days * SECS_PER_DAY);
}

/* ---- NYSE calendar ---------------------------------------------------------- */

/* Easter Sunday of a Gregorian year (the anonymous algorithm of Meeus,
 * "Astronomical Algorithms", ch. 8), as a day number. */
static int64_t s_easter(int year)
{
	int a = year % 19, b = year / 100, c = year % 100;
	int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int month = (h + l - 7 * m + 114) / 31;
	int day = (h + l - 7 * m + 114) % 31 + 1;

	return date_to_days((civil_date_t){ year, month, day });
}

/*
 * Day on which the exchange closes for a fixed-date holiday of that year:
 * Saturday -> the Friday before, Sunday -> the Monday after (NYSE Rule 7.2).
 * Returns -1 when the holiday is not observed on any weekday.
 */
static int64_t s_observed(int year, int month, int day)
{
	int64_t n = date_to_days((civil_date_t){ year, month, day });

	switch (s_weekday_of_days(n)) {
	case SATURDAY:
		return n - 1;
	case SUNDAY:
		return n + 1;
	default:
		return n;
	}
}

/* The one-off closures (national days of mourning). */
static const civil_date_t s_special_closures[] = {
	{ 2018, 12, 5 }, /* President George H. W. Bush */
	{ 2025, 1, 9 },  /* President Jimmy Carter */
};

/*
 * True only for the weekday on which the exchange is closed: a holiday that
 * falls on a weekend is reported on its observed weekday, not on the
 * Saturday or Sunday itself, so "weekday and not a holiday" is exactly a
 * trading day.  New Year's Day on a Saturday is not observed at all: Rule 7.2
 * keeps the exchange open on the Friday that ends the accounting year.
 * Martin Luther King Jr. Day counts from 1998 (the NYSE's first closing for
 * it), Juneteenth from 2022.
 */
bool nyse_is_holiday(civil_date_t d)
{
	int64_t n;
	int wd, y;

	if (!date_valid(d))
		return false;
	n = date_to_days(d);
	wd = s_weekday_of_days(n);
	if (wd == SATURDAY || wd == SUNDAY)
		return false;
	y = d.year;
	for (size_t i = 0; i < sizeof(s_special_closures) / sizeof(s_special_closures[0]); i++)
		if (date_to_days(s_special_closures[i]) == n)
			return true;

	/* New Year's Day: Sunday -> Monday Jan 2; Saturday -> no closure.  The
	 * Saturday test states the rule; only d's own January 1 is consulted,
	 * so a Friday December 31 could not match in any case. */
	if (date_weekday((civil_date_t){ y, 1, 1 }) != SATURDAY && n == s_observed(y, 1, 1))
		return true;
	if (y >= 1998 && n == s_nth_weekday(y, 1, MONDAY, 3))
		return true; /* Martin Luther King Jr. Day */
	if (n == s_nth_weekday(y, 2, MONDAY, 3))
		return true; /* Washington's Birthday */
	if (n == s_easter(y) - 2)
		return true; /* Good Friday */
	if (n == s_last_weekday(y, 5, MONDAY))
		return true; /* Memorial Day */
	if (y >= 2022 && n == s_observed(y, 6, 19))
		return true; /* Juneteenth */
	if (n == s_observed(y, 7, 4))
		return true; /* Independence Day */
	if (n == s_nth_weekday(y, 9, MONDAY, 1))
		return true; /* Labor Day */
	if (n == s_nth_weekday(y, 11, THURSDAY, 4))
		return true; /* Thanksgiving */
	if (n == s_observed(y, 12, 25))
		return true; /* Christmas */
	return false;
}

bool nyse_is_trading_day(civil_date_t d)
{
	int wd;

	if (!date_valid(d))
		return false;
	wd = date_weekday(d);
	return wd != SATURDAY && wd != SUNDAY && !nyse_is_holiday(d);
}

/*
 * July 3 and December 24 close early only when they are trading days: when
 * July 3 is the observed Independence Day (July 4 on a Saturday) or a
 * weekend, there is no early close on the day before it, and likewise for
 * Christmas Eve.  The day after Thanksgiving is always a trading Friday.
 */
bool nyse_is_early_close(civil_date_t d)
{
	if (!nyse_is_trading_day(d))
		return false;
	if ((d.month == 7 && d.day == 3) || (d.month == 12 && d.day == 24))
		return true;
	return d.month == 11 && date_to_days(d) == s_nth_weekday(d.year, 11, THURSDAY, 4) + 1;
}

int nyse_session(civil_date_t d, int64_t *open_utc, int64_t *close_utc)
{
	int64_t open, close;

	if (!nyse_is_trading_day(d))
		return -1;
	if (eastern_to_utc(d, 9, 30, 0, &open) != 0 ||
	    eastern_to_utc(d, nyse_is_early_close(d) ? 13 : 16, 0, 0, &close) != 0)
		return -1;
	if (open_utc != NULL)
		*open_utc = open;
	if (close_utc != NULL)
		*close_utc = close;
	return 0;
}

bool nyse_is_open(int64_t utc)
{
	civil_date_t d;
	int64_t open, close;

	utc_to_eastern(utc, &d, NULL);
	if (nyse_session(d, &open, &close) != 0)
		return false;
	return utc >= open && utc < close;
}

/*
 * The rules never leave more than three non-trading days in a row (a
 * weekend next to a Friday or Monday holiday); the bound only stops a
 * runaway loop.
 */
#define NYSE_MAX_GAP 31

/*
 * The next trading day strictly after d.  An invalid d is read by the same
 * arithmetic as date_to_days (2024-02-30 is March 1).  Past 9999-12-31
 * there are no trading days: the answer is then 10000-01-01, which is not a
 * valid date (nyse_session refuses it).
 */
civil_date_t nyse_next_trading_day(civil_date_t d)
{
	int64_t n = date_to_days(d);

	if (n < DAYS_MIN - 1)
		n = DAYS_MIN - 1;
	for (int i = 1; i <= NYSE_MAX_GAP && n + i <= DAYS_MAX; i++) {
		civil_date_t c = date_from_days(n + i);

		if (nyse_is_trading_day(c))
			return c;
	}
	return (civil_date_t){ 10000, 1, 1 };
}

/* Returns INT64_MAX ("never") when no open follows within the supported
 * range (after 9999-12-31). */
int64_t nyse_next_open(int64_t utc)
{
	civil_date_t d;
	int64_t open;

	utc = s_clamp_time(utc);
	utc_to_eastern(utc, &d, NULL);
	if (nyse_session(d, &open, NULL) == 0 && utc <= open)
		return open;
	d = nyse_next_trading_day(d);
	if (nyse_session(d, &open, NULL) == 0)
		return open;
	return INT64_MAX;
}
