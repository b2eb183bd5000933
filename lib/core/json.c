#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json.h"

/* Decodes one UTF-8 sequence at p (p < end, *p >= 0x80).  Returns its
 * length, or 0 if it is malformed; *cp gets the code point. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
	unsigned c = p[0], min;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t
utf8_check(const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		if (*p < 0x80) {
			if ((flags & JSON_SQS_CHARS) && *p < 0x20 &&
			    *p != '\t' && *p != '\n' && *p != '\r')
				return (size_t)(p - (const unsigned char *)s) + 1;
			p++;
			continue;
		}
		unsigned cp;
		size_t len = utf8_seq(p, end, &cp);
		if (len == 0 || ((flags & JSON_SQS_CHARS) && (cp == 0xfffe || cp == 0xffff)))
			return (size_t)(p - (const unsigned char *)s) + 1;
		p += len;
	}
	return 0;
}

struct scan {
	const unsigned char *p, *start, *end;
	int flags;
	struct json_err *err;
	int spaced;		/* white space seen between tokens */
};

static int
fail(struct scan *s, const unsigned char *at, const char *what)
{
	s->err->col = (size_t)(at - s->start) + 1;
	s->err->what = what;
	return 0;
}

static inline void
skip_ws(struct scan *s)
{
	/* compact JSON has none: one test says so */
	while (s->p < s->end && *s->p <= ' ' &&
	    (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
		s->p++;
		s->spaced = 1;
	}
}

static int
is_hex(unsigned c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Past the printable ASCII other than '"' and '\\' from p on, which a
 * string needs no look at: 16 bytes a step where SSE2 is (most of an
 * event's bytes are in such runs). */
static const unsigned char *
plain_run(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(0x1f), q = _mm_set1_epi8('"'),
	    bs = _mm_set1_epi8('\\');

	for (; end - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* signed: 0x20..0x7f are the bytes above 0x1f */
		__m128i stop = _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(stop,
		    _mm_cmpgt_epi8(x, sp))) ^ 0xffff;
		if (m != 0)
			return p + __builtin_ctz(m);
	}
#endif
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* s->p is just past the opening quote. */
static int
scan_string(struct scan *s)
{
	const unsigned char *p = s->p, *end = s->end;

	for (;;) {
		p = plain_run(p, end);
		if (p >= end)
			return fail(s, p, "unterminated string");
		unsigned c = *p;
		if (c == '"') {
			s->p = p + 1;
			return 1;
		}
		if (c == '\\') {
			if (p + 1 >= end)
				return fail(s, p, "unterminated string");
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) ||
				    !is_hex(p[4]) || !is_hex(p[5]))
					return fail(s, p, "invalid \\u escape");
				p += 6;
				continue;
			default:
				return fail(s, p, "invalid escape in string");
			}
		}
		if (c < 0x20)
			return fail(s, p, "control character in string");
		unsigned cp;
		size_t len = utf8_seq(p, end, &cp);
		if (len == 0)
			return fail(s, p, "invalid UTF-8");
		if ((s->flags & JSON_SQS_CHARS) && (cp == 0xfffe || cp == 0xffff))
			return fail(s, p, "character not allowed in a message (U+FFFE or U+FFFF)");
		p += len;
	}
}

/* scan_string() for the usual short plain string, whose closing quote
 * is the first special byte of the 16 at s->p: one look, no call. */
static inline int
scan_string_fast(struct scan *s)
{
#ifdef __SSE2__
	const unsigned char *p = s->p;

	if (s->end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i stop = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
		    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(stop,
		    _mm_cmpgt_epi8(x, _mm_set1_epi8(0x1f)))) ^ 0xffff;
		if (m != 0 && p[__builtin_ctz(m)] == '"') {
			s->p = p + __builtin_ctz(m) + 1;
			return 1;
		}
	}
#endif
	return scan_string(s);
}

static int
scan_digits(struct scan *s)
{
	const unsigned char *q = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > q;
}

