/* Unit tests of lib/pattern: the pat_ API (which patterns matched, bad
 * lines, error paths) and its value helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
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

/* The indexed matchers (wildcards by their literal ends and in linear
 * time, ignore-case by folded key, ranges in a segment tree, blocks by
 * prefix length) against the one-by-one definitions, on random patterns
 * of one kind, many to a set, and random values. */

/* Backtracking over the raw wildcard: the definition, exponential. */
static int
ref_glob(const char *w, size_t wn, const char *s, size_t n)
{
	if (wn == 0)
		return n == 0;
	if (w[0] == '*') {
		for (size_t k = 0; k <= n; k++)
			if (ref_glob(w + 1, wn - 1, s + k, n - k))
				return 1;
		return 0;
	}
	size_t len = w[0] == '\\' ? 2 : 1;
	return n > 0 && w[len - 1] == s[0] && ref_glob(w + len, wn - len, s + 1, n - 1);
}

/* A random string of up to max picks from words. */
static void
gen_words(struct buf *b, const char *const *words, size_t nw, unsigned max)
{
	buf_reset(b);
	for (unsigned i = 0, n = (unsigned)(rnd() % (max + 1)); i < n; i++)
		buf_adds(b, words[rnd() % nw]);
}

/* How many matches the references found, so a test knows it tried some. */
static long diff_hits;

typedef int (*ref_fn)(const char *pat, size_t pn, const char *v, size_t n, int kind);

/* np patterns {"x":[MATCHER]} from make() into one set; each value in
 * vals as {"x":VALUE}: the set's hits must be ref's.  Returns the number
 * of differences. */
static int
diff_set(struct buf *pats, size_t np, const char *const *vals, size_t nv, ref_fn ref,
    const int *kinds, int quiet)
{
	struct pat_set *s = pat_new();
	struct buf ev = { 0 };
	const char *pat = pats->p;
	int bad = 0;

	for (size_t i = 0; i < np; i++, pat += strlen(pat) + 1) {
		char *why = NULL;
		if (pat_add(s, pat, strlen(pat), &why) != (int)i) {
			printf("# refused %s: %s\n", pat, why ? why : "?");
			free(why);
			bad++;
		}
	}
	for (size_t v = 0; v < nv; v++) {
		struct pat_err err;
		buf_reset(&ev);
		buf_printf(&ev, "{\"x\":%s}", vals[v]);
		int m = pat_match(s, ev.p, ev.n, 1, &err);
		pat = pats->p;
		for (size_t i = 0; i < np; i++, pat += strlen(pat) + 1) {
			int want = ref(pat, strlen(pat), vals[v], strlen(vals[v]), kinds[i]);
			diff_hits += want;
			if (want != has_hit(s, m, (uint32_t)i) && bad++ < 5 && !quiet)
				printf("# %s with %s: want %d\n", pat, ev.p, want);
		}
	}
	buf_free(&ev);
	pat_free(s);
	return bad;
}

/* The decoded JSON string inside "…" of text t[0..n) after key k. */
static size_t
inner(const char *t, size_t n, const char *k, char *out)
{
	const char *p = strstr(t, k);
	const char *q = p + strlen(k);
	const char *e = q;

	while (*e != '"')
		e += *e == '\\' ? 2 : 1;
	(void)n;
	return pat_unescape(q, (size_t)(e - q), out);
}

static int
ref_wild(const char *pat, size_t pn, const char *v, size_t n, int kind)
{
	char w[256], s[256];
	size_t wn = inner(pat, pn, "\"wildcard\":\"", w);
	size_t sn = pat_unescape(v + 1, n - 2, s);

	(void)kind;
	return ref_glob(w, wn, s, sn);
}

