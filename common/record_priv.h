/*
 * record_priv.h - what the two record codecs (record_msgpack.c,
 * record_json.c) share and nothing else includes: a growable byte buffer
 * and msgpack writers over it.
 *
 * The writers emit exactly the bytes msgpack-c's packer would (the smallest
 * integer, string, array and map headers; doubles always as float64), so
 * records encode the same as they did through msgpack_sbuffer, without its
 * callback per item and its 8 KiB allocation per record.
 */
#ifndef COATTAIL_RECORD_PRIV_H
#define COATTAIL_RECORD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'd byte buffer.  oom is sticky: once a growth fails every later
 * write is ignored, and the caller checks oom once at the end. */
struct mpbuf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

/* Room for n more bytes at b->p + b->len, or NULL (oom set). */
static inline unsigned char *mpbuf_room(struct mpbuf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *np;

		while (cap - b->len < n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = true;
			return NULL;
		}
		b->p = np;
		b->cap = cap;
	}
	return b->p + b->len;
}

static inline void mpbuf_put(struct mpbuf *b, const void *s, size_t n)
{
	unsigned char *d = mpbuf_room(b, n);

	if (d != NULL) {
		memcpy(d, s, n);
		b->len += n;
	}
}

static inline void mp_be16(unsigned char *d, uint16_t v)
{
	d[0] = (unsigned char)(v >> 8);
	d[1] = (unsigned char)v;
}

static inline void mp_be32(unsigned char *d, uint32_t v)
{
	d[0] = (unsigned char)(v >> 24);
	d[1] = (unsigned char)(v >> 16);
	d[2] = (unsigned char)(v >> 8);
	d[3] = (unsigned char)v;
}

static inline void mp_be64(unsigned char *d, uint64_t v)
{
	mp_be32(d, (uint32_t)(v >> 32));
	mp_be32(d + 4, (uint32_t)v);
}

/* Size of the header msgpack-c writes for a string (fix, 0xd9, 0xda, 0xdb)
 * or a container (fix, 16-bit, 32-bit) of n. */
