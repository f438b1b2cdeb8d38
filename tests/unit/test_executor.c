/*
 * test_executor.c - the executor's exactly-once protocol and controls,
 * driven directly (no sockets) against a scripted in-memory broker that
 * can fail before or after creating an order, and the paper broker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"
#include "../../executor/executor.h"
#include "support/testutil.h"

#define OPEN 1776870000 /* Wed 2026-04-22 15:00Z, NYSE open */

/* ---- a scripted broker ---- */

enum mock_step {
	M_OK = 0,     /* create, answer with the order */
	M_LOST_AFTER, /* create, then no usable answer */
	M_LOST_BEFORE,
	M_EXISTS_AFTER, /* create, then answer "exists" */
	M_REJECT,
};

struct mock {
	char orders[32][64]; /* client ids held */
	int n_orders;
	enum mock_step script[16];
	int n_script, next;
	int lookup_failures; /* lookups to answer AMBIGUOUS */
	int submits, lookups;
	bool closed;
	int64_t next_open;
	journal_t *watch; /* checked at each submit */
	bool journalled_first;
};

static int s_find(struct mock *m, const char *cid)
{
	for (int i = 0; i < m->n_orders; i++)
		if (strcmp(m->orders[i], cid) == 0)
			return i;
	return -1;
}

static void s_fill(struct broker_order *o, const char *cid, int i)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "mock-%d", i + 1);
	snprintf(o->client_id, sizeof(o->client_id), "%s", cid);
	snprintf(o->status, sizeof(o->status), "accepted");
	o->st = ORDER_SUBMITTED;
	o->qty = 1;
	o->price = NAN;
}

static enum broker_outcome m_submit(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct mock *m = self;
	enum mock_step step = m->next < m->n_script ? m->script[m->next++] : M_OK;
	int i;

	m->submits++;
	if (m->watch != NULL) {
		struct journal_entry e;
		char err[128];
		/* The executor must have the intent on disk, in doubt, first. */
		m->journalled_first =
		    journal_get(m->watch, rq->intent->id, &e, err, sizeof(err)) == 0 &&
		    e.in_doubt && e.attempts >= 1;
		if (m->journalled_first)
			journal_entry_free(&e);
	}
	memset(o, 0, sizeof(*o));
	if (step == M_LOST_BEFORE) {
		snprintf(o->reason, sizeof(o->reason), "mock: timed out");
		return BROKER_AMBIGUOUS;
	}
	if (step == M_REJECT) {
		snprintf(o->reason, sizeof(o->reason), "mock: insufficient buying power");
		return BROKER_REJECTED;
	}
	if (s_find(m, rq->client_id) >= 0) {
		snprintf(o->reason, sizeof(o->reason), "mock: client id not unique");
		return BROKER_EXISTS;
	}
	i = m->n_orders++;
	snprintf(m->orders[i], sizeof(m->orders[i]), "%s", rq->client_id);
	if (step == M_LOST_AFTER) {
		snprintf(o->reason, sizeof(o->reason), "mock: connection dropped");
		return BROKER_AMBIGUOUS;
	}
	if (step == M_EXISTS_AFTER)
		return BROKER_EXISTS;
	s_fill(o, rq->client_id, i);
	return BROKER_OK;
}

static enum broker_outcome m_lookup(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct mock *m = self;
	int i;

	m->lookups++;
	memset(o, 0, sizeof(*o));
	if (m->lookup_failures > 0) {
		m->lookup_failures--;
		snprintf(o->reason, sizeof(o->reason), "mock: 503");
		return BROKER_AMBIGUOUS;
	}
	i = s_find(m, rq->client_id);
	if (i < 0)
		return BROKER_NOT_FOUND;
	s_fill(o, rq->client_id, i);
	return BROKER_OK;
}

static int m_account(void *self, struct broker_account *a, char *err, size_t errlen)
{
	(void)self;
	(void)err;
	(void)errlen;
	memset(a, 0, sizeof(*a));
	a->buying_power = 1e9;
	return 0;
}

static int m_position(void *self, const intent_t *in, double *qty, char *err, size_t errlen)
{
	(void)self;
	(void)in;
	(void)err;
	(void)errlen;
	*qty = 100;
	return 0;
}

static int m_clock(void *self, struct broker_clock *c, char *err, size_t errlen)
{
	struct mock *m = self;

	(void)err;
	(void)errlen;
	c->is_open = !m->closed;
	c->next_open = m->next_open;
	return 0;
}

static int m_tradable(void *self, const intent_t *in, bool *ok, char *why, size_t whylen, char *err,
                      size_t errlen)
{
	(void)self;
	(void)err;
	(void)errlen;
	*ok = strcmp(in->ticker, "DEAD") != 0;
	if (!*ok)
		snprintf(why, whylen, "mock: DEAD is delisted");
	return 0;
}

