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
#include <sqlite3.h>
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
	M_SLOW_CREATE, /* no usable answer, and the order is created later, when
	                  the test calls s_land(): a lookup meanwhile finds none */
};

struct mock {
	char orders[32][64]; /* client ids held */
	int n_orders;
	enum mock_step script[16];
	int n_script, next;
	int lookup_failures; /* lookups to answer AMBIGUOUS */
	int submits, lookups;
	char calls[64];   /* 'S' per submit, 'L' per lookup, in order */
	char landing[64]; /* M_SLOW_CREATE: the client id still being created */
	bool closed;
	int64_t next_open;
	journal_t *watch; /* checked at each submit */
	bool journalled_first;
	const char *dir;              /* state_dir: read by another connection */
	int64_t committed_at_submit;  /* intents another reader saw at the first submit */
	int64_t committed_at_account; /* ... at the last account check (-1: none) */
	int submits_seen_in_doubt;    /* submits whose intent another reader saw in doubt */
};

/* What another connection sees (only what is committed): the state of
 * intent id ("" when absent), and the number of intents. */
static int64_t s_committed(const char *dir, const char *id, char *state, size_t len)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/executor.sqlite", dir);
	if (state != NULL)
		snprintf(state, len, "%s", "");
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT (SELECT COUNT(*) FROM intents), "
	                                    "(SELECT state FROM intents WHERE id = ?1)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(st, 1, id != NULL ? id : "", -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		if (state != NULL && sqlite3_column_text(st, 1) != NULL)
			snprintf(state, len, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Another connection sees intent id committed as pending, in doubt, with
 * a submission begun. */
static bool s_committed_in_doubt(const char *dir, const char *id)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bool yes = false;

	snprintf(path, sizeof(path), "%s/executor.sqlite", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT 1 FROM intents WHERE id = ?1 AND state = "
	                                    "'pending' AND in_doubt = 1 AND attempts >= 1",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return yes;
}

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
	if (strlen(m->calls) + 1 < sizeof(m->calls))
		strcat(m->calls, "S");
	if (m->dir != NULL && m->submits == 1)
		m->committed_at_submit = s_committed(m->dir, NULL, NULL, 0);
	if (m->dir != NULL && s_committed_in_doubt(m->dir, rq->intent->id))
		m->submits_seen_in_doubt++;
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
	if (step == M_SLOW_CREATE) {
		snprintf(m->landing, sizeof(m->landing), "%s", rq->client_id);
		snprintf(o->reason, sizeof(o->reason), "mock: timed out");
		return BROKER_AMBIGUOUS;
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
	if (strlen(m->calls) + 1 < sizeof(m->calls))
		strcat(m->calls, "L");
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

/* The create an M_SLOW_CREATE submit left running lands at the broker. */
static void s_land(struct mock *m)
{
	assert_true(m->landing[0] != '\0');
	snprintf(m->orders[m->n_orders++], sizeof(m->orders[0]), "%s", m->landing);
	m->landing[0] = '\0';
}

static int m_account(void *self, struct broker_account *a, char *err, size_t errlen)
{
	struct mock *m = self;

	if (m->dir != NULL)
		m->committed_at_account = s_committed(m->dir, NULL, NULL, 0);
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

/* The executor's wall clock (ms): the send times and the settle rule. */
static int64_t s_wall_now;

static int64_t s_wall(void)
{
	return s_wall_now;
}

struct fx {
	char *dir;
	char halt[4200];
	struct mock m;
	struct executor_opts o;
	executor_t *ex;
	record_t ev[64];
	int n_ev;
	char ev_committed[64][16]; /* the intent's state another reader saw at its event */
};

static void s_emit(void *arg, const record_t *r)
{
	struct fx *f = arg;

	assert_true(f->n_ev < 64);
	s_committed(f->dir, r->u.order.intent, f->ev_committed[f->n_ev],
	            sizeof(f->ev_committed[0]));
	assert_int_equal(record_copy(&f->ev[f->n_ev++], r), 0);
}

/* Take intent in as the stage's loop does (executor_take owns a copy). */
static int s_take(struct fx *f, const intent_t *in)
{
	record_t r = { .type = REC_INTENT }, copy;
	int n;

	r.u.intent = *in;
	assert_int_equal(record_copy(&copy, &r), 0);
	n = executor_take(f->ex, &copy);
	record_free(&copy); /* what was not taken (a refused intent) */
	return n;
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
	f->m.dir = f->dir;
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
		                       .hold_recheck_s = 60,
		                       .wall_ms = s_wall };
	s_wall_now = (int64_t)OPEN * 1000;
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
	/* looked up again right before the resend */
	assert_string_equal(f->m.calls, "SLLS");
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
	journal_begin_send(j, "made", "2026-04-22", 1, 100, OPEN, (int64_t)OPEN * 1000, err,
	                   sizeof(err));
	journal_begin_send(j, "never-made", "2026-04-22", 1, 100, OPEN, (int64_t)OPEN * 1000, err,
	                   sizeof(err));
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

static void test_a_batch_is_on_disk_whole_before_the_broker_hears_of_any(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b"), c = s_intent("c");

	assert_int_equal(s_take(f, &a) + s_take(f, &b) + s_take(f, &c), 0);
	assert_int_equal(f->m.submits, 0); /* taken, not yet handled */
	assert_int_equal(s_committed(f->dir, NULL, NULL, 0), 0);
	assert_int_equal(executor_flush(f->ex), 0);
	/* Another reader saw all three committed at the first submit. */
	assert_int_equal(f->m.committed_at_submit, 3);
	assert_int_equal(f->m.submits, 3);
	assert_int_equal(f->n_ev, 3);
	assert_string_equal(f->ev[0].u.order.intent, "a");
	assert_string_equal(f->ev[1].u.order.intent, "b");
	assert_string_equal(f->ev[2].u.order.intent, "c");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->ev[i].u.order.status, ORDER_SUBMITTED);
		assert_string_equal(f->ev_committed[i], "submitted");
	}
}

/*
 * The first intent of a turn is journalled, checked and marked as being
 * sent in one transaction: nothing of it is committed while the checks ask
 * the broker (account), and when the broker is asked to place it, another
 * reader sees it on disk in doubt already.  Every later submit is preceded
 * by its own committed mark too.
 */
static void test_an_intent_and_its_send_mark_commit_together_before_the_submit(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b");

	f->m.committed_at_account = -1;
	assert_int_equal(executor_on_intent(f->ex, &a), 0);
	assert_int_equal(f->m.committed_at_account, 0); /* checked inside the batch */
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(f->m.submits_seen_in_doubt, 1);
	assert_int_equal(f->n_ev, 1);
	assert_string_equal(f->ev_committed[0], "submitted"); /* its event after the commit */
	/* two in one turn: the first as above, the second after it, each
	 * marked on disk before its submit */
	assert_int_equal(s_take(f, &b), 0);
	f->m.committed_at_account = -1;
	a.id = "c";
	assert_int_equal(s_take(f, &a), 0);
	assert_int_equal(executor_flush(f->ex), 0);
	assert_int_equal(f->m.submits, 3);
	assert_int_equal(f->m.submits_seen_in_doubt, 3);
	assert_int_equal(f->m.committed_at_account, 3); /* c's check: b and c on disk */
	assert_int_equal(f->n_ev, 3);
	assert_string_equal(f->ev_committed[1], "submitted");
	assert_string_equal(f->ev_committed[2], "submitted");
}

/* An intent that is refused before any submit (a blocked one) inside the
 * first batch: its event still comes only once the batch committed. */
static void test_a_blocked_first_intent_reports_after_its_batch_commits(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b");

	a.ticker = "DEAD";
	assert_int_equal(s_take(f, &a) + s_take(f, &b), 0);
	assert_int_equal(executor_flush(f->ex), 0);
	assert_int_equal(f->n_ev, 2);
	assert_int_equal(f->ev[0].u.order.status, ORDER_BLOCKED);
	assert_string_equal(f->ev_committed[0], "blocked");
	assert_int_equal(f->ev[1].u.order.status, ORDER_SUBMITTED);
	assert_string_equal(f->ev_committed[1], "submitted");
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(f->m.submits_seen_in_doubt, 1);
}

static void test_a_dry_run_batch_reports_only_what_it_committed(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b");

	executor_free(&f->ex);
	f->o.dry_run = true;
	f->o.limits.max_orders_per_day = 1;
	s_start(f);
	s_take(f, &a);
	s_take(f, &b);
	assert_int_equal(f->n_ev, 0);
	assert_int_equal(executor_flush(f->ex), 0);
	assert_int_equal(f->n_ev, 2);
	/* Each event came after the batch's commit: another reader saw the
	 * state it reports.  The limit counted the first within the batch. */
	assert_int_equal(f->ev[0].u.order.status, ORDER_DRY_RUN);
	assert_string_equal(f->ev_committed[0], "dry_run");
	assert_int_equal(f->ev[1].u.order.status, ORDER_BLOCKED);
	assert_string_equal(f->ev[1].u.order.reason, "max_orders_per_day 1 reached");
	assert_string_equal(f->ev_committed[1], "blocked");
	assert_int_equal(f->m.submits + f->m.lookups, 0);
}

static void test_a_dry_run_killed_before_its_batch_commits_leaves_nothing(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a");

	executor_free(&f->ex);
	f->o.dry_run = true;
	s_start(f);
	s_take(f, &a);
	/* Freed without a flush, as a kill before the commit would: nothing
	 * journalled, nothing reported; the intent, sent again, is new. */
	executor_free(&f->ex);
	assert_int_equal(f->n_ev, 0);
	assert_int_equal(s_committed(f->dir, "a", NULL, 0), 0);
	s_start(f);
	assert_int_equal(executor_on_intent(f->ex, &a), 0);
	assert_int_equal(s_last(f)->status, ORDER_DRY_RUN);
}

static void test_the_same_intent_twice_in_a_batch_is_sent_once(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a");

	s_take(f, &a);
	s_take(f, &a);
	assert_int_equal(executor_flush(f->ex), 0);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(f->n_ev, 2);
	assert_int_equal(f->ev[0].u.order.status, ORDER_SUBMITTED);
	assert_int_equal(f->ev[1].u.order.status, ORDER_DUPLICATE);
	assert_string_equal(f->ev[1].u.order.broker_order_id, "mock-1");
}

static void test_once_one_of_a_batch_is_in_doubt_the_rest_wait_for_it(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), b = s_intent("b");

	f->m.script[f->m.n_script++] = M_LOST_AFTER;
	f->m.lookup_failures = 2;
	s_take(f, &a);
	s_take(f, &b);
	executor_flush(f->ex);
	/* a is in doubt: b is journalled but not sent. */
	assert_int_equal(f->m.submits, 1);
	assert_false(executor_input_ready(f->ex));
	assert_int_equal(s_state(f, "b"), JS_PENDING);
	s_settle(f);
	assert_int_equal(f->m.submits, 2);
	assert_int_equal(f->m.n_orders, 2);
	assert_int_equal(s_state(f, "a"), JS_SUBMITTED);
	assert_int_equal(s_state(f, "b"), JS_SUBMITTED);
}

