/*
 * test_journal.c - the executor's journal: the state machine of an intent,
 * what survives a reopen, the daily usage, and which entries are due.
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

#include "log.h"
#include "../../executor/journal.h"
#include "support/testutil.h"

#define NOW    1776870000 /* 2026-04-22T15:00:00Z */
#define NOW_MS ((int64_t)NOW * 1000)

struct fx {
	char *dir;
	journal_t *j;
};

static int s_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512];

	f->dir = test_tmpdir();
	f->j = journal_open(f->dir, err, sizeof(err));
	if (f->j == NULL)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

static int s_teardown(void **state)
{
	struct fx *f = *state;

	journal_close(&f->j);
	free(f->dir);
	free(f);
	return 0;
}

/* A valid intent; strings point at literals (journal_add copies). */
static intent_t s_intent(const char *id)
{
	static char *ev[] = { "edgar:0001", "edgar:0002" };

	return (intent_t){ .id = (char *)id,
		           .rule = "executive_trade",
		           .side = SIDE_BUY,
		           .ticker = "AAPL",
		           .figi = "BBG000B9XRY4",
		           .isin = NULL,
		           .qty = 10,
		           .notional = NAN,
		           .ref_price = 12.5,
		           .evidence = ev,
		           .n_evidence = 2,
		           .reason = "CEO bought",
		           .created_at = NOW - 60,
		           .expires_at = REC_NULL_TIME };
}

static void s_add(journal_t *j, const char *id)
{
	intent_t in = s_intent(id);
	char err[256];

	assert_int_equal(journal_add(j, &in, id, "paper", NOW, err, sizeof(err)), 0);
}

static struct journal_entry s_get(journal_t *j, const char *id)
{
	struct journal_entry e;
	char err[256];

	if (journal_get(j, id, &e, err, sizeof(err)) != 0)
		fail_msg("journal_get %s: %s", id, err);
	return e;
}

static void test_new_intent_is_pending_and_the_same_id_again_is_refused(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");
	struct journal_entry e;
	char err[256];

	s_add(f->j, "i1");
	assert_int_equal(journal_add(f->j, &in, "i1", "paper", NOW + 5, err, sizeof(err)), 1);
	e = s_get(f->j, "i1");
	assert_int_equal(e.state, JS_PENDING);
	assert_int_equal(e.attempts, 0);
	assert_false(e.in_doubt);
	assert_int_equal(e.received_at, NOW);
	assert_string_equal(e.broker, "paper");
	journal_entry_free(&e);
	assert_int_equal(journal_get(f->j, "nope", &e, err, sizeof(err)), 1);
}

static void test_the_intent_survives_a_reopen_field_for_field(void **state)
{
	struct fx *f = *state;
	struct journal_entry e;
	char err[256];

	s_add(f->j, "i1");
	journal_close(&f->j);
	f->j = journal_open(f->dir, err, sizeof(err));
	assert_non_null(f->j);
	e = s_get(f->j, "i1");
	assert_int_equal(e.intent.type, REC_INTENT);
	assert_string_equal(e.intent.u.intent.ticker, "AAPL");
	assert_string_equal(e.intent.u.intent.evidence[1], "edgar:0002");
	assert_true(e.intent.u.intent.qty == 10);
	assert_true(isnan(e.intent.u.intent.notional));
	assert_true(e.intent.u.intent.ref_price == 12.5);
	assert_null(e.intent.u.intent.isin);
	assert_int_equal(e.intent.u.intent.expires_at, REC_NULL_TIME);
	journal_entry_free(&e);
}

static void test_begin_send_puts_the_entry_in_doubt_and_counts_the_attempt(void **state)
{
	struct fx *f = *state;
	struct journal_entry e;
	char err[256];

	s_add(f->j, "i1");
	assert_int_equal(journal_in_doubt(f->j, "paper"), 0);
	assert_int_equal(
	    journal_begin_send(f->j, "i1", "2026-04-22", 10, 125, NOW, NOW_MS, err, sizeof(err)),
	    0);
	e = s_get(f->j, "i1");
	assert_true(e.in_doubt);
	assert_int_equal(e.attempts, 1);
	assert_string_equal(e.day, "2026-04-22");
	assert_true(e.notional == 125);
	journal_entry_free(&e);
	assert_int_equal(journal_in_doubt(f->j, "paper"), 1);
	assert_int_equal(journal_in_doubt(f->j, "alpaca"), 0);
}

/*
 * A lookup that finds nothing is recorded and leaves the entry in doubt 2:
 * still to be looked up before anything is sent, no longer holding input
 * back, holdable; the next submission puts it back in doubt 1 with its own
 * send time.
 */
