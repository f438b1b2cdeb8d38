/*
 * schedule.c - each source's calendar (see schedule.h).
 *
 * Everything is computed from Eastern wall-clock times per civil day,
 * converted to UTC instants with common/timeutil.h, so a window is
 * 06:00-22:00 local time on both sides of a DST change.  Searches are
 * bounded (400 days): a calendar that never allows a run returns
 * SCHED_NONE instead of looping.
 */
#include "schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define SEARCH_DAYS 400
#define DAY_S       86400

int sched_parse_hhmm(const char *s, bool allow_24, int *sec)
{
	int h = 0, m, nd = 0;

	if (s == NULL)
		return -1;
	while (isdigit((unsigned char)*s) && nd < 2) {
		h = h * 10 + (*s++ - '0');
		nd++;
	}
	if (nd == 0 || *s++ != ':')
		return -1;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '\0')
		return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
		return -1;
	*sec = h * 3600 + m * 60;
	return 0;
}

int sched_check(const struct sched *s, char *err, size_t errlen)
{
	if (s->kind == SCHED_INTERVAL) {
		if (s->interval_s < 1) {
			snprintf(err, errlen, "interval must be at least 1 s");
			return -1;
		}
		if (s->window_start < 0 || s->window_end > DAY_S ||
		    s->window_start >= s->window_end) {
			snprintf(err, errlen,
			         "the window must start before it ends, within one day "
			         "(00:00-24:00)");
			return -1;
		}
	} else if (s->daily_at < 0 || s->daily_at >= DAY_S) {
		snprintf(err, errlen, "the daily time must be within 00:00-23:59");
		return -1;
	}
	return 0;
}

bool sched_day_allowed(const struct sched *s, civil_date_t d)
{
	return !s->trading_days_only || nyse_is_trading_day(d);
}

/* The UTC instant of Eastern wall time `sec` (0..86400) on day d. */
static int64_t s_local(civil_date_t d, int sec)
{
	int64_t t;

	if (sec >= DAY_S) {
		d = date_add_days(d, 1);
		sec = 0;
	}
	if (eastern_to_utc(d, sec / 3600, (sec % 3600) / 60, sec % 60, &t) != 0)
		return SCHED_NONE; /* cannot happen for a valid date */
	return t;
}

bool sched_allowed_at(const struct sched *s, int64_t t)
{
	civil_date_t d;
	int sod;

	utc_to_eastern(t, &d, &sod);
	if (!sched_day_allowed(s, d))
		return false;
	if (s->kind == SCHED_DAILY)
		return true;
	return t >= s_local(d, s->window_start) && t < s_local(d, s->window_end);
}

static int64_t s_next_interval(const struct sched *s, int64_t last_run, int64_t now)
{
	int64_t t = now;
	civil_date_t d;
	int sod;

	/* last + interval, never before now; a last run in the future (the
	 * clock went back) waits one interval from now, not until then. */
	if (last_run != SCHED_NEVER) {
		if (last_run > now)
			t = now + s->interval_s;
		else if (last_run > now - s->interval_s)
			t = last_run + s->interval_s;
	}
	utc_to_eastern(t, &d, &sod);
	for (int i = 0; i < SEARCH_DAYS; i++, d = date_add_days(d, 1)) {
		int64_t ws, we;

		if (!sched_day_allowed(s, d))
			continue;
		ws = s_local(d, s->window_start);
		we = s_local(d, s->window_end);
		if (t < we)
			return t > ws ? t : ws;
	}
	return SCHED_NONE;
}

static int64_t s_next_daily(const struct sched *s, int64_t last_run, int64_t now)
{
	civil_date_t d, today;
	int sod;

	if (last_run != SCHED_NEVER && last_run > now)
		last_run = now; /* the clock went back: judge from now */
	utc_to_eastern(now, &today, &sod);
	if (last_run == SCHED_NEVER)
		d = today;
	else
		utc_to_eastern(last_run, &d, &sod);
	for (int i = 0; i < SEARCH_DAYS; i++, d = date_add_days(d, 1)) {
		int64_t at;

		if (!sched_day_allowed(s, d))
			continue;
		at = s_local(d, s->daily_at);
		if (last_run != SCHED_NEVER && at <= last_run)
			continue;
		if (at >= now)
			return at;
		/* That day's run was missed: catch it up now, if today is a
		 * day the source may run on; else on the next such day. */
		if (sched_day_allowed(s, today))
			return now;
	}
	return SCHED_NONE;
}

int64_t sched_next_due(const struct sched *s, int64_t last_run, int64_t now)
{
	if (s->kind == SCHED_DAILY)
		return s_next_daily(s, last_run, now);
	return s_next_interval(s, last_run, now);
}
