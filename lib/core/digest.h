/* digest — MD5 (RFC 1321) and SHA-256 (FIPS 180-4), for SQS's
 * MD5OfMessageBody / MD5OfMessageAttributes and content-based dedup ids. */
#ifndef EVKIT_DIGEST_H
#define EVKIT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
	uint32_t h[4];
	uint64_t len;
	unsigned char blk[64];
};
void md5_init(struct md5 *c);
void md5_update(struct md5 *c, const void *p, size_t n);
void md5_hex(struct md5 *c, char out[33]);	/* finishes c */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char blk[64];
};
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t n);
void sha256_hex(struct sha256 *c, char out[65]);

/* One-shot helpers. */
void md5_hex_of(const void *p, size_t n, char out[33]);
void sha256_hex_of(const void *p, size_t n, char out[65]);

#endif
