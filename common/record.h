/*
 * record.h - the records that flow between the stages (DESIGN.md "Records").
 *
 * One C struct per record type.  Conventions, used by every codec:
 *   - strings are NUL-terminated and owned by the record; NULL means
 *     null/absent.  A record built field by field holds each string in an
 *     allocation of its own; a decoded one holds its strings (and its
 *     instrument) in one block (record_t.block), so that code which
 *     replaces a field of a record it did not build must release the old
 *     value through record_free or record_clear_instrument, never free();
 *   - numbers are doubles; NAN means null (use REC_NULL_NUM / rec_num_is_null);
 *   - times are seconds since the epoch (UTC); REC_NULL_TIME means null.
 *     On the wire they are RFC 3339 strings ("2022-01-06T21:05:31Z");
 *   - tri-state booleans (null/false/true) are int8_t: -1, 0, 1.
 * record_free() releases everything a record owns; a zeroed record_t is a
 * valid empty record.  On the wire every record is a msgpack map (or JSON
 * object) with "type" and "v": 1.
 */
#ifndef COATTAIL_RECORD_H
#define COATTAIL_RECORD_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION 1
#define REC_NULL_NUM   NAN
#define REC_NULL_TIME  INT64_MIN
#define REC_TRI_NULL   ((int8_t)-1)

/* Largest encoded record accepted from outside (msgpack or one JSON line). */
#define RECORD_MAX_BYTES (64 * 1024)
/* Longest JSON line accepted (a line may be larger than its msgpack form:
 * quotes, escapes, digits). */
#define RECORD_MAX_JSON_BYTES (2 * RECORD_MAX_BYTES)
/* Longest string field accepted, in bytes. */
#define RECORD_MAX_STR 4096
/* Most evidence keys in one intent. */
#define RECORD_MAX_EVIDENCE 256

static inline bool rec_num_is_null(double x)
{
	return isnan(x);
}

enum record_type {
	REC_NONE = 0,
	REC_TRADE,
	REC_INTENT,
	REC_ORDER,
	REC_DROP,
	REC_STATS,
};

/* trade.roles bits */
enum trade_role {
	ROLE_DIRECTOR = 1 << 0,
	ROLE_OFFICER = 1 << 1,
	ROLE_TEN_PERCENT_OWNER = 1 << 2,
	ROLE_OTHER = 1 << 3,
};

/* Set by the mapper; lives inside a trade. */
typedef struct instrument {
	char *figi;
	char *composite_figi;
	char *share_class_figi;
	char *ticker; /* on the target venue */
	char *exch_code;
	char *name;
	char *security_type;
	char *market_sector;
	char *isin;                /* null unless a broker supplies it */
	double shares_outstanding; /* NAN when unknown */
	double market_cap;         /* NAN when unknown; an estimate */
} instrument_t;

/* One insider transaction (scraper -> mapper -> decider). */
typedef struct trade {
	char *key;       /* required: stable id of this transaction */
	char *source;    /* required: "edgar", "openinsider", "finviz" */
	char *accession; /* "0001209191-22-001234" or NULL */
	char *url;
	int64_t filed_at;    /* REC_NULL_TIME when unknown */
	char trade_date[11]; /* required: "YYYY-MM-DD" */
	char *ticker;        /* required: upper case */
	char *issuer;        /* required */
	char *issuer_cik;    /* 10 digits or NULL */
	char *owner;         /* required */
	char *owner_cik;
	char *title;
	unsigned roles; /* enum trade_role bits */
	char code[2];   /* required: one SEC transaction code letter */
	double shares;  /* required, > 0 */
	double price;   /* NAN when unknown, else >= 0 */
	double value;   /* NAN when unknown, else >= 0 */
	double shares_after;
	int8_t direct; /* REC_TRI_NULL, 0 indirect, 1 direct */
	bool planned;
	bool amendment;
	instrument_t *instrument; /* NULL until the mapper sets it */
} trade_t;

