/*
 * test_record.c - the record codecs: round trips of every record type, and
 * hostile msgpack and JSON that must cost one record, never the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "record.h"
#include "timeutil.h"

static char *s_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void s_make_trade(record_t *r)
{
	trade_t *t = &r->u.trade;

	record_init(r, REC_TRADE);
	t->key = s_strdup("edgar:0001209191-22-001234:1");
	t->source = s_strdup("edgar");
	t->accession = s_strdup("0001209191-22-001234");
	t->url = s_strdup("https://www.sec.gov/Archives/edgar/data/1/000120919122001234/x.xml");
	time_parse_rfc3339("2022-01-06T21:05:31Z", &t->filed_at);
	strcpy(t->trade_date, "2022-01-04");
	t->ticker = s_strdup("ACME");
	t->issuer = s_strdup("Acme & Sons, Inc.");
	t->issuer_cik = s_strdup("0000012345");
	t->owner = s_strdup("Roe Jane \"JR\"");
	t->owner_cik = s_strdup("0001234567");
	t->title = s_strdup("Pres. & CEO\tline\n2");
	t->roles = ROLE_OFFICER | ROLE_DIRECTOR;
	strcpy(t->code, "P");
	t->shares = 196.356;
	t->price = 12.34;
	t->value = 2423.03;
	t->shares_after = 0;
	t->direct = 0;
	t->planned = true;
	t->amendment = false;
}

static void s_make_intent(record_t *r)
{
	intent_t *in = &r->u.intent;

	record_init(r, REC_INTENT);
	in->id = s_strdup("3f2a9c");
	in->rule = s_strdup("cluster_buy");
	in->side = SIDE_BUY;
	in->ticker = s_strdup("ACME");
	in->figi = s_strdup("BBG000BLNNH6");
	in->notional = 1000;
	in->ref_price = 12.34;
	in->n_evidence = 3;
	in->evidence = calloc(3, sizeof(char *));
	in->evidence[0] = s_strdup("a");
	in->evidence[1] = s_strdup("b");
	in->evidence[2] = s_strdup("c");
	in->reason = s_strdup("3 executives bought ACME within 7 days");
	in->created_at = 1700000000;
	in->expires_at = 1700172800;
}

/* Encode with both codecs, decode again, re-encode: the bytes must agree. */
static void s_round_trip(record_t *r)
{
	char err[256], *mp, *mp2, *js, *js2;
	size_t mplen, mplen2, jslen, jslen2;
	record_t back;

	assert_int_equal(record_to_msgpack(r, &mp, &mplen, err, sizeof(err)), 0);
	assert_int_equal(record_from_msgpack(mp, mplen, &back, err, sizeof(err)), 0);
	assert_int_equal(record_to_msgpack(&back, &mp2, &mplen2, err, sizeof(err)), 0);
	assert_int_equal(mplen, mplen2);
	assert_memory_equal(mp, mp2, mplen);
	record_free(&back);

	assert_int_equal(record_to_json(r, &js, &jslen, err, sizeof(err)), 0);
	assert_int_equal(record_from_json(js, jslen, &back, err, sizeof(err)), 0);
	assert_int_equal(record_to_json(&back, &js2, &jslen2, err, sizeof(err)), 0);
	assert_string_equal(js, js2);
	record_free(&back);
	free(mp);
	free(mp2);
	free(js);
	free(js2);
}

static void test_trade_round_trips_through_msgpack_and_json(void **state)
{
	record_t r;
	(void)state;
	s_make_trade(&r);
	s_round_trip(&r);
	r.u.trade.instrument = calloc(1, sizeof(instrument_t));
	instrument_init(r.u.trade.instrument);
	r.u.trade.instrument->figi = s_strdup("BBG000BLNNH6");
	r.u.trade.instrument->market_cap = 123456789012.5;
	s_round_trip(&r);
	record_free(&r);
}

static void test_intent_order_drop_stats_round_trip(void **state)
{
	record_t r;
	(void)state;
	s_make_intent(&r);
	s_round_trip(&r);
	record_free(&r);

	record_init(&r, REC_ORDER);
	r.u.order.intent = s_strdup("3f2a9c");
	r.u.order.broker = s_strdup("paper");
	r.u.order.status = ORDER_FILLED;
	r.u.order.qty = 81;
	r.u.order.price = 12.34;
	r.u.order.at = 1700000000;
	s_round_trip(&r);
	record_free(&r);

	record_init(&r, REC_DROP);
	r.u.drop.stage = s_strdup("decider");
	r.u.drop.reason = s_strdup("0.4% of holdings");
	s_round_trip(&r);
	record_free(&r);

	record_init(&r, REC_STATS);
	r.u.stats.stage = s_strdup("mapper");
	r.u.stats.in = INT64_MAX;
	r.u.stats.out = 7;
	s_round_trip(&r);
	record_free(&r);
}

