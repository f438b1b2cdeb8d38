/*
 * tradecheck.h - field-by-field checks of trade records, for the tests of
 * the scraper's parsers.
 */
#ifndef COATTAIL_TRADECHECK_H
#define COATTAIL_TRADECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* What one trade must hold.  NULL strings and NAN numbers mean "null". */
struct want_trade {
	const char *key;
	const char *accession;
	const char *url;
	const char *filed_at; /* RFC 3339, or NULL for null */
	const char *trade_date;
	const char *ticker;
	const char *issuer;
	const char *issuer_cik;
	const char *owner;
	const char *owner_cik;
	const char *title;
	unsigned roles;
	const char *code;
	double shares, price, value, shares_after;
	int8_t direct;
	bool planned, amendment;
};

/*
 * Fail the running cmocka test, naming `where` and the field, unless the
 * record is a trade from `source` holding exactly what w says.  A NULL
 * w->key is not compared (keys made from hashes are checked elsewhere).
 */
void check_trade(const record_t *r, const char *source, const struct want_trade *w,
                 const char *where);

/*
 * Every record validates, encodes to JSON (so its strings are valid
 * UTF-8), and no two share a key.
 */
void check_trades_sane(const record_t *items, size_t n, const char *where);

/* The trade with that key, or NULL. */
const record_t *find_trade(const record_t *items, size_t n, const char *key);

/* Numbers equal to within a relative 1e-9 (both NAN counts as equal). */
bool num_eq(double got, double want);

/* Is the string valid UTF-8? */
bool utf8_valid(const char *s);

#endif
