/*
 * timeutil.h - RFC 3339 times, US Eastern time, and the NYSE trading calendar.
 *
 * Times are int64 seconds since the Unix epoch (UTC).  Dates are civil dates
 * (year, month 1-12, day 1-31) with no time zone.  Nothing here reads the
 * process's TZ or locale: Eastern time is computed from the US DST rules in
 * force since 2007 (second Sunday of March 02:00 EST to first Sunday of
 * November 02:00 EDT), so results do not depend on the machine.
 */
#ifndef COATTAIL_TIMEUTIL_H
#define COATTAIL_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct civil_date {
	int year, month, day;
} civil_date_t;

/* Wall-clock now (CLOCK_REALTIME), or the time fixed by time_set_now(). */
int64_t time_now(void);
/* Fix the clock for tests and replays (--now); TIME_UNSET clears it. */
#define TIME_UNSET INT64_MIN
void time_set_now(int64_t t);
/* Monotonic milliseconds, for timeouts and intervals. */
int64_t time_mono_ms(void);

/*
 * Parse an RFC 3339 time: "2022-01-06T21:05:31Z", "...31.123Z" (fraction
 * ignored), "2025-12-12T18:02:43-05:00", "t" or space also accepted as the
 * separator.  Returns 0 and sets *t, or -1 for anything else (range-checked:
 * month 1-12, day within the month, hour < 24, ...; years 1970-9999).
 */
int time_parse_rfc3339(const char *s, int64_t *t);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL); returns buf. */
#define TIME_RFC3339_LEN 21
char *time_format_rfc3339(int64_t t, char *buf, size_t len);

/* "YYYY-MM-DD" -> civil date; strict (range-checked).  0 or -1. */
int date_parse(const char *s, civil_date_t *d);
/* civil date -> "YYYY-MM-DD" (11 bytes with NUL); returns buf. */
char *date_format(civil_date_t d, char *buf, size_t len);
bool date_valid(civil_date_t d);
/* Days since 1970-01-01 and back. */
int64_t date_to_days(civil_date_t d);
civil_date_t date_from_days(int64_t days);
/* 0 = Sunday ... 6 = Saturday */
int date_weekday(civil_date_t d);
civil_date_t date_add_days(civil_date_t d, int n);
/* UTC civil date of a time. */
civil_date_t date_of_utc(int64_t t);

/* US Eastern (America/New_York) <-> UTC. */
bool eastern_is_dst(int64_t utc);
/* Offset of Eastern local time from UTC at that instant: -4*3600 or -5*3600. */
int eastern_offset(int64_t utc);
/*
 * Eastern local wall time -> UTC.  In the repeated hour of November the
 * earlier (EDT) instant is chosen; in the skipped hour of March the time is
 * read as EST (so 02:30 becomes 03:30 EDT).  Returns 0, or -1 on an invalid
 * civil time.
 */
int eastern_to_utc(civil_date_t d, int hour, int min, int sec, int64_t *utc);
/* UTC -> Eastern local date and seconds since local midnight. */
void utc_to_eastern(int64_t utc, civil_date_t *d, int *sec_of_day);

/* ---- NYSE calendar ---- */

/*
 * NYSE holidays by rule: New Year's Day (Saturday -> not observed on Friday
 * Dec 31; Sunday -> Monday), Martin Luther King Jr. Day, Washington's
 * Birthday, Good Friday, Memorial Day, Juneteenth (from 2022), Independence
 * Day, Labor Day, Thanksgiving, Christmas (Saturday -> Friday, Sunday ->
 * Monday; likewise July 4 and Juneteenth).  Also the one-off closures of
 * 2018-12-05 (G.H.W. Bush) and 2025-01-09 (Carter).  True only on the
 * weekday the exchange is closed (the observed day), never on a weekend.
 */
bool nyse_is_holiday(civil_date_t d);
/* A weekday that is not a holiday. */
bool nyse_is_trading_day(civil_date_t d);
/*
 * Early closes (13:00 ET): the day before Independence Day (when a trading
 * day), the day after Thanksgiving, and Christmas Eve (when a trading day).
 */
bool nyse_is_early_close(civil_date_t d);
/* Session of a trading day as UTC instants [open, close); -1 if not a
 * trading day.  Open 09:30 ET; close 16:00 ET or 13:00 ET on early closes. */
int nyse_session(civil_date_t d, int64_t *open_utc, int64_t *close_utc);
/* True while the regular session is open at that instant. */
bool nyse_is_open(int64_t utc);
/* The first regular-session open at or after t: today's open when t is
 * before it on a trading day, otherwise the next trading day's open
 * (INT64_MAX past 9999-12-31). */
int64_t nyse_next_open(int64_t utc);
/* The next trading day strictly after d. */
civil_date_t nyse_next_trading_day(civil_date_t d);

#endif
