/*
 * sizing.c - qty or notional of an intent (see sizing.h).
 */
#include "sizing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const s_names[] = {
	[SIZING_SHARES] = "shares",
	[SIZING_NOTIONAL] = "notional",
	[SIZING_EQUITY_FRACTION] = "equity_fraction",
};

int sizing_mode_parse(const char *s, enum sizing_mode *m)
{
	for (size_t i = 0; s != NULL && i < sizeof(s_names) / sizeof(s_names[0]); i++)
		if (strcmp(s, s_names[i]) == 0) {
			*m = (enum sizing_mode)i;
			return 0;
		}
	return -1;
}

const char *sizing_mode_name(enum sizing_mode m)
{
	if ((unsigned)m < sizeof(s_names) / sizeof(s_names[0]))
		return s_names[m];
	return "unknown";
}

/* Largest quantity or amount an intent may carry (record.c's limit). */
#define SIZING_MAX 1e15

static int s_positive(double x, double max, const char *what, char *err, size_t errlen)
{
	if (isfinite(x) && x > 0 && x <= max)
		return 0;
	snprintf(err, errlen, "sizing: %s must be > 0 and <= %g", what, max);
	return -1;
}

int sizing_check(const struct sizing_opts *o, char *err, size_t errlen)
{
	switch (o->mode) {
	case SIZING_SHARES:
		return s_positive(o->shares, SIZING_MAX, "shares", err, errlen);
	case SIZING_NOTIONAL:
		return s_positive(o->notional, SIZING_MAX, "notional", err, errlen);
	case SIZING_EQUITY_FRACTION:
		if (s_positive(o->fraction, 1, "fraction", err, errlen) < 0 ||
		    s_positive(o->equity, SIZING_MAX, "equity", err, errlen) < 0)
			return -1;
		return 0;
	}
	snprintf(err, errlen, "sizing: unknown mode");
	return -1;
}

void sizing_apply(const struct sizing_opts *o, intent_t *in)
{
	in->qty = NAN;
	in->notional = NAN;
	switch (o->mode) {
	case SIZING_SHARES:
		in->qty = o->shares;
		break;
	case SIZING_NOTIONAL:
		in->notional = o->notional;
		break;
	case SIZING_EQUITY_FRACTION:
		/* Cents: a notional is money. */
		in->notional = round(o->equity * o->fraction * 100.0) / 100.0;
		if (in->notional <= 0)
			in->notional = 0.01;
		break;
	}
}
