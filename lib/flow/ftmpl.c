/* ftmpl — payload templates (Parameters, ResultSelector, ItemSelector,
 * Assign): "name.$" members take the value of their path or intrinsic
 * function call under "name"; other objects and arrays are templates
 * too, everything else is copied. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

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

/* A template compiled: its member names made once, its paths parsed once,
 * parts without a ".$" member anywhere kept as they are. */
enum tkind { T_CONST, T_PATH, T_INTR, T_BAD, T_OBJECT, T_ARRAY };

struct tnode {
	enum tkind kind;
	jv key;		/* in an object: the member's name in the result */
	jv src;		/* T_CONST: the value; T_PATH, T_INTR: the expression;
			 * T_PATH ... T_BAD: with member, the name with ".$" */
	jv member;
	struct fpq q;
	int parsed;	/* T_PATH: q is src parsed (else fpath_get says why not) */
	struct tnode *kids;
	size_t n;
};

static int
has_dollar(jv t)
{
	int found = 0;

	if (jv_get_kind(t) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(t));
		for (int k = 0; k < len && !found; k++) {
			jv v = jv_array_get(jv_copy(t), k);
			found = has_dollar(v);
			jv_free(v);
		}
		return found;
	}
	if (jv_get_kind(t) != JV_KIND_OBJECT)
		return 0;
	for (int it = jv_object_iter(t); !found && jv_object_iter_valid(t, it);
	    it = jv_object_iter_next(t, it)) {
		jv k = jv_object_iter_key(t, it), v = jv_object_iter_value(t, it);
		found = is_dollar_key(jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k))) ||
		    has_dollar(v);
		jv_free(k);
		jv_free(v);
	}
	return found;
}

static void compile(jv t, struct tnode *nd);

/* A ".$" member named key (consumed) with value v (borrowed). */
static void
compile_member(jv key, jv v, struct tnode *nd)
{
	size_t len = (size_t)jv_string_length_bytes(jv_copy(key));

	nd->key = jv_string_sized(jv_string_value(key), (int)len - 2);
	nd->member = key;
	nd->src = jv_copy(v);
	if (jv_get_kind(v) != JV_KIND_STRING) {
		nd->kind = T_BAD;
	} else if (fintr_is(jv_string_value(v))) {
		nd->kind = T_INTR;
	} else {
		const char *why;
		nd->kind = T_PATH;
		nd->parsed = fpq_parse(jv_string_value(v), &nd->q, &why) == 0;
	}
}

static void
compile_kids(jv t, struct tnode *nd)
{
	if (jv_get_kind(t) == JV_KIND_ARRAY) {
		nd->kind = T_ARRAY;
		nd->n = (size_t)jv_array_length(jv_copy(t));
		nd->kids = xcalloc(nd->n + 1, sizeof *nd->kids);
		for (size_t k = 0; k < nd->n; k++) {
			jv v = jv_array_get(jv_copy(t), (int)k);
			compile(v, &nd->kids[k]);
			jv_free(v);
		}
		return;
	}
	nd->kind = T_OBJECT;
	nd->kids = xcalloc((size_t)jv_object_length(jv_copy(t)) + 1, sizeof *nd->kids);
	for (int it = jv_object_iter(t); jv_object_iter_valid(t, it);
	    it = jv_object_iter_next(t, it)) {
		jv k = jv_object_iter_key(t, it), v = jv_object_iter_value(t, it);
		struct tnode *kid = &nd->kids[nd->n++];
		if (is_dollar_key(jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k)))) {
			compile_member(k, v, kid);
		} else {
			compile(v, kid);
			kid->key = k;
		}
		jv_free(v);
	}
}

static void
compile(jv t, struct tnode *nd)
{
	memset(nd, 0, sizeof *nd);
	nd->key = jv_invalid();
	nd->src = jv_invalid();
	nd->member = jv_invalid();
	if (!has_dollar(t)) {
		nd->kind = T_CONST;
		nd->src = jv_copy(t);
		return;
	}
	compile_kids(t, nd);
}

