/*
 * test_record_onepass.c - record_from_msgpack's one-pass reader against
 * the tree decoder it stands in front of, its "canonical" verdict against
 * a re-encoding, and the mapper's splice of an instrument into a trade's
 * bytes against encoding the whole trade.
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
#include "record_priv.h"
#include "timeutil.h"

static unsigned s_seed = 20261204;

static unsigned s_rand(void)
{
	s_seed = s_seed * 1103515245 + 12345;
	return (s_seed >> 8) & 0xffffff;
}

/* A string of a length near a msgpack header boundary (31/32, 255/256)
 * now and then, else short; NULL one time in five when nullable. */
static char *s_rand_str(bool nullable)
{
	static const size_t lens[] = { 0, 1, 5, 12, 31, 32, 33, 255, 256, 300 };
	size_t n = lens[s_rand() % (sizeof(lens) / sizeof(lens[0]))];
	char *s;

	if (nullable && s_rand() % 5 == 0)
		return NULL;
	if (n == 0 && !nullable)
		n = 3;
	s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('A' + s_rand() % 26);
	if (n >= 4 && s_rand() % 3 == 0)
		memcpy(s + n - 2, "\xc3\xa9", 2); /* some UTF-8 */
	s[n] = '\0';
	return s;
}

/* A number as trades carry them: whole (small and large), a fraction, or
 * null when nullable. */
static double s_rand_num(bool nullable)
{
	switch (s_rand() % 7) {
	case 0:
		return nullable ? REC_NULL_NUM : 1;
	case 1:
		return (double)(s_rand() % 128);
	case 2:
		return (double)(s_rand() % 70000);
	case 3:
		return (double)s_rand() * 4096.0; /* beyond 32 bits */
	case 4:
		return (double)(s_rand() % 100000) / 100.0;
	case 5:
		return 0.5 + (double)(s_rand() % 1000);
	default:
		return 9007199254740992.0 + 2 * (double)(s_rand() % 1000); /* 2^53 and up */
	}
}

static instrument_t *s_rand_instrument(void)
{
	instrument_t *ins = calloc(1, sizeof(*ins));

	instrument_init(ins);
	ins->figi = s_rand_str(true);
	ins->composite_figi = s_rand_str(true);
	ins->share_class_figi = s_rand_str(true);
	ins->ticker = s_rand_str(true);
	ins->exch_code = s_rand_str(true);
	ins->name = s_rand_str(true);
	ins->security_type = s_rand_str(true);
	ins->market_sector = s_rand_str(true);
	ins->isin = s_rand_str(true);
	ins->shares_outstanding = s_rand_num(true);
	ins->market_cap = s_rand_num(true);
	if (ins->shares_outstanding > 1e15)
		ins->shares_outstanding = 1e15;
	return ins;
}

