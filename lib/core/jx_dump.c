/* jx_dump — compact JSON as libjq 1.6's jv_dump_term writes it: strings
 * escaped as jvp_dump_string does (\" \\ \b \f \n \r \t, \u00XX for the
 * other controls and DEL, UTF-8 as is), object members in iteration
 * order, numbers through libjq itself unless a small integer. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jx.h"

/* libjq prints "<skipped: too deep>" past 256 levels; such a value is
 * left to libjq whole. */
enum { MAX_DEPTH = 200 };

static void
dump_string(const char *s, size_t n, struct buf *b)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		char esc[7] = { '\\', 0 };
		switch (c) {
		case '"': case '\\': esc[1] = (char)c; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
			continue;
		}
		buf_add(b, esc, 2);
	}
	buf_add(b, s + run, n - run);
	buf_addc(b, '"');
}

/* An integer below 1e15 is printed by dtoa as its digits alone; anything
 * else (fractions, -0, exponents) is printed by libjq. */
static void
dump_number(jv v, struct buf *b)
{
	double d = jv_number_value(v);

	if (d == floor(d) && fabs(d) < 1e15 && (d != 0 || !signbit(d))) {
		char t[24], *p = t + sizeof t;
		long long x = (long long)d;
		unsigned long long u = x < 0 ? (unsigned long long)-x : (unsigned long long)x;
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10) != 0);
		if (x < 0)
			*--p = '-';
		buf_add(b, p, (size_t)(t + sizeof t - p));
		return;
	}
	jv t = jv_dump_string(jv_copy(v), 0);
	buf_add(b, jv_string_value(t), (size_t)jv_string_length_bytes(jv_copy(t)));
	jv_free(t);
}

/* 0, or -1 when v is nested past MAX_DEPTH or not a value. */
static int
dump(jv v, struct buf *b, int depth)
{
	int rc = 0;

	if (depth > MAX_DEPTH)
		return -1;
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: buf_add(b, "null", 4); return 0;
	case JV_KIND_TRUE: buf_add(b, "true", 4); return 0;
	case JV_KIND_FALSE: buf_add(b, "false", 5); return 0;
	case JV_KIND_NUMBER: dump_number(v, b); return 0;
	case JV_KIND_STRING:
		dump_string(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), b);
		return 0;
	case JV_KIND_ARRAY: {
		int len = jv_array_length(jv_copy(v));
		buf_addc(b, '[');
		for (int k = 0; k < len && rc == 0; k++) {
			if (k > 0)
				buf_addc(b, ',');
			jv e = jv_array_get(jv_copy(v), k);
			rc = dump(e, b, depth + 1);
			jv_free(e);
		}
		buf_addc(b, ']');
		return rc;
	}
	case JV_KIND_OBJECT: {
		int first = 1;
		buf_addc(b, '{');
		for (int it = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, it);
		    it = jv_object_iter_next(v, it)) {
			if (!first)
				buf_addc(b, ',');
			first = 0;
			jv k = jv_object_iter_key(v, it), e = jv_object_iter_value(v, it);
			dump_string(jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k)), b);
			buf_addc(b, ':');
			rc = dump(e, b, depth + 1);
			jv_free(k);
			jv_free(e);
		}
		buf_addc(b, '}');
		return rc;
	}
	default:
		return -1;
	}
}

void
jx_dump(jv v, struct buf *b)
{
	size_t at = b->n;

	if (dump(v, b, 0) == 0)
		return;
	b->n = at;
	b->p[at] = '\0';
	jv t = jv_dump_string(jv_copy(v), 0);
	buf_add(b, jv_string_value(t), (size_t)jv_string_length_bytes(jv_copy(t)));
	jv_free(t);
}

jv
jx_dump_string(jv v)
{
	struct buf b = { 0 };

	jx_dump(v, &b);
	jv s = jv_string_sized(b.p, (int)b.n);
	buf_free(&b);
	jv_free(v);
	return s;
}
