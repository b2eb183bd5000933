/* digest — MD5 (RFC 1321) and SHA-256 (FIPS 180-4), for SQS's
 * MD5OfMessageBody / MD5OfMessageAttributes and content-based dedup ids.
 * One context type serves both: both take 64-byte blocks and differ in
 * their state's width, their compression function and byte order. */
#ifndef EVKIT_DIGEST_H
#define EVKIT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

enum digest_kind { DIGEST_MD5, DIGEST_SHA256 };

/* The hex form's size with its NUL: 33 for MD5, 65 for SHA-256. */
#define DIGEST_MD5_HEX 33
#define DIGEST_SHA256_HEX 65

struct digest {
	enum digest_kind kind;
	uint32_t h[8];
	uint64_t len;
	unsigned char blk[64];
};

void digest_init(struct digest *c, enum digest_kind kind);
void digest_update(struct digest *c, const void *p, size_t n);
/* Finishes c and writes the lower-case hex digest and a NUL to out,
 * which holds DIGEST_MD5_HEX or DIGEST_SHA256_HEX bytes. */
void digest_hex(struct digest *c, char *out);
void digest_hex_of(enum digest_kind kind, const void *p, size_t n, char *out);
/* Adds one message attribute to an MD5OfMessageAttributes digest, as SQS
 * encodes it (ref/sqs.md 2): name, type and value each length-prefixed
 * (4 bytes, big-endian), the type followed by a transport byte, 2 for a
 * Binary value (given decoded), 1 for String and Number. */
void digest_sqs_attr(struct digest *c, const char *name, size_t nlen, const char *type,
    size_t tlen, int binary, const void *value, size_t vlen);

#endif
