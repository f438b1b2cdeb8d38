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
#include <jansson.h>
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

/* A decoded record keeps its strings and instrument in one block: a deep
 * copy outlives it, its instrument can be replaced through
 * record_clear_instrument, and a field set afterwards on its own is still
 * freed by record_free (the sanitizer build checks every free). */
static void test_a_decoded_record_owns_one_block(void **state)
{
	char err[256], *mp;
	size_t len;
	record_t r, back, copy;
	instrument_t *ins;
	(void)state;

	s_make_trade(&r);
	r.u.trade.instrument = calloc(1, sizeof(instrument_t));
	instrument_init(r.u.trade.instrument);
	r.u.trade.instrument->figi = s_strdup("BBG000BLNNH6");
	r.u.trade.instrument->name = s_strdup("ACME CORP");
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
	assert_int_equal(record_from_msgpack(mp, len, &back, err, sizeof(err)), 0);
	assert_non_null(back.block);
	assert_true(back.u.trade.key >= back.block &&
	            back.u.trade.key < back.block + back.block_len);
	assert_true((char *)back.u.trade.instrument >= back.block &&
	            (char *)back.u.trade.instrument < back.block + back.block_len);

	assert_int_equal(record_copy(&copy, &back), 0);
	assert_null(copy.block);
	record_free(&back);
	assert_string_equal(copy.u.trade.owner, "Roe Jane \"JR\"");
	assert_string_equal(copy.u.trade.instrument->name, "ACME CORP");
	record_free(&copy);

	assert_int_equal(record_from_msgpack(mp, len, &back, err, sizeof(err)), 0);
	record_clear_instrument(&back);
	assert_null(back.u.trade.instrument);
	ins = calloc(1, sizeof(*ins));
	assert_non_null(ins);
	instrument_init(ins);
	ins->figi = s_strdup("BBG000B9XRY4");
	back.u.trade.instrument = ins;
	back.u.trade.title = s_strdup("Chief Executive Officer");
	record_free(&back);
	assert_null(back.block);

	record_clear_instrument(&r); /* a built record's instrument too */
	assert_null(r.u.trade.instrument);
	record_free(&r);
	free(mp);
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

/* Nested containers whose counts each fit the bytes left but not all
 * together (a map of 70 entries holding another of 70 in 150 bytes) are
 * refused as truncated, without building more tree than the bytes allow
 * (the decoder's node pool is sized by the message: ASan would see it). */
static void test_nested_counts_claiming_more_than_the_bytes_are_refused(void **state)
{
	unsigned char buf[150], big[400];
	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = 0xde; /* map16 of 70 */
	buf[2] = 70;
	buf[3] = 0xa0; /* key "" */
	buf[4] = 0xde; /* value: map16 of 70, of 0: 0 */
	buf[6] = 70;
	s_expect_reject(buf, sizeof(buf), "truncated");
	/* the same past the stack pool, in the per-thread one */
	memset(big, 0, sizeof(big));
	big[0] = 0xde;
	big[2] = 195;
	big[3] = 0xa0;
	big[4] = 0xde;
	big[6] = 195;
	s_expect_reject(big, sizeof(big), "truncated");
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

/* The check goes word by word with overlapping loads: a bad byte at any
 * position of any length is found, and nothing outside the string (here
 * bytes that would be bad, in an allocation of exactly n) is looked at. */
static void test_utf8_check_finds_a_bad_byte_at_every_position(void **state)
{
	static const unsigned char bad[] = { 0x00, 0x80, 0xc0, 0xff };
	(void)state;

	for (size_t n = 0; n <= 40; n++) {
		unsigned char *s = malloc(n + 1), *exact = malloc(n ? n : 1);

		assert_non_null(s);
		assert_non_null(exact);
		memset(s, 'a', n);
		s[n] = 0xff; /* past the end: never read */
		assert_true(record_utf8_valid((const char *)s, n));
		memcpy(exact, s, n);
		assert_true(record_utf8_valid((const char *)exact, n));
		for (size_t pos = 0; pos < n; pos++) {
			for (size_t k = 0; k < sizeof(bad); k++) {
				s[pos] = bad[k];
				if (record_utf8_valid((const char *)s, n))
					fail_msg("byte 0x%02x at %zu of %zu taken", bad[k], pos, n);
				s[pos] = 'a';
			}
			if (pos + 1 < n) { /* a valid two-byte character there */
				s[pos] = 0xc3;
				s[pos + 1] = 0xa9;
				assert_true(record_utf8_valid((const char *)s, n));
				s[pos] = s[pos + 1] = 'a';
			}
		}
		free(s);
		free(exact);
	}
}

/* Strings of every short length come back whole from the decoder (which
 * copies them with overlapping loads and stores). */
static void test_strings_of_every_short_length_round_trip(void **state)
{
	char text[48], err[256], *mp;
	size_t len;
	record_t r, back;
	(void)state;

	for (size_t n = 0; n < sizeof(text); n++) {
		for (size_t i = 0; i < n; i++)
			text[i] = (char)('A' + (i * 7 + n) % 26);
		text[n] = '\0';
		record_init(&r, REC_DROP);
		r.u.drop.stage = "mapper";
		r.u.drop.key = text;
		r.u.drop.reason = "why";
		assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
		assert_int_equal(record_from_msgpack(mp, len, &back, err, sizeof(err)), 0);
		assert_string_equal(back.u.drop.key, text);
		assert_string_equal(back.u.drop.stage, "mapper");
		record_free(&back);
		free(mp);
	}
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

/* ---- the codecs against the libraries they replaced ----
 *
 * record_from_json used to parse with jansson and pack the tree with
 * msgpack-c; record_to_msgpack packed with msgpack-c; record_msgpack_to_json
 * unpacked with msgpack-c.  The references below are those implementations,
 * kept here so that the hand-written codecs must agree with them: the same
 * lines accepted and refused, the same bytes out. */

static int s_ref_pack_json(msgpack_packer *pk, const json_t *j, int depth)
{
	if (depth > 4)
		return -1;
	switch (json_typeof(j)) {
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j));
	case JSON_STRING:
		msgpack_pack_str(pk, json_string_length(j));
		return msgpack_pack_str_body(pk, json_string_value(j), json_string_length(j));
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
		{
			if (s_ref_pack_json(pk, v, depth + 1) != 0)
				return -1;
		}
		return 0;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)j, k, v)
		{
			msgpack_pack_str(pk, strlen(k));
			msgpack_pack_str_body(pk, k, strlen(k));
			if (s_ref_pack_json(pk, v, depth + 1) != 0)
				return -1;
		}
		return 0;
	}
	}
	return -1;
}

