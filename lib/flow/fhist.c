/* fhist — an execution's history in an evlog event log: every event with
 * GetExecutionHistory's type and fields (one stream per execution, its
 * ARN), written at the end of each turn of the loop, before an output is
 * printed; and read back by --resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "evlog/evlog.h"
#include "fexec_int.h"

int
fx_hist_open(struct flow *fl, const char *path, struct ev_err *e)
{
	struct elog_opts o = { .create = 1, .fsync = ELOG_FSYNC_BATCH };

	if (elog_open(path, &o, &fl->hist, e) != 0)
		return e->code != 0 ? e->code : EV_IOERR;
	fl->hbatch = elog_batch_new();
	return 0;
}

/* Where an event keeps its details: "TaskScheduled" in
 * "taskScheduledEventDetails", every "...StateEntered" in
 * "stateEnteredEventDetails" and "...StateExited" in
 * "stateExitedEventDetails". */
void
fx_details_key(const char *type, char *out, size_t n)
{
	size_t len = strlen(type);

	if (len > 12 && strcmp(type + len - 12, "StateEntered") == 0)
		type = "StateEntered";
	else if (len > 11 && strcmp(type + len - 11, "StateExited") == 0)
		type = "StateExited";
	if (type[0] == '\0')
		snprintf(out, n, "none");
	else
		snprintf(out, n, "%c%sEventDetails", type[0] + ('a' - 'A'), type + 1);
}

/* Where a frame is: its index in each Map or Parallel above it, from the
 * top.  GetExecutionHistory has no such field, but --resume needs it to
 * tell one iteration's or branch's events from another's. */
static jv
frame_path(const struct frame *f)
{
	int idx[64], n = 0;

	for (; f->parent != NULL && n < 64; f = f->parent)
		idx[n++] = f->index;
	jv a = jv_array();
	while (n-- > 0)
		a = jv_array_append(a, jv_number(idx[n]));
	return a;
}

/* Adds the event type with details (consumed) to the execution's stream;
 * f (may be NULL) is the frame it happened in. */
static void
hist(struct fexec *x, const struct frame *f, const char *type, jv details)
{
	struct flow *fl = x->fl;
	char at[25], key[96];
	const char *why;

	if (!FX_HISTORY(fl)) {
		jv_free(details);
		return;
	}
	clock_rfc3339(clock_now_ms(), at);
	x->evid++;
	jv ev = JV_OBJECT(jv_string("timestamp"), jv_string(at), jv_string("type"),
	    jv_string(type), jv_string("id"), jv_number(x->evid),
	    jv_string("previousEventId"), jv_number(x->evid - 1));
	if (f != NULL && f->parent != NULL)
		ev = jv_object_set(ev, jv_string("evkitFrame"), frame_path(f));
	if (jv_is_valid(details)) {
		fx_details_key(type, key, sizeof key);
		ev = jv_object_set(ev, jv_string(key), details);
	}
	jv s = jv_dump_string(ev, 0);
	if (fl->o.on_event != NULL)
		fl->o.on_event(fl->o.ctx, x->arn, jv_string_value(s),
		    (size_t)jv_string_length_bytes(jv_copy(s)));
	if (fl->hist != NULL && elog_batch_add(fl->hbatch, x->arn, strlen(x->arn), jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)), &why) != 0 && fl->hist_err[0] == '\0')
		snprintf(fl->hist_err, sizeof fl->hist_err, "--history: %s", why);
	jv_free(s);
}

void
fx_hist(struct fexec *x, const char *type, jv details)
{
	hist(x, NULL, type, details);
}

void
fx_hist_f(const struct frame *f, const char *type, jv details)
{
	hist(f->x, f, type, details);
}

/* JSON text of v (borrowed), as history details carry values. */
jv
fx_text(jv v)
{
	return jv_dump_string(jv_copy(v), 0);
}

/* Commits what the turn recorded.  0, or the log's status. */
int
fx_hist_flush(struct flow *fl, struct ev_err *e)
{
	struct elog_result res = { 0 };

	if (fl->hist == NULL || elog_batch_count(fl->hbatch) == 0)
		return 0;
	int rc = elog_append(fl->hist, fl->hbatch, ELOG_EXPECT_ANY, &res, e);
	elog_result_free(&res);
	elog_batch_clear(fl->hbatch);
	return rc;
}

void
fx_hist_close(struct flow *fl)
{
	if (fl->hist == NULL)
		return;
	elog_batch_free(fl->hbatch);
	elog_close(fl->hist);
}

/* {"resourceType","resource"}: "lambda" and "invoke" for
 * arn:aws:states:::lambda:invoke, "lambda" and the ARN for a function's
 * ARN, "function" and the name for a binding's own name. */
jv
fx_res_details(const char *resource)
{
	const char *p = resource;

	if (strncmp(p, "arn:aws:states:::", 17) == 0) {
		p += 17;
		const char *c = strchr(p, ':');
		if (c != NULL)
			return JV_OBJECT(jv_string("resourceType"), jv_string_sized(p, (int)(c - p)),
			    jv_string("resource"), jv_string(c + 1));
	}
	return JV_OBJECT(jv_string("resourceType"),
	    jv_string(strncmp(p, "arn:aws:lambda:", 15) == 0 ? "lambda" : "function"),
	    jv_string("resource"), jv_string(resource));
}
