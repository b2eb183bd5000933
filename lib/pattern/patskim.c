/* The fast path of the scanner's skipped subtrees: runs of arrays of plain
 * numbers (coordinates and the like, most of many events) validated 64
 * bytes at a time with bit masks instead of byte by byte.
 *
 * It never reports an error.  It only accepts the subset made of digits,
 * '-', '.', ',', '[', ']' and spaces, checks every rule of JSON's grammar
 * that subset can break, and stops before the first byte it cannot vouch
 * for: another byte (a string, an exponent, '}'), a rule broken, or
 * nesting leaving the arrays it was entered in.  It then hands back the
 * position just past the last comma before that point, where everything
 * before has been checked and a value must follow; the byte-by-byte
 * scanner takes over there and finds any error at its exact column. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pattern_int.h"

/* One 64-byte block as bit masks (bit i: byte i). */
struct blk {
	uint64_t d, z, m, dot, c, o, k, w;	/* digit, '0', - . , [ ] space */
};

/* Ors into *b, at bit s, the classes of the bytes of the vector x as the
 * compare EQ, the broadcast SET1 and the MOVEMASK of one vector width
 * find them: one text for the SSE2 and AVX2 classifiers. */
#define CLASS_BITS(EQ, SET1, MOVEMASK, x, s) do { \
	b->z |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1('0'))) << (s); \
	b->m |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1('-'))) << (s); \
	b->dot |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1('.'))) << (s); \
	b->c |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1(','))) << (s); \
	b->o |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1('['))) << (s); \
	b->k |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1(']'))) << (s); \
	b->w |= (uint64_t)(uint32_t)MOVEMASK(EQ(x, SET1(' '))) << (s); \
} while (0)

#ifdef __SSE2__
static inline void
classify(const unsigned char *p, struct blk *b)
{
	const __m128i bias = _mm_set1_epi8((char)0x50), lim = _mm_set1_epi8(-118);

	memset(b, 0, sizeof *b);
	for (int i = 0; i < 4; i++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		__m128i dg = _mm_cmplt_epi8(_mm_add_epi8(x, bias), lim);
		int s = 16 * i;
		b->d |= (uint64_t)(uint32_t)_mm_movemask_epi8(dg) << s;
		CLASS_BITS(_mm_cmpeq_epi8, _mm_set1_epi8, _mm_movemask_epi8, x, s);
	}
}
#else
static inline void
classify(const unsigned char *p, struct blk *b)
{
	memset(b, 0, sizeof *b);
	for (int i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		switch (p[i]) {
		case '0':
			b->z |= bit;
			/* FALLTHROUGH */
		case '1': case '2': case '3': case '4': case '5': case '6':
		case '7': case '8': case '9':
			b->d |= bit;
			break;
		case '-': b->m |= bit; break;
		case '.': b->dot |= bit; break;
		case ',': b->c |= bit; break;
		case '[': b->o |= bit; break;
		case ']': b->k |= bit; break;
		case ' ': b->w |= bit; break;
		}
	}
}
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(EVKIT_NO_SIMD)
#include <immintrin.h>
#define SKIM_AVX2 1
/* The same with AVX2, half the instructions; chosen at run time. */
__attribute__((target("avx2"))) static inline void
classify_avx2(const unsigned char *p, struct blk *b)
{
	const __m256i bias = _mm256_set1_epi8((char)0x50), lim = _mm256_set1_epi8(-118);

	memset(b, 0, sizeof *b);
	for (int i = 0; i < 2; i++) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * i));
		__m256i dg = _mm256_cmpgt_epi8(lim, _mm256_add_epi8(x, bias));
		int s = 32 * i;
		b->d |= (uint64_t)(uint32_t)_mm256_movemask_epi8(dg) << s;
		CLASS_BITS(_mm256_cmpeq_epi8, _mm256_set1_epi8, _mm256_movemask_epi8, x, s);
	}
}
#endif

#ifdef SKIM_AVX2
/* And with AVX-512BW: each compare gives its 64-bit mask at once. */
__attribute__((target("avx512bw"))) static inline void
classify_avx512(const unsigned char *p, struct blk *b)
{
	__m512i x = _mm512_loadu_si512((const void *)p);

	b->d = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8('0')),
	    _mm512_set1_epi8(10));
	b->z = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('0'));
	b->m = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('-'));
	b->dot = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.'));
	b->c = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(','));
	b->o = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('['));
	b->k = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(']'));
	b->w = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(' '));
}
#endif

/* For the non-space bytes a (and *pend, one from the block before): the
 * next non-space byte after each.  *pend becomes the one that lands in the
 * next block. */
static inline uint64_t
next_of(uint64_t a, uint64_t w, uint64_t *pend)
{
	uint64_t b = a << 1 | *pend, sp = b & w, r;
	/* a start of a run of spaces carries through it to the byte after */
	int out = __builtin_add_overflow(sp, w, &r);

	*pend = a >> 63 | (uint64_t)out;
	return (b & ~w) | (r & ~w);
}

/* Set bits; x86-64's baseline has no popcnt instruction, and libgcc's
 * call costs more than this. */