static inline size_t mp_str_hdr_len(size_t n)
{
	return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

static inline size_t mp_cont_hdr_len(size_t n)
{
	return n < 16 ? 1 : n < 65536 ? 3 : 5;
}

/* Write a string header of n at d (mp_str_hdr_len(n) bytes). */
static inline void mp_str_hdr_at(unsigned char *d, size_t n)
{
	if (n < 32) {
		d[0] = (unsigned char)(0xa0 | n);
	} else if (n < 256) {
		d[0] = 0xd9;
		d[1] = (unsigned char)n;
	} else if (n < 65536) {
		d[0] = 0xda;
		mp_be16(d + 1, (uint16_t)n);
	} else {
		d[0] = 0xdb;
		mp_be32(d + 1, (uint32_t)n);
	}
}

/* Write a map (fix 0x80) or array (fix 0x90) header of n at d. */
static inline void mp_cont_hdr_at(unsigned char *d, size_t n, bool map)
{
	if (n < 16) {
		d[0] = (unsigned char)((map ? 0x80 : 0x90) | n);
	} else if (n < 65536) {
		d[0] = map ? 0xde : 0xdc;
		mp_be16(d + 1, (uint16_t)n);
	} else {
		d[0] = map ? 0xdf : 0xdd;
		mp_be32(d + 1, (uint32_t)n);
	}
}

static inline void mp_put_str(struct mpbuf *b, const char *s, size_t n)
{
	size_t h = mp_str_hdr_len(n);
	unsigned char *d = mpbuf_room(b, h + n);

	if (d == NULL)
		return;
	mp_str_hdr_at(d, n);
	memcpy(d + h, s, n);
	b->len += h + n;
}

static inline void mp_put_cont(struct mpbuf *b, size_t n, bool map)
{
	unsigned char *d = mpbuf_room(b, 5);

	if (d == NULL)
		return;
	mp_cont_hdr_at(d, n, map);
	b->len += mp_cont_hdr_len(n);
}

static inline void mp_put_byte(struct mpbuf *b, unsigned char c)
{
	unsigned char *d = mpbuf_room(b, 1);

	if (d != NULL) {
		*d = c;
		b->len++;
	}
}

static inline void mp_put_nil(struct mpbuf *b)
{
	mp_put_byte(b, 0xc0);
}

static inline void mp_put_bool(struct mpbuf *b, bool v)
{
	mp_put_byte(b, v ? 0xc3 : 0xc2);
}

/* msgpack_pack_int64's bytes for v at d (9 bytes of room): the smallest
 * form, non-negative values unsigned.  Returns their count. */
static inline size_t mp_int64_at(unsigned char *d, int64_t v)
{
	if (v < -(1LL << 5)) {
		if (v < -(1LL << 31)) {
			d[0] = 0xd3;
			mp_be64(d + 1, (uint64_t)v);
			return 9;
		}
		if (v < -(1LL << 15)) {
			d[0] = 0xd2;
			mp_be32(d + 1, (uint32_t)(int32_t)v);
			return 5;
		}
		if (v < -(1LL << 7)) {
			d[0] = 0xd1;
			mp_be16(d + 1, (uint16_t)(int16_t)v);
			return 3;
		}
		d[0] = 0xd0;
		d[1] = (unsigned char)(int8_t)v;
		return 2;
	}
	if (v < (1 << 7)) {
		d[0] = (unsigned char)(int8_t)v;
		return 1;
	}
	if (v < (1LL << 8)) {
		d[0] = 0xcc;
		d[1] = (unsigned char)v;
		return 2;
	}
	if (v < (1LL << 16)) {
		d[0] = 0xcd;
		mp_be16(d + 1, (uint16_t)v);
		return 3;
	}
	if (v < (1LL << 32)) {
		d[0] = 0xce;
		mp_be32(d + 1, (uint32_t)v);
		return 5;
	}
	d[0] = 0xcf;
	mp_be64(d + 1, (uint64_t)v);
	return 9;
}

/* msgpack_pack_int64: the smallest form; non-negative values unsigned. */
static inline void mp_put_int64(struct mpbuf *b, int64_t v)
{
	unsigned char *d = mpbuf_room(b, 9);

	if (d != NULL)
		b->len += mp_int64_at(d, v);
}

/* msgpack_pack_uint64: the smallest unsigned form. */
static inline void mp_put_uint64(struct mpbuf *b, uint64_t v)
{
	if (v <= INT64_MAX) {
		mp_put_int64(b, (int64_t)v);
	} else {
		unsigned char *d = mpbuf_room(b, 9);

		if (d == NULL)
			return;
		d[0] = 0xcf;
		mp_be64(d + 1, v);
		b->len += 9;
	}
}

static inline void mp_put_double(struct mpbuf *b, double x)
{
	unsigned char *d = mpbuf_room(b, 9);
	uint64_t bits;

	if (d == NULL)
		return;
	memcpy(&bits, &x, sizeof(bits));
	d[0] = 0xcb;
	mp_be64(d + 1, bits);
	b->len += 9;
}

/*
 * Check that buf holds exactly one msgpack object of the kinds records use
 * (nil, bool, int, float, str, array, map), nested at most 4 deep, with
 * every container's count fitting in the bytes that remain.  *nobj gets
 * the number of msgpack_object nodes a tree of it needs (map entries count
 * two).  0, or -1 with the reason in err.  (record_msgpack.c)
 */
int record_mp_prescan(const void *buf, size_t len, size_t *nobj, char *err, size_t errlen);

/*
 * The reference decoder behind record_from_msgpack: the whole buffer walked
 * into a tree first, then the fields decoded from it.  It takes any input
 * and gives every refusal its reason; record_from_msgpack's one-pass reader
 * hands it whatever it does not accept itself, so the two always agree
 * (test_record compares them).  (record_msgpack.c)
 */
int record_mp_decode_tree(const void *buf, size_t len, record_t *r, char *err, size_t errlen);

#endif
