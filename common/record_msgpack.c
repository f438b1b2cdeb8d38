/*
 * record_msgpack.c - records <-> msgpack, the wire format between stages.
 *
 * Each record type is described once, as a table of fields (name, kind,
 * offset); encoding walks the table and decoding looks keys up in it, so the
 * two directions cannot disagree.  The JSON codec (record_json.c) converts
 * JSON to msgpack and back and reuses everything here.
 *
 * Decoding trusts nothing: s_walk reads the buffer once, checking that
 * every container's element count fits in the bytes that remain (five
 * bytes "dd ff ff ff ff" must not ask for 4 billion nodes), that nesting
 * stays shallow, that only types the schema uses appear, and that exactly
 * one object fills the buffer, while it builds msgpack-c's object tree
 * (msgpack_object, the types only: msgpack-c's unpacker and packer are not
 * used, being a zone allocation per message and a callback per item) in a
 * node pool bounded by the buffer's size.  Encoding writes the bytes
 * msgpack-c's packer wrote (record_priv.h) into one buffer.
 */
#include "record.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_priv.h"
#include "timeutil.h"

#define MAX_DEPTH 4 /* record map > instrument map / evidence array > leaf */

/* ---- field tables ---- */

enum fkind {
	F_STR,    /* char *, nullable */
	F_NUM,    /* double, NAN = null */
	F_TIME,   /* int64_t, REC_NULL_TIME = null; RFC 3339 string on the wire */
	F_DATE,   /* char[11] "YYYY-MM-DD" */
	F_CODE,   /* char[2], one letter */
	F_BOOL,   /* bool, never null */
	F_TRI,    /* int8_t -1/0/1 */
	F_ROLES,  /* unsigned bitmask <-> array of role names */
	F_STRARR, /* char ** + size_t count (at off + sizeof(char **)) */
	F_SIDE,   /* enum side */
	F_STATUS, /* enum order_status */
	F_U64,    /* uint64_t */
	F_INSTR,  /* instrument_t *, nullable map */
};

struct field {
	const char *name;
	enum fkind kind;
	size_t off;
	size_t count_off; /* F_STRARR: offset of the size_t count */
	size_t namelen;   /* strlen(name), so key lookups need no strlen */
	char padded[24];  /* the name again, zero-padded: copied whole by s_put_key */
};

#define T(f) offsetof(trade_t, f)
#define I(f) offsetof(intent_t, f)
#define O(f) offsetof(order_t, f)
#define D(f) offsetof(drop_t, f)
#define S(f) offsetof(stats_t, f)
#define N(f) offsetof(instrument_t, f)
/* One table entry: the name is written once (namelen and the padded copy
 * s_put_key stores follow from it; a name of more than 24 bytes does not
 * compile). */
#define FIELD(nm, kind, off, count_off)                                                            \
	{                                                                                          \
		nm, kind, off, count_off, sizeof(nm) - 1, nm                                       \
	}
#define END_FIELD                                                                                  \
	{                                                                                          \
		NULL, F_STR, 0, 0, 0, ""                                                           \
	}

static const struct field s_instrument_fields[] = {
	FIELD("figi", F_STR, N(figi), 0),
	FIELD("composite_figi", F_STR, N(composite_figi), 0),
	FIELD("share_class_figi", F_STR, N(share_class_figi), 0),
	FIELD("ticker", F_STR, N(ticker), 0),
	FIELD("exch_code", F_STR, N(exch_code), 0),
	FIELD("name", F_STR, N(name), 0),
	FIELD("security_type", F_STR, N(security_type), 0),
	FIELD("market_sector", F_STR, N(market_sector), 0),
	FIELD("isin", F_STR, N(isin), 0),
	FIELD("shares_outstanding", F_NUM, N(shares_outstanding), 0),
	FIELD("market_cap", F_NUM, N(market_cap), 0),
	END_FIELD,
};

static const struct field s_trade_fields[] = {
	FIELD("key", F_STR, T(key), 0),
	FIELD("source", F_STR, T(source), 0),
	FIELD("accession", F_STR, T(accession), 0),
	FIELD("url", F_STR, T(url), 0),
	FIELD("filed_at", F_TIME, T(filed_at), 0),
	FIELD("trade_date", F_DATE, T(trade_date), 0),
	FIELD("ticker", F_STR, T(ticker), 0),
	FIELD("issuer", F_STR, T(issuer), 0),
	FIELD("issuer_cik", F_STR, T(issuer_cik), 0),
	FIELD("owner", F_STR, T(owner), 0),
	FIELD("owner_cik", F_STR, T(owner_cik), 0),
	FIELD("title", F_STR, T(title), 0),
	FIELD("roles", F_ROLES, T(roles), 0),
	FIELD("code", F_CODE, T(code), 0),
	FIELD("shares", F_NUM, T(shares), 0),
	FIELD("price", F_NUM, T(price), 0),
	FIELD("value", F_NUM, T(value), 0),
	FIELD("shares_after", F_NUM, T(shares_after), 0),
	FIELD("direct", F_TRI, T(direct), 0),
	FIELD("planned", F_BOOL, T(planned), 0),
	FIELD("amendment", F_BOOL, T(amendment), 0),
	FIELD("instrument", F_INSTR, T(instrument), 0),
	END_FIELD,
};

static const struct field s_intent_fields[] = {
	FIELD("id", F_STR, I(id), 0),
	FIELD("rule", F_STR, I(rule), 0),
	FIELD("side", F_SIDE, I(side), 0),
	FIELD("ticker", F_STR, I(ticker), 0),
	FIELD("figi", F_STR, I(figi), 0),
	FIELD("isin", F_STR, I(isin), 0),
	FIELD("qty", F_NUM, I(qty), 0),
	FIELD("notional", F_NUM, I(notional), 0),
	FIELD("ref_price", F_NUM, I(ref_price), 0),
	FIELD("evidence", F_STRARR, I(evidence), I(n_evidence)),
	FIELD("reason", F_STR, I(reason), 0),
	FIELD("created_at", F_TIME, I(created_at), 0),
	FIELD("expires_at", F_TIME, I(expires_at), 0),
	END_FIELD,
};

static const struct field s_order_fields[] = {
	FIELD("intent", F_STR, O(intent), 0),
	FIELD("broker", F_STR, O(broker), 0),
	FIELD("status", F_STATUS, O(status), 0),
	FIELD("broker_order_id", F_STR, O(broker_order_id), 0),
	FIELD("qty", F_NUM, O(qty), 0),
	FIELD("price", F_NUM, O(price), 0),
	FIELD("reason", F_STR, O(reason), 0),
	FIELD("at", F_TIME, O(at), 0),
	END_FIELD,
};

static const struct field s_drop_fields[] = {
	FIELD("stage", F_STR, D(stage), 0),
	FIELD("key", F_STR, D(key), 0),
	FIELD("reason", F_STR, D(reason), 0),
	END_FIELD,
};

static const struct field s_stats_fields[] = {
	FIELD("stage", F_STR, S(stage), 0),   FIELD("in", F_U64, S(in), 0),
	FIELD("out", F_U64, S(out), 0),       FIELD("dropped", F_U64, S(dropped), 0),
	FIELD("errors", F_U64, S(errors), 0), END_FIELD,
};