enum side { SIDE_NONE = 0, SIDE_BUY, SIDE_SELL };

/* What the decider wants done (decider -> executor). */
typedef struct intent {
	char *id;   /* required: derived from the evidence */
	char *rule; /* required: "executive_trade", "cluster_buy", ... */
	enum side side;
	char *ticker; /* required */
	char *figi;
	char *isin;
	double qty;      /* NAN unless sized in shares */
	double notional; /* NAN unless sized in USD */
	double ref_price;
	char **evidence; /* trade keys */
	size_t n_evidence;
	char *reason; /* required: one sentence */
	int64_t created_at;
	int64_t expires_at;
} intent_t;

enum order_status {
	ORDER_NONE = 0,
	ORDER_SUBMITTED,
	ORDER_FILLED,
	ORDER_REJECTED,
	ORDER_DUPLICATE,
	ORDER_BLOCKED,
	ORDER_DRY_RUN,
	ORDER_ERROR,
};

/* What the executor did with an intent (executor -> tap). */
typedef struct order {
	char *intent; /* required: the intent id */
	char *broker; /* required */
	enum order_status status;
	char *broker_order_id;
	double qty;
	double price;
	char *reason;
	int64_t at;
} order_t;

/* A record a stage refused or dropped, with why (tap only). */
typedef struct drop {
	char *stage;  /* required */
	char *key;    /* the trade key / intent id, NULL when unreadable */
	char *reason; /* required */
} drop_t;

/* Counters a stage publishes every few seconds (tap only). */
typedef struct stats {
	char *stage; /* required */
	uint64_t in, out, dropped, errors;
} stats_t;

typedef struct record {
	enum record_type type;
	union {
		trade_t trade;
		intent_t intent;
		order_t order;
		drop_t drop;
		stats_t stats;
	} u;
	/* The decoders' one allocation for the record's strings and its
	 * instrument, block_len bytes, or NULL.  record_free frees it, and
	 * frees each field that lies outside it as before.  Moving a record by
	 * value moves the block with it. */
	char *block;
	size_t block_len;
} record_t;

/* Zero a record of that type and set its nullable fields to null (NAN
 * numbers, REC_NULL_TIME times, REC_TRI_NULL tri-states).  Producers call
 * this before filling a record: a plain zeroed record has 0, not null. */
void record_init(record_t *r, enum record_type type);
void instrument_init(instrument_t *ins);

/* Strict UTF-8 check (no NUL, overlongs or surrogates). */
bool record_utf8_valid(const char *s, size_t n);

/* Release what the record owns and zero it.  Safe on a zeroed record. */
void record_free(record_t *r);
/* Release what a standalone instrument owns (not one inside a decoded
 * record's block: see record_clear_instrument). */
void instrument_free(instrument_t *ins);
/* Release a trade's instrument, wherever it lives (its own allocations or
 * the record's block), and set it NULL: how a stage replaces the instrument
 * of a trade it decoded. */
void record_clear_instrument(record_t *r);
/* Deep copy; returns 0, or -1 when out of memory (dst is then zeroed). */
int record_copy(record_t *dst, const record_t *src);

const char *record_type_name(enum record_type t);
enum record_type record_type_from_name(const char *s);
const char *side_name(enum side s);
const char *order_status_name(enum order_status s);

/* The key a drop record should carry for this record (trade key, intent id),
 * or NULL. */
const char *record_key(const record_t *r);

/*
 * Check a record against the contract: required fields present, numbers in
 * range, codes and dates well formed.  Returns 0, or -1 with the first
 * problem written to err ("trade: shares must be > 0").  Both decoders call
 * it; producers call it before sending.
 */
int record_validate(const record_t *r, char *err, size_t errlen);
/* The instrument's part of those checks (its numbers' ranges). */
int instrument_validate(const instrument_t *ins, char *err, size_t errlen);

/* ---- msgpack (record_msgpack.c) ---- */

/*
 * Encode r as one msgpack map.  *out is malloc'd (caller frees), *outlen set.
 * Returns 0, or -1 on a record that fails record_validate (err says why).
 */
