/*
 * test_paper.c - the paper broker's ledger: exact arithmetic of cash,
 * average cost and realized profit; refusals; one order per client id;
 * market hours from the NYSE calendar.
 *
 * Expected values are worked out by hand in the comments, in cents.
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

#include "log.h"
#include "timeutil.h"
#include "../../executor/paper.h"
#include "support/testutil.h"

#define OPEN   1776870000 /* Wed 2026-04-22 15:00Z = 11:00 ET */
#define CLOSED 1777129200 /* Sat 2026-04-25 15:00Z */

struct fx {
	char *dir;
	broker_t *b;
	int seq;
};

static broker_t *s_open(const char *dir, double cash, bool shorts)
{
	struct paper_opts o = { .state_dir = dir, .starting_cash = cash, .allow_short = shorts };
	char err[512];
	broker_t *b = paper_broker_new(&o, err, sizeof(err));

	if (b == NULL)
		fail_msg("%s", err);
	return b;
}

static int s_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	f->b = s_open(f->dir, 10000, false);
	time_set_now(OPEN);
	*state = f;
	return 0;
}

static int s_teardown(void **state)
{
	struct fx *f = *state;

	broker_free(&f->b);
	free(f->dir);
	free(f);
	time_set_now(TIME_UNSET);
	return 0;
}

/* Submit qty (or notional, when qty is NAN) of ticker at price with a
 * fresh client id; returns the outcome. */
static enum broker_outcome s_trade(struct fx *f, enum side side, const char *ticker, double qty,
                                   double notional, double price, struct broker_order *o)
{
	intent_t in = { .id = "x",
		        .ticker = (char *)ticker,
		        .side = side,
		        .qty = qty,
		        .notional = notional,
		        .ref_price = price };
	char cid[32];
	struct broker_req rq;

	snprintf(cid, sizeof(cid), "cid-%d", ++f->seq);
	rq = (struct broker_req){ .client_id = cid,
		                  .intent = &in,
		                  .side = side,
		                  .qty = qty,
		                  .notional = notional,
		                  .ref_price = price };
	return f->b->ops->submit(f->b->self, &rq, o);
}

static void s_expect(broker_t *b, double cash, double realized)
{
	struct paper_account a;

	assert_int_equal(paper_get_account(b, &a), 0);
	if (fabs(a.cash - cash) > 1e-9 || fabs(a.realized - realized) > 1e-9)
		fail_msg("cash %.6f realized %.6f, want %.6f and %.6f", a.cash, a.realized, cash,
		         realized);
}

static void s_expect_pos(broker_t *b, const char *t, double qty, double cost)
{
	struct paper_position p;

	assert_int_equal(paper_get_position(b, t, &p), 0);
	if (fabs(p.qty - qty) > 1e-9 || fabs(p.cost - cost) > 1e-9)
		fail_msg("%s: qty %.6f cost %.6f, want %.6f and %.6f", t, p.qty, p.cost, qty, cost);
}

static void test_a_buy_costs_exactly_qty_times_price(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	/* 3 x 12.34 = 37.02 */
	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", 3, NAN, 12.34, &o), BROKER_OK);
	assert_int_equal(o.st, ORDER_FILLED);
	assert_true(o.qty == 3 && o.price == 12.34);
	assert_string_equal(o.id, "paper-1");
	assert_string_equal(o.client_id, "cid-1");
	s_expect(f->b, 10000 - 37.02, 0);
	s_expect_pos(f->b, "AAPL", 3, 37.02);
}

static void test_two_buys_average_their_cost(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	/* 10 @ 10.00 + 30 @ 12.00 = 100 + 360 = 460 for 40: avg 11.50 */
	s_trade(f, SIDE_BUY, "AAPL", 10, NAN, 10.00, &o);
	s_trade(f, SIDE_BUY, "AAPL", 30, NAN, 12.00, &o);
	s_expect_pos(f->b, "AAPL", 40, 460);
	s_expect(f->b, 10000 - 460, 0);
}