static void test_a_lookup_that_finds_nothing_keeps_the_entry_in_doubt_and_is_recorded(void **state)
{
	struct fx *f = *state;
	struct journal_answer a = { "lookup", "not_found", 404, "" };
	struct journal_entry e;
	char ids[4][JOURNAL_ID_MAX + 1], err[256];

	s_add(f->j, "i1");
	/* only an entry in doubt */
	assert_int_equal(journal_not_found(f->j, "i1", &a, 0, 0, NULL, NOW, err, sizeof(err)), -1);
	journal_begin_send(f->j, "i1", "2026-04-22", 10, 125, NOW, NOW_MS, err, sizeof(err));
	e = s_get(f->j, "i1");
	assert_true(e.in_doubt && !e.looked_up);
	assert_true(e.sent_at_ms == NOW_MS);
	journal_entry_free(&e);
	assert_int_equal(journal_not_found(f->j, "i1", &a, 1, 5000, "submit ambiguous: HTTP 500",
	                                   NOW, err, sizeof(err)),
	                 0);
	e = s_get(f->j, "i1");
	assert_true(e.in_doubt && e.looked_up);
	assert_int_equal(e.state, JS_PENDING);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.failures, 1);
	assert_true(e.sent_at_ms == NOW_MS);
	assert_string_equal(e.reason, "submit ambiguous: HTTP 500");
	journal_entry_free(&e);
	assert_int_equal(journal_answer_count(f->j, "i1"), 1);
	assert_int_equal(journal_in_doubt(f->j, "paper"), 0);
	assert_int_equal(journal_due(f->j, "paper", 4999, NOW, ids, 4), 0);
	assert_int_equal(journal_due(f->j, "paper", 5000, NOW, ids, 4), 1);
	/* a NULL reason keeps the entry's */
	assert_int_equal(journal_not_found(f->j, "i1", &a, 0, 0, NULL, NOW, err, sizeof(err)), 0);
	e = s_get(f->j, "i1");
	assert_string_equal(e.reason, "submit ambiguous: HTTP 500");
	assert_int_equal(e.failures, 1);
	journal_entry_free(&e);
	/* held and woken, it is still in doubt 2 (looked up before a send) */
	assert_int_equal(journal_hold(f->j, "i1", NOW + 60, "closed", NOW, err, sizeof(err)), 0);
	assert_int_equal(journal_wake(f->j, "i1", NOW + 60, err, sizeof(err)), 0);
	e = s_get(f->j, "i1");
	assert_true(e.in_doubt && e.looked_up);
	journal_entry_free(&e);
	/* sent again: in doubt 1, the new send time */
	journal_begin_send(f->j, "i1", "2026-04-22", 10, 125, NOW, NOW_MS + 70000, err,
	                   sizeof(err));
	e = s_get(f->j, "i1");
	assert_true(e.in_doubt && !e.looked_up);
	assert_true(e.sent_at_ms == NOW_MS + 70000);
	assert_int_equal(e.attempts, 2);
	journal_entry_free(&e);
	assert_int_equal(journal_in_doubt(f->j, "paper"), 1);
}

static void test_finish_records_the_order_and_its_answer_once(void **state)
{
	struct fx *f = *state;
	struct journal_answer a = { "submit", "ok", 200, "ord-1 accepted" };
	struct journal_entry e;
	char err[256];

	s_add(f->j, "i1");
	journal_begin_send(f->j, "i1", "2026-04-22", 10, 125, NOW, NOW_MS, err, sizeof(err));
	assert_int_equal(journal_finish(f->j, "i1", JS_SUBMITTED, &a, "ord-1", "accepted", 10, NAN,
	                                "submitted", NOW + 1, err, sizeof(err)),
	                 0);
	e = s_get(f->j, "i1");
	assert_int_equal(e.state, JS_SUBMITTED);
	assert_false(e.in_doubt);
	assert_string_equal(e.broker_order_id, "ord-1");
	assert_string_equal(e.broker_status, "accepted");
	assert_true(isnan(e.price));
	journal_entry_free(&e);
	/* A finished entry does not move again, and the failed attempt
	 * leaves no answer behind (one transaction). */
	assert_int_equal(journal_finish(f->j, "i1", JS_FILLED, &a, "ord-2", "filled", 10, 12,
	                                "again", NOW + 2, err, sizeof(err)),
	                 -1);
	assert_int_equal(journal_answer_count(f->j, "i1"), 1);
	e = s_get(f->j, "i1");
	assert_string_equal(e.broker_order_id, "ord-1");
	journal_entry_free(&e);
	assert_int_equal(journal_count(f->j, JS_SUBMITTED), 1);
}

static void test_pending_and_held_are_not_final_states(void **state)
{
	struct fx *f = *state;
	char err[256];

	s_add(f->j, "i1");
	assert_int_equal(journal_finish(f->j, "i1", JS_PENDING, NULL, NULL, NULL, NAN, NAN, "x",
	                                NOW, err, sizeof(err)),
	                 -1);
	assert_int_equal(journal_finish(f->j, "i1", JS_HELD, NULL, NULL, NULL, NAN, NAN, "x", NOW,
	                                err, sizeof(err)),
	                 -1);
}

static void test_hold_then_wake_returns_to_pending(void **state)
{
	struct fx *f = *state;
	struct journal_entry e;
	char err[256];
	char ids[4][JOURNAL_ID_MAX + 1];
	int64_t r, w;

	s_add(f->j, "i1");
	assert_int_equal(
	    journal_hold(f->j, "i1", NOW + 3600, "market closed", NOW, err, sizeof(err)), 0);
	e = s_get(f->j, "i1");
	assert_int_equal(e.state, JS_HELD);
	assert_int_equal(e.wake_at, NOW + 3600);
	journal_entry_free(&e);
	assert_int_equal(journal_due(f->j, "paper", 0, NOW, ids, 4), 0);
	journal_next_due(f->j, "paper", &r, &w);
	assert_int_equal(w, NOW + 3600);
	assert_int_equal(r, INT64_MAX);
	assert_int_equal(journal_due(f->j, "paper", 0, NOW + 3600, ids, 4), 1);
	assert_string_equal(ids[0], "i1");
	assert_int_equal(journal_wake(f->j, "i1", NOW + 3600, err, sizeof(err)), 0);
	e = s_get(f->j, "i1");
	assert_int_equal(e.state, JS_PENDING);
	journal_entry_free(&e);
}