static const struct field *s_fields_of(enum record_type t)
{
	switch (t) {
	case REC_TRADE:
		return s_trade_fields;
	case REC_INTENT:
		return s_intent_fields;
	case REC_ORDER:
		return s_order_fields;
	case REC_DROP:
		return s_drop_fields;
	case REC_STATS:
		return s_stats_fields;
	case REC_NONE:
		break;
	}
	return NULL;
}

static const char *const s_role_names[] = { "director", "officer", "ten_percent_owner", "other" };

#define AT(base, off, type) ((type *)((char *)(base) + (off)))

/* Reset every nullable field of a fresh struct to null (zero is not null
 * for numbers, times and tri-states). */
static void s_init_nulls(void *base, const struct field *fs)
{
	for (const struct field *f = fs; f->name != NULL; f++) {
		switch (f->kind) {
		case F_NUM:
			*AT(base, f->off, double) = REC_NULL_NUM;
			break;
		case F_TIME:
			*AT(base, f->off, int64_t) = REC_NULL_TIME;
			break;
		case F_TRI:
			*AT(base, f->off, int8_t) = REC_TRI_NULL;
			break;
		default:
			break;
		}
	}
}

/* Each type's fresh record, built once per thread on first use: a decoder
 * starts every record from a copy instead of walking the field table. */
static _Thread_local record_t s_fresh[REC_STATS + 1];
static _Thread_local bool s_fresh_ready;

void record_init(record_t *r, enum record_type type)
{
	if ((unsigned)type > REC_STATS) {
		memset(r, 0, sizeof(*r));
		r->type = type;
		return;
	}
	if (!s_fresh_ready) {
		for (int t = REC_NONE; t <= REC_STATS; t++) {
			memset(&s_fresh[t], 0, sizeof(s_fresh[t]));
			s_fresh[t].type = (enum record_type)t;
			if (s_fields_of((enum record_type)t) != NULL)
				s_init_nulls(&s_fresh[t].u, s_fields_of((enum record_type)t));
		}
		s_fresh_ready = true;
	}
	memcpy(r, &s_fresh[type], sizeof(*r));
}

void instrument_init(instrument_t *ins)
{
	memset(ins, 0, sizeof(*ins));
	s_init_nulls(ins, s_instrument_fields);
}

/* ---- encoding ---- */

/*
 * The RFC 3339 form of the last time formatted, per thread: the trades of
 * one filing (and of a replay) share their filed_at, and snprintf is most
 * of a record's encoding time otherwise.
 */
static _Thread_local int64_t s_fmt_t = REC_NULL_TIME;
static _Thread_local char s_fmt_s[TIME_RFC3339_LEN];
static _Thread_local size_t s_fmt_len;

static void s_fmt_time(int64_t t)
{
	if (t != s_fmt_t || s_fmt_len == 0) {
		time_format_rfc3339(t, s_fmt_s, sizeof(s_fmt_s));
		s_fmt_len = strlen(s_fmt_s);
		s_fmt_t = t;
	}
}

static void s_pack_time(struct mpbuf *b, int64_t t)
{
	s_fmt_time(t);
	mp_put_str(b, s_fmt_s, s_fmt_len);
}

static void s_pack_cstr(struct mpbuf *b, const char *s)
{
	mp_put_str(b, s, strlen(s));
}

/* Whole numbers are packed as integers, so 12000 travels as 12000, not
 * 12000.0, and the JSON form reads the way a person expects. */
static void s_pack_num(struct mpbuf *b, double x)
{
	if (isnan(x))
		mp_put_nil(b);
	else if (x == trunc(x) && fabs(x) < 9007199254740992.0)
		mp_put_int64(b, (int64_t)x);
	else
		mp_put_double(b, x);
}

static void s_pack_fields(struct mpbuf *b, const void *base, const struct field *fs);

/* A field's name as msgpack-c packs it (a fixstr: every name is shorter
 * than 32 bytes), with one fixed-size copy instead of a call to memcpy. */
static inline void s_put_key(struct mpbuf *b, const struct field *f)
{
	unsigned char *d = mpbuf_room(b, 1 + sizeof(f->padded));

	if (d == NULL)
		return;
	d[0] = (unsigned char)(0xa0 | f->namelen);
	memcpy(d + 1, f->padded, sizeof(f->padded));
	b->len += 1 + f->namelen;
}

static void s_pack_field(struct mpbuf *b, const void *base, const struct field *f)
{
	switch (f->kind) {
	case F_STR: {
		const char *s = *AT(base, f->off, char *const);
		if (s == NULL)
			mp_put_nil(b);
		else
			s_pack_cstr(b, s);
		break;
	}
	case F_NUM:
		s_pack_num(b, *AT(base, f->off, const double));
		break;
	case F_TIME: {
		int64_t t = *AT(base, f->off, const int64_t);
		if (t == REC_NULL_TIME)
			mp_put_nil(b);
		else
			s_pack_time(b, t);
		break;
	}
	case F_DATE:
		mp_put_str(b, AT(base, f->off, const char),
		           strnlen(AT(base, f->off, const char), 11));
		break;
	case F_CODE:
		mp_put_str(b, AT(base, f->off, const char),
		           strnlen(AT(base, f->off, const char), 2));
		break;
	case F_BOOL:
		mp_put_bool(b, *AT(base, f->off, const bool));
		break;
	case F_TRI: {
		int8_t v = *AT(base, f->off, const int8_t);
		if (v < 0)
			mp_put_nil(b);
		else
			mp_put_bool(b, v != 0);
		break;
	}
	case F_ROLES: {
		unsigned roles = *AT(base, f->off, const unsigned);
		size_t n = 0;
		for (size_t i = 0; i < 4; i++)
			if (roles & (1u << i))
				n++;
		mp_put_cont(b, n, false);
		for (size_t i = 0; i < 4; i++)
			if (roles & (1u << i))
				s_pack_cstr(b, s_role_names[i]);
		break;
	}
	case F_STRARR: {
		char **items = *AT(base, f->off, char **const);
		size_t n = *AT(base, f->count_off, const size_t);
		mp_put_cont(b, n, false);
		for (size_t i = 0; i < n; i++)
			s_pack_cstr(b, items[i]);
		break;
	}
	case F_SIDE:
		s_pack_cstr(b, side_name(*AT(base, f->off, const enum side)));
		break;
	case F_STATUS:
		s_pack_cstr(b, order_status_name(*AT(base, f->off, const enum order_status)));
		break;
	case F_U64:
		mp_put_uint64(b, *AT(base, f->off, const uint64_t));
		break;
	case F_INSTR: {
		const instrument_t *ins = *AT(base, f->off, instrument_t *const);
		if (ins == NULL)
			mp_put_nil(b);
		else
			s_pack_fields(b, ins, s_instrument_fields);
		break;
	}
	}
}

static size_t s_count_fields(const struct field *fs)
{
	size_t n = 0;

	while (fs[n].name != NULL)
		n++;
	return n;
}