static void
test_wild_index(void)
{
	static const char *const words[] = { "a", "b", "*", "\\*", "\\\\", "ab" };
	static const char *const vwords[] = { "a", "b", "*", "\\", "ab", "ba" };
	struct buf b = { 0 }, pats = { 0 }, v = { 0 };
	int bad = 0, direct = 0;
	char *vals[40];
	int kinds[60] = { 0 };

	for (int t = 0; t < 300; t++) {
		buf_reset(&pats);
		for (int i = 0; i < 60; i++) {
			do {	/* half start with a star: more than a few filed by a middle run */
				gen_words(&b, words, 6, 6);
				if (i % 2 && (b.n == 0 || b.p[0] != '*')) {
					struct buf star = { 0 };
					buf_addc(&star, '*');
					buf_add(&star, b.p, b.n);
					buf_free(&b);
					b = star;
				}
			} while (pwild_check(b.p ? b.p : "", b.n) != NULL);
			buf_adds(&pats, "{\"x\":[{\"wildcard\":");
			json_add_string(&pats, b.p ? b.p : "", b.n);
			buf_adds(&pats, "}]}");
			buf_addc(&pats, '\0');
		}
		for (int i = 0; i < 40; i++) {
			gen_words(&b, vwords, 6, 8);
			buf_reset(&v);
			json_add_string(&v, b.p ? b.p : "", b.n);
			vals[i] = strdup(v.p);
			/* the raw matcher too */
			char w[64], s[64];
			const char *pat = pats.p;
			for (int k = 0; k < i; k++)
				pat += strlen(pat) + 1;
			size_t wn = inner(pat, strlen(pat), "\"wildcard\":\"", w);
			size_t sn = pat_unescape(v.p + 1, v.n - 2, s);
			direct += pwild_match(w, wn, s, sn) != ref_glob(w, wn, s, sn);
		}
		bad += diff_set(&pats, 60, (const char *const *)vals, 40, ref_wild, kinds, bad > 5);
		for (int i = 0; i < 40; i++)
			free(vals[i]);
	}
	CHECK(direct == 0);
	CHECK(bad == 0);
	buf_free(&b);
	buf_free(&pats);
	buf_free(&v);
	/* anything-but wildcards are kept compiled too */
	struct pat_set *s = pat_new();
	CHECK(add(s, "{\"x\":[{\"anything-but\":{\"wildcard\":[\"a*b\",\"\\\\**\"]}}]}") == 0);
	CHECK(match(s, "{\"x\":\"axxb\"}", 1) == 0);
	CHECK(match(s, "{\"x\":\"*yz\"}", 1) == 0);
	CHECK(match(s, "{\"x\":\"\\\\yz\"}", 1) == 1);
	CHECK(match(s, "{\"x\":\"axxc\"}", 1) == 1);
	pat_free(s);
}

static int
ref_affix(const char *pat, size_t pn, const char *v, size_t n, int kind)
{
	char w[256], s[256];
	size_t wn = inner(pat, pn, kind ? "\"suffix\":\"" : "\"prefix\":\"", w);
	size_t sn = pat_unescape(v + 1, n - 2, s);

	return sn >= wn && memcmp(kind ? s + sn - wn : s, w, wn) == 0;
}

/* Prefixes and suffixes of many lengths, found in one hashing pass. */
static void
test_affix_index(void)
{
	static const char *const words[] = { "a", "b", "ab", "\xc3\xa9", "aaaa" };
	struct buf b = { 0 }, pats = { 0 }, v = { 0 };
	int bad = 0, kinds[60];
	char *vals[40];

	for (int t = 0; t < 300; t++) {
		buf_reset(&pats);
		for (int i = 0; i < 60; i++) {
			kinds[i] = (int)(rnd() % 2);
			do
				gen_words(&b, words, 5, 6);
			while (b.n == 0);
			buf_printf(&pats, "{\"x\":[{\"%s\":", kinds[i] ? "suffix" : "prefix");
			json_add_string(&pats, b.p, b.n);
			buf_adds(&pats, "}]}");
			buf_addc(&pats, '\0');
		}
		for (int i = 0; i < 40; i++) {
			gen_words(&b, words, 5, 10);
			buf_reset(&v);
			json_add_string(&v, b.p ? b.p : "", b.n);
			vals[i] = strdup(v.p);
		}
		bad += diff_set(&pats, 60, (const char *const *)vals, 40, ref_affix, kinds, bad > 5);
		for (int i = 0; i < 40; i++)
			free(vals[i]);
	}
	CHECK(bad == 0);
	buf_free(&b);
	buf_free(&pats);
	buf_free(&v);
}

static int
ref_eic(const char *pat, size_t pn, const char *v, size_t n, int kind)
{
	char w[256], s[256];
	size_t wn = inner(pat, pn, "\"equals-ignore-case\":\"", w);
	size_t sn = pat_unescape(v + 1, n - 2, s);

	return kind == 0 ? peic_equal(w, wn, s, sn) : kind == 1 ? peic_prefix(w, wn, s, sn) :
	    peic_suffix(w, wn, s, sn);
}