/* The old record_from_json, ending in record_to_msgpack: 0 with *mp, or -1. */
static int s_ref_json_to_mp(const char *line, size_t len, char **mp, size_t *mplen)
{
	char err[256];
	json_error_t jerr;
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	msgpack_sbuffer sb;
	msgpack_packer pk;
	record_t r;
	int rc = -1;

	if (root == NULL)
		return -1;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (json_is_object(root) && s_ref_pack_json(&pk, root, 1) == 0 &&
	    record_from_msgpack(sb.data, sb.size, &r, err, sizeof(err)) == 0) {
		rc = record_to_msgpack(&r, mp, mplen, err, sizeof(err));
		record_free(&r);
	}
	msgpack_sbuffer_destroy(&sb);
	json_decref(root);
	return rc;
}

static void s_expect_same_as_jansson(const char *line, size_t len)
{
	char err[256], *mp = NULL, *ref = NULL;
	size_t mplen = 0, reflen = 0;
	record_t r;
	int rc = record_from_json(line, len, &r, err, sizeof(err));
	int rrc = s_ref_json_to_mp(line, len, &ref, &reflen);

	if (rc == 0) {
		assert_int_equal(record_to_msgpack(&r, &mp, &mplen, err, sizeof(err)), 0);
		record_free(&r);
	}
	if (rc != rrc)
		fail_msg("'%.*s': record_from_json %d (%s), jansson %d", (int)len, line, rc,
		         rc ? err : "", rrc);
	if (rc == 0) {
		assert_int_equal(mplen, reflen);
		assert_memory_equal(mp, ref, mplen);
	} else {
	}
	free(mp);
	free(ref);
}

