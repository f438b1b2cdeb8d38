/*
 * batch.c - batch window, token bucket and backoff (see batch.h).
 */
#include "batch.h"

#include <ctype.h>
#include <stdlib.h>

void tbucket_init(struct tbucket *b, int limit, int64_t window_ms, int burst, int64_t now_ms)
{
	int refill;

	if (limit < 1)
		limit = 1;
	if (window_ms < 1)
		window_ms = 1;
	if (burst < 1)
		burst = 1;
	if (burst > limit)
		burst = limit;
	refill = limit - burst;
	if (refill < 1)
		refill = 1;
	b->cap = burst;
	b->tokens = burst;
	b->per_ms = (double)refill / (double)window_ms;
	b->last_ms = now_ms;
}

static void s_refill(struct tbucket *b, int64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * b->per_ms;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last_ms = now_ms;
	}
}

/* Tokens are compared with a small tolerance: refills are fractional. */
#define TOKEN_EPS 1e-9

bool tbucket_take(struct tbucket *b, int64_t now_ms)
{
	s_refill(b, now_ms);
	if (b->tokens < 1.0 - TOKEN_EPS)
		return false;
	b->tokens -= 1.0;
	if (b->tokens < 0)
		b->tokens = 0;
	return true;
}

int64_t tbucket_wait_ms(struct tbucket *b, int64_t now_ms)
{
	double missing;
	int64_t ms;

	s_refill(b, now_ms);
	missing = 1.0 - b->tokens;
	if (missing <= TOKEN_EPS)
		return 0;
	ms = (int64_t)(missing / b->per_ms);
	/* Round up: at `ms` the token must be complete. */
	while ((double)ms * b->per_ms < missing - TOKEN_EPS)
		ms++;
	return ms;
}

void tbucket_drain(struct tbucket *b, int64_t now_ms)
{
	s_refill(b, now_ms);
	b->tokens = 0;
}

int64_t batch_due_ms(size_t queued, int64_t oldest_ms, size_t max_jobs, int64_t window_ms,
                     bool flush)
{
	if (queued == 0)
		return BATCH_NEVER;
	/* Due since the oldest job arrived: that is, now. */
	if (flush || queued >= max_jobs)
		return oldest_ms;
	return oldest_ms + window_ms;
}

size_t batch_requests(size_t jobs, size_t max_jobs)
{
	if (max_jobs == 0)
		return 0;
	return jobs / max_jobs + (jobs % max_jobs != 0);
}

void backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms, uint64_t seed)
{
	if (min_ms < 1)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->failures = 0;
	b->until_ms = 0;
	b->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

static uint64_t s_rand(struct backoff *b)
{
	uint64_t x = b->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int64_t backoff_fail(struct backoff *b, int64_t now_ms, int64_t at_least_ms)
{
	double wait = (double)b->min_ms, factor;

	if (b->failures < 62)
		b->failures++;
	for (int i = 1; i < b->failures && wait < (double)b->max_ms; i++)
		wait *= 2;
	if (wait > (double)b->max_ms)
		wait = (double)b->max_ms;
	/* Jitter in [0.8, 1.2]: mappers sharing a key do not retry in step. */
	factor = 0.8 + 0.4 * (double)(s_rand(b) >> 11) / (double)(1ULL << 53);
	wait *= factor;
	if (wait > (double)b->max_ms)
		wait = (double)b->max_ms;
	if (at_least_ms > b->max_ms)
		at_least_ms = b->max_ms;
	if (wait < (double)at_least_ms)
		wait = (double)at_least_ms;
	b->until_ms = now_ms + (int64_t)wait;
	return (int64_t)wait;
}

void backoff_reset(struct backoff *b)
{
	b->failures = 0;
	b->until_ms = 0;
}

/* Whole seconds 0..86400 with optional surrounding blanks, else -1. */
static int64_t s_seconds(const char *s)
{
	int64_t v = 0;
	int digits = 0;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s++ - '0');
		if (++digits > 6)
			return -1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (digits == 0 || *s != '\0' || v > 86400)
		return -1;
	return v;
}

int64_t batch_retry_hint_ms(const char *ratelimit_reset, const char *retry_after)
{
	int64_t s = s_seconds(ratelimit_reset);

	if (s < 0)
		s = s_seconds(retry_after);
	return s < 0 ? -1 : s * 1000;
}
