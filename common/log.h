/*
 * log.h - the one logging API of every coattail process.
 *
 * Lines go to stderr as "STAGE: LEVEL: message" (journald and supervisord
 * collect stderr).  log_warn appends ": strerror(errno)", log_warnx does not.
 * fatal/fatalx log and exit(1); use them only before a stage enters its loop.
 * Nothing logged may contain a secret: callers pass keys to nobody here.
 */
#ifndef COATTAIL_LOG_H
#define COATTAIL_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN = 1, LOG_LVL_INFO = 2, LOG_LVL_DEBUG = 3 };

/* Name the process in every line ("mapper") and set the lowest level shown. */
void log_init(const char *stage, int level);
void log_set_level(int level);
int log_get_level(void);
const char *log_stage(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A rate limit for one kind of repeated message (bad records, failed fetches):
 * at most `burst` lines per `period_s` seconds; what is held back is counted
 * and reported as "(N similar messages suppressed)" with the next line shown.
 */
struct log_limit {
	int period_s;
	int burst;
	int64_t window_start; /* monotonic seconds of the current window */
	int shown;            /* lines shown in this window */
	uint64_t suppressed;  /* lines held back since the last one shown */
};
#define LOG_LIMIT_INIT(period, burst_)                                                             \
	{                                                                                          \
		.period_s = (period), .burst = (burst_)                                            \
	}

void log_warnx_limited(struct log_limit *lim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