static void test_an_entry_in_doubt_cannot_be_held(void **state)
{
	struct fx *f = *state;
	char err[256];

	s_add(f->j, "i1");
	journal_begin_send(f->j, "i1", "2026-04-22", 1, 1, NOW, NOW_MS, err, sizeof(err));
	assert_int_equal(journal_hold(f->j, "i1", NOW + 60, "closed", NOW, err, sizeof(err)), -1);
}

static void test_due_lists_entries_in_doubt_first_and_respects_retry_times(void **state)
{
	struct fx *f = *state;
	struct journal_answer a = { "submit", "ambiguous", 500, "HTTP 500" };
	char ids[8][JOURNAL_ID_MAX + 1], err[256];
	struct journal_entry e;
	int64_t r, w;

	s_add(f->j, "a");
	s_add(f->j, "b");
	s_add(f->j, "c");
	/* a: waiting for a retry at 5000; b: in doubt, due at 1000 */
	assert_int_equal(
	    journal_retry_later(f->j, "a", NULL, 5000, "check failed", NOW, err, sizeof(err)), 0);
	journal_begin_send(f->j, "b", "2026-04-22", 1, 1, NOW, NOW_MS, err, sizeof(err));
	assert_int_equal(
	    journal_retry_later(f->j, "b", &a, 1000, "ambiguous", NOW, err, sizeof(err)), 0);
	journal_finish(f->j, "c", JS_BLOCKED, NULL, NULL, NULL, NAN, NAN, "halted", NOW, err,
	               sizeof(err));
	assert_int_equal(journal_due(f->j, "paper", 999, NOW, ids, 8), 0);
	assert_int_equal(journal_due(f->j, "paper", 6000, NOW, ids, 8), 2);
	assert_string_equal(ids[0], "b");
	assert_string_equal(ids[1], "a");
	journal_next_due(f->j, "paper", &r, &w);
	assert_int_equal(r, 1000);
	e = s_get(f->j, "b");
	assert_int_equal(e.failures, 1);
	assert_true(e.in_doubt);
	assert_string_equal(e.reason, "ambiguous");
	journal_entry_free(&e);
	/* After a restart every timer is due at once. */
	assert_int_equal(journal_reset_timers(f->j, err, sizeof(err)), 0);
	assert_int_equal(journal_due(f->j, "paper", 0, NOW, ids, 8), 2);
	assert_int_equal(journal_pending(f->j, "paper"), 2);
}

