/*
 * record.c - record lifetime, names and the contract's checks.
 *
 * The codecs (record_msgpack.c, record_json.c) only move fields; whether a
 * record is acceptable is decided here, once, for both.
 */
#include "record.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

/*
 * Freeing what a record owns.  A decoded record's strings and instrument
 * lie in its block (record.h); anything else was allocated on its own.  A
 * pointer is freed unless it lies in [block, block + block_len): with no
 * block (NULL, 0) every pointer is freed, NULL included, which free()
 * ignores.
 */
static inline bool s_outside(const record_t *r, const void *p)
{
	return (uintptr_t)p - (uintptr_t)r->block >= r->block_len;
}

static inline void s_release(const record_t *r, void *p)
{
	if (s_outside(r, p))
		free(p);
}

/* The instrument's strings, each unless it lies in r's block (r NULL: no
 * block). */
static void s_instrument_strings_free(const record_t *r, instrument_t *ins)
{
	static const record_t none;

	if (r == NULL)
		r = &none;
	s_release(r, ins->figi);
	s_release(r, ins->composite_figi);
	s_release(r, ins->share_class_figi);
	s_release(r, ins->ticker);
	s_release(r, ins->exch_code);
	s_release(r, ins->name);
	s_release(r, ins->security_type);
	s_release(r, ins->market_sector);
	s_release(r, ins->isin);
}

void instrument_free(instrument_t *ins)
{
	if (ins == NULL)
		return;
	s_instrument_strings_free(NULL, ins);
	memset(ins, 0, sizeof(*ins));
}

void record_clear_instrument(record_t *r)
{
	instrument_t *ins;

	if (r == NULL || r->type != REC_TRADE || (ins = r->u.trade.instrument) == NULL)
		return;
	s_instrument_strings_free(r, ins);
	s_release(r, ins);
	r->u.trade.instrument = NULL;
}

static void s_trade_free(record_t *r)
{
	trade_t *t = &r->u.trade;

	s_release(r, t->key);
	s_release(r, t->source);
	s_release(r, t->accession);
	s_release(r, t->url);
	s_release(r, t->ticker);
	s_release(r, t->issuer);
	s_release(r, t->issuer_cik);
	s_release(r, t->owner);
	s_release(r, t->owner_cik);
	s_release(r, t->title);
	record_clear_instrument(r);
}

static void s_intent_free(record_t *r)
{
	intent_t *in = &r->u.intent;

	s_release(r, in->id);
	s_release(r, in->rule);
	s_release(r, in->ticker);
	s_release(r, in->figi);
	s_release(r, in->isin);
	for (size_t i = 0; i < in->n_evidence; i++)
		s_release(r, in->evidence[i]);
	s_release(r, in->evidence);
	s_release(r, in->reason);
}

void record_free(record_t *r)
{
	if (r == NULL)
		return;
	switch (r->type) {
	case REC_TRADE:
		s_trade_free(r);
		break;
	case REC_INTENT:
		s_intent_free(r);
		break;
	case REC_ORDER:
		s_release(r, r->u.order.intent);
		s_release(r, r->u.order.broker);
		s_release(r, r->u.order.broker_order_id);
		s_release(r, r->u.order.reason);
		break;
	case REC_DROP:
		s_release(r, r->u.drop.stage);
		s_release(r, r->u.drop.key);
		s_release(r, r->u.drop.reason);
		break;
	case REC_STATS:
		s_release(r, r->u.stats.stage);
		break;
	case REC_NONE:
		break;
	}
	free(r->block);
	memset(r, 0, sizeof(*r));
}

/* strdup that maps NULL to NULL and records an allocation failure. */
static char *s_dup(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*failed = 1;
	return d;
}