static void s_pack_fields(struct mpbuf *b, const void *base, const struct field *fs)
{
	mp_put_cont(b, s_count_fields(fs), true);
	for (const struct field *f = fs; f->name != NULL; f++) {
		s_put_key(b, f);
		s_pack_field(b, base, f);
	}
}

/*
 * Encoded straight into one malloc'd buffer that becomes the caller's: a
 * trade is ~500-700 bytes, so the first 1 KiB almost always holds it (the
 * buffer doubles when it does not).  The bytes are those msgpack-c's packer
 * wrote before (record_priv.h), so stored and compared encodings are
 * unchanged.
 */
int record_to_msgpack(const record_t *r, char **out, size_t *outlen, char *err, size_t errlen)
{
	const struct field *fs = s_fields_of(r->type);
	const char *tname = record_type_name(r->type);
	struct mpbuf b = { 0 };

	*out = NULL;
	*outlen = 0;
	if (record_validate(r, err, errlen) != 0)
		return -1;
	b.p = malloc(1024);
	b.cap = b.p != NULL ? 1024 : 0;
	b.oom = b.p == NULL;
	mp_put_cont(&b, s_count_fields(fs) + 2, true);
	mp_put_str(&b, "type", 4);
	s_pack_cstr(&b, tname);
	mp_put_str(&b, "v", 1);
	mp_put_int64(&b, RECORD_VERSION);
	for (const struct field *f = fs; f->name != NULL; f++) {
		s_put_key(&b, f);
		s_pack_field(&b, &r->u, f);
	}
	if (b.oom) {
		free(b.p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (b.len > RECORD_MAX_BYTES) {
		snprintf(err, errlen, "%s: encoded record is %zu bytes, more than %d", tname, b.len,
		         RECORD_MAX_BYTES);
		free(b.p);
		return -1;
	}
	*out = (char *)b.p;
	*outlen = b.len;
	return 0;
}

/* ---- pre-scan of untrusted bytes ---- */

static uint64_t s_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int64_t s_sbe(const unsigned char *p, int n)
{
	uint64_t v = s_be(p, n);
	int shift = 64 - 8 * n;

	return (int64_t)(v << shift) >> shift; /* sign-extend n bytes */
}

static void s_set_int(msgpack_object *o, int64_t v)
{
	if (v >= 0) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = (uint64_t)v;
	} else {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = v;
	}
}

_Static_assert(sizeof(msgpack_object_kv) == 2 * sizeof(msgpack_object),
               "a map entry is two objects");

/*
 * Walk one msgpack object at buf[*pos] without allocating.  Containers' counts
 * must fit in the bytes left (each element takes at least one byte, a map
 * entry two); only nil, bool, int, float, str, array and map may appear;
 * depth is bounded.  Advances *pos past the object and adds to *nobj the
 * tree nodes its containers need.  0 or -1 with err.
 *
 * With o non-NULL the walk also fills o with the object, as
 * msgpack_unpack_next would (signed values >= 0 are POSITIVE_INTEGER,
 * float32 widened into f64, strings pointing into buf), a container's
 * children taken from *pool, which must have room for them (at most one
 * node per byte of buf: a node takes at least one byte, a map entry's two
 * nodes at least two).  One pass, and no zone allocations.
 */
static int s_walk(const unsigned char *buf, size_t len, size_t *pos, int depth, size_t *nobj,
                  msgpack_object *o, msgpack_object **pool, msgpack_object *pool_end, char *err,
                  size_t errlen)
{
	size_t p = *pos, left;
	uint64_t n = 0, skip = 0;
	int is_map = 0, is_arr = 0, is_str = 0, rc;
	msgpack_object dummy;
	unsigned char b;

	if (depth > MAX_DEPTH) {
		snprintf(err, errlen, "msgpack: nested deeper than %d", MAX_DEPTH);
		return -1;
	}
	if (p >= len)
		goto truncated;
	if (o == NULL)
		o = &dummy;
	b = buf[p++];
	left = len - p;
#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (left < (size_t)(k))                                                            \
			goto truncated;                                                            \
	} while (0)
	if (b <= 0x7f) {
		s_set_int(o, b);
	} else if (b >= 0xe0) {
		s_set_int(o, (int8_t)b);
	} else if (b >= 0x80 && b <= 0x8f) {
		n = b & 0x0f;
		is_map = 1;
	} else if (b >= 0x90 && b <= 0x9f) {
		n = b & 0x0f;
		is_arr = 1;
	} else if (b >= 0xa0 && b <= 0xbf) {
		skip = b & 0x1f;
		is_str = 1;
	} else {
		switch (b) {
		case 0xc0:
			o->type = MSGPACK_OBJECT_NIL;
			break;
		case 0xc2:
		case 0xc3:
			o->type = MSGPACK_OBJECT_BOOLEAN;
			o->via.boolean = b == 0xc3;
			break;
		case 0xcc:
		case 0xcd:
		case 0xce:
		case 0xcf:
			skip = 1u << (b - 0xcc);
			NEED(skip);
			o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			o->via.u64 = s_be(buf + p, (int)skip);
			break;
		case 0xd0:
		case 0xd1:
		case 0xd2:
		case 0xd3:
			skip = 1u << (b - 0xd0);
			NEED(skip);
			s_set_int(o, s_sbe(buf + p, (int)skip));
			break;
		case 0xca: {
			uint32_t bits;
			float f;
			skip = 4;
			NEED(4);
			bits = (uint32_t)s_be(buf + p, 4);
			memcpy(&f, &bits, sizeof(f));
			o->type = MSGPACK_OBJECT_FLOAT32;
			o->via.f64 = f;
			break;
		}
		case 0xcb: {
			uint64_t bits;
			double d;
			skip = 8;
			NEED(8);
			bits = s_be(buf + p, 8);
			memcpy(&d, &bits, sizeof(d));
			o->type = MSGPACK_OBJECT_FLOAT64;
			o->via.f64 = d;
			break;
		}
		case 0xd9:
			NEED(1);
			skip = s_be(buf + p, 1);
			p += 1;
			is_str = 1;
			break;
		case 0xda:
			NEED(2);
			skip = s_be(buf + p, 2);
			p += 2;
			is_str = 1;
			break;
		case 0xdb:
			NEED(4);
			skip = s_be(buf + p, 4);
			p += 4;
			is_str = 1;
			break;
		case 0xdc:
			NEED(2);
			n = s_be(buf + p, 2);
			p += 2;
			is_arr = 1;
			break;
		case 0xdd:
			NEED(4);
			n = s_be(buf + p, 4);
			p += 4;
			is_arr = 1;
			break;
		case 0xde:
			NEED(2);
			n = s_be(buf + p, 2);
			p += 2;
			is_map = 1;
			break;
		case 0xdf:
			NEED(4);
			n = s_be(buf + p, 4);
			p += 4;
			is_map = 1;
			break;
		default:
			snprintf(err, errlen, "msgpack: type byte 0x%02x (bin/ext) not allowed", b);
			return -1;
		}
	}
	if (is_map || is_arr) {
		msgpack_object *kids = NULL;
		left = len - p;
		if (n > left / (is_map ? 2 : 1)) {
			snprintf(err, errlen, "msgpack: %s of %llu entries in %zu bytes",
			         is_map ? "map" : "array", (unsigned long long)n, left);
			return -1;
		}
		*nobj += n * (is_map ? 2 : 1);
		if (o != &dummy) {
			/* Each count fits the bytes left, but the counts of nested
			 * containers are checked one at a time, so a bad message
			 * can claim more nodes in all than it has bytes: a valid
			 * one never does (a node takes a byte of its own). */
			if (n * (is_map ? 2 : 1) > (size_t)(pool_end - *pool))
				return -2;
			kids = *pool;
			*pool += n * (is_map ? 2 : 1);
			o->type = is_map ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
			if (is_map) {
				o->via.map.size = (uint32_t)n;
				o->via.map.ptr = n ? (msgpack_object_kv *)(void *)kids : NULL;
			} else {
				o->via.array.size = (uint32_t)n;
				o->via.array.ptr = n ? kids : NULL;
			}
		}
		for (uint64_t i = 0; i < n * (is_map ? 2 : 1); i++)
			if ((rc = s_walk(buf, len, &p, depth + 1, nobj, kids ? &kids[i] : NULL,
			                 pool, pool_end, err, errlen)) != 0)
				return rc;
	} else {
		left = len - p;
		NEED(skip);
		if (is_str) {
			o->type = MSGPACK_OBJECT_STR;
			o->via.str.size = (uint32_t)skip;
			o->via.str.ptr = (const char *)buf + p;
		}
		p += skip;
	}
#undef NEED
	*pos = p;
	return 0;
truncated:
	snprintf(err, errlen, "msgpack: truncated");
	return -1;
}

