/*
 * executor.h - the executor stage: intents in, broker orders out, exactly
 * once, under risk limits; an `order` event for every intent.
 *
 * The core (executor_new ... executor_tick) knows nothing of sockets: it is
 * given a broker and a function that publishes order events, so the unit
 * tests drive it directly; executor_run() wires it to the stage's loop.
 *
 * What happens to one intent (executor.c has the details):
 *   1. an intent id already in the journal -> `duplicate`, nothing else;
 *   2. journal it as pending (fsync; the intents that arrive together
 *      share one, with the first one's step 5) before any broker call
 *      that places or finds an order;
 *   3. expired, halted, limits, dry run -> `blocked` / `dry_run`;
 *   4. market closed -> held until the open (or `blocked`, per
 *      executor.market_closed); not tradable, position, account -> `blocked`;
 *   5. mark the submission begun (fsync), submit once;
 *   6. the answer decides: `filled` / `submitted` / `rejected`, or, when
 *      there is no usable answer, the order is looked up by its client id
 *      and adopted if it exists.  The intent is submitted again only
 *      right after a lookup that found nothing and was begun at least
 *      the settle time (doubt_settle_ms) after the last submission began:
 *      an earlier "not found" may only mean the broker has not finished
 *      the create yet, so the entry stays in doubt and is looked up again
 *      once the settle time has passed (other intents go on meanwhile).
 * At start, and before any new input is read, every entry left in doubt by
 * the previous run is looked up the same way, under the same rule (the
 * send time is in the journal).
 */
#ifndef COATTAIL_EXECUTOR_H
#define COATTAIL_EXECUTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "journal.h"
#include "risk.h"
#include "stage.h"

enum executor_closed {
	EXEC_CLOSED_HOLD = 0, /* hold until the open, unless it expires first */
	EXEC_CLOSED_EXPIRE,   /* do not wait: blocked at once */
};

struct executor_opts {
	const char *state_dir; /* executor.sqlite lives here */
	const char *halt_file; /* kill switch: while it exists, nothing new is sent */
	bool dry_run;
	enum executor_closed market_closed;
	struct risk_limits limits;
	int max_attempts;       /* tries without a usable answer before giving up;
	                           0: until the intent expires */
	int64_t retry_base_ms;  /* first retry delay, doubled per failure */
	int64_t retry_max_ms;   /* cap of one delay */
	int64_t clock_cache_ms; /* how long a market clock answer is reused */
	int64_t hold_recheck_s; /* held, the broker names no next open: look again */
	/* How long after a submission began a lookup's "not found" is
	 * believed (executor_settle_left_ms); 0: at once.  Ignored (0) for a
	 * broker whose lookups are exact (broker_ops.lookup_exact). */
	int64_t doubt_settle_ms;
	/* Wall-clock milliseconds (the send times in the journal); NULL:
	 * CLOCK_REALTIME.  Tests give their own. */
	int64_t (*wall_ms)(void);
};

/* Publish one order event (REC_ORDER); r is borrowed. */
typedef void (*executor_emit_fn)(void *arg, const record_t *r);

typedef struct executor executor_t;

/*
 * Open the journal and take ownership of broker b (freed by
 * executor_free, or here on failure).  NULL with err on failure.
 */
executor_t *executor_new(const struct executor_opts *o, broker_t *b, executor_emit_fn emit,
                         void *arg, char *err, size_t errlen);
void executor_free(executor_t **ex);

/* Handle one intent now (steps 1-6 above; what was taken before it goes
 * first).  Returns 0, or -1 when something went wrong that the caller
 * should count (an `error` or nothing emitted). */
int executor_on_intent(executor_t *ex, const intent_t *in);

/*
 * Take the intent r (REC_INTENT) for the next executor_flush, which runs
 * by itself when the intake is full: its contents are taken over and r is
 * left empty.  A bad id is refused at once (an `error` event) and r is
 * left as it was, for the caller to free.  Returns the number of errors
 * to count (of the refusal, or of a flush).
 */
int executor_take(executor_t *ex, record_t *r);

/*
 * Handle every intent taken, in order: all journalled in one transaction
 * (one fsync) before the broker hears of any, the first of them decided in
 * it up to its submission mark; in a dry run all decided in that same
 * transaction, their events sent once it committed.  Returns the number of
 * errors to count.
 */
int executor_flush(executor_t *ex);

/* Do the work that is due (lookups, retries, held intents whose time has
 * come); returns the milliseconds until more is due. */
int64_t executor_tick(executor_t *ex);

/* false while an entry is in doubt: new input waits for its lookup. */
bool executor_input_ready(executor_t *ex);

/* Tick until nothing is pending (held intents excepted), *stop is set, or
 * max_ms passed: the end of `--in -`.  Returns the entries still pending. */
int64_t executor_drain(executor_t *ex, int64_t max_ms, volatile sig_atomic_t *stop);

journal_t *executor_journal(executor_t *ex);

/*
 * The settle rule.  A lookup begun at wall time now_ms, for an order whose
 * last submission began at sent_at_ms, answered "not found": 0 when that
 * answer is believed (now_ms >= sent_at_ms + settle_ms, or settle_ms <= 0,
 * or no send time is known: sent_at_ms <= 0), else the milliseconds left
 * until a lookup would be.  Wall clock on both sides, since sent_at_ms
 * comes from the journal, maybe from a run before a reboot: a clock set
 * back makes the wait longer (safe); a clock set forward shortens it, down
 * to nothing (the rule then protects no more than the old immediate
 * lookup did).
 */
int64_t executor_settle_left_ms(int64_t sent_at_ms, int64_t now_ms, int64_t settle_ms);

/* executor.doubt_settle_ms as configured (0: automatic) -> the settle time
 * used: the value, or when 0 the larger of 2 x http_timeout_ms and
 * EXEC_SETTLE_FLOOR_MS. */
#define EXEC_SETTLE_FLOOR_MS 60000
int64_t executor_settle_ms(int64_t configured_ms, int64_t http_timeout_ms);

/* The client order id of an intent (see broker_client_id). */
const char *executor_client_id(const char *intent_id, char *buf, size_t len);

/* Run the executor stage until a signal or the end of its input; returns
 * the exit status. */
int executor_run(conf_t *c, const struct stage_args *a, wire_t *w);

#endif
