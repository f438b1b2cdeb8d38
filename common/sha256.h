/*
 * sha256.h - SHA-256 (FIPS 180-4), for deterministic ids.
 *
 * Not for secrets: nothing here is constant-time or wiped.  Used where the
 * same input must always give the same short, collision-free name (the
 * decider's intent ids).
 */
#ifndef COATTAIL_SHA256_H
#define COATTAIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN    (2 * SHA256_DIGEST_LEN + 1) /* with the NUL */

typedef struct sha256 {
	uint32_t h[8];     /* the running hash value H(i) */
	uint64_t len;      /* message bytes consumed so far */
	uint8_t block[64]; /* the partial block not yet compressed */
	size_t fill;       /* bytes in block */
} sha256_t;

void sha256_init(sha256_t *c);
void sha256_update(sha256_t *c, const void *data, size_t len);
/* Pad, write the 32-byte digest, and leave c unusable until sha256_init. */
void sha256_final(sha256_t *c, uint8_t out[SHA256_DIGEST_LEN]);
/* One call: digest of data. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);
/* The first nhex lowercase hex digits of a digest (nhex <= 64, even or odd),
 * NUL-terminated, into buf of at least nhex + 1 bytes; returns buf. */
char *sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], size_t nhex, char *buf);

#endif