/* Walk the whole buffer: one object, no trailing bytes.  o, pool and
 * pool_end as for s_walk; -2 when the pool ran out (the message is bad:
 * walk it again without o to say why). */
static int s_walk_all(const void *buf, size_t len, size_t *nobj, msgpack_object *o,
                      msgpack_object **pool, msgpack_object *pool_end, char *err, size_t errlen)
{
	size_t pos = 0;
	int rc;

	*nobj = 0;
	if (len == 0) {
		snprintf(err, errlen, "empty message");
		return -1;
	}
	if ((rc = s_walk(buf, len, &pos, 1, nobj, o, pool, pool_end, err, errlen)) != 0)
		return rc;
	if (pos != len) {
		snprintf(err, errlen, "msgpack: %zu trailing bytes after the record", len - pos);
		return -1;
	}
	return 0;
}

int record_mp_prescan(const void *buf, size_t len, size_t *nobj, char *err, size_t errlen)
{
	return s_walk_all(buf, len, nobj, NULL, NULL, NULL, err, errlen);
}

/* ---- decoding ---- */

static bool s_key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, name, n) == 0;
}

/* Whether any byte of w has its high bit set or is zero (the classic
 * haszero test): the word is not eight ASCII characters other than NUL. */
static inline uint64_t s_not_plain(uint64_t w)
{
	return (w & 0x8080808080808080ull) |
	       ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull);
}

/*
 * Whether s[0..n) is all ASCII without NUL, as nearly every string of a
 * record is, word by word: the last word overlaps the one before it
 * instead of a byte loop for the tail, and strings of 4 to 7 bytes are two
 * overlapping 4-byte loads.  Reads nothing outside s[0..n).
 */
static inline bool s_plain_ascii(const unsigned char *s, size_t n)
{
	uint64_t w, bad = 0;
	uint32_t lo, hi;

	if (n >= 8) {
		size_t i = 0;
		for (; n - i > 8; i += 8) {
			memcpy(&w, s + i, 8);
			bad |= s_not_plain(w);
		}
		memcpy(&w, s + n - 8, 8);
		return (bad | s_not_plain(w)) == 0;
	}
	if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		return s_not_plain((uint64_t)lo | (uint64_t)hi << 32) == 0;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || s[i] >= 0x80)
			return false;
	return true;
}

/* Valid UTF-8 (no overlongs, no surrogates), no NUL. */
static bool s_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	if (s_plain_ascii(s, n))
		return true;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		int extra;

		/* Eight ASCII bytes at a time, none of them NUL: no byte has its
		 * high bit set, and none is zero (the classic haszero test). */
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ull) == 0 &&
			    ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= (size_t)extra)
			return false;
		for (int k = 1; k <= extra; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += (size_t)extra + 1;
	}
	return true;
}

bool record_utf8_valid(const char *s, size_t n)
{
	return s_utf8_ok((const unsigned char *)s, n);
}

/*
 * Where a decoder puts one record's strings and its instrument: the
 * record's block (record.h), one allocation of len + sizeof(instrument_t)
 * + 8 bytes for a message of len bytes.  That always suffices: every
 * string copied comes from its own msgpack string of at least 1 + n bytes
 * of the message and takes n + 1, and a record holds at most one
 * instrument (aligned: at most 7 bytes of padding).  Past the end anyway,
 * s_take falls back to malloc, which record_free handles as well.
 */
struct arena {
	char *p;
	size_t used, cap;
};

/* The bound above, for a message of len bytes. */
static size_t s_arena_size(size_t len)
{
	return len + sizeof(instrument_t) + 8;
}

/* Give r the block of a (the decoders call it once the record exists, so
 * that record_free releases the block whatever happens next). */
static void s_arena_attach(struct arena *a, record_t *r, size_t len)
{
	a->cap = s_arena_size(len);
	a->used = 0;
	a->p = malloc(a->cap);
	if (a->p == NULL)
		a->cap = 0;
	r->block = a->p;
	r->block_len = a->cap;
}

/* n bytes aligned to align (a power of two) from a, or from malloc when a
 * is NULL or full; NULL when out of memory. */
static void *s_take(struct arena *a, size_t n, size_t align)
{
	if (a != NULL) {
		size_t at = (a->used + align - 1) & ~(align - 1);
		if (at <= a->cap && a->cap - at >= n) {
			a->used = at + n;
			return a->p + at;
		}
	}
	return malloc(n);
}

/* memcpy(d, s, n) for the short strings of records without a call: two
 * overlapping loads and stores up to 16 bytes. */
static inline void s_copy(char *d, const char *s, size_t n)
{
	uint64_t x, y;
	uint32_t u, v;

	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		memcpy(d, &x, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n >= 4) {
		memcpy(&u, s, 4);
		memcpy(&v, s + n - 4, 4);
		memcpy(d, &u, 4);
		memcpy(d + n - 4, &v, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

static int s_get_str(struct arena *a, const msgpack_object *o, const char *name, char **out,
                     char *err, size_t errlen)
{
	if (o->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errlen, "%s: expected a string", name);
		return -1;
	}
	if (o->via.str.size > RECORD_MAX_STR) {
		snprintf(err, errlen, "%s: string of %u bytes, more than %d", name, o->via.str.size,
		         RECORD_MAX_STR);
		return -1;
	}
	if (!s_utf8_ok((const unsigned char *)o->via.str.ptr, o->via.str.size)) {
		snprintf(err, errlen, "%s: not valid UTF-8", name);
		return -1;
	}
	/* s_utf8_ok refused NULs, so a plain copy is the whole string */
	*out = s_take(a, (size_t)o->via.str.size + 1, 1);
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s_copy(*out, o->via.str.ptr, o->via.str.size);
	(*out)[o->via.str.size] = '\0';
	return 0;
}

/* Copy a short string into a stack buffer for parsing; -1 if too long. */
static int s_get_small(const msgpack_object *o, const char *name, char *buf, size_t len, char *err,
                       size_t errlen)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len) {
		snprintf(err, errlen, "%s: expected a string of at most %zu bytes", name, len - 1);
		return -1;
	}
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	if (memchr(buf, '\0', o->via.str.size) != NULL) {
		snprintf(err, errlen, "%s: NUL in string", name);
		return -1;
	}
	return 0;
}

