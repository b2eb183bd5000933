#include <string.h>

#include "digest.h"

static const char hexd[] = "0123456789abcdef";

static uint32_t
rol(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static uint32_t
ror(uint32_t x, int k)
{
	return (x >> k) | (x << (32 - k));
}

/* Both digests take their input in 64-byte blocks: feed() buffers a
 * partial block in blk and hands each whole one to block(). */
typedef void block_fn(void *ctx, const unsigned char *p);

static void
feed(unsigned char blk[64], uint64_t *len, const unsigned char *p, size_t n, block_fn *block,
    void *ctx)
{
	size_t have = (size_t)(*len % 64);

	*len += n;
	if (have > 0) {
		size_t take = 64 - have < n ? 64 - have : n;
		memcpy(blk + have, p, take);
		p += take;
		n -= take;
		if (have + take < 64)
			return;
		block(ctx, blk);
	}
	for (; n >= 64; p += 64, n -= 64)
		block(ctx, p);
	memcpy(blk, p, n);
}

/* The common padding: 0x80, zeros, then the bit length in 8 bytes,
 * little-endian for MD5, big-endian for SHA-256. */
static void
pad(unsigned char blk[64], uint64_t *len, int big_endian, block_fn *block, void *ctx)
{
	uint64_t bits = *len * 8;
	unsigned char tail[72] = { 0x80 };
	size_t padn = (size_t)((*len % 64) < 56 ? 56 - *len % 64 : 120 - *len % 64);

	for (int i = 0; i < 8; i++)
		tail[padn + (size_t)i] = (unsigned char)(bits >> (big_endian ? 56 - 8 * i : 8 * i));
	feed(blk, len, tail, padn + 8, block, ctx);
}

/* MD5: per-round shift amounts and the sine-derived constants. */
static const int md5_s[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};
static const uint32_t md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static void
md5_block(struct md5 *c, const unsigned char *p)
{
	uint32_t m[16], a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];

	for (int i = 0; i < 16; i++)
		m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		if (i < 16) {
			f = (b & cc) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & cc);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ cc ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = cc ^ (b | ~d);
			g = (7 * i) % 16;
		}
		uint32_t t = d;
		d = cc;
		cc = b;
		b = b + rol(a + f + md5_k[i] + m[g], md5_s[i]);
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
}

static void
md5_block_cb(void *ctx, const unsigned char *p)
{
	md5_block(ctx, p);
}

void
md5_init(struct md5 *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->len = 0;
}

void
md5_update(struct md5 *c, const void *p, size_t n)
{
	feed(c->blk, &c->len, p, n, md5_block_cb, c);
}

void
md5_hex(struct md5 *c, char out[33])
{
	pad(c->blk, &c->len, 0, md5_block_cb, c);
	for (int i = 0; i < 16; i++) {
		unsigned v = (c->h[i / 4] >> (8 * (i % 4))) & 0xff;
		out[2 * i] = hexd[v >> 4];
		out[2 * i + 1] = hexd[v & 15];
	}
	out[32] = '\0';
}

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void
sha256_block(struct sha256 *c, const unsigned char *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, c->h, sizeof v);
	for (int i = 0; i < 64; i++) {
		uint32_t s1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
		uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		uint32_t t1 = v[7] + s1 + ch + sha_k[i] + w[i];
		uint32_t s0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
		uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + s0 + maj;
	}
	for (int i = 0; i < 8; i++)
		c->h[i] += v[i];
}

static void
sha256_block_cb(void *ctx, const unsigned char *p)
{
	sha256_block(ctx, p);
}

void
sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(c->h, iv, sizeof iv);
	c->len = 0;
}

void
sha256_update(struct sha256 *c, const void *p, size_t n)
{
	feed(c->blk, &c->len, p, n, sha256_block_cb, c);
}

void
sha256_hex(struct sha256 *c, char out[65])
{
	pad(c->blk, &c->len, 1, sha256_block_cb, c);
	for (int i = 0; i < 32; i++) {
		unsigned v = (c->h[i / 4] >> (24 - 8 * (i % 4))) & 0xff;
		out[2 * i] = hexd[v >> 4];
		out[2 * i + 1] = hexd[v & 15];
	}
	out[64] = '\0';
}

void
md5_hex_of(const void *p, size_t n, char out[33])
{
	struct md5 c;

	md5_init(&c);
	md5_update(&c, p, n);
	md5_hex(&c, out);
}

void
sha256_hex_of(const void *p, size_t n, char out[65])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_hex(&c, out);
}
