/*
 * memo.c - bounded memo of live cache answers (see memo.h).
 */
#include "memo.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_WAYS 4

/*
 * An entry: one allocation, this header, the key and its NUL, padding to 8,
 * then the value and a NUL.  What a hit reads besides the set (expiry, LRU
 * tick, key) is here, next to the value it returns.
 */
struct s_entry {
	int64_t expires_at; /* live while now < expires_at */
	uint64_t used;      /* memo tick of the last get or put (LRU) */
	size_t vlen;        /* value bytes */
	size_t voff;        /* offset of the value from the entry's start */
	char key[];
};

/* One set: the hashes and entries of its ways, one 64-byte cache line, so a
 * lookup reads one line before the entry it finds. */
struct s_set {
	uint64_t hash[MEMO_WAYS];
	struct s_entry *e[MEMO_WAYS]; /* NULL: empty way */
};

struct memo {
	struct s_set *sets;
	size_t nsets; /* a power of two */
	size_t count;
	uint64_t tick;
};

/* FNV-1a, 64 bits. */
static uint64_t s_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

memo_t *memo_new(size_t entries)
{
	memo_t *m;
	size_t sets = 1;

	if (entries == 0)
		return NULL;
	while (sets * MEMO_WAYS < entries)
		sets *= 2;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->sets = aligned_alloc(64, sets * sizeof(*m->sets));
	if (m->sets == NULL) {
		free(m);
		return NULL;
	}
	memset(m->sets, 0, sets * sizeof(*m->sets));
	m->nsets = sets;
	return m;
}

static void s_empty(memo_t *m, struct s_set *set, int way)
{
	if (set->e[way] == NULL)
		return;
	free(set->e[way]);
	set->e[way] = NULL;
	set->hash[way] = 0;
	m->count--;
}

void memo_clear(memo_t *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nsets; i++)
		for (int w = 0; w < MEMO_WAYS; w++)
			s_empty(m, &m->sets[i], w);
}

void memo_free(memo_t **mp)
{
	memo_t *m = *mp;

	if (m == NULL)
		return;
	memo_clear(m);
	free(m->sets);
	free(m);
	*mp = NULL;
}

static struct s_set *s_set_of(const memo_t *m, uint64_t h)
{
	return &m->sets[h & (m->nsets - 1)];
}

/* The way of set holding key, or -1. */
static int s_find(const struct s_set *set, const char *key, uint64_t h)
{
	for (int w = 0; w < MEMO_WAYS; w++)
		if (set->hash[w] == h && set->e[w] != NULL && strcmp(set->e[w]->key, key) == 0)
			return w;
	return -1;
}

const void *memo_get(memo_t *m, const char *key, int64_t now, size_t *len)
{
	uint64_t h;
	struct s_set *set;
	struct s_entry *e;
	int w;

	if (m == NULL)
		return NULL;
	h = s_hash(key);
	set = s_set_of(m, h);
	w = s_find(set, key, h);
	if (w < 0)
		return NULL;
	e = set->e[w];
	if (!(now < e->expires_at)) {
		s_empty(m, set, w);
		return NULL;
	}
	e->used = ++m->tick;
	if (len != NULL)
		*len = e->vlen;
	return (const char *)e + e->voff;
}

int memo_put(memo_t *m, const char *key, const void *val, size_t len, int64_t expires_at)
{
	uint64_t h;
	struct s_set *set;
	struct s_entry *e;
	size_t klen = strlen(key), voff;
	int w;

	if (m == NULL)
		return 0;
	h = s_hash(key);
	set = s_set_of(m, h);
	w = s_find(set, key, h);
	if (w < 0) {
		/* An empty way, else the least recently used one. */
		w = 0;
		for (int i = 0; i < MEMO_WAYS && set->e[w] != NULL; i++)
			if (set->e[i] == NULL || set->e[i]->used < set->e[w]->used)
				w = i;
	}
	s_empty(m, set, w);
	voff = (offsetof(struct s_entry, key) + klen + 1 + 7) & ~(size_t)7;
	e = malloc(voff + len + 1);
	if (e == NULL)
		return -1;
	e->expires_at = expires_at;
	e->used = ++m->tick;
	e->vlen = len;
	e->voff = voff;
	memcpy(e->key, key, klen + 1);
	if (len > 0)
		memcpy((char *)e + voff, val, len);
	((char *)e)[voff + len] = '\0'; /* a text value reads as a C string */
	set->hash[w] = h;
	set->e[w] = e;
	m->count++;
	return 0;
}

void memo_forget(memo_t *m, const char *key)
{
	uint64_t h;
	struct s_set *set;
	int w;

	if (m == NULL)
		return;
	h = s_hash(key);
	set = s_set_of(m, h);
	w = s_find(set, key, h);
	if (w >= 0)
		s_empty(m, set, w);
}

size_t memo_count(const memo_t *m)
{
	return m != NULL ? m->count : 0;
}

size_t memo_capacity(const memo_t *m)
{
	return m != NULL ? m->nsets * MEMO_WAYS : 0;
}