static int s_decode_fields(struct arena *a, const msgpack_object *map, void *base,
                           const struct field *fs, const char *what, bool skip_type_v, char *err,
                           size_t errlen);

/*
 * The last time string parsed, per thread, and its value: the trades of
 * one filing (and of a replay) share their filed_at, so most times are
 * read without parsing.  Parsing is a function of the string alone, so
 * the answer is the one parsing would give.
 */
static _Thread_local char s_parsed_s[64];
static _Thread_local size_t s_parsed_len; /* 0: none yet */
static _Thread_local int64_t s_parsed_t;

static int s_decode_field(struct arena *a, const msgpack_object *v, void *base,
                          const struct field *f, char *err, size_t errlen)
{
	char small[64];
	bool is_nil = v->type == MSGPACK_OBJECT_NIL;

	switch (f->kind) {
	case F_STR:
		if (is_nil)
			return 0;
		return s_get_str(a, v, f->name, AT(base, f->off, char *), err, errlen);
	case F_NUM:
		if (is_nil)
			return 0;
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			*AT(base, f->off, double) = (double)v->via.u64;
		else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			*AT(base, f->off, double) = (double)v->via.i64;
		else if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
			*AT(base, f->off, double) = v->via.f64;
		else
			goto wrong;
		if (!isfinite(*AT(base, f->off, double))) {
			snprintf(err, errlen, "%s: not a finite number", f->name);
			return -1;
		}
		return 0;
	case F_TIME:
		if (is_nil)
			return 0;
		if (v->type == MSGPACK_OBJECT_STR && s_parsed_len != 0 &&
		    v->via.str.size == s_parsed_len &&
		    memcmp(v->via.str.ptr, s_parsed_s, s_parsed_len) == 0) {
			*AT(base, f->off, int64_t) = s_parsed_t;
			return 0;
		}
		if (s_get_small(v, f->name, small, sizeof(small), err, errlen) != 0)
			return -1;
		if (time_parse_rfc3339(small, AT(base, f->off, int64_t)) != 0) {
			snprintf(err, errlen, "%s: '%s' is not an RFC 3339 time", f->name, small);
			return -1;
		}
		s_parsed_len = v->via.str.size;
		memcpy(s_parsed_s, small, s_parsed_len);
		s_parsed_t = *AT(base, f->off, int64_t);
		return 0;
	case F_DATE:
		if (s_get_small(v, f->name, small, 11, err, errlen) != 0)
			return -1;
		memcpy(AT(base, f->off, char), small, 11);
		return 0;
	case F_CODE:
		if (s_get_small(v, f->name, small, 2, err, errlen) != 0)
			return -1;
		memcpy(AT(base, f->off, char), small, 2);
		return 0;
	case F_BOOL:
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			goto wrong;
		*AT(base, f->off, bool) = v->via.boolean;
		return 0;
	case F_TRI:
		if (is_nil)
			return 0;
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			goto wrong;
		*AT(base, f->off, int8_t) = v->via.boolean ? 1 : 0;
		return 0;
	case F_ROLES: {
		unsigned roles = 0;
		if (v->type != MSGPACK_OBJECT_ARRAY)
			goto wrong;
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			const msgpack_object *it = &v->via.array.ptr[i];
			size_t r;
			for (r = 0; r < 4; r++)
				if (s_key_is(it, s_role_names[r]))
					break;
			if (r == 4) {
				snprintf(err, errlen, "roles: unknown role");
				return -1;
			}
			roles |= 1u << r;
		}
		*AT(base, f->off, unsigned) = roles;
		return 0;
	}
	case F_STRARR: {
		char ***items = AT(base, f->off, char **);
		size_t *count = AT(base, f->count_off, size_t);
		if (v->type != MSGPACK_OBJECT_ARRAY)
			goto wrong;
		if (v->via.array.size > RECORD_MAX_EVIDENCE) {
			snprintf(err, errlen, "%s: more than %d items", f->name,
			         RECORD_MAX_EVIDENCE);
			return -1;
		}
		if (v->via.array.size == 0)
			return 0;
		*items = calloc(v->via.array.size, sizeof(char *));
		if (*items == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			if (s_get_str(a, &v->via.array.ptr[i], f->name, &(*items)[i], err,
			              errlen) != 0)
				return -1;
			(*count)++;
		}
		return 0;
	}
	case F_SIDE:
		if (s_key_is(v, "buy"))
			*AT(base, f->off, enum side) = SIDE_BUY;
		else if (s_key_is(v, "sell"))
			*AT(base, f->off, enum side) = SIDE_SELL;
		else
			goto badvalue;
		return 0;
	case F_STATUS:
		for (int s = ORDER_SUBMITTED; s <= ORDER_ERROR; s++)
			if (s_key_is(v, order_status_name((enum order_status)s))) {
				*AT(base, f->off, enum order_status) = (enum order_status)s;
				return 0;
			}
		goto badvalue;
	case F_U64:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			goto wrong;
		*AT(base, f->off, uint64_t) = v->via.u64;
		return 0;
	case F_INSTR: {
		instrument_t *ins;
		if (is_nil)
			return 0;
		if (v->type != MSGPACK_OBJECT_MAP)
			goto wrong;
		ins = s_take(a, sizeof(*ins), _Alignof(instrument_t));
		if (ins == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		instrument_init(ins);
		*AT(base, f->off, instrument_t *) = ins; /* owned by the record from here */
		return s_decode_fields(a, v, ins, s_instrument_fields, "instrument", false, err,
		                       errlen);
	}
	}
wrong:
	snprintf(err, errlen, "%s: wrong type", f->name);
	return -1;
badvalue:
	snprintf(err, errlen, "%s: unknown value", f->name);
	return -1;
}

/*
 * The field of fs named by key k, or NULL.  Stages write the keys in the
 * contract's order, so the search starts at hint (the field after the last
 * one found), which is almost always the one, and wraps around to the
 * start.  (Scanning from the start for every key cost the decider a sixth
 * of its CPU in the pipeline benchmark.)
 */
static bool s_key_is_field(const msgpack_object *k, const struct field *f)
{
	return k->via.str.size == f->namelen && memcmp(k->via.str.ptr, f->name, f->namelen) == 0;
}

