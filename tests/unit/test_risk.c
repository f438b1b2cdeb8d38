/*
 * test_risk.c - the executor's limits: lists, notional per order and per
 * day, orders per day, the position rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "../../executor/risk.h"

static const char *const s_allow[] = { "AAPL", "msft" };
static const char *const s_deny[] = { "GME" };

static struct risk_order s_buy(const char *ticker, double qty, double price)
{
	return (struct risk_order){
		.ticker = ticker, .side = SIDE_BUY, .qty = qty, .notional = NAN, .ref_price = price
	};
}

static struct risk_order s_sell(const char *ticker, double qty, double price)
{
	struct risk_order o = s_buy(ticker, qty, price);

	o.side = SIDE_SELL;
	return o;
}

static void test_no_limits_let_everything_through(void **state)
{
	struct risk_limits l = { 0 };
	struct risk_order o = s_buy("AAPL", 1e6, 1e3);
	char why[256] = "", note[128];

	(void)state;
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), 0);
	assert_int_equal(risk_check_day(&l, &o, 1000000, 1e12, why, sizeof(why)), 0);
	assert_int_equal(risk_check_position(&l, &o, 1e6, note, sizeof(note), why, sizeof(why)), 0);
}

static void test_deny_list_blocks_and_says_so(void **state)
{
	struct risk_limits l = { .deny = s_deny, .n_deny = 1 };
	struct risk_order o = s_buy("GME", 1, 10);
	char why[256];

	(void)state;
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), -1);
	assert_string_equal(why, "GME is on the deny list");
	o.ticker = "AAPL";
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), 0);
}

static void test_allow_list_admits_only_its_tickers_in_any_case(void **state)
{
	struct risk_limits l = { .allow = s_allow, .n_allow = 2 };
	struct risk_order o = s_buy("MSFT", 1, 10);
	char why[256];

	(void)state;
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), 0);
	o.ticker = "TSLA";
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), -1);
	assert_string_equal(why, "TSLA is not on the allow list");
	assert_false(risk_ticker_allowed(&l, "TSLA"));
	assert_true(risk_ticker_allowed(&l, "aapl"));
}

static void test_deny_wins_over_allow(void **state)
{
	static const char *const both[] = { "GME" };
	struct risk_limits l = { .allow = both, .n_allow = 1, .deny = both, .n_deny = 1 };

	(void)state;
	assert_false(risk_ticker_allowed(&l, "GME"));
}

static void test_notional_per_order_counts_qty_times_price(void **state)
{
	struct risk_limits l = { .max_notional_per_order = 1000 };
	struct risk_order o = s_buy("AAPL", 100, 10.0); /* exactly 1000 */
	char why[256];

	(void)state;
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), 0);
	o.qty = 100.1;
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), -1);
	assert_string_equal(why, "order of 1001.00 USD exceeds max_notional_per_order 1000.00");
}

static void test_notional_intent_is_valued_at_its_notional(void **state)
{
	struct risk_limits l = { .max_notional_per_order = 500 };
	struct risk_order o = {
		.ticker = "AAPL", .side = SIDE_BUY, .qty = NAN, .notional = 600, .ref_price = NAN
	};
	char why[256];

	(void)state;
	assert_true(risk_order_value(&o) == 600);
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), -1);
}

static void test_an_order_without_a_price_cannot_pass_a_money_limit(void **state)
{
	struct risk_limits l = { .max_notional_per_order = 500 };
	struct risk_order o = s_buy("AAPL", 1, NAN);
	char why[256];

	(void)state;
	assert_true(isnan(risk_order_value(&o)));
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no ref_price"));
	l.max_notional_per_order = 0;
	assert_int_equal(risk_check_order(&l, &o, why, sizeof(why)), 0);
}

static void test_orders_per_day_stop_at_the_limit(void **state)
{
	struct risk_limits l = { .max_orders_per_day = 3 };
	struct risk_order o = s_buy("AAPL", 1, 10);
	char why[256];

	(void)state;
	assert_int_equal(risk_check_day(&l, &o, 2, 0, why, sizeof(why)), 0);
	assert_int_equal(risk_check_day(&l, &o, 3, 0, why, sizeof(why)), -1);
	assert_string_equal(why, "max_orders_per_day 3 reached");
}

