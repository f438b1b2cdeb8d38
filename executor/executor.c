/*
 * executor.c - the executor stage: the exactly-once protocol, risk control,
 * and the wiring to the stage's loop (see executor.h).
 *
 * The protocol, in terms of the journal (journal.h) and the broker
 * outcomes (broker.h):
 *
 *   - An intent is journalled as pending before any broker call; an id
 *     already journalled gets a `duplicate` event and nothing else.
 *   - Before each submission the entry is marked in doubt (attempts + 1,
 *     the wall-clock send time, fsync).  Only a definite answer ends the
 *     doubt: the order itself (OK), a refusal that created nothing
 *     (REJECTED), or a lookup by client id that finds nothing (NOT_FOUND)
 *     and is believed (below).
 *   - After EXISTS (Alpaca's 422 "client_order_id must be unique") or
 *     AMBIGUOUS (timeout, dropped connection, 5xx, 429, an unreadable
 *     body) the order is looked up at once; found, it is adopted; no
 *     answer, the entry stays in doubt and the lookup is retried.
 *   - The settle rule.  A request the client gave up on (its timeout, a
 *     proxy's 502/504, a slow backend) may still create the order after
 *     the lookup that follows it has found nothing: Alpaca would then
 *     refuse the resend (422, the client id is taken), lemon.markets may
 *     make a second order.  So a NOT_FOUND is believed only from a lookup
 *     begun at least the settle time (doubt_settle_ms) after the last
 *     submission began (sent_at_ms, in the journal, so the rule holds
 *     across a restart).  Until then the entry stays in doubt (2: looked
 *     up, nothing found; input is not held back) and is looked up again
 *     when the settle time has passed, by a rescheduled retry.  And the
 *     doubt ends only in the pass that sends again: a resend always
 *     follows, in the same pass, a lookup that found nothing and was
 *     believed.  A NOT_FOUND right after a failed submission is never
 *     believed at once: it waits for the settle time and the backoff.
 *     What the rule cannot do: a create that lands later than the settle
 *     time after it was sent is still sent twice (RELIABILITY.md).
 *   - While an entry is in doubt and not looked up since (in_doubt 1), no
 *     new input is read; at start, the entries a killed run left in doubt
 *     are looked up first.
 *   - Events are emitted after the journal commit, so a kill in between
 *     loses an event, never an order: the intent, sent again, reports
 *     `duplicate` with what the journal knows.
 *
 * Batching (executor_take / executor_flush): the intents read in one turn
 * of the loop are journalled in one transaction, one fsync for all of
 * them, and only then does the broker hear of any: every one is on disk
 * before the first is sent, which is all the write-ahead rule asks.  The
 * first of them is decided inside that transaction, so its mark of a
 * submission begun commits with it: the transaction is committed at the
 * write-ahead point (s_write_ahead), just before the broker is asked to
 * place or find an order, or after that intent when it sent nothing; its
 * events wait for that commit.  In a
 * dry run nothing leaves the process, so the whole batch (journalled,
 * decided, finished) is one transaction and its events are held back
 * until it commits: a kill leaves either all of it or none of it, and a
 * lost batch is simply decided again when its intents come again.
 */
#include "executor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

#ifndef COATTAIL_VERSION
#define COATTAIL_VERSION "0.0.0"
#endif

#define EXEC_DUE_BATCH             16    /* entries handled per tick */
#define EXEC_IDLE_TICK_MS          60000 /* longest sleep when nothing is due */
#define EXEC_EOF_DRAIN_MS          120000
#define EXEC_DEF_RECHECK_S         300
#define EXEC_STALE_CLOCK_RECHECK_S 10  /* closed although its next open has passed */
#define EXEC_INTAKE_MAX            256 /* intents journalled in one transaction */

struct executor {
	struct executor_opts o;
	broker_t *b;
	const char *broker; /* b->ops->name */
	journal_t *j;
	executor_emit_fn emit;
	void *arg;
	/* the market clock, reused for clock_cache_ms */
	struct broker_clock clock;
	int64_t clock_until_ms;
	bool clock_valid;
	/* in-doubt count, valid while the journal's generation is doubt_gen */
	int64_t in_doubt;
	uint64_t doubt_gen;
	bool doubt_valid;
	/* when work is next due (journal_next_due), valid likewise */
	int64_t due_retry_ms, due_wake_s;
	uint64_t due_gen;
	bool due_valid;
	struct log_limit retry_limit;
	/* intents taken but not yet journalled (executor_take) */
	record_t intake[EXEC_INTAKE_MAX];
	int n_intake;
	/* order events held back until the dry-run batch that decided them
	 * commits (s_emit while defer_events) */
	record_t *held;
	size_t n_held, cap_held;
	bool defer_events;
	/* the intake batch's commit failed at a write-ahead point: nothing of
	 * it was kept (s_write_ahead) */
	bool batch_lost;
	volatile sig_atomic_t *stop; /* set: leave journalled intents for later */
};

const char *executor_client_id(const char *intent_id, char *buf, size_t len)
{
	return broker_client_id(intent_id, buf, len);
}

journal_t *executor_journal(executor_t *ex)
{
	return ex->j;
}

/* ---- events ---- */

static void s_emit(executor_t *ex, const char *id, enum order_status st, const char *boid,
                   double qty, double price, const char *reason)
{
	record_t r;
	char why[600];

	record_init(&r, REC_ORDER);
	broker_clean_text(why, sizeof(why), reason, NULL);
	r.u.order.intent = (char *)id;
	r.u.order.broker = (char *)ex->broker;
	r.u.order.status = st;
	r.u.order.broker_order_id = boid != NULL && boid[0] != '\0' ? (char *)boid : NULL;
	r.u.order.qty = (isfinite(qty) && qty >= 0) ? qty : NAN;
	r.u.order.price = (isfinite(price) && price >= 0) ? price : NAN;
	r.u.order.reason = why[0] != '\0' ? why : NULL;
	r.u.order.at = time_now();
	if (ex->emit == NULL)
		return;
	if (ex->defer_events) {
		if (ex->n_held == ex->cap_held) {
			size_t cap = ex->cap_held ? ex->cap_held * 2 : 64;
			record_t *h = realloc(ex->held, cap * sizeof(*h));

			if (h == NULL)
				goto lost;
			ex->held = h;
			ex->cap_held = cap;
		}
		if (record_copy(&ex->held[ex->n_held], &r) != 0)
			goto lost;
		ex->n_held++;
		return;
	lost:
		/* The decision is journalled; only its event is lost, as if
		 * killed after the commit: a resend reports `duplicate`. */
		log_warnx("intent %s: out of memory: order event not sent", id);
		return;
	}
	ex->emit(ex->arg, &r);
}

/* Send the held events (their batch committed), or drop them (it did
 * not: what they report never happened). */
