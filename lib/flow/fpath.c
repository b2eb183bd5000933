/* fpath — evaluating ASL JSONPaths as Jayway JsonPath does (the library
 * Step Functions runs), with its words when a path selects nothing
 * ("No results for path: $['a']", "Missing property in path $['a']"),
 * and ResultPath's merge. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fpath_filter.h"
#include "fpath_int.h"

struct fev {
	const struct fpq *q;
	const struct fscope *s;
	jv out;			/* the matches */
	char *why;
	size_t nwhy;
	int failed;
};

static void ev(struct fev *e, size_t i, jv node);

jv
fpath_text(jv v)
{
	return jv_dump_string(jv_copy(v), 0);
}

static size_t
app(char *b, size_t n, size_t at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Appends to b[at..n), keeping b terminated; returns the new end. */
static size_t
app(char *b, size_t n, size_t at, const char *fmt, ...)
{
	va_list ap;

	if (at >= n)
		return at;
	va_start(ap, fmt);
	int k = vsnprintf(b + at, n - at, fmt, ap);
	va_end(ap);
	return k < 0 ? at : at + (size_t)k;
}

/* Jayway's text of segment g: ['a'], ['a','b'], [0], [*], .., [?]. */
static size_t
render_seg(const struct fseg *g, char *b, size_t n, size_t at)
{
	switch (g->kind) {
	case FSEG_NAME:
	case FSEG_NAMES:
		at = app(b, n, at, "[");
		for (size_t k = 0; k < g->nnames; k++)
			at = app(b, n, at, "%s'%s'", k ? "," : "", g->names[k]);
		return app(b, n, at, "]");
	case FSEG_INDEX:
	case FSEG_INDEXES:
		at = app(b, n, at, "[");
		for (size_t k = 0; k < g->nidx; k++)
			at = app(b, n, at, "%s%ld", k ? "," : "", g->idx[k]);
		return app(b, n, at, "]");
	case FSEG_SLICE:
		at = app(b, n, at, "[");
		if (g->has_from)
			at = app(b, n, at, "%ld", g->from);
		at = app(b, n, at, ":");
		if (g->has_to)
			at = app(b, n, at, "%ld", g->to);
		return app(b, n, at, "]");
	case FSEG_WILD:
		return app(b, n, at, "[*]");
	case FSEG_SCAN:
		return app(b, n, at, "..");
	case FSEG_FILTER:
		return app(b, n, at, "[?]");
	}
	return at;
}

/* "$" and the segments before upto, as Jayway names a path. */
static size_t
render(const struct fpq *q, size_t upto, char *b, size_t n)
{
	size_t at = app(b, n, 0, "$");

	for (size_t k = 0; k < upto; k++)
		at = render_seg(&q->seg[k], b, n, at);
	return at;
}

/* render() appended to b[at..n); returns the new end. */
static size_t
render_at(const struct fpq *q, size_t upto, char *b, size_t n, size_t at)
{
	if (at >= n)
		return at;
	return at + render(q, upto, b + at, n - at);
}

static const char *
kind_name(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_OBJECT: return "object";
	case JV_KIND_ARRAY: return "array";
	case JV_KIND_STRING: return "string";
	case JV_KIND_NUMBER: return "number";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return "boolean";
	default: return "null";
	}
}

/* Whether the segments before i are all definite: Jayway reports a
 * missing step only then. */
static int
upstream(const struct fev *e, size_t i)
{
	return e->q->first_indef >= i;
}

/* Jayway's error at segment i: "<prefix>$['a']<suffix>". */
static void
fault(struct fev *e, size_t i, const char *prefix, const char *suffix, jv node)
{
	size_t at = app(e->why, e->nwhy, 0, "%s", prefix);

	at = render_at(e->q, i, e->why, e->nwhy, at);
	if (suffix == NULL) {
		jv t = fpath_text(node);
		app(e->why, e->nwhy, at, "%s", jv_string_value(t));
		jv_free(t);
	} else {
		app(e->why, e->nwhy, at, "%s", suffix);
	}
	e->failed = 1;
}

static void
emit(struct fev *e, size_t i, jv node)
{
	if (i + 1 == e->q->n)
		e->out = jv_array_append(e->out, jv_copy(node));
	else
		ev(e, i + 1, node);
}

static void
not_object(struct fev *e, size_t i, jv node)
{
	char frag[256], tail[320];

	if (!upstream(e, i))
		return;
	render_seg(&e->q->seg[i], frag, sizeof frag, 0);
	snprintf(tail, sizeof tail, " but found '%s'", kind_name(node));
	size_t at = app(e->why, e->nwhy, 0, "Expected to find an object with property %s in path ", frag);
	at = render_at(e->q, i, e->why, e->nwhy, at);
	app(e->why, e->nwhy, at, "%s", tail);
	e->failed = 1;
}