static void test_notional_per_day_adds_this_order_to_the_day(void **state)
{
	struct risk_limits l = { .max_notional_per_day = 1000 };
	struct risk_order o = s_buy("AAPL", 10, 30); /* 300 */
	char why[256];

	(void)state;
	assert_int_equal(risk_check_day(&l, &o, 5, 700, why, sizeof(why)), 0);
	assert_int_equal(risk_check_day(&l, &o, 5, 700.01, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "over max_notional_per_day 1000.00"));
}

static void test_buy_may_not_take_the_position_past_its_limit(void **state)
{
	struct risk_limits l = { .max_position_per_ticker = 1000 };
	struct risk_order o = s_buy("AAPL", 10, 50); /* 500 more */
	char why[256], note[128];

	(void)state;
	assert_int_equal(risk_check_position(&l, &o, 10, note, sizeof(note), why, sizeof(why)),
	                 0); /* 500 held + 500 */
	assert_int_equal(risk_check_position(&l, &o, 11, note, sizeof(note), why, sizeof(why)), -1);
	assert_string_equal(why, "position in AAPL would be worth 1050.00 USD, over "
	                         "max_position_per_ticker 1000.00");
}

static void test_sell_with_nothing_held_is_refused_unless_short_selling(void **state)
{
	struct risk_limits l = { 0 };
	struct risk_order o = s_sell("AAPL", 5, 10);
	char why[256], note[128];

	(void)state;
	assert_int_equal(risk_check_position(&l, &o, 0, note, sizeof(note), why, sizeof(why)), -1);
	assert_string_equal(why, "no position in AAPL to sell (short selling is off)");
	assert_int_equal(risk_check_position(&l, &o, -3, note, sizeof(note), why, sizeof(why)), -1);
	l.allow_short = true;
	assert_int_equal(risk_check_position(&l, &o, 0, note, sizeof(note), why, sizeof(why)), 0);
	assert_true(o.qty == 5);
}

static void test_sell_larger_than_the_position_is_cut_to_it(void **state)
{
	struct risk_limits l = { 0 };
	struct risk_order o = s_sell("AAPL", 50, 10);
	char why[256], note[128];

	(void)state;
	assert_int_equal(risk_check_position(&l, &o, 30, note, sizeof(note), why, sizeof(why)), 0);
	assert_true(o.qty == 30);
	assert_string_equal(note, "sell cut from 50 to the 30 shares held");
	o = s_sell("AAPL", 20, 10);
	assert_int_equal(risk_check_position(&l, &o, 30, note, sizeof(note), why, sizeof(why)), 0);
	assert_true(o.qty == 20);
	assert_string_equal(note, "");
}

static void test_notional_sell_is_measured_in_shares_at_the_ref_price(void **state)
{
	struct risk_limits l = { 0 };
	struct risk_order o = {
		.ticker = "AAPL", .side = SIDE_SELL, .qty = NAN, .notional = 1000, .ref_price = 10
	};
	char why[256], note[128];

	(void)state;
	assert_int_equal(risk_check_position(&l, &o, 40, note, sizeof(note), why, sizeof(why)), 0);
	assert_true(o.qty == 40);
	assert_true(isnan(o.notional));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_limits_let_everything_through),
		cmocka_unit_test(test_deny_list_blocks_and_says_so),
		cmocka_unit_test(test_allow_list_admits_only_its_tickers_in_any_case),
		cmocka_unit_test(test_deny_wins_over_allow),
		cmocka_unit_test(test_notional_per_order_counts_qty_times_price),
		cmocka_unit_test(test_notional_intent_is_valued_at_its_notional),
		cmocka_unit_test(test_an_order_without_a_price_cannot_pass_a_money_limit),
		cmocka_unit_test(test_orders_per_day_stop_at_the_limit),
		cmocka_unit_test(test_notional_per_day_adds_this_order_to_the_day),
		cmocka_unit_test(test_buy_may_not_take_the_position_past_its_limit),
		cmocka_unit_test(test_sell_with_nothing_held_is_refused_unless_short_selling),
		cmocka_unit_test(test_sell_larger_than_the_position_is_cut_to_it),
		cmocka_unit_test(test_notional_sell_is_measured_in_shares_at_the_ref_price),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