static void test_json_prints_whole_numbers_as_integers_and_nulls(void **state)
{
	char err[256], *js;
	size_t len;
	record_t r;
	(void)state;
	s_make_trade(&r);
	r.u.trade.shares = 12000;
	r.u.trade.price = REC_NULL_NUM;
	r.u.trade.direct = REC_TRI_NULL;
	assert_int_equal(record_to_json(&r, &js, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(js, "\"shares\":12000,"));
	assert_non_null(strstr(js, "\"price\":null,"));
	assert_non_null(strstr(js, "\"direct\":null,"));
	assert_non_null(strstr(js, "\"value\":2423.03,"));
	assert_non_null(strstr(js, "\"roles\":[\"director\",\"officer\"]"));
	assert_non_null(strstr(js, "\"title\":\"Pres. & CEO\\tline\\n2\""));
	assert_true(strncmp(js, "{\"type\":\"trade\",\"v\":1,", 22) == 0);
	free(js);
	record_free(&r);
}

static void s_expect_reject(const void *buf, size_t len, const char *needle)
{
	char err[256] = "";
	record_t r;

	assert_int_equal(record_from_msgpack(buf, len, &r, err, sizeof(err)), -1);
	assert_int_equal(r.type, REC_NONE);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_huge_array_count_is_refused_before_allocation(void **state)
{
	const unsigned char arr[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	const unsigned char map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0 };
	const unsigned char arr16[] = { 0xdc, 0xff, 0xff, 0xc0, 0xc0 };
	(void)state;
	s_expect_reject(arr, sizeof(arr), "array of 4294967295 entries");
	s_expect_reject(map, sizeof(map), "map of 4294967295 entries");
	s_expect_reject(arr16, sizeof(arr16), "array of 65535 entries");
}

static void test_deep_nesting_is_refused(void **state)
{
	unsigned char buf[64];
	size_t n = 0;
	(void)state;
	for (int i = 0; i < 40; i++)
		buf[n++] = 0x91; /* array of one */
	buf[n++] = 0xc0;
	s_expect_reject(buf, n, "nested deeper");
}

/* A valid record, then every truncation of it and one trailing byte. */
static void test_truncation_and_trailing_bytes_are_refused(void **state)
{
	char err[256], *mp;
	size_t len;
	record_t r, back;
	(void)state;
	s_make_trade(&r);
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(record_from_msgpack(mp, cut, &back, err, sizeof(err)), -1);
	mp = realloc(mp, len + 1);
	mp[len] = (char)0xc0;
	s_expect_reject(mp, len + 1, "trailing");
	free(mp);
	record_free(&r);
}

/* Build a map from JSON-like pairs with msgpack-c, for wrong-type cases. */
static void test_wrong_types_unknown_version_and_keys_are_refused(void **state)
{
	static const struct {
		const char *json;
		const char *needle;
	} cases[] = {
		{ "{\"type\":\"trade\",\"v\":2}", "version 2 unknown" },
		{ "{\"type\":\"trade\"}", "without a version" },
		{ "{\"type\":\"bogus\",\"v\":1}", "known \"type\"" },
		{ "{\"type\":\"trade\",\"v\":1,\"key\":5}", "key: expected a string" },
		{ "{\"type\":\"stats\",\"v\":1,\"stage\":\"m\",\"in\":-1}", "in: wrong type" },
		{ "{\"type\":\"stats\",\"v\":1,\"stage\":\"m\",\"zzz\":1}", "unknown key 'zzz'" },
		{ "{\"type\":\"intent\",\"v\":1,\"side\":\"hold\"}", "side: unknown value" },
		{ "{\"type\":\"trade\",\"v\":1,\"trade_date\":\"2022-13-01\",\"key\":\"k\","
		  "\"source\":\"s\",\"ticker\":\"A\",\"issuer\":\"i\",\"owner\":\"o\",\"code\":"
		  "\"P\","
		  "\"shares\":1,\"planned\":false,\"amendment\":false}",
		  "trade_date" },
		{ "{\"type\":\"trade\",\"v\":1,\"trade_date\":\"2022-12-01\",\"key\":\"k\","
		  "\"source\":\"s\",\"ticker\":\"A\",\"issuer\":\"i\",\"owner\":\"o\",\"code\":"
		  "\"P\","
		  "\"shares\":1e400,\"planned\":false,\"amendment\":false}",
		  "json" },
		{ "{\"type\":\"trade\",\"v\":1,\"trade_date\":\"2022-12-01\",\"key\":\"k\","
		  "\"source\":\"s\",\"ticker\":\"A\",\"issuer\":\"i\",\"owner\":\"o\",\"code\":"
		  "\"P\","
		  "\"shares\":1,\"planned\":\"no\",\"amendment\":false}",
		  "planned: wrong type" },
		{ "{\"type\":\"trade\",\"v\":1,\"trade_date\":\"2022-12-01\",\"key\":\"k\","
		  "\"source\":\"s\",\"ticker\":\"A\",\"issuer\":\"i\",\"owner\":\"o\",\"code\":"
		  "\"P\","
		  "\"shares\":1,\"planned\":false,\"amendment\":false,\"filed_at\":\"yesterday\"}",
		  "RFC 3339" },
		{ "{\"type\":\"trade\",\"v\":1,\"key\":\"a\",\"key\":\"b\"}", "duplicate" },
		{ "[1,2,3]", "not an object" },
		{ "{\"type\":\"trade\",\"v\":1} trailing", "json" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		record_t r;
		int rc =
		    record_from_json(cases[i].json, strlen(cases[i].json), &r, err, sizeof(err));
		if (rc != -1 || strstr(err, cases[i].needle) == NULL)
			fail_msg("case %zu: rc %d, error '%s', wanted '%s'", i, rc, err,
			         cases[i].needle);
	}
}

static void test_invalid_utf8_and_oversized_strings_are_refused(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char big[RECORD_MAX_STR + 10];
	(void)state;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "type", 4);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "drop", 4);
	msgpack_pack_str(&pk, 1);
	msgpack_pack_str_body(&pk, "v", 1);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_str(&pk, 5);
	msgpack_pack_str_body(&pk, "stage", 5);
	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "\xc3\x28x", 3);
	s_expect_reject(sb.data, sb.size, "UTF-8");
	msgpack_sbuffer_clear(&sb);

	memset(big, 'a', sizeof(big));
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "type", 4);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "drop", 4);
	msgpack_pack_str(&pk, 1);
	msgpack_pack_str_body(&pk, "v", 1);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_str(&pk, 5);
	msgpack_pack_str_body(&pk, "stage", 5);
	msgpack_pack_str(&pk, sizeof(big));
	msgpack_pack_str_body(&pk, big, sizeof(big));
	s_expect_reject(sb.data, sb.size, "more than");
	msgpack_sbuffer_destroy(&sb);
}

