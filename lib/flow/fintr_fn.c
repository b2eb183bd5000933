/* fintr_fn — the intrinsic functions themselves, one per States.* name,
 * on evaluated arguments.  A wrong argument count or type, or a value
 * past AWS's limits, is "Invalid arguments in States.X" (fintr_invalid). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/b64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jx.h"
#include "fhash.h"
#include "fintr_int.h"

/* AWS's limits: input characters of Base64Encode, Base64Decode and Hash,
 * elements of ArrayRange's result. */
#define MAX_CHARS 10000
#define MAX_RANGE 1000

typedef int fn_run(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out);

static int
is_kind(jv v, jv_kind k)
{
	return jv_get_kind(v) == k;
}

/* An argument AWS takes as an int: a number in int32's range, truncated
 * toward zero (round: to the nearest, halves up, as Java's Math.round). */
static int
as_int(jv v, int round, int64_t *out)
{
	if (!is_kind(v, JV_KIND_NUMBER))
		return -1;
	double d = jv_number_value(v);
	d = round ? floor(d + 0.5) : trunc(d);
	if (!(d >= INT32_MIN && d <= INT32_MAX))
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* Characters as Java counts them (UTF-16 units), for AWS's 10,000. */
static size_t
java_length(jv s)
{
	const unsigned char *p = (const unsigned char *)jv_string_value(s);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(s)), len = 0;

	for (size_t i = 0; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			len++;
		if (p[i] >= 0xF0)
			len++;	/* outside the BMP: a surrogate pair */
	}
	return len;
}

static jv
string_of(const struct buf *b)
{
	return jv_string_sized(b->n ? b->p : "", (int)b->n);
}

/* How States.Format writes a value: as Java's toString writes it, which
 * AWS was recorded to do ("{Id=arn:..., Name=m}"): strings as they are,
 * also inside arrays ([a, b]) and objects ({k=v}); other scalars as JSON. */
static void
format_value(struct buf *b, jv v)
{
	jv_kind k = jv_get_kind(v);

	if (k == JV_KIND_STRING) {
		buf_add(b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	} else if (k == JV_KIND_ARRAY) {
		buf_addc(b, '[');
		for (int i = 0; i < jv_array_length(jv_copy(v)); i++) {
			jv e = jv_array_get(jv_copy(v), i);
			if (i > 0)
				buf_adds(b, ", ");
			format_value(b, e);
			jv_free(e);
		}
		buf_addc(b, ']');
	} else if (k == JV_KIND_OBJECT) {
		int first = 1;
		buf_addc(b, '{');
		jv_object_foreach(v, key, val) {
			if (!first)
				buf_adds(b, ", ");
			first = 0;
			buf_add(b, jv_string_value(key), (size_t)jv_string_length_bytes(jv_copy(key)));
			buf_addc(b, '=');
			format_value(b, val);
			jv_free(key);
			jv_free(val);
		}
		buf_addc(b, '}');
	} else {
		jv s = jv_dump_string(jv_copy(v), 0);
		buf_adds(b, jv_string_value(s));
		jv_free(s);
	}
}

/* Walks the template t[0..n): \{ \} \\ \' stand for themselves, {} is a
 * placeholder, any other brace is an error.  With args NULL it counts
 * the placeholders; else it writes the text with args[0..] put in.
 * The count, or -1. */
static int
format_walk(const char *t, size_t n, const jv *args, struct buf *b)
{
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c == '\\' && i + 1 < n && strchr("{}\\'", t[i + 1]) != NULL) {
			c = t[++i];
		} else if (c == '{') {
			if (i + 1 >= n || t[i + 1] != '}')
				return -1;
			if (args != NULL)
				format_value(b, args[count]);
			count++;
			i++;
			continue;
		} else if (c == '}') {
			return -1;
		}
		if (args != NULL)
			buf_addc(b, c);
	}
	return count;
}

static int
fn_format(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	const char *t;
	size_t tn;

	if (!is_kind(a[0], JV_KIND_STRING))
		return fintr_invalid(x, n);
	if (n->args[0].kind == FN_STR) {	/* a literal keeps its escapes */
		t = n->args[0].p;
		tn = n->args[0].n;
	} else {
		t = jv_string_value(a[0]);
		tn = (size_t)jv_string_length_bytes(jv_copy(a[0]));
	}
	if (format_walk(t, tn, NULL, NULL) != argc - 1)
		return fintr_invalid(x, n);
	struct buf b = { 0 };
	format_walk(t, tn, a + 1, &b);
	*out = string_of(&b);
	buf_free(&b);
	return 0;
}