static int
scan_number(struct scan *s)
{
	const unsigned char *at = s->p;

	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!scan_digits(s))
		return fail(s, at, "invalid number");
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!scan_digits(s))
			return fail(s, at, "invalid number");
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return fail(s, at, "invalid number");
	}
	return 1;
}

static int
scan_literal(struct scan *s, const char *word, size_t len)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
		return fail(s, s->p, "invalid literal");
	s->p += len;
	return 1;
}

/* Scans one scalar or the opening of a container at s->p. */
static int
scan_scalar(struct scan *s)
{
	switch (*s->p) {
	case '"':
		s->p++;
		return scan_string_fast(s);
	case 't':
		return scan_literal(s, "true", 4);
	case 'f':
		return scan_literal(s, "false", 5);
	case 'n':
		return scan_literal(s, "null", 4);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return scan_number(s);
	default:
		return fail(s, s->p, "unexpected character");
	}
}

int
json_validate(const char *text, size_t n, int flags, struct json_err *err)
{
	int spaced;

	return json_validate_spaced(text, n, flags, err, &spaced);
}

int
json_validate_spaced(const char *text, size_t n, int flags, struct json_err *err, int *spaced)
{
	struct scan s = { (const unsigned char *)text, (const unsigned char *)text,
	    (const unsigned char *)text + n, flags, err, 0 };
	unsigned char stack[JSON_MAX_DEPTH / 8 + 1];	/* bit set: 1 = object */
	size_t depth = 0;
	int kind;

	skip_ws(&s);
	if (s.p >= s.end)
		return fail(&s, s.p, "empty value");
	kind = *s.p == '-' || (*s.p >= '0' && *s.p <= '9') ? '0' : *s.p;
	for (;;) {
		/* Expect a value. */
		skip_ws(&s);
		if (s.p >= s.end)
			return fail(&s, s.p, "unexpected end of input");
		if (*s.p == '{' || *s.p == '[') {
			if (depth >= JSON_MAX_DEPTH)
				return fail(&s, s.p, "nesting too deep");
			int obj = *s.p == '{';
			if (obj)
				stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
			else
				stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
			depth++;
			s.p++;
			skip_ws(&s);
			if (s.p < s.end && *s.p == (obj ? '}' : ']')) {
				s.p++;
				depth--;
				goto after_value;
			}
			if (obj)
				goto member_key;
			continue;
		}
		if (!scan_scalar(&s))
			return 0;
after_value:
		/* A value ended: close containers or move to the next element. */
		for (;;) {
			skip_ws(&s);
			if (depth == 0) {
				if (s.p != s.end)
					return fail(&s, s.p, "trailing characters after the value");
				*spaced = s.spaced;
				return kind;
			}
			int obj = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
			if (s.p >= s.end)
				return fail(&s, s.p, "unexpected end of input");
			if (*s.p == (obj ? '}' : ']')) {
				s.p++;
				depth--;
				continue;
			}
			if (*s.p != ',')
				return fail(&s, s.p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
			s.p++;
			if (!obj)
				break;
member_key:
			skip_ws(&s);
			if (s.p >= s.end || *s.p != '"')
				return fail(&s, s.p, "expected a string key");
			s.p++;
			if (!scan_string_fast(&s))
				return 0;
			skip_ws(&s);
			if (s.p >= s.end || *s.p != ':')
				return fail(&s, s.p, "expected ':'");
			s.p++;
			break;
		}
	}
}

void
json_add_string(struct buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)str, *end = p + n;

	buf_grow(b, n + 2);
	buf_addc(b, '"');
	while (p < end) {
		const unsigned char *q = p;
		while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
			q++;
		if (q > p)
			buf_add(b, p, (size_t)(q - p));
		p = q;
		if (p >= end)
			break;
		unsigned c = *p, cp;
		if (c >= 0x80) {
			size_t len = utf8_seq(p, end, &cp);
			if (len == 0) {
				buf_add(b, "\xef\xbf\xbd", 3);
				p++;
			} else {
				buf_add(b, p, len);
				p += len;
			}
			continue;
		}
		char esc[7] = "\\u00";
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
		}
		p++;
	}
	buf_addc(b, '"');
}
