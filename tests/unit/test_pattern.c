/* Unit tests of lib/pattern: the pat_ API (which patterns matched, bad
 * lines, error paths) and its value helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pattern/pattern_int.h"
#include "pattern/pattern.h"
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
	CHECK(dec("-0", "0") == 0);	/* BigDecimal has no -0 */
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
	/* Java's one-to-many case forms, and a non-BMP character as "??" */
	CHECK(peic_equal("\xc3\x9f", 2, "SS", 2));	/* ß */
	CHECK(!peic_equal("\xc3\x9f", 2, "ss", 2));
	CHECK(peic_equal("\xc3\x9f", 2, "\xc3\x9f", 2));
	CHECK(peic_suffix("\xc3\x9f" "e", 3, "STRASSE", 7));
	CHECK(!peic_suffix("\xc3\x9f" "e", 3, "SE", 2));
	CHECK(peic_equal("\xf0\x9f\x98\x80", 4, "??", 2));
	CHECK(!peic_equal("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80", 4));
	CHECK(peic_suffix("", 0, "x", 1));
}

/* event-ruler's IP matching: addresses and numbers as hex digits against
 * ranges decided as soon as the digits read allow. */
static void
test_ip(void)
{
	struct pip r;
	unsigned char v[32];
	size_t d;

	memset(&r, 0, sizeof r);
	CHECK(pip_parse("010.0.0.1", 9, r.lo) == 4 && r.lo[0] == 10 && r.lo[3] == 1);
	CHECK(pip_parse("256.0.0.1", 9, r.lo) == 0);
	CHECK(pip_parse("1.2.3", 5, r.lo) == 0);
	CHECK(pip_parse("::ffff:c0a8:1", 13, r.lo) == 4 && r.lo[0] == 192 && r.lo[3] == 1);
	CHECK(pip_parse("::ffff:1.2.3.4", 14, r.lo) == 0);	/* no dotted tail */
	CHECK(pip_parse("2001:db8::1", 11, r.lo) == 6);
	/* 10.0.0.0/8 */
	memset(&r, 0, sizeof r);
	r.lo[0] = r.hi[0] = 10;
	memset(r.hi + 1, 0xff, 3);
	d = pip_digits("10.200.0.1", 10, 1, v);
	CHECK(d == 8 && pip_in(&r, v, d));
	d = pip_digits("a00:1::", 7, 1, v);
	CHECK(d == 32 && pip_in(&r, v, d));
	d = pip_digits("11.0.0.0", 8, 1, v);
	CHECK(!pip_in(&r, v, d));
	CHECK(pip_digits("x", 1, 1, v) == 0);
	d = pip_digits("0A5", 3, 0, v);	/* a number's text: decided at '5' */
	CHECK(pip_in(&r, v, d));
	d = pip_digits("0A0", 3, 0, v);	/* not decided yet */
	CHECK(!pip_in(&r, v, d));
}

static unsigned long long
rnd(void)
{
	static unsigned long long x = 88172645463325252ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* pnum_spans() reads numbers with 32 bytes to spare from bit masks: the
 * same value as byte by byte (no bytes to spare). */
/* pnum_near() within its promised 2.5e-16 of the true value (strtod's,
 * itself within 1.2e-16), and pdec_double() exactly strtod's: what the
 * numeric ranges' quick "surely outside" test stands on.  1 if not. */
static int
check_near(const char *buf, size_t n, size_t avail, const struct pnum *a,
    const struct pdec *d)
{
	char t[100];

	memcpy(t, buf, n);
	t[n] = '\0';
	double want = strtod(t, NULL), got = pnum_near(a, buf + avail), dd = pdec_double(d);
	int bad = dd != want && !(dd == 0 && want == 0);
	if (!isnan(got) && fabs(got - want) > 3.7e-16 * fabs(want))
		bad = 1;
	if (bad)
		printf("# %s: near %.17g, double %.17g, strtod %.17g\n", t, got, dd, want);
	return bad;
}

/* Random nested objects and arrays over four names, for array
 * consistency: values 1 or 2, arrays of up to four values. */
static void
gen_value(struct buf *b, int depth)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (depth == 0 || r < 30) {
		buf_addc(b, (char)('1' + rnd() % 2));
	} else if (r < 65) {
		unsigned keys = 1 + (unsigned)(rnd() % 15);	/* a subset of abcd */
		buf_addc(b, '{');
		for (int k = 0, first = 1; k < 4; k++) {
			if (!(keys >> k & 1))
				continue;
			buf_printf(b, "%s\"%c\":", first ? "" : ",", 'a' + k);
			first = 0;
			gen_value(b, depth - 1);
		}
		buf_addc(b, '}');
	} else {
		buf_addc(b, '[');
		for (unsigned i = 0, n = 1 + (unsigned)(rnd() % 4); i < n; i++) {
			if (i > 0)
				buf_addc(b, ',');
			gen_value(b, depth - 1);
		}
		buf_addc(b, ']');
	}
}

