/*
 * record_json.c - records <-> JSON lines, the debugging format
 * (`--in -`, `--out -`, coattail-tap, coattail-inject).
 *
 * JSON is translated to msgpack and decoded by record_from_msgpack, and
 * records are encoded to msgpack and translated to JSON, so both formats
 * share one schema and one set of checks (record_msgpack.c).
 */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "record_priv.h"

#define JSON_MAX_BYTES RECORD_MAX_JSON_BYTES
#define JSON_MAX_DEPTH 4

/* ---- JSON -> msgpack ---- */

/*
 * A strict JSON (RFC 8259) reader that writes the msgpack form of what it
 * reads, the bytes msgpack-c packed from jansson's tree before: objects
 * become maps with their keys in the order read, integers (no fraction or
 * exponent) int64, other numbers float64, strings their UTF-8.  What
 * jansson was asked for is kept: duplicate keys are refused (the record
 * decoder refuses repeated fields of its tables; the reader itself refuses
 * a second top-level "type" or "v", the only keys the decoder reads
 * twice), \u0000 is allowed into strings (the record decoder refuses NULs
 * where a string is used), integers must fit int64 and reals must not
 * overflow.  Bytes inside strings are not checked as UTF-8 here: every
 * string a record keeps is checked by the record decoder, and every other
 * one is compared with a fixed ASCII name.  No tree, no allocation per
 * value: one output buffer per line.
 *
 * The output is written through a bare pointer, with no bounds check per
 * byte.  The room it needs is known: the msgpack of every value but a real
 * is no longer than its text and the one separator or bracket after it,
 * which writes nothing (a string's header, at most 3 bytes below 64 KiB,
 * against its two quotes and that byte; an integer's bytes no more than
 * its digits; a container's header no longer than its brackets and that
 * byte; blanks write nothing), so room for the rest of the line plus JSON_SLACK
 * is reserved at the start (s_jroom) and again before each real (9 bytes
 * from as few as 3 characters) is written.  JSON_SLACK covers what runs
 * ahead of the text consumed: 4 bytes for each open container (5 reserved
 * for its header against its 1 bracket; 4 levels at most), 3 for the one
 * string a line can hold of 64 KiB or more (a 5-byte header), and
 * transiently 16 for the vector store of a short string (s_jstring) or 5
 * for the header room of one with escapes: 16 + 3 + 16 < 64.
 */
#define JSON_SLACK 64

struct jreader {
	const unsigned char *s, *p, *end;
	unsigned char *o0, *o, *oend; /* the output: its start, next byte, end of room */
	char *err;
	size_t errlen;
	int failed;
};

static int s_jfail(struct jreader *j, const char *what)
{
	if (!j->failed)
		snprintf(j->err, j->errlen, "json: %s at column %zu", what,
		         (size_t)(j->p - j->s) + 1);
	j->failed = 1;
	return -1;
}

/*
 * The output buffer is kept per thread and reused from line to line (a
 * replay decodes millions); one that grew past 64 KiB for a large line is
 * given back rather than kept.
 */
static _Thread_local struct mpbuf s_jbuf;

/* Room for need more bytes at j->o; -1 when memory runs out. */
static int s_jroom(struct jreader *j, size_t need)
{
	size_t used, cap;
	unsigned char *np;

	if (j->o0 == NULL) {
		used = 0;
	} else {
		if ((size_t)(j->oend - j->o) >= need)
			return 0;
		used = (size_t)(j->o - j->o0);
	}
#ifdef COATTAIL_FUZZ
	/* exactly the room promised, so that a write past it is caught */
	cap = used + need;
#else
	cap = s_jbuf.cap ? s_jbuf.cap : 256;
	while (cap - used < need)
		cap *= 2;
#endif
	np = realloc(s_jbuf.p, cap);
	if (np == NULL)
		return -1;
	s_jbuf.p = np;
	s_jbuf.cap = cap;
	j->o0 = np;
	j->o = np + used;
	j->oend = np + cap;
	return 0;
}