static void
test_eic_index(void)
{
	/* case pairs, one-way ones (ſ ı K-sign ς ß), title case, non-BMP */
	static const char *const words[] = { "a", "A", "s", "S", "i", "I", "k", "K",
		"\xc3\xa9", "\xc3\x89", "\xc5\xbf", "\xc4\xb1", "\xe2\x84\xaa", "\xcf\x83",
		"\xcf\x82", "\xce\xa3", "\xc3\x9f", "SS", "\xc7\x85", "\xc7\x86", "\xc7\x84",
		"1", "\xf0\x9f\x98\x80", "\xe2\xb1\xa5", "\xc8\xba",
		/* event-ruler's quirks: ß as SS, ligatures, İ, an emoji as "??" */
		"?", "??", "\xef\xac\x81", "f", "F", "FI", "\xc4\xb0", "i\xcc\x87",
		"\xe1\xba\x9e", "\xce\x90", "\xf0\x9f\x98\x81" };
	struct buf b = { 0 }, pats = { 0 }, v = { 0 };
	int bad = 0;
	char *vals[50];
	int kinds[60];
	static const char *const wrap[][2] = {
		{ "{\"x\":[{\"equals-ignore-case\":", "}]}" },
		{ "{\"x\":[{\"prefix\":{\"equals-ignore-case\":", "}}]}" },
		{ "{\"x\":[{\"suffix\":{\"equals-ignore-case\":", "}}]}" },
	};

	const char *sub[8];

	diff_hits = 0;
	for (int t = 0; t < 300; t++) {
		/* a few words a round, so that values match some patterns */
		for (int i = 0; i < 8; i++)
			sub[i] = words[rnd() % (sizeof words / sizeof *words)];
		buf_reset(&pats);
		for (int i = 0; i < 60; i++) {
			gen_words(&b, sub, 8, 3);
			kinds[i] = (int)(rnd() % 3);
			buf_adds(&pats, wrap[kinds[i]][0]);
			json_add_string(&pats, b.p ? b.p : "", b.n);
			buf_adds(&pats, wrap[kinds[i]][1]);
			buf_addc(&pats, '\0');
		}
		for (int i = 0; i < 50; i++) {
			gen_words(&b, sub, 8, 4);
			buf_reset(&v);
			json_add_string(&v, b.p ? b.p : "", b.n);
			vals[i] = strdup(v.p);
		}
		bad += diff_set(&pats, 60, (const char *const *)vals, 50, ref_eic, kinds, bad > 5);
		for (int i = 0; i < 50; i++)
			free(vals[i]);
	}
	CHECK(bad == 0);
	CHECK(diff_hits > 3000);
	/* ASCII patterns do go to the index, the one-way ones not */
	char key[16];
	CHECK(peic_fold("AbC-1", 5, key, 1) == 5 && memcmp(key, "abc-1", 5) == 0);
	CHECK(peic_fold("\xc3\x89t\xc3\xa9", 5, key, 1) == 5);
	CHECK(peic_fold("\xc3\x9f", 2, key, 1) == 2 && memcmp(key, "ss", 2) == 0);	/* ß */
	CHECK(peic_fold("\xc3\x9f", 2, key, 0) == 2 && memcmp(key, "ss", 2) == 0);
	CHECK(peic_fold("\xc4\xb0", 2, key, 1) == (size_t)-1);	/* İ: i̇ or İ */
	CHECK(peic_fold("\xf0\x9f\x98\x80", 4, key, 1) == 2 && memcmp(key, "??", 2) == 0);
	CHECK(peic_fold("\xef\xac\x81", 3, key, 1) == 2 && memcmp(key, "fi", 2) == 0); /* ﬁ */
	/* few BMP characters keep their patterns out of the index */
	int out = 0;
	for (unsigned c = 0x80; c < 0x10000; c++) {
		char u[4], *o = u;
		if (c >= 0xd800 && c < 0xe000)
			continue;
		pat_put_utf8(&o, c);
		out += peic_fold(u, (size_t)(o - u), key, 1) == (size_t)-1;
	}
	printf("# %d BMP characters not indexed\n", out);
	CHECK(out < 100);
	CHECK(peic_fold("\xc4\xb1", 2, key, 0) == 1 && key[0] == 'i');
	buf_free(&b);
	buf_free(&pats);
	buf_free(&v);
}

static const char *const bounds[] = { "-2", "-1.5", "0", "0.1", "1", "1.5", "2", "10",
	"1e2", "3.5e30", "1e-7", "-1e-7", "123456789.125" };
