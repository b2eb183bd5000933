/* fchoice — the Choice state's rules: every comparison operator of the
 * States Language, And, Or and Not.  A Variable (or a ...Path operand)
 * that selects nothing is States.Runtime, except for IsPresent; a value
 * of the wrong type makes a comparison false. */
#include <stdio.h>
#include <string.h>

#include "fchoice_int.h"
#include "fpath_int.h"

/* The operators: value type, comparison, whether the operand is a path. */
const struct fchoice_op fchoice_ops[] = {
	{ "StringEquals", FT_STRING, FC_EQ, 0 },
	{ "StringEqualsPath", FT_STRING, FC_EQ, 1 },
	{ "StringLessThan", FT_STRING, FC_LT, 0 },
	{ "StringLessThanPath", FT_STRING, FC_LT, 1 },
	{ "StringGreaterThan", FT_STRING, FC_GT, 0 },
	{ "StringGreaterThanPath", FT_STRING, FC_GT, 1 },
	{ "StringLessThanEquals", FT_STRING, FC_LE, 0 },
	{ "StringLessThanEqualsPath", FT_STRING, FC_LE, 1 },
	{ "StringGreaterThanEquals", FT_STRING, FC_GE, 0 },
	{ "StringGreaterThanEqualsPath", FT_STRING, FC_GE, 1 },
	{ "StringMatches", FT_STRING, FC_MATCH, 0 },
	{ "NumericEquals", FT_NUMBER, FC_EQ, 0 },
	{ "NumericEqualsPath", FT_NUMBER, FC_EQ, 1 },
	{ "NumericLessThan", FT_NUMBER, FC_LT, 0 },
	{ "NumericLessThanPath", FT_NUMBER, FC_LT, 1 },
	{ "NumericGreaterThan", FT_NUMBER, FC_GT, 0 },
	{ "NumericGreaterThanPath", FT_NUMBER, FC_GT, 1 },
	{ "NumericLessThanEquals", FT_NUMBER, FC_LE, 0 },
	{ "NumericLessThanEqualsPath", FT_NUMBER, FC_LE, 1 },
	{ "NumericGreaterThanEquals", FT_NUMBER, FC_GE, 0 },
	{ "NumericGreaterThanEqualsPath", FT_NUMBER, FC_GE, 1 },
	{ "BooleanEquals", FT_BOOLEAN, FC_EQ, 0 },
	{ "BooleanEqualsPath", FT_BOOLEAN, FC_EQ, 1 },
	{ "TimestampEquals", FT_TIMESTAMP, FC_EQ, 0 },
	{ "TimestampEqualsPath", FT_TIMESTAMP, FC_EQ, 1 },
	{ "TimestampLessThan", FT_TIMESTAMP, FC_LT, 0 },
	{ "TimestampLessThanPath", FT_TIMESTAMP, FC_LT, 1 },
	{ "TimestampGreaterThan", FT_TIMESTAMP, FC_GT, 0 },
	{ "TimestampGreaterThanPath", FT_TIMESTAMP, FC_GT, 1 },
	{ "TimestampLessThanEquals", FT_TIMESTAMP, FC_LE, 0 },
	{ "TimestampLessThanEqualsPath", FT_TIMESTAMP, FC_LE, 1 },
	{ "TimestampGreaterThanEquals", FT_TIMESTAMP, FC_GE, 0 },
	{ "TimestampGreaterThanEqualsPath", FT_TIMESTAMP, FC_GE, 1 },
	{ "IsNull", FT_IS_NULL, FC_IS, 0 },
	{ "IsPresent", FT_IS_PRESENT, FC_IS, 0 },
	{ "IsNumeric", FT_NUMBER, FC_IS, 0 },
	{ "IsString", FT_STRING, FC_IS, 0 },
	{ "IsBoolean", FT_BOOLEAN, FC_IS, 0 },
	{ "IsTimestamp", FT_TIMESTAMP, FC_IS, 0 },
	{ NULL, 0, 0, 0 }
};

