/* json_walk — JSON text walked in place, without building values: the
 * one member walker, value skipper and string unescaper of evkit (the
 * bus's JSONPath lookups and templates, the event log's records). */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json.h"

#define NONE ((size_t)-1)

size_t
json_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

/* The first '"' or '\\' at or after p[i], or n: 16 bytes a step where
 * SSE2 is, since most of an event's bytes are inside strings. */
static size_t
str_stop(const char *p, size_t n, size_t i)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');

	for (; i < n && n - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, q),
		    _mm_cmpeq_epi8(x, bs)));
		if (m != 0)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	while (i < n && p[i] != '"' && p[i] != '\\')
		i++;
	return i;
}

/* Past the string whose opening quote is p[i]. */
static size_t
skip_string(const char *p, size_t n, size_t i)
{
	for (i++; (i = str_stop(p, n, i)) < n; i += 2)
		if (p[i] == '"')
			return i + 1;
	return NONE;
}

/* Past the object or array opened at p[i]; iterative, so depth costs no
 * stack. */
static size_t
skip_container(const char *p, size_t n, size_t i)
{
	size_t depth = 0;

	while (i < n) {
		char c = p[i];
		if (c == '"') {
			i = skip_string(p, n, i);
			if (i == NONE)
				return NONE;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return NONE;
}

size_t
json_skip(const char *p, size_t n, size_t i)
{
	i = json_ws(p, n, i);
	if (i >= n)
		return NONE;
	if (p[i] == '"')
		return skip_string(p, n, i);
	if (p[i] == '{' || p[i] == '[')
		return skip_container(p, n, i);
	size_t start = i;
	while (i < n && strchr(",]} \t\r\n:", p[i]) == NULL)
		i++;
	return i > start ? i : NONE;
}

int
json_member(const char *p, size_t n, size_t *at, size_t *k, size_t *kend, size_t *v, size_t *vend)
{
	size_t i = json_ws(p, n, *at);

	if (i < n && (p[i] == '{' || p[i] == ','))
		i = json_ws(p, n, i + 1);
	if (i >= n || p[i] != '"' || (*kend = skip_string(p, n, i)) == NONE)
		return 0;
	*k = i;
	i = json_ws(p, n, *kend);
	if (i >= n || p[i] != ':')
		return 0;
	*v = json_ws(p, n, i + 1);
	if ((*vend = json_skip(p, n, *v)) == NONE)
		return 0;
	*at = *vend;
	return 1;
}

static unsigned
hex4(const char *s)
{
	unsigned u = 0;

	for (int k = 0; k < 4; k++) {
		char c = s[k];
		u <<= 4;
		if (c >= '0' && c <= '9')
			u |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			u |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			u |= (unsigned)(c - 'A' + 10);
		else
			return 0xFFFD;
	}
	return u;
}

static void
add_utf8(struct buf *out, unsigned u)
{
	char c[4];

	if (u < 0x80) {
		buf_addc(out, (char)u);
		return;
	}
	if (u < 0x800) {
		c[0] = (char)(0xC0 | u >> 6);
		c[1] = (char)(0x80 | (u & 0x3F));
		buf_add(out, c, 2);
	} else if (u < 0x10000) {
		c[0] = (char)(0xE0 | u >> 12);
		c[1] = (char)(0x80 | (u >> 6 & 0x3F));
		c[2] = (char)(0x80 | (u & 0x3F));
		buf_add(out, c, 3);
	} else {
		c[0] = (char)(0xF0 | u >> 18);
		c[1] = (char)(0x80 | (u >> 12 & 0x3F));
		c[2] = (char)(0x80 | (u >> 6 & 0x3F));
		c[3] = (char)(0x80 | (u & 0x3F));
		buf_add(out, c, 4);
	}
}

/* A \u escape at s[i] (i at the 'u'); returns the index past it and
 * sets *lossy when it had no UTF-8 form. */
static size_t
unicode_escape(struct buf *out, const char *s, size_t n, size_t i, int *lossy)
{
	if (i + 5 > n) {
		add_utf8(out, 0xFFFD);
		*lossy = 1;
		return n;
	}
	unsigned u = hex4(s + i + 1);
	i += 5;
	if (u >= 0xD800 && u < 0xDC00 && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') {
		unsigned lo = hex4(s + i + 2);
		if (lo >= 0xDC00 && lo < 0xE000) {
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		}
	}
	if (u >= 0xD800 && u < 0xE000) {
		u = 0xFFFD;	/* a lone surrogate has no UTF-8 form */
		*lossy = 1;
	}
	add_utf8(out, u);
	return i;
}

int
json_unescape(struct buf *out, const char *s, size_t n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	int lossy = 0;

	buf_grow(out, n + 1);
	for (size_t i = 0; i < n;) {
		const char *e = memchr(s + i, '\\', n - i);
		size_t run = e != NULL ? (size_t)(e - s) - i : n - i;
		buf_add(out, s + i, run);
		i += run;
		if (i + 1 >= n)
			break;
		const char *k = strchr(from, s[i + 1]);
		if (s[i + 1] == 'u') {
			i = unicode_escape(out, s, n, i + 1, &lossy);
		} else {
			buf_addc(out, k != NULL && *k != '\0' ? to[k - from] : s[i + 1]);
			i += 2;
		}
	}
	return lossy;
}

int
json_key_is(const char *k, size_t kn, const char *name, size_t len)
{
	if (memchr(k, '\\', kn) == NULL)
		return kn == len && memcmp(k, name, len) == 0;
	struct buf b = { 0 };
	json_unescape(&b, k, kn);
	int same = b.n == len && memcmp(b.p, name, len) == 0;
	buf_free(&b);
	return same;
}

size_t
json_find_member(const char *p, size_t n, size_t i, const char *name, size_t len)
{
	size_t found = NONE, k, kend, v, vend;

	while (json_member(p, n, &i, &k, &kend, &v, &vend))
		if (json_key_is(p + k + 1, kend - k - 2, name, len))
			found = v;	/* keep going: the last duplicate wins */
	return found;
}

size_t
json_find_index(const char *p, size_t n, size_t i, size_t idx)
{
	i = json_ws(p, n, i + 1);
	for (size_t k = 0; i < n && p[i] != ']'; k++) {
		if (k == idx)
			return i;
		size_t end = json_skip(p, n, i);
		if (end == NONE)
			return NONE;
		i = json_ws(p, n, end);
		if (i < n && p[i] == ',')
			i = json_ws(p, n, i + 1);
	}
	return NONE;
}

void
json_compact(struct buf *out, const char *p, size_t n)
{
	buf_grow(out, n);
	for (size_t i = 0; i < n;) {
		if (p[i] == '"') {
			size_t end = json_skip(p, n, i);
			if (end == NONE)
				end = n;
			buf_add(out, p + i, end - i);
			i = end;
		} else if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
			i++;
		} else {
			buf_addc(out, p[i++]);
		}
	}
}

int
json_string_at(const char *p, size_t n, size_t v, struct buf *out)
{
	size_t end;

	if (v >= n || p[v] != '"' || (end = json_skip(p, n, v)) == (size_t)-1)
		return 0;
	buf_reset(out);
	json_unescape(out, p + v + 1, end - v - 2);
	buf_addc(out, '\0');
	out->n--;
	return 1;
}