static const struct field *s_find_field(const struct field *fs, const struct field *hint,
                                        const msgpack_object *k)
{
	for (const struct field *f = hint; f->name != NULL; f++)
		if (s_key_is_field(k, f))
			return f;
	for (const struct field *f = fs; f != hint; f++)
		if (s_key_is_field(k, f))
			return f;
	return NULL;
}

/*
 * Decode a map's entries into the struct at base.  Every key must be a field
 * of the table and appear at most once; "type" and "v" are skipped at the top
 * level (checked by the caller).
 */
static int s_decode_fields(struct arena *a, const msgpack_object *map, void *base,
                           const struct field *fs, const char *what, bool skip_type_v, char *err,
                           size_t errlen)
{
	const struct field *next = fs;
	uint64_t seen = 0;

	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		const msgpack_object *v = &map->via.map.ptr[i].val;
		const struct field *f;
		char sub[256];
		size_t idx;

		if (k->type != MSGPACK_OBJECT_STR) {
			snprintf(err, errlen, "%s: key is not a string", what);
			return -1;
		}
		if (skip_type_v && (s_key_is(k, "type") || s_key_is(k, "v")))
			continue;
		f = s_find_field(fs, next, k);
		if (f == NULL) {
			snprintf(err, errlen, "%s: unknown key '%.*s'", what,
			         (int)(k->via.str.size > 40 ? 40 : k->via.str.size),
			         k->via.str.ptr);
			for (char *p = err; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20)
					*p = '?';
			return -1;
		}
		idx = (size_t)(f - fs);
		if (seen & (1ull << idx)) {
			snprintf(err, errlen, "%s: duplicate key '%s'", what, f->name);
			return -1;
		}
		seen |= 1ull << idx;
		next = f + 1;
		if (s_decode_field(a, v, base, f, sub, sizeof(sub)) != 0) {
			snprintf(err, errlen, "%s.%s", what, sub);
			return -1;
		}
	}
	return 0;
}

/* Tree nodes on the stack: a record of up to this many bytes needs no
 * more (s_walk), and a larger one takes them from the per-thread pool. */
#define POOL_STACK 160
/* The per-thread pool is kept for the next record up to this many nodes
 * (a 2.7 KB record; trades are ~0.5-1 KB), and given back above. */
#define POOL_KEEP 2730

static _Thread_local msgpack_object *s_pool;
static _Thread_local size_t s_pool_cap;

int record_mp_decode_tree(const void *buf, size_t len, record_t *r, char *err, size_t errlen)
{
	msgpack_object stack_pool[POOL_STACK], *pool = stack_pool, *next;
	msgpack_object root_obj, *root = &root_obj;
	const msgpack_object *tv = NULL, *vv = NULL;
	enum record_type type = REC_NONE;
	struct arena arena;
	size_t nobj;
	char tname[16];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (len > RECORD_MAX_BYTES) {
		snprintf(err, errlen, "record of %zu bytes, more than %d", len, RECORD_MAX_BYTES);
		return -1;
	}
	if (len > POOL_STACK) {
		if (s_pool_cap < len) {
			free(s_pool);
			s_pool_cap = 0;
			s_pool = malloc(len * sizeof(*s_pool));
			if (s_pool == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			s_pool_cap = len;
		}
		pool = s_pool;
	}
	next = pool;
	rc = s_walk_all(buf, len, &nobj, root, &next, pool + (len > POOL_STACK ? len : POOL_STACK),
	                err, errlen);
	if (rc == -2 && record_mp_prescan(buf, len, &nobj, err, errlen) == 0)
		snprintf(err, errlen, "msgpack: malformed"); /* cannot happen: see s_walk */
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	rc = -1;
	if (root->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "record is not a map");
		goto out;
	}
	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object *k = &root->via.map.ptr[i].key;
		if (s_key_is(k, "type"))
			tv = &root->via.map.ptr[i].val;
		else if (s_key_is(k, "v"))
			vv = &root->via.map.ptr[i].val;
	}
	if (vv == NULL || vv->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		snprintf(err, errlen, "record without a version \"v\"");
		goto out;
	}
	if (vv->via.u64 != RECORD_VERSION) {
		snprintf(err, errlen, "record version %llu unknown (this build reads %d)",
		         (unsigned long long)vv->via.u64, RECORD_VERSION);
		goto out;
	}
	if (tv == NULL || s_get_small(tv, "type", tname, sizeof(tname), err, errlen) != 0 ||
	    (type = record_type_from_name(tname)) == REC_NONE) {
		snprintf(err, errlen, "record without a known \"type\"");
		goto out;
	}
	record_init(r, type);
	s_arena_attach(&arena, r, len);
	if (s_decode_fields(&arena, root, &r->u, s_fields_of(type), record_type_name(type), true,
	                    err, errlen) != 0)
		goto out;
	if (record_validate(r, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	if (s_pool_cap > POOL_KEEP) {
		free(s_pool);
		s_pool = NULL;
		s_pool_cap = 0;
	}
	if (rc != 0)
		record_free(r);
	return rc;
}

/* ---- the one-pass reader ----
 *
 * What the stages send each other is well formed and in the order
 * record_to_msgpack writes, so the common case is read in one pass straight
 * into the record: no tree, each byte looked at once.  The reader accepts
 * only what the tree decoder (record_mp_decode_tree) accepts and fills the
 * record the same way (the same s_decode_field for every scalar, the same
 * checks for roles, evidence and the instrument, record_validate last).
 * At the first thing it does not expect, an error, "type" and "v" not
 * first, a repeated or unknown key, it declines, and the tree decoder
 * decodes the message from the start: refusals keep their reasons.
 *
 * On the way it notes whether the bytes are the canonical encoding of the
 * record they decode to, the bytes record_to_msgpack writes for it: every
 * header the smallest (msgpack-c's forms, record_priv.h), whole numbers
 * below 2^53 as integers and other numbers as float64, times as
 * time_format_rfc3339 writes them, roles in bit order, and every field
 * present in the table's order.  The mapper then adds the instrument by
 * copying instead of encoding the trade again.
 */

struct mprd {
	const unsigned char *buf; /* the message */
	const unsigned char *p;   /* the next byte */
	const unsigned char *end; /* one past the message */
	bool canon;               /* all read so far is written as record_to_msgpack would */
	struct arena *arena;      /* where the record's strings go */
};

/* Bytes of payload msgpack-c writes after the first byte for unsigned v
 * (0: a positive fixint). */
static int s_uint_width(uint64_t v)
{
	return v < 128 ? 0 : v < 256 ? 1 : v < 65536 ? 2 : v <= UINT32_MAX ? 4 : 8;
}

/* The same for negative v (0: a negative fixint). */
static int s_neg_width(int64_t v)
{
	return v >= -32 ? 0 : v >= -128 ? 1 : v >= -32768 ? 2 : v >= INT32_MIN ? 4 : 8;
}

/*
 * Read one object at rd->p into o, as s_walk fills it, except that a
 * container gets its size and no children: the caller reads them next.
 * 0, or -1 when the bytes end early or hold a type records never use
 * (bin, ext, reserved).  A header that is not the smallest, an integer
 * not in msgpack-c's form, a float32, or a whole float64 below 2^53 clear
 * rd->canon.
 */
static int s_rd(struct mprd *rd, msgpack_object *o)
{
	size_t left = (size_t)(rd->end - rd->p);
	uint64_t n, u;
	unsigned char b;
	int w;

	if (left == 0)
		return -1;
	b = *rd->p++;
	left--;
	if ((b & 0xe0) == 0xa0) { /* a fixstr: most values of a record */
		n = b & 0x1f;
		goto str;
	}
	if (b <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = b;
		return 0;
	}
	if (b >= 0xe0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = (int8_t)b;
		return 0;
	}
	if (b <= 0x8f) {
		n = b & 0x0f;
		goto map;
	}
	if (b <= 0x9f) {
		n = b & 0x0f;
		goto array;
	}
	if (b <= 0xbf) {
		n = b & 0x1f;
		goto str;
	}
	switch (b) {
	case 0xc0:
		o->type = MSGPACK_OBJECT_NIL;
		return 0;
	case 0xc2:
	case 0xc3:
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = b == 0xc3;
		return 0;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		w = 1 << (b - 0xcc);
		if (left < (size_t)w)
			return -1;
		u = s_be(rd->p, w);
		rd->p += w;
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = u;
		if (s_uint_width(u) != w)
			rd->canon = false;
		return 0;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		int64_t v;
		w = 1 << (b - 0xd0);
		if (left < (size_t)w)
			return -1;
		v = s_sbe(rd->p, w);
		rd->p += w;
		s_set_int(o, v);
		if (v >= 0 || s_neg_width(v) != w) /* msgpack-c writes v >= 0 unsigned */
			rd->canon = false;
		return 0;
	}
	case 0xca: {
		uint32_t bits;
		float f;
		if (left < 4)
			return -1;
		bits = (uint32_t)s_be(rd->p, 4);
		rd->p += 4;
		memcpy(&f, &bits, sizeof(f));
		o->type = MSGPACK_OBJECT_FLOAT32;
		o->via.f64 = f;
		rd->canon = false; /* records are written with float64 only */
		return 0;
	}
	case 0xcb: {
		uint64_t bits;
		double d;
		if (left < 8)
			return -1;
		bits = s_be(rd->p, 8);
		rd->p += 8;
		memcpy(&d, &bits, sizeof(d));
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = d;
		if (d == trunc(d) && fabs(d) < 9007199254740992.0) /* s_pack_num: an integer */
			rd->canon = false;
		return 0;
	}
	case 0xd9:
	case 0xda:
	case 0xdb:
		w = 1 << (b - 0xd9);
		if (left < (size_t)w)
			return -1;
		n = s_be(rd->p, w);
		rd->p += w;
		if (mp_str_hdr_len(n) != (size_t)w + 1)
			rd->canon = false;
		goto str;
	case 0xdc:
	case 0xdd:
	case 0xde:
	case 0xdf:
		w = (b == 0xdc || b == 0xde) ? 2 : 4;
		if (left < (size_t)w)
			return -1;
		n = s_be(rd->p, w);
		rd->p += w;
		if (mp_cont_hdr_len(n) != (size_t)w + 1)
			rd->canon = false;
		if (b >= 0xde)
			goto map;
		goto array;
	default:
		return -1;
	}
str:
	if ((size_t)(rd->end - rd->p) < n)
		return -1;
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.size = (uint32_t)n;
	o->via.str.ptr = (const char *)rd->p;
	rd->p += n;
	return 0;
map:
	o->type = MSGPACK_OBJECT_MAP;
	o->via.map.size = (uint32_t)n;
	o->via.map.ptr = NULL;
	return 0;
array:
	o->type = MSGPACK_OBJECT_ARRAY;
	o->via.array.size = (uint32_t)n;
	o->via.array.ptr = NULL;
	return 0;
}

