/*
 * sizing.h - how much an intent asks for.
 *
 * The original bought a fixed number of shares (1).  coattail's default is a
 * fixed amount of money; a fraction of a given equity is the third way.  An
 * intent carries exactly one of qty (shares) and notional (USD); the
 * executor turns a notional into shares at the broker's price.
 */
#ifndef COATTAIL_SIZING_H
#define COATTAIL_SIZING_H

#include <stddef.h>

#include "record.h"

enum sizing_mode {
	SIZING_SHARES,          /* qty = shares */
	SIZING_NOTIONAL,        /* notional = notional */
	SIZING_EQUITY_FRACTION, /* notional = equity * fraction */
};

struct sizing_opts {
	enum sizing_mode mode;
	double shares;   /* SIZING_SHARES: shares per intent, > 0 */
	double notional; /* SIZING_NOTIONAL: USD per intent, > 0 */
	double fraction; /* SIZING_EQUITY_FRACTION: of equity, in (0, 1] */
	double equity;   /* SIZING_EQUITY_FRACTION: account equity in USD, > 0 */
};

/* "shares", "notional", "equity_fraction" -> mode; 0 or -1. */
int sizing_mode_parse(const char *s, enum sizing_mode *m);
const char *sizing_mode_name(enum sizing_mode m);

/* The parameters the mode uses are in range; 0, or -1 with err filled. */
int sizing_check(const struct sizing_opts *o, char *err, size_t errlen);

/* Set in->qty or in->notional (the other NAN) from o, which passed
 * sizing_check. */
void sizing_apply(const struct sizing_opts *o, intent_t *in);

#endif
