/* Value-level matchers of pattern.c: numbers by value, wildcards,
 * equals-ignore-case and IP addresses. */
#include <arpa/inet.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "pattern_int.h"

static inline const char *
digit_run(const char *p, const char *end, const char *limit)
{
	(void)limit;	/* only the SIMD step reads ahead to it */
#ifdef __SSE2__
	if (limit - p >= 32) {
		uint32_t m = pat_digits32((const unsigned char *)p);
		if (m != 0xffffffffu)
			return p + __builtin_ctz(~m);	/* at most end: a non-digit follows */
	}
#endif
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* Works on the two digit runs (integer and fraction) as spans: this runs
 * for every number on a path with a numeric matcher. */
int
pnum_spans(const char *p, size_t n, size_t avail, struct pnum *sn)
{
	const char *end = p + n, *limit = p + avail, *ip, *ie, *fp, *fe;
	long e10 = 0;

	int r = pnum_spans_fast(p, n, limit, sn);
	if (r <= 0)
		return r;

	sn->neg = 0;
	if (p < end && *p == '-') {
		sn->neg = 1;
		p++;
	}
	ip = p;
	ie = digit_run(ip, end, limit);
	fp = fe = ie;
	if (ie < end && *ie == '.') {
		fp = ie + 1;
		fe = digit_run(fp, end, limit);
	}
	p = fe;
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end; p++)
			if (e10 < 100000000)
				e10 = e10 * 10 + (*p - '0');
		if (eneg)
			e10 = -e10;
	}
	long point = ie - ip;
	/* Leading zeros, through the point if the integer part is all zero. */
	while (ip < ie && *ip == '0') {
		ip++;
		point--;
	}
	if (ip == ie)
		while (fp < fe && *fp == '0') {
			fp++;
			point--;
		}
	/* Trailing zeros, through the point if the fraction is all zero. */
	while (fe > fp && fe[-1] == '0')
		fe--;
	if (fe == fp)
		while (ie > ip && ie[-1] == '0')
			ie--;
	sn->ip = ip;
	sn->fp = fp;
	sn->ni = (size_t)(ie - ip);
	sn->nf = (size_t)(fe - fp);
	if (sn->ni + sn->nf > 17)
		return -1;
	sn->nd = (uint8_t)(sn->ni + sn->nf);
	sn->exp = sn->nd > 0 ? (int32_t)(point + e10) : 0;
	if (sn->nd == 0)
		sn->neg = 0;	/* -0 is 0 */
	return 0;
}

void
pnum_dec(const struct pnum *sn, struct pdec *d)
{
	memset(d, 0, sizeof *d);
	memcpy(d->d, sn->ip, sn->ni);
	memcpy(d->d + sn->ni, sn->fp, sn->nf);
	d->nd = sn->nd;
	d->neg = sn->neg;
	d->exp = sn->exp;
}