static void s_release_events(executor_t *ex, bool send)
{
	for (size_t i = 0; i < ex->n_held; i++) {
		if (send && ex->emit != NULL)
			ex->emit(ex->arg, &ex->held[i]);
		record_free(&ex->held[i]);
	}
	ex->n_held = 0;
}

/*
 * The write-ahead point: before the broker is asked to place or find an
 * order, everything journalled so far must be on disk.  Inside the intake
 * batch (whose first intent is decided before it commits, so that its
 * journalling and its submission mark share one fsync) that means
 * committing the batch here, and sending the events it held back.  0 when
 * the journal is committed; -1 when the batch could not be, in which case
 * nothing of it was kept, its events are dropped, and the broker must not
 * be asked (ex->batch_lost tells s_intake_batch to go one by one).
 */
static int s_write_ahead(executor_t *ex)
{
	char err[512];

	/* A dry run's batch is a lazy one that no broker hears of (and a
	 * fresh intent is never looked up): it commits as a whole. */
	if (!journal_in_batch(ex->j) || ex->o.dry_run)
		return 0;
	ex->defer_events = false;
	if (journal_batch_commit(ex->j, err, sizeof(err)) != 0) {
		log_warnx("journal: %s", err);
		ex->batch_lost = true;
		s_release_events(ex, false);
		return -1;
	}
	s_release_events(ex, true);
	return 0;
}

/* ---- helpers ---- */

static const char *s_outcome_name(enum broker_outcome out)
{
	switch (out) {
	case BROKER_OK:
		return "ok";
	case BROKER_EXISTS:
		return "exists";
	case BROKER_NOT_FOUND:
		return "not_found";
	case BROKER_REJECTED:
		return "rejected";
	case BROKER_AMBIGUOUS:
		break;
	}
	return "ambiguous";
}

static void s_answer(struct journal_answer *a, const char *op, enum broker_outcome out,
                     const struct broker_order *o, char *detail, size_t dlen)
{
	if (out == BROKER_OK)
		snprintf(detail, dlen, "%s %s", o->id, o->status);
	else
		snprintf(detail, dlen, "%s", o->reason);
	a->op = op;
	a->outcome = s_outcome_name(out);
	a->http_status = o->http_status;
	a->detail = detail;
}

/* The Eastern (exchange) date of t: the day the limits count against. */
static void s_day(int64_t t, char *buf, size_t len)
{
	civil_date_t d;
	int sec;

	utc_to_eastern(t, &d, &sec);
	date_format(d, buf, len);
}

static bool s_halted(const executor_t *ex)
{
	return ex->o.halt_file != NULL && ex->o.halt_file[0] != '\0' &&
	       access(ex->o.halt_file, F_OK) == 0;
}

static void s_request(const struct journal_entry *e, struct broker_req *rq)
{
	const intent_t *in = &e->intent.u.intent;

	memset(rq, 0, sizeof(*rq));
	rq->client_id = e->client_id;
	rq->intent = in;
	rq->side = in->side;
	rq->qty = in->qty;
	rq->notional = in->notional;
	rq->ref_price = in->ref_price;
	rq->expires_at = in->expires_at;
}

static const char *s_fmt_time(int64_t t, char *buf, size_t len)
{
	if (t == REC_NULL_TIME || t == INT64_MAX)
		snprintf(buf, len, "(unknown)");
	else
		time_format_rfc3339(t, buf, len);
	return buf;
}

/* "buy 10 AAPL" or "buy 500.00 USD of AAPL" */
static void s_describe_order(const struct risk_order *ro, char *buf, size_t len)
{
	if (!isnan(ro->qty))
		snprintf(buf, len, "%s %g %s", side_name(ro->side), ro->qty, ro->ticker);
	else
		snprintf(buf, len, "%s %.2f USD of %s", side_name(ro->side), ro->notional,
		         ro->ticker);
}

/* ---- state changes (journal first, then the event) ---- */

static int s_finish(executor_t *ex, const struct journal_entry *e, enum journal_state st,
                    const struct journal_answer *a, const char *boid, const char *bstatus,
                    double qty, double price, const char *reason)
{
	char err[512];

	if (journal_finish(ex->j, e->id, st, a, boid, bstatus, qty, price, reason, time_now(), err,
	                   sizeof(err)) != 0) {
		/* Not recorded: the entry stays as it was and is retried. */
		log_warnx("intent %s: %s", e->id, err);
		return -1;
	}
	s_emit(ex, e->id, journal_state_order_status(st), boid, qty, price, reason);
	if (st == JS_ERROR || st == JS_REJECTED)
		log_warnx("intent %s: %s: %s", e->id, journal_state_name(st), reason);
	else
		log_info("intent %s: %s: %s", e->id, journal_state_name(st), reason);
	return 0;
}

/* The broker holds the order: record what it says. */
static int s_adopt(executor_t *ex, const struct journal_entry *e, const struct journal_answer *a,
                   const struct broker_order *o, const char *how)
{
	char reason[512];
	enum journal_state st;

	switch (o->st) {
	case ORDER_FILLED:
		st = JS_FILLED;
		break;
	case ORDER_REJECTED:
		st = JS_REJECTED;
		break;
	default:
		st = JS_SUBMITTED;
	}
	if (st == JS_REJECTED)
		snprintf(reason, sizeof(reason), "%s order %s is %s%s%s", ex->broker, o->id,
		         o->status, o->reason[0] ? ": " : "", o->reason);
	else if (st == JS_FILLED && !isnan(o->price))
		snprintf(reason, sizeof(reason), "%s%s: filled %g %s at %.4f (order %s)",
		         ex->broker, how, o->qty, e->intent.u.intent.ticker, o->price, o->id);
	else
		snprintf(reason, sizeof(reason), "%s%s: order %s is %s", ex->broker, how, o->id,
		         o->status);
	return s_finish(ex, e, st, a, o->id, o->status, o->qty, o->price, reason);
}

/* The delay before the next try of an entry that failed `failures` times
 * in a row: retry_base_ms doubled per failure, at most retry_max_ms. */
static int64_t s_backoff(const executor_t *ex, int failures)
{
	int64_t delay = ex->o.retry_base_ms;

	for (int i = 0; i < failures && delay < ex->o.retry_max_ms; i++)
		delay *= 2;
	return delay > ex->o.retry_max_ms ? ex->o.retry_max_ms : delay;
}

/* Try again later: failures + 1 and a doubling delay. */
static int s_retry(executor_t *ex, const struct journal_entry *e, const struct journal_answer *a,
                   const char *reason)
{
	char err[512];
	int64_t delay = s_backoff(ex, e->failures);

	if (journal_retry_later(ex->j, e->id, a, time_mono_ms() + delay, reason, time_now(), err,
	                        sizeof(err)) != 0) {
		log_warnx("intent %s: %s", e->id, err);
		return -1;
	}
	log_warnx_limited(&ex->retry_limit, "intent %s: %s; %s in %lld ms", e->id, reason,
	                  e->in_doubt ? "looking it up again" : "trying again", (long long)delay);
	return 0;
}

