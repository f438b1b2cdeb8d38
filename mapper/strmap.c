/*
 * strmap.c - string-keyed hash table (see strmap.h).
 */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct s_entry {
	char *key;
	void *val;
	uint64_t hash;
	struct s_entry *next;
};

struct strmap {
	struct s_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
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

strmap_t *strmap_new(void)
{
	strmap_t *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->nbuckets = 64;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	if (m->buckets == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap_free(strmap_t **mp)
{
	strmap_t *m = *mp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct s_entry *e = m->buckets[i];

		while (e != NULL) {
			struct s_entry *next = e->next;

			free(e->key);
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	free(m);
	*mp = NULL;
}

static struct s_entry **s_slot(const strmap_t *m, const char *key, uint64_t h)
{
	struct s_entry **pp = &m->buckets[h & (m->nbuckets - 1)];

	while (*pp != NULL && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->next;
	return pp;
}

void *strmap_get(const strmap_t *m, const char *key)
{
	struct s_entry **pp = s_slot(m, key, s_hash(key));

	return *pp != NULL ? (*pp)->val : NULL;
}

/* Double the buckets; on allocation failure the table stays as it is
 * (slower, still correct). */
static void s_grow(strmap_t *m)
{
	size_t n = m->nbuckets * 2;
	struct s_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct s_entry *e = m->buckets[i];

		while (e != NULL) {
			struct s_entry *next = e->next;
			size_t k = e->hash & (n - 1);

			e->next = b[k];
			b[k] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

int strmap_put(strmap_t *m, const char *key, void *val)
{
	uint64_t h = s_hash(key);
	struct s_entry **pp = s_slot(m, key, h), *e;

	if (*pp != NULL) {
		(*pp)->val = val;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	e->key = strdup(key);
	if (e->key == NULL) {
		free(e);
		return -1;
	}
	e->val = val;
	e->hash = h;
	*pp = e;
	m->count++;
	if (m->count > m->nbuckets)
		s_grow(m);
	return 0;
}

void *strmap_remove(strmap_t *m, const char *key)
{
	struct s_entry **pp = s_slot(m, key, s_hash(key)), *e = *pp;
	void *val;

	if (e == NULL)
		return NULL;
	*pp = e->next;
	val = e->val;
	free(e->key);
	free(e);
	m->count--;
	return val;
}

size_t strmap_count(const strmap_t *m)
{
	return m->count;
}