static void m_destroy(void *self)
{
	(void)self; /* owned by the fixture */
}

static const struct broker_ops s_mock_ops = {
	.name = "alpaca",
	.submit = m_submit,
	.lookup = m_lookup,
	.account = m_account,
	.position = m_position,
	.clock = m_clock,
	.tradable = m_tradable,
	.destroy = m_destroy,
};

/* ---- fixture ---- */

struct fx {
	char *dir;
	char halt[4200];
	struct mock m;
	struct executor_opts o;
	executor_t *ex;
	record_t ev[64];
	int n_ev;
};

static void s_emit(void *arg, const record_t *r)
{
	struct fx *f = arg;

	assert_true(f->n_ev < 64);
	assert_int_equal(record_copy(&f->ev[f->n_ev++], r), 0);
}

static void s_start(struct fx *f)
{
	broker_t *b = calloc(1, sizeof(*b));
	char err[512];

	b->ops = &s_mock_ops;
	b->self = &f->m;
	f->ex = executor_new(&f->o, b, s_emit, f, err, sizeof(err));
	if (f->ex == NULL)
		fail_msg("%s", err);
	f->m.watch = executor_journal(f->ex);
}

static int s_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	snprintf(f->halt, sizeof(f->halt), "%s/HALT", f->dir);
	f->o = (struct executor_opts){ .state_dir = f->dir,
		                       .halt_file = f->halt,
		                       .market_closed = EXEC_CLOSED_HOLD,
		                       .max_attempts = 0,
		                       .retry_base_ms = 1,
		                       .retry_max_ms = 4,
		                       .hold_recheck_s = 60 };
	time_set_now(OPEN);
	s_start(f);
	*state = f;
	return 0;
}

static int s_teardown(void **state)
{
	struct fx *f = *state;

	executor_free(&f->ex);
	for (int i = 0; i < f->n_ev; i++)
		record_free(&f->ev[i]);
	time_set_now(TIME_UNSET);
	free(f->dir);
	free(f);
	return 0;
}

static intent_t s_intent(const char *id)
{
	static char *ev[] = { "edgar:1" };

	return (intent_t){ .id = (char *)id,
		           .rule = "executive_trade",
		           .side = SIDE_BUY,
		           .ticker = "AAPL",
		           .qty = 1,
		           .notional = NAN,
		           .ref_price = 100,
		           .evidence = ev,
		           .n_evidence = 1,
		           .reason = "CEO bought",
		           .created_at = OPEN - 60,
		           .expires_at = REC_NULL_TIME };
}

static const order_t *s_last(struct fx *f)
{
	assert_true(f->n_ev > 0);
	return &f->ev[f->n_ev - 1].u.order;
}

static enum journal_state s_state(struct fx *f, const char *id)
{
	struct journal_entry e;
	char err[128];
	enum journal_state st;

	assert_int_equal(journal_get(executor_journal(f->ex), id, &e, err, sizeof(err)), 0);
	st = e.state;
	journal_entry_free(&e);
	return st;
}

/* Let retry timers (1-4 ms) expire, then tick until nothing is due. */
static void s_settle(struct fx *f)
{
	for (int i = 0; i < 50; i++) {
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
		if (executor_tick(f->ex) > 1000 && executor_input_ready(f->ex))
			break;
	}
}

/* ---- tests ---- */

static void test_the_intent_is_on_disk_in_doubt_before_the_broker_sees_it(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_true(f->m.journalled_first);
	assert_int_equal(f->m.n_orders, 1);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
	assert_string_equal(s_last(f)->broker_order_id, "mock-1");
	assert_string_equal(s_last(f)->broker, "alpaca");
	assert_int_equal(s_state(f, "i1"), JS_SUBMITTED);
}

static void test_an_answer_lost_after_the_order_was_made_is_found_not_resent(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->m.script[f->m.n_script++] = M_LOST_AFTER;
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(f->m.lookups, 1);
	assert_int_equal(f->m.n_orders, 1);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
	assert_non_null(strstr(s_last(f)->reason, "found by lookup"));
	assert_int_equal(journal_answer_count(executor_journal(f->ex), "i1"), 2);
}

static void test_a_request_lost_before_the_broker_is_sent_again_after_a_lookup(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->m.script[f->m.n_script++] = M_LOST_BEFORE;
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_int_equal(f->n_ev, 0); /* not finished yet */
	assert_int_equal(f->m.lookups, 1);
	assert_true(executor_input_ready(f->ex)); /* the lookup settled the doubt */
	assert_int_equal(s_state(f, "i1"), JS_PENDING);
	s_settle(f);
	assert_int_equal(f->m.submits, 2);
	assert_int_equal(f->m.n_orders, 1);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
}