static void s_rand_trade(record_t *r)
{
	trade_t *t = &r->u.trade;
	char *tick;

	record_init(r, REC_TRADE);
	t->key = s_rand_str(false);
	t->source = s_rand_str(false);
	t->accession = s_rand_str(true);
	t->url = s_rand_str(true);
	t->filed_at = s_rand() % 4 ? 1600000000 + (int64_t)s_rand() * 37 : REC_NULL_TIME;
	snprintf(t->trade_date, sizeof(t->trade_date), "2026-%02u-%02u", 1 + s_rand() % 12,
	         1 + s_rand() % 28);
	tick = s_rand_str(false);
	for (char *p = tick; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = 'X'; /* upper case */
	t->ticker = tick;
	t->issuer = s_rand_str(false);
	t->issuer_cik = s_rand() % 2 ? strdup("0000012345") : NULL;
	t->owner = s_rand_str(false);
	t->owner_cik = s_rand() % 2 ? strdup("0001234567") : NULL;
	t->title = s_rand_str(true);
	t->roles = s_rand() % 16;
	t->code[0] = (char)('A' + s_rand() % 26);
	t->shares = s_rand_num(false);
	t->price = s_rand_num(true);
	t->value = s_rand_num(true);
	t->shares_after = s_rand_num(true);
	if (t->price > 1e15)
		t->price = 12.5;
	if (t->shares <= 0 || t->shares > 1e15)
		t->shares = 3;
	if (t->shares_after > 1e15)
		t->shares_after = REC_NULL_NUM;
	t->direct = (int8_t)(s_rand() % 3) - 1;
	t->planned = s_rand() % 2;
	t->amendment = s_rand() % 2;
	if (s_rand() % 3 == 0)
		t->instrument = s_rand_instrument();
}

/* Decode with both decoders: the same verdict, the same reason, the same
 * record; and "canonical" exactly when the record encodes back to buf. */
static void s_expect_agreement(const void *buf, size_t len)
{
	char err1[256] = "", err2[256] = "", *mp1, *mp2;
	size_t len1, len2;
	struct record_mp_info info;
	record_t a, b;
	int rc1 = record_from_msgpack_info(buf, len, &a, &info, err1, sizeof(err1));
	int rc2 = record_mp_decode_tree(buf, len, &b, err2, sizeof(err2));

	if (rc1 != rc2)
		fail_msg("one-pass %d (%s), tree %d (%s)", rc1, err1, rc2, err2);
	if (rc1 != 0) {
		assert_string_equal(err1, err2);
		assert_int_equal(a.type, REC_NONE);
		assert_false(info.canonical);
		return;
	}
	assert_int_equal(record_to_msgpack(&a, &mp1, &len1, err1, sizeof(err1)), 0);
	assert_int_equal(record_to_msgpack(&b, &mp2, &len2, err2, sizeof(err2)), 0);
	assert_int_equal(len1, len2);
	assert_memory_equal(mp1, mp2, len1);
	if (info.canonical != (len1 == len && memcmp(mp1, buf, len) == 0))
		fail_msg("canonical %d, but the record encodes %s", info.canonical,
		         info.canonical ? "otherwise" : "to the same bytes");
	free(mp1);
	free(mp2);
	record_free(&a);
	record_free(&b);
}

/* A few bytes changed, dropped or added, at random places. */
static size_t s_mutate(unsigned char *m, size_t len, size_t cap)
{
	static const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xa5,
		                               0xc0, 0xc2, 0xc3, 0xca, 0xcb, 0xcc, 0xcd, 0xd0,
		                               0xd9, 0xda, 0xdc, 0xde, 0xdf, 0xe0, 0xff, 'a' };
	int k = 1 + (int)(s_rand() % 3);

	for (int i = 0; i < k && len > 0; i++) {
		size_t at = s_rand() % len;
		unsigned char c = bytes[s_rand() % sizeof(bytes)];

		switch (s_rand() % 4) {
		case 0:
			memmove(m + at, m + at + 1, len - at - 1);
			len--;
			break;
		case 1:
			if (len < cap) {
				memmove(m + at + 1, m + at, len - at);
				m[at] = c;
				len++;
			}
			break;
		case 2:
			m[at] = (unsigned char)(m[at] ^ (1u << (s_rand() % 8)));
			break;
		default:
			m[at] = c;
		}
	}
	return len;
}

static void test_one_pass_reader_agrees_with_the_tree_decoder(void **state)
{
	unsigned char m[4096];
	(void)state;

	for (int i = 0; i < 3000; i++) {
		char err[256], *mp;
		size_t len;
		struct record_mp_info info;
		record_t r, back;

		s_rand_trade(&r);
		assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
		/* what record_to_msgpack writes is canonical, instrument and all */
		assert_int_equal(record_from_msgpack_info(mp, len, &back, &info, err, sizeof(err)),
		                 0);
		assert_true(info.canonical);
		assert_true(info.instr_off > 0 && info.instr_off + info.instr_len == len);
		record_free(&back);
		s_expect_agreement(mp, len);
		for (int k = 0; k < 10 && len <= sizeof(m) - 8; k++) {
			size_t n;
			memcpy(m, mp, len);
			n = s_mutate(m, len, sizeof(m));
			s_expect_agreement(m, n);
		}
		free(mp);
		record_free(&r);
	}
}

/* The other record types, and shapes other stages never send but a peer
 * may: keys out of order, long headers for short things, float32,
 * signed forms of positive integers, whole numbers as floats, times in
 * another notation, roles out of order.  Each decodes as before and none
 * is called canonical. */