/* A blank string is null to AWS (recorded by LocalStack's test_string_to_json). */
static int
fn_string_to_json(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	struct ev_err e;
	jv v;

	(void)argc;
	if (!is_kind(a[0], JV_KIND_STRING))
		return fintr_invalid(x, n);
	const char *s = jv_string_value(a[0]);
	size_t len = (size_t)jv_string_length_bytes(jv_copy(a[0]));
	if (strspn(s, " \t\r\n") == len)
		v = jv_null();
	else if (jx_parse(s, len, &v, &e) != 0)
		return fintr_invalid(x, n);
	*out = v;
	return 0;
}

static int
fn_json_to_string(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)x, (void)n, (void)argc;
	*out = jv_dump_string(jv_copy(a[0]), 0);
	return 0;
}

static int
fn_array(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)x, (void)n;
	*out = jv_array();
	for (int i = 0; i < argc; i++)
		*out = jv_array_append(*out, jv_copy(a[i]));
	return 0;
}

static int
fn_array_partition(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	int64_t size;

	(void)argc;
	if (!is_kind(a[0], JV_KIND_ARRAY) || as_int(a[1], 0, &size) != 0 || size <= 0)
		return fintr_invalid(x, n);
	int len = jv_array_length(jv_copy(a[0]));
	*out = jv_array();
	for (int64_t i = 0; i < len; i += size) {
		int64_t end = i + size < len ? i + size : len;
		*out = jv_array_append(*out, jv_array_slice(jv_copy(a[0]), (int)i, (int)end));
	}
	return 0;
}

static int
fn_array_contains(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)argc;
	if (!is_kind(a[0], JV_KIND_ARRAY))
		return fintr_invalid(x, n);
	int found = 0, len = jv_array_length(jv_copy(a[0]));
	for (int i = 0; i < len && !found; i++)
		found = jv_equal(jv_array_get(jv_copy(a[0]), i), jv_copy(a[1]));
	*out = jv_bool(found);
	return 0;
}

static int
fn_array_range(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	int64_t first, last, step, count = 0;

	(void)argc;
	if (as_int(a[0], 0, &first) != 0 || as_int(a[1], 0, &last) != 0 ||
	    as_int(a[2], 0, &step) != 0 || step == 0)
		return fintr_invalid(x, n);
	if (step > 0 && last >= first)
		count = (last - first) / step + 1;
	else if (step < 0 && last <= first)
		count = (first - last) / -step + 1;
	if (count > MAX_RANGE)
		return fintr_invalid(x, n);
	*out = jv_array();
	for (int64_t i = 0; i < count; i++)
		*out = jv_array_append(*out, jv_number((double)(first + i * step)));
	return 0;
}

/* AWS answers null for any index into an empty array (observed). */
static int
fn_array_get_item(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	int64_t i;

	(void)argc;
	if (!is_kind(a[0], JV_KIND_ARRAY) || as_int(a[1], 0, &i) != 0)
		return fintr_invalid(x, n);
	int len = jv_array_length(jv_copy(a[0]));
	if (len == 0) {
		*out = jv_null();
		return 0;
	}
	if (i < 0 || i >= len)
		return fintr_invalid(x, n);
	*out = jv_array_get(jv_copy(a[0]), (int)i);
	return 0;
}

static int
fn_array_length(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)argc;
	if (!is_kind(a[0], JV_KIND_ARRAY))
		return fintr_invalid(x, n);
	*out = jv_number(jv_array_length(jv_copy(a[0])));
	return 0;
}

/* First-seen order; AWS's own order is its hash set's (observed to put
 * false before true), which no order of the input predicts.  Values are
 * told apart by their JSON text with sorted keys, so that {"a":1,"b":2}
 * and {"b":2,"a":1} are one, and 1.0 is 1, in linear time. */
