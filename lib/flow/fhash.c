#include <stdint.h>
#include <string.h>

#include "core/digest.h"
#include "fhash.h"

static uint32_t
rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static uint64_t
ror64(uint64_t x, int n)
{
	return (x >> n) | (x << (64 - n));
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One 64-byte block of SHA-1 (FIPS 180-4 6.1.2). */
static void
sha1_block(uint32_t h[5], const unsigned char *b)
{
	uint32_t w[80], a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)b[4 * t] << 24 | (uint32_t)b[4 * t + 1] << 16 |
		    (uint32_t)b[4 * t + 2] << 8 | b[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (bb & c) | (~bb & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = bb ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (bb & c) | (bb & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = bb ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t tmp = rol32(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol32(bb, 30);
		bb = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += bb;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void
sha1_hex(const unsigned char *p, size_t n, char *out)
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	unsigned char blk[128], d[20];
	size_t i = 0;

	for (; n - i >= 64; i += 64)
		sha1_block(h, p + i);
	/* The tail, 0x80, zeros and the bit length fill one or two blocks. */
	size_t rest = n - i, len = rest + 9 <= 64 ? 64 : 128;
	memset(blk, 0, sizeof blk);
	if (rest > 0)
		memcpy(blk, p + i, rest);
	blk[rest] = 0x80;
	uint64_t bits = (uint64_t)n * 8;
	for (int k = 0; k < 8; k++)
		blk[len - 1 - k] = (unsigned char)(bits >> (8 * k));
	for (size_t k = 0; k < len; k += 64)
		sha1_block(h, blk + k);
	for (int k = 0; k < 5; k++) {
		d[4 * k] = (unsigned char)(h[k] >> 24);
		d[4 * k + 1] = (unsigned char)(h[k] >> 16);
		d[4 * k + 2] = (unsigned char)(h[k] >> 8);
		d[4 * k + 3] = (unsigned char)h[k];
	}
	hex(d, 20, out);
}

static const uint64_t sha512_k[80] = {
	0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
	0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
	0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
	0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
	0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
	0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
	0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
	0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
	0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
	0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
	0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
	0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
	0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
	0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
	0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
	0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
	0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
	0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
	0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
	0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

/* One 128-byte block of SHA-512 (FIPS 180-4 6.4.2). */
static void
sha512_block(uint64_t h[8], const unsigned char *b)
{
	uint64_t w[80], v[8];

	for (int t = 0; t < 16; t++) {
		w[t] = 0;
		for (int k = 0; k < 8; k++)
			w[t] = w[t] << 8 | b[8 * t + k];
	}
	for (int t = 16; t < 80; t++) {
		uint64_t s0 = ror64(w[t - 15], 1) ^ ror64(w[t - 15], 8) ^ (w[t - 15] >> 7);
		uint64_t s1 = ror64(w[t - 2], 19) ^ ror64(w[t - 2], 61) ^ (w[t - 2] >> 6);
		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	memcpy(v, h, sizeof v);
	for (int t = 0; t < 80; t++) {
		uint64_t e = v[4], a = v[0];
		uint64_t t1 = v[7] + (ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41)) +
		    ((e & v[5]) ^ (~e & v[6])) + sha512_k[t] + w[t];
		uint64_t t2 = (ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39)) +
		    ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int k = 0; k < 8; k++)
		h[k] += v[k];
}

/* SHA-512, or SHA-384 (its other initial values, cut to 48 bytes). */
static void
sha512_hex(const unsigned char *p, size_t n, int is384, char *out)
{
	static const uint64_t iv512[8] = {
		0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
		0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
	};
	static const uint64_t iv384[8] = {
		0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
		0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4,
	};
	uint64_t h[8];
	unsigned char blk[256], d[64];
	size_t i = 0;

	memcpy(h, is384 ? iv384 : iv512, sizeof h);
	for (; n - i >= 128; i += 128)
		sha512_block(h, p + i);
	size_t rest = n - i, len = rest + 17 <= 128 ? 128 : 256;
	memset(blk, 0, sizeof blk);
	if (rest > 0)
		memcpy(blk, p + i, rest);
	blk[rest] = 0x80;
	/* a 128-bit length whose high half stays 0 below 2^61 bytes */
	uint64_t bits = (uint64_t)n * 8;
	for (int k = 0; k < 8; k++)
		blk[len - 1 - k] = (unsigned char)(bits >> (8 * k));
	for (size_t k = 0; k < len; k += 128)
		sha512_block(h, blk + k);
	for (int k = 0; k < 8; k++)
		for (int j = 0; j < 8; j++)
			d[8 * k + j] = (unsigned char)(h[k] >> (56 - 8 * j));
	hex(d, is384 ? 48 : 64, out);
}

int
fhash_hex(const char *alg, const void *p, size_t n, char out[FHASH_HEX_MAX])
{
	if (strcmp(alg, "MD5") == 0)
		digest_hex_of(DIGEST_MD5, p, n, out);
	else if (strcmp(alg, "SHA-256") == 0)
		digest_hex_of(DIGEST_SHA256, p, n, out);
	else if (strcmp(alg, "SHA-1") == 0)
		sha1_hex(p, n, out);
	else if (strcmp(alg, "SHA-384") == 0)
		sha512_hex(p, n, 1, out);
	else if (strcmp(alg, "SHA-512") == 0)
		sha512_hex(p, n, 0, out);
	else
		return -1;
	return 0;
}