static void s_pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void s_pack_str8(msgpack_sbuffer *sb, const char *s)
{
	unsigned char h[2] = { 0xd9, (unsigned char)strlen(s) };

	msgpack_sbuffer_write(sb, (const char *)h, 2);
	msgpack_sbuffer_write(sb, s, strlen(s));
}

enum variant {
	V_CANONICAL,
	V_KEYS_SWAPPED,
	V_STR8_KEY,
	V_STR8_VALUE,
	V_FLOAT32,
	V_SIGNED_INT,
	V_WIDE_INT,
	V_WHOLE_FLOAT,
	V_TIME_OFFSET,
	V_ROLES_REVERSED,
	V_ROLES_TWICE,
	V_MAP32,
	V_FIELD_MISSING,
	V_INSTRUMENT_SHORT,
	V_END,
};

static void s_pack_variant(msgpack_sbuffer *sb, enum variant v)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (v == V_MAP32) {
		unsigned char h[5] = { 0xdf, 0, 0, 0, 24 };
		msgpack_sbuffer_write(sb, (const char *)h, 5);
	} else {
		msgpack_pack_map(&pk, v == V_FIELD_MISSING ? 23 : 24);
	}
	s_pack_str(&pk, "type");
	s_pack_str(&pk, "trade");
	s_pack_str(&pk, "v");
	msgpack_pack_int(&pk, 1);
	if (v == V_KEYS_SWAPPED) {
		s_pack_str(&pk, "source");
		s_pack_str(&pk, "edgar");
		s_pack_str(&pk, "key");
		s_pack_str(&pk, "k1");
	} else {
		if (v == V_STR8_KEY)
			s_pack_str8(sb, "key");
		else
			s_pack_str(&pk, "key");
		s_pack_str(&pk, "k1");
		s_pack_str(&pk, "source");
		if (v == V_STR8_VALUE)
			s_pack_str8(sb, "edgar");
		else
			s_pack_str(&pk, "edgar");
	}
	s_pack_str(&pk, "accession");
	msgpack_pack_nil(&pk);
	s_pack_str(&pk, "url");
	msgpack_pack_nil(&pk);
	s_pack_str(&pk, "filed_at");
	s_pack_str(&pk, v == V_TIME_OFFSET ? "2022-01-06T16:05:31-05:00" : "2022-01-06T21:05:31Z");
	s_pack_str(&pk, "trade_date");
	s_pack_str(&pk, "2022-01-04");
	s_pack_str(&pk, "ticker");
	s_pack_str(&pk, "ACME");
	s_pack_str(&pk, "issuer");
	s_pack_str(&pk, "Acme");
	s_pack_str(&pk, "issuer_cik");
	msgpack_pack_nil(&pk);
	s_pack_str(&pk, "owner");
	s_pack_str(&pk, "Roe");
	s_pack_str(&pk, "owner_cik");
	msgpack_pack_nil(&pk);
	s_pack_str(&pk, "title");
	s_pack_str(&pk, "CEO");
	s_pack_str(&pk, "roles");
	if (v == V_ROLES_REVERSED) {
		msgpack_pack_array(&pk, 2);
		s_pack_str(&pk, "officer");
		s_pack_str(&pk, "director");
	} else if (v == V_ROLES_TWICE) {
		msgpack_pack_array(&pk, 2);
		s_pack_str(&pk, "officer");
		s_pack_str(&pk, "officer");
	} else {
		msgpack_pack_array(&pk, 2);
		s_pack_str(&pk, "director");
		s_pack_str(&pk, "officer");
	}
	s_pack_str(&pk, "code");
	s_pack_str(&pk, "P");
	s_pack_str(&pk, "shares");
	if (v == V_FLOAT32)
		msgpack_pack_float(&pk, 12.5f);
	else if (v == V_WHOLE_FLOAT)
		msgpack_pack_double(&pk, 12000.0);
	else if (v == V_SIGNED_INT)
		msgpack_pack_fix_int16(&pk, 12000);
	else if (v == V_WIDE_INT)
		msgpack_pack_fix_uint32(&pk, 12000);
	else
		msgpack_pack_int(&pk, 12000);
	s_pack_str(&pk, "price");
	msgpack_pack_double(&pk, 12.34);
	s_pack_str(&pk, "value");
	msgpack_pack_nil(&pk);
	s_pack_str(&pk, "shares_after");
	msgpack_pack_nil(&pk);
	s_pack_str(&pk, "direct");
	msgpack_pack_true(&pk);
	s_pack_str(&pk, "planned");
	msgpack_pack_false(&pk);
	if (v != V_FIELD_MISSING) {
		s_pack_str(&pk, "amendment");
		msgpack_pack_false(&pk);
	}
	s_pack_str(&pk, "instrument");
	if (v == V_INSTRUMENT_SHORT) {
		msgpack_pack_map(&pk, 1);
		s_pack_str(&pk, "figi");
		s_pack_str(&pk, "BBG000BLNNH6");
	} else {
		msgpack_pack_nil(&pk);
	}
}