static inline int
ones(uint64_t x)
{
#ifdef __POPCNT__
	return __builtin_popcountll(x);
#else
	x -= x >> 1 & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + (x >> 2 & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (int)((x * 0x0101010101010101ULL) >> 56);
#endif
}

/* Bytes before the lowest set bit of m (all when m == 0). */
static inline uint64_t
below(uint64_t m)
{
	return m == 0 ? ~(uint64_t)0 : (m & -m) - 1;
}

static inline __attribute__((always_inline)) size_t
skim(const unsigned char *p, size_t len, int open, int room, int after, int *delta,
    size_t *seen, int level)
{
	struct blk b;
	size_t off = 0, clean = 0;
	int cur = open, lcur = open, max = open + room;
	uint64_t lo = 0, lk = 0;	/* '[' and ']' before the last clean comma */
	/* bit 0 of the next block: the last byte was … */
	uint64_t cN = 0, cD = 0, cM = 0, cP = 0, cF = 0, cZ = 0;
	/* … and the last non-space byte ended a value (a number or ']'), or
	 * was ',' (neither: '[') */
	uint64_t pV = after != '[', pC = 0;

	(void)level;	/* read only where a SIMD classifier is built in */
	while (off < len) {
		const unsigned char *q = p + off;
		unsigned char tail[64];
		if (len - off < 64) {
			/* the rest, then bytes it stops at */
			memset(tail, 'x', sizeof tail);
			memcpy(tail, q, len - off);
			q = tail;
		}
#ifdef SKIM_AVX2
		if (level == 2)
			classify_avx512(q, &b);
		else if (level == 1)
			classify_avx2(q, &b);
		else
#endif
			classify(q, &b);
		uint64_t n = b.d | b.m | b.dot;
		uint64_t valid = below(~(n | b.c | b.o | b.k | b.w));

		/* inside numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)? */
		uint64_t nprev = n << 1 | cN, dprev = b.d << 1 | cD;
		uint64_t pprev = b.dot << 1 | cP;
		uint64_t v = b.m & nprev;		/* '-' only first */
		v |= (b.m << 1 | cM) & ~b.d;		/* then a digit */
		v |= b.dot & ~dprev;			/* '.' after a digit */
		v |= pprev & ~b.d;			/* and before one */
		uint64_t fs = (pprev | cF) & b.d, f;	/* fraction digits */
		(void)__builtin_add_overflow(b.d, fs, &f);
		f = (f ^ b.d) & b.d;
		v |= b.dot & (f << 1 | cF);		/* one '.' */
		uint64_t z0 = b.d & b.z & ~dprev & ~pprev;	/* leading 0 */
		v |= (z0 << 1 | cZ) & b.d;		/* alone */

		/* between tokens: [ value , value ] with values numbers or
		 * arrays, spaces anywhere between */
		uint64_t ns = n & ~nprev;
		uint64_t aV = next_of(n | b.k, b.w, &pV), aC = next_of(b.c, b.w, &pC);
		v |= (ns | b.o) & aV;	/* after ',' or '[' */
		v |= b.c & ~aV;		/* after a value */
		v |= b.k & aC;		/* not after ',' */

		valid &= below(v & valid);
		/* nesting: never out of the arrays entered in, nor too deep;
		 * exact only when the block could get there */
		uint64_t o = b.o & valid, k = b.k & valid;
		int nk = ones(k), d = cur;
		if (d - nk < 1 || d + 64 > max) {
			for (uint64_t x = o | k; x != 0; x &= x - 1) {
				int i = __builtin_ctzll(x);
				d += (o >> i & 1) ? 1 : -1;
				if (d < 1 || d > max) {
					valid &= ((uint64_t)1 << i) - 1;
					o &= valid;
					k &= valid;
					break;
				}
			}
		}
		uint64_t c = b.c & valid;
		if (c != 0) {
			uint64_t before = ((uint64_t)1 << (63 - __builtin_clzll(c))) - 1;
			clean = off + (size_t)(64 - __builtin_clzll(c));
			lo = o & before;
			lk = k & before;
			lcur = cur;
		}
		if (valid != ~(uint64_t)0) {
			off += (size_t)__builtin_ctzll(~valid);
			break;
		}
		cur += ones(o) - nk;
		cN = n >> 63;
		cD = b.d >> 63;
		cM = b.m >> 63;
		cP = b.dot >> 63;
		cF = f >> 63;
		cZ = z0 >> 63;
		off += 64;
	}
	*delta = clean == 0 ? 0 : lcur + ones(lo) - ones(lk) - open;
	*seen = off < len ? off : len;
	return clean;
}

#ifdef SKIM_AVX2
__attribute__((target("avx2"))) static size_t
skim_avx2(const unsigned char *p, size_t len, int open, int room, int after, int *delta,
    size_t *seen)
{
	return skim(p, len, open, room, after, delta, seen, 1);
}

__attribute__((target("avx512bw,avx2"))) static size_t
skim_avx512(const unsigned char *p, size_t len, int open, int room, int after, int *delta,
    size_t *seen)
{
	return skim(p, len, open, room, after, delta, seen, 2);
}
#endif

int pat_skim_level = -1;

int
pat_skim_best(void)
{
#ifdef SKIM_AVX2
	if (__builtin_cpu_supports("avx512bw"))
		return 2;
	if (__builtin_cpu_supports("avx2"))
		return 1;
#endif
	return 0;
}

void
pat_skim_init(void)
{
	if (pat_skim_level < 0)
		pat_skim_level = pat_skim_best();
}

size_t
pat_skim(const unsigned char *p, size_t len, int open, int room, int after, int *delta,
    size_t *seen)
{
	if (pat_skim_level < 0)
		pat_skim_init();
#ifdef SKIM_AVX2
	if (pat_skim_level == 2)
		return skim_avx512(p, len, open, room, after, delta, seen);
	if (pat_skim_level == 1)
		return skim_avx2(p, len, open, room, after, delta, seen);
#endif
	return skim(p, len, open, room, after, delta, seen, 0);
}
