/*
 * numparse.c - strict readers for the number and date cells of the
 * insider-trade sources.  See numparse.h.
 */
#include "numparse.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Blank: ASCII whitespace or U+00A0 (what &nbsp; becomes), as a byte count. */
static size_t s_blank(const char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		return 1;
	if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0)
		return 2;
	return 0;
}

static const char *s_skip_blanks(const char *p)
{
	size_t n;

	while ((n = s_blank(p)) > 0)
		p += n;
	return p;
}

static bool s_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Powers of ten a double holds exactly (10^22 is the last one). */
static const double s_pow10[] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                          1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

/*
 * The value of clean (digits with at most one '.') when it has at most 15
 * digits: the digits as an integer M < 2^53 and the fraction's length k
 * are both exact in a double, so M / 10^k is one correctly rounded
 * division, the very double strtod returns (its "fast path").  false when
 * there are more digits: strtod then.  Cells are mostly such short
 * numbers, and strtod_l was most of np_number's time.
 */
static bool s_short_decimal(const char *clean, double *v)
{
	uint64_t m = 0;
	int digits = 0, frac = -1;

	for (const char *c = clean; *c != '\0'; c++) {
		if (*c == '.') {
			frac = 0;
			continue;
		}
		if (++digits > 15)
			return false;
		m = m * 10 + (uint64_t)(*c - '0');
		if (frac >= 0)
			frac++;
	}
	*v = frac > 0 ? (double)m / s_pow10[frac] : (double)m;
	return true;
}

/* strtod in the C locale, whatever LC_NUMERIC the process has set. */
static double s_strtod_c(const char *s)
{
	static locale_t c_locale;

	if (c_locale == (locale_t)0)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return strtod(s, NULL);
	return strtod_l(s, NULL, c_locale);
}

enum np_result np_number(const char *s, double *out)
{
	const char *p;
	bool neg = false, dollar = false;
	char clean[64]; /* the digits and '.', for strtod (correctly rounded) */
	size_t n = 0, intdigits = 0;
	int group = -1; /* digits since the last ',' (-1: no ',' seen) */
	int lead = 0;   /* digits before the first ',' */
	double v;

	if (s == NULL)
		return NP_EMPTY;
	p = s_skip_blanks(s);
	if (*p == '\0')
		return NP_EMPTY;
	if (*p == '$') {
		dollar = true;
		p++;
	}
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (*p == '$' && !dollar)
		p++;
	/* Integer part, with ',' groups of exactly three digits. */
	if (!s_digit(*p))
		return NP_BAD;
	for (; s_digit(*p) || *p == ','; p++) {
		if (*p == ',') {
			if (group == 0 || (group > 0 && group != 3) || lead > 3)
				return NP_BAD;
			group = 0;
			continue;
		}
		if (group >= 0)
			group++;
		else
			lead++;
		if (n == 0 && *p == '0')
			continue; /* leading zeros say nothing */
		if (++intdigits > 16)
			return NP_BAD; /* above NP_MAX whatever follows */
		clean[n++] = *p;
	}
	if (group >= 0 && group != 3)
		return NP_BAD;
	if (n == 0)
		clean[n++] = '0';
	if (*p == '.') {
		p++;
		if (!s_digit(*p))
			return NP_BAD;
		clean[n++] = '.';
		for (; s_digit(*p); p++)
			if (n < sizeof(clean) - 1) /* further digits are noise */
				clean[n++] = *p;
	}
	clean[n] = '\0';
	if (*p == '%')
		p++;
	p = s_skip_blanks(p);
	if (*p != '\0')
		return NP_BAD;
	if (!s_short_decimal(clean, &v))
		v = s_strtod_c(clean);
	if (!(v <= NP_MAX))
		return NP_BAD;
	*out = (neg && v != 0) ? -v : v;
	return NP_OK;
}

/* Read exactly n digits as an int. */
static bool s_digits(const char *p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!s_digit(p[i]))
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DD" at p; *end past it. */
static bool s_ymd(const char *p, civil_date_t *d, const char **end)
{
	if (!s_digits(p, 4, &d->year) || p[4] != '-' || !s_digits(p + 5, 2, &d->month) ||
	    p[7] != '-' || !s_digits(p + 8, 2, &d->day))
		return false;
	if (!date_valid(*d))
		return false;
	*end = p + 10;
	return true;
}

int np_xml_date(const char *s, civil_date_t *d)
{
	const char *p;
	int hh, mm;

	if (s == NULL)
		return -1;
	p = s_skip_blanks(s);
	if (!s_ymd(p, d, &p))
		return -1;
	if (*p == 'Z') {
		p++;
	} else if ((*p == '+' || *p == '-') && s_digits(p + 1, 2, &hh) && p[3] == ':' &&
	           s_digits(p + 4, 2, &mm)) {
		if (hh > 14 || mm > 59)
			return -1;
		p += 6;
	}
	p = s_skip_blanks(p);
	return *p == '\0' ? 0 : -1;
}