static void
ev_name(struct fev *e, size_t i, jv node)
{
	const struct fseg *g = &e->q->seg[i];

	if (jv_get_kind(node) != JV_KIND_OBJECT) {
		not_object(e, i, node);
		return;
	}
	jv v = jv_object_get(jv_copy(node), g->has_key ? jv_copy(g->key) : jv_string(g->names[0]));
	if (!jv_is_valid(v)) {
		jv_free(v);
		if (i + 1 < e->q->n && upstream(e, i))
			fault(e, i + 1, "Missing property in path ", "", node);
		return;
	}
	emit(e, i, v);
	jv_free(v);
}

static void
ev_names(struct fev *e, size_t i, jv node)
{
	const struct fseg *g = &e->q->seg[i];

	if (jv_get_kind(node) != JV_KIND_OBJECT) {
		not_object(e, i, node);
		return;
	}
	jv o = jv_object();
	for (size_t k = 0; k < g->nnames; k++) {
		jv v = jv_object_get(jv_copy(node), jv_string(g->names[k]));
		if (jv_is_valid(v))
			o = jv_object_set(o, jv_string(g->names[k]), v);
		else
			jv_free(v);
	}
	e->out = jv_array_append(e->out, o);	/* a leaf: checked at parse */
}

static int
array_or_fault(struct fev *e, size_t i, jv node)
{
	char pre[300];

	if (jv_get_kind(node) == JV_KIND_ARRAY)
		return 1;
	if (!upstream(e, i))
		return 0;
	if (jv_get_kind(node) == JV_KIND_NULL) {
		fault(e, i, "The path ", " is null", node);
		return 0;
	}
	size_t at = app(pre, sizeof pre, 0, "Filter: ");
	at = render_seg(&e->q->seg[i], pre, sizeof pre, at);
	app(pre, sizeof pre, at, " can only be applied to arrays. Current context is: ");
	app(e->why, e->nwhy, 0, "%s", pre);
	jv t = fpath_text(node);
	app(e->why, e->nwhy, strlen(e->why), "%s", jv_string_value(t));
	jv_free(t);
	e->failed = 1;
	return 0;
}

static void
emit_at(struct fev *e, size_t i, jv node, long k)
{
	jv v = jv_array_get(jv_copy(node), (int)k);

	emit(e, i, v);
	jv_free(v);
}

static void
ev_index(struct fev *e, size_t i, jv node)
{
	const struct fseg *g = &e->q->seg[i];

	if (!array_or_fault(e, i, node))
		return;
	long len = jv_array_length(jv_copy(node));
	for (size_t k = 0; k < g->nidx && !e->failed; k++) {
		long x = g->idx[k] < 0 ? len + g->idx[k] : g->idx[k];
		if (x >= 0 && x < len)
			emit_at(e, i, node, x);
	}
}

static void
ev_slice(struct fev *e, size_t i, jv node)
{
	const struct fseg *g = &e->q->seg[i];

	if (!array_or_fault(e, i, node))
		return;
	long len = jv_array_length(jv_copy(node));
	long from = g->has_from ? g->from : 0, to = g->has_to ? g->to : len;
	if (from < 0)
		from = len + from < 0 ? 0 : len + from;
	if (to < 0)
		to = len + to;
	if (to > len)
		to = len;
	for (long k = from; k < to && !e->failed; k++)
		emit_at(e, i, node, k);
}

/* Every member's value or element, in order. */
static void
children(struct fev *e, size_t i, jv node, void (*fn)(struct fev *, size_t, jv))
{
	if (jv_get_kind(node) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(node));
		for (int k = 0; k < len && !e->failed; k++) {
			jv v = jv_array_get(jv_copy(node), k);
			fn(e, i, v);
			jv_free(v);
		}
	} else if (jv_get_kind(node) == JV_KIND_OBJECT) {
		for (int it = jv_object_iter(node); jv_object_iter_valid(node, it) && !e->failed;
		    it = jv_object_iter_next(node, it)) {
			jv v = jv_object_iter_value(node, it);
			fn(e, i, v);
			jv_free(v);
		}
	}
}

/* "..": the next segment on node and on everything under it, in
 * document order; a filter tests objects only, once each (Jayway). */
