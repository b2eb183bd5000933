/* Value-level matchers of pattern.c: numbers by value, wildcards,
 * equals-ignore-case and IP addresses. */
#include <ctype.h>
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
	/* event-ruler compares with BigDecimal.valueOf(v), which reads Java's
	 * Double.toString(): that writes two digits at least and, where one
	 * would do, takes the closest of the one- and two-digit decimals
	 * that convert back (4.9e-324 for the least subnormal, not 5e-324). */
	if (prec == 0)
		snprintf(tmp, sizeof tmp, "%.1e", v);
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

/* Java's String.toUpperCase(Locale.ROOT) of the one-char strings whose
 * upper case is longer (SpecialCasing.txt, unconditional); U+1F80..U+1FAF
 * follow a rule instead (upper_special()). */
static const struct { uint16_t c, to[3]; } upper_long[] = {
	/* Latin: sharp s, n preceded by apostrophe, j with caron, h t w y a */
	{ 0x00df, { 0x53, 0x53 } }, { 0x0149, { 0x2bc, 0x4e } }, { 0x01f0, { 0x4a, 0x30c } },
	{ 0x1e96, { 0x48, 0x331 } }, { 0x1e97, { 0x54, 0x308 } }, { 0x1e98, { 0x57, 0x30a } },
	{ 0x1e99, { 0x59, 0x30a } }, { 0x1e9a, { 0x41, 0x2be } },
	/* Greek: with dialytika and tonos, psili, perispomeni */
	{ 0x0390, { 0x399, 0x308, 0x301 } }, { 0x03b0, { 0x3a5, 0x308, 0x301 } },
	{ 0x1f50, { 0x3a5, 0x313 } }, { 0x1f52, { 0x3a5, 0x313, 0x300 } },
	{ 0x1f54, { 0x3a5, 0x313, 0x301 } }, { 0x1f56, { 0x3a5, 0x313, 0x342 } },
	{ 0x1fb6, { 0x391, 0x342 } }, { 0x1fc6, { 0x397, 0x342 } }, { 0x1fd6, { 0x399, 0x342 } },
	/* Greek: alpha, eta, omega with ypogegrammeni */
	{ 0x1fb2, { 0x1fba, 0x399 } }, { 0x1fb3, { 0x391, 0x399 } }, { 0x1fb4, { 0x386, 0x399 } },
	{ 0x1fb7, { 0x391, 0x342, 0x399 } }, { 0x1fbc, { 0x391, 0x399 } },
	{ 0x1fc2, { 0x1fca, 0x399 } }, { 0x1fc3, { 0x397, 0x399 } }, { 0x1fc4, { 0x389, 0x399 } },
	{ 0x1fc7, { 0x397, 0x342, 0x399 } }, { 0x1fcc, { 0x397, 0x399 } },
	/* Greek: iota and upsilon with dialytika, rho with psili */
	{ 0x1fd2, { 0x399, 0x308, 0x300 } }, { 0x1fd3, { 0x399, 0x308, 0x301 } },
	{ 0x1fd7, { 0x399, 0x308, 0x342 } }, { 0x1fe2, { 0x3a5, 0x308, 0x300 } },
	{ 0x1fe3, { 0x3a5, 0x308, 0x301 } }, { 0x1fe4, { 0x3a1, 0x313 } }, { 0x1fe6, { 0x3a5, 0x342 } },
	{ 0x1fe7, { 0x3a5, 0x308, 0x342 } },
	/* Greek: omega */
	{ 0x1ff2, { 0x1ffa, 0x399 } }, { 0x1ff3, { 0x3a9, 0x399 } }, { 0x1ff4, { 0x38f, 0x399 } },
	{ 0x1ff6, { 0x3a9, 0x342 } }, { 0x1ff7, { 0x3a9, 0x342, 0x399 } }, { 0x1ffc, { 0x3a9, 0x399 } },
	/* Latin ligatures ff fi fl ffi ffl st st */
	{ 0xfb00, { 0x46, 0x46 } }, { 0xfb01, { 0x46, 0x49 } }, { 0xfb02, { 0x46, 0x4c } },
	{ 0xfb03, { 0x46, 0x46, 0x49 } }, { 0xfb04, { 0x46, 0x46, 0x4c } },
	{ 0xfb05, { 0x53, 0x54 } }, { 0xfb06, { 0x53, 0x54 } },
	/* Armenian ligatures */
	{ 0x0587, { 0x535, 0x552 } }, { 0xfb13, { 0x544, 0x546 } }, { 0xfb14, { 0x544, 0x535 } },
	{ 0xfb15, { 0x544, 0x53b } }, { 0xfb16, { 0x54e, 0x546 } }, { 0xfb17, { 0x544, 0x53d } },
};