static void test_a_bad_id_keeps_its_place_among_the_intents_around_it(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("a"), bad = s_intent("has space"), b = s_intent("b");

	assert_int_equal(s_take(f, &a), 0);
	assert_int_equal(s_take(f, &bad), 1);
	assert_int_equal(s_take(f, &b), 0);
	executor_flush(f->ex);
	assert_int_equal(f->n_ev, 3);
	assert_string_equal(f->ev[0].u.order.intent, "a");
	assert_int_equal(f->ev[1].u.order.status, ORDER_ERROR);
	assert_string_equal(f->ev[2].u.order.intent, "b");
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

/* ---- the settle rule: a "not found" is believed only a settle time after
 * the submission began ---- */

#define SETTLE 10000

/* Restart the executor with a settle time (and the fake wall clock). */
static void s_restart_settle(struct fx *f, int64_t settle_ms)
{
	executor_free(&f->ex);
	f->o.doubt_settle_ms = settle_ms;
	s_start(f);
}

/* Let ms pass on the wall clock, make every retry due now (the retry
 * timers are on the real monotonic clock), and tick once. */
static void s_after(struct fx *f, int64_t ms)
{
	char err[256];

	s_wall_now += ms;
	assert_int_equal(journal_reset_timers(executor_journal(f->ex), err, sizeof(err)), 0);
	executor_tick(f->ex);
}

static struct journal_entry s_entry(struct fx *f, const char *id)
{
	struct journal_entry e;
	char err[128];

	assert_int_equal(journal_get(executor_journal(f->ex), id, &e, err, sizeof(err)), 0);
	return e;
}

static void test_the_settle_decision(void **state)
{
	const int64_t t = (int64_t)OPEN * 1000;

	(void)state;
	assert_int_equal(executor_settle_left_ms(t, t, 0), 0);           /* no settle time */
	assert_int_equal(executor_settle_left_ms(0, t, SETTLE), 0);      /* never sent */
	assert_int_equal(executor_settle_left_ms(t, t, SETTLE), SETTLE); /* just sent */
	assert_int_equal(executor_settle_left_ms(t, t + SETTLE - 1, SETTLE), 1);
	assert_int_equal(executor_settle_left_ms(t, t + SETTLE, SETTLE), 0);
	assert_int_equal(executor_settle_left_ms(t, t + 10 * SETTLE, SETTLE), 0);
	/* the clock set back 5 s since the send: waits 5 s longer */
	assert_int_equal(executor_settle_left_ms(t, t - 5000, SETTLE), SETTLE + 5000);
	/* the default: 2 x the HTTP timeout, at least the floor */
	assert_int_equal(executor_settle_ms(0, 10000), EXEC_SETTLE_FLOOR_MS);
	assert_int_equal(executor_settle_ms(0, 45000), 90000);
	assert_int_equal(executor_settle_ms(500, 10000), 500);
}

/*
 * The race of RELIABILITY.md: the create times out while the broker is
 * still making the order, and the lookup right after finds nothing.  That
 * "not found" is not believed: the entry stays in doubt, other intents go
 * on, a lookup inside the settle time still does not send, and the lookup
 * after it finds the order that landed meanwhile.
 */
static void test_a_not_found_inside_the_settle_time_is_not_believed(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("slow"), b = s_intent("other");
	struct journal_entry e;

	s_restart_settle(f, SETTLE);
	f->m.script[f->m.n_script++] = M_SLOW_CREATE;
	assert_int_equal(executor_on_intent(f->ex, &a), 0);
	assert_string_equal(f->m.calls, "SL");
	assert_int_equal(f->n_ev, 0);
	e = s_entry(f, "slow");
	assert_int_equal(e.state, JS_PENDING);
	assert_true(e.in_doubt && e.looked_up);
	assert_true(e.sent_at_ms == (int64_t)OPEN * 1000);
	assert_int_equal(e.failures, 1);
	assert_non_null(strstr(e.reason, "submit ambiguous: mock: timed out"));
	journal_entry_free(&e);
	/* not a busy loop: the next look is due when the settle time is over */
	assert_true(executor_tick(f->ex) > SETTLE / 2);
	/* other intents are not held back */
	assert_true(executor_input_ready(f->ex));
	assert_int_equal(executor_on_intent(f->ex, &b), 0);
	assert_int_equal(f->m.submits, 2);
	assert_int_equal(s_state(f, "other"), JS_SUBMITTED);
	/* looked up again inside the settle time: still nothing, still no resend */
	s_after(f, SETTLE - 1);
	assert_string_equal(f->m.calls, "SLSL");
	assert_int_equal(s_state(f, "slow"), JS_PENDING);
	/* the create lands; the lookup after the settle time finds it */
	s_land(&f->m);
	s_after(f, 1);
	assert_string_equal(f->m.calls, "SLSLL");
	assert_int_equal(f->m.n_orders, 2);
	assert_int_equal(s_state(f, "slow"), JS_SUBMITTED);
	assert_non_null(strstr(s_last(f)->reason, "found by lookup"));
	assert_string_equal(s_last(f)->broker_order_id, "mock-2");
}

/* When nothing lands, the order is sent again: only after the settle time,
 * and right after the lookup that found nothing. */
static void test_after_the_settle_time_a_lookup_is_believed_and_the_resend_follows_it(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	s_restart_settle(f, SETTLE);
	f->m.script[f->m.n_script++] = M_LOST_BEFORE;
	assert_int_equal(executor_on_intent(f->ex, &in), 0);
	s_after(f, SETTLE / 2);
	assert_int_equal(f->m.submits, 1);
	s_after(f, SETTLE / 2);
	assert_string_equal(f->m.calls, "SLLLS");
	assert_int_equal(f->m.n_orders, 1);
	assert_int_equal(s_state(f, "i1"), JS_SUBMITTED);
	assert_true(executor_input_ready(f->ex));
}

/* Killed while an order was in doubt, inside the settle time: the restart
 * looks it up at once (and adopts it if it is there), but sends nothing
 * before the settle time has passed since the send the journal recorded. */
static void test_a_restart_inside_the_settle_time_does_not_resend_before_it(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("lands"), b = s_intent("never");
	char err[256];
	journal_t *j = executor_journal(f->ex);
	const int64_t sent = s_wall_now;

	journal_add(j, &a, "lands", "alpaca", OPEN, err, sizeof(err));
	journal_add(j, &b, "never", "alpaca", OPEN, err, sizeof(err));
	assert_int_equal(
	    journal_begin_send(j, "lands", "2026-04-22", 1, 100, OPEN, sent, err, sizeof(err)), 0);
	assert_int_equal(
	    journal_begin_send(j, "never", "2026-04-22", 1, 100, OPEN, sent, err, sizeof(err)), 0);
	snprintf(f->m.landing, sizeof(f->m.landing), "lands");
	s_wall_now = sent + 2000; /* restarted 2 s later */
	s_restart_settle(f, SETTLE);
	assert_false(executor_input_ready(f->ex)); /* in doubt 1: looked up first */
	s_settle(f);
	assert_true(executor_input_ready(f->ex)); /* looked up, none found: input goes on */
	assert_int_equal(f->m.lookups, 2);
	assert_int_equal(f->m.submits, 0);
	s_land(&f->m);
	s_after(f, SETTLE - 2000 - 1); /* 1 ms short */
	assert_int_equal(f->m.submits, 0);
	assert_int_equal(s_state(f, "lands"), JS_SUBMITTED); /* found: adopted */
	assert_int_equal(s_state(f, "never"), JS_PENDING);
	s_after(f, 1);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(s_state(f, "never"), JS_SUBMITTED);
	assert_int_equal(f->m.n_orders, 2);
}

/* A journal of schema 3 (before send times were kept) with an entry a
 * killed run left in doubt: the migration takes its send time as one second
 * after its last write, and the rule holds from there. */
static void test_a_version_3_journal_in_doubt_keeps_the_settle_rule(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("old");
	char err[256], path[4200];
	journal_t *j = executor_journal(f->ex);

	journal_add(j, &a, "old", "alpaca", OPEN, err, sizeof(err));
	journal_begin_send(j, "old", "2026-04-22", 1, 100, OPEN, 1, err, sizeof(err));
	executor_free(&f->ex);
	snprintf(path, sizeof(path), "%s/executor.sqlite", f->dir);
	assert_int_equal(test_sql_exec(path, "ALTER TABLE intents DROP COLUMN sent_at_ms;"
	                                     "UPDATE intents SET updated_at = 1776870000;"
	                                     "PRAGMA user_version = 3;"),
	                 SQLITE_OK);
	s_wall_now = (int64_t)OPEN * 1000 + 300;
	s_restart_settle(f, SETTLE);
	s_settle(f);
	assert_int_equal(f->m.lookups, 1);
	assert_int_equal(f->m.submits, 0);
	/* sent at OPEN + 1 s at the latest: believed from OPEN + 1 s + SETTLE */
	s_after(f, 1000 + SETTLE - 300 - 1);
	assert_int_equal(f->m.submits, 0);
	s_after(f, 1);
	assert_int_equal(f->m.submits, 1);
	assert_int_equal(s_state(f, "old"), JS_SUBMITTED);
}

/* An intent that expires while in doubt is still looked up before it is
 * finished: blocked only once a believed lookup found nothing, adopted if
 * the order turns up. */
static void test_an_intent_expiring_in_doubt_is_looked_up_before_it_is_blocked(void **state)
{
	struct fx *f = *state;
	intent_t a = s_intent("none"), b = s_intent("landed");

	s_restart_settle(f, SETTLE);
	a.expires_at = b.expires_at = OPEN + 5;
	f->m.script[f->m.n_script++] = M_LOST_BEFORE;
	executor_on_intent(f->ex, &a);
	time_set_now(OPEN + 60); /* expired, still in doubt */
	s_after(f, SETTLE / 2);
	assert_int_equal(s_state(f, "none"), JS_PENDING); /* not believed yet: kept */
	s_after(f, SETTLE / 2);
	assert_string_equal(f->m.calls, "SLLL");
	assert_int_equal(s_state(f, "none"), JS_BLOCKED);
	assert_non_null(strstr(s_last(f)->reason, "intent expired"));

	time_set_now(OPEN);
	f->m.script[f->m.n_script++] = M_SLOW_CREATE;
	executor_on_intent(f->ex, &b);
	time_set_now(OPEN + 60);
	s_land(&f->m);
	s_after(f, SETTLE);
	assert_int_equal(s_state(f, "landed"), JS_SUBMITTED);
	assert_int_equal(f->m.submits, 2);
}

/* max_attempts still counts one failure per submission without an answer
 * when each resend waits for the settle time. */
static void test_max_attempts_counts_submissions_under_the_settle_rule(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");

	f->o.max_attempts = 2;
	s_restart_settle(f, SETTLE);
	for (int i = 0; i < 4; i++)
		f->m.script[f->m.n_script++] = M_LOST_BEFORE;
	executor_on_intent(f->ex, &in);
	for (int i = 0; i < 4 && s_state(f, "i1") == JS_PENDING; i++)
		s_after(f, SETTLE);
	assert_int_equal(f->m.submits, 2);
	assert_int_equal(s_state(f, "i1"), JS_ERROR);
	assert_non_null(strstr(s_last(f)->reason, "gave up after 2 tries"));
}

/* The paper broker's lookups are exact: no settle time, whatever is set. */
static void test_an_exact_broker_ignores_the_settle_time(void **state)
{
	struct fx *f = *state;
	struct paper_opts po = { .state_dir = f->dir, .starting_cash = 1000 };
	intent_t in = s_intent("p1");
	char err[256];
	broker_t *b;

	executor_free(&f->ex);
	f->o.doubt_settle_ms = SETTLE;
	b = paper_broker_new(&po, err, sizeof(err));
	assert_non_null(b);
	assert_true(b->ops->lookup_exact);
	f->ex = executor_new(&f->o, b, s_emit, f, err, sizeof(err));
	assert_non_null(f->ex);
	executor_on_intent(f->ex, &in);
	assert_int_equal(s_last(f)->status, ORDER_FILLED);
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
		T(test_a_batch_is_on_disk_whole_before_the_broker_hears_of_any),
		T(test_an_intent_and_its_send_mark_commit_together_before_the_submit),
		T(test_a_blocked_first_intent_reports_after_its_batch_commits),
		T(test_a_dry_run_batch_reports_only_what_it_committed),
		T(test_a_dry_run_killed_before_its_batch_commits_leaves_nothing),
		T(test_the_same_intent_twice_in_a_batch_is_sent_once),
		T(test_once_one_of_a_batch_is_in_doubt_the_rest_wait_for_it),
		T(test_a_bad_id_keeps_its_place_among_the_intents_around_it),
		T(test_the_settle_decision),
		T(test_a_not_found_inside_the_settle_time_is_not_believed),
		T(test_after_the_settle_time_a_lookup_is_believed_and_the_resend_follows_it),
		T(test_a_restart_inside_the_settle_time_does_not_resend_before_it),
		T(test_a_version_3_journal_in_doubt_keeps_the_settle_rule),
		T(test_an_intent_expiring_in_doubt_is_looked_up_before_it_is_blocked),
		T(test_max_attempts_counts_submissions_under_the_settle_rule),
		T(test_an_exact_broker_ignores_the_settle_time),
#undef T
	};

	log_init("test_executor", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
