#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "buf.h"
#include "jx.h"
#include "alloc.h"

struct jx {
	jq_state *jq;
	struct buf err;
};

static void
on_error(void *ctx, jv e)
{
	struct buf *b = ctx;

	if (jv_get_kind(e) == JV_KIND_STRING) {
		if (b->n > 0)
			buf_adds(b, "; ");
		buf_adds(b, jv_string_value(e));
	}
	jv_free(e);
}

struct jx *
jx_compile(const char *prog, char **err)
{
	struct jx *x = xcalloc(1, sizeof *x);

	if ((x->jq = jq_init()) == NULL)
		die_oom();
	jq_set_error_cb(x->jq, on_error, &x->err);
	if (!jq_compile(x->jq, prog)) {
		if (x->err.n == 0)
			buf_adds(&x->err, "invalid jq program");
		*err = buf_detach(&x->err);
		jq_teardown(&x->jq);
		free(x);
		return NULL;
	}
	return x;
}

void
jx_free(struct jx *x)
{
	if (x == NULL)
		return;
	jq_teardown(&x->jq);
	buf_free(&x->err);
	free(x);
}

jv
jx_first(struct jx *x, jv v)
{
	jq_start(x->jq, v, 0);
	jv out = jq_next(x->jq);
	/* Drain the rest so the state is clean for the next event. */
	if (jv_is_valid(out)) {
		jv more;
		while (jv_is_valid(more = jq_next(x->jq)))
			jv_free(more);
		jv_free(more);
	}
	return out;
}

char *
jx_key(struct jx *x, const char *json, size_t len, const char **why)
{
	jv v = jv_parse_sized(json, (int)len);

	*why = NULL;

	if (!jv_is_valid(v)) {
		jv_free(v);
		/* the line was validated already: libjq refuses some valid JSON */
		*why = "jq cannot read this JSON (nested deeper than 256 levels, or a lone surrogate)";
		return NULL;
	}
	jv out = jx_first(x, v);
	char *key = NULL;
	switch (jv_get_kind(out)) {
	case JV_KIND_STRING:
		key = strdup(jv_string_value(out));
		break;
	case JV_KIND_NUMBER:
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: {
		jv s = jv_dump_string(jv_copy(out), 0);
		key = strdup(jv_string_value(s));
		jv_free(s);
		break;
	}
	case JV_KIND_INVALID:
		*why = jv_invalid_has_msg(jv_copy(out)) ? "the jq path failed on this event" :
		    "the jq path yields nothing for this event";
		break;
	default:
		*why = "the jq path yields null, an array or an object for this event";
	}
	jv_free(out);
	if (key == NULL && *why == NULL)
		die_oom();
	return key;
}
