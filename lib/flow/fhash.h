/* fhash — the digests of States.Hash (MD5, SHA-1, SHA-256, SHA-384,
 * SHA-512) in lower-case hex.  MD5 and SHA-256 are core/digest's; SHA-1
 * (FIPS 180-4 6.1) and SHA-384/512 (6.4, 6.5) are written here so that
 * evkit needs no crypto library. */
#ifndef EVKIT_FHASH_H
#define EVKIT_FHASH_H

#include <stddef.h>

/* The hex form's size with its NUL, for the longest digest (SHA-512). */
#define FHASH_HEX_MAX 129

/* Writes the digest named alg ("MD5", "SHA-1", "SHA-256", "SHA-384",
 * "SHA-512", exactly as AWS spells them) of p[0..n) in hex and a NUL to
 * out; 0, or -1 when alg names none of them. */
int fhash_hex(const char *alg, const void *p, size_t n, char out[FHASH_HEX_MAX]);

#endif