int record_to_msgpack(const record_t *r, char **out, size_t *outlen, char *err, size_t errlen);

/*
 * Decode one untrusted msgpack record.  The buffer must hold exactly one map
 * of at most RECORD_MAX_BYTES; containers are pre-scanned (counts must fit in
 * the bytes left, nesting at most 4 deep) before msgpack-c allocates
 * anything; every field's type and range is checked; an unknown "v" or
 * "type", an unknown key, or trailing bytes reject the record.  On success
 * returns 0 and fills *r (caller record_free()s it); on failure returns -1,
 * leaves *r zeroed, and writes the reason to err.
 */
int record_from_msgpack(const void *buf, size_t len, record_t *r, char *err, size_t errlen);

/* What record_from_msgpack_info tells about the bytes it decoded. */
struct record_mp_info {
	/* The bytes are exactly what record_to_msgpack writes for the decoded
	 * record (keys in the contract's order, every field present, the
	 * smallest headers, whole numbers as integers, times as formatted). */
	bool canonical;
	/* A trade's "instrument" value lies at bytes [instr_off, instr_off +
	 * instr_len) (set only when canonical). */
	size_t instr_off, instr_len;
};

/* record_from_msgpack, and *info filled on success (zeroed on failure). */
int record_from_msgpack_info(const void *buf, size_t len, record_t *r, struct record_mp_info *info,
                             char *err, size_t errlen);

/*
 * The msgpack of a trade whose canonical encoding is mp (info from
 * record_from_msgpack_info, canonical) with its instrument replaced by ins
 * (NULL: null): the bytes record_to_msgpack writes for that trade, made by
 * copying mp around the instrument's new encoding.  They are written to
 * *buf, a malloc'd buffer of *cap bytes (or NULL and 0) that the caller
 * keeps from call to call and frees; it is grown as needed.  0 with
 * *outlen set, or -1 (err says why: not canonical, an invalid instrument,
 * too large); the caller then encodes the record itself, which reports as
 * it always did.
 */
int record_trade_msgpack_with_instrument(const void *mp, size_t len,
                                         const struct record_mp_info *info, const instrument_t *ins,
                                         char **buf, size_t *cap, size_t *outlen, char *err,
                                         size_t errlen);

/* ---- JSON lines (record_json.c) ---- */

/* Encode r as one JSON object with no newline.  *out malloc'd. */
int record_to_json(const record_t *r, char **out, size_t *outlen, char *err, size_t errlen);

/* Decode one JSON object (one line, without its newline); the same checks as
 * record_from_msgpack. */
int record_from_json(const char *buf, size_t len, record_t *r, char *err, size_t errlen);

/*
 * record_from_json, and on success the msgpack the line was read into (the
 * map as written, keys in the line's order; *mp valid until the next call
 * on this thread) with what record_from_msgpack_info said of it: when
 * info->canonical, those bytes are exactly record_to_msgpack's for *r, and
 * may be sent as they are.
 */
int record_from_json_info(const char *buf, size_t len, record_t *r, struct record_mp_info *info,
                          const void **mp, size_t *mplen, char *err, size_t errlen);

/* Translate an encoded record (from record_to_msgpack or an already
 * validated message) to its JSON text without decoding it into a record:
 * what the tap and `--out -` print.  *out malloc'd. */
int record_msgpack_to_json(const void *mp, size_t mplen, char **out, size_t *outlen, char *err,
                           size_t errlen);

/*
 * record_msgpack_to_json without checking the bytes again: mp must be
 * record_to_msgpack's output, or bytes record_from_msgpack accepted (the
 * renderer trusts every length in them).  For the stage's own `--out -`,
 * where the bytes were made or checked a moment before; anything read from
 * outside goes through record_msgpack_to_json.
 */
int record_encoded_to_json(const void *mp, size_t mplen, char **out, size_t *outlen, char *err,
                           size_t errlen);

#endif