static void test_oversized_message_is_refused(void **state)
{
	size_t len = RECORD_MAX_BYTES + 1;
	char *buf = calloc(1, len);
	(void)state;
	s_expect_reject(buf, len, "more than");
	free(buf);
}

static void test_encoding_an_invalid_record_fails_with_reason(void **state)
{
	char err[256], *mp;
	size_t len;
	record_t r;
	(void)state;
	s_make_trade(&r);
	r.u.trade.shares = 0;
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shares"));
	r.u.trade.shares = 1;
	free(r.u.trade.ticker);
	r.u.trade.ticker = strdup("acme");
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "upper case"));
	record_free(&r);

	s_make_intent(&r);
	r.u.intent.qty = 5; /* both qty and notional */
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exactly one"));
	record_free(&r);
}

static void test_record_copy_is_deep(void **state)
{
	record_t a, b;
	(void)state;
	s_make_intent(&a);
	assert_int_equal(record_copy(&b, &a), 0);
	assert_ptr_not_equal(a.u.intent.evidence, b.u.intent.evidence);
	assert_string_equal(b.u.intent.evidence[2], "c");
	record_free(&a);
	assert_string_equal(b.u.intent.reason, "3 executives bought ACME within 7 days");
	record_free(&b);
}

/* Random bytes must never crash the decoder (a tiny in-test fuzz; the real
 * fuzz target lives in tests/fuzz). */
static void test_random_bytes_never_crash_the_decoder(void **state)
{
	char err[256], *mp;
	size_t len;
	record_t r, back;
	unsigned seed = 12345;
	(void)state;
	s_make_trade(&r);
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
	for (int i = 0; i < 20000; i++) {
		char *m = malloc(len);
		memcpy(m, mp, len);
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % len] = (char)(seed >> 16);
		}
		if (record_from_msgpack(m, len, &back, err, sizeof(err)) == 0)
			record_free(&back);
		free(m);
	}
	free(mp);
	record_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trade_round_trips_through_msgpack_and_json),
		cmocka_unit_test(test_intent_order_drop_stats_round_trip),
		cmocka_unit_test(test_json_prints_whole_numbers_as_integers_and_nulls),
		cmocka_unit_test(test_huge_array_count_is_refused_before_allocation),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_truncation_and_trailing_bytes_are_refused),
		cmocka_unit_test(test_wrong_types_unknown_version_and_keys_are_refused),
		cmocka_unit_test(test_invalid_utf8_and_oversized_strings_are_refused),
		cmocka_unit_test(test_oversized_message_is_refused),
		cmocka_unit_test(test_encoding_an_invalid_record_fails_with_reason),
		cmocka_unit_test(test_record_copy_is_deep),
		cmocka_unit_test(test_random_bytes_never_crash_the_decoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