static void test_other_shapes_decode_alike_and_are_not_canonical(void **state)
{
	(void)state;
	for (int v = V_CANONICAL; v < V_END; v++) {
		char err[256];
		msgpack_sbuffer sb;
		struct record_mp_info info;
		record_t r;

		msgpack_sbuffer_init(&sb);
		s_pack_variant(&sb, (enum variant)v);
		s_expect_agreement(sb.data, sb.size);
		if (record_from_msgpack_info(sb.data, sb.size, &r, &info, err, sizeof(err)) != 0)
			fail_msg("variant %d refused: %s", v, err);
		if (info.canonical != (v == V_CANONICAL))
			fail_msg("variant %d: canonical %d", v, info.canonical);
		record_free(&r);
		msgpack_sbuffer_destroy(&sb);
	}
}

static void test_intents_orders_drops_and_stats_read_in_one_pass(void **state)
{
	record_t recs[5];
	(void)state;

	record_init(&recs[0], REC_INTENT);
	recs[0].u.intent.id = strdup("3f2a9c");
	recs[0].u.intent.rule = strdup("cluster_buy");
	recs[0].u.intent.side = SIDE_SELL;
	recs[0].u.intent.ticker = strdup("ACME");
	recs[0].u.intent.qty = 81;
	recs[0].u.intent.n_evidence = 2;
	recs[0].u.intent.evidence = calloc(2, sizeof(char *));
	recs[0].u.intent.evidence[0] = strdup("a");
	recs[0].u.intent.evidence[1] = strdup("b");
	recs[0].u.intent.reason = strdup("because");
	recs[0].u.intent.created_at = 1700000000;
	record_init(&recs[1], REC_ORDER);
	recs[1].u.order.intent = strdup("3f2a9c");
	recs[1].u.order.broker = strdup("paper");
	recs[1].u.order.status = ORDER_DRY_RUN;
	recs[1].u.order.price = 12.34;
	record_init(&recs[2], REC_DROP);
	recs[2].u.drop.stage = strdup("mapper");
	recs[2].u.drop.reason = strdup("no listing");
	record_init(&recs[3], REC_STATS);
	recs[3].u.stats.stage = strdup("decider");
	recs[3].u.stats.in = 4294967296ull;
	recs[3].u.stats.out = 200;
	record_init(&recs[4], REC_STATS);
	recs[4].u.stats.stage = strdup("x");
	for (size_t i = 0; i < 5; i++) {
		char err[256], *mp;
		size_t len;
		struct record_mp_info info;
		record_t back;
		unsigned char m[1024];

		assert_int_equal(record_to_msgpack(&recs[i], &mp, &len, err, sizeof(err)), 0);
		assert_int_equal(record_from_msgpack_info(mp, len, &back, &info, err, sizeof(err)),
		                 0);
		assert_true(info.canonical);
		record_free(&back);
		for (int k = 0; k < 3000; k++) {
			size_t n;
			memcpy(m, mp, len);
			n = s_mutate(m, len, sizeof(m));
			s_expect_agreement(m, n);
		}
		free(mp);
		record_free(&recs[i]);
	}
}

/* The mapper's splice: the decoded trade's bytes around a new instrument
 * are the bytes of encoding the trade with that instrument. */
