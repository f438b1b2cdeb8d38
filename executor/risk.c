/*
 * risk.c - the executor's limits (see risk.h).
 */
#include "risk.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

/* Money compared with a cent of tolerance, so 100.00 fits a 100 limit
 * whatever the binary fractions say. */
#define RISK_EPS 0.005

static bool s_listed(const char *const *list, size_t n, const char *ticker)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] != NULL && strcasecmp(list[i], ticker) == 0)
			return true;
	return false;
}

bool risk_ticker_allowed(const struct risk_limits *l, const char *ticker)
{
	if (s_listed(l->deny, l->n_deny, ticker))
		return false;
	return l->n_allow == 0 || s_listed(l->allow, l->n_allow, ticker);
}

double risk_order_value(const struct risk_order *o)
{
	if (!isnan(o->notional))
		return o->notional;
	if (!isnan(o->qty) && !isnan(o->ref_price))
		return o->qty * o->ref_price;
	return NAN;
}

int risk_check_order(const struct risk_limits *l, const struct risk_order *o, char *why, size_t len)
{
	double v = risk_order_value(o);

	if (s_listed(l->deny, l->n_deny, o->ticker)) {
		snprintf(why, len, "%s is on the deny list", o->ticker);
		return -1;
	}
	if (l->n_allow > 0 && !s_listed(l->allow, l->n_allow, o->ticker)) {
		snprintf(why, len, "%s is not on the allow list", o->ticker);
		return -1;
	}
	if (l->max_notional_per_order > 0) {
		if (isnan(v)) {
			snprintf(
			    why, len,
			    "cannot value the order (no ref_price) against max_notional_per_order");
			return -1;
		}
		if (v > l->max_notional_per_order + RISK_EPS) {
			snprintf(why, len, "order of %.2f USD exceeds max_notional_per_order %.2f",
			         v, l->max_notional_per_order);
			return -1;
		}
	}
	return 0;
}

int risk_check_day(const struct risk_limits *l, const struct risk_order *o, int64_t orders_today,
                   double notional_today, char *why, size_t len)
{
	double v = risk_order_value(o);

	if (l->max_orders_per_day > 0 && orders_today >= l->max_orders_per_day) {
		snprintf(why, len, "max_orders_per_day %lld reached",
		         (long long)l->max_orders_per_day);
		return -1;
	}
	if (l->max_notional_per_day > 0) {
		if (isnan(v)) {
			snprintf(
			    why, len,
			    "cannot value the order (no ref_price) against max_notional_per_day");
			return -1;
		}
		if (notional_today + v > l->max_notional_per_day + RISK_EPS) {
			snprintf(why, len,
			         "order of %.2f USD would take the day to %.2f, over "
			         "max_notional_per_day %.2f",
			         v, notional_today + v, l->max_notional_per_day);
			return -1;
		}
	}
	return 0;
}

int risk_check_position(const struct risk_limits *l, struct risk_order *o, double held, char *note,
                        size_t notelen, char *why, size_t len)
{
	if (notelen > 0)
		note[0] = '\0';
	if (o->side == SIDE_BUY) {
		double v = risk_order_value(o), after;

		if (l->max_position_per_ticker <= 0)
			return 0;
		if (isnan(v) || (held != 0 && isnan(o->ref_price))) {
			snprintf(why, len,
			         "cannot value the position (no ref_price) against "
			         "max_position_per_ticker");
			return -1;
		}
		after = (held != 0 ? held * o->ref_price : 0) + v;
		if (after > l->max_position_per_ticker + RISK_EPS) {
			snprintf(why, len,
			         "position in %s would be worth %.2f USD, over "
			         "max_position_per_ticker %.2f",
			         o->ticker, after, l->max_position_per_ticker);
			return -1;
		}
		return 0;
	}
	if (l->allow_short)
		return 0;
	if (!(held > 0)) {
		snprintf(why, len, "no position in %s to sell (short selling is off)", o->ticker);
		return -1;
	}
	{
		double want = o->qty;

		if (isnan(want) && !isnan(o->ref_price) && o->ref_price > 0)
			want = o->notional / o->ref_price;
		/* A notional sell without a price cannot be measured in shares:
		 * the broker refuses it if it is too large. */
		if (!isnan(want) && want > held) {
			snprintf(note, notelen, "sell cut from %g to the %g shares held", want,
			         held);
			o->qty = held;
			o->notional = NAN;
		}
	}
	return 0;
}