/* A pattern object of one or two of the names, each a leaf or, while
 * depth lasts, an object again: fields share the objects above them. */
static void
gen_pobj(struct buf *b, int depth)
{
	int k1 = (int)(rnd() % 4), k2 = rnd() % 2 ? (k1 + 1 + (int)(rnd() % 3)) % 4 : -1;

	buf_addc(b, '{');
	for (int i = 0; i < 2; i++) {
		int k = i == 0 ? k1 : k2;
		if (k < 0)
			continue;
		buf_printf(b, "%s\"%c\":", i > 0 ? "," : "", 'a' + k);
		if (depth == 0 || rnd() % 3 == 0)
			buf_adds(b, rnd() % 3 == 0 ? "[1,2]" : rnd() % 2 ? "[1]" : "[2]");
		else
			gen_pobj(b, depth - 1);
	}
	buf_addc(b, '}');
}

static void
gen_pattern(struct buf *b)
{
	int top = (int)(rnd() % 4);

	buf_printf(b, "{\"%c%d\":", 'a' + top, top);
	gen_pobj(b, 3);
	if (rnd() % 2) {
		int other = (top + 1) % 4;
		buf_printf(b, ",\"%c%d\":", 'a' + other, other);
		gen_pobj(b, 2);
	}
	buf_addc(b, '}');
}

/* Array consistency decided bottom up (patarr.c) says what the search
 * says, for random events and patterns. */
static void
test_arrays(void)
{
	int differ = 0, matched = 0;

	for (int t = 0; t < 6000; t++) {
		struct pat_set *set = pat_new();
		struct buf b = { 0 };
		char *why;
		for (int i = 0; i < 3; i++) {
			buf_reset(&b);
			gen_pattern(&b);
			if (pat_add(set, b.p, b.n, &why) < 0) {
				printf("# %s: %s\n", b.p, why);
				free(why);
				differ++;
			}
		}
		for (int e = 0; e < 20; e++) {
			struct pat_err err;
			buf_reset(&b);
			for (int k = 0; k < 4; k++) {
				buf_printf(&b, "%c\"%c%d\":", k ? ',' : '{', 'a' + k, k);
				gen_value(&b, 5);
			}
			buf_addc(&b, '}');
			unsigned got[2] = { 0, 0 };
			for (int mode = 0; mode < 2; mode++) {
				pat_search_only = mode;
				int m = pat_match(set, b.p, b.n, 1, &err);
				for (int i = 0; i < m; i++)
					got[mode] |= 1u << pat_hits(set)[i];
			}
			pat_search_only = 0;
			matched += got[0] != 0;
			if (got[0] != got[1] && differ++ < 3)
				printf("# %s: bottom up %x, search %x\n", b.p, got[0], got[1]);
		}
		buf_free(&b);
		pat_free(set);
	}
	CHECK(differ == 0);
	CHECK(matched > 1000);	/* the events do match, often */
}

