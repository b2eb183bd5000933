/* evlog_crc.c — the records' CRC-32 (zlib's: gzip's and PNG's polynomial,
 * the same numbers as crc32()).  zlib 1.2's table-driven crc32() costs
 * about four instructions a byte, a tenth of an append; on x86-64 CPUs
 * with carry-less multiplication the bulk of a record is folded 64 bytes
 * at a time instead, by the method of Gopal et al., "Fast CRC Computation
 * for Generic Polynomials Using PCLMULQDQ Instruction" (Intel, 2009),
 * whose constants for this polynomial are below.  zlib does the short
 * records and the last few bytes of each. */
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "evlog_int.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(EVKIT_NO_SIMD)
#include <immintrin.h>

#define CLMUL __attribute__((target("pclmul,sse4.1")))

/* a * x^(128+32) + b, modulo the polynomial, in bit-reflected form: the
 * 128 bits of a folded onto the 128 bits of b. */
CLMUL static inline __m128i
fold(__m128i a, __m128i k, __m128i b)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00),
	    _mm_clmulepi64_si128(a, k, 0x11)), b);
}

CLMUL static inline __m128i
load(const unsigned char *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* The CRC register (not inverted) after the n >= 64 bytes at p, n a
 * multiple of 16. */
CLMUL static uint32_t
crc_clmul(uint32_t crc, const unsigned char *p, size_t n)
{
	const __m128i k12 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
	const __m128i k34 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
	const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
	const __m128i pu = _mm_set_epi64x(0x1f7011641, 0x1db710641);
	const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
	__m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128((int)crc));
	__m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48), t;

	for (p += 64, n -= 64; n >= 64; p += 64, n -= 64) {
		x0 = fold(x0, k12, load(p));
		x1 = fold(x1, k12, load(p + 16));
		x2 = fold(x2, k12, load(p + 32));
		x3 = fold(x3, k12, load(p + 48));
	}
	x0 = fold(fold(fold(x0, k34, x1), k34, x2), k34, x3);
	for (; n >= 16; p += 16, n -= 16)
		x0 = fold(x0, k34, load(p));
	/* 128 bits to 64, then to 32 (with the 32 zero bits a CRC appends),
	 * then Barrett's reduction to the remainder. */
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), _mm_clmulepi64_si128(x0, k34, 0x10));
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 4),
	    _mm_clmulepi64_si128(_mm_and_si128(x0, low32), k5, 0x00));
	t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x0, low32), pu, 0x10), low32);
	x0 = _mm_xor_si128(x0, _mm_clmulepi64_si128(t, pu, 0x00));
	return (uint32_t)_mm_extract_epi32(x0, 1);
}

uint32_t
elog_crc32_update(uint32_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	if (n >= 64 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
		size_t bulk = n & ~(size_t)15;
		crc = ~crc_clmul(~crc, p, bulk);
		p += bulk;
		n -= bulk;
		/* The last 15 bytes at most: a byte a step with zlib's table,
		 * cheaper than a call of crc32() and its set-up, per record. */
		const z_crc_t *t = get_crc_table();
		crc = ~crc;
		while (n-- > 0)
			crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
		return ~crc;
	}
	return (uint32_t)crc32(crc, p, (uInt)n);
}

#else

uint32_t
elog_crc32_update(uint32_t crc, const void *buf, size_t n)
{
	return (uint32_t)crc32(crc, buf, (uInt)n);
}

#endif

uint32_t
elog_crc32(const void *buf, size_t n)
{
	return elog_crc32_update(0, buf, n);
}