static void test_a_sale_realizes_against_the_average_cost(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	/* buy 10 @ 12.34 (123.40), sell 4 @ 13.00 (52.00):
	 * basis out 123.40 x 4/10 = 49.36, realized 52.00 - 49.36 = 2.64,
	 * left 6 with basis 74.04; cash 10000 - 123.40 + 52.00 = 9928.60 */
	s_trade(f, SIDE_BUY, "AAPL", 10, NAN, 12.34, &o);
	assert_int_equal(s_trade(f, SIDE_SELL, "AAPL", 4, NAN, 13.00, &o), BROKER_OK);
	s_expect(f->b, 9928.60, 2.64);
	s_expect_pos(f->b, "AAPL", 6, 74.04);
	/* the rest at a loss: 6 @ 11.00 = 66.00 - 74.04 = -8.04 */
	assert_int_equal(s_trade(f, SIDE_SELL, "AAPL", 6, NAN, 11.00, &o), BROKER_OK);
	s_expect(f->b, 9994.60, 2.64 - 8.04);
	s_expect_pos(f->b, "AAPL", 0, 0);
}

static void test_a_third_of_a_basis_rounds_to_the_micro_dollar(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	/* 3 @ 10.00 = 30.00; sell 1 @ 10.00: basis out 10.00 exactly, then
	 * 3 @ 3.333333 = 9.999999, sell 1: basis out 3.333333 */
	s_trade(f, SIDE_BUY, "T", 3, NAN, 3.333333, &o);
	s_trade(f, SIDE_SELL, "T", 1, NAN, 3.333333, &o);
	s_expect_pos(f->b, "T", 2, 6.666666);
	s_expect(f->b, 10000 - 6.666666, 0);
	assert_int_equal(paper_value(1, 500000), 1); /* 0.5 rounds away from zero */
	assert_int_equal(paper_value(-1, 500000), -1);
	assert_int_equal(paper_value(3000000, 12340000), 37020000);
}

static void test_notional_buys_whole_shares(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	/* 100 USD at 30.00 buys 3 shares for 90.00 */
	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", NAN, 100, 30, &o), BROKER_OK);
	assert_true(o.qty == 3);
	s_expect(f->b, 9910, 0);
	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", NAN, 20, 30, &o), BROKER_REJECTED);
	assert_string_equal(o.reason, "paper: 20.00 USD buys less than one share at 30.00");
}

static void test_not_enough_cash_is_refused_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct broker_order o;
	struct paper_account a;

	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", 1000, NAN, 10.01, &o), BROKER_REJECTED);
	assert_string_equal(o.reason,
	                    "paper: insufficient cash: 10010.00 needed, 10000.00 available");
	s_expect(f->b, 10000, 0);
	s_expect_pos(f->b, "AAPL", 0, 0);
	paper_get_account(f->b, &a);
	assert_int_equal(a.orders, 0);
	/* exactly all the cash is fine */
	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", 1000, NAN, 10.00, &o), BROKER_OK);
	s_expect(f->b, 0, 0);
}

static void test_selling_more_than_held_is_refused_without_short_selling(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	s_trade(f, SIDE_BUY, "AAPL", 5, NAN, 10, &o);
	assert_int_equal(s_trade(f, SIDE_SELL, "AAPL", 6, NAN, 10, &o), BROKER_REJECTED);
	assert_string_equal(o.reason, "paper: selling 6 shares of AAPL but 5 held");
	s_expect_pos(f->b, "AAPL", 5, 50);
}

static void test_a_short_is_opened_and_covered_at_a_profit(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	broker_free(&f->b);
	f->b = s_open(f->dir, 10000, true);
	/* short 10 @ 20 (cash +200, basis -200), cover 4 @ 15:
	 * basis out -200 x 4/10 = -80, realized -(60) - (-80) = +20 */
	assert_int_equal(s_trade(f, SIDE_SELL, "T", 10, NAN, 20, &o), BROKER_OK);
	s_expect(f->b, 10200, 0);
	s_expect_pos(f->b, "T", -10, -200);
	assert_int_equal(s_trade(f, SIDE_BUY, "T", 4, NAN, 15, &o), BROKER_OK);
	s_expect(f->b, 10140, 20);
	s_expect_pos(f->b, "T", -6, -120);
	/* cross from -6 to +4 at 10: close 6 (realize -60 + 120 = 60), open 4 */
	assert_int_equal(s_trade(f, SIDE_BUY, "T", 10, NAN, 10, &o), BROKER_OK);
	s_expect(f->b, 10040, 80);
	s_expect_pos(f->b, "T", 4, 40);
}

