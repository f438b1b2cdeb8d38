/*
 * broker.c - helpers the three brokers share: client ids, cleaning text
 * from outside, numbers sent as strings, URL encoding.
 */
#include "broker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

void broker_free(broker_t **b)
{
	if (b == NULL || *b == NULL)
		return;
	if ((*b)->ops != NULL && (*b)->ops->destroy != NULL)
		(*b)->ops->destroy((*b)->self);
	free(*b);
	*b = NULL;
}

static bool s_id_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

char *broker_client_id(const char *intent_id, char *buf, size_t len)
{
	size_t n = strlen(intent_id);
	bool direct =
	    n > 0 && n <= BROKER_CLIENT_ID_MAX &&
	    strncmp(intent_id, BROKER_CLIENT_ID_HASHED, strlen(BROKER_CLIENT_ID_HASHED)) != 0;

	for (size_t i = 0; direct && i < n; i++)
		direct = s_id_char_ok(intent_id[i]);
	if (direct) {
		snprintf(buf, len, "%s", intent_id);
	} else {
		uint8_t d[SHA256_DIGEST_LEN];
		char hex[SHA256_HEX_LEN];
		size_t nhex = BROKER_CLIENT_ID_MAX - strlen(BROKER_CLIENT_ID_HASHED);

		sha256(intent_id, n, d);
		sha256_hex(d, nhex, hex);
		snprintf(buf, len, "%s%s", BROKER_CLIENT_ID_HASHED, hex);
	}
	return buf;
}

void broker_clean_text(char *dst, size_t len, const char *src, const char *const *secrets)
{
	size_t o = 0;

	if (len == 0)
		return;
	if (src == NULL)
		src = "";
	while (*src != '\0' && o + 1 < len) {
		bool hit = false;

		for (size_t k = 0; secrets != NULL && secrets[k] != NULL; k++) {
			size_t sl = strlen(secrets[k]);
			if (sl > 0 && strncmp(src, secrets[k], sl) == 0) {
				const char *r = "[redacted]";
				for (; *r != '\0' && o + 1 < len; r++)
					dst[o++] = *r;
				src += sl;
				hit = true;
				break;
			}
		}
		if (hit)
			continue;
		unsigned char c = (unsigned char)*src++;
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : (c == '\n' || c == '\t') ? ' ' : '?';
	}
	dst[o] = '\0';
}

double broker_json_num(const json_t *v)
{
	double x = NAN;

	if (v == NULL)
		return NAN;
	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;

		if (s == NULL || *s == '\0' || strlen(s) > 64)
			return NAN;
		x = strtod(s, &end);
		if (end == s || *end != '\0')
			return NAN;
	}
	return isfinite(x) ? x : NAN;
}

const char *broker_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int broker_urlenc(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';

		if (o + (plain ? 1 : 3) >= len)
			return -1;
		if (plain) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (o >= len)
		return -1;
	buf[o] = '\0';
	return 0;
}

char *broker_fmt_decimal(double x, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%.9f", x);
	if (strchr(buf, '.') != NULL) {
		n = strlen(buf);
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, len, "0");
	return buf;
}

json_t *broker_parse_json(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	if (body == NULL || len == 0) {
		snprintf(err, errlen, "empty body");
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		snprintf(err, errlen, "bad JSON at %d:%d: %.80s", je.line, je.column, je.text);
	return j;
}
