/* The case-folded keys that file equals-ignore-case matchers in a hash
 * map.  A pattern character matches a value text that is one of its two
 * forms, its Java lower or upper case (patval.c's peic_forms()).  A value
 * folds character by character: each to the lower case of every character
 * of its upper case ("ß" → "ss", "ﬁ" → "fi", an emoji → "??").  A pattern
 * character whose two forms fold to the same text has that text as its
 * key; then every value that matches the pattern folds to the pattern's
 * key, whatever event-ruler's rule for the character, and the index finds
 * it.  A character whose forms fold apart (İ: "i̇" and "İ", which folds to
 * "i"; ẞ) leaves its pattern out of the index: matched one by one.  The
 * key only finds candidates; the matcher itself decides. */
#include <string.h>

#include "pattern_int.h"

static unsigned
lower_ascii(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
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
	char *w = (char *)o;

	if (c & 1u << 31) {
		o[0] = (unsigned char)c;
		return 1;
	}
	pat_put_utf8(&w, c);
	return (size_t)((unsigned char *)w - o);
}

/* The fold of code point c: at most 3 characters of 3 bytes, so at most
 * 5 bytes per byte of c's UTF-8. */
static size_t
fold_one(unsigned c, unsigned char *o)
{
	char forms[2][16];
	size_t len[2], k = 0, l;

	if (c < 0x80 || (c & 1u << 31))
		return put(c < 0x80 ? lower_ascii(c) : c, o);
	peic_forms(c, forms, len);
	const unsigned char *u = (const unsigned char *)forms[1], *e = u + len[1];
	for (; u < e; u += l) {
		unsigned x = next(u, (size_t)(e - u), &l);
		k += put(x < 0x80 ? lower_ascii(x) : (x & 1u << 31) ? x : peic_lower(x), o + k);
	}
	return k;
}

static size_t
fold_text(const unsigned char *q, size_t n, unsigned char *o)
{
	size_t i = 0, k = 0, len;

	while (i < n) {
		if (q[i] < 0x80) {
			o[k++] = (unsigned char)lower_ascii(q[i++]);
			continue;
		}
		unsigned c = next(q + i, n - i, &len);
		i += len;
		k += fold_one(c, o + k);
	}
	return k;
}

/* A pattern character's key: the fold its two forms share, or -1. */
static size_t
fold_pattern_char(unsigned c, unsigned char *o)
{
	char forms[2][16];
	unsigned char f0[80], f1[80];
	size_t len[2];

	if (c & 1u << 31)
		return (size_t)-1;
	peic_forms(c, forms, len);
	size_t n0 = fold_text((const unsigned char *)forms[0], len[0], f0);
	size_t n1 = fold_text((const unsigned char *)forms[1], len[1], f1);
	if (n0 != n1 || memcmp(f0, f1, n0) != 0)
		return (size_t)-1;
	memcpy(o, f0, n0);
	return n0;
}

size_t
peic_fold(const char *p, size_t n, char *out, int pattern)
{
	const unsigned char *q = (const unsigned char *)p;
	unsigned char *o = (unsigned char *)out;
	size_t i = 0, len;

	if (!pattern)
		return fold_text(q, n, o);
	while (i < n) {
		if (q[i] < 0x80) {
			*o++ = (unsigned char)lower_ascii(q[i++]);
			continue;
		}
		unsigned c = next(q + i, n - i, &len);
		size_t k = fold_pattern_char(c, o);
		if (k == (size_t)-1)
			return k;
		o += k;
		i += len;
	}
	return (size_t)(o - (unsigned char *)out);
}