#define TRADE_HEAD                                                                                 \
	"{\"type\":\"trade\",\"v\":1,\"key\":\"k\",\"source\":\"s\",\"trade_date\":\"2022-12-"     \
	"01\","                                                                                    \
	"\"ticker\":\"A\",\"issuer\":\"i\",\"owner\":\"o\",\"code\":\"P\",\"planned\":false,"      \
	"\"amendment\":false,"

static void test_json_reader_agrees_with_jansson(void **state)
{
	static const char *const lines[] = {
		TRADE_HEAD "\"shares\":1}",
		" \t" TRADE_HEAD "\"shares\" : 1 } \r\n ",
		TRADE_HEAD "\"shares\":12.53,\"price\":0.1,\"value\":1e3,\"shares_after\":2E-2}",
		TRADE_HEAD "\"shares\":1.7976931348623157e308}",
		TRADE_HEAD "\"shares\":123456789012345678901234567890}",
		TRADE_HEAD "\"shares\":9223372036854775807}",
		TRADE_HEAD "\"shares\":9223372036854775808}",
		TRADE_HEAD "\"shares\":1,\"price\":-9223372036854775808}",
		TRADE_HEAD "\"shares\":1,\"price\":-9223372036854775809}",
		TRADE_HEAD "\"shares\":0.30000000000000004,\"price\":4.35,\"value\":0.000001}",
		TRADE_HEAD "\"shares\":1e-400,\"price\":-0,\"value\":-0.0}",
		TRADE_HEAD "\"shares\":1.00000000000000000000000000001}",
		TRADE_HEAD "\"shares\":01}",
		TRADE_HEAD "\"shares\":1.}",
		TRADE_HEAD "\"shares\":.5}",
		TRADE_HEAD "\"shares\":-}",
		TRADE_HEAD "\"shares\":+1}",
		TRADE_HEAD "\"shares\":1e}",
		TRADE_HEAD "\"shares\":1e+}",
		TRADE_HEAD "\"shares\":NaN}",
		TRADE_HEAD "\"shares\":1,}",
		TRADE_HEAD "\"shares\":1",
		TRADE_HEAD "\"shares\":1}}",
		TRADE_HEAD "\"shares\":1}x",
		TRADE_HEAD
		"\"shares\":1,\"title\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"\\ud83d\\ude00 and \\uD83D\\uDE00\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"\\ud83d\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"\\ude00\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"\\ud83d\\u0041\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"\\u12\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"\\x\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"a\\u0000b\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"tab\there\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"caf\xc3\xa9 \xe2\x82\xac\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"bad \xc3\x28\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"surrogate \xed\xa0\x80\"}",
		TRADE_HEAD "\"shares\":1,\"title\":\"unterminated}",
		TRADE_HEAD "\"shares\":1,\"title\":\"ends in a backslash\\",
		TRADE_HEAD "\"shares\":1,\"roles\":[\"director\",\"officer\"],\"direct\":null}",
		TRADE_HEAD "\"shares\":1,\"roles\":[ ],\"direct\":true}",
		TRADE_HEAD "\"shares\":1,\"roles\":[\"director\",]}",
		TRADE_HEAD
		"\"shares\":1,\"instrument\":{\"figi\":\"BBG000BLNNH6\",\"market_cap\":1.5e9}}",
		TRADE_HEAD "\"shares\":1,\"instrument\":{\"figi\":\"a\",\"figi\":\"b\"}}",
		TRADE_HEAD "\"shares\":1,\"instrument\":{\"name\":{\"a\":{\"b\":1}}}}",
		TRADE_HEAD "\"shares\":1,\"type\":\"trade\"}",
		TRADE_HEAD "\"shares\":1,\"v\":1}",
		TRADE_HEAD "\"shares\":1,\"key\":\"again\"}",
		TRADE_HEAD "\"shares\":1,\"filed_at\":\"2022-01-06T21:05:31Z\"}",
		TRADE_HEAD "\"shares\":1,\"accession\":\"" /* a long string: a 2-byte header */
		           "0123456789012345678901234567890123456789\"}",
		TRADE_HEAD "\"shares\":tru}",
		TRADE_HEAD "\"shares\":1,\"planned\":true}",
		TRADE_HEAD "\"shares\":1,\"planned\":nul}",
		"{\"type\":\"stats\",\"v\":1,\"stage\":\"m\",\"in\":18446744073709551615}",
		"{\"type\":\"stats\",\"v\":1,\"stage\":\"m\",\"in\":9223372036854775807,\"out\":0}",
		"{\"type\":\"intent\",\"v\":1,\"id\":\"x\",\"rule\":\"r\",\"side\":\"buy\","
		"\"ticker\":\"A\",\"notional\":1000,\"reason\":\"r\",\"evidence\":[\"a\",\"b\"]}",
		"{}",
		"{\"type\":\"trade\",\"v\":1,\"type\":\"trade\"}",
		"[1,2,3]",
		"",
		"   ",
		"not json",
		"\"a string\"",
		"{\"type\":\"trade\",\"v\":1} trailing",
		"{\"a\":[[[[1]]]]}",
		"{\"a\":{\"b\":{\"c\":{}}}}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		s_expect_same_as_jansson(lines[i], strlen(lines[i]));
}

/*
 * Strings of every length from 0 to 40 ending every distance from 0 to 40
 * bytes before the end of the line (the reader copies short strings with
 * 16-byte loads where the line holds them), plain, with an escape and
 * unterminated; then lines whose msgpack outgrows their text (reals: 9
 * bytes from 3 characters), which the reader makes room for as it goes.
 */
static void test_json_reader_strings_at_the_line_end_and_reals_that_outgrow_it(void **state)
{
	char line[512];
	char *big;
	size_t n;
	(void)state;
	for (int len = 0; len <= 40; len++) {
		for (int tail = 0; tail <= 40; tail++) {
			for (int kind = 0; kind < 3; kind++) {
				n = (size_t)snprintf(line, sizeof(line),
				                     TRADE_HEAD "\"shares\":1,\"title\":\"");
				for (int i = 0; i < len; i++)
					line[n++] = (char)('a' + i % 26);
				if (kind == 1 && len > 0)
					line[n - 1] = '\\', line[n++] = 'n';
				if (kind != 2)
					line[n++] = '"';
				line[n++] = '}';
				for (int i = 0; i < tail; i++)
					line[n++] = ' ';
				s_expect_same_as_jansson(line, n);
			}
		}
	}
	/* 40,000 reals of 3 characters and their commas: 160 KB of text, over
	 * the line limit; 30,000: 120 KB of text for 270 KB of msgpack */
	big = malloc(200000);
	assert_non_null(big);
	for (int count = 30000; count <= 40000; count += 10000) {
		n = (size_t)snprintf(big, 200000, "{\"type\":\"stats\",\"v\":1,\"x\":[");
		for (int i = 0; i < count; i++) {
			memcpy(big + n, i ? ",1.5" : "1.5", i ? 4 : 3);
			n += i ? 4 : 3;
		}
		memcpy(big + n, "]}", 2);
		n += 2;
		s_expect_same_as_jansson(big, n);
	}
	/* and a valid trade with every number a real, the room grown before each */
	n = (size_t)snprintf(line, sizeof(line),
	                     TRADE_HEAD "\"shares\":1e3,\"price\":2.5,\"value\":3e3,"
	                                "\"shares_after\":4e3,\"instrument\":{\"figi\":\"F\","
	                                "\"market_cap\":5e9,\"shares_outstanding\":6e6}}");
	s_expect_same_as_jansson(line, n);
	free(big);
}

/* A valid trade line with bytes changed, removed and inserted at random:
 * both readers must accept and refuse the same lines, with the same bytes. */
static void test_json_reader_agrees_with_jansson_on_mutated_lines(void **state)
{
	static const char line[] =
	    "{\"type\":\"trade\",\"v\":1,\"key\":\"bench:00000001\",\"source\":\"edgar\","
	    "\"accession\":\"0001209191-26-000001\",\"url\":null,\"filed_at\":"
	    "\"2026-04-24T21:35:59Z\",\"trade_date\":\"2026-04-22\",\"ticker\":\"T0001\","
	    "\"issuer\":\"Issuer 1 Inc.\",\"issuer_cik\":\"0000001001\",\"owner\":\"Owner 1\","
	    "\"owner_cik\":\"0002000001\",\"title\":\"CEO \\u00e9\\n\",\"roles\":[\"officer\"],"
	    "\"code\":\"P\",\"shares\":1001,\"price\":12.51,\"value\":null,\"shares_after\":"
	    "50001,\"direct\":true,\"planned\":false,\"amendment\":false,\"instrument\":null}";
	static const char alphabet[] = "{}[]\",:\\ u0123456789.eE-+tfnl\x01\xc3\xa9"
	                               "ax";
	unsigned seed = 4242;
	char buf[sizeof(line) + 8];
	(void)state;
	s_expect_same_as_jansson(line, strlen(line));
	for (int i = 0; i < 30000; i++) {
		size_t n = strlen(line);
		memcpy(buf, line, n);
		for (int k = 0; k < 1 + i % 3; k++) {
			size_t at;
			seed = seed * 1103515245 + 12345;
			at = (seed >> 8) % n;
			seed = seed * 1103515245 + 12345;
			switch ((seed >> 8) % 3) {
			case 0:
				buf[at] = alphabet[(seed >> 12) % (sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:
				if (n + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = alphabet[(seed >> 12) % (sizeof(alphabet) - 1)];
					n++;
				}
			}
		}
		s_expect_same_as_jansson(buf, n);
	}
}

/* Numbers as people and programs write them: the fast decimal path and
 * strtod must give the same double. */
static void test_json_reals_read_as_strtod_reads_them(void **state)
{
	unsigned seed = 99;
	char line[512];
	(void)state;
	for (int i = 0; i < 20000; i++) {
		char num[64];
		seed = seed * 1103515245 + 12345;
		switch (i % 4) {
		case 0:
			snprintf(num, sizeof(num), "%u.%02u", (seed >> 8) % 100000, seed % 100);
			break;
		case 1:
			snprintf(num, sizeof(num), "%.17g", (double)(seed >> 4) / 997.0);
			break;
		case 2:
			snprintf(num, sizeof(num), "%u.%06ue%d", (seed >> 16) % 1000,
			         seed % 1000000, (int)(seed >> 24) % 40 - 20);
			break;
		default:
			snprintf(num, sizeof(num), "0.%015u%u", seed % 1000000, seed >> 20);
		}
		snprintf(line, sizeof(line), TRADE_HEAD "\"shares\":1,\"price\":%s}", num);
		s_expect_same_as_jansson(line, strlen(line));
	}
}

/* The old record_msgpack_to_json, on msgpack-c's unpacked tree. */
static void s_ref_put_object(msgpack_sbuffer *b, const msgpack_object *o)
{
	char num[40];

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		msgpack_sbuffer_write(b, "null", 4);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		msgpack_sbuffer_write(b, o->via.boolean ? "true" : "false", o->via.boolean ? 4 : 5);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		msgpack_sbuffer_write(
		    b, num,
		    (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)o->via.u64));
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		msgpack_sbuffer_write(
		    b, num, (size_t)snprintf(num, sizeof(num), "%lld", (long long)o->via.i64));
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, o->via.f64);
			if (strtod(num, NULL) == o->via.f64)
				break;
		}
		msgpack_sbuffer_write(b, num, strlen(num));
		break;
	case MSGPACK_OBJECT_STR:
		msgpack_sbuffer_write(b, "\"", 1);
		for (uint32_t i = 0; i < o->via.str.size; i++) {
			unsigned char c = (unsigned char)o->via.str.ptr[i];
			if (c == '"' || c == '\\') {
				msgpack_sbuffer_write(b, "\\", 1);
				msgpack_sbuffer_write(b, (const char *)&c, 1);
			} else if (c == '\n' || c == '\r' || c == '\t') {
				msgpack_sbuffer_write(b,
				                      c == '\n'   ? "\\n"
				                      : c == '\r' ? "\\r"
				                                  : "\\t",
				                      2);
			} else if (c < 0x20) {
				snprintf(num, sizeof(num), "\\u%04x", c);
				msgpack_sbuffer_write(b, num, 6);
			} else {
				msgpack_sbuffer_write(b, (const char *)&c, 1);
			}
		}
		msgpack_sbuffer_write(b, "\"", 1);
		break;
	case MSGPACK_OBJECT_ARRAY:
		msgpack_sbuffer_write(b, "[", 1);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				msgpack_sbuffer_write(b, ",", 1);
			s_ref_put_object(b, &o->via.array.ptr[i]);
		}
		msgpack_sbuffer_write(b, "]", 1);
		break;
	case MSGPACK_OBJECT_MAP:
		msgpack_sbuffer_write(b, "{", 1);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			if (i > 0)
				msgpack_sbuffer_write(b, ",", 1);
			s_ref_put_object(b, &o->via.map.ptr[i].key);
			msgpack_sbuffer_write(b, ":", 1);
			s_ref_put_object(b, &o->via.map.ptr[i].val);
		}
		msgpack_sbuffer_write(b, "}", 1);
		break;
	default:
		msgpack_sbuffer_write(b, "null", 4);
	}
}