int record_copy(record_t *dst, const record_t *src)
{
	int failed = 0;

	*dst = *src;
	dst->block = NULL; /* every string of the copy is its own */
	dst->block_len = 0;
	switch (src->type) {
	case REC_TRADE: {
		const trade_t *s = &src->u.trade;
		trade_t *d = &dst->u.trade;
		d->key = s_dup(s->key, &failed);
		d->source = s_dup(s->source, &failed);
		d->accession = s_dup(s->accession, &failed);
		d->url = s_dup(s->url, &failed);
		d->ticker = s_dup(s->ticker, &failed);
		d->issuer = s_dup(s->issuer, &failed);
		d->issuer_cik = s_dup(s->issuer_cik, &failed);
		d->owner = s_dup(s->owner, &failed);
		d->owner_cik = s_dup(s->owner_cik, &failed);
		d->title = s_dup(s->title, &failed);
		d->instrument = NULL;
		if (s->instrument != NULL) {
			const instrument_t *si = s->instrument;
			instrument_t *di = calloc(1, sizeof(*di));
			if (di == NULL) {
				failed = 1;
				break;
			}
			*di = *si;
			di->figi = s_dup(si->figi, &failed);
			di->composite_figi = s_dup(si->composite_figi, &failed);
			di->share_class_figi = s_dup(si->share_class_figi, &failed);
			di->ticker = s_dup(si->ticker, &failed);
			di->exch_code = s_dup(si->exch_code, &failed);
			di->name = s_dup(si->name, &failed);
			di->security_type = s_dup(si->security_type, &failed);
			di->market_sector = s_dup(si->market_sector, &failed);
			di->isin = s_dup(si->isin, &failed);
			d->instrument = di;
		}
		break;
	}
	case REC_INTENT: {
		const intent_t *s = &src->u.intent;
		intent_t *d = &dst->u.intent;
		d->id = s_dup(s->id, &failed);
		d->rule = s_dup(s->rule, &failed);
		d->ticker = s_dup(s->ticker, &failed);
		d->figi = s_dup(s->figi, &failed);
		d->isin = s_dup(s->isin, &failed);
		d->reason = s_dup(s->reason, &failed);
		d->evidence = NULL;
		d->n_evidence = 0;
		if (s->n_evidence > 0) {
			d->evidence = calloc(s->n_evidence, sizeof(char *));
			if (d->evidence == NULL) {
				failed = 1;
				break;
			}
			for (size_t i = 0; i < s->n_evidence; i++)
				d->evidence[i] = s_dup(s->evidence[i], &failed);
			d->n_evidence = s->n_evidence;
		}
		break;
	}
	case REC_ORDER:
		dst->u.order.intent = s_dup(src->u.order.intent, &failed);
		dst->u.order.broker = s_dup(src->u.order.broker, &failed);
		dst->u.order.broker_order_id = s_dup(src->u.order.broker_order_id, &failed);
		dst->u.order.reason = s_dup(src->u.order.reason, &failed);
		break;
	case REC_DROP:
		dst->u.drop.stage = s_dup(src->u.drop.stage, &failed);
		dst->u.drop.key = s_dup(src->u.drop.key, &failed);
		dst->u.drop.reason = s_dup(src->u.drop.reason, &failed);
		break;
	case REC_STATS:
		dst->u.stats.stage = s_dup(src->u.stats.stage, &failed);
		break;
	case REC_NONE:
		break;
	}
	if (failed) {
		record_free(dst);
		return -1;
	}
	return 0;
}

static const char *const s_type_names[] = {
	[REC_NONE] = "none",   [REC_TRADE] = "trade", [REC_INTENT] = "intent",
	[REC_ORDER] = "order", [REC_DROP] = "drop",   [REC_STATS] = "stats",
};

const char *record_type_name(enum record_type t)
{
	if ((unsigned)t < sizeof(s_type_names) / sizeof(s_type_names[0]))
		return s_type_names[t];
	return "none";
}

enum record_type record_type_from_name(const char *s)
{
	for (size_t i = 1; i < sizeof(s_type_names) / sizeof(s_type_names[0]); i++)
		if (strcmp(s, s_type_names[i]) == 0)
			return (enum record_type)i;
	return REC_NONE;
}

const char *side_name(enum side s)
{
	switch (s) {
	case SIDE_BUY:
		return "buy";
	case SIDE_SELL:
		return "sell";
	case SIDE_NONE:
		break;
	}
	return "none";
}

