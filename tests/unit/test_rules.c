/*
 * test_rules.c - the decider's rules, and "never twice".
 *
 * Each test builds a decider on a fresh state directory, feeds trades at a
 * fixed `now`, flushes, and looks at what came out: intents (copied) and
 * drop reasons by trade key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../decider/rules.h"
#include "log.h"
#include "record.h"
#include "support/testutil.h"
#include "timeutil.h"

#define DAY 86400

static int64_t NOW; /* 2026-04-24T20:00:00Z */

/* ---- a sink that keeps everything ---- */

struct drop_rec {
	char *key;
	char *reason;
};

struct collect {
	record_t *intents;
	size_t ni;
	struct drop_rec *drops;
	size_t nd;
	int refuse_intents; /* return -1 from the intent callback */
};

static int s_on_intent(void *ctx, const intent_t *in)
{
	struct collect *c = ctx;
	record_t src = { .type = REC_INTENT }, *slot;
	char err[256];

	if (c->refuse_intents)
		return -1;
	src.u.intent = *in;
	/* The engine's intents satisfy the contract. */
	if (record_validate(&src, err, sizeof(err)) != 0)
		fail_msg("invalid intent: %s", err);
	c->intents = realloc(c->intents, (c->ni + 1) * sizeof(*c->intents));
	assert_non_null(c->intents);
	slot = &c->intents[c->ni++];
	assert_int_equal(record_copy(slot, &src), 0);
	return 0;
}

/* The intent callback: the intent as above, and the engine's encoding of
 * it decodes to the same intent. */
static int s_on_intent_mp(void *ctx, const intent_t *in, const void *mp, size_t len)
{
	char err[256];
	record_t back;

	assert_int_equal(record_from_msgpack(mp, len, &back, err, sizeof(err)), 0);
	assert_int_equal(back.type, REC_INTENT);
	assert_string_equal(back.u.intent.id, in->id);
	assert_string_equal(back.u.intent.reason, in->reason);
	assert_int_equal(back.u.intent.n_evidence, in->n_evidence);
	record_free(&back);
	return s_on_intent(ctx, in);
}

static int s_on_drop(void *ctx, const char *key, const char *reason)
{
	struct collect *c = ctx;

	assert_non_null(reason);
	assert_true(reason[0] != '\0');
	c->drops = realloc(c->drops, (c->nd + 1) * sizeof(*c->drops));
	assert_non_null(c->drops);
	c->drops[c->nd].key = key != NULL ? strdup(key) : NULL;
	c->drops[c->nd].reason = strdup(reason);
	c->nd++;
	return 0;
}

static struct decision_sink s_sink(struct collect *c)
{
	struct decision_sink s = { .ctx = c, .intent = s_on_intent_mp, .drop = s_on_drop };

	return s;
}

static void s_collect_reset(struct collect *c)
{
	for (size_t i = 0; i < c->ni; i++)
		record_free(&c->intents[i]);
	for (size_t i = 0; i < c->nd; i++) {
		free(c->drops[i].key);
		free(c->drops[i].reason);
	}
	free(c->intents);
	free(c->drops);
	memset(c, 0, sizeof(*c));
}

/* The last drop reason given for key, or NULL. */
static const char *s_drop_of(const struct collect *c, const char *key)
{
	for (size_t i = c->nd; i > 0; i--)
		if (c->drops[i - 1].key != NULL && strcmp(c->drops[i - 1].key, key) == 0)
			return c->drops[i - 1].reason;
	return NULL;
}

static void s_expect_drop(const struct collect *c, const char *key, const char *needle)
{
	const char *r = s_drop_of(c, key);

	if (r == NULL)
		fail_msg("no drop for %s (want '%s')", key, needle);
	if (strstr(r, needle) == NULL)
		fail_msg("drop of %s is '%s', want '%s'", key, r, needle);
}

static const intent_t *s_intent(const struct collect *c, size_t i)
{
	assert_true(i < c->ni);
	return &c->intents[i].u.intent;
}

static bool s_has_evidence(const intent_t *in, const char *key)
{
	for (size_t i = 0; i < in->n_evidence; i++)
		if (strcmp(in->evidence[i], key) == 0)
			return true;
	return false;
}

/* ---- trades ---- */

/* An EDGAR trade filed an hour before NOW, owner without CIK. */
static record_t s_mk(const char *key, const char *acc, const char *owner, const char *title,
                     const char *ticker, const char *date, const char *code, double shares,
                     double price, double after)
{
	record_t r;
	trade_t *t = &r.u.trade;

	memset(&r, 0, sizeof(r));
	r.type = REC_TRADE;
	t->key = strdup(key);
	t->source = strdup("edgar");
	t->accession = acc != NULL ? strdup(acc) : NULL;
	t->filed_at = NOW - 3600;
	snprintf(t->trade_date, sizeof(t->trade_date), "%s", date);
	t->ticker = strdup(ticker);
	t->issuer = strdup(ticker);
	t->owner = strdup(owner);
	t->title = title != NULL ? strdup(title) : NULL;
	t->roles = ROLE_OFFICER;
	snprintf(t->code, sizeof(t->code), "%s", code);
	t->shares = shares;
	t->price = price;
	t->value = isnan(price) ? NAN : shares * price;
	t->shares_after = after;
	t->direct = 1;
	return r;
}

static void s_set(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? strdup(v) : NULL;
}

static void s_set_instrument(trade_t *t, const char *figi, double market_cap)
{
	t->instrument = calloc(1, sizeof(*t->instrument));
	assert_non_null(t->instrument);
	t->instrument->figi = strdup(figi);
	t->instrument->ticker = strdup(t->ticker);
	t->instrument->shares_outstanding = NAN;
	t->instrument->market_cap = market_cap;
}

/* ---- deciders ---- */

static struct decider_opts s_opts(const char *dir)
{
	struct decider_opts o;

	decider_opts_defaults(&o);
	o.state_dir = dir;
	return o;
}

static decider_t *s_new(const struct decider_opts *o)
{
	char err[512] = "";
	decider_t *d = decider_new(o, err, sizeof(err));

	if (d == NULL)
		fail_msg("decider_new: %s", err);
	return d;
}

static void s_feed(decider_t *d, record_t *r, int64_t now, struct collect *c)
{
	struct decision_sink sink = s_sink(c);

	assert_int_equal(decider_handle_trade(d, &r->u.trade, now, &sink), 0);
}

static void s_flush(decider_t *d, int64_t now, struct collect *c)
{
	struct decision_sink sink = s_sink(c);

	assert_int_equal(decider_flush(d, now, &sink), 0);
}

/* Feed one trade, flush, free the trade. */
static void s_one(decider_t *d, record_t r, int64_t now, struct collect *c)
{
	s_feed(d, &r, now, c);
	s_flush(d, now, c);
	record_free(&r);
}

/* ---- the day fixture ---- */

struct day {
	record_t *r;
	size_t n;
};

static struct day s_read_day(const char *name)
{
	char path[1024], err[256];
	struct day day = { 0 };
	size_t len;
	char *buf, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/decider/%s", test_fixtures(), name);
	buf = test_read_file(path, &len);
	if (buf == NULL)
		fail_msg("cannot read %s", path);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		day.r = realloc(day.r, (day.n + 1) * sizeof(*day.r));
		assert_non_null(day.r);
		if (record_from_json(line, strlen(line), &day.r[day.n], err, sizeof(err)) != 0)
			fail_msg("%s: %s", path, err);
		day.n++;
	}
	free(buf);
	return day;
}

static void s_day_free(struct day *day)
{
	for (size_t i = 0; i < day->n; i++)
		record_free(&day->r[i]);
	free(day->r);
	memset(day, 0, sizeof(*day));
}