static int s_clock(executor_t *ex, struct broker_clock *c, char *err, size_t errlen)
{
	int64_t now = time_mono_ms();

	/* A cached "closed until X" is stale from X on, whatever the cache
	 * time says (time_now() has whole seconds). */
	if (ex->clock_valid && now < ex->clock_until_ms &&
	    (ex->clock.is_open || ex->clock.next_open <= 0 || ex->clock.next_open > time_now())) {
		*c = ex->clock;
		return 0;
	}
	if (ex->b->ops->clock(ex->b->self, c, err, errlen) != 0)
		return -1;
	ex->clock = *c;
	ex->clock_valid = true;
	ex->clock_until_ms = now + ex->o.clock_cache_ms;
	/* Closed: the answer is stale from the next open on. */
	if (!c->is_open && c->next_open > 0) {
		int64_t left_ms = (c->next_open - time_now()) * 1000;

		if (left_ms < ex->o.clock_cache_ms)
			ex->clock_until_ms = now + (left_ms > 0 ? left_ms : 0);
	}
	return 0;
}

/* ---- one entry ---- */

int64_t executor_settle_left_ms(int64_t sent_at_ms, int64_t now_ms, int64_t settle_ms)
{
	int64_t left;

	if (settle_ms <= 0 || sent_at_ms <= 0)
		return 0;
	/* A clock set back since the send (now_ms < sent_at_ms) leaves more
	 * than settle_ms: the wait grows by the jump. */
	left = sent_at_ms + settle_ms - now_ms;
	return left > 0 ? left : 0;
}

int64_t executor_settle_ms(int64_t configured_ms, int64_t http_timeout_ms)
{
	int64_t auto_ms = 2 * http_timeout_ms;

	if (configured_ms > 0)
		return configured_ms;
	return auto_ms > EXEC_SETTLE_FLOOR_MS ? auto_ms : EXEC_SETTLE_FLOOR_MS;
}