static void test_an_exists_answer_is_adopted_through_the_lookup(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->m.script[f->m.n_script++] = M_EXISTS_AFTER;
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(f->m.n_orders, 1);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
}

static void test_while_lookups_fail_the_entry_stays_in_doubt_and_input_waits(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->m.script[f->m.n_script++] = M_LOST_AFTER;
	f->m.lookup_failures = 3;
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_false(executor_input_ready(f->ex));
	assert_int_equal(f->n_ev, 0);
	s_settle(f);
	assert_true(executor_input_ready(f->ex));
	assert_int_equal(f->m.lookups, 4);
	assert_int_equal(f->m.submits, 1); /* never re-sent while in doubt */
	assert_int_equal(f->m.n_orders, 1);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
}

static void test_a_restart_looks_up_what_a_kill_left_in_doubt(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("made"), b = s_intent("never-made");
	char err[256];
	journal_t *j = executor_journal(f->ex);

	/* As if killed after sending: both journalled and in doubt; the
	 * broker holds "made" only. */
	journal_add(j, &a, "made", "alpaca", OPEN, err, sizeof(err));
	journal_add(j, &b, "never-made", "alpaca", OPEN, err, sizeof(err));
	journal_begin_send(j, "made", "2026-04-22", 1, 100, OPEN, err, sizeof(err));
	journal_begin_send(j, "never-made", "2026-04-22", 1, 100, OPEN, err, sizeof(err));
	snprintf(f->m.orders[f->m.n_orders++], 64, "made");
	executor_free(&f->ex);
	s_start(f);
	assert_false(executor_input_ready(f->ex));
	s_settle(f);
	assert_true(executor_input_ready(f->ex));
	assert_int_equal(f->m.n_orders, 2);
	assert_int_equal(f->m.submits, 1); /* only never-made was sent */
	assert_int_equal(s_state(f, "made"), JS_SUBMITTED);
	assert_int_equal(s_state(f, "never-made"), JS_SUBMITTED);
}

static void test_an_intent_seen_before_is_a_duplicate_with_its_order(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	executor_on_intent(f->ex, &in);
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(f->n_ev, 2);
	assert_int_equal(s_last(f)->status, ORDER_DUPLICATE);
	assert_string_equal(s_last(f)->broker_order_id, "mock-1");
	assert_non_null(strstr(s_last(f)->reason, "already journalled (submitted"));
}

static void test_dry_run_journals_and_reports_without_a_broker_call(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	executor_free(&f->ex);
	f->o.dry_run = true;
	s_start(f);
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	assert_int_equal(f->m.submits + f->m.lookups, 0);
	assert_int_equal(s_last(f)->status, ORDER_DRY_RUN);
	assert_string_equal(s_last(f)->reason, "dry run: would buy 1 AAPL (~100.00 USD)");
	assert_int_equal(s_state(f, "i1"), JS_DRY_RUN);
}

static void test_the_halt_file_blocks_the_next_intent_at_once(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b");
	FILE *h;

	executor_on_intent(f->ex, &a);
	h = fopen(f->halt, "w");
	fclose(h);
	executor_on_intent(f->ex, &b);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(s_last(f)->status, ORDER_BLOCKED);
	assert_non_null(strstr(s_last(f)->reason, "halted:"));
	unlink(f->halt);
}

static void test_limits_block_with_their_reason_and_count_the_day(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b"), c = s_intent("c");

	executor_free(&f->ex);
	f->o.limits.max_orders_per_day = 1;
	s_start(f);
	c.ticker = "DEAD";
	executor_on_intent(f->ex, &c);
	assert_int_equal(s_last(f)->status, ORDER_BLOCKED);
	assert_string_equal(s_last(f)->reason, "mock: DEAD is delisted");
	executor_on_intent(f->ex, &a);
	executor_on_intent(f->ex, &b);
	assert_int_equal(s_last(f)->status, ORDER_BLOCKED);
	assert_string_equal(s_last(f)->reason, "max_orders_per_day 1 reached");
	assert_int_equal(f->m.submits, 1);
}

static void test_a_resend_does_not_count_against_its_own_daily_limit(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	executor_free(&f->ex);
	f->o.limits.max_orders_per_day = 1;
	f->o.limits.max_notional_per_day = 100;
	s_start(f);
	f->m.script[f->m.n_script++] = M_LOST_BEFORE;
	executor_on_intent(f->ex, &in);
	s_settle(f);
	assert_int_equal(f->m.submits, 2);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
}

static void test_a_rejection_is_final(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->m.script[f->m.n_script++] = M_REJECT;
	executor_on_intent(f->ex, &in);
	assert_int_equal(s_last(f)->status, ORDER_REJECTED);
	assert_string_equal(s_last(f)->reason, "mock: insufficient buying power");
	s_settle(f);
	assert_int_equal(f->m.submits, 1);
	assert_true(executor_input_ready(f->ex));
}