/* The UTF-8 of Java's upper case of the one-char string c, if it is
 * longer than one char; its length, or 0. */
static size_t
upper_special(unsigned c, char *out)
{
	char *o = out;

	if (c >= 0x1f80 && c < 0x1fb0) {	/* Greek with ypogegrammeni */
		static const unsigned base[3] = { 0x1f08, 0x1f28, 0x1f68 };
		pat_put_utf8(&o, base[(c - 0x1f80) / 16] + (c & 7));
		pat_put_utf8(&o, 0x399);
		return (size_t)(o - out);
	}
	for (size_t i = 0; i < sizeof upper_long / sizeof upper_long[0]; i++)
		if (upper_long[i].c == c) {
			for (int j = 0; j < 3 && upper_long[i].to[j] != 0; j++)
				pat_put_utf8(&o, upper_long[i].to[j]);
			return (size_t)(o - out);
		}
	return 0;
}

/* event-ruler's equals-ignore-case (its EqualsIgnoreCaseParser): each
 * Java char of the pattern matches the UTF-8 of its String.toLowerCase or
 * its String.toUpperCase (Locale.ROOT).  Those can be longer ("ß" upper
 * is "SS", "İ" lower is "i̇"), and a character outside the BMP is two
 * chars, lone surrogates whose UTF-8 Java writes as '?': it matches
 * "??".  forms[0..2) get the two forms, their lengths in len. */
void
peic_forms(unsigned pc, char forms[2][16], size_t len[2])
{
	char *o;
	locale_t loc = utf8_locale();

	if (pc > 0xffff) {
		memcpy(forms[0], "??", 2);
		len[0] = len[1] = 2;
		memcpy(forms[1], "??", 2);
		return;
	}
	o = forms[0];
	if (pc == 0x130) {
		pat_put_utf8(&o, 'i');
		pat_put_utf8(&o, 0x307);
	} else {
		pat_put_utf8(&o, loc == (locale_t)0 ? pc : (unsigned)towlower_l((wint_t)pc, loc));
	}
	len[0] = (size_t)(o - forms[0]);
	if ((len[1] = upper_special(pc, forms[1])) == 0) {
		o = forms[1];
		pat_put_utf8(&o, loc == (locale_t)0 ? pc : (unsigned)towupper_l((wint_t)pc, loc));
		len[1] = (size_t)(o - forms[1]);
	}
}

unsigned
peic_lower(unsigned c)
{
	locale_t loc = utf8_locale();

	return loc == (locale_t)0 ? c : (unsigned)towlower_l((wint_t)c, loc);
}

/* Matches pattern characters against the start of s; returns the bytes of
 * s consumed, or -1.  No form of a character is a prefix of the other, so
 * the first that fits is the one. */
static long
eic_run(const char *pat, size_t pn, const char *s, size_t n)
{
	const unsigned char *pp = (const unsigned char *)pat, *pe = pp + pn;
	const unsigned char *sp = (const unsigned char *)s, *se = sp + n;
	char forms[2][16];
	size_t len[2];

	while (pp < pe) {
		if (sp >= se)
			return -1;
		unsigned pc = *pp;
		if (pc < 0x80) {
			unsigned lo = pc >= 'A' && pc <= 'Z' ? pc + 32 : pc;
			unsigned up = pc >= 'a' && pc <= 'z' ? pc - 32 : pc;
			if (*sp != lo && *sp != up)
				return -1;
			pp++;
			sp++;
			continue;
		}
		pc = utf8_next(&pp);
		peic_forms(pc, forms, len);
		int k = (size_t)(se - sp) >= len[0] && memcmp(sp, forms[0], len[0]) == 0 ? 0 :
		    (size_t)(se - sp) >= len[1] && memcmp(sp, forms[1], len[1]) == 0 ? 1 : -1;
		if (k < 0)
			return -1;
		sp += len[k];
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
	size_t chars = 0, at = n, took = 0;

	for (size_t i = 0; i < pn; i++)
		chars += ((unsigned char)pat[i] & 0xc0) != 0x80;
	/* A pattern character matches one to three characters of s ("??"
	 * and "ΐ"'s upper case the longest): every start in that reach. */
	while (at > 0 && took < 3 * chars) {
		at--;
		if (((unsigned char)s[at] & 0xc0) == 0x80)
			continue;
		took++;
		if (took >= chars && peic_equal(pat, pn, s + at, n - at))
			return 1;
	}
	return chars == 0;
}

/* event-ruler's IPv4 form ([0-9]+ four times, then Java's parse): decimal
 * octets up to 255, leading zeros allowed ("010" is 10). */
static int
ipv4(const char *p, size_t n, unsigned char out[4])
{
	const char *end = p + n;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		const char *start = p;
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if ((v = v * 10 + (unsigned)(*p - '0')) > 255)
				return 0;
		if (p == start || (i < 3 ? p == end || *p++ != '.' : p != end))
			return 0;
		out[i] = (unsigned char)v;
	}
	return 1;
}

