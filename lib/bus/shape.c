/* shape — one target's input shaping, compiled once (see shape.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jx.h"
#include "core/alloc.h"
#include "shape_int.h"

enum { S_PATH, S_TRANSFORMER, S_JQ };

static char *whyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct shape {
	int kind;
	struct jpath path;	/* S_PATH */
	struct var *vars;	/* S_TRANSFORMER */
	size_t nvars;
	struct tmpl tmpl;
	struct jx *jq;		/* S_JQ */
};

static struct shape *
shape_alloc(int kind)
{
	struct shape *sh = xcalloc(1, sizeof *sh);

	sh->kind = kind;
	return sh;
}

static char *
whyf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		len = 0;
	s = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return s;
}

struct shape *
shape_path(const char *path, char **why)
{
	struct shape *sh = shape_alloc(S_PATH);
	const char *what;

	if (jpath_parse(path, &sh->path, &what) < 0) {
		*why = whyf("input_path: %s (got \"%s\")", what, path);
		free(sh);
		return NULL;
	}
	return sh;
}

/* One input_paths_map member; its name as PutTargets allows it. */
static int
add_var(struct shape *sh, const char *name, jv path, char **why)
{
	const char *what;
	size_t len = strlen(name);

	if (len == 0 || len > 256 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
		*why = whyf("input_paths_map.%s: a name is 1 to 256 of [A-Za-z0-9_-]", name);
		return -1;
	}
	if (jv_get_kind(path) != JV_KIND_STRING) {
		*why = whyf("input_paths_map.%s: a JSONPath must be a string", name);
		return -1;
	}
	struct var *v = &sh->vars[sh->nvars];
	if (strlen(jv_string_value(path)) > 256)
		what = "longer than 256 characters";
	else if (jpath_parse(jv_string_value(path), &v->path, &what) == 0)
		what = NULL;
	if (what != NULL) {
		*why = whyf("input_paths_map.%s: %s", name, what);
		return -1;
	}
	v->name = xstrdup(name);
	sh->nvars++;
	return 0;
}

static int
add_vars(struct shape *sh, jv map, char **why)
{
	int r = 0;

	if (jv_get_kind(map) == JV_KIND_NULL || jv_get_kind(map) == JV_KIND_INVALID)
		return 0;
	if (jv_get_kind(map) != JV_KIND_OBJECT) {
		*why = whyf("input_paths_map: must be an object");
		return -1;
	}
	int count = jv_object_length(jv_copy(map));
	if (count > 100) {
		*why = whyf("input_paths_map: at most 100 paths");
		return -1;
	}
	sh->vars = xcalloc((size_t)count + 1, sizeof *sh->vars);
	jv_object_foreach(jv_copy(map), key, path) {
		if (r == 0)
			r = add_var(sh, jv_string_value(key), path, why);
		jv_free(key);
		jv_free(path);
	}
	return r;
}

struct shape *
shape_transformer(jv map, const char *tmpl, char **why)
{
	struct shape *sh = shape_alloc(S_TRANSFORMER);

	if (add_vars(sh, map, why) < 0 || tmpl_compile(&sh->tmpl, tmpl, sh->vars, sh->nvars, why) < 0) {
		shape_free(sh);
		return NULL;
	}
	return sh;
}

struct shape *
shape_jq(const char *prog, char **why)
{
	struct shape *sh = shape_alloc(S_JQ);
	struct ev_err e;

	if (jx_compile(prog, &sh->jq, &e) != 0) {
		*why = whyf("jq: %s", e.msg);
		free(sh);
		return NULL;
	}
	return sh;
}

void
shape_free(struct shape *sh)
{
	if (sh == NULL)
		return;
	jpath_free(&sh->path);
	for (size_t i = 0; i < sh->nvars; i++) {
		free(sh->vars[i].name);
		jpath_free(&sh->vars[i].path);
	}
	free(sh->vars);
	tmpl_free(&sh->tmpl);
	jx_free(sh->jq);
	free(sh);
}

/* The jq program's first output; none is nothing to deliver.  An event
 * libjq cannot take fails the delivery, as a runtime error does. */
static int
apply_jq(struct shape *sh, const char *ev, size_t n, struct buf *out, char **why)
{
	struct ev_err e;
	jv r;
	int rc = jx_eval(sh->jq, ev, n, JX_FIRST, &r, &e);

	if (rc == EV_NONE)
		return SHAPE_SKIP;
	if (rc != 0) {
		*why = whyf("jq: %s", e.msg);
		return -1;
	}
	jv text = jv_dump_string(r, 0);
	buf_adds(out, jv_string_value(text));
	jv_free(text);
	return SHAPE_JSON;
}

int
shape_apply(struct shape *sh, const char *ev, size_t n, const struct shape_ctx *ctx,
    struct buf *out, char **why)
{
	const char *v;
	size_t vn;

	if (sh == NULL) {
		buf_add(out, ev, n);
		return SHAPE_JSON;
	}
	switch (sh->kind) {
	case S_PATH:
		if (jpath_find(&sh->path, ev, n, &v, &vn))
			buf_add(out, v, vn);
		else
			buf_adds(out, "null");
		return SHAPE_JSON;
	case S_TRANSFORMER:
		tmpl_render(&sh->tmpl, sh->vars, ev, n, ctx, out);
		return sh->tmpl.json ? SHAPE_JSON : SHAPE_TEXT;
	default:
		return apply_jq(sh, ev, n, out, why);
	}
}