static void test_market_closed_holds_until_the_open(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->m.closed = true;
	f->m.next_open = OPEN + 3600;
	executor_on_intent(f->ex, &in);
	assert_int_equal(f->n_ev, 0);
	assert_int_equal(s_state(f, "i1"), JS_HELD);
	executor_tick(f->ex);
	assert_int_equal(f->m.submits, 0);
	time_set_now(OPEN + 3600);
	f->m.closed = false;
	executor_tick(f->ex);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(s_last(f)->status, ORDER_SUBMITTED);
}

static void test_an_intent_expiring_before_the_open_is_blocked(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1"), old = s_intent("old");

	f->m.closed = true;
	f->m.next_open = OPEN + 3600;
	in.expires_at = OPEN + 1800;
	executor_on_intent(f->ex, &in);
	assert_int_equal(s_last(f)->status, ORDER_BLOCKED);
	assert_non_null(strstr(s_last(f)->reason, "before the next open"));
	old.expires_at = OPEN - 1;
	executor_on_intent(f->ex, &old);
	assert_string_equal(s_last(f)->reason, "intent expired at 2026-04-22T14:59:59Z");
	assert_int_equal(f->m.submits, 0);
}

static void test_market_closed_expire_mode_blocks_at_once(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	executor_free(&f->ex);
	f->o.market_closed = EXEC_CLOSED_EXPIRE;
	s_start(f);
	f->m.closed = true;
	executor_on_intent(f->ex, &in);
	assert_int_equal(s_last(f)->status, ORDER_BLOCKED);
	assert_non_null(strstr(s_last(f)->reason, "market closed"));
}

static void test_without_expiry_it_gives_up_after_max_attempts(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	executor_free(&f->ex);
	f->o.max_attempts = 3;
	s_start(f);
	for (int i = 0; i < 8; i++)
		f->m.script[f->m.n_script++] = M_LOST_BEFORE;
	executor_on_intent(f->ex, &in);
	s_settle(f);
	assert_int_equal(f->m.n_orders, 0);
	assert_int_equal(f->m.submits, 3);
	assert_int_equal(s_last(f)->status, ORDER_ERROR);
	assert_non_null(strstr(s_last(f)->reason, "gave up after 3 tries"));
}

static void test_a_bad_id_is_an_error_event_and_not_journalled(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("has space");

	assert_int_equal(executor_on_intent(f->ex, &in), -1);
	assert_int_equal(s_last(f)->status, ORDER_ERROR);
	assert_int_equal(journal_count(executor_journal(f->ex), JS_PENDING), 0);
}

static void test_the_paper_broker_fills_through_the_executor(void **state)
{
	struct fx *f = *state;
	struct paper_opts po = { .state_dir = f->dir, .starting_cash = 1000 };
	intent_t in = s_intent("p1");
	char err[256];
	broker_t *b;

	executor_free(&f->ex);
	b = paper_broker_new(&po, err, sizeof(err));
	assert_non_null(b);
	f->ex = executor_new(&f->o, b, s_emit, f, err, sizeof(err));
	assert_non_null(f->ex);
	in.qty = 3;
	in.ref_price = 12.34;
	executor_on_intent(f->ex, &in);
	assert_int_equal(s_last(f)->status, ORDER_FILLED);
	assert_true(s_last(f)->qty == 3 && s_last(f)->price == 12.34);
	assert_string_equal(s_last(f)->broker, "paper");
	assert_string_equal(s_last(f)->broker_order_id, "paper-1");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		T(test_the_intent_is_on_disk_in_doubt_before_the_broker_sees_it),
		T(test_an_answer_lost_after_the_order_was_made_is_found_not_resent),
		T(test_a_request_lost_before_the_broker_is_sent_again_after_a_lookup),
		T(test_an_exists_answer_is_adopted_through_the_lookup),
		T(test_while_lookups_fail_the_entry_stays_in_doubt_and_input_waits),
		T(test_a_restart_looks_up_what_a_kill_left_in_doubt),
		T(test_an_intent_seen_before_is_a_duplicate_with_its_order),
		T(test_dry_run_journals_and_reports_without_a_broker_call),
		T(test_the_halt_file_blocks_the_next_intent_at_once),
		T(test_limits_block_with_their_reason_and_count_the_day),
		T(test_a_resend_does_not_count_against_its_own_daily_limit),
		T(test_a_rejection_is_final),
		T(test_market_closed_holds_until_the_open),
		T(test_an_intent_expiring_before_the_open_is_blocked),
		T(test_market_closed_expire_mode_blocks_at_once),
		T(test_without_expiry_it_gives_up_after_max_attempts),
		T(test_a_bad_id_is_an_error_event_and_not_journalled),
		T(test_the_paper_broker_fills_through_the_executor),
#undef T
	};

	log_init("test_executor", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