static void s_expect_json_as_before(const char *mp, size_t len)
{
	char err[256], *js;
	size_t jlen, off = 0;
	msgpack_unpacked up;
	msgpack_sbuffer ref;

	msgpack_unpacked_init(&up);
	msgpack_sbuffer_init(&ref);
	assert_int_equal(msgpack_unpack_next(&up, mp, len, &off), MSGPACK_UNPACK_SUCCESS);
	s_ref_put_object(&ref, &up.data);
	assert_int_equal(record_msgpack_to_json(mp, len, &js, &jlen, err, sizeof(err)), 0);
	if (jlen != ref.size || memcmp(js, ref.data, jlen) != 0)
		fail_msg("json '%s' != reference '%.*s'", js, (int)ref.size, ref.data);
	assert_int_equal(js[jlen], '\0');
	free(js);
	/* The unchecked renderer, for bytes the stage made itself, prints the
	 * same text. */
	assert_int_equal(record_encoded_to_json(mp, len, &js, &jlen, err, sizeof(err)), 0);
	if (jlen != ref.size || memcmp(js, ref.data, jlen) != 0)
		fail_msg("encoded json '%s' != reference '%.*s'", js, (int)ref.size, ref.data);
	free(js);
	msgpack_sbuffer_destroy(&ref);
	msgpack_unpacked_destroy(&up);
}