const struct fchoice_op *
fchoice_op(const char *name)
{
	/* the first letter first: a rule's other members (Variable, Next)
	 * are looked up on every evaluation too */
	for (const struct fchoice_op *o = fchoice_ops; o->name != NULL; o++)
		if (o->name[0] == name[0] && strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* RFC 3339 as AWS takes it: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * an uppercase T and Z.  The instant as seconds since the epoch and
 * nanoseconds. */
int
fchoice_timestamp(const char *s, long long *sec, long *nsec)
{
	int v[6], k = 0;
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { '-', '-', 'T', ':', ':', 0 };
	const char *p = s;

	for (k = 0; k < 6; k++) {
		v[k] = 0;
		for (int d = 0; d < width[k]; d++, p++) {
			if (*p < '0' || *p > '9')
				return 0;
			v[k] = v[k] * 10 + (*p - '0');
		}
		if (sep[k] != 0 && *p++ != sep[k])
			return 0;
	}
	*nsec = 0;
	if (*p == '.') {
		long scale = 100000000;
		if (!(*++p >= '0' && *p <= '9'))
			return 0;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*nsec += scale * (*p - '0');
	}
	int off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] == ':' &&
		    p[3] >= '0' && p[3] <= '9' && p[4] >= '0' && p[4] <= '9'))
			return 0;
		int hh = (p[0] - '0') * 10 + p[1] - '0', mm = (p[3] - '0') * 10 + p[4] - '0';
		if (hh > 23 || mm > 59)
			return 0;
		off = sign * (hh * 3600 + mm * 60);
		p += 5;
	} else {
		return 0;
	}
	if (*p != '\0')
		return 0;
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = v[0], m = v[1], d = v[2];
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap) ||
	    v[3] > 23 || v[4] > 59 || v[5] > 59)
		return 0;
	/* Days from the civil date (Howard Hinnant's algorithm). */
	int yy = m <= 2 ? y - 1 : y;
	long long era = yy / 400;
	long long yoe = yy - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long long days = era * 146097 + doe - 719468;
	*sec = days * 86400 + v[3] * 3600 + v[4] * 60 + v[5] - off;
	return 1;
}

/* StringMatches: * any run of characters, \* a star, \\ a backslash (a
 * lone one at the end is itself); s[0..n) and pat[0..m) may hold NULs. */
int
fchoice_match(const char *s, size_t n, const char *pat, size_t m)
{
	size_t i = 0, j = 0, star = (size_t)-1, mark = 0;

	while (i < n) {
		if (j < m && pat[j] == '*') {
			star = ++j;
			mark = i;
			continue;
		}
		size_t pc = j;
		if (pc + 1 < m && pat[pc] == '\\')
			pc++;
		if (pc < m && pat[pc] == s[i]) {
			j = pc + 1;
			i++;
		} else if (star != (size_t)-1) {
			j = star;
			i = ++mark;
		} else {
			return 0;
		}
	}
	while (j < m && pat[j] == '*')
		j++;
	return j == m;
}

/* Java's String.compareTo, which Step Functions' string comparisons
 * are: by UTF-16 code units, so that a character above U+FFFF sorts
 * before U+E000..U+FFFF (UTF-8's byte order puts it after). */

/* The UTF-16 code unit at s[*i] (a lead surrogate first, then *low). */
static unsigned
utf16_unit(const unsigned char *s, size_t n, size_t *i, unsigned *low)
{
	unsigned c = s[*i], cp;
	size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

	if (*low != 0) {
		unsigned u = *low;
		*low = 0;
		return u;
	}
	cp = len == 1 ? c : c & (0xFF >> (len + 1));
	for (size_t k = 1; k < len && *i + k < n; k++)
		cp = cp << 6 | (s[*i + k] & 0x3F);
	*i += len;
	if (cp < 0x10000)
		return cp;
	cp -= 0x10000;
	*low = 0xDC00 | (cp & 0x3FF);
	return 0xD800 | (cp >> 10);
}

int
fchoice_strcmp(const char *a, size_t la, const char *b, size_t lb)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0;

	while (i < la && i < lb && x[i] == y[i])
		i++;
	/* Back to the start of the character that differs (the bytes
	 * before i are the same in both). */
	while (i > 0 && ((i < la && (x[i] & 0xC0) == 0x80) || (i < lb && (y[i] & 0xC0) == 0x80)))
		i--;
	size_t ia = i, ib = i;
	unsigned lowa = 0, lowb = 0;
	while ((ia < la || lowa != 0) && (ib < lb || lowb != 0)) {
		unsigned ua = utf16_unit(x, la, &ia, &lowa), ub = utf16_unit(y, lb, &ib, &lowb);
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
	int ea = ia >= la && lowa == 0, eb = ib >= lb && lowb == 0;
	return ea && eb ? 0 : ea ? -1 : 1;
}