static const char *const s_status_names[] = {
	[ORDER_NONE] = "none",         [ORDER_SUBMITTED] = "submitted", [ORDER_FILLED] = "filled",
	[ORDER_REJECTED] = "rejected", [ORDER_DUPLICATE] = "duplicate", [ORDER_BLOCKED] = "blocked",
	[ORDER_DRY_RUN] = "dry_run",   [ORDER_ERROR] = "error",
};

const char *order_status_name(enum order_status s)
{
	if ((unsigned)s < sizeof(s_status_names) / sizeof(s_status_names[0]))
		return s_status_names[s];
	return "none";
}

const char *record_key(const record_t *r)
{
	switch (r->type) {
	case REC_TRADE:
		return r->u.trade.key;
	case REC_INTENT:
		return r->u.intent.id;
	case REC_ORDER:
		return r->u.order.intent;
	case REC_DROP:
		return r->u.drop.key;
	default:
		return NULL;
	}
}

/* ---- validation ---- */

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A finite number within [lo, hi], or null when null is allowed. */
static bool s_num_ok(double x, bool nullable, double lo, double hi)
{
	if (isnan(x))
		return nullable;
	return isfinite(x) && x >= lo && x <= hi;
}

static bool s_str_present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Largest share count or price we accept: far above anything real, far below
 * where doubles lose whole units. */
#define NUM_MAX 1e15

static bool s_all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static _Thread_local char s_date_ok[sizeof(((trade_t *)0)->trade_date)];

static int s_validate_trade(const trade_t *t, char *err, size_t errlen)
{
	civil_date_t d;

	if (!s_str_present(t->key))
		return s_fail(err, errlen, "trade: key missing");
	if (!s_str_present(t->source))
		return s_fail(err, errlen, "trade: source missing");
	/* The last date found good, per thread: a replay's or a filing's
	 * trades share theirs, and the check is a function of the string. */
	if (s_date_ok[0] == '\0' || memcmp(t->trade_date, s_date_ok, sizeof(s_date_ok)) != 0) {
		if (date_parse(t->trade_date, &d) != 0)
			return s_fail(err, errlen, "trade: trade_date '%.16s' is not YYYY-MM-DD",
			              t->trade_date);
		memcpy(s_date_ok, t->trade_date, sizeof(s_date_ok));
	}
	if (!s_str_present(t->ticker))
		return s_fail(err, errlen, "trade: ticker missing");
	for (const char *p = t->ticker; *p != '\0'; p++)
		if (islower((unsigned char)*p) || isspace((unsigned char)*p))
			return s_fail(err, errlen, "trade: ticker '%.16s' must be upper case",
			              t->ticker);
	if (!s_str_present(t->issuer))
		return s_fail(err, errlen, "trade: issuer missing");
	if (!s_str_present(t->owner))
		return s_fail(err, errlen, "trade: owner missing");
	if (t->issuer_cik != NULL && !s_all_digits(t->issuer_cik, 10))
		return s_fail(err, errlen, "trade: issuer_cik must be 10 digits");
	if (t->owner_cik != NULL && !s_all_digits(t->owner_cik, 10))
		return s_fail(err, errlen, "trade: owner_cik must be 10 digits");
	if (!isupper((unsigned char)t->code[0]) || t->code[1] != '\0')
		return s_fail(err, errlen, "trade: code must be one upper-case letter");
	if (t->roles &
	    ~(unsigned)(ROLE_DIRECTOR | ROLE_OFFICER | ROLE_TEN_PERCENT_OWNER | ROLE_OTHER))
		return s_fail(err, errlen, "trade: unknown role bits");
	if (!s_num_ok(t->shares, false, 0, NUM_MAX) || t->shares <= 0)
		return s_fail(err, errlen, "trade: shares must be > 0");
	if (!s_num_ok(t->price, true, 0, NUM_MAX))
		return s_fail(err, errlen, "trade: price out of range");
	if (!s_num_ok(t->value, true, 0, NUM_MAX * 1e3))
		return s_fail(err, errlen, "trade: value out of range");
	if (!s_num_ok(t->shares_after, true, 0, NUM_MAX))
		return s_fail(err, errlen, "trade: shares_after out of range");
	if (t->direct < -1 || t->direct > 1)
		return s_fail(err, errlen, "trade: direct out of range");
	if (t->instrument != NULL)
		return instrument_validate(t->instrument, err, errlen);
	return 0;
}