static void test_usage_counts_the_days_sent_and_dry_run_orders_only(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t n;
	double v;

	s_add(f->j, "sent");      /* pending, sent: counts */
	s_add(f->j, "filled");    /* counts */
	s_add(f->j, "dry");       /* counts */
	s_add(f->j, "rejected");  /* does not */
	s_add(f->j, "yesterday"); /* another day */
	s_add(f->j, "fresh");     /* never sent */
	journal_begin_send(f->j, "sent", "2026-04-22", 1, 100, NOW, NOW_MS, err, sizeof(err));
	journal_begin_send(f->j, "filled", "2026-04-22", 1, 200, NOW, NOW_MS, err, sizeof(err));
	journal_finish(f->j, "filled", JS_FILLED, NULL, "p-1", "filled", 1, 200, "ok", NOW, err,
	               sizeof(err));
	assert_int_equal(
	    journal_set_usage(f->j, "dry", "2026-04-22", 1, 400, NOW, err, sizeof(err)), 0);
	journal_finish(f->j, "dry", JS_DRY_RUN, NULL, NULL, NULL, 1, NAN, "dry", NOW, err,
	               sizeof(err));
	journal_begin_send(f->j, "rejected", "2026-04-22", 1, 800, NOW, NOW_MS, err, sizeof(err));
	journal_finish(f->j, "rejected", JS_REJECTED, NULL, NULL, NULL, 1, NAN, "no", NOW, err,
	               sizeof(err));
	journal_begin_send(f->j, "yesterday", "2026-04-21", 1, 1600, NOW, NOW_MS, err, sizeof(err));
	assert_int_equal(journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_true(v == 700);
	/* an intent sent again does not count against itself */
	assert_int_equal(journal_usage(f->j, "2026-04-22", "sent", &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_true(v == 600);
	assert_int_equal(journal_usage(f->j, "2026-04-23", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_true(v == 0);
}

static void test_entries_of_another_broker_are_left_alone(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("x");
	char ids[4][JOURNAL_ID_MAX + 1], err[256];

	assert_int_equal(journal_add(f->j, &in, "x", "alpaca", NOW, err, sizeof(err)), 0);
	assert_int_equal(journal_due(f->j, "paper", INT64_MAX, NOW, ids, 4), 0);
	assert_int_equal(journal_foreign_unfinished(f->j, "paper"), 1);
	assert_int_equal(journal_foreign_unfinished(f->j, "alpaca"), 0);
}

static void test_state_names_round_trip(void **state)
{
	(void)state;
	for (int s = JS_PENDING; s <= JS_ERROR; s++)
		assert_int_equal(journal_state_from_name(journal_state_name(s)), s);
	assert_int_equal(journal_state_from_name("bogus"), -1);
	assert_int_equal(journal_state_order_status(JS_DRY_RUN), ORDER_DRY_RUN);
	assert_int_equal(journal_state_order_status(JS_PENDING), ORDER_NONE);
}

static void test_the_file_is_wal_and_readable_by_its_owner_only(void **state)
{
	struct fx *f = *state;
	char path[4200];
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *p;

	(void)p;
	s_add(f->j, "i1");
	snprintf(path, sizeof(path), "%s/executor.sqlite", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	{
		char cmd[4300];
		int mode = 0;
		snprintf(cmd, sizeof(cmd), "stat -c %%a %s", path);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_int_equal(fscanf(p, "%o", (unsigned *)&mode), 1);
		pclose(p);
		assert_int_equal(mode, 0600);
	}
}

/* Intents another connection sees: only what is committed. */
static int64_t s_committed(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/executor.sqlite", dir);
	return test_sql_int(path, "SELECT COUNT(*) FROM intents");
}

static void test_a_batch_is_seen_by_others_only_once_it_commits(void **state)
{
	struct fx *f = *state;
	struct journal_entry e;
	char err[256];

	for (int durable = 1; durable >= 0; durable--) {
		const char *a = durable ? "a1" : "a2", *b = durable ? "b1" : "b2";
		int64_t before = s_committed(f->dir);

		assert_int_equal(journal_batch_begin(f->j, durable, err, sizeof(err)), 0);
		assert_true(journal_in_batch(f->j));
		s_add(f->j, a);
		s_add(f->j, b);
		assert_int_equal(journal_finish(f->j, a, JS_DRY_RUN, NULL, NULL, NULL, 1, NAN,
		                                "dry", NOW, err, sizeof(err)),
		                 0);
		/* this connection sees its own batch; another does not yet */
		e = s_get(f->j, a);
		assert_int_equal(e.state, JS_DRY_RUN);
		journal_entry_free(&e);
		assert_int_equal(s_committed(f->dir), before);
		assert_int_equal(journal_batch_commit(f->j, err, sizeof(err)), 0);
		assert_false(journal_in_batch(f->j));
		assert_int_equal(s_committed(f->dir), before + 2);
	}
	/* after a batch the journal works on its own again */
	s_add(f->j, "after");
	assert_int_equal(s_committed(f->dir), 5);
}

static void test_a_failed_step_inside_a_batch_undoes_only_itself(void **state)
{
	struct fx *f = *state;
	struct journal_answer a = { "submit", "ok", 200, "ord-1 accepted" };
	struct journal_entry e;
	char err[256];

	assert_int_equal(journal_batch_begin(f->j, true, err, sizeof(err)), 0);
	s_add(f->j, "i1");
	/* no such entry: the step fails, its answer row is rolled back */
	assert_int_equal(journal_finish(f->j, "nope", JS_FILLED, &a, "ord-1", "filled", 1, 1, "x",
	                                NOW, err, sizeof(err)),
	                 -1);
	s_add(f->j, "i2");
	assert_int_equal(journal_batch_commit(f->j, err, sizeof(err)), 0);
	assert_int_equal(s_committed(f->dir), 2);
	assert_int_equal(journal_answer_count(f->j, "nope"), 0);
	e = s_get(f->j, "i2");
	assert_int_equal(e.state, JS_PENDING);
	journal_entry_free(&e);
	/* a second begin while one is open is refused */
	assert_int_equal(journal_batch_begin(f->j, true, err, sizeof(err)), 0);
	assert_int_equal(journal_batch_begin(f->j, true, err, sizeof(err)), -1);
	journal_batch_abort(f->j);
}

/* A lazy batch leaves the connection at synchronous = NORMAL for the next
 * one; every kind of write outside a lazy batch runs at FULL again. */
static void test_only_lazy_batches_commit_at_normal(void **state)
{
	struct fx *f = *state;
	struct journal_answer a = { "lookup", "not_found", 404, "none" };
	char err[256], id[32];

	assert_int_equal(journal_synchronous(f->j), 2); /* FULL from the start */
	for (int path = 0; path < 5; path++) {
		snprintf(id, sizeof(id), "lazy%d", path);
		assert_int_equal(journal_batch_begin(f->j, false, err, sizeof(err)), 0);
		s_add(f->j, id);
		assert_int_equal(journal_batch_commit(f->j, err, sizeof(err)), 0);
		assert_int_equal(journal_synchronous(f->j), 1);
		/* a second lazy batch needs no switch and stays at NORMAL */
		assert_int_equal(journal_batch_begin(f->j, false, err, sizeof(err)), 0);
		assert_int_equal(journal_synchronous(f->j), 1);
		journal_batch_abort(f->j);
		assert_int_equal(journal_synchronous(f->j), 1);
		/* reads leave it alone */
		assert_true(journal_pending(f->j, "paper") >= 1);
		assert_int_equal(journal_synchronous(f->j), 1);
		switch (path) {
		case 0: /* an autocommit insert */
			snprintf(id, sizeof(id), "durable%d", path);
			s_add(f->j, id);
			break;
		case 1: /* an update in its own transaction */
			assert_int_equal(
			    journal_set_usage(f->j, id, "2026-01-02", 1, 10, NOW, err, sizeof(err)),
			    0);
			break;
		case 2: /* an answer noted alone */
			assert_int_equal(journal_note(f->j, id, &a, NOW, err, sizeof(err)), 0);
			break;
		case 3:
			assert_int_equal(journal_reset_timers(f->j, err, sizeof(err)), 0);
			break;
		case 4: /* a durable batch is FULL from its BEGIN */
			assert_int_equal(journal_batch_begin(f->j, true, err, sizeof(err)), 0);
			assert_int_equal(journal_synchronous(f->j), 2);
			assert_int_equal(journal_batch_commit(f->j, err, sizeof(err)), 0);
			break;
		}
		assert_int_equal(journal_synchronous(f->j), 2);
	}
}

static void test_an_aborted_batch_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct journal_entry e;
	char err[256];

	assert_int_equal(journal_batch_begin(f->j, false, err, sizeof(err)), 0);
	s_add(f->j, "i1");
	journal_batch_abort(f->j);
	assert_int_equal(journal_get(f->j, "i1", &e, err, sizeof(err)), 1);
	/* and one left open at close is rolled back too */
	assert_int_equal(journal_batch_begin(f->j, true, err, sizeof(err)), 0);
	s_add(f->j, "i2");
	journal_close(&f->j);
	f->j = journal_open(f->dir, err, sizeof(err));
	assert_non_null(f->j);
	assert_int_equal(journal_get(f->j, "i2", &e, err, sizeof(err)), 1);
	assert_int_equal(journal_batch_commit(f->j, err, sizeof(err)), -1); /* none open */
}

static void test_a_fresh_entry_is_what_get_reads_back(void **state)
{
	struct fx *f = *state;
	intent_t in = s_intent("i1");
	struct journal_entry g, m;

	s_add(f->j, "i1");
	g = s_get(f->j, "i1");
	assert_int_equal(journal_entry_fresh(&m, &in, "i1", "paper", NOW), 0);
	assert_string_equal(m.id, g.id);
	assert_string_equal(m.client_id, g.client_id);
	assert_string_equal(m.broker, g.broker);
	assert_int_equal(m.state, g.state);
	assert_int_equal(m.attempts, g.attempts);
	assert_int_equal(m.failures, g.failures);
	assert_int_equal(m.in_doubt, g.in_doubt);
	assert_true(isnan(m.qty) && isnan(g.qty) && isnan(m.notional) && isnan(g.notional));
	assert_true(isnan(m.price) && isnan(g.price));
	assert_string_equal(m.day, g.day);
	assert_string_equal(m.reason, g.reason);
	assert_int_equal(m.wake_at, g.wake_at);
	assert_int_equal(m.received_at, g.received_at);
	assert_string_equal(m.intent.u.intent.ticker, g.intent.u.intent.ticker);
	assert_string_equal(m.intent.u.intent.evidence[1], g.intent.u.intent.evidence[1]);
	assert_true(m.intent.u.intent.qty == g.intent.u.intent.qty);
	assert_true(m.intent.u.intent.ref_price == g.intent.u.intent.ref_price);
	assert_int_equal(m.intent.u.intent.expires_at, g.intent.u.intent.expires_at);
	journal_entry_free(&m);
	journal_entry_free(&g);
}

static void test_the_generation_moves_with_every_write_and_only_then(void **state)
{
	struct fx *f = *state;
	char ids[4][JOURNAL_ID_MAX + 1], err[256];
	int64_t r, w, n;
	double v;
	uint64_t g;

	g = journal_generation(f->j);
	s_add(f->j, "i1");
	assert_true(journal_generation(f->j) != g);
	g = journal_generation(f->j);
	journal_due(f->j, "paper", INT64_MAX, NOW, ids, 4);
	journal_next_due(f->j, "paper", &r, &w);
	journal_in_doubt(f->j, "paper");
	journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err));
	assert_true(journal_generation(f->j) == g); /* reads */
	journal_begin_send(f->j, "i1", "2026-04-22", 1, 1, NOW, NOW_MS, err, sizeof(err));
	assert_true(journal_generation(f->j) != g);
	g = journal_generation(f->j);
	journal_hold(f->j, "i1", NOW, "x", NOW, err, sizeof(err)); /* refused: in doubt */
	assert_true(journal_generation(f->j) != g); /* may have written: moves anyway */
}

static void test_a_version_1_journal_loses_its_unused_client_index(void **state)
{
	struct fx *f = *state;
	char path[4200], err[256];
	sqlite3 *db;
	sqlite3_stmt *st;

	/* Put the schema back to version 1 by hand, as an old file has it. */
	s_add(f->j, "i1");
	journal_close(&f->j);
	snprintf(path, sizeof(path), "%s/executor.sqlite", f->dir);
	assert_int_equal(test_sql_exec(path, "CREATE INDEX intents_client ON intents(client_id);"
	                                     "ALTER TABLE intents DROP COLUMN sent_at_ms;"
	                                     "PRAGMA user_version = 1;"),
	                 SQLITE_OK);
	f->j = journal_open(f->dir, err, sizeof(err));
	assert_non_null(f->j);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT (SELECT COUNT(*) FROM sqlite_schema WHERE "
	                                    "name = 'intents_client'), (SELECT user_version FROM "
	                                    "pragma_user_version), (SELECT COUNT(*) FROM intents)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	assert_int_equal(sqlite3_column_int(st, 1), 4);
	assert_int_equal(sqlite3_column_int(st, 2), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * Version 4 keeps when the last submission began (sent_at_ms).  A version-3
 * file does not know it: an entry left in doubt, or cleared by a lookup
 * version 3 believed at once (pending or held after a send), gets one
 * second after its last write, no earlier than the send, and the cleared
 * ones go back in doubt (2) to be looked up again before any resend.
 */
static void test_a_version_3_journal_gets_send_times_no_earlier_than_the_truth(void **state)
{
	struct fx *f = *state;
	struct journal_answer a = { "submit", "ok", 200, "ord-1 accepted" };
	const char *ids[] = { "doubt", "cleared", "held", "fresh", "done" };
	char path[4200], err[256];
	struct journal_entry e;
	sqlite3 *db;
	sqlite3_stmt *st;

	for (int i = 0; i < 5; i++)
		s_add(f->j, ids[i]);
	for (int i = 0; i < 5; i++)
		if (strcmp(ids[i], "fresh") != 0)
			journal_begin_send(f->j, ids[i], "2026-04-22", 1, 10, NOW, NOW_MS, err,
			                   sizeof(err));
	journal_finish(f->j, "done", JS_SUBMITTED, &a, "ord-1", "accepted", 1, NAN, "ok", NOW, err,
	               sizeof(err));
	journal_close(&f->j);
	/* As version 3 left them: no send time; "cleared" and "held" out of
	 * doubt (a lookup found nothing), each last written at its own time. */
	snprintf(path, sizeof(path), "%s/executor.sqlite", f->dir);
	assert_int_equal(
	    test_sql_exec(path, "ALTER TABLE intents DROP COLUMN sent_at_ms;"
	                        "UPDATE intents SET in_doubt = 0, updated_at = 1776870007 "
	                        " WHERE id = 'cleared';"
	                        "UPDATE intents SET in_doubt = 0, state = 'held',"
	                        " wake_at = 1776873600, updated_at = 1776870009"
	                        " WHERE id = 'held';"
	                        "UPDATE intents SET updated_at = 1776870005 WHERE id = 'doubt';"
	                        "PRAGMA user_version = 3;"),
	    SQLITE_OK);
	f->j = journal_open(f->dir, err, sizeof(err));
	assert_non_null(f->j);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT user_version FROM pragma_user_version", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	sqlite3_close(db);
	e = s_get(f->j, "doubt");
	assert_true(e.in_doubt && !e.looked_up);
	assert_true(e.sent_at_ms == (NOW + 6) * 1000LL);
	journal_entry_free(&e);
	e = s_get(f->j, "cleared");
	assert_true(e.in_doubt && e.looked_up);
	assert_true(e.sent_at_ms == (NOW + 8) * 1000LL);
	journal_entry_free(&e);
	e = s_get(f->j, "held");
	assert_int_equal(e.state, JS_HELD);
	assert_true(e.in_doubt && e.looked_up);
	assert_true(e.sent_at_ms == (NOW + 10) * 1000LL);
	journal_entry_free(&e);
	e = s_get(f->j, "fresh");
	assert_true(!e.in_doubt && e.sent_at_ms == 0);
	journal_entry_free(&e);
	e = s_get(f->j, "done");
	assert_true(!e.in_doubt && e.sent_at_ms == 0);
	assert_int_equal(e.state, JS_SUBMITTED);
	journal_entry_free(&e);
	/* only the one never looked up holds input back */
	assert_int_equal(journal_in_doubt(f->j, "paper"), 1);
}

/* ---- what the journal keeps in memory: the open count, the day's usage ---- */

/* Version 2 indexed every entry's day, NULL or not; version 3 indexes only
 * entries that have one, and the day's usage is still found through it. */
static void test_a_version_2_journal_indexes_only_entries_with_a_day(void **state)
{
	struct fx *f = *state;
	char path[4200], err[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n;
	double v;

	s_add(f->j, "sent");
	s_add(f->j, "fresh");
	assert_int_equal(
	    journal_begin_send(f->j, "sent", "2026-04-22", 1, 250, NOW, NOW_MS, err, sizeof(err)),
	    0);
	journal_close(&f->j);
	snprintf(path, sizeof(path), "%s/executor.sqlite", f->dir);
	assert_int_equal(test_sql_exec(path, "DROP INDEX intents_day;"
	                                     "CREATE INDEX intents_day ON intents(day);"
	                                     "ALTER TABLE intents DROP COLUMN sent_at_ms;"
	                                     "PRAGMA user_version = 2;"),
	                 SQLITE_OK);
	f->j = journal_open(f->dir, err, sizeof(err));
	assert_non_null(f->j);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT sql LIKE '%WHERE day IS NOT NULL', (SELECT "
	                                    "user_version FROM pragma_user_version) FROM "
	                                    "sqlite_schema WHERE name = 'intents_day'",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_int(st, 1), 4);
	sqlite3_finalize(st);
	/* one index entry: the entry with a day */
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT COUNT(*) FROM intents INDEXED BY intents_day "
	                                    "WHERE day IS NOT NULL",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(v == 250);
}

/* The old usage query, on its own connection (committed rows only). */
static void s_usage_sql(const char *dir, const char *day, const char *except, int64_t *n, double *v)
{
	char path[1024];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/executor.sqlite", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
	                       "SELECT COUNT(*), TOTAL(notional) FROM intents WHERE day = ?1 AND "
	                       "id IS NOT ?2 AND (state = 'submitted' OR state = 'filled' OR "
	                       "state = 'dry_run' OR (state = 'pending' AND attempts > 0))",
	                       -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	if (except != NULL)
		sqlite3_bind_text(st, 2, except, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*n = sqlite3_column_int64(st, 0);
	*v = sqlite3_column_double(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int64_t s_open_sql(const char *dir)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/executor.sqlite", dir);
	return test_sql_int(path,
	                    "SELECT COUNT(*) FROM intents WHERE state IN ('pending', 'held')");
}

static uint32_t s_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Every kind of write, in a random order, to entries of two days, some of
 * them inside batches that commit or roll back: after each step the usage
 * the journal keeps (asked with and without an entry left out) is exactly,
 * bit for bit, what the old query computes over the file, and the open
 * count is the file's.
 */
static void test_kept_usage_and_open_count_match_the_file_after_every_write(void **state)
{
	static const char *const days[] = { "2026-04-22", "2026-04-21" };
	static const enum journal_state finals[] = { JS_SUBMITTED, JS_FILLED,  JS_DRY_RUN,
		                                     JS_REJECTED,  JS_BLOCKED, JS_ERROR };
	struct fx *f = *state;
	char ids[2000][16], err[256];
	int n_ids = 0, checks = 0, moved = 0;
	uint32_t x = 2463534242u;

	for (int step = 0; step < 6000; step++) {
		uint32_t r = s_rand(&x);
		/* mostly the last few entries, which are still open */
		const char *id = n_ids > 0
		                     ? ids[n_ids - 1 - (int)(r % (unsigned)(n_ids < 3 ? n_ids : 3))]
		                     : NULL;
		const char *day = days[(r >> 8) % 4 == 0 ? 1 : 0];
		double notional = (double)((r >> 12) % 100000) / 100.0; /* cents */
		int op = (int)((r >> 20) % 12);

		if (id == NULL || ((op == 0 || op == 10) && n_ids < 2000)) {
			snprintf(ids[n_ids], sizeof(ids[n_ids]), "e%d", n_ids);
			s_add(f->j, ids[n_ids]);
			n_ids++;
			continue;
		}
		/* Calls that a state does not allow fail and must change nothing. */
		switch (op) {
		case 1:
		case 2:
			moved += journal_begin_send(f->j, id, day, 1, (r & 1) ? notional : NAN, NOW,
			                            NOW_MS, err, sizeof(err)) == 0;
			break;
		case 3:
			moved += journal_set_usage(f->j, id, day, 1, notional, NOW, err,
			                           sizeof(err)) == 0;
			break;
		case 4:
		case 5:
			moved += journal_finish(f->j, id, finals[(r >> 4) % 6], NULL, NULL, NULL, 1,
			                        NAN, "done", NOW, err, sizeof(err)) == 0;
			break;
		case 6:
			moved +=
			    journal_hold(f->j, id, NOW + 60, "closed", NOW, err, sizeof(err)) == 0;
			break;
		case 7:
			moved += journal_wake(f->j, id, NOW, err, sizeof(err)) == 0;
			break;
		case 8:
		case 11:
			journal_not_found(f->j, id, NULL, 0, 0, NULL, NOW, err, sizeof(err));
			break;
		case 9:
			if (journal_in_batch(f->j))
				(r & 2) ? journal_batch_abort(f->j)
				        : (void)journal_batch_commit(f->j, err, sizeof(err));
			else
				journal_batch_begin(f->j, (r & 2) != 0, err, sizeof(err));
			break;
		default:
			break;
		}
		if (journal_in_batch(f->j))
			continue; /* the other connection sees only what is committed */
		for (int d = 0; d < 2; d++) {
			const char *except = (r & 4) ? id : NULL;
			int64_t n, want_n;
			double v, want_v;

			assert_int_equal(
			    journal_usage(f->j, days[d], except, &n, &v, err, sizeof(err)), 0);
			s_usage_sql(f->dir, days[d], except, &want_n, &want_v);
			if (n != want_n || memcmp(&v, &want_v, sizeof(v)) != 0)
				fail_msg("step %d, %s except %s: kept %lld %.17g, file %lld %.17g",
				         step, days[d], except ? except : "-", (long long)n, v,
				         (long long)want_n, want_v);
			checks++;
		}
		assert_int_equal(journal_open_entries(f->j), s_open_sql(f->dir));
	}
	/* The walk did what it is for: many writes took effect. */
	assert_true(moved > 500);
	assert_true(checks > 2000);
}

/* An order sent, then held (the market closed before it was sent again),
 * then woken: it leaves the day's usage and joins it again, and the kept
 * usage follows each step (as the file says). */
static void test_kept_usage_follows_an_order_through_hold_and_wake(void **state)
{
	struct fx *f = *state;
	char err[256];
	int64_t n;
	double v;

	s_add(f->j, "a");
	s_add(f->j, "b");
	assert_int_equal(
	    journal_begin_send(f->j, "a", "2026-04-22", 1, 100, NOW, NOW_MS, err, sizeof(err)), 0);
	assert_int_equal(
	    journal_begin_send(f->j, "b", "2026-04-22", 1, 0.1, NOW, NOW_MS, err, sizeof(err)), 0);
	assert_int_equal(journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_true(v == 100 + 0.1);
	assert_int_equal(journal_not_found(f->j, "a", NULL, 0, 0, NULL, NOW, err, sizeof(err)), 0);
	assert_int_equal(journal_hold(f->j, "a", NOW + 60, "closed", NOW, err, sizeof(err)), 0);
	assert_int_equal(journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(v == 0.1);
	assert_int_equal(journal_wake(f->j, "a", NOW, err, sizeof(err)), 0);
	assert_int_equal(journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_true(v == 100 + 0.1); /* in the file's order: a, then b */
	assert_int_equal(journal_usage(f->j, "2026-04-22", "a", &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(v == 0.1);
	assert_int_equal(journal_finish(f->j, "a", JS_REJECTED, NULL, NULL, NULL, 1, NAN, "no", NOW,
	                                err, sizeof(err)),
	                 0);
	assert_int_equal(journal_usage(f->j, "2026-04-22", NULL, &n, &v, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(v == 0.1);
}

static void test_the_open_count_is_recounted_after_a_rolled_back_batch(void **state)
{
	struct fx *f = *state;
	char err[256];

	s_add(f->j, "a");
	assert_int_equal(journal_open_entries(f->j), 1);
	assert_int_equal(journal_batch_begin(f->j, true, err, sizeof(err)), 0);
	s_add(f->j, "b");
	s_add(f->j, "c");
	assert_int_equal(journal_finish(f->j, "a", JS_FILLED, NULL, "p-1", "filled", 1, 10, "ok",
	                                NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(journal_open_entries(f->j), 2);
	journal_batch_abort(f->j);
	assert_int_equal(journal_open_entries(f->j), 1);
	assert_int_equal(journal_hold(f->j, "a", NOW + 60, "closed", NOW, err, sizeof(err)), 0);
	assert_int_equal(journal_open_entries(f->j), 1); /* held is open too */
	assert_int_equal(journal_finish(f->j, "a", JS_BLOCKED, NULL, NULL, NULL, 1, NAN, "x", NOW,
	                                err, sizeof(err)),
	                 0);
	assert_int_equal(journal_open_entries(f->j), 0);
	/* a second finish changes no row, and no count */
	assert_int_equal(journal_finish(f->j, "a", JS_FILLED, NULL, NULL, NULL, 1, NAN, "x", NOW,
	                                err, sizeof(err)),
	                 -1);
	assert_int_equal(journal_open_entries(f->j), 0);
}

/* The schema's CHECK on the state is not run on this connection: the
 * journal itself refuses every state that is not a final one. */
static void test_finish_refuses_a_state_that_is_not_a_final_one(void **state)
{
	struct fx *f = *state;
	struct journal_entry e;
	char err[256];

	s_add(f->j, "i1");
	assert_int_equal(journal_finish(f->j, "i1", (enum journal_state)99, NULL, NULL, NULL, 1,
	                                NAN, "x", NOW, err, sizeof(err)),
	                 -1);
	assert_int_equal(journal_finish(f->j, "i1", (enum journal_state) - 1, NULL, NULL, NULL, 1,
	                                NAN, "x", NOW, err, sizeof(err)),
	                 -1);
	e = s_get(f->j, "i1");
	assert_int_equal(e.state, JS_PENDING);
	journal_entry_free(&e);
	assert_int_equal(journal_open_entries(f->j), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		T(test_new_intent_is_pending_and_the_same_id_again_is_refused),
		T(test_the_intent_survives_a_reopen_field_for_field),
		T(test_begin_send_puts_the_entry_in_doubt_and_counts_the_attempt),
		T(test_a_lookup_that_finds_nothing_keeps_the_entry_in_doubt_and_is_recorded),
		T(test_finish_records_the_order_and_its_answer_once),
		T(test_pending_and_held_are_not_final_states),
		T(test_hold_then_wake_returns_to_pending),
		T(test_an_entry_in_doubt_cannot_be_held),
		T(test_due_lists_entries_in_doubt_first_and_respects_retry_times),
		T(test_usage_counts_the_days_sent_and_dry_run_orders_only),
		T(test_entries_of_another_broker_are_left_alone),
		T(test_state_names_round_trip),
		T(test_the_file_is_wal_and_readable_by_its_owner_only),
		T(test_a_batch_is_seen_by_others_only_once_it_commits),
		T(test_a_failed_step_inside_a_batch_undoes_only_itself),
		T(test_only_lazy_batches_commit_at_normal),
		T(test_an_aborted_batch_leaves_nothing),
		T(test_a_fresh_entry_is_what_get_reads_back),
		T(test_the_generation_moves_with_every_write_and_only_then),
		T(test_a_version_1_journal_loses_its_unused_client_index),
		T(test_a_version_2_journal_indexes_only_entries_with_a_day),
		T(test_a_version_3_journal_gets_send_times_no_earlier_than_the_truth),
		T(test_kept_usage_and_open_count_match_the_file_after_every_write),
		T(test_kept_usage_follows_an_order_through_hold_and_wake),
		T(test_the_open_count_is_recounted_after_a_rolled_back_batch),
		T(test_finish_refuses_a_state_that_is_not_a_final_one),
#undef T
	};

	log_init("test_journal", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
