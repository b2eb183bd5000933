#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "buf.h"
#include "cli.h"
#include "fold.h"
#include "msg.h"
#include "out.h"

struct fold {
	jq_state *jq;
	jv state;
};

static void
compile_error(void *ctx, jv msg)
{
	(void)ctx;
	if (jv_get_kind(msg) != JV_KIND_STRING)
		msg = jv_dump_string(msg, 0);
	msg_error("--fold: %s", jv_string_value(msg));
	jv_free(msg);
}

struct fold *
fold_new(const char *prog, const char *init)
{
	struct fold *f = calloc(1, sizeof *f);
	struct buf b = { 0 };

	if (f == NULL || (f->jq = jq_init()) == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	jq_set_error_cb(f->jq, compile_error, NULL);
	/* One compile for the whole run: the pair [state, event] comes in
	 * as the input and is taken apart into the two variables. */
	buf_printf(&b, ". as [$state, $event] | $state | (%s\n)", prog);
	if (!jq_compile(f->jq, b.p))
		cli_usage_error("--fold: invalid jq program");
	buf_free(&b);
	f->state = jv_parse(init);
	if (!jv_is_valid(f->state)) {
		jv m = jv_invalid_get_msg(f->state);
		cli_usage_error("--init: invalid JSON: %s",
		    jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
	}
	return f;
}

void
fold_step(struct fold *f, const char *event, size_t n, const char *where)
{
	jv ev = jv_parse_sized(event, (int)n), out, last = jv_null();

	if (!jv_is_valid(ev))
		msg_die(EV_DATAERR, "%s: not JSON", where);
	jq_start(f->jq, JV_ARRAY(f->state, ev), 0);
	while (jv_is_valid(out = jq_next(f->jq))) {
		jv_free(last);
		last = out;
	}
	if (jv_invalid_has_msg(jv_copy(out))) {
		jv m = jv_invalid_get_msg(out);
		if (jv_get_kind(m) != JV_KIND_STRING)
			m = jv_dump_string(m, 0);
		msg_die(EV_DATAERR, "%s: --fold: %s", where, jv_string_value(m));
	}
	jv_free(out);
	f->state = last;
}

void
fold_print(struct fold *f)
{
	jv s = jv_dump_string(jv_copy(f->state), 0);

	out_line(jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

void
fold_free(struct fold *f)
{
	if (f == NULL)
		return;
	jv_free(f->state);
	jq_teardown(&f->jq);
	free(f);
}