static void
scan(struct fev *e, size_t i, jv node)
{
	jv_kind k = jv_get_kind(node);

	if (k != JV_KIND_OBJECT && k != JV_KIND_ARRAY)
		return;
	if (e->q->seg[i + 1].kind != FSEG_FILTER)
		ev(e, i + 1, node);
	else if (k == JV_KIND_OBJECT && fexpr_eval(e->q->seg[i + 1].filter, node, e->s))
		emit(e, i + 1, node);
	children(e, i, node, scan);
}

static void
ev_filter(struct fev *e, size_t i, jv node)
{
	const struct fexpr *x = e->q->seg[i].filter;

	if (jv_get_kind(node) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(node));
		for (int k = 0; k < len && !e->failed; k++) {
			jv v = jv_array_get(jv_copy(node), k);
			if (fexpr_eval(x, v, e->s))
				emit(e, i, v);
			jv_free(v);
		}
	} else if (jv_get_kind(node) == JV_KIND_OBJECT) {
		if (fexpr_eval(x, node, e->s))
			emit(e, i, node);
	} else if (upstream(e, i)) {
		app(e->why, e->nwhy, 0, "Filter: [?] can not be applied to primitives. Current context is: ");
		jv t = fpath_text(node);
		app(e->why, e->nwhy, strlen(e->why), "%s", jv_string_value(t));
		jv_free(t);
		e->failed = 1;
	}
}

static void
ev(struct fev *e, size_t i, jv node)
{
	if (e->failed)
		return;
	switch (e->q->seg[i].kind) {
	case FSEG_NAME: ev_name(e, i, node); break;
	case FSEG_NAMES: ev_names(e, i, node); break;
	case FSEG_INDEX:
	case FSEG_INDEXES: ev_index(e, i, node); break;
	case FSEG_SLICE: ev_slice(e, i, node); break;
	case FSEG_WILD: children(e, i, node, emit); break;
	case FSEG_SCAN: scan(e, i, node); break;
	case FSEG_FILTER: ev_filter(e, i, node); break;
	}
}

/* The common case, a definite path of names and indexes that matches,
 * walked without collecting: 1 and *out, or 0 (then the full walk says
 * why, in Jayway's words). */
static int
direct(const struct fpq *q, jv root, jv *out)
{
	jv cur = jv_copy(root);

	for (size_t k = 0; k < q->n; k++) {
		const struct fseg *g = &q->seg[k];
		if (g->kind == FSEG_NAME && jv_get_kind(cur) == JV_KIND_OBJECT) {
			cur = jv_object_get(cur, g->has_key ? jv_copy(g->key) : jv_string(g->names[0]));
		} else if (g->kind == FSEG_INDEX && jv_get_kind(cur) == JV_KIND_ARRAY) {
			long len = jv_array_length(jv_copy(cur));
			long x = g->idx[0] < 0 ? len + g->idx[0] : g->idx[0];
			if (x < 0 || x >= len) {
				jv_free(cur);
				return 0;
			}
			cur = jv_array_get(cur, (int)x);
		} else {
			jv_free(cur);
			return 0;
		}
		if (!jv_is_valid(cur)) {
			jv_free(cur);
			return 0;
		}
	}
	*out = cur;
	return 1;
}

int
fpq_eval_at(const struct fpq *q, jv root, const struct fscope *s, jv *out, char *why, size_t n)
{
	if (n > 0)
		why[0] = '\0';
	if (q->first_indef == q->n && direct(q, root, out))
		return 0;

	struct fev e = { q, s, jv_array(), why, n, 0 };
	ev(&e, 0, root);
	if (e.failed) {
		jv_free(e.out);
		return 1;
	}
	if (q->first_indef < q->n) {
		*out = e.out;
		return 0;
	}
	if (jv_array_length(jv_copy(e.out)) == 0) {
		size_t at = app(why, n, 0, "No results for path: ");
		render_at(q, q->n, why, n, at);
		jv_free(e.out);
		return 1;
	}
	*out = jv_array_get(e.out, 0);
	return 0;
}

int
fpq_eval(const struct fpq *q, const struct fscope *s, jv *out, char *why, size_t n, jv *root)
{
	jv r;

	switch (q->root) {
	case FROOT_CTX:
		r = jv_copy(s->ctx);
		break;
	case FROOT_VAR:
		r = jv_get_kind(s->vars) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(s->vars), jv_string(q->var)) : jv_invalid();
		if (!jv_is_valid(r)) {
			jv_free(r);
			snprintf(why, n, "The variable '$%s' is not defined", q->var);
			if (root != NULL)
				*root = jv_null();
			return 1;
		}
		break;
	default:
		r = jv_copy(s->input);
		break;
	}
	int rc = fpq_eval_at(q, r, s, out, why, n);
	if (rc != 0 && root != NULL)
		*root = r;
	else
		jv_free(r);
	return rc;
}