static int64_t s_wall_ms_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Look up an entry in doubt and act on the answer:
 *   - the order exists: adopted (the entry is finished);
 *   - no usable answer: still in doubt, looked up again after a backoff;
 *   - not found, although the broker said the order exists (keep_doubt):
 *     its lookup lags its own create; in doubt 1, looked up again after a
 *     backoff;
 *   - not found, straight after a submission that got no usable answer
 *     (failed_send: that answer, for the entry's reason), or from a lookup
 *     begun less than the settle time after the last submission began:
 *     not believed, since the broker may still be creating the order.  In
 *     doubt 2 (input no longer waits for it), looked up again when the
 *     settle time has passed, and after a failed submission no sooner
 *     than the backoff (that submission counts as a failure);
 *   - not found, from a lookup begun at least the settle time after the
 *     submission began, and not straight after one: believed.  The entry
 *     stays in doubt 2 on disk until journal_begin_send marks the next
 *     submission, so if this pass sends nothing (held, a check that
 *     failed) the next one looks it up again first.
 * Returns 1 when the entry is finished or rescheduled (nothing more to do
 * now), 0 when the broker has no such order, believed, and the entry may
 * go on to be decided and submitted in this same pass, -1 on a journal
 * error.
 */
static int s_resolve_doubt(executor_t *ex, struct journal_entry *e, const char *how,
                           bool keep_doubt, const char *failed_send)
{
	struct broker_req rq;
	struct broker_order o;
	struct journal_answer a;
	enum broker_outcome out;
	char detail[300], err[512];
	int64_t looked_at, left, delay;

	if (s_write_ahead(ex) != 0)
		return -1;
	s_request(e, &rq);
	/* Taken before the request: the broker answers from its state at
	 * some moment after this, so this is the conservative side. */
	looked_at = ex->o.wall_ms();
	out = ex->b->ops->lookup(ex->b->self, &rq, &o);
	s_answer(&a, "lookup", out, &o, detail, sizeof(detail));
	if (out == BROKER_OK)
		return s_adopt(ex, e, &a, &o, how) == 0 ? 1 : -1;
	if (out == BROKER_NOT_FOUND && keep_doubt) {
		/* The broker said the order exists, and its lookup does not
		 * show it (yet): stay in doubt and look again later. */
		return s_retry(ex, e, &a,
		               "the broker says the order exists but its lookup "
		               "does not find it") == 0
		           ? 1
		           : -1;
	}
	if (out == BROKER_NOT_FOUND) {
		char why[700];

		left = executor_settle_left_ms(e->sent_at_ms, looked_at, ex->o.doubt_settle_ms);
		if (failed_send == NULL && left == 0) {
			/* Believed: on to the checks and the resend, now. */
			if (journal_not_found(ex->j, e->id, &a, 0, 0, NULL, time_now(), err,
			                      sizeof(err)) != 0) {
				log_warnx("intent %s: %s", e->id, err);
				return -1;
			}
			e->in_doubt = false;
			e->looked_up = true;
			return 0;
		}
		/* Not yet.  After a clock set back, left exceeds the settle
		 * time: the next look comes after the settle time anyway (and
		 * is not believed either, until the clock has caught up). */
		delay = left < ex->o.doubt_settle_ms ? left : ex->o.doubt_settle_ms;
		if (failed_send != NULL && s_backoff(ex, e->failures) > delay)
			delay = s_backoff(ex, e->failures);
		if (journal_not_found(ex->j, e->id, &a, failed_send != NULL ? 1 : 0,
		                      time_mono_ms() + delay, failed_send, time_now(), err,
		                      sizeof(err)) != 0) {
			log_warnx("intent %s: %s", e->id, err);
			return -1;
		}
		e->looked_up = true;
		snprintf(why, sizeof(why),
		         "no order at %s %lld ms after the submission began; looking it up again "
		         "in %lld ms",
		         ex->broker, (long long)(looked_at - e->sent_at_ms), (long long)delay);
		if (left > 0)
			log_info("intent %s: %s (a not-found is believed %lld ms after the "
			         "submission: executor.doubt_settle_ms)",
			         e->id, why, (long long)ex->o.doubt_settle_ms);
		else
			log_info("intent %s: %s", e->id, why);
		return 1;
	}
	{
		char reason[400];
		snprintf(reason, sizeof(reason), "order lookup failed: %s", o.reason);
		return s_retry(ex, e, &a, reason) == 0 ? 1 : -1;
	}
}

/* Submit (the entry is pending, passed every check, and is not in doubt,
 * or was just looked up and believed not to exist at the broker). */
static int s_send(executor_t *ex, struct journal_entry *e, const struct risk_order *ro,
                  const char *day, const char *note)
{
	struct broker_req rq;
	struct broker_order o;
	struct journal_answer a;
	enum broker_outcome out;
	char detail[300], err[512], reason[700];
	int64_t sent_at_ms;

	sent_at_ms = ex->o.wall_ms();
	if (journal_begin_send(ex->j, e->id, day, ro->qty, risk_order_value(ro), time_now(),
	                       sent_at_ms, err, sizeof(err)) != 0) {
		log_warnx("intent %s: %s (not sent)", e->id, err);
		return -1;
	}
	if (s_write_ahead(ex) != 0)
		return -1; /* not journalled after all: nothing is sent */
	e->in_doubt = true;
	e->looked_up = false;
	e->attempts++;
	/* The mark went to disk (one fsync) before the request goes out:
	 * sent_at_ms is a few ms early, inside any settle time's margin. */
	e->sent_at_ms = sent_at_ms;
	s_request(e, &rq);
	rq.qty = ro->qty;
	rq.notional = ro->notional;
	out = ex->b->ops->submit(ex->b->self, &rq, &o);
	s_answer(&a, "submit", out, &o, detail, sizeof(detail));
	switch (out) {
	case BROKER_OK:
		return s_adopt(ex, e, &a, &o, note[0] ? note : "");
	case BROKER_REJECTED:
		snprintf(reason, sizeof(reason), "%s", o.reason);
		return s_finish(ex, e, JS_REJECTED, &a, NULL, NULL, ro->qty, NAN, reason);
	case BROKER_EXISTS:
	case BROKER_AMBIGUOUS:
	case BROKER_NOT_FOUND:
		break;
	}
	/* No usable answer: the order may exist.  Record the answer, then
	 * ask the broker before anything else.  A "not found" now is not
	 * believed (s_resolve_doubt): the entry is looked up again after the
	 * settle time and the backoff, and sent again only right after that
	 * lookup, with every check once more. */
	if (journal_note(ex->j, e->id, &a, time_now(), err, sizeof(err)) != 0)
		log_warnx("intent %s: %s", e->id, err);
	log_info("intent %s: submit %s (%s); looking the order up", e->id, s_outcome_name(out),
	         o.reason);
	snprintf(reason, sizeof(reason), "submit %s: %s", s_outcome_name(out), o.reason);
	return s_resolve_doubt(ex, e, " (found by lookup)", out == BROKER_EXISTS, reason) < 0 ? -1
	                                                                                      : 0;
}

/* Every check before a submission; submits, holds, blocks or reschedules. */
static int s_decide(executor_t *ex, struct journal_entry *e)
{
	const intent_t *in = &e->intent.u.intent;
	struct risk_order ro = {
		.ticker = in->ticker,
		.side = in->side,
		.qty = in->qty,
		.notional = in->notional,
		.ref_price = in->ref_price,
	};
	struct broker_clock clk;
	char why[512], err[400], day[16], desc[160], note[200] = "", t1[32], t2[32];
	int64_t now = time_now(), orders;
	double notional, held = 0;
	bool ok;

	if (in->expires_at != REC_NULL_TIME && now >= in->expires_at) {
		snprintf(why, sizeof(why), "intent expired at %s",
		         s_fmt_time(in->expires_at, t1, sizeof(t1)));
		return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
	}
	if (s_halted(ex)) {
		snprintf(why, sizeof(why), "halted: %s exists", ex->o.halt_file);
		return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
	}
	if (risk_check_order(&ex->o.limits, &ro, why, sizeof(why)) != 0)
		return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
	s_day(now, day, sizeof(day));
	/* The day's usage is a scan of the day's orders: skipped when no
	 * daily limit would read it (risk_check_day ignores it then). */
	orders = 0;
	notional = 0;
	if ((ex->o.limits.max_orders_per_day > 0 || ex->o.limits.max_notional_per_day > 0) &&
	    journal_usage(ex->j, day, e->id, &orders, &notional, err, sizeof(err)) != 0) {
		log_warnx("intent %s: %s", e->id, err);
		return -1;
	}
	if (risk_check_day(&ex->o.limits, &ro, orders, notional, why, sizeof(why)) != 0)
		return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
	s_describe_order(&ro, desc, sizeof(desc));
	if (ex->o.dry_run) {
		double v = risk_order_value(&ro);
		if (!isnan(v))
			snprintf(why, sizeof(why), "dry run: would %s (~%.2f USD)", desc, v);
		else
			snprintf(why, sizeof(why), "dry run: would %s", desc);
		/* Counted against the day like a real order, so a dry run
		 * shows what the limits would do. */
		if (journal_set_usage(ex->j, e->id, day, ro.qty, v, now, err, sizeof(err)) != 0) {
			log_warnx("intent %s: %s", e->id, err);
			return -1;
		}
		return s_finish(ex, e, JS_DRY_RUN, NULL, NULL, NULL, ro.qty, in->ref_price, why);
	}

	/* The broker's view: market hours, the asset, position, account.
	 * A failure here sent nothing: try again later. */
	if (s_clock(ex, &clk, err, sizeof(err)) != 0) {
		snprintf(why, sizeof(why), "market clock: %s", err);
		return s_retry(ex, e, NULL, why);
	}
	if (!clk.is_open) {
		int64_t wake;

		/* A broker still closed after the open it announced (a lagging
		 * clock) is asked again soon, not after the long recheck. */
		if (clk.next_open > now)
			wake = clk.next_open;
		else if (clk.next_open > 0)
			wake = now + EXEC_STALE_CLOCK_RECHECK_S;
		else
			wake = now + ex->o.hold_recheck_s;

		if (ex->o.market_closed == EXEC_CLOSED_EXPIRE) {
			snprintf(
			    why, sizeof(why),
			    "market closed (executor.market_closed = expire); next open %s",
			    s_fmt_time(clk.next_open ? clk.next_open : INT64_MAX, t1, sizeof(t1)));
			return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
		}
		if (in->expires_at != REC_NULL_TIME && clk.next_open > 0 &&
		    in->expires_at <= clk.next_open) {
			snprintf(why, sizeof(why),
			         "market closed: the intent expires at %s, before the next open "
			         "at %s",
			         s_fmt_time(in->expires_at, t1, sizeof(t1)),
			         s_fmt_time(clk.next_open, t2, sizeof(t2)));
			return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
		}
		if (in->expires_at != REC_NULL_TIME && in->expires_at < wake)
			wake = in->expires_at;
		snprintf(why, sizeof(why), "market closed: held until %s",
		         s_fmt_time(wake, t1, sizeof(t1)));
		if (journal_hold(ex->j, e->id, wake, why, now, err, sizeof(err)) != 0) {
			log_warnx("intent %s: %s", e->id, err);
			return -1;
		}
		log_info("intent %s: %s", e->id, why);
		return 0;
	}
	why[0] = '\0';
	if (ex->b->ops->tradable(ex->b->self, in, &ok, why, sizeof(why), err, sizeof(err)) != 0) {
		char r2[512];
		snprintf(r2, sizeof(r2), "asset check: %s", err);
		return s_retry(ex, e, NULL, r2);
	}
	if (!ok)
		return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN,
		                why[0] ? why : "not tradable at the broker");
	if (in->side == SIDE_SELL || ex->o.limits.max_position_per_ticker > 0) {
		if (ex->b->ops->position(ex->b->self, in, &held, err, sizeof(err)) != 0) {
			snprintf(why, sizeof(why), "position: %s", err);
			return s_retry(ex, e, NULL, why);
		}
		if (risk_check_position(&ex->o.limits, &ro, held, note, sizeof(note), why,
		                        sizeof(why)) != 0)
			return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
	}
	if (in->side == SIDE_BUY) {
		struct broker_account acct;
		double v = risk_order_value(&ro);

		if (ex->b->ops->account(ex->b->self, &acct, err, sizeof(err)) != 0) {
			snprintf(why, sizeof(why), "account: %s", err);
			return s_retry(ex, e, NULL, why);
		}
		if (acct.blocked)
			return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN,
			                "trading is blocked on the broker account");
		/* Buying power is in the account's currency: compared only
		 * when that is USD, like the order's value. */
		if (!isnan(v) && !isnan(acct.buying_power) &&
		    (acct.currency[0] == '\0' || strcmp(acct.currency, "USD") == 0) &&
		    v > acct.buying_power) {
			snprintf(why, sizeof(why),
			         "insufficient buying power: order %.2f USD, available %.2f", v,
			         acct.buying_power);
			return s_finish(ex, e, JS_BLOCKED, NULL, NULL, NULL, in->qty, NAN, why);
		}
	}
	{
		char how[sizeof(note) + 4] = "";

		if (note[0] != '\0')
			snprintf(how, sizeof(how), " (%s)", note);
		return s_send(ex, e, &ro, day, how);
	}
}