/* The items of a roles array whose header is v (s_decode_field's F_ROLES). */
static int s_rd_roles(struct mprd *rd, const msgpack_object *v, unsigned *out)
{
	unsigned roles = 0;

	if (v->type != MSGPACK_OBJECT_ARRAY)
		return -1;
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		msgpack_object it;
		unsigned r;

		if (s_rd(rd, &it) != 0 || it.type != MSGPACK_OBJECT_STR)
			return -1;
		for (r = 0; r < 4; r++)
			if (s_key_is(&it, s_role_names[r]))
				break;
		if (r == 4)
			return -1;
		if ((roles >> r) != 0) /* out of bit order, or repeated */
			rd->canon = false;
		roles |= 1u << r;
	}
	*out = roles;
	return 0;
}

/* The items of a string array whose header is v (s_decode_field's
 * F_STRARR). */
static int s_rd_strarr(struct mprd *rd, const msgpack_object *v, void *base, const struct field *f)
{
	struct arena *a = rd->arena;
	char ***items = AT(base, f->off, char **);
	size_t *count = AT(base, f->count_off, size_t);
	char sub[256];

	if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > RECORD_MAX_EVIDENCE)
		return -1;
	if (v->via.array.size == 0)
		return 0;
	*items = calloc(v->via.array.size, sizeof(char *));
	if (*items == NULL)
		return -1;
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		msgpack_object it;

		if (s_rd(rd, &it) != 0 ||
		    s_get_str(a, &it, f->name, &(*items)[i], sub, sizeof(sub)) != 0)
			return -1;
		(*count)++;
	}
	return 0;
}

/* memcmp(a, b, n) == 0 for the short names of the tables, in a few loads:
 * the first and the last word of each, overlapping when n is not a
 * multiple of the word. */
static inline bool s_same_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v, u2, v2;
	uint16_t h, k, h2, k2;

	if (n >= 8) {
		for (; n > 8; n -= 8, a += 8, b += 8) {
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&v2, b + n - 4, 4);
		return u == v && u2 == v2;
	}
	if (n >= 2) {
		memcpy(&h, a, 2);
		memcpy(&k, b, 2);
		memcpy(&h2, a + n - 2, 2);
		memcpy(&k2, b + n - 2, 2);
		return h == k && h2 == k2;
	}
	return n == 0 || a[0] == b[0];
}

/* Whether the bytes at rd->p are f's name as a fixstr (every field name is
 * shorter than 32 bytes), which is how record_to_msgpack writes it. */
static bool s_next_key_is(const struct mprd *rd, const struct field *f)
{
	const unsigned char *p = rd->p;
	size_t n = f->namelen;

	if (f->name == NULL || (size_t)(rd->end - p) <= n || p[0] != (0xa0 | n))
		return false;
	return s_same_bytes(p + 1, (const unsigned char *)f->name, n);
}

/*
 * Read n map entries into the struct at base by the table fs of nfs
 * fields (s_decode_fields' rules: known keys, each at most once).  A
 * trade's instrument span goes to info when info is not NULL.  0, or -1:
 * declined (what was decoded stays in base, for record_free).
 */
static int s_rd_fields(struct mprd *rd, uint32_t n, void *base, const struct field *fs, size_t nfs,
                       struct record_mp_info *info)
{
	const struct field *next = fs;
	uint64_t seen = 0;
	char sub[256];

	if (n != nfs)
		rd->canon = false;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *vstart;
		const struct field *f;
		msgpack_object k, v;
		size_t idx;

