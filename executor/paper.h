/*
 * paper.h - the built-in paper broker's ledger, for tests and operators.
 *
 * The ledger (state_dir/paper.sqlite) keeps cash, positions and orders in
 * whole micro-units (1e-6 USD, 1e-6 share) so that its arithmetic is exact
 * integer arithmetic: a buy of 3 shares at 12.34 costs exactly 37.02.
 * Positions are valued at average cost; a sale realizes
 * proceeds - (cost basis x shares sold / shares held).  Short positions
 * (when allowed) carry a negative quantity and a negative basis, and the
 * same rule closes them.
 */
#ifndef COATTAIL_PAPER_H
#define COATTAIL_PAPER_H

#include <stdint.h>

#include "broker.h"

struct paper_account {
	double cash; /* USD */
	double starting_cash;
	double realized; /* realized profit and loss, USD */
	int64_t orders;  /* orders filled */
};

struct paper_position {
	double qty;  /* shares; negative when short */
	double cost; /* cost basis, USD (negative when short) */
};

/* b must come from paper_broker_new(); 0 or -1. */
int paper_get_account(broker_t *b, struct paper_account *a);
/* A ticker without a position reads as qty 0, cost 0. */
int paper_get_position(broker_t *b, const char *ticker, struct paper_position *p);

/* Micro-unit helpers (exposed for the tests of the arithmetic). */
int64_t paper_micros(double x);
/* value of qty_u micro-shares at price_u micro-USD, in micro-USD, rounded
 * half away from zero. */
int64_t paper_value(int64_t qty_u, int64_t price_u);

#endif
