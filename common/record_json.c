/*
 * record_json.c - records <-> JSON lines, the debugging format
 * (`--in -`, `--out -`, coattail-tap, coattail-inject).
 *
 * JSON is translated to msgpack and decoded by record_from_msgpack, and
 * records are encoded to msgpack and translated to JSON, so both formats
 * share one schema and one set of checks (record_msgpack.c).
 */
#include "record.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON line may be larger than its msgpack form (quotes, escapes, digits). */
#define JSON_MAX_BYTES (2 * RECORD_MAX_BYTES)
#define JSON_MAX_DEPTH 4

/* ---- JSON -> msgpack ---- */

static int s_pack_json(msgpack_packer *pk, const json_t *j, int depth, char *err, size_t errlen)
{
	if (depth > JSON_MAX_DEPTH) {
		snprintf(err, errlen, "json: nested deeper than %d", JSON_MAX_DEPTH);
		return -1;
	}
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
	case JSON_STRING: {
		size_t n = json_string_length(j);
		msgpack_pack_str(pk, n);
		return msgpack_pack_str_body(pk, json_string_value(j), n);
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
		{
			if (s_pack_json(pk, v, depth + 1, err, errlen) != 0)
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
			size_t n = strlen(k);
			msgpack_pack_str(pk, n);
			msgpack_pack_str_body(pk, k, n);
			if (s_pack_json(pk, v, depth + 1, err, errlen) != 0)
				return -1;
		}
		return 0;
	}
	}
	snprintf(err, errlen, "json: unknown value type");
	return -1;
}

int record_from_json(const char *buf, size_t len, record_t *r, char *err, size_t errlen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len > JSON_MAX_BYTES) {
		snprintf(err, errlen, "json: line of %zu bytes, more than %d", len, JSON_MAX_BYTES);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "json: %s at column %d", jerr.text, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen, "json: record is not an object");
		return -1;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = s_pack_json(&pk, root, 1, err, errlen);
	json_decref(root);
	if (rc == 0)
		rc = record_from_msgpack(sb.data, sb.size, r, err, errlen);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* ---- msgpack -> JSON text ---- */

struct jbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void s_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		char *np;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void s_puts(struct jbuf *b, const char *s)
{
	s_put(b, s, strlen(s));
}

static void s_put_string(struct jbuf *b, const char *s, size_t n)
{
	size_t start = 0;

	s_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		s_put(b, s + start, i - start);
		start = i + 1;
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
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			s_put(b, esc, 6);
		}
	}
	s_put(b, s + start, n - start);
	s_put(b, "\"", 1);
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
static void s_put_double(struct jbuf *b, double x)
{
	char num[40];

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, x);
		if (strtod(num, NULL) == x)
			break;
	}
	s_puts(b, num);
}

static void s_put_object(struct jbuf *b, const msgpack_object *o)
{
	char num[32];

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		s_puts(b, "null");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		s_puts(b, o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)o->via.u64);
		s_puts(b, num);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)o->via.i64);
		s_puts(b, num);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		s_put_double(b, o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		s_put_string(b, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		s_put(b, "[", 1);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				s_put(b, ",", 1);
			s_put_object(b, &o->via.array.ptr[i]);
		}
		s_put(b, "]", 1);
		break;
	case MSGPACK_OBJECT_MAP:
		s_put(b, "{", 1);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			if (i > 0)
				s_put(b, ",", 1);
			s_put_object(b, &o->via.map.ptr[i].key);
			s_put(b, ":", 1);
			s_put_object(b, &o->via.map.ptr[i].val);
		}
		s_put(b, "}", 1);
		break;
	default:
		/* bin and ext never come out of record_to_msgpack */
		s_puts(b, "null");
		break;
	}
}

int record_msgpack_to_json(const void *mp, size_t mplen, char **out, size_t *outlen, char *err,
                           size_t errlen)
{
	struct jbuf b = { 0 };
	msgpack_unpacked up;
	size_t off = 0;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, mp, mplen, &off) != MSGPACK_UNPACK_SUCCESS) {
		snprintf(err, errlen, "msgpack: malformed");
		goto done;
	}
	s_put_object(&b, &up.data);
	if (b.oom || b.p == NULL) {
		snprintf(err, errlen, "out of memory");
		free(b.p);
		goto done;
	}
	*out = b.p;
	*outlen = b.len;
	rc = 0;
done:
	msgpack_unpacked_destroy(&up);
	return rc;
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