static const char *const nums[] = { "0", "-0", "0.0", "1", "1.0", "10e-1", "1.5", "15e-1",
	"2", "-1.5", "-2", "-2.5", "0.1", "1e-1", "100", "1e2", "1.0000000000000001", "3.5e30",
	"35e29", "3.4999999999999999e30", "1e-7", "-1e-7", "0.00000001", "10", "9.99", "123456789.125",
	"123456789.12500000001", "99999999999999999", "-3", "1e300", "-1e300", "5", "0.5" };

/* ["op", a] or [">"/">=", a, "<"/"<=", b] with a < b, or ["=", a]. */
static int
ref_num(const char *pat, size_t pn, const char *v, size_t n, int kind)
{
	const char *a = strstr(pat, "\"numeric\":[") + 11;
	char op1[3] = "", op2[3] = "";
	struct pdec x, lo, hi;

	(void)pn, (void)kind;
	if (pdec_parse(v, n, &x) != 0 || !pdec_comparable(v, n, &lo))
		return 0;
	sscanf(a, "\"%2[<>=]\"", op1);
	const char *c1 = strchr(a, ',') + 1, *c2 = strchr(c1, ',');
	size_t l1 = strcspn(c1, ",]");
	pdec_parse(c1, l1, &lo);
	int r1 = pdec_cmp(&x, &lo);
	int ok = strcmp(op1, "=") == 0 ? r1 == 0 : strcmp(op1, "<") == 0 ? r1 < 0 :
	    strcmp(op1, "<=") == 0 ? r1 <= 0 : strcmp(op1, ">") == 0 ? r1 > 0 : r1 >= 0;
	if (c2 != NULL) {
		sscanf(c2 + 1, "\"%2[<>=]\"", op2);
		const char *c3 = strchr(c2 + 1, ',') + 1;
		pdec_parse(c3, strcspn(c3, "]"), &hi);
		int r2 = pdec_cmp(&x, &hi);
		ok = ok && (strcmp(op2, "<") == 0 ? r2 < 0 : r2 <= 0);
	}
	return ok;
}

static void
test_range_index(void)
{
	static const char *const ops[] = { "=", "<", "<=", ">", ">=" };
	size_t nb = sizeof bounds / sizeof *bounds;
	struct buf pats = { 0 };
	int bad = 0, kinds[40] = { 0 }, hits = 0;

	for (int t = 0; t < 400; t++) {
		buf_reset(&pats);
		for (int i = 0; i < 40; i++) {
			size_t a = rnd() % nb, c = rnd() % nb;
			const char *op = ops[rnd() % 5];
			buf_printf(&pats, "{\"x\":[{\"numeric\":[\"%s\",%s", op, bounds[a]);
			if (op[0] == '>' && rnd() % 2) {
				struct pdec da, dc;
				pdec_parse(bounds[a], strlen(bounds[a]), &da);
				pdec_parse(bounds[c], strlen(bounds[c]), &dc);
				if (pdec_cmp(&da, &dc) < 0)
					buf_printf(&pats, ",\"%s\",%s", rnd() % 2 ? "<" : "<=", bounds[c]);
			}
			buf_adds(&pats, "]}]}");
			buf_addc(&pats, '\0');
		}
		bad += diff_set(&pats, 40, nums, sizeof nums / sizeof *nums, ref_num, kinds, bad > 5);
	}
	CHECK(bad == 0);
	/* and the values do fall in ranges */
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		hits += ref_num("{\"x\":[{\"numeric\":[\">\",0,\"<=\",2]}]}", 0, nums[i],
		    strlen(nums[i]), 0);
	CHECK(hits > 8);
	buf_free(&pats);
}

static const char *const addrs4[] = { "10.0.0.0", "10.0.0.1", "10.0.1.2", "10.0.128.7",
	"10.0.255.255", "10.1.0.1", "11.0.0.1", "10.0.127.255", "192.168.1.1", "0.0.0.0",
	"32.1.13.184" };
static const char *const addrs6[] = { "2001:db8::", "2001:db8::1", "2001:db8:0:1::2",
	"2001:db8:8000::7", "2001:db9::1", "::1", "fe80::1", "a00:1::", "a00:80ff::7",
	"c0a8:101::", "a00::", "1000::", "ffff::" };
/* Values as event-ruler reads them too: zero-padded IPv4, IPv4-mapped
 * IPv6, and numbers, whose text is matched as hex digits. */
