/*
 * batch.h - when the mapper may send an OpenFIGI request: the batch window,
 * the token bucket of the rate limit, and the backoff after failures.
 *
 * Pure arithmetic on millisecond clocks passed in by the caller, so every
 * rule is unit-tested without waiting.
 */
#ifndef COATTAIL_BATCH_H
#define COATTAIL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_NEVER INT64_MAX

/*
 * A token bucket that keeps at most `limit` requests in ANY window of
 * `window_ms`, whatever windowing the server uses (fixed or sliding): it
 * holds `burst` tokens (capped at limit) and refills at (limit - burst)
 * tokens per window (at least 1 per window).  In any window at most the
 * full bucket plus one window's refill go out: burst + (limit - burst).
 */
struct tbucket {
	double cap;      /* tokens the bucket holds at most */
	double tokens;   /* available now (fractional) */
	double per_ms;   /* refill rate */
	int64_t last_ms; /* time of the last refill */
};

void tbucket_init(struct tbucket *b, int limit, int64_t window_ms, int burst, int64_t now_ms);
/* Take one token if there is one; true when taken. */
bool tbucket_take(struct tbucket *b, int64_t now_ms);
/* Milliseconds until a token is there (0: now). */
int64_t tbucket_wait_ms(struct tbucket *b, int64_t now_ms);
/* Empty the bucket (the server said 429: our idea of its count was wrong). */
void tbucket_drain(struct tbucket *b, int64_t now_ms);

/*
 * When the next request is due, given `queued` jobs waiting since
 * `oldest_ms`: at once when a full request is there (queued >= max_jobs) or
 * when flushing (end of input), else when the oldest job has waited
 * window_ms.  BATCH_NEVER when nothing is queued.
 */
int64_t batch_due_ms(size_t queued, int64_t oldest_ms, size_t max_jobs, int64_t window_ms,
                     bool flush);
/* Requests needed for `jobs` jobs at `max_jobs` per request: ceil. */
size_t batch_requests(size_t jobs, size_t max_jobs);

/*
 * Exponential backoff with jitter: the n-th consecutive failure waits
 * min_ms * 2^(n-1), capped at max_ms, scaled by a random factor in
 * [0.8, 1.2] (still capped), and never less than at_least_ms (what the
 * server asked for, e.g. ratelimit-reset), itself capped at max_ms.
 */
struct backoff {
	int64_t min_ms, max_ms;
	int failures;     /* consecutive failures so far */
	int64_t until_ms; /* no request before this time */
	uint64_t rng;     /* xorshift state */
};

void backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms, uint64_t seed);
/* Record a failure at now_ms; returns the wait chosen (until_ms - now_ms). */
int64_t backoff_fail(struct backoff *b, int64_t now_ms, int64_t at_least_ms);
/* A request succeeded: the next failure starts from min_ms again. */
void backoff_reset(struct backoff *b);

/*
 * The wait a 429 asks for, in ms, from the "ratelimit-reset" header
 * (seconds; OpenFIGI, observed) or "Retry-After" (seconds).  -1 when
 * neither is a plausible number (0..86400): the client must not depend on
 * them (APIS.md).
 */
int64_t batch_retry_hint_ms(const char *ratelimit_reset, const char *retry_after);

#endif
