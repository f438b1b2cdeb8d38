/*
 * title.c - executive titles and owner-name keys (see title.h).
 */
#include "title.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word byte: ASCII letter or digit, or any byte of a UTF-8 sequence. */
static bool s_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

static char s_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

size_t title_normalise(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	bool gap = false;

	if (outlen == 0)
		return 0;
	for (const char *p = in != NULL ? in : ""; *p != '\0' && n + 1 < outlen; p++) {
		if (!s_is_word((unsigned char)*p)) {
			gap = n > 0;
			continue;
		}
		if (gap) {
			if (n + 2 >= outlen)
				break;
			out[n++] = ' ';
			gap = false;
		}
		out[n++] = s_lower(*p);
	}
	out[n] = '\0';
	return n;
}

int title_matcher_init(struct title_matcher *m, const char *words, char *err, size_t errlen)
{
	const char *p = words != NULL ? words : "";

	memset(m, 0, sizeof(*m));
	while (*p != '\0') {
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (m->n == TITLE_MAX_WORDS) {
			snprintf(err, errlen, "more than %d title words", TITLE_MAX_WORDS);
			return -1;
		}
		if (len >= TITLE_MAX_WORD_LEN) {
			snprintf(err, errlen, "title word '%.*s...' longer than %d bytes", 16, p,
			         TITLE_MAX_WORD_LEN - 1);
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			if (!s_is_word(c) || c >= 0x80) {
				snprintf(err, errlen,
				         "title word '%.*s' must be ASCII letters and digits",
				         (int)len, p);
				return -1;
			}
			m->words[m->n][i] = s_lower(p[i]);
		}
		m->words[m->n][len] = '\0';
		m->n++;
		p += len;
	}
	return 0;
}

static bool s_word_listed(const struct title_matcher *m, const char *w, size_t len)
{
	for (int i = 0; i < m->n; i++)
		if (strlen(m->words[i]) == len && memcmp(m->words[i], w, len) == 0)
			return true;
	return false;
}

bool title_is_executive(const struct title_matcher *m, const char *title)
{
	char norm[512], acro[TITLE_MAX_WORD_LEN];
	size_t nacro = 0;
	const char *w;

	if (title == NULL || title_normalise(title, norm, sizeof(norm)) == 0)
		return false;
	if (strstr(norm, "officer") != NULL)
		return true;
	/* Each word, and each run of one-letter words read as one ("C.E.O."
	 * normalises to "c e o" and is read as "ceo"). */
	for (w = norm;; w++) {
		size_t len = strcspn(w, " ");

		if (len == 1 && nacro + 1 < sizeof(acro)) {
			acro[nacro++] = *w;
		} else {
			if (nacro > 1 && s_word_listed(m, acro, nacro))
				return true;
			nacro = 0;
			if (len > 0 && s_word_listed(m, w, len))
				return true;
		}
		w += len;
		if (*w == '\0')
			break;
	}
	return nacro > 1 && s_word_listed(m, acro, nacro);
}

static int s_cmp_word(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool s_is_honorific(const char *w)
{
	static const char *const drop[] = {
		"jr", "sr", "ii", "iii", "iv", "mr", "mrs", "ms", "dr", "md", "phd", "esq",
	};

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (strcmp(w, drop[i]) == 0)
			return true;
	return false;
}

size_t title_owner_key(const char *owner, char *out, size_t outlen)
{
	char norm[512];
	char *words[64];
	size_t nw = 0, nkeep = 0, n = 0;
	char *save = NULL;

	if (outlen == 0)
		return 0;
	title_normalise(owner, norm, sizeof(norm));
	for (char *w = strtok_r(norm, " ", &save); w != NULL && nw < 64;
	     w = strtok_r(NULL, " ", &save))
		words[nw++] = w;
	qsort(words, nw, sizeof(words[0]), s_cmp_word);
	for (size_t i = 0; i < nw; i++)
		if (strlen(words[i]) > 1 && !s_is_honorific(words[i]))
			nkeep++;
	out[0] = '\0';
	for (size_t i = 0; i < nw; i++) {
		size_t len = strlen(words[i]);

		if (nkeep > 0 && (len == 1 || s_is_honorific(words[i])))
			continue;
		if (n + len + (n > 0) + 1 > outlen)
			break;
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, words[i], len + 1);
		n += len;
	}
	return n;
}

void title_memo_init(struct title_memo *c)
{
	for (size_t i = 0; i < TITLE_MEMO_SLOTS; i++) {
		c->slot[i].title[0] = '\0';
		c->slot[i].exec = -1;
	}
}

bool title_memo_is_executive(struct title_memo *c, const struct title_matcher *m, const char *title)
{
	uint32_t h = 2166136261u;
	size_t len;
	bool exec;

	if (title == NULL)
		return title_is_executive(m, title);
	for (len = 0; len < TITLE_MEMO_LEN && title[len] != '\0'; len++) {
		h ^= (unsigned char)title[len];
		h *= 16777619u;
	}
	if (len == TITLE_MEMO_LEN)
		return title_is_executive(m, title);
	h &= TITLE_MEMO_SLOTS - 1;
	if (c->slot[h].exec >= 0 && memcmp(c->slot[h].title, title, len + 1) == 0)
		return c->slot[h].exec != 0;
	exec = title_is_executive(m, title);
	memcpy(c->slot[h].title, title, len + 1);
	c->slot[h].exec = exec ? 1 : 0;
	return exec;
}
