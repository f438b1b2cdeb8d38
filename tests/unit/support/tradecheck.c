/*
 * tradecheck.c - field-by-field checks of trade records (see tradecheck.h).
 */
#include "tradecheck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

bool num_eq(double got, double want)
{
	if (isnan(got) || isnan(want))
		return isnan(got) && isnan(want);
	return fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
}

static bool s_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

#define STR(field)                                                                                 \
	do {                                                                                       \
		if (!s_str_eq(t->field, w->field)) {                                               \
			print_error("%s: %s: got '%s', want '%s'\n", where, #field,                \
			            t->field ? t->field : "(null)",                                \
			            w->field ? w->field : "(null)");                               \
			fail();                                                                    \
		}                                                                                  \
	} while (0)
#define NUM(field)                                                                                 \
	do {                                                                                       \
		if (!num_eq(t->field, w->field)) {                                                 \
			print_error("%s: %s: got %.10g, want %.10g\n", where, #field, t->field,    \
			            w->field);                                                     \
			fail();                                                                    \
		}                                                                                  \
	} while (0)
#define INT(field)                                                                                 \
	do {                                                                                       \
		if ((long)t->field != (long)w->field) {                                            \
			print_error("%s: %s: got %ld, want %ld\n", where, #field, (long)t->field,  \
			            (long)w->field);                                               \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

void check_trade(const record_t *r, const char *source, const struct want_trade *w,
                 const char *where)
{
	const trade_t *t;
	char filed[TIME_RFC3339_LEN] = "";

	if (r == NULL) {
		print_error("%s: no such trade (key %s)\n", where, w->key ? w->key : "?");
		fail();
		return;
	}
	assert_int_equal(r->type, REC_TRADE);
	t = &r->u.trade;
	if (w->key != NULL)
		STR(key);
	if (!s_str_eq(t->source, source)) {
		print_error("%s: source: got '%s', want '%s'\n", where, t->source, source);
		fail();
	}
	STR(accession);
	STR(url);
	if (t->filed_at != REC_NULL_TIME)
		time_format_rfc3339(t->filed_at, filed, sizeof(filed));
	if (!s_str_eq(t->filed_at == REC_NULL_TIME ? NULL : filed, w->filed_at)) {
		print_error("%s: filed_at: got '%s', want '%s'\n", where,
		            t->filed_at == REC_NULL_TIME ? "(null)" : filed,
		            w->filed_at ? w->filed_at : "(null)");
		fail();
	}
	STR(trade_date);
	STR(ticker);
	STR(issuer);
	STR(issuer_cik);
	STR(owner);
	STR(owner_cik);
	STR(title);
	INT(roles);
	STR(code);
	NUM(shares);
	NUM(price);
	NUM(value);
	NUM(shares_after);
	INT(direct);
	INT(planned);
	INT(amendment);
	assert_null(t->instrument);
}

bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;
		if (*p < 0x80)
			n = 0;
		else if (*p >= 0xC2 && *p <= 0xDF)
			n = 1;
		else if (*p >= 0xE0 && *p <= 0xEF)
			n = 2;
		else if (*p >= 0xF0 && *p <= 0xF4)
			n = 3;
		else
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return false;
	}
	return true;
}

void check_trades_sane(const record_t *items, size_t n, const char *where)
{
	char err[256];

	for (size_t i = 0; i < n; i++) {
		const trade_t *t = &items[i].u.trade;
		char *json = NULL;
		size_t len = 0;

		if (record_validate(&items[i], err, sizeof(err)) != 0) {
			print_error("%s: trade %zu does not validate: %s\n", where, i, err);
			fail();
		}
		if (record_to_json(&items[i], &json, &len, err, sizeof(err)) != 0) {
			print_error("%s: trade %zu does not encode: %s\n", where, i, err);
			fail();
		}
		free(json);
		const char *strs[] = { t->key,   t->accession, t->url,   t->ticker,    t->issuer,
			               t->owner, t->owner_cik, t->title, t->issuer_cik };
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
			if (strs[k] != NULL && !utf8_valid(strs[k])) {
				print_error("%s: trade %zu has invalid UTF-8\n", where, i);
				fail();
			}
		for (size_t j = 0; j < i; j++)
			if (strcmp(items[j].u.trade.key, t->key) == 0) {
				print_error("%s: trades %zu and %zu share key %s\n", where, j, i,
				            t->key);
				fail();
			}
	}
}

const record_t *find_trade(const record_t *items, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].u.trade.key, key) == 0)
			return &items[i];
	return NULL;
}