int instrument_validate(const instrument_t *i, char *err, size_t errlen)
{
	if (!s_num_ok(i->shares_outstanding, true, 0, NUM_MAX))
		return s_fail(err, errlen, "instrument: shares_outstanding out of range");
	if (!s_num_ok(i->market_cap, true, 0, NUM_MAX * 1e3))
		return s_fail(err, errlen, "instrument: market_cap out of range");
	return 0;
}

static int s_validate_intent(const intent_t *in, char *err, size_t errlen)
{
	if (!s_str_present(in->id))
		return s_fail(err, errlen, "intent: id missing");
	if (!s_str_present(in->rule))
		return s_fail(err, errlen, "intent: rule missing");
	if (in->side != SIDE_BUY && in->side != SIDE_SELL)
		return s_fail(err, errlen, "intent: side must be buy or sell");
	if (!s_str_present(in->ticker))
		return s_fail(err, errlen, "intent: ticker missing");
	if (!s_str_present(in->reason))
		return s_fail(err, errlen, "intent: reason missing");
	if (!s_num_ok(in->qty, true, 0, NUM_MAX) || in->qty == 0)
		return s_fail(err, errlen, "intent: qty must be > 0");
	if (!s_num_ok(in->notional, true, 0, NUM_MAX) || in->notional == 0)
		return s_fail(err, errlen, "intent: notional must be > 0");
	if (isnan(in->qty) == isnan(in->notional))
		return s_fail(err, errlen, "intent: exactly one of qty and notional");
	if (!s_num_ok(in->ref_price, true, 0, NUM_MAX))
		return s_fail(err, errlen, "intent: ref_price out of range");
	if (in->n_evidence > RECORD_MAX_EVIDENCE)
		return s_fail(err, errlen, "intent: more than %d evidence keys",
		              RECORD_MAX_EVIDENCE);
	for (size_t i = 0; i < in->n_evidence; i++)
		if (!s_str_present(in->evidence[i]))
			return s_fail(err, errlen, "intent: empty evidence key");
	return 0;
}

static int s_validate_order(const order_t *o, char *err, size_t errlen)
{
	if (!s_str_present(o->intent))
		return s_fail(err, errlen, "order: intent missing");
	if (!s_str_present(o->broker))
		return s_fail(err, errlen, "order: broker missing");
	if (o->status <= ORDER_NONE || o->status > ORDER_ERROR)
		return s_fail(err, errlen, "order: unknown status");
	if (!s_num_ok(o->qty, true, 0, NUM_MAX))
		return s_fail(err, errlen, "order: qty out of range");
	if (!s_num_ok(o->price, true, 0, NUM_MAX))
		return s_fail(err, errlen, "order: price out of range");
	return 0;
}

int record_validate(const record_t *r, char *err, size_t errlen)
{
	switch (r->type) {
	case REC_TRADE:
		return s_validate_trade(&r->u.trade, err, errlen);
	case REC_INTENT:
		return s_validate_intent(&r->u.intent, err, errlen);
	case REC_ORDER:
		return s_validate_order(&r->u.order, err, errlen);
	case REC_DROP:
		if (!s_str_present(r->u.drop.stage) || !s_str_present(r->u.drop.reason))
			return s_fail(err, errlen, "drop: stage and reason required");
		return 0;
	case REC_STATS:
		if (!s_str_present(r->u.stats.stage))
			return s_fail(err, errlen, "stats: stage required");
		/* JSON (jansson) reads integers as int64: keep both forms equal. */
		if (r->u.stats.in > INT64_MAX || r->u.stats.out > INT64_MAX ||
		    r->u.stats.dropped > INT64_MAX || r->u.stats.errors > INT64_MAX)
			return s_fail(err, errlen, "stats: counter out of range");
		return 0;
	case REC_NONE:
		break;
	}
	return s_fail(err, errlen, "record: no type");
}
