/*
 * risk.h - the executor's limits, as pure functions of an order, the day's
 * usage and the position: no I/O here, so every rule is unit-tested alone.
 *
 * Each check returns 0 when the order may go, or -1 with `why` filled by a
 * sentence that ends up as the order event's reason ("blocked: ...").
 * A limit of 0 means "no limit".  Money is USD.
 */
#ifndef COATTAIL_RISK_H
#define COATTAIL_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct risk_limits {
	int64_t max_orders_per_day;
	double max_notional_per_order;
	double max_notional_per_day;
	double max_position_per_ticker; /* value of the position after a buy */
	const char *const *allow;       /* tickers allowed; none listed: all */
	size_t n_allow;
	const char *const *deny; /* tickers never traded */
	size_t n_deny;
	bool allow_short; /* sells beyond the position */
};

/* An order as risk control sees it; risk_check_position may resize it. */
struct risk_order {
	const char *ticker;
	enum side side;
	double qty;       /* shares, NAN when sized by notional */
	double notional;  /* USD, NAN when sized by qty */
	double ref_price; /* USD, NAN when unknown */
};

/* What the order is worth: notional, else qty x ref_price; NAN when
 * neither is known. */
double risk_order_value(const struct risk_order *o);

/* Deny list, allow list, and notional per order. */
int risk_check_order(const struct risk_limits *l, const struct risk_order *o, char *why,
                     size_t len);

/* Orders and notional per day, given what the day already used. */
int risk_check_day(const struct risk_limits *l, const struct risk_order *o, int64_t orders_today,
                   double notional_today, char *why, size_t len);

/*
 * The position rules, given the shares held now (negative: short).
 * A buy may not take the position's value (held x ref_price + the order)
 * past max_position_per_ticker.  A sell is limited to the shares held
 * unless allow_short: a larger sell is cut down to the position (o->qty
 * set, o->notional NAN, and `note` says so), and a sell with nothing held
 * is refused.  Returns 0 or -1.
 */
int risk_check_position(const struct risk_limits *l, struct risk_order *o, double held, char *note,
                        size_t notelen, char *why, size_t len);

/* Ticker on the allow list (or no list), and not on the deny list. */
bool risk_ticker_allowed(const struct risk_limits *l, const char *ticker);

#endif
