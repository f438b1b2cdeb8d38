/*
 * strmap.h - a string-keyed hash table of pointers, for the mapper's
 * pending trades (by trade key) and queued jobs (by job key).
 *
 * Keys are copied; values are borrowed (the table never frees them).
 * Chained buckets, doubled when the load passes 1, so lookups stay O(1) at
 * any max_pending.
 */
#ifndef COATTAIL_STRMAP_H
#define COATTAIL_STRMAP_H

#include <stddef.h>

typedef struct strmap strmap_t;

strmap_t *strmap_new(void);
/* Free the table and its keys (not the values); *m becomes NULL. */
void strmap_free(strmap_t **m);
/* The value of key, or NULL. */
void *strmap_get(const strmap_t *m, const char *key);
/* Set key to val (replacing); 0, or -1 when out of memory. */
int strmap_put(strmap_t *m, const char *key, void *val);
/* Remove key; returns its value, or NULL when absent. */
void *strmap_remove(strmap_t *m, const char *key);
size_t strmap_count(const strmap_t *m);

#endif