static const char *const ipvals[] = { "\"010.000.001.002\"", "\"::ffff:a00:1\"",
	"\"::ffff:c0a8:101\"", "\"10.0.0\"", "\"x\"", "10", "100", "10000001", "100000012",
	"1000000000", "192168011", "1.5", "-10", "1E9", "1e2", "2001", "0",
	"20010000000000000000000000000001", "200100000000000000000000000000017E5",
	"1000E1", "10E10" };

/* The reference: the one block the pattern names, built as the compiler
 * builds it, and pip_in() over pip_digits(), patval.c's reading of
 * event-ruler, tried one by one. */
static int
ref_ip(const char *pat, size_t pn, const char *v, size_t n, int kind)
{
	struct pip r;
	unsigned char dig[32];
	const char *q = strchr(pat, '[') + 1;
	char text[64];

	(void)pn, (void)kind;
	q = strchr(q, '"');
	if (strncmp(q, "\"cidr\"", 6) == 0)
		q = strchr(q + 6, '"');
	size_t l = strcspn(q + 1, "/\"");
	memcpy(text, q + 1, l);
	text[l] = '\0';
	memset(&r, 0, sizeof r);
	int k = pip_parse(text, l, r.lo);
	unsigned width = k == 4 ? 32 : 128;
	unsigned bits = q[1 + l] == '/' ? (unsigned)atoi(q + 2 + l) : width;
	memcpy(r.hi, r.lo, 16);
	for (unsigned b = bits; b < width; b++) {
		r.lo[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
		r.hi[b / 8] |= (unsigned char)(0x80u >> (b % 8));
	}
	r.v6 = k == 6;
	int str = v[0] == '"';
	size_t d = pip_digits(v + str, n - 2 * (size_t)str, str, dig);
	return d != 0 && pip_in(&r, dig, d);
}

static void
test_ip_index(void)
{
	struct buf pats = { 0 };
	const char *vals[64];
	int bad = 0, kinds[50] = { 0 }, nv = 0;
	char vbuf[32][64];
	size_t n4 = sizeof addrs4 / sizeof *addrs4, n6 = sizeof addrs6 / sizeof *addrs6;

	for (size_t i = 0; i < n4; i++, nv++)
		vals[nv] = (snprintf(vbuf[nv], 64, "\"%s\"", addrs4[i]), vbuf[nv]);
	for (size_t i = 0; i < n6; i++, nv++)
		vals[nv] = (snprintf(vbuf[nv], 64, "\"%s\"", addrs6[i]), vbuf[nv]);
	for (size_t i = 0; i < sizeof ipvals / sizeof *ipvals; i++)
		vals[nv++] = ipvals[i];
	diff_hits = 0;
	for (int t = 0; t < 400; t++) {
		buf_reset(&pats);
		for (int i = 0; i < 50; i++) {
			int six = rnd() % 3 == 0;
			const char *ad = six ? addrs6[rnd() % n6] : addrs4[rnd() % n4];
			/* IPv6 blocks short enough for IPv4 values and numbers too */
			unsigned bits = six ? (unsigned)(rnd() % 2 ? rnd() % 40 : rnd() % 128) :
			    (unsigned)(rnd() % 32);
			if (rnd() % 4 == 0)
				buf_printf(&pats, "{\"x\":[\"%s\"]}", ad);
			else
				buf_printf(&pats, "{\"x\":[{\"cidr\":\"%s/%u\"}]}", ad, bits);
			buf_addc(&pats, '\0');
		}
		bad += diff_set(&pats, 50, vals, (size_t)nv, ref_ip, kinds, bad > 5);
	}
	CHECK(bad == 0);
	CHECK(diff_hits > 20000);
	/* the quirks the index must keep: an IPv6 address against an IPv4
	 * block by its first 32 bits, an IPv4 one and a number against an
	 * IPv6 block decided within their digits */
	CHECK(ref_ip("{\"x\":[{\"cidr\":\"10.0.0.0/8\"}]}", 0, "\"a00:1::\"", 9, 0));
	CHECK(ref_ip("{\"x\":[{\"cidr\":\"a00::/8\"}]}", 0, "\"10.0.0.1\"", 10, 0));
	CHECK(ref_ip("{\"x\":[{\"cidr\":\"16.0.0.0/8\"}]}", 0, "1012345678", 10, 0));
	buf_free(&pats);
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
	test_wild_index();
	test_affix_index();
	test_eic_index();
	test_range_index();
	test_ip_index();
	/* every classifier this CPU has, down to the SSE2 baseline */
	for (int level = pat_skim_best(); level >= 0; level--) {
		pat_skim_level = level;
		test_skim();
	}
	return UNIT_DONE();
}
