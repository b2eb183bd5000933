/* The case-folded keys that file equals-ignore-case matchers in a hash
 * map.  A pattern character p matches a value character that is its lower
 * or its upper case (patval.c's eic_char()); folding every character to
 * the lower case of its upper case gives p, tolower(p) and toupper(p) one
 * key whenever fold(tolower(p)) == fold(p) == fold(toupper(p)), and then
 * a matching value has the pattern's key.  A pattern with a character
 * where that does not hold, or whose case Java maps to several
 * characters (ß → SS, ligatures), is left out of the index: it is
 * matched one by one, whatever its rule.  A pattern character outside
 * the BMP matches only the value text "??" (patval.c's eic_forms()): its
 * key is "??".  The key only finds candidates; the matcher decides. */
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#include "pattern_int.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static locale_t loc;

static void
init(void)
{
	loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decodes one code point at p[0..n) (n > 0): *len gets its length; a byte
 * that starts no whole sequence stands for itself, with the bit 1 << 31. */
static unsigned
next(const unsigned char *p, size_t n, size_t *len)
{
	unsigned c = p[0];
	size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	*len = 1;
	if (c < 0x80 || k == 1 || c >= 0xf8 || k > n)
		return c < 0x80 ? c : c | 1u << 31;
	unsigned v = c & (0x3fu >> (k - 1));
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return c | 1u << 31;
		v = v << 6 | (p[i] & 0x3fu);
	}
	*len = k;
	return v;
}

static size_t
put(unsigned c, unsigned char *o)
{
	if (c & 1u << 31) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xc0 | c >> 6);
		o[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xe0 | c >> 12);
		o[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | c >> 18);
	o[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

static unsigned
fold(unsigned c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c > 0xffff || loc == (locale_t)0)
		return c;
	return (unsigned)towlower_l(towupper_l((wint_t)c, loc), loc);
}

/* Java's String.toUpperCase/toLowerCase give several characters for these
 * (SpecialCasing.txt, unconditional mappings). */
static int
special(unsigned c)
{
	return c == 0xdf || c == 0x130 || c == 0x149 || c == 0x1f0 || c == 0x390 ||
	    c == 0x3b0 || c == 0x587 || (c >= 0x1e96 && c <= 0x1e9a) ||
	    (c >= 0x1f50 && c <= 0x1fff) || (c >= 0xfb00 && c <= 0xfb17);
}

static int
foldable(unsigned c)
{
	if (c < 0x80)
		return 1;
	if (c > 0xffff || (c & 1u << 31) || loc == (locale_t)0 || special(c))
		return 0;
	unsigned f = fold(c), lo = (unsigned)towlower_l((wint_t)c, loc);
	unsigned up = (unsigned)towupper_l((wint_t)c, loc);
	return !special(lo) && !special(up) && fold(lo) == f && fold(up) == f;
}

size_t
peic_fold(const char *p, size_t n, char *out, int pattern)
{
	const unsigned char *q = (const unsigned char *)p;
	unsigned char *o = (unsigned char *)out;
	size_t i = 0, len;

	pthread_once(&once, init);
	while (i < n) {
		if (q[i] < 0x80) {
			*o++ = (unsigned char)fold(q[i++]);
			continue;
		}
		unsigned c = next(q + i, n - i, &len);
		i += len;
		if (pattern && c > 0xffff && !(c & 1u << 31)) {
			/* it matches the "??" Java writes for its surrogates */
			*o++ = '?';
			*o++ = '?';
			continue;
		}
		if (pattern && !foldable(c))
			return (size_t)-1;
		o += put((c & 1u << 31) ? c : fold(c), o);
	}
	return (size_t)(o - (unsigned char *)out);
}