int
pip_parse(const char *p, size_t n, unsigned char out[16])
{
	char buf[64];

	memset(out, 0, 16);
	if (ipv4(p, n, out))
		return 4;
	/* IPv6 as event-ruler takes it: hex digits and colons only (no
	 * dotted tail, no zone), one colon at least */
	if (n == 0 || n >= sizeof buf || memchr(p, ':', n) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)	/* p is not NUL-terminated: no strspn */
		if (!isxdigit((unsigned char)p[i]) && p[i] != ':')
			return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, out) != 1)
		return 0;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(out, mapped, 12) != 0)
		return 6;
	/* Java's InetAddress makes an IPv4-mapped address the IPv4 one */
	memmove(out, out + 12, 4);
	memset(out + 4, 0, 12);
	return 4;
}

/* event-ruler matches an IP range as a range of strings of hex digits (8
 * for IPv4, 32 for IPv6) in an automaton that matches as soon as the
 * digits read decide that the value is inside: so the first 32 bits of
 * an IPv6 address can match an IPv4 range, and an IPv4 address (8 digits)
 * an IPv6 range whose bounds part within them.  v[0..n) are the value's
 * digits, 16 and up for a byte that is no upper-case hex digit. */
int
pip_in(const struct pip *r, const unsigned char *v, size_t n)
{
	size_t d = r->v6 ? 32 : 8, i = 0;

	while (i < d && PIP_NIB(r->lo, i) == PIP_NIB(r->hi, i)) {
		if (i >= n || v[i] != PIP_NIB(r->lo, i))
			return 0;
		i++;
	}
	if (i == d)
		return 1;	/* one address, all its digits read */
	if (i >= n || v[i] > 15)
		return 0;
	unsigned lo = PIP_NIB(r->lo, i), hi = PIP_NIB(r->hi, i);
	if (v[i] > lo && v[i] < hi)
		return 1;
	if (v[i] != lo && v[i] != hi)
		return 0;
	/* on the bound's path: the first digit past it decides */
	const unsigned char *b = v[i] == lo ? r->lo : r->hi;
	int below = v[i] == lo;
	for (i++; i < d; i++) {
		if (i >= n || v[i] > 15)
			return 0;
		if (v[i] != PIP_NIB(b, i))
			return below ? v[i] > PIP_NIB(b, i) : v[i] < PIP_NIB(b, i);
	}
	return 1;		/* the bound itself: bounds are closed */
}

/* The digits pip_in() reads from a value of n bytes at p: those of its
 * address when it is a string that parses as one (string 1), else, for a
 * number, its text as it stands; 0 when nothing of it can match. */
size_t
pip_digits(const char *p, size_t n, int string, unsigned char v[32])
{
	unsigned char a[16];

	if (string) {
		int kind = pip_parse(p, n, a);
		if (kind == 0)
			return 0;	/* its text starts with '"' */
		size_t d = kind == 4 ? 8 : 32;
		for (size_t i = 0; i < d; i++)
			v[i] = (unsigned char)PIP_NIB(a, i);
		return d;
	}
	size_t d = n < 32 ? n : 32;
	for (size_t i = 0; i < d; i++) {
		unsigned char c = (unsigned char)p[i];
		v[i] = c >= '0' && c <= '9' ? (unsigned char)(c - '0') :
		    c >= 'A' && c <= 'F' ? (unsigned char)(c - 'A' + 10) : 16;
	}
	return d;
}
