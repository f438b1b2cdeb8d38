/*
 * Fuzz target: what the executor reads from a broker.  The same bytes go to
 * every Alpaca decoder (order, error, account, clock, asset, positions) and
 * every lemon.markets decoder (envelope, order, orders page, account,
 * positions, venue, instrument).  A decoded answer must be one the
 * executor can use: printable, NUL-terminated strings, sane numbers.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../executor/alpaca.h"
#include "../../executor/broker.h"
#include "../../executor/lemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A field the broker filled must end inside its array. */
static void s_terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void s_check_order(const struct broker_order *o)
{
	s_terminated(o->id, sizeof(o->id));
	s_terminated(o->client_id, sizeof(o->client_id));
	s_terminated(o->status, sizeof(o->status));
	s_terminated(o->reason, sizeof(o->reason));
	if (o->st != ORDER_SUBMITTED && o->st != ORDER_FILLED && o->st != ORDER_REJECTED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct broker_order o;
	struct broker_account acc;
	struct broker_clock clk;
	char err[256], why[256], msg[256], isin[32];
	bool b, found, more;
	double qty;
	json_t *root = NULL, *results = NULL;

	/* Alpaca */
	memset(&o, 0, sizeof(o));
	if (alpaca_parse_order(body, size, &o, err, sizeof(err)) == 0)
		s_check_order(&o);
	alpaca_error_message(body, size, msg, sizeof(msg));
	s_terminated(msg, sizeof(msg));
	(void)alpaca_is_duplicate_error(body, size);
	(void)alpaca_parse_account(body, size, &acc, err, sizeof(err));
	(void)alpaca_parse_clock(body, size, &clk, err, sizeof(err));
	(void)alpaca_parse_asset(body, size, &b, why, sizeof(why), err, sizeof(err));
	(void)alpaca_parse_positions(body, size, "AAPL", &qty, err, sizeof(err));

	/* lemon.markets */
	if (lemon_open_envelope(body, size, &root, &results, err, sizeof(err)) == 0) {
		if (json_is_object(results)) {
			memset(&o, 0, sizeof(o));
			if (lemon_parse_order(results, &o, err, sizeof(err)) == 0)
				s_check_order(&o);
			(void)lemon_order_matches(results, "k-1");
		}
		json_decref(root);
	}
	memset(&o, 0, sizeof(o));
	if (lemon_find_in_page(body, size, "k-1", &o, &found, &more, err, sizeof(err)) == 0 &&
	    found)
		s_check_order(&o);
	(void)lemon_parse_account(body, size, &acc, err, sizeof(err));
	(void)lemon_parse_positions(body, size, "US0378331005", &qty, err, sizeof(err));
	(void)lemon_parse_venue(body, size, "XMUN", &b, err, sizeof(err));
	if (lemon_parse_instrument(body, size, "AAPL", "XMUN", isin, sizeof(isin), &b, err,
	                           sizeof(err)) == 0)
		s_terminated(isin, sizeof(isin));
	return 0;
}