static void
test_spans(void)
{
	char buf[96];
	int differ = 0, near = 0;

	for (int t = 0; t < 100000; t++) {
		size_t n = 0;
		unsigned r = (unsigned)rnd();
		if (r & 1)
			buf[n++] = '-';
		if (r & 2)
			buf[n++] = '0';
		else
			for (unsigned i = 0, k = 1 + (r >> 8) % 18; i < k; i++)
				buf[n++] = (char)(i == 0 ? '1' + rnd() % 9 : (rnd() & 1) ? '0' : '0' + rnd() % 10);
		if (r & 4) {
			buf[n++] = '.';
			for (unsigned i = 0, k = 1 + (r >> 16) % 18; i < k; i++)
				buf[n++] = (char)((rnd() & 1) ? '0' : '0' + rnd() % 10);
		}
		if ((r & 0x1f0) == 0x10)
			n += (size_t)snprintf(buf + n, 8, "e%d", (int)(rnd() % 40) - 20);
		memset(buf + n, ',', sizeof buf - n);
		struct pnum a, b;
		struct pdec da, db;
		int ra = pnum_spans(buf, n, sizeof buf, &a), rb = pnum_spans(buf, n, n, &b);
		if (ra == 0 && rb == 0) {
			pnum_dec(&a, &da);
			pnum_dec(&b, &db);
		}
		if (ra != rb || (ra == 0 && memcmp(&da, &db, sizeof da) != 0)) {
			if (differ++ == 0)
				printf("# %.*s: %d / %d\n", (int)n, buf, ra, rb);
		}
		if (ra == 0)
			near += check_near(buf, n, sizeof buf, &a, &da) +
			    check_near(buf, n, n, &b, &db);
	}
	CHECK(differ == 0);
	CHECK(near == 0);
}

/* Random arrays of numbers (the shape pat_skim() takes), some with one
 * byte changed: skipped, they must be accepted or refused exactly as when
 * a pattern names them and the scanner reads them byte by byte, with the
 * same error and column. */
static void
test_skim(void)
{
	static const char alpha[] = "0123456789-.,[] e\"}x";
	struct pat_set *skip = pat_new(), *read = pat_new();
	struct pat_err e1, e2;
	char ev[1024];
	int differ = 0, refused[2] = { 0, 0 };

	add(skip, "{\"a\":[\"z\"]}");
	add(read, "{\"g\":[\"z\"]}");
	for (int t = 0; t < 20000; t++) {
		size_t n = (size_t)snprintf(ev, sizeof ev, "{\"g\":[");
		int depth = 1, value = 0;	/* value: one just ended */
		while (n < 700 || !value) {
			unsigned r = (unsigned)(rnd() % 16);
			if (r & 4)
				ev[n++] = ' ';
			if (value && r < 3 && depth > 1) {
				ev[n++] = ']';
				depth--;
			} else if (value) {
				ev[n++] = ',';
				value = 0;
			} else if (r < 2 && depth < 5) {
				ev[n++] = '[';
				depth++;
			} else {
				unsigned long long i = rnd() % (r < 8 ? 10 : 100000);
				n += (size_t)snprintf(ev + n, sizeof ev - n, "%s%llu",
				    r & 1 ? "-" : "", i);
				if (r < 12)
					n += (size_t)snprintf(ev + n, sizeof ev - n, ".%llu",
					    rnd() % 1000000000000ULL);
				value = 1;
			}
		}
		while (--depth > 0)
			ev[n++] = ']';
		n += (size_t)snprintf(ev + n, sizeof ev - n, "]}");
		if (t % 2 == 1)	/* one byte changed */
			ev[7 + rnd() % (n - 9)] = alpha[rnd() % (sizeof alpha - 1)];
		int r1 = pat_match(skip, ev, n, 1, &e1), r2 = pat_match(read, ev, n, 1, &e2);
		if (r1 < 0)
			refused[t % 2]++;
		if (r1 != r2 || (r1 < 0 && (e1.col != e2.col || strcmp(e1.what, e2.what) != 0))) {
			if (differ++ == 0)
				printf("# %d %zu %s / %d %zu %s: %.*s\n", r1, e1.col,
				    r1 < 0 ? e1.what : "", r2, e2.col, r2 < 0 ? e2.what : "",
				    (int)n, ev);
		}
	}
	CHECK(differ == 0);
	CHECK(refused[0] == 0);
	CHECK(refused[1] > 3000 && refused[1] < 7000);
	pat_free(skip);
	pat_free(read);
}

int
main(void)
{
	test_api();
	test_numbers();
	test_comparable_fast();
	test_strings();
	test_ip();
	test_spans();
	test_arrays();
	/* every classifier this CPU has, down to the SSE2 baseline */
	for (int level = pat_skim_best(); level >= 0; level--) {
		pat_skim_level = level;
		test_skim();
	}
	return UNIT_DONE();
}