/* Every number form, negative and positive, and doubles that take the
 * fast decimal path and doubles that do not, print as they did. */
static void test_msgpack_to_json_prints_as_msgpack_c_did(void **state)
{
	static const double reals[] = { 12.53,      -12.53, 0.1,           0.0001,
		                        0.00012,    1e-5,   123456.789012, 99999999999999.9,
		                        1e15 + 0.5, 1e300,  -1e-300,       0.30000000000000004,
		                        1.0 / 3,    2.5e-4, 4.35,          1e16 };
	static const int64_t ints[] = { 0,
		                        1,
		                        31,
		                        127,
		                        128,
		                        255,
		                        256,
		                        65535,
		                        65536,
		                        4294967295LL,
		                        4294967296LL,
		                        INT64_MAX,
		                        -1,
		                        -32,
		                        -33,
		                        -128,
		                        -129,
		                        -32768,
		                        -32769,
		                        -2147483648LL,
		                        -2147483649LL,
		                        INT64_MIN };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned seed = 7;
	char s[40];
	(void)state;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_str_with_body(&pk, "reals", 5);
	msgpack_pack_array(&pk, sizeof(reals) / sizeof(reals[0]) + 1);
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		msgpack_pack_double(&pk, reals[i]);
	msgpack_pack_float(&pk, 0.1f);
	msgpack_pack_str_with_body(&pk, "ints", 4);
	msgpack_pack_array(&pk, sizeof(ints) / sizeof(ints[0]) + 1);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		msgpack_pack_int64(&pk, ints[i]);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	msgpack_pack_str_with_body(&pk, "str", 3);
	for (int c = 0; c < 32; c++)
		s[c] = (char)(c + 1);
	s[32] = '"';
	s[33] = '\\';
	memcpy(s + 34, "\xc3\xa9/x", 5);
	msgpack_pack_str_with_body(&pk, s, 39);
	msgpack_pack_str_with_body(&pk, "nested", 6);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_nil(&pk);
	msgpack_pack_array(&pk, 0);
	msgpack_pack_true(&pk);
	msgpack_pack_false(&pk);
	s_expect_json_as_before(sb.data, sb.size);

	for (int i = 0; i < 20000; i++) {
		double x;
		msgpack_sbuffer_clear(&sb);
		seed = seed * 1103515245 + 12345;
		if (i % 2)
			x = (double)(seed >> 4) / 100.0;
		else
			x = (double)seed * 1e-9 * (seed % 7 ? 1.0 : -1e9);
		msgpack_pack_double(&pk, x);
		s_expect_json_as_before(sb.data, sb.size);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* The encoder writes what msgpack-c's packer wrote: each integer in its
 * smallest form, other numbers as float64, strings with the smallest
 * header. */
static void test_msgpack_encoding_is_msgpack_c_s(void **state)
{
	static const double shares[] = { 1,     127,          128,          255,  256, 65535,
		                         65536, 4294967295.0, 4294967296.0, 1e15, 0.5, 196.356 };
	char err[256], *mp;
	size_t len;
	record_t r;
	(void)state;

	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		char big[300];

		record_init(&r, REC_DROP);
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[(size_t)shares[i] % 280 + 10] = '\0'; /* strings of 10..289 bytes */
		r.u.drop.stage = strdup("decider");
		r.u.drop.key = strdup(big);
		r.u.drop.reason = strdup(big + 1);
		assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 5);
		msgpack_pack_str_with_body(&pk, "type", 4);
		msgpack_pack_str_with_body(&pk, "drop", 4);
		msgpack_pack_str_with_body(&pk, "v", 1);
		msgpack_pack_int(&pk, 1);
		msgpack_pack_str_with_body(&pk, "stage", 5);
		msgpack_pack_str_with_body(&pk, "decider", 7);
		msgpack_pack_str_with_body(&pk, "key", 3);
		msgpack_pack_str_with_body(&pk, big, strlen(big));
		msgpack_pack_str_with_body(&pk, "reason", 6);
		msgpack_pack_str_with_body(&pk, big + 1, strlen(big + 1));
		assert_int_equal(len, sb.size);
		assert_memory_equal(mp, sb.data, len);
		free(mp);
		msgpack_sbuffer_destroy(&sb);
		record_free(&r);

		/* a trade's numbers: find the shares value in the encoding */
		s_make_trade(&r);
		r.u.trade.shares = shares[i];
		assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_str_with_body(&pk, "shares", 6);
		if (shares[i] == (double)(int64_t)shares[i])
			msgpack_pack_int64(&pk, (int64_t)shares[i]);
		else
			msgpack_pack_double(&pk, shares[i]);
		msgpack_pack_str_with_body(&pk, "price", 5);
		msgpack_pack_double(&pk, 12.34);
		assert_non_null(memmem(mp, len, sb.data, sb.size));
		free(mp);
		msgpack_sbuffer_destroy(&sb);
		record_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trade_round_trips_through_msgpack_and_json),
		cmocka_unit_test(test_intent_order_drop_stats_round_trip),
		cmocka_unit_test(test_json_prints_whole_numbers_as_integers_and_nulls),
		cmocka_unit_test(test_huge_array_count_is_refused_before_allocation),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_nested_counts_claiming_more_than_the_bytes_are_refused),
		cmocka_unit_test(test_truncation_and_trailing_bytes_are_refused),
		cmocka_unit_test(test_wrong_types_unknown_version_and_keys_are_refused),
		cmocka_unit_test(test_invalid_utf8_and_oversized_strings_are_refused),
		cmocka_unit_test(test_utf8_check_finds_a_bad_byte_at_every_position),
		cmocka_unit_test(test_a_decoded_record_owns_one_block),
		cmocka_unit_test(test_strings_of_every_short_length_round_trip),
		cmocka_unit_test(test_oversized_message_is_refused),
		cmocka_unit_test(test_encoding_an_invalid_record_fails_with_reason),
		cmocka_unit_test(test_record_copy_is_deep),
		cmocka_unit_test(test_random_bytes_never_crash_the_decoder),
		cmocka_unit_test(test_json_reader_agrees_with_jansson),
		cmocka_unit_test(test_json_reader_agrees_with_jansson_on_mutated_lines),
		cmocka_unit_test(
		    test_json_reader_strings_at_the_line_end_and_reals_that_outgrow_it),
		cmocka_unit_test(test_json_reals_read_as_strtod_reads_them),
		cmocka_unit_test(test_msgpack_to_json_prints_as_msgpack_c_did),
		cmocka_unit_test(test_msgpack_encoding_is_msgpack_c_s),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