		if (s_next_key_is(rd, next)) {
			/* the field after the last one, as record_to_msgpack orders
			 * them: no search */
			f = next;
			rd->p += 1 + f->namelen;
		} else {
			if (s_rd(rd, &k) != 0 || k.type != MSGPACK_OBJECT_STR)
				return -1;
			f = s_find_field(fs, next, &k);
			if (f == NULL)
				return -1;
		}
		idx = (size_t)(f - fs);
		if (seen & (1ull << idx))
			return -1;
		seen |= 1ull << idx;
		if (idx != i)
			rd->canon = false;
		next = f + 1;
		vstart = rd->p;
		if (s_rd(rd, &v) != 0)
			return -1;
		switch (f->kind) {
		case F_STR:
			/* s_decode_field's case, without its call */
			if (v.type == MSGPACK_OBJECT_STR) {
				if (s_get_str(rd->arena, &v, f->name, AT(base, f->off, char *), sub,
				              sizeof(sub)) != 0)
					return -1;
			} else if (v.type != MSGPACK_OBJECT_NIL) {
				return -1;
			}
			break;
		case F_ROLES:
			if (s_rd_roles(rd, &v, AT(base, f->off, unsigned)) != 0)
				return -1;
			break;
		case F_STRARR:
			if (s_rd_strarr(rd, &v, base, f) != 0)
				return -1;
			break;
		case F_INSTR:
			if (v.type == MSGPACK_OBJECT_MAP) {
				instrument_t *ins =
				    s_take(rd->arena, sizeof(*ins), _Alignof(instrument_t));
				if (ins == NULL)
					return -1;
				instrument_init(ins);
				*AT(base, f->off, instrument_t *) =
				    ins; /* the record's from here */
				if (s_rd_fields(rd, v.via.map.size, ins, s_instrument_fields,
				                s_count_fields(s_instrument_fields), NULL) != 0)
					return -1;
			} else if (v.type != MSGPACK_OBJECT_NIL) {
				return -1;
			}
			if (info != NULL) {
				info->instr_off = (size_t)(vstart - rd->buf);
				info->instr_len = (size_t)(rd->p - vstart);
			}
			break;
		default:
			if (v.type == MSGPACK_OBJECT_MAP || v.type == MSGPACK_OBJECT_ARRAY ||
			    s_decode_field(rd->arena, &v, base, f, sub, sizeof(sub)) != 0)
				return -1;
			if (f->kind == F_NUM && ((v.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
			                          v.via.u64 >= (1ull << 53)) ||
			                         (v.type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
			                          v.via.i64 <= -(1ll << 53))))
				rd->canon = false; /* s_pack_num writes it as a float64 */
			if (f->kind == F_TIME && v.type == MSGPACK_OBJECT_STR) {
				s_fmt_time(*AT(base, f->off, int64_t));
				if (v.via.str.size != s_fmt_len ||
				    memcmp(v.via.str.ptr, s_fmt_s, s_fmt_len) != 0)
					rd->canon = false;
			}
			break;
		}
	}
	return 0;
}

/* The one-pass reader: 0 with *r and *info filled, or -1 (declined, *r
 * zeroed). */
static int s_rd_record(const void *buf, size_t len, record_t *r, struct record_mp_info *info)
{
	struct arena arena;
	struct mprd rd = { buf, buf, (const unsigned char *)buf + len, true, &arena };
	enum record_type type = REC_NONE;
	const struct field *fs;
	msgpack_object root, k, v;

	if (len == 0 || len > RECORD_MAX_BYTES)
		return -1;
	if (s_rd(&rd, &root) != 0 || root.type != MSGPACK_OBJECT_MAP || root.via.map.size < 2)
		return -1;
	if (s_rd(&rd, &k) != 0 || !s_key_is(&k, "type") || s_rd(&rd, &v) != 0)
		return -1;
	for (int t = REC_TRADE; t <= REC_STATS; t++)
		if (s_key_is(&v, record_type_name((enum record_type)t))) {
			type = (enum record_type)t;
			break;
		}
	if (type == REC_NONE)
		return -1;
	if (s_rd(&rd, &k) != 0 || !s_key_is(&k, "v") || s_rd(&rd, &v) != 0 ||
	    v.type != MSGPACK_OBJECT_POSITIVE_INTEGER || v.via.u64 != RECORD_VERSION)
		return -1;
	record_init(r, type);
	s_arena_attach(&arena, r, len);
	fs = s_fields_of(type);
	if (s_rd_fields(&rd, root.via.map.size - 2, &r->u, fs, s_count_fields(fs), info) != 0 ||
	    rd.p != rd.end || record_validate(r, NULL, 0) != 0) {
		record_free(r);
		return -1;
	}
	info->canonical = rd.canon;
	return 0;
}

int record_from_msgpack_info(const void *buf, size_t len, record_t *r, struct record_mp_info *info,
                             char *err, size_t errlen)
{
	struct record_mp_info scratch;

	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof(*info));
	if (s_rd_record(buf, len, r, info) == 0) {
		if (!info->canonical)
			info->instr_off = info->instr_len = 0;
		return 0;
	}
	memset(info, 0, sizeof(*info));
	return record_mp_decode_tree(buf, len, r, err, errlen);
}

int record_from_msgpack(const void *buf, size_t len, record_t *r, char *err, size_t errlen)
{
	return record_from_msgpack_info(buf, len, r, NULL, err, errlen);
}

/*
 * A canonical trade's bytes are the encodings of its fields one after the
 * other, so replacing the instrument's value gives the encoding of the
 * trade with the new instrument: the copy around it is all the work.  The
 * checks are record_to_msgpack's (the rest of the trade passed them when it
 * was decoded, and is not changed).
 */
int record_trade_msgpack_with_instrument(const void *mp, size_t len,
                                         const struct record_mp_info *info, const instrument_t *ins,
                                         char **buf, size_t *cap, size_t *outlen, char *err,
                                         size_t errlen)
{
	const unsigned char *in = mp;
	struct mpbuf b = { (unsigned char *)*buf, 0, *cap, false };

	*outlen = 0;
	if (info == NULL || !info->canonical || info->instr_len == 0 || info->instr_off >= len ||
	    info->instr_len > len - info->instr_off) {
		snprintf(err, errlen, "trade: not a canonical encoding");
		return -1;
	}
	if (ins != NULL && instrument_validate(ins, err, errlen) != 0)
		return -1;
	(void)mpbuf_room(&b, len + 512);
	mpbuf_put(&b, in, info->instr_off);
	if (ins == NULL)
		mp_put_nil(&b);
	else
		s_pack_fields(&b, ins, s_instrument_fields);
	mpbuf_put(&b, in + info->instr_off + info->instr_len,
	          len - info->instr_off - info->instr_len);
	*buf = (char *)b.p; /* grown or not, still the caller's */
	*cap = b.cap;
	if (b.oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (b.len > RECORD_MAX_BYTES) {
		snprintf(err, errlen, "trade: encoded record is %zu bytes, more than %d", b.len,
		         RECORD_MAX_BYTES);
		return -1;
	}
	*outlen = b.len;
	return 0;
}
