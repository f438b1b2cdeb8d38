/*
 * schedule.h - when each source runs: pure functions of a rule, the time of
 * the last run and `now`, so that the calendar can be tested with a fixed
 * clock.
 *
 * Two kinds of rule:
 *   - every interval_s seconds, inside a daily window of US Eastern wall
 *     time [window_start, window_end) (EDGAR every 60 s, OpenInsider every
 *     10 minutes, 06:00-22:00 ET by default: EDGAR accepts filings from 6 am
 *     to 10 pm);
 *   - once a day at daily_at Eastern (FinViz at 18:00, the original
 *     system's time).  A day whose run was missed (the process was down)
 *     is caught up at the next opportunity, once.
 * With trading_days_only only NYSE trading days count (common/timeutil.h's
 * calendar: weekends and exchange holidays are skipped).
 *
 * Times are seconds since the epoch (UTC); wall times are seconds after
 * local midnight, 0..86400 (86400 is "24:00", the end of the day).  DST is
 * handled by common/timeutil.h: a window is the same wall-clock span on
 * every day, so it is 23 or 25 hours away from the previous day's across
 * a DST change.
 */
#ifndef COATTAIL_SCHEDULE_H
#define COATTAIL_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeutil.h"

/* "Never ran": a last-run time before any real one. */
#define SCHED_NEVER INT64_MIN
/* "Not within the next 400 days" (an empty calendar). */
#define SCHED_NONE INT64_MAX

enum sched_kind {
	SCHED_INTERVAL, /* every interval_s inside the daily window */
	SCHED_DAILY,    /* once a day at daily_at */
};

struct sched {
	enum sched_kind kind;
	int64_t interval_s;     /* SCHED_INTERVAL: >= 1 */
	int daily_at;           /* SCHED_DAILY: seconds after midnight ET, 0..86399 */
	bool trading_days_only; /* only NYSE trading days */
	int window_start;       /* SCHED_INTERVAL: seconds after midnight ET */
	int window_end;         /* SCHED_INTERVAL: exclusive; > window_start, <= 86400 */
};

/*
 * "HH:MM" (or "H:MM") -> seconds after midnight, 00:00..24:00.  allow_24:
 * whether "24:00" (the end of the day, for a window's end) is accepted.
 * 0, or -1 on anything else.
 */
int sched_parse_hhmm(const char *s, bool allow_24, int *sec);

/* Check a rule; 0, or -1 with err saying what is wrong. */
int sched_check(const struct sched *s, char *err, size_t errlen);

/* Does the rule run on that Eastern calendar day at all? */
bool sched_day_allowed(const struct sched *s, civil_date_t d);

/*
 * May the source run at instant t?  SCHED_INTERVAL: on an allowed day and
 * inside the window; SCHED_DAILY: on an allowed day (its time of day is the
 * schedule itself).
 */
bool sched_allowed_at(const struct sched *s, int64_t t);

/*
 * When the source is next due, given the start of its last run (SCHED_NEVER
 * when it never ran) and now.  The result is never before now: it equals
 * now when the source is due at once, SCHED_NONE when no allowed day comes
 * within 400 days.
 *   SCHED_INTERVAL: the first allowed instant at or after
 *     max(last + interval_s, now) (a first run: now, or the next window).
 *   SCHED_DAILY: daily_at on the first allowed day whose daily_at is after
 *     the last run (a first run: from today), or now if that time has
 *     already passed - the catch-up of a missed day, once.
 */
int64_t sched_next_due(const struct sched *s, int64_t last_run, int64_t now);

#endif
