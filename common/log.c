/*
 * log.c - stderr logging with a stage prefix, levels and rate limits.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_stage = "coattail";
static int s_level = LOG_LVL_INFO;

void log_init(const char *stage, int level)
{
	if (stage != NULL)
		s_stage = stage;
	s_level = level;
}

void log_set_level(int level)
{
	s_level = level;
}

int log_get_level(void)
{
	return s_level;
}

const char *log_stage(void)
{
	return s_stage;
}

/* One line, written with a single fprintf so lines of concurrent stages that
 * share a terminal do not interleave mid-line. */
static void s_vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Control characters from outside data must not forge log lines. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	if (suffix != NULL)
		fprintf(stderr, "%s: %s: %s: %s\n", s_stage, level, msg, suffix);
	else
		fprintf(stderr, "%s: %s: %s\n", s_stage, level, msg);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (s_level < LOG_LVL_WARN)
		return;
	va_start(ap, fmt);
	s_vlog("warning", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (s_level < LOG_LVL_WARN)
		return;
	va_start(ap, fmt);
	s_vlog("warning", fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (s_level < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	s_vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (s_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	s_vlog("debug", fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	s_vlog("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

static int64_t s_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void log_warnx_limited(struct log_limit *lim, const char *fmt, ...)
{
	int64_t now = s_mono_s();
	char msg[1800];
	va_list ap;

	if (s_level < LOG_LVL_WARN)
		return;
	if (now - lim->window_start >= lim->period_s) {
		lim->window_start = now;
		lim->shown = 0;
	}
	if (lim->shown >= lim->burst) {
		lim->suppressed++;
		return;
	}
	lim->shown++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lim->suppressed > 0) {
		log_warnx("%s (%llu similar messages suppressed)", msg,
		          (unsigned long long)lim->suppressed);
		lim->suppressed = 0;
	} else {
		log_warnx("%s", msg);
	}
}
