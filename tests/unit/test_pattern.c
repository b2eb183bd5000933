/* Unit tests of lib/pattern: the pat_ API (which patterns matched, bad
 * lines, error paths) and its value helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patint.h"
#include "pattern.h"
#include "unit.h"

static int
add(struct pat_set *s, const char *p)
{
	char *why = NULL;
	int r = pat_add(s, p, strlen(p), &why);

	free(why);
	return r;
}

static int
match(struct pat_set *s, const char *ev, int all)
{
	struct pat_err e;

	return pat_match(s, ev, strlen(ev), all, &e);
}

static int
has_hit(struct pat_set *s, int n, uint32_t want)
{
	for (int i = 0; i < n; i++)
		if (pat_hits(s)[i] == want)
			return 1;
	return 0;
}

static void
test_api(void)
{
	struct pat_set *s = pat_new();
	struct pat_err e;
	char *why = NULL;

	CHECK(add(s, "{\"a\":[\"x\"]}") == 0);
	CHECK(add(s, "{\"a\":[{\"prefix\":\"x\"}],\"b\":[1]}") == 1);
	CHECK(add(s, "{\"c\":[{\"exists\":false}]}") == 2);
	CHECK(pat_add(s, "{\"a\":[{\"prefix\":1}]}", 20, &why) == -1);
	CHECK_STR(why, "at .a[0].prefix: prefix match pattern must be a string");
	free(why);
	CHECK(pat_count(s) == 3);
	int n = match(s, "{\"a\":\"x\",\"b\":1.0}", 1);
	CHECK(n == 3);
	CHECK(has_hit(s, n, 0) && has_hit(s, n, 1) && has_hit(s, n, 2));
	n = match(s, "{\"a\":\"xy\",\"b\":1,\"c\":0}", 1);
	CHECK(n == 1 && pat_hits(s)[0] == 1);
	CHECK(match(s, "{\"a\":\"x\",\"b\":1.0}", 0) == 1);
	CHECK(match(s, "{\"c\":{}}", 1) == 1);
	CHECK(pat_match(s, "{\"a\":}", 6, 1, &e) == -1 && e.col == 6);
	CHECK(pat_match(s, "[]", 2, 1, &e) == -1 && e.col == 1);
	pat_free(s);
}

static int
dec(const char *a, const char *b)
{
	struct pdec x, y;

	pdec_parse(a, strlen(a), &x);
	pdec_parse(b, strlen(b), &y);
	return pdec_cmp(&x, &y);
}

static int
comparable(const char *t)
{
	struct pdec k;

	return pdec_comparable(t, strlen(t), &k);
}

static void
test_numbers(void)
{
	CHECK(dec("300", "3.0e2") == 0);
	CHECK(dec("0.001", "1e-3") == 0);
	CHECK(dec("-1", "-0") < 0);
	CHECK(dec("-0", "0") < 0);
	CHECK(dec("0.0", "0") == 0);
	CHECK(dec("10", "9.99") > 0);
	CHECK(dec("-10", "-9.99") < 0);
	CHECK(dec("1e300", "1e-300") > 0);
	CHECK(comparable("301.8"));
	CHECK(comparable("-122.47993568221338"));
	CHECK(!comparable("0.30000000000000001"));
	CHECK(!comparable("123456789012345678"));
	CHECK(!comparable("1e400"));
	CHECK(!comparable("1e-400"));
}

/* The 128-bit shortest-decimal test against printf/strtod, on numbers
 * of 16 to 18 digits, half of them nudged off their shortest form. */
static void
test_comparable_fast(void)
{
	long n = 0, bad = 0;
	char buf[64];

	srand48(42);
	for (long i = 0; i < 200000; i++) {
		double v = i % 3 == 0 ? (drand48() - 0.5) * 400 :
		    i % 3 == 1 ? ldexp(drand48(), (int)(lrand48() % 120) - 60) :
		    1e15 + drand48() * 9e16;
		snprintf(buf, sizeof buf, "%.*e", 15 + (int)(lrand48() % 3), v);
		char *e = strchr(buf, 'e');
		if (lrand48() % 2 && e != NULL && e[-1] >= '1' && e[-1] <= '8')
			e[-1] = (char)(e[-1] + (lrand48() % 2 ? 1 : -1));
		struct pdec t, k1, k2;
		if (pdec_parse(buf, strlen(buf), &t) < 0 || t.nd < 16)
			continue;
		n++;
		if (pdec_comparable(buf, strlen(buf), &k1) !=
		    pdec_comparable_slow(buf, strlen(buf), &t, strtod(buf, NULL), &k2))
			bad++;
	}
	CHECK(n > 100000);
	CHECK(bad == 0);
}

static void
test_strings(void)
{
	CHECK(pwild_match("a*b", 3, "axxb", 4));
	CHECK(!pwild_match("a*b", 3, "axxc", 4));
	CHECK(pwild_match("*", 1, "", 0));
	CHECK(pwild_match("h\\*o", 4, "h*o", 3));
	CHECK(!pwild_match("h\\*o", 4, "hxo", 3));
	CHECK(pwild_check("a**", 3) != NULL);
	CHECK(pwild_check("a\\", 2) != NULL);
	CHECK(pwild_check("a\\x", 3) != NULL);
	CHECK(pwild_check("a\\\\*", 4) == NULL);
	CHECK(peic_equal("abc", 3, "ABC", 3));
	CHECK(peic_equal("\xc3\xa9", 2, "\xc3\x89", 2));	/* é É */
	CHECK(!peic_equal("\xcf\x83", 2, "\xcf\x82", 2));	/* σ ς */
	CHECK(peic_prefix("ev", 2, "EVENT", 5));
	CHECK(peic_suffix("nt", 2, "EVENT", 5));
	CHECK(!peic_suffix("xnt", 3, "nt", 2));
}

int
main(void)
{
	test_api();
	test_numbers();
	test_comparable_fast();
	test_strings();
	return UNIT_DONE();
}