static void test_instrument_splice_is_the_encoding_of_the_whole_trade(void **state)
{
	char *got = NULL;
	size_t gcap = 0;
	(void)state;
	for (int i = 0; i < 5000; i++) {
		char err[256], *mp, *want;
		size_t len, wlen, glen;
		struct record_mp_info info;
		instrument_t *ins = s_rand() % 5 ? s_rand_instrument() : NULL;
		record_t r, back;

		s_rand_trade(&r);
		if (record_to_msgpack(&r, &mp, &len, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_int_equal(record_from_msgpack_info(mp, len, &back, &info, err, sizeof(err)),
		                 0);
		assert_true(info.canonical);
		if (i % 7 == 0) { /* mostly the buffer of the last trade, now and then a new one */
			free(got);
			got = NULL;
			gcap = 0;
		}
		assert_int_equal(record_trade_msgpack_with_instrument(
		                     mp, len, &info, ins, &got, &gcap, &glen, err, sizeof(err)),
		                 0);
		assert_true(glen <= gcap);
		record_clear_instrument(&back);
		back.u.trade.instrument = ins;
		assert_int_equal(record_to_msgpack(&back, &want, &wlen, err, sizeof(err)), 0);
		assert_int_equal(glen, wlen);
		assert_memory_equal(got, want, wlen);
		free(mp);
		free(want);
		record_free(&back);
		record_free(&r);
	}
	free(got);
}

static void test_instrument_splice_refuses_what_encoding_refuses(void **state)
{
	char err[256], err2[256], *mp, *out;
	size_t len, olen, ocap;
	struct record_mp_info info;
	instrument_t ins;
	record_t r, back;
	msgpack_sbuffer sb;
	(void)state;

	s_rand_trade(&r);
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
	assert_int_equal(record_from_msgpack_info(mp, len, &back, &info, err, sizeof(err)), 0);
	instrument_init(&ins);
	ins.market_cap = -5;
	out = NULL;
	ocap = 0;
	assert_int_equal(record_trade_msgpack_with_instrument(mp, len, &info, &ins, &out, &ocap,
	                                                      &olen, err, sizeof(err)),
	                 -1);
	assert_int_equal(olen, 0);
	free(out);
	record_clear_instrument(&back);
	back.u.trade.instrument = &ins;
	assert_int_equal(record_to_msgpack(&back, &out, &olen, err2, sizeof(err2)), -1);
	assert_string_equal(err, err2);
	back.u.trade.instrument = NULL;
	record_free(&back);
	free(mp);
	record_free(&r);

	/* bytes that are not canonical are never spliced */
	msgpack_sbuffer_init(&sb);
	s_pack_variant(&sb, V_WHOLE_FLOAT);
	assert_int_equal(record_from_msgpack_info(sb.data, sb.size, &back, &info, err, sizeof(err)),
	                 0);
	assert_false(info.canonical);
	instrument_init(&ins);
	out = NULL;
	ocap = 0;
	assert_int_equal(record_trade_msgpack_with_instrument(sb.data, sb.size, &info, &ins, &out,
	                                                      &ocap, &olen, err, sizeof(err)),
	                 -1);
	free(out);
	record_free(&back);
	msgpack_sbuffer_destroy(&sb);
}

/* Times and dates are remembered from one record to the next (a filing's
 * trades share them): each record still gets its own, and a bad one is
 * still refused after a good one. */
static void test_repeated_times_and_dates_read_as_parsed(void **state)
{
	static const struct {
		const char *filed_at, *trade_date;
		int64_t want; /* -1: refused */
	} cases[] = {
		{ "2022-01-06T21:05:31Z", "2022-01-04", 1641503131 },
		{ "2022-01-06T21:05:31Z", "2022-01-04", 1641503131 },
		{ "2022-01-06T21:05:32Z", "2022-01-04", 1641503132 },
		{ "2022-01-06T21:05:31Z", "2022-01-05", 1641503131 },
		{ "2022-13-06T21:05:31Z", "2022-01-05", -1 },
		{ "2022-01-06T21:05:31Z", "2022-02-30", -1 },
		{ "2022-01-06T21:05:31Z", "2022-01-05", 1641503131 },
		{ "2022-01-06T16:05:31-05:00", "2022-01-05", 1641503131 },
		{ "2022-01-06T21:05:31Z", "2022-01-05", 1641503131 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256], json[512];
		record_t r;
		int rc;

		snprintf(json, sizeof(json),
		         "{\"type\":\"trade\",\"v\":1,\"key\":\"k\",\"source\":\"s\","
		         "\"filed_at\":\"%s\",\"trade_date\":\"%s\",\"ticker\":\"A\","
		         "\"issuer\":\"i\",\"owner\":\"o\",\"code\":\"P\",\"shares\":1,"
		         "\"planned\":false,\"amendment\":false}",
		         cases[i].filed_at, cases[i].trade_date);
		rc = record_from_json(json, strlen(json), &r, err, sizeof(err));
		if (cases[i].want < 0) {
			assert_int_equal(rc, -1);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(r.u.trade.filed_at, cases[i].want);
		assert_string_equal(r.u.trade.trade_date, cases[i].trade_date);
		record_free(&r);
	}
}

/* A JSON line's msgpack is handed back with the verdict: canonical exactly
 * when it is record_to_msgpack's encoding of the record. */
static void test_json_lines_hand_back_their_msgpack(void **state)
{
	static const char *const lines[] = {
		/* the order and forms record_to_msgpack writes */
		"{\"type\":\"trade\",\"v\":1,\"key\":\"k\",\"source\":\"edgar\","
		"\"accession\":null,\"url\":null,\"filed_at\":\"2026-04-24T21:35:59Z\","
		"\"trade_date\":\"2026-04-22\",\"ticker\":\"T1\",\"issuer\":\"I\","
		"\"issuer_cik\":\"0000001001\",\"owner\":\"O\",\"owner_cik\":null,"
		"\"title\":\"CEO\",\"roles\":[\"officer\"],\"code\":\"P\",\"shares\":1001,"
		"\"price\":12.51,\"value\":null,\"shares_after\":50001,\"direct\":true,"
		"\"planned\":false,\"amendment\":false,\"instrument\":null}",
		/* a whole price written with decimals */
		"{\"type\":\"trade\",\"v\":1,\"key\":\"k\",\"source\":\"edgar\","
		"\"accession\":null,\"url\":null,\"filed_at\":\"2026-04-24T21:35:59Z\","
		"\"trade_date\":\"2026-04-22\",\"ticker\":\"T1\",\"issuer\":\"I\","
		"\"issuer_cik\":\"0000001001\",\"owner\":\"O\",\"owner_cik\":null,"
		"\"title\":\"CEO\",\"roles\":[\"officer\"],\"code\":\"P\",\"shares\":1001,"
		"\"price\":13.00,\"value\":null,\"shares_after\":50001,\"direct\":true,"
		"\"planned\":false,\"amendment\":false,\"instrument\":null}",
		/* fields left out */
		"{\"type\":\"trade\",\"v\":1,\"key\":\"k\",\"source\":\"s\","
		"\"trade_date\":\"2022-12-01\",\"ticker\":\"A\",\"issuer\":\"i\","
		"\"owner\":\"o\",\"code\":\"P\",\"shares\":1,\"planned\":false,"
		"\"amendment\":false}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char err[256], *enc;
		const void *mp;
		size_t mplen, enclen;
		struct record_mp_info info;
		record_t r;

		if (record_from_json_info(lines[i], strlen(lines[i]), &r, &info, &mp, &mplen, err,
		                          sizeof(err)) != 0)
			fail_msg("line %zu: %s", i, err);
		assert_non_null(mp);
		s_expect_agreement(mp, mplen);
		assert_int_equal(record_to_msgpack(&r, &enc, &enclen, err, sizeof(err)), 0);
		assert_int_equal(info.canonical, i == 0);
		assert_int_equal(enclen == mplen && memcmp(enc, mp, mplen) == 0, i == 0);
		free(enc);
		record_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_pass_reader_agrees_with_the_tree_decoder),
		cmocka_unit_test(test_other_shapes_decode_alike_and_are_not_canonical),
		cmocka_unit_test(test_intents_orders_drops_and_stats_read_in_one_pass),
		cmocka_unit_test(test_instrument_splice_is_the_encoding_of_the_whole_trade),
		cmocka_unit_test(test_instrument_splice_refuses_what_encoding_refuses),
		cmocka_unit_test(test_repeated_times_and_dates_read_as_parsed),
		cmocka_unit_test(test_json_lines_hand_back_their_msgpack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