int np_iso_datetime(const char *s, civil_date_t *d, int *hour, int *min, int *sec)
{
	const char *p;

	if (s == NULL)
		return -1;
	p = s_skip_blanks(s);
	if (!s_ymd(p, d, &p))
		return -1;
	if (*p != ' ' && *p != 'T')
		return -1;
	p++;
	if (!s_digits(p, 2, hour) || p[2] != ':' || !s_digits(p + 3, 2, min) || p[5] != ':' ||
	    !s_digits(p + 6, 2, sec))
		return -1;
	if (*hour > 23 || *min > 59 || *sec > 59)
		return -1;
	p = s_skip_blanks(p + 8);
	return *p == '\0' ? 0 : -1;
}

int np_month(const char *s)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char m[3];

	if (s == NULL)
		return 0;
	for (int i = 0; i < 3; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c < 'a' || c > 'z')
			return 0;
		m[i] = c;
	}
	for (int i = 0; i < 12; i++)
		if (memcmp(names + 3 * i, m, 3) == 0)
			return i + 1;
	return 0;
}

/* "Mon DD" at p (one or two day digits); *end past it. */
static bool s_month_day(const char *p, int *month, int *day, const char **end)
{
	int d = 0, nd = 0;

	*month = np_month(p);
	if (*month == 0)
		return false;
	p += 3;
	/* Allow the full month name ("June 30"). */
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	if (*p == '.')
		p++;
	if (s_blank(p) == 0)
		return false;
	p = s_skip_blanks(p);
	for (; s_digit(*p) && nd < 2; p++, nd++)
		d = d * 10 + (*p - '0');
	if (nd == 0 || s_digit(*p) || d < 1 || d > 31)
		return false;
	*day = d;
	*end = p;
	return true;
}

int np_month_day(const char *s, int *month, int *day, int *year)
{
	const char *p;
	int y;

	if (s == NULL)
		return -1;
	p = s_skip_blanks(s);
	if (!s_month_day(p, month, day, &p))
		return -1;
	*year = 0;
	if (*p == ',')
		p++;
	p = s_skip_blanks(p);
	if (*p == '\'') {
		if (!s_digits(p + 1, 2, &y) || s_digit(p[3]))
			return -1;
		*year = 2000 + y;
		p += 3;
	} else if (s_digit(*p)) {
		if (!s_digits(p, 4, &y) || s_digit(p[4]) || y < 1970 || y > 9999)
			return -1;
		*year = y;
		p += 4;
	}
	p = s_skip_blanks(p);
	if (*p != '\0')
		return -1;
	if (*year != 0) {
		civil_date_t d = { *year, *month, *day };
		if (!date_valid(d))
			return -1;
	} else {
		static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		if (*day > mdays[*month - 1])
			return -1;
	}
	return 0;
}

int np_month_day_time(const char *s, int *month, int *day, int *hour, int *min)
{
	const char *p;
	int h, m;

	if (s == NULL)
		return -1;
	p = s_skip_blanks(s);
	if (!s_month_day(p, month, day, &p))
		return -1;
	p = s_skip_blanks(p);
	if (!s_digit(p[0]))
		return -1;
	if (s_digit(p[1])) {
		h = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
	} else {
		h = p[0] - '0';
		p += 1;
	}
	if (*p != ':' || !s_digits(p + 1, 2, &m) || s_digit(p[3]))
		return -1;
	p = s_skip_blanks(p + 3);
	if (h < 1 || h > 12 || m > 59)
		return -1;
	if ((p[0] == 'A' || p[0] == 'a') && (p[1] == 'M' || p[1] == 'm'))
		h = h == 12 ? 0 : h;
	else if ((p[0] == 'P' || p[0] == 'p') && (p[1] == 'M' || p[1] == 'm'))
		h = h == 12 ? 12 : h + 12;
	else
		return -1;
	p = s_skip_blanks(p + 2);
	if (*p != '\0')
		return -1;
	*hour = h;
	*min = m;
	return 0;
}

int np_resolve_year(int month, int day, civil_date_t ref, civil_date_t *out)
{
	/* Feb 29 recurs at most every 8 years (1900/2100 are not leap). */
	for (int y = ref.year; y >= ref.year - 8; y--) {
		civil_date_t d = { y, month, day };
		if (!date_valid(d))
			continue;
		if (date_to_days(d) <= date_to_days(ref)) {
			*out = d;
			return 0;
		}
	}
	return -1;
}