/* Move one loaded entry forward as far as it can go now (the caller
 * frees e). */
static int s_advance_entry(executor_t *ex, struct journal_entry *e)
{
	char err[512];
	int rc;

	if ((e->state != JS_PENDING && e->state != JS_HELD) || strcmp(e->broker, ex->broker) != 0)
		return 0;
	if (e->state == JS_HELD) {
		if (journal_wake(ex->j, e->id, time_now(), err, sizeof(err)) != 0) {
			log_warnx("intent %s: %s", e->id, err);
			return -1;
		}
		e->state = JS_PENDING;
	}
	/* In doubt (a submission's outcome unknown, or a lookup found
	 * nothing): looked up first, and decided and sent only when that
	 * lookup's "not found" is believed (the settle rule). */
	if (e->in_doubt) {
		rc = s_resolve_doubt(ex, e, " (found by lookup)", false, NULL);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	if (ex->o.max_attempts > 0 && e->failures >= ex->o.max_attempts &&
	    e->intent.u.intent.expires_at == REC_NULL_TIME) {
		char why[700];
		snprintf(why, sizeof(why), "gave up after %d tries without an answer: %s",
		         e->failures, e->reason);
		return s_finish(ex, e, JS_ERROR, NULL, NULL, NULL, e->intent.u.intent.qty, NAN,
		                why);
	}
	return s_decide(ex, e);
}

/* Move the entry `id` forward as far as it can go now. */
static int s_advance(executor_t *ex, const char *id)
{
	struct journal_entry e;
	char err[512];
	int rc;

	rc = journal_get(ex->j, id, &e, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			log_warnx("intent %.64s: %s", id, err);
		return rc < 0 ? -1 : 0;
	}
	rc = s_advance_entry(ex, &e);
	journal_entry_free(&e);
	return rc;
}

/* ---- the public core ---- */

static bool s_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JOURNAL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x21 || (unsigned char)id[i] > 0x7e)
			return false;
	return true;
}

/* Refuse an intent whose id cannot be journalled: an `error` event. */
static void s_bad_id(executor_t *ex, const intent_t *in)
{
	char why[700], shown[JOURNAL_ID_MAX + 1];

	snprintf(why, sizeof(why),
	         "intent id must be 1-%d printable ASCII characters; not journalled",
	         JOURNAL_ID_MAX);
	/* The id is valid UTF-8 (the decoder checked); the event can carry
	 * it, truncated to what a reader can use, without cutting a UTF-8
	 * sequence in half. */
	snprintf(shown, sizeof(shown), "%s", in->id);
	for (size_t n = strlen(shown); n > 0 && !record_utf8_valid(shown, strlen(shown));)
		shown[--n] = '\0';
	s_emit(ex, shown[0] ? shown : "?", ORDER_ERROR, NULL, NAN, NAN, why);
	log_warnx("intent refused: %s", why);
}

/*
 * What follows journal_add's answer add_rc (err: its error) for intent in,
 * journalled at `now` with client id cid: an `error` event, a `duplicate`
 * event, or the new entry moved forward.  0, or -1 to count an error.
 */
static int s_after_add(executor_t *ex, const intent_t *in, const char *cid, int add_rc,
                       const char *add_err, int64_t now)
{
	struct journal_entry e;
	char err[512], why[700];
	int rc;

	if (add_rc < 0) {
		snprintf(why, sizeof(why), "journal: %s; not sent", add_err);
		log_warnx("intent %s: %s", in->id, why);
		s_emit(ex, in->id, ORDER_ERROR, NULL, in->qty, NAN, why);
		return -1;
	}
	if (add_rc == 1) {
		if (journal_get(ex->j, in->id, &e, err, sizeof(err)) != 0) {
			snprintf(why, sizeof(why), "intent already journalled");
			s_emit(ex, in->id, ORDER_DUPLICATE, NULL, NAN, NAN, why);
			return 0;
		}
		snprintf(why, sizeof(why), "intent already journalled (%s%s%s%s%s)",
		         journal_state_name(e.state), e.broker_order_id[0] ? ", order " : "",
		         e.broker_order_id, e.reason[0] ? ": " : "", e.reason);
		s_emit(ex, in->id, ORDER_DUPLICATE, e.broker_order_id, e.qty, e.price, why);
		/* Routine: the decider re-sends intents whose evidence comes again
		 * (a kill may have lost the first copy), so this is not news. */
		log_debug("intent %s: duplicate", in->id);
		journal_entry_free(&e);
		return 0;
	}
	/* The entry just written, built in memory: reading it back would
	 * decode its JSON payload again. */
	if (journal_entry_fresh(&e, in, cid, ex->broker, now) != 0)
		return s_advance(ex, in->id);
	rc = s_advance_entry(ex, &e);
	journal_entry_free(&e);
	return rc;
}

/* One intent in its own transactions: journalled (fsync), then moved on. */
static int s_intake_one(executor_t *ex, const intent_t *in)
{
	char err[512], cid[BROKER_CLIENT_ID_MAX + 1];
	int64_t now = time_now();
	int rc;

	executor_client_id(in->id, cid, sizeof(cid));
	err[0] = '\0';
	rc = journal_add(ex->j, in, cid, ex->broker, now, err, sizeof(err));
	return s_after_add(ex, in, cid, rc, err, now);
}