static int
fn_array_unique(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)argc;
	if (!is_kind(a[0], JV_KIND_ARRAY))
		return fintr_invalid(x, n);
	int len = jv_array_length(jv_copy(a[0]));
	jv seen = jv_object();
	*out = jv_array();
	for (int i = 0; i < len; i++) {
		jv e = jv_array_get(jv_copy(a[0]), i);
		jv key = jv_dump_string(jv_copy(e), JV_PRINT_SORTED);
		if (jv_object_has(jv_copy(seen), jv_copy(key))) {
			jv_free(e);
			jv_free(key);
		} else {
			seen = jv_object_set(seen, key, jv_true());
			*out = jv_array_append(*out, e);
		}
	}
	jv_free(seen);
	return 0;
}

static int
fn_base64_encode(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	struct buf b = { 0 };

	(void)argc;
	if (!is_kind(a[0], JV_KIND_STRING) || java_length(a[0]) > MAX_CHARS)
		return fintr_invalid(x, n);
	b64_encode(&b, (const unsigned char *)jv_string_value(a[0]),
	    (size_t)jv_string_length_bytes(jv_copy(a[0])));
	*out = string_of(&b);
	buf_free(&b);
	return 0;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/* As lenient as AWS: other characters are skipped, '=' ends the input,
 * and a last partial group gives what bytes it holds. */
static int
fn_base64_decode(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	struct buf b = { 0 };
	uint32_t acc = 0;
	int bits = 0;

	(void)argc;
	if (!is_kind(a[0], JV_KIND_STRING) || java_length(a[0]) > MAX_CHARS)
		return fintr_invalid(x, n);
	const char *p = jv_string_value(a[0]);
	size_t len = (size_t)jv_string_length_bytes(jv_copy(a[0]));
	for (size_t i = 0; i < len && p[i] != '='; i++) {
		int v = b64_value(p[i]);
		if (v < 0)
			continue;
		acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(&b, (char)(acc >> bits & 0xFF));
		}
	}
	*out = string_of(&b);
	buf_free(&b);
	return 0;
}

/* AWS hashes a value that is not a string (observed); that it hashes its
 * JSON text is assumed. */
static int
fn_hash(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	char hex[FHASH_HEX_MAX];

	(void)argc;
	if (!is_kind(a[1], JV_KIND_STRING))
		return fintr_invalid(x, n);
	jv data = is_kind(a[0], JV_KIND_STRING) ? jv_copy(a[0]) : jv_dump_string(jv_copy(a[0]), 0);
	int bad = java_length(data) > MAX_CHARS ||
	    fhash_hex(jv_string_value(a[1]), jv_string_value(data),
		(size_t)jv_string_length_bytes(jv_copy(data)), hex) != 0;
	jv_free(data);
	if (bad)
		return fintr_invalid(x, n);
	*out = jv_string(hex);
	return 0;
}

/* Shallow only: AWS refuses a deep merge (the third argument true). */
static int
fn_json_merge(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)argc;
	if (!is_kind(a[0], JV_KIND_OBJECT) || !is_kind(a[1], JV_KIND_OBJECT) ||
	    !is_kind(a[2], JV_KIND_FALSE))
		return fintr_invalid(x, n);
	*out = jv_object_merge(jv_copy(a[0]), jv_copy(a[1]));
	return 0;
}

/* java.util.Random, which a seeded call is assumed to use (AWS runs on
 * Java; no seeded value of AWS's was found to check against). */
struct jrand {
	uint64_t seed;
};

