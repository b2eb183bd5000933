#include <math.h>
#include <pthread.h>
#include <string.h>

#include "digest.h"

static const char hexd[] = "0123456789abcdef";

/* The round constants are defined by formulas (RFC 1321 3.4, FIPS 180-4
 * 4.2.2 and 5.3.3); computing them once keeps 136 magic numbers out of
 * the source. The unit tests hold the results to the standards' vectors. */
static uint32_t md5_k[64], sha_k[64], sha_iv[8];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static uint32_t
frac32(double x)
{
	return (uint32_t)ldexp(x - floor(x), 32);
}

static void
tables_make(void)
{
	int n = 0;

	for (int i = 0; i < 64; i++)
		md5_k[i] = (uint32_t)ldexp(fabs(sin(i + 1.0)), 32);
	for (int p = 2; n < 64; p++) {
		int prime = 1;
		for (int d = 2; d * d <= p && prime; d++)
			prime = p % d != 0;
		if (!prime)
			continue;
		if (n < 8)
			sha_iv[n] = frac32(sqrt(p));
		sha_k[n++] = frac32(cbrt(p));
	}
}

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

static void
md5_block(uint32_t h[4], const unsigned char *p)
{
	static const int shift[4][4] = {
		{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
	};
	uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3];

	for (int i = 0; i < 16; i++)
		m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		uint32_t t = d;
		d = c;
		c = b;
		b = b + rol(a + f + md5_k[i] + m[g], shift[i / 16][i % 4]);
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

static void
sha256_block(uint32_t h[8], const unsigned char *p)
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
	memcpy(v, h, sizeof v);
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
		h[i] += v[i];
}

static void
block(struct digest *c, const unsigned char *p)
{
	if (c->kind == DIGEST_MD5)
		md5_block(c->h, p);
	else
		sha256_block(c->h, p);
}

void
digest_init(struct digest *c, enum digest_kind kind)
{
	static const uint32_t md5_iv[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };

	pthread_once(&tables_once, tables_make);
	c->kind = kind;
	c->len = 0;
	memcpy(c->h, kind == DIGEST_MD5 ? md5_iv : sha_iv,
	    kind == DIGEST_MD5 ? sizeof md5_iv : sizeof sha_iv);
}

/* Buffers a partial block in blk and compresses each whole one. */
void
digest_update(struct digest *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = (size_t)(c->len % 64);

	c->len += n;
	if (have > 0) {
		size_t take = 64 - have < n ? 64 - have : n;
		memcpy(c->blk + have, p, take);
		p += take;
		n -= take;
		if (have + take < 64)
			return;
		block(c, c->blk);
	}
	for (; n >= 64; p += 64, n -= 64)
		block(c, p);
	memcpy(c->blk, p, n);
}

/* The common padding: 0x80, zeros, then the bit length in 8 bytes,
 * little-endian for MD5, big-endian for SHA-256; the state's words are
 * written out in the same order. */
void
digest_hex(struct digest *c, char *out)
{
	int big = c->kind == DIGEST_SHA256, bytes = big ? 32 : 16;
	uint64_t bits = c->len * 8;
	unsigned char tail[72] = { 0x80 };
	size_t padn = (size_t)((c->len % 64) < 56 ? 56 - c->len % 64 : 120 - c->len % 64);

	for (int i = 0; i < 8; i++)
		tail[padn + (size_t)i] = (unsigned char)(bits >> (big ? 56 - 8 * i : 8 * i));
	digest_update(c, tail, padn + 8);
	for (int i = 0; i < bytes; i++) {
		int sh = big ? 24 - 8 * (i % 4) : 8 * (i % 4);
		unsigned v = (c->h[i / 4] >> sh) & 0xff;
		out[2 * i] = hexd[v >> 4];
		out[2 * i + 1] = hexd[v & 15];
	}
	out[2 * bytes] = '\0';
}

void
digest_hex_of(enum digest_kind kind, const void *p, size_t n, char *out)
{
	struct digest c;

	digest_init(&c, kind);
	digest_update(&c, p, n);
	digest_hex(&c, out);
}

static void
field(struct digest *c, const void *p, size_t n)
{
	unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
		(unsigned char)(n >> 8), (unsigned char)n };

	digest_update(c, len, 4);
	digest_update(c, p, n);
}

void
digest_sqs_attr(struct digest *c, const char *name, size_t nlen, const char *type,
    size_t tlen, int binary, const void *value, size_t vlen)
{
	unsigned char transport = binary ? 2 : 1;

	field(c, name, nlen);
	field(c, type, tlen);
	digest_update(c, &transport, 1);
	field(c, value, vlen);
}