/*
 * The intake as one batch (see the top of the file).  Returns the errors
 * to count, or -1 when the batch could not be journalled as one, in which
 * case nothing of it was kept and nothing was emitted: the caller goes
 * through the intents one by one, which reports each one's own failure.
 */
static int s_intake_batch(executor_t *ex, int n)
{
	char cids[EXEC_INTAKE_MAX][BROKER_CLIENT_ID_MAX + 1], err[512];
	int rcs[EXEC_INTAKE_MAX], failed = 0;
	int64_t now = time_now();

	/* A dry run's batch is decided and finished before it commits and
	 * nothing of it leaves the process, so it need not wait for the disk:
	 * a kill keeps it (the WAL is written), and a machine crash that
	 * undoes it undoes decisions no broker saw; those intents are decided
	 * again when they come again.  A real broker's batch is fsynced: the
	 * broker hears of its intents right after. */
	if (journal_batch_begin(ex->j, !ex->o.dry_run, err, sizeof(err)) != 0) {
		log_warnx("journal: %s", err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const intent_t *in = &ex->intake[i].u.intent;

		executor_client_id(in->id, cids[i], sizeof(cids[i]));
		rcs[i] = journal_add(ex->j, in, cids[i], ex->broker, now, err, sizeof(err));
		if (rcs[i] < 0) {
			journal_batch_abort(ex->j);
			return -1;
		}
	}
	if (!ex->o.dry_run) {
		/* The first intent is decided inside the batch, so its mark
		 * of a submission begun (journal_begin_send) commits with the
		 * batch: s_write_ahead commits both, one fsync, before the
		 * broker hears of it (and commits the batch after it when it
		 * sent nothing).  From then on every intent of the batch is on
		 * disk and the others go on in their own transactions, in
		 * their order.  Once one is in doubt, or on a stop, the rest
		 * stay pending for executor_tick (as after a restart). */
		ex->batch_lost = false;
		ex->defer_events = true;
		for (int i = 0; i < n; i++) {
			const intent_t *in = &ex->intake[i].u.intent;

			if (rcs[i] != 0 ||
			    !((ex->stop != NULL && *ex->stop) || !executor_input_ready(ex)))
				failed += s_after_add(ex, in, cids[i], rcs[i], "", now) != 0;
			if (s_write_ahead(ex) != 0 || ex->batch_lost) {
				log_warnx("journal: the batch was not kept; taking its %d intents "
				          "one by one",
				          n);
				return -1;
			}
		}
		return failed;
	}
	/* Dry run: decided inside the batch, reported once it commits. */
	ex->defer_events = true;
	for (int i = 0; i < n; i++)
		failed += s_after_add(ex, &ex->intake[i].u.intent, cids[i], rcs[i], "", now) != 0;
	ex->defer_events = false;
	if (journal_batch_commit(ex->j, err, sizeof(err)) != 0) {
		log_warnx("journal: %s; deciding the %d intents one by one", err, n);
		s_release_events(ex, false);
		return -1;
	}
	s_release_events(ex, true);
	return failed;
}

int executor_flush(executor_t *ex)
{
	int n = ex->n_intake, failed = -1;

	if (n == 0)
		return 0;
	failed = s_intake_batch(ex, n);
	if (failed < 0) {
		failed = 0;
		for (int i = 0; i < n; i++)
			failed += s_intake_one(ex, &ex->intake[i].u.intent) != 0;
	}
	for (int i = 0; i < n; i++)
		record_free(&ex->intake[i]);
	ex->n_intake = 0;
	return failed;
}

int executor_take(executor_t *ex, record_t *r)
{
	int failed = 0;

	if (r->type != REC_INTENT)
		return -1;
	if (!s_id_ok(r->u.intent.id)) {
		/* Reported in its place among the intents around it. */
		failed = executor_flush(ex);
		s_bad_id(ex, &r->u.intent);
		return failed + 1;
	}
	ex->intake[ex->n_intake++] = *r;
	record_init(r, REC_INTENT);
	if (ex->n_intake == EXEC_INTAKE_MAX)
		failed = executor_flush(ex);
	return failed;
}

int executor_on_intent(executor_t *ex, const intent_t *in)
{
	record_t r = { .type = REC_INTENT }, copy;

	r.u.intent = *in;
	if (!s_id_ok(in->id)) {
		executor_flush(ex); /* what was taken before goes first */
		s_bad_id(ex, in);
		return -1;
	}
	if (record_copy(&copy, &r) != 0) {
		log_warnx("intent %s: out of memory", in->id);
		return -1;
	}
	return executor_take(ex, &copy) + executor_flush(ex) > 0 ? -1 : 0;
}

/* Milliseconds until the next retry_ms (mono) or wake_s (UTC s). */
static int64_t s_until(int64_t retry_ms, int64_t wake_s)
{
	int64_t now_ms = time_mono_ms(), now_s = time_now(), d = EXEC_IDLE_TICK_MS;

	if (retry_ms != INT64_MAX)
		d = retry_ms - now_ms < d ? retry_ms - now_ms : d;
	if (wake_s != INT64_MAX && (wake_s - now_s) < d / 1000)
		d = (wake_s - now_s) * 1000;
	return d < 0 ? 0 : d;
}

int64_t executor_tick(executor_t *ex)
{
	char ids[EXEC_DUE_BATCH][JOURNAL_ID_MAX + 1];
	int64_t now_ms, now_s, d;
	int n;

	if (ex->n_intake > 0)
		executor_flush(ex);
	/* No entry pending or held (every intent so far finished, the usual
	 * state between intents): nothing can be due, no query needed. */
	if (journal_open_entries(ex->j) == 0) {
		ex->due_retry_ms = ex->due_wake_s = INT64_MAX;
		ex->due_gen = journal_generation(ex->j);
		ex->due_valid = true;
		return s_until(INT64_MAX, INT64_MAX);
	}
	/* The loop ticks once per turn, i.e. per few intents: while the
	 * journal is unchanged since the last look, its next due times still
	 * hold and nothing is due before them. */
	if (ex->due_valid && ex->due_gen == journal_generation(ex->j)) {
		d = s_until(ex->due_retry_ms, ex->due_wake_s);
		if (d > 0)
			return d;
	}
	now_ms = time_mono_ms();
	now_s = time_now();
	n = journal_due(ex->j, ex->broker, now_ms, now_s, ids, EXEC_DUE_BATCH);
	for (int i = 0; i < n; i++)
		s_advance(ex, ids[i]);
	if (n == EXEC_DUE_BATCH)
		return 0;
	journal_next_due(ex->j, ex->broker, &ex->due_retry_ms, &ex->due_wake_s);
	ex->due_gen = journal_generation(ex->j);
	ex->due_valid = n >= 0;
	return s_until(ex->due_retry_ms, ex->due_wake_s);
}

bool executor_input_ready(executor_t *ex)
{
	if (!ex->doubt_valid || ex->doubt_gen != journal_generation(ex->j)) {
		/* In doubt is a kind of pending: none open, none in doubt. */
		ex->in_doubt =
		    journal_open_entries(ex->j) == 0 ? 0 : journal_in_doubt(ex->j, ex->broker);
		ex->doubt_gen = journal_generation(ex->j);
		ex->doubt_valid = ex->in_doubt >= 0;
	}
	return ex->in_doubt == 0;
}

int64_t executor_drain(executor_t *ex, int64_t max_ms, volatile sig_atomic_t *stop)
{
	int64_t end = time_mono_ms() + max_ms, left;

	for (;;) {
		int64_t d = executor_tick(ex);
		struct timespec ts;

		left = journal_pending(ex->j, ex->broker);
		if (left <= 0 || (stop != NULL && *stop) || time_mono_ms() >= end)
			return left;
		if (d > 100)
			d = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)d * 1000000L;
		nanosleep(&ts, NULL);
	}
}