/* Powers of ten a double holds exactly. */
static const double exact_pow10[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The n <= 8 digits at p as a number, eight bytes read at once (p + 8
 * must be readable). */
static inline uint64_t
digits8(const char *p, size_t n)
{
	uint64_t v;

	memcpy(&v, p, 8);
	v -= 0x3030303030303030ULL;
	v <<= 8 * (8 - n);	/* the digits last, zeros before them */
	v = v * 10 + (v >> 8);
	return (((v & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
	    (((v >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >> 32;
}

/* m * 10^n + the n digits at p. */
static inline uint64_t
more_digits(uint64_t m, const char *p, size_t n, const char *limit)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (n > 0 && limit - p >= 8) {
		size_t k = n < 8 ? n : 8;
		m = m * (uint64_t)exact_pow10[k] + digits8(p, k);
		p += k;
		n -= k;
	}
#endif
	for (; n > 0; n--)
		m = m * 10 + (uint64_t)(*p++ - '0');
	return m;
}

double
pnum_near(const struct pnum *sn, const char *limit)
{
	int k = sn->exp - sn->nd;

	if (k < -22 || k > 22)
		return NAN;
	/* at most 17 digits: m < 2^57, one rounding each in the conversion
	 * and in the scaling by an exact power of ten */
	uint64_t m = more_digits(0, sn->ip, sn->ni, limit);
	m = more_digits(m, sn->fp, sn->nf, limit);
	double v = k < 0 ? (double)m / exact_pow10[-k] : (double)m * exact_pow10[k];
	return sn->neg ? -v : v;
}

double
pdec_double(const struct pdec *d)
{
	char t[48];

	if (d->nd == 0)
		return 0.0;
	snprintf(t, sizeof t, "%s0.%.*se%d", d->neg ? "-" : "", (int)d->nd, d->d, (int)d->exp);
	return strtod(t, NULL);
}

int
pdec_parse_in(const char *p, size_t n, size_t avail, struct pdec *d)
{
	struct pnum sn;

	if (pnum_spans(p, n, avail, &sn) < 0)
		return -1;
	pnum_dec(&sn, d);
	return 0;
}

/* Orders -x < 0 < x. */
static int
pdec_class(const struct pdec *a)
{
	if (a->nd == 0)
		return 1;
	return a->neg ? 0 : 2;
}

int
pdec_cmp(const struct pdec *a, const struct pdec *b)
{
	int ca = pdec_class(a), cb = pdec_class(b);

	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (a->nd == 0)
		return 0;
	int m;
	if (a->exp != b->exp) {
		m = a->exp < b->exp ? -1 : 1;
	} else {
		int k = a->nd < b->nd ? a->nd : b->nd;
		m = memcmp(a->d, b->d, (size_t)k);
		if (m == 0)
			m = a->nd == b->nd ? 0 : a->nd < b->nd ? -1 : 1;
		else
			m = m < 0 ? -1 : 1;
	}
	return a->neg ? -m : m;
}

typedef unsigned __int128 u128;

/* Is the 16- or 17-digit decimal t the shortest one that rounds to v
 * (closest to v among the shortest), as Java's Double.toString() gives
 * it?  Decided in exact 128-bit arithmetic: t, v and v's rounding
 * interval are scaled to integers by 10^f * 2^S.  1 yes, 0 no, -1 when
 * out of that arithmetic's reach (or a tie): ask pdec_comparable_slow(). */
static int
shortest_fast(const struct pdec *t, double v)
{
	uint64_t m10 = 0, p10 = 1;
	int f = t->nd - t->exp, ex;

	for (int i = 0; i < t->nd; i++)
		m10 = m10 * 10 + (uint64_t)(t->d[i] - '0');
	for (int i = 1; i < t->nd; i++)
		p10 *= 10;
	/* Near a power of ten a shorter decimal may sit just below it. */
	if (f < 0 || f > 22 || m10 < p10 + 8 || !isnormal(v))
		return -1;
	double fr = frexp(fabs(v), &ex);
	uint64_t m = (uint64_t)ldexp(fr, 53);	/* 2^52 <= m < 2^53 */
	int e2 = ex - 53 + f;			/* v * 10^f = m * 5^f * 2^e2 */
	int sh = e2 < 0 ? 2 - e2 : 2;
	if (sh > 69 || e2 + sh > 20)
		return -1;
	u128 p5 = 1;
	for (int i = 0; i < f; i++)
		p5 *= 5;
	u128 t2 = (u128)m10 << sh;
	u128 v2 = ((u128)m * p5) << (e2 + sh);
	u128 half_ulp = p5 << (e2 + sh - 1);
	/* Below a power of two the next double down is half as far. */
	u128 lo = v2 - (m == 1ULL << 52 ? half_ulp / 2 : half_ulp), hi = v2 + half_ulp;
	int even = (m & 1) == 0;	/* ties round to even: bounds included */
	if (t2 < lo || t2 > hi)
		return -1;
	u128 z = (u128)10 << sh;	/* one fewer digit: a multiple of z */
	u128 c = (lo + z - 1) / z * z;
	if (c == lo && !even)
		c += z;
	if (c < hi || (c == hi && even))
		return 0;
	u128 d = t2 > v2 ? t2 - v2 : v2 - t2, half = (u128)1 << (sh - 1);
	return d < half ? 1 : d == half ? -1 : 0;
}

int
pdec_comparable_slow(const char *p, size_t n, const struct pdec *t, double v, struct pdec *key)
{
	char tmp[40];

	(void)p;
	(void)n;
	/* The shortest decimal that converts back to v has at most 17
	 * digits.  A text of 16 or more digits can only be it if no 15-digit
	 * one does (and every shorter one is a 15-digit one too). */
	int prec = t->nd >= 16 ? 14 : 0;
	for (; prec < 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	pdec_parse(tmp, strlen(tmp), key);
	return pdec_cmp(t, key) == 0;
}

int
pdec_comparable(const char *p, size_t n, struct pdec *key)
{
	struct pdec t;
	char small[64];

	if (pdec_parse(p, n, &t) < 0)
		return 0;
	/* Up to 15 significant digits always survive the double round trip
	 * (DBL_DIG) away from the subnormal and overflow ranges. */
	if (t.nd <= 15 && t.exp > -290 && t.exp < 300) {
		*key = t;
		return 1;
	}
	char *buf = n < sizeof small ? small : malloc(n + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	double v = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	if (!isfinite(v))
		return 0;
	int r = t.nd >= 16 ? shortest_fast(&t, v) : -1;
	if (r < 0)
		return pdec_comparable_slow(p, n, &t, v, key);
	*key = t;
	return r;
}

const char *
pwild_check(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i] == '\\') {
			if (i + 1 == n)
				return "wildcard pattern ends with an unescaped backslash";
			if (w[i + 1] != '*' && w[i + 1] != '\\')
				return "wildcard pattern has an invalid escape (only \\* and \\\\)";
			i++;
		} else if (w[i] == '*' && i + 1 < n && w[i + 1] == '*') {
			return "wildcard pattern has consecutive '*' characters";
		}
	}
	return NULL;
}

/* Glob with '*' only: on a mismatch, back up to the last star and let it
 * take one more byte.  Linear enough for event-sized strings. */
int
pwild_match(const char *w, size_t wn, const char *s, size_t n)
{
	size_t wi = 0, si = 0, star_w = 0, star_s = 0;
	int star = 0;

	while (si < n) {
		if (wi < wn && w[wi] == '*') {
			star = 1;
			star_w = ++wi;
			star_s = si;
			continue;
		}
		if (wi < wn) {
			size_t len = w[wi] == '\\' ? 2 : 1;
			if (w[wi + len - 1] == s[si]) {
				wi += len;
				si++;
				continue;
			}
		}
		if (!star)
			return 0;
		wi = star_w;
		si = ++star_s;
	}
	while (wi < wn && w[wi] == '*')
		wi++;
	return wi == wn;
}

/* Decodes one code point of valid UTF-8 at *p. */
static unsigned
utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	unsigned c = *p;

	if (c < 0x80) {
		*pp = p + 1;
		return c;
	}
	int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	c &= 0x3f >> (len - 1);
	for (int i = 1; i < len; i++)
		c = (c << 6) | (p[i] & 0x3f);
	*pp = p + len;
	return c;
}

static locale_t eic_loc;
static int eic_tried;

/* Once, from pat_new() by way of pat_scan_init(): before any thread
 * scans. */
void
pat_eic_init(void)
{
	if (!eic_tried) {
		eic_tried = 1;
		eic_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
}

static locale_t
utf8_locale(void)
{
	pat_eic_init();
	return eic_loc;
}

/* Java's Character.toLowerCase/toUpperCase work on UTF-16 units, so a
 * character outside the BMP only ever matches itself. */
static int
eic_char(unsigned pc, unsigned ec)
{
	if (pc < 0x80) {
		unsigned lo = pc >= 'A' && pc <= 'Z' ? pc + 32 : pc;
		unsigned up = pc >= 'a' && pc <= 'z' ? pc - 32 : pc;
		return ec == lo || ec == up;
	}
	if (pc > 0xffff)
		return ec == pc;
	locale_t loc = utf8_locale();
	if (loc == (locale_t)0)
		return ec == pc;
	return ec == (unsigned)towlower_l((wint_t)pc, loc) ||
	    ec == (unsigned)towupper_l((wint_t)pc, loc);
}

/* Matches pattern characters against the start of s; returns the bytes of
 * s consumed, or -1. */
static long
eic_run(const char *pat, size_t pn, const char *s, size_t n)
{
	const unsigned char *pp = (const unsigned char *)pat, *pe = pp + pn;
	const unsigned char *sp = (const unsigned char *)s, *se = sp + n;

	while (pp < pe) {
		if (sp >= se)
			return -1;
		unsigned pc = utf8_next(&pp), ec = utf8_next(&sp);
		if (!eic_char(pc, ec))
			return -1;
	}
	return (long)(sp - (const unsigned char *)s);
}

int
peic_equal(const char *pat, size_t pn, const char *s, size_t n)
{
	return eic_run(pat, pn, s, n) == (long)n;
}

int
peic_prefix(const char *pat, size_t pn, const char *s, size_t n)
{
	return eic_run(pat, pn, s, n) >= 0;
}

int
peic_suffix(const char *pat, size_t pn, const char *s, size_t n)
{
	size_t chars = 0, at = n;

	for (size_t i = 0; i < pn; i++)
		chars += ((unsigned char)pat[i] & 0xc0) != 0x80;
	/* Each pattern character matches exactly one character of s. */
	while (chars > 0) {
		if (at == 0)
			return 0;
		at--;
		if (((unsigned char)s[at] & 0xc0) != 0x80)
			chars--;
	}
	return peic_equal(pat, pn, s + at, n - at);
}

int
pip_parse(const char *p, size_t n, unsigned char out[16])
{
	char buf[64];

	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, out) == 1)
		return 6;
	return 0;
}