/* A fixed-seed shuffle (xorshift), the same on every machine. */
static void s_shuffle(size_t *v, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = n; i > 1; i--) {
		size_t j;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Feed the day in the order given, all in one batch, and flush. */
static void s_feed_day(decider_t *d, struct day *day, const size_t *order, int64_t now,
                       struct collect *c, bool flush_each)
{
	for (size_t i = 0; i < day->n; i++) {
		s_feed(d, &day->r[order != NULL ? order[i] : i], now, c);
		if (flush_each)
			s_flush(d, now, c);
	}
	s_flush(d, now, c);
}

/* "rule side ticker id" of every intent, sorted, one string. */
static char *s_decisions(const struct collect *c, bool with_ids)
{
	char **lines = calloc(c->ni + 1, sizeof(*lines));
	size_t len = 1;
	char *out;

	assert_non_null(lines);
	for (size_t i = 0; i < c->ni; i++) {
		const intent_t *in = s_intent(c, i);

		assert_true(asprintf(&lines[i], "%s %s %s %s\n", in->rule, side_name(in->side),
		                     in->ticker, with_ids ? in->id : "") > 0);
		len += strlen(lines[i]);
	}
	for (size_t i = 0; i + 1 < c->ni; i++)
		for (size_t j = i + 1; j < c->ni; j++)
			if (strcmp(lines[i], lines[j]) > 0) {
				char *t = lines[i];
				lines[i] = lines[j];
				lines[j] = t;
			}
	out = calloc(1, len);
	assert_non_null(out);
	for (size_t i = 0; i < c->ni; i++) {
		strcat(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return out;
}

/* ================= the day: every rule at once ================= */

static void test_day_gives_exactly_the_intents_the_rules_call_for(void **state)
{
	struct day day = s_read_day("day1.jsonl");
	struct decider_opts o = s_opts(test_tmpdir());
	decider_t *d = s_new(&o);
	struct collect c = { 0 };
	size_t evidence = 0;
	char *got;

	(void)state;
	s_feed_day(d, &day, NULL, NOW, &c, false);
	got = s_decisions(&c, false);
	assert_string_equal(got, "cluster_buy buy KAPP \n"
	                         "executive_trade buy ACME \n"
	                         "executive_trade buy DELT \n"
	                         "executive_trade sell GAMA \n");
	free(got);
	for (size_t i = 0; i < c.ni; i++) {
		const intent_t *in = s_intent(&c, i);

		evidence += in->n_evidence;
		if (strcmp(in->ticker, "ACME") == 0) {
			assert_string_equal(
			    in->reason, "CFO Doe John bought 12,000 shares (2.4% of holdings) of "
			                "ACME on 2026-04-22 in 3 transactions");
			assert_int_equal(in->n_evidence, 3);
			/* volume-weighted: (10.00 + 10.10 + 10.20) / 3 */
			assert_true(fabs(in->ref_price - 10.10) < 1e-9);
		} else if (strcmp(in->ticker, "GAMA") == 0) {
			assert_string_equal(in->reason, "EVP & COO JONES BOB sold 20,000 shares "
			                                "(100% of holdings) of GAMA on 2026-04-23");
		} else if (strcmp(in->ticker, "DELT") == 0) {
			assert_string_equal(in->reason,
			                    "Pres. & CEO Brown Carl bought 5,000 shares "
			                    "(a new position) of DELT on 2026-04-23");
		} else {
			assert_string_equal(in->reason,
			                    "3 executives bought KAPP between 2026-04-17 and "
			                    "2026-04-23: Chief Legal Officer Lee Ann, SVP, CFO Kim "
			                    "Ray, COB, CEO Ford Tom");
			assert_string_equal(in->figi, "BBG000KAPP01");
			assert_true(fabs(in->ref_price - 21.00) < 1e-9);
		}
		assert_true(isnan(in->qty));
		assert_true(in->notional == 1000);
		assert_true(in->created_at == NOW);
		assert_true(in->expires_at == NOW + 48 * 3600);
		for (size_t k = 1; k < in->n_evidence; k++)
			assert_true(strcmp(in->evidence[k - 1], in->evidence[k]) < 0);
	}
	/* Every other trade has exactly one drop, with the rule that stopped it. */
	assert_int_equal(c.nd + evidence, day.n);
	s_expect_drop(&c, "openinsider:0001209191-26-000101:John Doe:P",
	              "already used: same transaction seen via edgar");
	s_expect_drop(&c, "edgar:0001209191-26-000102:1", "not an executive: Director");
	s_expect_drop(&c, "edgar:0001209191-26-000103:1", "0.5% of holdings");
	s_expect_drop(&c, "finviz:0001209191-26-000104:JONES BOB:S",
	              "already used: same transaction seen via edgar");
	s_expect_drop(&c, "openinsider:0001209191-26-000106:Green Dana:P", "10b5-1 plan");
	s_expect_drop(&c, "edgar:0001209191-26-000107:1", "code M");
	s_expect_drop(&c, "edgar:0001209191-26-000108:1", "filed 5 days ago");
	s_expect_drop(&c, "edgar:0001209191-26-000109:1", "market cap 250B USD");
	s_expect_drop(&c, "edgar:0001209191-26-000113:1", "not an executive: Dir");
	s_expect_drop(&c, "edgar:0001209191-26-000150:1",
	              "4/A repeats a transaction already seen in 0001209191-26-000105");
	s_expect_drop(&c, "edgar:0001209191-26-000114:1", "not an executive: See Remarks");
	s_expect_drop(&c, "edgar:0001209191-26-000115:1", "holdings unknown");
	assert_int_equal(decider_intent_count(d), 4);
	decider_free(&d);
	assert_null(d);
	s_collect_reset(&c);
	s_day_free(&day);
	free((char *)o.state_dir);
}

/* ================= executive_trade ================= */

/* One table: title, code, shares, shares_after -> intent or the drop. */
static void test_executive_trade_table(void **state)
{
	static const struct {
		const char *title;
		const char *code;
		double shares, after;
		const char *want; /* NULL: an intent; else a piece of the drop */
	} rows[] = {
		{ "CEO", "P", 10000, 510000, NULL },
		{ "Pres, CEO", "P", 10000, 510000, NULL },
		{ "EVP, CFO", "S", 10000, 490000, NULL },
		{ "Chief Legal Officer", "S", 10000, 490000, NULL },
		{ "COB, CEO", "P", 10000, 510000, NULL },
		{ "CEO, Pres", "P", 10000, 510000, NULL },
		{ "Dir, 10%", "P", 10000, 510000, "not an executive: Dir, 10%" },
		{ "See Remarks", "P", 10000, 510000, "not an executive: See Remarks" },
		{ "VP", "P", 10000, 510000, "not an executive: VP" },
		{ "10%", "P", 10000, 510000, "not an executive: 10%" },
		{ NULL, "P", 10000, 510000, "not an executive: no title" },
		{ "CEO", "A", 10000, 510000, "code A is not an open-market purchase or sale" },
		{ "CEO", "F", 10000, 510000, "code F" },
		{ "CEO", "G", 10000, 510000, "code G" },
		{ "CEO", "M", 10000, 510000, "code M" },
		{ "CEO", "P", 2000, 502000, "0.4% of holdings (more than 1% needed)" },
		{ "CEO", "S", 2000, 498000, "0.4% of holdings" },
	};
	struct decider_opts o = s_opts(test_tmpdir());
	decider_t *d;

	(void)state;
	o.cluster_enabled = false;
	d = s_new(&o);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct collect c = { 0 };
		char key[32], acc[32], ticker[16];

		snprintf(key, sizeof(key), "k%zu", i);
		snprintf(acc, sizeof(acc), "0000000000-26-%06zu", i);
		snprintf(ticker, sizeof(ticker), "T%zu", i);
		s_one(d,
		      s_mk(key, acc, "Owner Some", rows[i].title, ticker, "2026-04-23",
		           rows[i].code, rows[i].shares, 10, rows[i].after),
		      NOW, &c);
		if (rows[i].want == NULL) {
			if (c.ni != 1)
				fail_msg("row %zu (%s): no intent: %s", i, rows[i].title,
				         c.nd > 0 ? c.drops[0].reason : "");
			assert_int_equal(s_intent(&c, 0)->side,
			                 rows[i].code[0] == 'P' ? SIDE_BUY : SIDE_SELL);
			assert_string_equal(s_intent(&c, 0)->rule, "executive_trade");
		} else {
			assert_int_equal(c.ni, 0);
			s_expect_drop(&c, key, rows[i].want);
		}
		s_collect_reset(&c);
	}
	decider_free(&d);
	free((char *)o.state_dir);
}

/* The ratio against holdings before (and after, as the original did). */
static void test_fraction_of_holdings_table(void **state)
{
	static const struct {
		const char *code;
		double shares, after;
		enum fraction_of of;
		double min;
		const char *want; /* a piece of the reason (intent) or of the drop */
		bool intent;
	} rows[] = {
		/* 1,000 of the 99,000 held before: 1.01% */
		{ "P", 1000, 100000, FRACTION_OF_BEFORE, 0.01, "(1.01% of holdings)", true },
		/* the original: 1,000 / 100,000 after = 1%, not more than 1% */
		{ "P", 1000, 100000, FRACTION_OF_AFTER, 0.01,
		  "1% of holdings after the trade (more than 1% needed)", false },
		/* a sale of 500 out of 50,000 is 1%: the original overstated it */
		{ "S", 500, 49500, FRACTION_OF_BEFORE, 0.01, "1% of holdings (more than 1% needed)",
		  false },
		{ "S", 500, 49500, FRACTION_OF_AFTER, 0.01, "(1.01% of holdings after the trade)",
		  true },
		{ "P", 5000, 5000, FRACTION_OF_BEFORE, 0.01, "(a new position)", true },
		{ "P", 100, 100100, FRACTION_OF_BEFORE, 0.01, "0.1% of holdings", false },
		{ "P", 100, NAN, FRACTION_OF_BEFORE, 0.01, "holdings unknown", false },
		{ "P", 100, NAN, FRACTION_OF_BEFORE, 0, "(holdings unknown)", true },
		{ "P", 4000, 104000, FRACTION_OF_BEFORE, 0.05,
		  "4% of holdings (more than 5% needed)", false },
		{ "P", 6000, 106000, FRACTION_OF_BEFORE, 0.05, "(6% of holdings)", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d;

		o.fraction_of = rows[i].of;
		o.exec_min_fraction = rows[i].min;
		d = s_new(&o);
		s_one(d,
		      s_mk("k", "0000000000-26-000001", "Owner Some", "CEO", "ACME", "2026-04-23",
		           rows[i].code, rows[i].shares, 10, rows[i].after),
		      NOW, &c);
		if (rows[i].intent) {
			if (c.ni != 1)
				fail_msg("row %zu: no intent: %s", i,
				         c.nd > 0 ? c.drops[0].reason : "");
			if (strstr(s_intent(&c, 0)->reason, rows[i].want) == NULL)
				fail_msg("row %zu: reason '%s', want '%s'", i,
				         s_intent(&c, 0)->reason, rows[i].want);
		} else {
			assert_int_equal(c.ni, 0);
			s_expect_drop(&c, "k", rows[i].want);
		}
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* The original's failure: shares / shares_after with shares_after = 0. */
static void test_sale_of_whole_stake_is_100_percent_not_division_by_zero(void **state)
{
	for (int of = 0; of < 2; of++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d;

		(void)state;
		o.fraction_of = of == 0 ? FRACTION_OF_BEFORE : FRACTION_OF_AFTER;
		d = s_new(&o);
		s_one(d,
		      s_mk("k", "0000000000-26-000001", "Owner Some", "CFO", "ACME", "2026-04-23",
		           "S", 5000, 10, 0),
		      NOW, &c);
		assert_int_equal(c.ni, 1);
		assert_int_equal(s_intent(&c, 0)->side, SIDE_SELL);
		assert_non_null(strstr(s_intent(&c, 0)->reason,
		                       of == 0
		                           ? "(100% of holdings)"
		                           : "(all of the holdings: none left after the trade)"));
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* The rows of one filing by one owner on one side are one signal, measured
 * together: each fill alone is under 1%, the three are 2.4%. */
static void test_rows_of_one_filing_are_one_signal(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	record_t r[3];
	decider_t *d = s_new(&o);

	(void)state;
	r[0] = s_mk("a1", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P",
	            4000, 10, 504000);
	r[1] = s_mk("a2", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P",
	            4000, 10, 508000);
	r[2] = s_mk("a3", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-23", "P",
	            4000, 10, 512000);
	for (int i = 0; i < 3; i++)
		s_feed(d, &r[i], NOW, &c);
	assert_int_equal(c.ni, 0); /* judged at the flush, together */
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 1);
	assert_int_equal(c.nd, 0);
	assert_int_equal(s_intent(&c, 0)->n_evidence, 3);
	assert_string_equal(s_intent(&c, 0)->reason,
	                    "CFO Doe John bought 12,000 shares (2.4% of holdings) of ACME between "
	                    "2026-04-22 and 2026-04-23 in 3 transactions");
	for (int i = 0; i < 3; i++)
		record_free(&r[i]);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* A row arriving after its filing made an intent adds nothing. */
static void test_later_row_of_a_signalled_filing_adds_nothing(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);

	(void)state;
	s_one(d,
	      s_mk("a1", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P",
	           40000, 10, 540000),
	      NOW, &c);
	assert_int_equal(c.ni, 1);
	s_one(d,
	      s_mk("a2", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P",
	           40000, 10, 580000),
	      NOW + 60, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, "a2",
	              "already used: filing 0000000000-26-000001 by Doe John already signalled");
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* Rows of one filing split across flushes: judged as the group grows. */
static void test_group_below_threshold_signals_when_it_grows(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d;

	(void)state;
	o.cluster_enabled = false;
	d = s_new(&o);
	s_one(d,
	      s_mk("a1", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P", 3000,
	           10, 503000),
	      NOW, &c);
	assert_int_equal(c.ni, 0);
	s_expect_drop(&c, "a1", "0.6% of holdings");
	s_one(d,
	      s_mk("a2", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P", 3000,
	           10, 506000),
	      NOW, &c);
	assert_int_equal(c.ni, 1);
	assert_int_equal(s_intent(&c, 0)->n_evidence, 2);
	assert_non_null(strstr(s_intent(&c, 0)->reason, "(1.2% of holdings)"));
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* ================= never twice ================= */

/* The original's failure: no memory, so it bought every day the row was on
 * the page. */
static void test_row_still_on_page_next_day_buys_once(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);

	(void)state;
	s_one(d,
	      s_mk("row", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	           10000, 10, 510000),
	      NOW, &c);
	assert_int_equal(c.ni, 1);
	/* the next day: the same row, still within the recency window */
	s_one(d,
	      s_mk("row", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	           10000, 10, 510000),
	      NOW + DAY, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, "row", "already used: evidence of intent");
	/* and after a restart */
	decider_free(&d);
	d = s_new(&o);
	s_one(d,
	      s_mk("row", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	           10000, 10, 510000),
	      NOW + 2 * DAY, &c);
	assert_int_equal(c.ni, 1);
	assert_int_equal(decider_intent_count(d), 1);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* A kill can lose an intent in a ZeroMQ queue after the window recorded it:
 * the repeat of its evidence (the scraper's next cycle, after a restart)
 * sends the very same intent again through sink->resend, once per group,
 * and still makes no new one. */
static void test_repeat_after_restart_sends_the_same_intent_again(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 }, again = { 0 };
	struct decision_sink sink = {
		.ctx = &again, .intent = s_on_intent_mp, .drop = s_on_drop, .resend = s_on_intent
	};
	decider_t *d = s_new(&o);
	record_t r;

	(void)state;
	s_one(d,
	      s_mk("row", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	           10000, 10, 510000),
	      NOW, &c);
	assert_int_equal(c.ni, 1);
	decider_free(&d);
	d = s_new(&o);
	for (int k = 0; k < 2; k++) { /* the row, twice in a row: one copy */
		r = s_mk("row", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23",
		         "P", 10000, 10, 510000);
		assert_int_equal(decider_handle_trade(d, &r.u.trade, NOW + 600, &sink), 0);
		record_free(&r);
	}
	assert_int_equal(decider_flush(d, NOW + 600, &sink), 0);
	assert_int_equal(again.ni, 1);
	assert_string_equal(again.intents[0].u.intent.id, c.intents[0].u.intent.id);
	assert_string_equal(again.intents[0].u.intent.reason, c.intents[0].u.intent.reason);
	assert_int_equal(again.intents[0].u.intent.created_at, c.intents[0].u.intent.created_at);
	assert_true(again.intents[0].u.intent.notional == c.intents[0].u.intent.notional);
	assert_int_equal(decider_intent_count(d), 1);
	s_collect_reset(&c);
	s_collect_reset(&again);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* The same trades fed twice, then again after closing and reopening the
 * state file, add no intent id. */
static void test_same_trades_twice_or_after_restart_add_no_intent(void **state)
{
	struct day day = s_read_day("day1.jsonl");
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	size_t first;

	(void)state;
	s_feed_day(d, &day, NULL, NOW, &c, false);
	first = c.ni;
	assert_int_equal(first, 4);
	s_collect_reset(&c);
	s_feed_day(d, &day, NULL, NOW + 600, &c, false);
	assert_int_equal(c.ni, 0);
	assert_int_equal(c.nd, day.n); /* each repeat answered */
	s_collect_reset(&c);
	decider_free(&d);
	d = s_new(&o);
	s_feed_day(d, &day, NULL, NOW + 1200, &c, true);
	assert_int_equal(c.ni, 0);
	assert_int_equal(c.nd, day.n);
	assert_int_equal(decider_intent_count(d), (long)first);
	s_collect_reset(&c);
	decider_free(&d);
	s_day_free(&day);
	free((char *)o.state_dir);
}

/* Any order, one batch: the same intents with the same ids, the same drop
 * for every trade. */
static void test_shuffled_day_gives_the_same_decisions_and_ids(void **state)
{
	struct day day = s_read_day("day1.jsonl");
	char *want = NULL;
	size_t *order = calloc(day.n, sizeof(*order));
	struct collect base = { 0 };

	(void)state;
	assert_non_null(order);
	for (uint64_t seed = 0; seed < 6; seed++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);
		char *got;

		for (size_t i = 0; i < day.n; i++)
			order[i] = i;
		if (seed > 0)
			s_shuffle(order, day.n, seed);
		s_feed_day(d, &day, order, NOW, &c, false);
		got = s_decisions(&c, true);
		if (want == NULL) {
			want = got;
			base = c;
			memset(&c, 0, sizeof(c));
		} else {
			assert_string_equal(got, want);
			assert_int_equal(c.nd, base.nd);
			for (size_t i = 0; i < base.nd; i++)
				assert_string_equal(s_drop_of(&c, base.drops[i].key),
				                    base.drops[i].reason);
			free(got);
		}
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
	free(want);
	free(order);
	s_collect_reset(&base);
	s_day_free(&day);
}

/* Any order, one trade per flush (a stream): the same decisions (rule, side,
 * ticker), each once; ids may differ when a group is seen in parts. */
static void test_streamed_day_in_any_order_never_decides_twice(void **state)
{
	struct day day = s_read_day("day1.jsonl");
	size_t *order = calloc(day.n, sizeof(*order));

	(void)state;
	assert_non_null(order);
	for (uint64_t seed = 1; seed < 8; seed++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);
		char *got;

		for (size_t i = 0; i < day.n; i++)
			order[i] = i;
		s_shuffle(order, day.n, seed);
		s_feed_day(d, &day, order, NOW, &c, true);
		got = s_decisions(&c, false);
		assert_string_equal(got, "cluster_buy buy KAPP \n"
		                         "executive_trade buy ACME \n"
		                         "executive_trade buy DELT \n"
		                         "executive_trade sell GAMA \n");
		free(got);
		s_collect_reset(&c);
		/* and the whole day again adds nothing */
		s_feed_day(d, &day, NULL, NOW + 60, &c, false);
		assert_int_equal(c.ni, 0);
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
	free(order);
	s_day_free(&day);
}

static record_t s_edgar_row(void)
{
	record_t r = s_mk("edgar:0000000000-26-000001:1", "0000000000-26-000001", "DOE JOHN A",
	                  "CFO", "ACME", "2026-04-23", "P", 10000, 10, 510000);

	s_set(&r.u.trade.owner_cik, "0001000001");
	return r;
}

static record_t s_openinsider_row(void)
{
	record_t r = s_mk("openinsider:0000000000-26-000001:John A. Doe:P", "0000000000-26-000001",
	                  "John A. Doe", "CFO", "ACME", "2026-04-23", "P", 10000, 10, 510000);

	s_set(&r.u.trade.source, "openinsider");
	return r;
}

/* EDGAR and OpenInsider show the same transaction: one intent, in either
 * order, in one batch or two; the names differ, one side has no CIK. */
static void test_same_transaction_via_two_sources_is_one_signal(void **state)
{
	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);
		record_t e = s_edgar_row(), oi = s_openinsider_row();

		if (mode == 0) { /* edgar first, separate flushes */
			s_feed(d, &e, NOW, &c);
			s_flush(d, NOW, &c);
			s_feed(d, &oi, NOW, &c);
			s_flush(d, NOW, &c);
			s_expect_drop(&c, oi.u.trade.key,
			              "already used: same transaction seen via edgar");
		} else if (mode == 1) { /* openinsider first, separate flushes */
			s_feed(d, &oi, NOW, &c);
			s_flush(d, NOW, &c);
			s_feed(d, &e, NOW, &c);
			s_flush(d, NOW, &c);
			s_expect_drop(&c, e.u.trade.key,
			              "already used: same transaction seen via openinsider");
		} else { /* one batch, openinsider arriving first: edgar's rows win */
			s_feed(d, &oi, NOW, &c);
			s_feed(d, &e, NOW, &c);
			s_flush(d, NOW, &c);
			assert_true(s_has_evidence(s_intent(&c, 0), e.u.trade.key));
			s_expect_drop(&c, oi.u.trade.key, "seen via edgar");
		}
		assert_int_equal(c.ni, 1);
		assert_int_equal(c.nd, 1);
		record_free(&e);
		record_free(&oi);
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* With a CIK on both sides the CIK decides: other names, one owner; the
 * same name, two owners (joint filers). */
static void test_owner_cik_decides_when_both_sources_have_one(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	record_t e = s_edgar_row(), oi = s_openinsider_row(), other;

	(void)state;
	s_set(&oi.u.trade.owner, "Doe Family Trust");
	s_set(&oi.u.trade.owner_cik, "0001000001");
	s_feed(d, &e, NOW, &c);
	s_flush(d, NOW, &c);
	s_feed(d, &oi, NOW, &c);
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, oi.u.trade.key, "seen via edgar");
	/* another reporting owner of the same filing, same name, another CIK */
	other = s_openinsider_row();
	s_set(&other.u.trade.key, "openinsider:other");
	s_set(&other.u.trade.owner, "DOE JOHN A");
	s_set(&other.u.trade.owner_cik, "0001000099");
	s_feed(d, &other, NOW, &c);
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 2);
	record_free(&e);
	record_free(&oi);
	record_free(&other);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* A 4/A repeating a transaction already seen is not new, in either order. */
static void test_amendment_repeating_a_transaction_is_not_new(void **state)
{
	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);
		/* in mode 1 the amendment's group sorts first by accession and
		 * key, so only the originals-first rule makes the original win */
		record_t orig =
		    s_mk(mode == 0 ? "orig" : "z-orig",
		         mode == 0 ? "0000000000-26-000001" : "0000000000-26-000500", "Doe John",
		         "CEO", "ACME", "2026-04-23", "P", 10000, 10, 510000);
		record_t amend =
		    s_mk("amend", mode == 0 ? "0000000000-26-000009" : "0000000000-26-000400",
		         "DOE JOHN", "CEO", "ACME", "2026-04-23", "P", 10000, 10, 510000);

		amend.u.trade.amendment = true;
		if (mode == 0) {
			s_one(d, orig, NOW, &c);
			s_one(d, amend, NOW, &c);
			s_expect_drop(&c, "amend",
			              "4/A repeats a transaction already seen in "
			              "0000000000-26-000001");
		} else { /* amendment first, in the same batch: the original is used */
			s_feed(d, &amend, NOW, &c);
			s_feed(d, &orig, NOW, &c);
			s_flush(d, NOW, &c);
			assert_true(s_has_evidence(s_intent(&c, 0), "z-orig"));
			s_expect_drop(&c, "amend", "4/A repeats");
			record_free(&orig);
			record_free(&amend);
		}
		assert_int_equal(c.ni, 1);
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* A 4/A with a transaction not seen before is judged like any trade; one
 * about a trade older than the memory cannot be checked and is dropped. */
static void test_amendment_with_a_new_transaction_is_judged(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	record_t a = s_mk("amend", "0000000000-26-000009", "Doe John", "CEO", "ACME", "2026-04-23",
	                  "P", 20000, 10, 520000);
	record_t old = s_mk("old", "0000000000-26-000010", "Doe John", "CEO", "ACME", "2026-02-02",
	                    "P", 20000, 10, 520000);

	(void)state;
	a.u.trade.amendment = true;
	old.u.trade.amendment = true;
	s_one(d, a, NOW, &c);
	assert_int_equal(c.ni, 1);
	s_one(d, old, NOW, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, "old", "older than the 14-day memory");
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* ================= cluster_buy ================= */

/* An executive's small purchase (0.5%: no executive_trade signal). */
static record_t s_small_buy(int n, const char *owner, const char *title, const char *date)
{
	char key[32], acc[32];

	snprintf(key, sizeof(key), "c%d", n);
	snprintf(acc, sizeof(acc), "0000000000-26-%06d", 100 + n);
	return s_mk(key, acc, owner, title, "KAPP", date, "P", 500, 20, 100500);
}

static void test_cluster_forms_at_exactly_the_third_executive(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	const intent_t *in;

	(void)state;
	s_one(d, s_small_buy(1, "Lee Ann", "Chief Legal Officer", "2026-04-18"), NOW, &c);
	s_expect_drop(&c, "c1", "cluster_buy: 1 of 3 executives within 7 days");
	s_one(d, s_small_buy(2, "Park Sue", "Dir", "2026-04-19"), NOW, &c);
	s_one(d, s_small_buy(3, "Kim Ray", "EVP, CFO", "2026-04-20"), NOW, &c);
	s_expect_drop(&c, "c3", "0.5% of holdings (more than 1% needed); cluster_buy: 2 of 3");
	assert_int_equal(c.ni, 0);
	s_one(d, s_small_buy(4, "Ford Tom", "Pres, CEO", "2026-04-23"), NOW, &c);
	assert_int_equal(c.ni, 1);
	in = s_intent(&c, 0);
	assert_string_equal(in->rule, "cluster_buy");
	assert_int_equal(in->side, SIDE_BUY);
	assert_int_equal(in->n_evidence, 3);
	assert_true(s_has_evidence(in, "c1") && s_has_evidence(in, "c3") &&
	            s_has_evidence(in, "c4"));
	assert_null(s_drop_of(&c, "c4"));
	/* a fourth executive adds nothing */
	s_one(d, s_small_buy(5, "Hill Ivy", "COO", "2026-04-23"), NOW, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, "c5", "cluster_buy: later member of cluster");
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* An intent made of rows judged in earlier batches, before a restart:
 * their owners, titles and instrument (not kept in memory) come back from
 * the file, and the reason and intent are what they were. */
static void test_older_rows_words_come_back_after_a_restart(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	const intent_t *in;
	record_t r;

	(void)state;
	r = s_small_buy(1, "Lee Ann", "Chief Legal Officer", "2026-04-18");
	s_set_instrument(&r.u.trade, "BBG000000001", 1e9);
	s_one(d, r, NOW, &c);
	r = s_small_buy(3, "Kim Ray", "EVP, CFO", "2026-04-20");
	s_set_instrument(&r.u.trade, "BBG000000003", 1e9);
	s_one(d, r, NOW, &c);
	s_one(d,
	      s_mk("a1", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P", 3000,
	           10, 503000),
	      NOW, &c);
	assert_int_equal(c.ni, 0);
	decider_free(&d);
	d = s_new(&o);
	/* the third executive, without an instrument */
	s_one(d, s_small_buy(4, "Ford Tom", "Pres, CEO", "2026-04-23"), NOW, &c);
	assert_int_equal(c.ni, 1);
	in = s_intent(&c, 0);
	assert_string_equal(in->reason, "3 executives bought KAPP between 2026-04-18 and "
	                                "2026-04-23: Chief Legal Officer Lee Ann, EVP, CFO Kim "
	                                "Ray, Pres, CEO Ford Tom");
	assert_string_equal(in->figi, "BBG000000003");
	assert_string_equal(in->ticker, "KAPP");
	/* a group that grows past the threshold: its first row is older */
	s_one(d,
	      s_mk("a2", "0000000000-26-000001", "Doe John", "CFO", "ACME", "2026-04-22", "P", 3000,
	           10, 506000),
	      NOW, &c);
	assert_int_equal(c.ni, 2);
	assert_string_equal(s_intent(&c, 1)->reason,
	                    "CFO Doe John bought 6,000 shares (1.2% of holdings) of ACME on "
	                    "2026-04-22 in 2 transactions");
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

static void test_cluster_is_not_formed_by_directors_or_one_executive_twice(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	record_t r[6];

	(void)state;
	r[0] = s_small_buy(1, "Lee Ann", "CEO", "2026-04-20");
	r[1] = s_small_buy(2, "Park Sue", "Director", "2026-04-20");
	r[2] = s_small_buy(3, "Kim Ray", "10% Owner", "2026-04-21");
	r[3] = s_small_buy(4, "Lee Ann", "CEO", "2026-04-22"); /* the same executive again */
	r[4] = s_small_buy(5, "Ford Tom", "CFO", "2026-04-22");
	/* Ford Tom's trade again, through OpenInsider */
	r[5] = s_small_buy(6, "Tom Ford", "CFO", "2026-04-22");
	s_set(&r[5].u.trade.source, "openinsider");
	s_set(&r[5].u.trade.accession, r[4].u.trade.accession);
	for (int i = 0; i < 6; i++) {
		s_feed(d, &r[i], NOW, &c);
		record_free(&r[i]);
	}
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 0);
	s_expect_drop(&c, "c5", "cluster_buy: 2 of 3 executives");
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* "Within 7 days of each other": trade dates at most 7 days apart. */
static void test_cluster_window_boundary(void **state)
{
	(void)state;
	for (int span = 7; span <= 8; span++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);
		civil_date_t last = { 2026, 4, 23 }, first = date_add_days(last, -span);
		char d0[11], d1[11];

		date_format(first, d0, sizeof(d0));
		date_format(last, d1, sizeof(d1));
		s_one(d, s_small_buy(1, "Lee Ann", "CEO", d0), NOW, &c);
		s_one(d, s_small_buy(2, "Kim Ray", "CFO", "2026-04-19"), NOW, &c);
		s_one(d, s_small_buy(3, "Ford Tom", "COO", d1), NOW, &c);
		assert_int_equal(c.ni, span == 7 ? 1 : 0);
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* ================= recency, plan, market cap, value ================= */

static void test_recency_boundary(void **state)
{
	static const struct {
		int64_t filed_ago; /* seconds before NOW; -1: no filed_at */
		const char *date;
		const char *want; /* NULL: an intent */
	} rows[] = {
		{ 3 * DAY, "2026-04-21", NULL },
		{ 3 * DAY + 1, "2026-04-21", "filed 3.0 days ago (more than 3)" },
		{ 5 * DAY, "2026-04-17", "filed 5 days ago" },
		{ -1, "2026-04-21", NULL },
		{ -1, "2026-04-20", "traded 4 days ago, filing time unknown (more than 3)" },
		{ -3600, "2026-04-24", NULL }, /* filed "in the future": a clock skew, kept */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);
		record_t r = s_mk("k", "0000000000-26-000001", "Doe John", "CEO", "ACME",
		                  rows[i].date, "P", 10000, 10, 510000);

		r.u.trade.filed_at =
		    rows[i].filed_ago == -1 ? REC_NULL_TIME : NOW - rows[i].filed_ago;
		s_one(d, r, NOW, &c);
		if (rows[i].want == NULL)
			assert_int_equal(c.ni, 1);
		else
			s_expect_drop(&c, "k", rows[i].want);
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

static void test_filters_table(void **state)
{
	enum { PLANNED, MCAP_BIG, MCAP_SMALL, MCAP_UNKNOWN, VALUE_SMALL, VALUE_UNKNOWN };
	static const struct {
		int what;
		bool switch_off; /* the rule's switch off (or allow_unknown off) */
		const char *want;
	} rows[] = {
		{ PLANNED, false, "10b5-1 plan" },
		{ PLANNED, true, NULL },
		{ MCAP_BIG, false, "market cap 12.5B USD above the 10B USD maximum" },
		{ MCAP_BIG, true, NULL },
		{ MCAP_SMALL, false, NULL },
		{ MCAP_UNKNOWN, false, NULL },
		{ MCAP_UNKNOWN, true, "market cap unknown" },
		{ VALUE_SMALL, false, "value 8,000 USD below the 10,000 USD minimum" },
		{ VALUE_SMALL, true, NULL },
		{ VALUE_UNKNOWN, false, "value unknown (minimum 10,000 USD)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d;
		record_t r = s_mk("k", "0000000000-26-000001", "Doe John", "CEO", "ACME",
		                  "2026-04-23", "P", 1000, 8, 11000);
		trade_t *t = &r.u.trade;

		switch (rows[i].what) {
		case PLANNED:
			t->planned = true;
			o.planned_exclude = !rows[i].switch_off;
			break;
		case MCAP_BIG:
		case MCAP_SMALL:
			s_set_instrument(t, "BBG000ACME01",
			                 rows[i].what == MCAP_BIG ? 12.5e9 : 900e6);
			o.mcap_enabled = !rows[i].switch_off;
			break;
		case MCAP_UNKNOWN:
			s_set_instrument(t, "BBG000ACME01", NAN);
			o.mcap_allow_unknown = !rows[i].switch_off;
			break;
		case VALUE_SMALL:
			o.min_value = rows[i].switch_off ? 0 : 10000;
			break;
		case VALUE_UNKNOWN:
			t->price = NAN;
			t->value = NAN;
			o.min_value = 10000;
			break;
		}
		d = s_new(&o);
		s_one(d, r, NOW, &c);
		if (rows[i].want == NULL) {
			if (c.ni != 1)
				fail_msg("row %zu: %s", i, c.nd > 0 ? c.drops[0].reason : "");
		} else {
			assert_int_equal(c.ni, 0);
			s_expect_drop(&c, "k", rows[i].want);
		}
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* The minimum applies to the group: two fills of 6,000 USD pass 10,000. */
static void test_minimum_value_counts_the_whole_filing(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d;
	record_t a = s_mk("a", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	                  600, 10, 10600);
	record_t b = s_mk("b", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	                  600, 10, 11200);

	(void)state;
	o.min_value = 10000;
	d = s_new(&o);
	s_feed(d, &a, NOW, &c);
	s_feed(d, &b, NOW, &c);
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 1);
	record_free(&a);
	record_free(&b);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* ================= sizing, ids, engine ================= */

static void test_sizing_modes(void **state)
{
	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d;
		const intent_t *in;

		o.sizing.mode = (enum sizing_mode)mode;
		o.sizing.equity = 250000;
		o.sizing.fraction = 0.02;
		d = s_new(&o);
		s_one(d,
		      s_mk("k", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23",
		           "P", 10000, 12.5, 510000),
		      NOW, &c);
		in = s_intent(&c, 0);
		assert_true(in->ref_price == 12.5);
		if (mode == SIZING_SHARES) {
			assert_true(in->qty == 1);
			assert_true(isnan(in->notional));
		} else {
			assert_true(isnan(in->qty));
			assert_true(in->notional == (mode == SIZING_NOTIONAL ? 1000 : 5000));
		}
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
}

/* The same evidence gives the same id, whatever state file it meets;
 * other evidence another id. */
static void test_intent_id_is_derived_from_the_evidence(void **state)
{
	char ids[3][64];

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct decider_opts o = s_opts(test_tmpdir());
		struct collect c = { 0 };
		decider_t *d = s_new(&o);

		s_one(d,
		      s_mk(i < 2 ? "k1" : "k2", "0000000000-26-000001", "Doe John", "CEO", "ACME",
		           "2026-04-23", "P", 10000, 10, 510000),
		      NOW + i * 60, &c);
		snprintf(ids[i], sizeof(ids[i]), "%s", s_intent(&c, 0)->id);
		assert_int_equal(strlen(ids[i]), 32);
		s_collect_reset(&c);
		decider_free(&d);
		free((char *)o.state_dir);
	}
	assert_string_equal(ids[0], ids[1]);
	assert_string_not_equal(ids[0], ids[2]);
}

static void test_invalid_trades_cost_one_drop(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	record_t r = s_mk("k", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	                  0, 10, 510000);

	(void)state;
	s_one(d, r, NOW, &c);
	s_expect_drop(&c, "k", "invalid trade: trade: shares must be > 0");
	r = s_mk("k2", NULL, "Doe John", "CEO", "acme", "2026-04-23", "P", 10, 10, 510000);
	s_one(d, r, NOW, &c);
	s_expect_drop(&c, "k2", "upper case");
	r = s_mk("k3", NULL, "Doe John", "CEO", "ACME", "2026-04-23", "P", 10, 10, 510000);
	free(r.u.trade.key);
	r.u.trade.key = NULL;
	s_one(d, r, NOW, &c);
	assert_int_equal(c.nd, 3);
	assert_null(c.drops[2].key);
	assert_non_null(strstr(c.drops[2].reason, "key missing"));
	assert_int_equal(c.ni, 0);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* The declines answered without printf say exactly what printf said:
 * a title is cut at 80 bytes, a repeat gives the stored outcome, and the
 * stage's entry for validated trades answers as the checking one does. */
static void test_decline_reasons_are_the_printf_sentences(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	struct decision_sink sink = s_sink(&c);
	decider_t *d = s_new(&o);
	char title[200], want[200];
	record_t r;

	(void)state;
	memset(title, 'x', sizeof(title) - 1);
	title[sizeof(title) - 1] = '\0';
	memcpy(title, "Director ", 9);
	r = s_mk("long", "0000000000-26-000001", "Doe John", title, "ACME", "2026-04-23", "P", 10,
	         10, 510000);
	s_one(d, r, NOW, &c);
	snprintf(want, sizeof(want), "not an executive: %.80s", title);
	assert_string_equal(s_drop_of(&c, "long"), want);
	/* the memo's second answer for a title is its first */
	for (int i = 0; i < 3; i++) {
		char key[16];

		snprintf(key, sizeof(key), "dir%d", i);
		r = s_mk(key, "0000000000-26-000002", "Roe Jane", "Director", "ACME", "2026-04-23",
		         "P", 10, 10, 510000);
		assert_int_equal(decider_handle_valid_trade(d, &r.u.trade, NOW, &sink), 0);
		record_free(&r);
		assert_string_equal(s_drop_of(&c, key), "not an executive: Director");
	}
	r = s_mk("code", "0000000000-26-000003", "Doe John", "CEO", "ACME", "2026-04-23", "M", 10,
	         10, 510000);
	s_one(d, r, NOW, &c);
	assert_string_equal(s_drop_of(&c, "code"), "code M is not an open-market purchase or sale");
	r = s_mk("plan", "0000000000-26-000004", "Doe John", "CEO", "ACME", "2026-04-23", "P", 10,
	         10, 510000);
	r.u.trade.planned = true;
	s_one(d, r, NOW, &c);
	assert_string_equal(s_drop_of(&c, "plan"), "10b5-1 plan");
	/* judged below the threshold, then repeated: the stored outcome */
	r = s_mk("small", "0000000000-26-000005", "Doe John", "CEO", "ACME", "2026-04-23", "P", 1,
	         10, 510000);
	s_one(d, r, NOW, &c);
	snprintf(want, sizeof(want), "%s", s_drop_of(&c, "small"));
	assert_non_null(strstr(want, "of holdings (more than 1% needed)"));
	r = s_mk("small", "0000000000-26-000005", "Doe John", "CEO", "ACME", "2026-04-23", "P", 1,
	         10, 510000);
	assert_int_equal(decider_handle_valid_trade(d, &r.u.trade, NOW, &sink), 0);
	record_free(&r);
	assert_string_equal(s_drop_of(&c, "small"), want);
	/* used, then repeated: the intent's id, 12 hex digits */
	r = s_mk("big", "0000000000-26-000006", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	         100000, 10, 510000);
	s_one(d, r, NOW, &c);
	assert_int_equal(c.ni, 1);
	r = s_mk("big", "0000000000-26-000006", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	         100000, 10, 510000);
	s_one(d, r, NOW, &c);
	snprintf(want, sizeof(want), "already used: evidence of intent %.12s", s_intent(&c, 0)->id);
	assert_string_equal(s_drop_of(&c, "big"), want);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* The last title's answer is kept (rules.c, s_title_filter): whatever
 * came before, each trade gets its own title's answer and reason. */
static void test_each_title_gets_its_own_answer_whatever_came_before(void **state)
{
	static const struct {
		const char *title; /* NULL: none */
		const char *want;  /* the drop, or NULL: waits (an executive) */
	} seq[] = {
		{ "Director", "not an executive: Director" },
		{ "Director", "not an executive: Director" },
		{ "CEO", NULL },
		{ "Director", "not an executive: Director" },
		{ "Dir", "not an executive: Dir" },
		{ "Director", "not an executive: Director" },
		{ "Directo", "not an executive: Directo" },
		{ "CEO", NULL },
		{ "CEO", NULL },
		{ NULL, "not an executive: no title" },
		{ "", "not an executive: no title" },
		{ "Director", "not an executive: Director" },
		{ "Chief Executive Officer and Director of the Company", NULL },
		{ "Director", "not an executive: Director" },
	};
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	struct decision_sink sink = s_sink(&c);
	decider_t *d = s_new(&o);
	char title[200], want[200];
	record_t r;

	(void)state;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		char key[16];
		size_t nd = c.nd;

		snprintf(key, sizeof(key), "t%zu", i);
		r = s_mk(key, NULL, "Doe John", seq[i].title, "ACME", "2026-04-23", "S", 10, 10,
		         510000);
		assert_int_equal(decider_handle_valid_trade(d, &r.u.trade, NOW, &sink), 0);
		record_free(&r);
		if (seq[i].want != NULL) {
			assert_int_equal(c.nd, nd + 1);
			assert_string_equal(s_drop_of(&c, key), seq[i].want);
		} else {
			assert_int_equal(c.nd, nd);
		}
	}
	/* titles too long to keep, one after the other, each cut at 80 */
	for (int i = 0; i < 3; i++) {
		char key[16];

		memset(title, 'a' + i, sizeof(title) - 1);
		title[sizeof(title) - 1] = '\0';
		snprintf(key, sizeof(key), "long%d", i);
		r = s_mk(key, NULL, "Doe John", title, "ACME", "2026-04-23", "S", 10, 10, 510000);
		s_one(d, r, NOW, &c);
		snprintf(want, sizeof(want), "not an executive: %.80s", title);
		assert_string_equal(s_drop_of(&c, key), want);
	}
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* An intent's reason: quantities with thousands and up to 4 decimals,
 * percentages with as many decimals as tell them from the threshold,
 * dates (rules.c formats these without printf). */
static void test_intent_reasons_print_numbers_and_dates_exactly(void **state)
{
	static const struct {
		double shares, after;
		const char *want;
	} tab[] = {
		{ 1004, 101004,
		  "CEO Doe John bought 1,004 shares (1.004% of holdings) of ACME on 2026-04-23" },
		{ 1234567.25, 1234567.25,
		  "CEO Doe John bought 1,234,567.25 shares (a new position) of ACME on "
		  "2026-04-23" },
		{ 999, 1000,
		  "CEO Doe John bought 999 shares (99900% of holdings) of ACME on 2026-04-23" },
		{ 0.5, 10.5,
		  "CEO Doe John bought 0.5 shares (5% of holdings) of ACME on 2026-04-23" },
		{ 10, 510, "CEO Doe John bought 10 shares (2% of holdings) of ACME on 2026-04-23" },
		{ 1000000000, 1100000000,
		  "CEO Doe John bought 1,000,000,000 shares (1000% of holdings) of ACME on "
		  "2026-04-23" },
	};
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char key[16], acc[32];

		snprintf(key, sizeof(key), "q%zu", i);
		snprintf(acc, sizeof(acc), "0000000000-26-%06zu", i);
		s_one(d,
		      s_mk(key, acc, "Doe John", "CEO", "ACME", "2026-04-23", "P", tab[i].shares,
		           10, tab[i].after),
		      NOW, &c);
		assert_int_equal(c.ni, i + 1);
		assert_string_equal(s_intent(&c, i)->reason, tab[i].want);
	}
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* A trade without an accession is its own group; a second source's copy
 * of it is found by its content. */
static void test_trade_without_accession_is_deduplicated_by_content(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d = s_new(&o);
	record_t a =
	    s_mk("fv:1", NULL, "Doe John", "CEO", "ACME", "2026-04-23", "P", 10000, 10, 510000);
	record_t b =
	    s_mk("oi:1", NULL, "John Doe", "CEO", "ACME", "2026-04-23", "P", 10000, 10, 510000);

	(void)state;
	s_set(&a.u.trade.source, "finviz");
	s_set(&b.u.trade.source, "openinsider");
	s_one(d, a, NOW, &c);
	s_one(d, b, NOW, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, "oi:1", "same transaction already seen as fv:1");
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

static void test_batch_flushes_itself_at_batch_max(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	decider_t *d;
	record_t a = s_mk("a", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	                  10000, 10, 510000);
	record_t b = s_mk("b", "0000000000-26-000002", "Roe Jane", "CFO", "BETA", "2026-04-23", "S",
	                  10000, 10, 490000);

	(void)state;
	o.batch_max = 2;
	d = s_new(&o);
	s_feed(d, &a, NOW, &c);
	assert_int_equal(decider_pending(d), 1);
	s_feed(d, &b, NOW, &c);
	assert_int_equal(decider_pending(d), 0);
	assert_int_equal(c.ni, 2);
	record_free(&a);
	record_free(&b);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* A sink that refuses an intent fails the flush, which rolls back: the
 * same trade sent again makes the intent (with the same id). */
static void test_refused_intent_rolls_the_batch_back(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	struct decision_sink sink = s_sink(&c);
	decider_t *d = s_new(&o);
	record_t a = s_mk("a", "0000000000-26-000001", "Doe John", "CEO", "ACME", "2026-04-23", "P",
	                  10000, 10, 510000);

	(void)state;
	c.refuse_intents = 1;
	assert_int_equal(decider_handle_trade(d, &a.u.trade, NOW, &sink), 0);
	assert_int_equal(decider_flush(d, NOW, &sink), -1);
	assert_int_equal(decider_intent_count(d), 0);
	c.refuse_intents = 0;
	s_feed(d, &a, NOW, &c);
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 1);
	record_free(&a);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

/* A read of decider.sqlite that fails mid-batch is not "absent": the 4/A
 * repeating an original already signalled must not become an intent of
 * its own (sent before the batch's commit fails, it would be the same
 * transaction bought twice).  The flush fails instead, and once the file
 * reads again the 4/A is the repeat it is. */
static void test_a_failed_read_makes_no_intent(void **state)
{
	struct decider_opts o = s_opts(test_tmpdir());
	struct collect c = { 0 };
	struct decision_sink sink = s_sink(&c);
	decider_t *d = s_new(&o);
	record_t orig = s_mk("orig", "0000000000-26-000001", "Doe John", "CEO", "ACME",
	                     "2026-04-23", "P", 10000, 10, 510000);
	record_t amend = s_mk("amend", "0000000000-26-000009", "Doe John", "CEO", "ACME",
	                      "2026-04-23", "P", 10000, 10, 510000);
	char path[1024];

	(void)state;
	amend.u.trade.amendment = true;
	s_one(d, orig, NOW, &c);
	assert_int_equal(c.ni, 1);
	snprintf(path, sizeof(path), "%s/decider.sqlite", o.state_dir);
	assert_int_equal(test_sql_exec(path, "ALTER TABLE trade RENAME TO trade_gone"), 0);
	assert_int_equal(decider_handle_trade(d, &amend.u.trade, NOW, &sink), 0);
	assert_int_equal(decider_flush(d, NOW, &sink), -1);
	assert_int_equal(c.ni, 1);
	assert_int_equal(test_sql_exec(path, "ALTER TABLE trade_gone RENAME TO trade"), 0);
	s_feed(d, &amend, NOW, &c);
	s_flush(d, NOW, &c);
	assert_int_equal(c.ni, 1);
	s_expect_drop(&c, "amend", "4/A repeats a transaction already seen");
	record_free(&amend);
	s_collect_reset(&c);
	decider_free(&d);
	free((char *)o.state_dir);
}

static void test_options_are_checked(void **state)
{
	struct decider_opts o = s_opts("/tmp/unused");
	char err[256];

	(void)state;
	assert_int_equal(decider_opts_check(&o, err, sizeof(err)), 0);
	o.cluster_min_executives = 1;
	assert_int_equal(decider_opts_check(&o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "min_executives"));
	o = s_opts("/tmp/unused");
	o.sizing.mode = SIZING_EQUITY_FRACTION; /* equity unset */
	assert_int_equal(decider_opts_check(&o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "equity"));
	o = s_opts("/tmp/unused");
	o.exec_titles = "C.E.O.";
	assert_int_equal(decider_opts_check(&o, err, sizeof(err)), -1);
	o = s_opts(NULL);
	assert_int_equal(decider_opts_check(&o, err, sizeof(err)), -1);
}

static int s_setup(void **state)
{
	(void)state;
	assert_int_equal(time_parse_rfc3339("2026-04-24T20:00:00Z", &NOW), 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_day_gives_exactly_the_intents_the_rules_call_for),
		cmocka_unit_test(test_executive_trade_table),
		cmocka_unit_test(test_fraction_of_holdings_table),
		cmocka_unit_test(test_sale_of_whole_stake_is_100_percent_not_division_by_zero),
		cmocka_unit_test(test_rows_of_one_filing_are_one_signal),
		cmocka_unit_test(test_later_row_of_a_signalled_filing_adds_nothing),
		cmocka_unit_test(test_group_below_threshold_signals_when_it_grows),
		cmocka_unit_test(test_row_still_on_page_next_day_buys_once),
		cmocka_unit_test(test_repeat_after_restart_sends_the_same_intent_again),
		cmocka_unit_test(test_same_trades_twice_or_after_restart_add_no_intent),
		cmocka_unit_test(test_shuffled_day_gives_the_same_decisions_and_ids),
		cmocka_unit_test(test_streamed_day_in_any_order_never_decides_twice),
		cmocka_unit_test(test_same_transaction_via_two_sources_is_one_signal),
		cmocka_unit_test(test_owner_cik_decides_when_both_sources_have_one),
		cmocka_unit_test(test_amendment_repeating_a_transaction_is_not_new),
		cmocka_unit_test(test_amendment_with_a_new_transaction_is_judged),
		cmocka_unit_test(test_cluster_forms_at_exactly_the_third_executive),
		cmocka_unit_test(test_older_rows_words_come_back_after_a_restart),
		cmocka_unit_test(test_cluster_is_not_formed_by_directors_or_one_executive_twice),
		cmocka_unit_test(test_cluster_window_boundary),
		cmocka_unit_test(test_recency_boundary),
		cmocka_unit_test(test_filters_table),
		cmocka_unit_test(test_minimum_value_counts_the_whole_filing),
		cmocka_unit_test(test_sizing_modes),
		cmocka_unit_test(test_intent_id_is_derived_from_the_evidence),
		cmocka_unit_test(test_invalid_trades_cost_one_drop),
		cmocka_unit_test(test_decline_reasons_are_the_printf_sentences),
		cmocka_unit_test(test_each_title_gets_its_own_answer_whatever_came_before),
		cmocka_unit_test(test_intent_reasons_print_numbers_and_dates_exactly),
		cmocka_unit_test(test_trade_without_accession_is_deduplicated_by_content),
		cmocka_unit_test(test_batch_flushes_itself_at_batch_max),
		cmocka_unit_test(test_refused_intent_rolls_the_batch_back),
		cmocka_unit_test(test_a_failed_read_makes_no_intent),
		cmocka_unit_test(test_options_are_checked),
	};

	log_init("test", 1);
	return cmocka_run_group_tests(tests, s_setup, NULL);
}