executor_t *executor_new(const struct executor_opts *o, broker_t *b, executor_emit_fn emit,
                         void *arg, char *err, size_t errlen)
{
	executor_t *ex = calloc(1, sizeof(*ex));
	int64_t foreign;

	if (ex == NULL) {
		snprintf(err, errlen, "out of memory");
		broker_free(&b);
		return NULL;
	}
	ex->o = *o;
	if (ex->o.retry_base_ms <= 0)
		ex->o.retry_base_ms = 1000;
	if (ex->o.retry_max_ms < ex->o.retry_base_ms)
		ex->o.retry_max_ms = ex->o.retry_base_ms;
	if (ex->o.hold_recheck_s <= 0)
		ex->o.hold_recheck_s = EXEC_DEF_RECHECK_S;
	if (ex->o.doubt_settle_ms < 0 || b->ops->lookup_exact)
		ex->o.doubt_settle_ms = 0;
	if (ex->o.wall_ms == NULL)
		ex->o.wall_ms = s_wall_ms_real;
	ex->b = b;
	ex->broker = b->ops->name;
	ex->emit = emit;
	ex->arg = arg;
	ex->retry_limit = (struct log_limit)LOG_LIMIT_INIT(10, 10);
	ex->j = journal_open(o->state_dir, err, errlen);
	if (ex->j == NULL) {
		broker_free(&ex->b);
		free(ex);
		return NULL;
	}
	/* Old retry timers were on the previous run's monotonic clock. */
	if (journal_reset_timers(ex->j, err, errlen) != 0) {
		executor_free(&ex);
		return NULL;
	}
	foreign = journal_foreign_unfinished(ex->j, ex->broker);
	if (foreign > 0)
		log_warnx("journal: %lld unfinished intents belong to another broker; they are "
		          "left alone while executor.broker is %s",
		          (long long)foreign, ex->broker);
	return ex;
}

void executor_free(executor_t **ex)
{
	if (ex == NULL || *ex == NULL)
		return;
	/* Intents taken and not flushed were never journalled: a resend
	 * brings them again. */
	for (int i = 0; i < (*ex)->n_intake; i++)
		record_free(&(*ex)->intake[i]);
	s_release_events(*ex, false);
	free((*ex)->held);
	journal_close(&(*ex)->j);
	broker_free(&(*ex)->b);
	free(*ex);
	*ex = NULL;
}

/* ---- the stage ---- */

struct run_ctx {
	executor_t *ex;
	wire_t *w;
	bool stdin_mode; /* --in -: see s_input_ready */
};

static void s_wire_emit(void *arg, const record_t *r)
{
	wire_emit(arg, r);
}

/* Count n errors of work done outside on_record (a flushed batch). */
static void s_count_errors(struct run_ctx *rc, int n)
{
	for (int i = 0; i < n; i++)
		wire_count_error(rc->w);
}

static int s_on_record(void *ctx, record_t *r)
{
	struct run_ctx *rc = ctx;

	if (r->type != REC_INTENT) {
		wire_drop(rc->w, record_key(r), "the executor takes intents, not %s records",
		          record_type_name(r->type));
		return 0;
	}
	/* Journalled with the others of this turn at on_idle (or when the
	 * intake is full). */
	s_count_errors(rc, executor_take(rc->ex, r));
	return 0;
}

static void s_on_idle(void *ctx)
{
	struct run_ctx *rc = ctx;

	s_count_errors(rc, executor_flush(rc->ex));
}

static int64_t s_on_tick(void *ctx)
{
	struct run_ctx *rc = ctx;

	/* A turn that filled the wire's receive batch calls no on_idle. */
	s_count_errors(rc, executor_flush(rc->ex));
	return executor_tick(rc->ex);
}

static bool s_input_ready(void *ctx)
{
	struct run_ctx *rc = ctx;

	/* Reading stdin, the wire takes whole buffers of lines at once, so
	 * pausing it buys little; and once a pipe's writer is gone, poll()
	 * reports only POLLHUP, which the wire's loop does not read as input,
	 * so a pause that outlives the data would never see the EOF.  The
	 * start-up reconciliation (s_reconcile_at_start) runs before the
	 * loop either way. */
	if (rc->stdin_mode)
		return true;
	return executor_input_ready(rc->ex);
}

/*
 * Before the loop reads anything: look up every order the last run left in
 * doubt (killed between a send and its answer).  Waits for the broker as
 * long as it takes, but not past a stop request.
 */
static void s_reconcile_at_start(executor_t *ex, volatile sig_atomic_t *stop)
{
	int64_t n = journal_in_doubt(ex->j, ex->broker), left;

	if (n <= 0)
		return;
	log_info("reconciling %lld orders in doubt with %s before reading input", (long long)n,
	         ex->broker);
	while ((left = journal_in_doubt(ex->j, ex->broker)) > 0 && !*stop) {
		int64_t d = executor_tick(ex);
		struct timespec ts;

		if (d > 100)
			d = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)d * 1000000L;
		nanosleep(&ts, NULL);
	}
	if (left <= 0)
		log_info("reconciliation done");
}

static void s_on_eof(void *ctx)
{
	struct run_ctx *rc = ctx;
	int64_t left;

	s_count_errors(rc, executor_flush(rc->ex));
	left = executor_drain(rc->ex, EXEC_EOF_DRAIN_MS, wire_stop_flag(rc->w));

	if (left > 0)
		log_warnx(
		    "end of input: %lld intents still pending (they resume at the next start)",
		    (long long)left);
}