static int32_t
jrand_next(struct jrand *r, int bits)
{
	r->seed = (r->seed * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
	return (int32_t)(uint32_t)(r->seed >> (48 - bits));
}

/* Random.nextInt(bound), bound > 0. */
static int32_t
jrand_int(struct jrand *r, int32_t bound)
{
	int32_t bits, val;

	if ((bound & -bound) == bound)
		return (int32_t)(((int64_t)bound * jrand_next(r, 31)) >> 31);
	do {
		bits = jrand_next(r, 31);
		val = bits % bound;
	} while ((int64_t)bits - val + (bound - 1) > INT32_MAX);
	return val;
}

static int
fn_math_random(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	int64_t start, end, seed = 0;

	if (as_int(a[0], 0, &start) != 0 || as_int(a[1], 0, &end) != 0 || start >= end)
		return fintr_invalid(x, n);
	if (argc > 2 && (!is_kind(a[2], JV_KIND_NUMBER) || !(fabs(jv_number_value(a[2])) < 0x1p63)))
		return fintr_invalid(x, n);
	int64_t span = end - start, v;
	if (argc > 2) {
		seed = (int64_t)trunc(jv_number_value(a[2]));
		struct jrand r = { ((uint64_t)seed ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1) };
		if (span <= INT32_MAX) {
			v = start + jrand_int(&r, (int32_t)span);
		} else {	/* Java's bounded nextInt when the span overflows an int */
			do
				v = jrand_next(&r, 32);
			while (v < start || v >= end);
		}
	} else {
		v = start + (int64_t)(rand64() % (uint64_t)span);
	}
	*out = jv_number((double)v);
	return 0;
}

static int
fn_math_add(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	int64_t l, r;

	(void)argc;
	if (as_int(a[0], 1, &l) != 0 || as_int(a[1], 1, &r) != 0 || l + r < INT32_MIN ||
	    l + r > INT32_MAX)
		return fintr_invalid(x, n);
	*out = jv_number((double)(l + r));
	return 0;
}

static size_t
utf8_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Whether the character s[0..len) is one of the characters of set. */
static int
in_set(const char *s, size_t len, const char *set, size_t setn)
{
	for (size_t i = 0; i < setn; i += utf8_len((unsigned char)set[i]))
		if (i + len <= setn && memcmp(set + i, s, len) == 0 &&
		    utf8_len((unsigned char)set[i]) == len)
			return 1;
	return 0;
}

static int
fn_string_split(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	(void)argc;
	if (!is_kind(a[0], JV_KIND_STRING) || !is_kind(a[1], JV_KIND_STRING))
		return fintr_invalid(x, n);
	const char *s = jv_string_value(a[0]), *set = jv_string_value(a[1]);
	size_t sn = (size_t)jv_string_length_bytes(jv_copy(a[0]));
	size_t setn = (size_t)jv_string_length_bytes(jv_copy(a[1])), start = 0, i = 0;
	*out = jv_array();
	while (i <= sn) {
		size_t len = i < sn ? utf8_len((unsigned char)s[i]) : 0;
		if (i + len > sn)
			len = sn - i;
		if (i == sn || in_set(s + i, len, set, setn)) {
			if (i > start)
				*out = jv_array_append(*out, jv_string_sized(s + start, (int)(i - start)));
			start = i + len;
		}
		if (i == sn)
			break;
		i += len;
	}
	return 0;
}

static int
fn_uuid(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	char u[37];

	(void)x, (void)n, (void)a, (void)argc;
	uuid_v4(u);
	*out = jv_string(u);
	return 0;
}

static const struct {
	const char *name;
	int min, max;	/* the argument count; max -1: no limit */
	fn_run *run;
} fns[] = {
	{ "States.Format", 1, -1, fn_format },
	{ "States.StringToJson", 1, 1, fn_string_to_json },
	{ "States.JsonToString", 1, 1, fn_json_to_string },
	{ "States.Array", 0, -1, fn_array },
	{ "States.ArrayPartition", 2, 2, fn_array_partition },
	{ "States.ArrayContains", 2, 2, fn_array_contains },
	{ "States.ArrayRange", 3, 3, fn_array_range },
	{ "States.ArrayGetItem", 2, 2, fn_array_get_item },
	{ "States.ArrayLength", 1, 1, fn_array_length },
	{ "States.ArrayUnique", 1, 1, fn_array_unique },
	{ "States.Base64Encode", 1, 1, fn_base64_encode },
	{ "States.Base64Decode", 1, 1, fn_base64_decode },
	{ "States.Hash", 2, 2, fn_hash },
	{ "States.JsonMerge", 3, 3, fn_json_merge },
	{ "States.MathRandom", 2, 3, fn_math_random },
	{ "States.MathAdd", 2, 2, fn_math_add },
	{ "States.StringSplit", 2, 2, fn_string_split },
	{ "States.UUID", 0, 0, fn_uuid },
};

int
fintr_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (strlen(fns[i].name) == len && memcmp(fns[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int
fintr_run(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out)
{
	if (argc < fns[n->fn].min || (fns[n->fn].max >= 0 && argc > fns[n->fn].max))
		return fintr_invalid(x, n);
	return fns[n->fn].run(x, n, a, argc, out);
}
