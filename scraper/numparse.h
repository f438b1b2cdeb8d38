/*
 * numparse.h - numbers and dates as the insider-trade sources print them in
 * table cells ("$29.90", "-10,493", "+$251,999", "-$0", "196.356",
 * "2026-04-24 21:35:59", "Jun 30 '26", "May 25", "Jul 02 09:13 PM").
 *
 * Everything is strict: a cell either is what it should be or is refused,
 * never half-read (no strtod: it takes "1e308", "inf", "0x10" and "nan").
 */
#ifndef COATTAIL_NUMPARSE_H
#define COATTAIL_NUMPARSE_H

#include "timeutil.h"

/* Largest magnitude np_number() accepts; the record contract's bound. */
#define NP_MAX 1e15

enum np_result {
	NP_BAD = -1, /* not a number */
	NP_OK = 0,
	NP_EMPTY = 1, /* nothing but blanks: a null cell */
};

/*
 * A decimal cell: optional blanks, an optional sign ('+' or '-'), an
 * optional '$' (either side of the sign), digits grouped by ',' or not, an
 * optional fraction, an optional '%', optional blanks.  "-$0" and "-0" read
 * as 0.  Magnitude above NP_MAX is NP_BAD.  Blanks include U+00A0.
 */
enum np_result np_number(const char *s, double *out);

/*
 * A Form 4 xs:date: "2023-05-11", optionally with a time-zone suffix
 * ("Z", "-05:00"), which is ignored.  0, or -1.
 */
int np_xml_date(const char *s, civil_date_t *d);

/* "2026-04-24 21:35:59" (a 'T' also accepted).  0, or -1. */
int np_iso_datetime(const char *s, civil_date_t *d, int *hour, int *min, int *sec);

/* "Jan".."Dec" (case-insensitive, first three letters) -> 1..12, else 0. */
int np_month(const char *s);

/*
 * "Jun 30 '26", "Jun 30 2026" or "May 25": *year is 2026, or 0 when the
 * cell has no year.  0, or -1.
 */
int np_month_day(const char *s, int *month, int *day, int *year);

/* "Jul 02 09:13 PM" (12-hour clock, no year).  0, or -1. */
int np_month_day_time(const char *s, int *month, int *day, int *hour, int *min);

/*
 * The latest date with that month and day that is not after ref (Feb 29
 * looks back to the last leap year).  0, or -1 for an impossible day.
 */
int np_resolve_year(int month, int day, civil_date_t ref, civil_date_t *out);

#endif