/* Read a secret into buf; 0 found, 1 unset, -1 error (logged). */
static int s_secret(const conf_t *c, const char *path, char *buf, size_t len)
{
	char err[512];
	int rc = conf_secret(c, path, buf, len, err, sizeof(err));

	if (rc < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return rc == 1 ? 0 : 1;
}

static broker_t *s_make_broker(const conf_t *c, wire_t *w, char *err, size_t errlen)
{
	const char *name = conf_str(c, "executor.broker");
	struct broker_http_opts ho = {
		.user_agent = "coattail-executor/" COATTAIL_VERSION,
		.timeout_ms = (long)conf_int(c, "executor.http_timeout_ms"),
		.connect_timeout_ms = (long)conf_int(c, "executor.http_connect_timeout_ms"),
		.get_retries = (int)conf_int(c, "executor.http_retries"),
		.stop = wire_stop_flag(w),
	};
	char k1[1100], k2[1100], k3[1100];
	broker_t *b = NULL;

	k1[0] = k2[0] = k3[0] = '\0';
	if (strcmp(name, "alpaca") == 0) {
		struct alpaca_opts ao = { .url = conf_str(c, "executor.alpaca_url"), .http = ho };

		if (s_secret(c, "executor.alpaca_key_id", k1, sizeof(k1)) != 0 ||
		    s_secret(c, "executor.alpaca_secret", k2, sizeof(k2)) != 0) {
			snprintf(err, errlen,
			         "alpaca: executor.alpaca_key_id and executor.alpaca_secret are "
			         "needed (files, COATTAIL_ALPACA_KEY_ID / COATTAIL_ALPACA_SECRET, "
			         "or credentials)");
		} else {
			ao.key_id = k1;
			ao.secret = k2;
			b = alpaca_broker_new(&ao, err, errlen);
		}
	} else if (strcmp(name, "lemon") == 0) {
		struct lemon_opts lo = {
			.url = conf_str(c, "executor.lemon_url"),
			.data_url = conf_str(c, "executor.lemon_data_url"),
			.venue = conf_str(c, "executor.lemon_venue"),
			.http = ho,
		};
		int r2, r3;

		if (s_secret(c, "executor.lemon_key", k1, sizeof(k1)) != 0) {
			snprintf(err, errlen,
			         "lemon: executor.lemon_key is needed (a file, COATTAIL_LEMON_KEY "
			         "or a credential)");
		} else if ((r2 = s_secret(c, "executor.lemon_data_key", k2, sizeof(k2))) < 0 ||
		           (r3 = s_secret(c, "executor.lemon_pin", k3, sizeof(k3))) < 0) {
			snprintf(err, errlen, "lemon: cannot read a secret (see above)");
		} else {
			lo.key = k1;
			lo.data_key = r2 == 0 ? k2 : NULL;
			lo.pin = r3 == 0 ? k3 : NULL;
			b = lemon_broker_new(&lo, err, errlen);
		}
	} else {
		struct paper_opts po = {
			.state_dir = conf_str(c, "state_dir"),
			.starting_cash = conf_double(c, "executor.starting_cash"),
			.allow_short = conf_bool(c, "executor.allow_short"),
		};
		b = paper_broker_new(&po, err, errlen);
	}
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k2, sizeof(k2));
	explicit_bzero(k3, sizeof(k3));
	return b;
}

int executor_run(conf_t *c, const struct stage_args *a, wire_t *w)
{
	const struct stage_ops ops = {
		.on_record = s_on_record,
		.on_tick = s_on_tick,
		.on_idle = s_on_idle,
		.on_eof = s_on_eof,
		.input_ready = s_input_ready,
	};
	struct executor_opts o = { 0 };
	struct run_ctx rc = { .w = w };
	const char *halt = conf_str(c, "executor.halt_file");
	const char *run_dir = conf_str(c, "run_dir");
	const char *const *allow, *const *deny;
	char halt_path[4200], err[1024];
	broker_t *b;
	int status;

	rc.stdin_mode = strcmp(a->in != NULL ? a->in : conf_str(c, "executor.in"), "-") == 0;
	if (halt != NULL && halt[0] != '/' && run_dir != NULL)
		snprintf(halt_path, sizeof(halt_path), "%s/%s", run_dir, halt);
	else
		snprintf(halt_path, sizeof(halt_path), "%s", halt != NULL ? halt : "");
	o.state_dir = conf_str(c, "state_dir");
	o.halt_file = halt_path;
	o.dry_run = conf_bool(c, "executor.dry_run");
	o.market_closed = strcmp(conf_str(c, "executor.market_closed"), "expire") == 0
	                      ? EXEC_CLOSED_EXPIRE
	                      : EXEC_CLOSED_HOLD;
	o.limits.max_orders_per_day = conf_int(c, "executor.max_orders_per_day");
	o.limits.max_notional_per_order = conf_double(c, "executor.max_notional_per_order");
	o.limits.max_notional_per_day = conf_double(c, "executor.max_notional_per_day");
	o.limits.max_position_per_ticker = conf_double(c, "executor.max_position_per_ticker");
	o.limits.n_allow = conf_strlist(c, "executor.allow_tickers", &allow);
	o.limits.allow = allow;
	o.limits.n_deny = conf_strlist(c, "executor.deny_tickers", &deny);
	o.limits.deny = deny;
	o.limits.allow_short = conf_bool(c, "executor.allow_short");
	o.max_attempts = (int)conf_int(c, "executor.max_attempts");
	o.retry_base_ms = conf_int(c, "executor.retry_base_ms");
	o.retry_max_ms = conf_int(c, "executor.retry_max_ms");
	o.hold_recheck_s = EXEC_DEF_RECHECK_S;
	o.doubt_settle_ms = executor_settle_ms(conf_int(c, "executor.doubt_settle_ms"),
	                                       conf_int(c, "executor.http_timeout_ms"));
	if (strcmp(conf_str(c, "executor.broker"), "paper") != 0 &&
	    o.doubt_settle_ms < conf_int(c, "executor.http_timeout_ms"))
		log_warnx("executor.doubt_settle_ms %lld is below executor.http_timeout_ms %lld: "
		          "an order the broker creates after the client gave up on its request "
		          "may be sent twice",
		          (long long)o.doubt_settle_ms,
		          (long long)conf_int(c, "executor.http_timeout_ms"));

	b = s_make_broker(c, w, err, sizeof(err));
	if (b == NULL) {
		log_warnx("%s", err);
		return 2;
	}
	/* The paper clock is the local calendar; a network broker's is
	 * reused for half a minute. */
	o.clock_cache_ms = strcmp(b->ops->name, "paper") == 0 ? 0 : 30000;
	rc.ex = executor_new(&o, b, s_wire_emit, w, err, sizeof(err));
	if (rc.ex == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	rc.ex->stop = wire_stop_flag(w);
	log_info("broker %s%s; halt file %s; doubt settle time %lld ms; journal: %lld pending "
	         "(%lld in doubt), %lld held",
	         b->ops->name, o.dry_run ? " (dry run: nothing is sent)" : "", halt_path,
	         (long long)rc.ex->o.doubt_settle_ms,
	         (long long)journal_pending(rc.ex->j, rc.ex->broker),
	         (long long)journal_in_doubt(rc.ex->j, rc.ex->broker),
	         (long long)journal_count(rc.ex->j, JS_HELD));
	s_reconcile_at_start(rc.ex, wire_stop_flag(w));
	status = wire_run(w, &ops, &rc);
	executor_free(&rc.ex);
	return status;
}