static inline bool s_jblank(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void s_jws(struct jreader *j)
{
	const unsigned char *p = j->p;

	/* most places have no blank: one test, then the loop */
	if (p < j->end && *p <= ' ') {
		while (p < j->end && s_jblank(*p))
			p++;
		j->p = p;
	}
}

static int s_jhex4(struct jreader *j, uint32_t *cp)
{
	uint32_t v = 0;

	if (j->end - j->p < 4)
		return s_jfail(j, "invalid \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = j->p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return s_jfail(j, "invalid \\u escape");
	}
	j->p += 4;
	*cp = v;
	return 0;
}

/* Append code point cp as UTF-8 at d; returns the bytes written. */
static size_t s_utf8_put(unsigned char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xc0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xe0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (unsigned char)(0xf0 | (cp >> 18));
	d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

#ifdef __SSE2__
/* Of the sixteen bytes w, those that end a string's plain run: a quote, a
 * backslash or a control character (bit i for byte i). */
static inline unsigned s_jstops16(__m128i w)
{
	__m128i q = _mm_cmpeq_epi8(w, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(w, _mm_set1_epi8('\\'));
	__m128i c = _mm_cmpeq_epi8(_mm_and_si128(w, _mm_set1_epi8((char)0xe0)),
	                           _mm_setzero_si128()); /* < 0x20 */
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#endif

/*
 * The first byte in [p, end) that is a quote, a backslash or a control
 * character, or end.  Then eight bytes at a time: for each of the three tests
 * the classic "has a zero byte" expression, whose lowest set bit marks the
 * first match on a little-endian machine (bits above it may be false
 * positives; bytes >= 0x80 set no bit).
 */
static const unsigned char *s_jscan(const unsigned char *p, const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

#ifdef __SSE2__
	/* Sixteen bytes at a time where SSE2 is there (every x86-64): most
	 * strings of a record end within the first sixteen. */
	while (end - p >= 16) {
		unsigned m = s_jstops16(_mm_loadu_si128((const __m128i *)(const void *)p));
		if (m != 0)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t w, q, b, c;
		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		q = (q - ones) & ~q;
		b = (b - ones) & ~b;
		c = (w - ones * 0x20) & ~w;
		c = (q | b | c) & highs;
		if (c != 0)
			return p + (__builtin_ctzll(c) >> 3);
		p += 8;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && *p >= 0x20)
		p++;
	return p;
}

/*
 * A string with escapes, or one that s_jstring's vector look did not end:
 * j->p is past its opening quote.  The body is written after room for the
 * largest header (5 bytes) and moved back once its length, hence its
 * header's, is known.  The decoded body is never longer than the escaped
 * text.
 */
static int s_jstring_slow(struct jreader *j)
{
	const unsigned char *q;
	unsigned char *d, *d0;
	size_t n, h;

	/* Most strings have no escapes: find the quote, copy once. */
	q = s_jscan(j->p, j->end);
	if (q < j->end && *q == '"') {
		n = (size_t)(q - j->p);
		h = mp_str_hdr_len(n);
		mp_str_hdr_at(j->o, n);
		memcpy(j->o + h, j->p, n);
		j->o += h + n;
		j->p = q + 1;
		return 0;
	}
	for (q = j->p; q < j->end && *q != '"'; q++)
		if (*q == '\\' && ++q == j->end)
			break;
	if (q >= j->end)
		return s_jfail(j, "unterminated string");
	d0 = j->o;
	d = d0 + 5;
	while (j->p < q) {
		const unsigned char *r = j->p;
		unsigned char c;
		uint32_t cp, lo;

		while (r < q && *r != '\\' && *r >= 0x20)
			r++;
		memcpy(d, j->p, (size_t)(r - j->p));
		d += r - j->p;
		j->p = r;
		if (r == q)
			break;
		if (*r < 0x20)
			return s_jfail(j, "control character in string");
		c = r[1];
		j->p = r + 2;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*d++ = c;
			break;
		case 'b':
			*d++ = '\b';
			break;
		case 'f':
			*d++ = '\f';
			break;
		case 'n':
			*d++ = '\n';
			break;
		case 'r':
			*d++ = '\r';
			break;
		case 't':
			*d++ = '\t';
			break;
		case 'u':
			if (s_jhex4(j, &cp) != 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return s_jfail(j, "invalid Unicode escape (lone low surrogate)");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* a surrogate pair: "\ud83d\ude00" is 12 bytes of text for 4 of
				 * UTF-8 */
				if (q - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
					return s_jfail(
					    j, "invalid Unicode escape (lone high surrogate)");
				j->p += 2;
				if (s_jhex4(j, &lo) != 0)
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return s_jfail(
					    j, "invalid Unicode escape (bad low surrogate)");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			d += s_utf8_put(d, cp);
			break;
		default:
			j->p = r;
			return s_jfail(j, "invalid escape in string");
		}
	}
	j->p = q + 1;
	n = (size_t)(d - (d0 + 5));
	h = mp_str_hdr_len(n);
	memmove(d0 + h, d0 + 5, n);
	mp_str_hdr_at(d0, n);
	j->o = d0 + h + n;
	return 0;
}

/*
 * A string at j->p (its opening quote), written as a msgpack str.  Most
 * strings of a record are plain and shorter than 32 bytes: their body is
 * found and copied with one or two 16-byte loads and stores (the stores may
 * run past the body, into room that is there: JSON_SLACK); the rest go to
 * s_jstring_slow.
 */
static inline int s_jstring(struct jreader *j)
{
	const unsigned char *p = j->p + 1;

#ifdef __SSE2__
	if (j->end - p >= 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p), w2;
		unsigned m = s_jstops16(w), n;
		unsigned char *o = j->o;

		if (m != 0) {
			n = (unsigned)__builtin_ctz(m);
			if (p[n] != '"')
				goto slow;
			_mm_storeu_si128((__m128i *)(void *)(o + 1), w);
		} else {
			if (j->end - p < 32)
				goto slow;
			w2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
			m = s_jstops16(w2);
			if (m == 0)
				goto slow;
			n = 16 + (unsigned)__builtin_ctz(m);
			if (p[n] != '"')
				goto slow;
			_mm_storeu_si128((__m128i *)(void *)(o + 1), w);
			_mm_storeu_si128((__m128i *)(void *)(o + 17), w2);
		}
		o[0] = (unsigned char)(0xa0 | n);
		j->o = o + 1 + n;
		j->p = p + n + 1;
		return 0;
	}
slow:
#endif
	j->p = p;
	return s_jstring_slow(j);
}

static const double s_pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                          1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                          1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/*
 * A number at j->p.  The grammar is RFC 8259's (no leading zeros, no
 * leading '+' or '.', digits on both sides of '.', an exponent's digits).
 * Integers become int64 (refused beyond its range, as jansson's strtoll
 * did).  Reals are exact when their digits fit 2^53 and the power of ten
 * is at most 22 (both are exact doubles, so one IEEE division or
 * multiplication rounds correctly); otherwise strtod, as jansson, with
 * overflow refused.
 */
static int s_jnumber(struct jreader *j)
{
	const unsigned char *t = j->p, *end = j->end;
	bool neg = false, is_real = false, exact = true;
	uint64_t m = 0;
	int digits = 0, frac = 0;
	long ex = 0;

	if (t < end && *t == '-') {
		neg = true;
		t++;
	}
	if (t >= end || *t < '0' || *t > '9')
		return s_jfail(j, "invalid number");
	if (*t == '0') {
		t++;
		if (t < end && *t >= '0' && *t <= '9')
			return s_jfail(j, "invalid number (leading zero)");
	} else {
		/* the first digit is not 0: each one read counts, up to 19 */
		const unsigned char *t0 = t, *lim = end - t > 19 ? t + 19 : end;

		for (; t < lim && (unsigned)(*t - '0') < 10; t++)
			m = m * 10 + (uint64_t)(*t - '0');
		digits = (int)(t - t0);
		for (; t < end && (unsigned)(*t - '0') < 10; t++)
			exact = false;
	}
	if (t < end && *t == '.') {
		is_real = true;
		t++;
		if (t >= end || *t < '0' || *t > '9')
			return s_jfail(j, "invalid number (no digits after '.')");
		for (; t < end && *t >= '0' && *t <= '9'; t++) {
			if (digits < 19) {
				m = m * 10 + (uint64_t)(*t - '0');
				if (m != 0)
					digits++;
				frac++;
			} else if (*t != '0') {
				exact = false;
			}
		}
	}
	if (t < end && (*t == 'e' || *t == 'E')) {
		bool eneg = false;
		is_real = true;
		t++;
		if (t < end && (*t == '+' || *t == '-'))
			eneg = *t++ == '-';
		if (t >= end || *t < '0' || *t > '9')
			return s_jfail(j, "invalid number (no exponent digits)");
		for (; t < end && *t >= '0' && *t <= '9'; t++)
			if (ex < 100000)
				ex = ex * 10 + (*t - '0');
		if (eneg)
			ex = -ex;
	}
	if (!is_real) {
		/* at most 19 digits were read; a 19-digit m fits uint64 */
		if (!exact || (!neg && m > (uint64_t)INT64_MAX) ||
		    (neg && m > (uint64_t)INT64_MAX + 1))
			return s_jfail(j, "too big integer");
		j->o += mp_int64_at(j->o, neg ? (int64_t)(0 - m) : (int64_t)m);
	} else {
		long e10 = ex - frac;
		uint64_t bits;
		double x;

		if (exact && m <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
			x = (double)m;
			x = e10 < 0 ? x / s_pow10[-e10] : x * s_pow10[e10];
			if (neg)
				x = -x;
		} else {
			char num[512], *endp;
			size_t n = (size_t)(t - j->p);
			char *heap = NULL, *nb = num;

			if (n >= sizeof(num)) {
				heap = malloc(n + 1);
				if (heap == NULL)
					return s_jfail(j, "out of memory");
				nb = heap;
			}
			memcpy(nb, j->p, n);
			nb[n] = '\0';
			x = strtod(nb, &endp);
			free(heap);
			if (isinf(x))
				return s_jfail(j, "real number overflow");
		}
		/* 9 bytes from as few as 3 characters: room checked (JSON_SLACK) */
		if (s_jroom(j, 9 + (size_t)(end - t) + JSON_SLACK) != 0)
			return s_jfail(j, "out of memory");
		memcpy(&bits, &x, sizeof(bits));
		j->o[0] = 0xcb;
		mp_be64(j->o + 1, bits);
		j->o += 9;
	}
	j->p = t;
	return 0;
}

static int s_jobject(struct jreader *j, int depth);
static int s_jarray(struct jreader *j, int depth);

/* The room of a container's header: 5 bytes, patched by s_jclose. */
static inline size_t s_jopen(struct jreader *j)
{
	size_t start = (size_t)(j->o - j->o0);

	j->o += 5;
	return start;
}

/* The value of a container: its header written at start, and the bytes
 * after the room reserved for it moved back when it is short. */
static void s_jclose(struct jreader *j, size_t start, size_t n, bool map)
{
	unsigned char *at = j->o0 + start;
	size_t h = mp_cont_hdr_len(n);

	if (h < 5) {
		memmove(at + h, at + 5, (size_t)(j->o - at) - 5);
		j->o -= 5 - h;
	}
	mp_cont_hdr_at(at, n, map);
}

static inline int s_jliteral(struct jreader *j, const char *word, size_t n, unsigned char mp)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return s_jfail(j, "invalid token");
	j->p += n;
	*j->o++ = mp;
	return 0;
}

/* A value at j->p, but for the depth check (s_jvalue's). */
static inline int s_jvalue_at(struct jreader *j, int depth)
{
	if (j->p >= j->end)
		return s_jfail(j, "value expected");
	switch (*j->p) {
	case '"':
		return s_jstring(j);
	case '{':
		return s_jobject(j, depth);
	case '[':
		return s_jarray(j, depth);
	case 't':
		return s_jliteral(j, "true", 4, 0xc3);
	case 'f':
		return s_jliteral(j, "false", 5, 0xc2);
	case 'n':
		return s_jliteral(j, "null", 4, 0xc0);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return s_jnumber(j);
		return s_jfail(j, "invalid token");
	}
}

static inline int s_jvalue(struct jreader *j, int depth)
{
	if (depth > JSON_MAX_DEPTH) {
		if (!j->failed)
			snprintf(j->err, j->errlen, "json: nested deeper than %d", JSON_MAX_DEPTH);
		j->failed = 1;
		return -1;
	}
	return s_jvalue_at(j, depth);
}

/* Whether the next byte but blanks is c (the blanks are skipped; c is
 * not).  Most often it is the very next: one test. */
static inline bool s_jis(struct jreader *j, unsigned char c)
{
	if (j->p < j->end && *j->p == c)
		return true;
	s_jws(j);
	return j->p < j->end && *j->p == c;
}

static int s_jobject(struct jreader *j, int depth)
{
	size_t start = s_jopen(j), n = 0;
	bool seen_type = false, seen_v = false;

	j->p++; /* '{' */
	if (s_jis(j, '}')) {
		j->p++;
		s_jclose(j, start, 0, true);
		return 0;
	}
	for (;;) {
		const unsigned char *k = j->o;

		if (!s_jis(j, '"'))
			return s_jfail(j, "string or '}' expected");
		if (s_jstring(j) != 0)
			return -1;
		if (depth == 1) {
			/* the body of a fixstr key starts one byte after k */
			bool is_type = k[0] == 0xa4 && memcmp(k + 1, "type", 4) == 0;
			bool is_v = k[0] == 0xa1 && k[1] == 'v';
			if ((is_type && seen_type) || (is_v && seen_v))
				return s_jfail(j, "duplicate object key");
			seen_type |= is_type;
			seen_v |= is_v;
		}
		if (!s_jis(j, ':'))
			return s_jfail(j, "':' expected");
		j->p++;
		s_jws(j);
		if (s_jvalue(j, depth + 1) != 0)
			return -1;
		n++;
		if (s_jis(j, ',')) {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		return s_jfail(j, "',' or '}' expected");
	}
	s_jclose(j, start, n, true);
	return 0;
}

static int s_jarray(struct jreader *j, int depth)
{
	size_t start = s_jopen(j), n = 0;

	j->p++; /* '[' */
	if (s_jis(j, ']')) {
		j->p++;
		s_jclose(j, start, 0, false);
		return 0;
	}
	for (;;) {
		if (s_jvalue(j, depth + 1) != 0)
			return -1;
		n++;
		if (s_jis(j, ',')) {
			j->p++;
			s_jws(j);
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			break;
		}
		return s_jfail(j, "',' or ']' expected");
	}
	s_jclose(j, start, n, false);
	return 0;
}

int record_from_json(const char *buf, size_t len, record_t *r, char *err, size_t errlen)
{
	struct record_mp_info info;
	const void *mp;
	size_t mplen;

	return record_from_json_info(buf, len, r, &info, &mp, &mplen, err, errlen);
}

int record_from_json_info(const char *buf, size_t len, record_t *r, struct record_mp_info *info,
                          const void **mp, size_t *mplen, char *err, size_t errlen)
{
	struct jreader j = {
		.s = (const unsigned char *)buf,
		.p = (const unsigned char *)buf,
		.end = (const unsigned char *)buf + len,
		.err = err,
		.errlen = errlen,
	};
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(info, 0, sizeof(*info));
	*mp = NULL;
	*mplen = 0;
	if (len > JSON_MAX_BYTES) {
		snprintf(err, errlen, "json: line of %zu bytes, more than %d", len, JSON_MAX_BYTES);
		return -1;
	}
#ifdef COATTAIL_FUZZ
	/* a buffer of exactly the room promised each time (s_jroom) */
	free(s_jbuf.p);
	memset(&s_jbuf, 0, sizeof(s_jbuf));
#endif
	if (s_jbuf.p != NULL) {
		j.o0 = j.o = s_jbuf.p;
		j.oend = s_jbuf.p + s_jbuf.cap;
	}
	s_jws(&j);
	if (j.p < j.end && *j.p == '[') {
		snprintf(err, errlen, "json: record is not an object");
		goto out;
	}
	if (j.p >= j.end || *j.p != '{') {
		s_jfail(&j, "'{' expected");
		goto out;
	}
	/* the room for the whole line: see JSON_SLACK */
	if (s_jroom(&j, len + JSON_SLACK) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (s_jobject(&j, 1) != 0)
		goto out;
	s_jws(&j);
	if (j.p != j.end) {
		s_jfail(&j, "end of line expected after the object");
		goto out;
	}
	s_jbuf.len = (size_t)(j.o - j.o0);
	rc = record_from_msgpack_info(s_jbuf.p, s_jbuf.len, r, info, err, errlen);
out:
	if (s_jbuf.cap > 65536) {
		/* too large to keep: the caller gets no bytes (they are freed) */
		free(s_jbuf.p);
		memset(&s_jbuf, 0, sizeof(s_jbuf));
		memset(info, 0, sizeof(*info));
	} else if (rc == 0) {
		*mp = s_jbuf.p;
		*mplen = s_jbuf.len;
	}
	return rc;
}

/* ---- msgpack -> JSON text ---- */

static void s_put(struct mpbuf *b, const char *s, size_t n)
{
	mpbuf_put(b, s, n);
}

/* A JSON string: '"', '\\' and control characters escaped, the rest (UTF-8
 * included) as it is; the runs between escapes found by s_jscan. */
static void s_put_string(struct mpbuf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s, *end = s + n;

	mp_put_byte(b, '"');
	for (;;) {
		const unsigned char *q = s_jscan(p, end);
		unsigned char c;

		s_put(b, (const char *)p, (size_t)(q - p));
		if (q == end)
			break;
		c = *q;
		p = q + 1;
		switch (c) {
		case '"':
			s_put(b, "\\\"", 2);
			break;
		case '\\':
			s_put(b, "\\\\", 2);
			break;
		case '\n':
			s_put(b, "\\n", 2);
			break;
		case '\r':
			s_put(b, "\\r", 2);
			break;
		case '\t':
			s_put(b, "\\t", 2);
			break;
		default: {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			s_put(b, esc, 6);
		}
		}
	}
	mp_put_byte(b, '"');
}

/* Decimal digits of v at the end of buf[24]; returns where they start. */
static char *s_u64_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

static void s_put_u64(struct mpbuf *b, uint64_t v, bool neg)
{
	char buf[24], *p = s_u64_digits(v, buf + sizeof(buf));

	if (neg)
		*--p = '-';
	s_put(b, p, (size_t)(buf + sizeof(buf) - p));
}

static const uint64_t s_ipow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };

/*
 * The shortest of %.15g..%.17g that reads back as the same double: the
 * JSON form of a non-integral number.  Most are prices and ratios with a
 * few decimals, for which that string is the decimal m / 10^k (k <= 6,
 * m < 10^15) whose nearest double x is: such a decimal has at most 15
 * significant digits, so %.15g prints exactly it, in fixed notation for
 * 1e-4 <= |x| < 1e15, and it reads back as x.  It is written directly when
 * m / 10^k (both exact doubles, so the quotient is correctly rounded, as
 * strtod's is) gives back x; any other number goes through snprintf and
 * strtod as before.
 */
static void s_put_double(struct mpbuf *b, double x)
{
	double ax = fabs(x);
	char num[40];

	if (ax >= 1e-4 && ax < 1e15) {
		for (int k = 0; k <= 6; k++) {
			double scaled = ax * (double)s_ipow10[k];
			uint64_t m, ip, fp;
			char buf[48], *p, *end;

			if (scaled >= 1e15)
				break;
			m = (uint64_t)llround(scaled);
			if ((double)m / (double)s_ipow10[k] != ax)
				continue;
			ip = m / s_ipow10[k];
			fp = m % s_ipow10[k];
			end = buf + sizeof(buf);
			p = end;
			if (fp != 0) {
				int nd = k;
				while (fp % 10 == 0) { /* no trailing zeros, as %g */
					fp /= 10;
					nd--;
				}
				for (int i = 0; i < nd; i++) {
					*--p = (char)('0' + fp % 10);
					fp /= 10;
				}
				*--p = '.';
			}
			p = s_u64_digits(ip, p);
			if (x < 0)
				*--p = '-';
			s_put(b, p, (size_t)(end - p));
			return;
		}
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, x);
		if (strtod(num, NULL) == x)
			break;
	}
	s_put(b, num, strlen(num));
}

/*
 * Write the JSON of the msgpack object at p, which record_mp_prescan has
 * accepted (lengths in bounds, only the types records use); returns the
 * position after it.
 */
static const unsigned char *s_put_object(struct mpbuf *b, const unsigned char *p)
{
	unsigned char c = *p++;
	uint64_t n;
	bool map;

	if (c <= 0x7f) {
		s_put_u64(b, c, false);
		return p;
	}
	if (c >= 0xe0) {
		s_put_u64(b, (uint64_t)(0x100 - c), true);
		return p;
	}
	if (c >= 0xa0 && c <= 0xbf) {
		n = c & 0x1f;
		goto str;
	}
	if (c >= 0x80 && c <= 0x9f) {
		n = c & 0x0f;
		map = c <= 0x8f;
		goto container;
	}
	switch (c) {
	case 0xc0:
		s_put(b, "null", 4);
		return p;
	case 0xc2:
		s_put(b, "false", 5);
		return p;
	case 0xc3:
		s_put(b, "true", 4);
		return p;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf: {
		int w = 1 << (c - 0xcc);
		uint64_t v = 0;
		for (int i = 0; i < w; i++)
			v = (v << 8) | p[i];
		s_put_u64(b, v, false);
		return p + w;
	}
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		int w = 1 << (c - 0xd0), shift = 64 - 8 * w;
		uint64_t v = 0;
		int64_t sv;
		for (int i = 0; i < w; i++)
			v = (v << 8) | p[i];
		sv = (int64_t)(v << shift) >> shift;
		if (sv < 0)
			s_put_u64(b, 0 - (uint64_t)sv, true);
		else
			s_put_u64(b, (uint64_t)sv, false);
		return p + w;
	}
	case 0xca: {
		uint32_t bits =
		    ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
		float f;
		memcpy(&f, &bits, sizeof(f));
		s_put_double(b, f);
		return p + 4;
	}
	case 0xcb: {
		uint64_t bits = 0;
		double d;
		for (int i = 0; i < 8; i++)
			bits = (bits << 8) | p[i];
		memcpy(&d, &bits, sizeof(d));
		s_put_double(b, d);
		return p + 8;
	}
	case 0xd9:
		n = p[0];
		p += 1;
		goto str;
	case 0xda:
		n = ((uint64_t)p[0] << 8) | p[1];
		p += 2;
		goto str;
	case 0xdb:
		n = ((uint64_t)p[0] << 24) | ((uint64_t)p[1] << 16) | ((uint64_t)p[2] << 8) | p[3];
		p += 4;
		goto str;
	case 0xdc:
	case 0xde:
		n = ((uint64_t)p[0] << 8) | p[1];
		p += 2;
		map = c == 0xde;
		goto container;
	default: /* 0xdd, 0xdf */
		n = ((uint64_t)p[0] << 24) | ((uint64_t)p[1] << 16) | ((uint64_t)p[2] << 8) | p[3];
		p += 4;
		map = c == 0xdf;
		goto container;
	}
str:
	s_put_string(b, p, n);
	return p + n;
container:
	mp_put_byte(b, map ? '{' : '[');
	for (uint64_t i = 0; i < n; i++) {
		if (i > 0)
			mp_put_byte(b, ',');
		p = s_put_object(b, p);
		if (map) {
			mp_put_byte(b, ':');
			p = s_put_object(b, p);
		}
	}
	mp_put_byte(b, map ? '}' : ']');
	return p;
}

/*
 * Straight from the bytes to the text, after record_mp_prescan has checked
 * them: no object tree and no allocation but the output, whose first 1 KiB
 * holds a trade.
 */
int record_msgpack_to_json(const void *mp, size_t mplen, char **out, size_t *outlen, char *err,
                           size_t errlen)
{
	size_t nobj;

	*out = NULL;
	*outlen = 0;
	if (record_mp_prescan(mp, mplen, &nobj, err, errlen) != 0)
		return -1;
	return record_encoded_to_json(mp, mplen, out, outlen, err, errlen);
}

int record_encoded_to_json(const void *mp, size_t mplen, char **out, size_t *outlen, char *err,
                           size_t errlen)
{
	struct mpbuf b = { 0 };

	(void)mplen; /* checked when the bytes were made or accepted */
	*out = NULL;
	*outlen = 0;
	b.p = malloc(1024);
	b.cap = b.p != NULL ? 1024 : 0;
	b.oom = b.p == NULL;
	s_put_object(&b, mp);
	mp_put_byte(&b, '\0');
	if (b.oom) {
		snprintf(err, errlen, "out of memory");
		free(b.p);
		return -1;
	}
	*out = (char *)b.p;
	*outlen = b.len - 1;
	return 0;
}

int record_to_json(const record_t *r, char **out, size_t *outlen, char *err, size_t errlen)
{
	char *mp;
	size_t mplen;
	int rc;

	if (record_to_msgpack(r, &mp, &mplen, err, errlen) != 0)
		return -1;
	rc = record_msgpack_to_json(mp, mplen, out, outlen, err, errlen);
	free(mp);
	return rc;
}
