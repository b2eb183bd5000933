/* ftmpl — payload templates (Parameters, ResultSelector, ItemSelector,
 * Assign): "name.$" members take the value of their path or intrinsic
 * function call under "name"; other objects and arrays are templates
 * too, everything else is copied. */
#include <stdio.h>
#include <string.h>

#include "fintr.h"
#include "fpath_int.h"

enum { MAX_DEPTH = 256 };

static int
is_dollar_key(const char *k, size_t n)
{
	return n >= 2 && k[n - 2] == '.' && k[n - 1] == '$';
}

/* where[at..n): "/" and key with JSON Pointer's escapes (~0, ~1). */
static size_t
add_step(char *where, size_t n, size_t at, const char *key)
{
	if (at + 1 < n)
		where[at++] = '/';
	for (const char *c = key; *c != '\0' && at + 2 < n; c++) {
		if (*c == '~' || *c == '/') {
			where[at++] = '~';
			where[at++] = *c == '~' ? '0' : '1';
		} else {
			where[at++] = *c;
		}
	}
	if (at < n)
		where[at] = '\0';
	return at;
}

static const char *
check_member(const char *key, jv v)
{
	size_t n;
	char *m = fpath_msgbuf(&n);

	if (jv_get_kind(v) == JV_KIND_STRING) {
		const char *s = jv_string_value(v);
		if (fintr_is(s))
			return fintr_check(s);
		if (fpath_check(s, FPATH_PATH) == NULL)
			return NULL;
	}
	snprintf(m, n, "The value for the field '%s' must be a valid JSONPath or a valid "
	    "intrinsic function call", key);
	return m;
}

static const char *
check(jv t, char *where, size_t n, size_t at, int depth)
{
	const char *why = NULL;

	if (depth > MAX_DEPTH)
		return "a template nested too deep";
	if (jv_get_kind(t) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(t));
		for (int k = 0; k < len && why == NULL; k++) {
			char idx[16];
			snprintf(idx, sizeof idx, "%d", k);
			jv v = jv_array_get(jv_copy(t), k);
			why = check(v, where, n, add_step(where, n, at, idx), depth + 1);
			jv_free(v);
		}
		return why;
	}
	if (jv_get_kind(t) != JV_KIND_OBJECT)
		return NULL;
	for (int it = jv_object_iter(t); why == NULL && jv_object_iter_valid(t, it);
	    it = jv_object_iter_next(t, it)) {
		jv k = jv_object_iter_key(t, it), v = jv_object_iter_value(t, it);
		const char *key = jv_string_value(k);
		size_t end = add_step(where, n, at, key);
		if (is_dollar_key(key, strlen(key)))
			why = check_member(key, v);
		else
			why = check(v, where, n, end, depth + 1);
		jv_free(k);
		jv_free(v);
	}
	return why;
}

const char *
ftmpl_check(jv tmpl, const char *field, char *where, size_t n)
{
	if (n == 0)
		return NULL;
	snprintf(where, n, "%s", field);
	size_t at = strlen(where);
	const char *why = check(tmpl, where, n, at, 0);
	if (why == NULL)
		snprintf(where, n, "%s", field);
	return why;
}

struct targ {
	const struct fscope *s;
	const char *member;
};

static int
intr_get(void *arg, const char *path, jv *out, struct ferr *f)
{
	const struct targ *a = arg;

	return fpath_get(path, a->s, a->member, out, f);
}

static int apply(jv t, const struct fscope *s, jv *out, struct ferr *f);

static int
apply_member(const char *key, jv v, const struct fscope *s, jv *out, struct ferr *f)
{
	if (jv_get_kind(v) != JV_KIND_STRING)
		return ferr_set(f, "States.Runtime", "The value for the field '%s' must be a valid "
		    "JSONPath or a valid intrinsic function call", key);
	const char *expr = jv_string_value(v);
	if (fintr_is(expr)) {
		struct targ a = { s, key };
		return fintr_eval(expr, intr_get, &a, out, f);
	}
	return fpath_get(expr, s, key, out, f);
}

static int
apply_object(jv t, const struct fscope *s, jv *out, struct ferr *f)
{
	jv res = jv_object();
	int rc = 0;

	for (int it = jv_object_iter(t); rc == 0 && jv_object_iter_valid(t, it);
	    it = jv_object_iter_next(t, it)) {
		jv k = jv_object_iter_key(t, it), v = jv_object_iter_value(t, it), nv;
		const char *key = jv_string_value(k);
		size_t len = strlen(key);
		if (is_dollar_key(key, len)) {
			rc = apply_member(key, v, s, &nv, f);
			if (rc == 0)
				res = jv_object_set(res, jv_string_sized(key, (int)len - 2), nv);
		} else {
			rc = apply(v, s, &nv, f);
			if (rc == 0)
				res = jv_object_set(res, jv_copy(k), nv);
		}
		jv_free(k);
		jv_free(v);
	}
	if (rc != 0) {
		jv_free(res);
		return -1;
	}
	*out = res;
	return 0;
}

static int
apply(jv t, const struct fscope *s, jv *out, struct ferr *f)
{
	if (jv_get_kind(t) == JV_KIND_OBJECT)
		return apply_object(t, s, out, f);
	if (jv_get_kind(t) != JV_KIND_ARRAY) {
		*out = jv_copy(t);
		return 0;
	}
	int len = jv_array_length(jv_copy(t));
	jv res = jv_array();
	for (int k = 0; k < len; k++) {
		jv v = jv_array_get(jv_copy(t), k), nv;
		int rc = apply(v, s, &nv, f);
		jv_free(v);
		if (rc != 0) {
			jv_free(res);
			return -1;
		}
		res = jv_array_append(res, nv);
	}
	*out = res;
	return 0;
}

int
ftmpl_apply(jv tmpl, const struct fscope *s, const char *field, jv *out, struct ferr *f)
{
	(void)field;	/* the causes name the member, as AWS's do */
	return apply(tmpl, s, out, f);
}
