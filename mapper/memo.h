/*
 * memo.h - a bounded in-process memo of answers the mapper found in its
 * SQLite cache, each with the expiry time of the row it copies.
 *
 * Why: with a warm cache every trade cost two autocommit SELECTs, and in WAL
 * mode each takes and drops the shared-memory read locks (fcntl, fstat): a
 * quarter of the mapper's CPU.  A row of the cache only changes when it is
 * refreshed, which happens only once it has expired (a job is asked for
 * again only when the cache has no live answer), so a copy of a live row,
 * used only until that row's own expiry, gives the same answer SQLite would,
 * even when several mappers share the file.
 *
 * Bounded: a fixed number of slots (4-way set associative, least recently
 * used way replaced), so memory stays flat whatever the number of keys; a
 * key that was evicted is read from SQLite again.  Keys and values are
 * copied.  Times are Unix seconds passed in by the caller.
 */
#ifndef COATTAIL_MEMO_H
#define COATTAIL_MEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct memo memo_t;

/* A memo of at most `entries` answers (rounded up to a multiple of 4 that
 * is a power of two).  NULL when entries is 0 (memo off) or out of memory;
 * every function accepts a NULL memo and then remembers nothing. */
memo_t *memo_new(size_t entries);
void memo_free(memo_t **m);

/*
 * The value stored under key, with its length in *len, when it has not
 * expired at `now` (a value stored with expires_at E is live while now < E,
 * as the cache's "expires_at > now").  The pointer is valid until the next
 * memo_put or memo_forget on this memo.  NULL when absent or expired (an
 * expired entry is dropped).
 */
const void *memo_get(memo_t *m, const char *key, int64_t now, size_t *len);

/* Store a copy of val under key until expires_at, replacing any value of
 * key (and, when the key's set is full, its least recently used entry).
 * 0, or -1 when out of memory (then key is absent). */
int memo_put(memo_t *m, const char *key, const void *val, size_t len, int64_t expires_at);

/* Drop key, if present (its row was rewritten). */
void memo_forget(memo_t *m, const char *key);

/* Drop every entry. */
void memo_clear(memo_t *m);

/* Entries held, and slots (the bound). */
size_t memo_count(const memo_t *m);
size_t memo_capacity(const memo_t *m);

#endif