static void
tnode_free(struct tnode *nd)
{
	for (size_t k = 0; k < nd->n; k++)
		tnode_free(&nd->kids[k]);
	free(nd->kids);
	if (nd->parsed)
		fpq_free(&nd->q);
	jv_free(nd->key);
	jv_free(nd->src);
	jv_free(nd->member);
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

static int run(const struct tnode *nd, const struct fscope *s, jv *out, struct ferr *f);

static int
run_member(const struct tnode *nd, const struct fscope *s, jv *out, struct ferr *f)
{
	const char *member = jv_string_value(nd->member);

	if (nd->kind == T_BAD)
		return ferr_set(f, "States.Runtime", "The value for the field '%s' must be a valid "
		    "JSONPath or a valid intrinsic function call", member);
	const char *expr = jv_string_value(nd->src);
	if (nd->kind == T_INTR) {
		struct targ a = { s, member };
		return fintr_eval(expr, intr_get, &a, out, f);
	}
	if (nd->parsed)
		return fpq_get(&nd->q, expr, s, member, out, f);
	return fpath_get(expr, s, member, out, f);
}

static int
run(const struct tnode *nd, const struct fscope *s, jv *out, struct ferr *f)
{
	if (nd->kind == T_CONST) {
		*out = jv_copy(nd->src);
		return 0;
	}
	if (nd->kind != T_OBJECT && nd->kind != T_ARRAY)
		return run_member(nd, s, out, f);
	jv res = nd->kind == T_OBJECT ? jv_object() : jv_array();
	for (size_t k = 0; k < nd->n; k++) {
		jv nv;
		if (run(&nd->kids[k], s, &nv, f) != 0) {
			jv_free(res);
			return -1;
		}
		if (nd->kind == T_OBJECT)
			res = jv_object_set(res, jv_copy(nd->kids[k].key), nv);
		else
			res = jv_array_append(res, nv);
	}
	*out = res;
	return 0;
}

/* Compiled templates kept per thread by the template value they came
 * from; each keeps a reference to it, so no other value can take its
 * place at that address while it is kept. */
enum { TSLOTS = 256, TMAX_USED = TSLOTS / 2 };

struct tslot {
	jv t;
	struct tnode root;
	int used;
};

static _Thread_local struct tslot *tcache;
static _Thread_local size_t tcache_used;

static int
same_value(jv a, jv b)
{
	return a.kind_flags == b.kind_flags && a.offset == b.offset && a.size == b.size &&
	    a.u.ptr == b.u.ptr;
}

void
ftmpl_cache_clear(void)
{
	if (tcache == NULL)
		return;
	for (size_t i = 0; i < TSLOTS; i++) {
		if (tcache[i].used) {
			tnode_free(&tcache[i].root);
			jv_free(tcache[i].t);
		}
	}
	free(tcache);
	tcache = NULL;
	tcache_used = 0;
}

static const struct tnode *
compiled(jv t)
{
	if (tcache == NULL)
		tcache = xcalloc(TSLOTS, sizeof *tcache);
	size_t h = ((uintptr_t)t.u.ptr >> 4) ^ t.offset ^ (size_t)t.size;
	size_t i = h % TSLOTS;
	for (; tcache[i].used; i = (i + 1) % TSLOTS)
		if (same_value(tcache[i].t, t))
			return &tcache[i].root;
	if (tcache_used >= TMAX_USED) {
		ftmpl_cache_clear();
		return compiled(t);
	}
	tcache[i].used = 1;
	tcache[i].t = jv_copy(t);
	compile(t, &tcache[i].root);
	tcache_used++;
	return &tcache[i].root;
}

int
ftmpl_apply(jv tmpl, const struct fscope *s, const char *field, jv *out, struct ferr *f)
{
	(void)field;	/* the causes name the member, as AWS's do */
	if (jv_get_kind(tmpl) != JV_KIND_OBJECT && jv_get_kind(tmpl) != JV_KIND_ARRAY) {
		*out = jv_copy(tmpl);
		return 0;
	}
	return run(compiled(tmpl), s, out, f);
}