static void test_a_client_id_fills_once_and_a_resend_answers_exists(void **state)
{
	struct fx *f = *state;
	intent_t in = { .id = "x",
		        .ticker = "AAPL",
		        .side = SIDE_BUY,
		        .qty = 2,
		        .notional = NAN,
		        .ref_price = 50 };
	struct broker_req rq = { .client_id = "same",
		                 .intent = &in,
		                 .side = SIDE_BUY,
		                 .qty = 2,
		                 .notional = NAN,
		                 .ref_price = 50 };
	struct broker_order o;
	struct paper_account a;

	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_OK);
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_EXISTS);
	paper_get_account(f->b, &a);
	assert_int_equal(a.orders, 1);
	s_expect(f->b, 9900, 0);
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_OK);
	assert_string_equal(o.id, "paper-1");
	assert_true(o.qty == 2 && o.price == 50);
	rq.client_id = "other";
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_NOT_FOUND);
}

static void test_market_orders_fill_only_in_the_nyse_session(void **state)
{
	struct fx *f = *state;
	struct broker_order o;
	struct broker_clock c;
	char err[64];

	time_set_now(CLOSED);
	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", 1, NAN, 10, &o), BROKER_REJECTED);
	assert_non_null(strstr(o.reason, "market closed"));
	assert_int_equal(f->b->ops->clock(f->b->self, &c, err, sizeof(err)), 0);
	assert_false(c.is_open);
	assert_int_equal(c.next_open, 1777296600); /* Mon 2026-04-27 13:30Z */
	time_set_now(OPEN);
	assert_int_equal(f->b->ops->clock(f->b->self, &c, err, sizeof(err)), 0);
	assert_true(c.is_open);
}

static void test_no_price_no_fill(void **state)
{
	struct fx *f = *state;
	struct broker_order o;

	assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", 1, NAN, NAN, &o), BROKER_REJECTED);
	assert_string_equal(o.reason, "paper: no reference price to fill at");
}

static void test_the_ledger_persists_and_keeps_its_own_starting_cash(void **state)
{
	struct fx *f = *state;
	struct broker_order o;
	struct paper_account a;
	double held;
	intent_t in = { .ticker = "AAPL" };
	char err[64];

	s_trade(f, SIDE_BUY, "AAPL", 7, NAN, 10, &o);
	broker_free(&f->b);
	f->b = s_open(f->dir, 555, false); /* a changed setting does not rewrite history */
	paper_get_account(f->b, &a);
	assert_true(a.starting_cash == 10000 && a.cash == 9930 && a.orders == 1);
	assert_int_equal(f->b->ops->position(f->b->self, &in, &held, err, sizeof(err)), 0);
	assert_true(held == 7);
}

static void test_buying_power_is_the_cash_left_after_every_fill(void **state)
{
	struct fx *f = *state;
	struct broker_order o;
	struct broker_account a;
	char err[64];

	/* Many orders through the kept statements: each answer is fresh. */
	for (int i = 1; i <= 20; i++) {
		assert_int_equal(s_trade(f, SIDE_BUY, "AAPL", 1, NAN, 10, &o), BROKER_OK);
		assert_int_equal(f->b->ops->account(f->b->self, &a, err, sizeof(err)), 0);
		assert_true(a.buying_power == 10000 - 10.0 * i);
		assert_string_equal(a.currency, "USD");
	}
	assert_int_equal(s_trade(f, SIDE_SELL, "AAPL", 5, NAN, 12, &o), BROKER_OK);
	assert_int_equal(f->b->ops->account(f->b->self, &a, err, sizeof(err)), 0);
	assert_true(a.buying_power == 10000 - 200 + 60);
	s_expect_pos(f->b, "AAPL", 15, 150);
	assert_string_equal(o.id, "paper-21");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		T(test_a_buy_costs_exactly_qty_times_price),
		T(test_two_buys_average_their_cost),
		T(test_a_sale_realizes_against_the_average_cost),
		T(test_a_third_of_a_basis_rounds_to_the_micro_dollar),
		T(test_notional_buys_whole_shares),
		T(test_not_enough_cash_is_refused_and_changes_nothing),
		T(test_selling_more_than_held_is_refused_without_short_selling),
		T(test_a_short_is_opened_and_covered_at_a_profit),
		T(test_a_client_id_fills_once_and_a_resend_answers_exists),
		T(test_market_orders_fill_only_in_the_nyse_session),
		T(test_no_price_no_fill),
		T(test_the_ledger_persists_and_keeps_its_own_starting_cash),
		T(test_buying_power_is_the_cash_left_after_every_fill),
#undef T
	};

	log_init("test_paper", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
