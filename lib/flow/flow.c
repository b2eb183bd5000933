/* flow — fnflow's engine behind flow.h: executions started per input,
 * run by fexec, their lines given back in input order. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jx.h"
#include "core/msg.h"
#include "core/sig.h"
#include "fexec_int.h"

#define INPUT_LIMIT 262144	/* StartExecution's input limit */

/* arn:aws:states:REGION:ACCOUNT:stateMachine:NAME */
const char *
flow_arn_check(const char *arn)
{
	const char *p = arn;
	int colons = 0;

	if (strncmp(arn, "arn:aws:states:", 15) != 0)
		return "not an arn:aws:states: ARN";
	for (; *p != '\0'; p++)
		colons += *p == ':';
	if (colons != 6 || strstr(arn, ":stateMachine:") == NULL)
		return "not arn:aws:states:REGION:ACCOUNT:stateMachine:NAME";
	if (arn[strlen(arn) - 1] == ':')
		return "the state machine's name is empty";
	return NULL;
}

/* The names of the context object, from the ARN or the file's name. */
static void
names(struct flow *fl)
{
	const char *m = fl->o.machine, *base = strrchr(m, '/');
	char acct[64] = "000000000000";

	if (fl->o.arn != NULL) {
		fl->sm_arn = xstrdup(fl->o.arn);
	} else {
		base = base != NULL ? base + 1 : m;
		size_t n = strlen(base);
		if (n > 9 && strcmp(base + n - 9, ".asl.json") == 0)
			n -= 9;
		else if (n > 5 && strcmp(base + n - 5, ".json") == 0)
			n -= 5;
		struct buf b = { 0 };
		buf_printf(&b, "arn:aws:states:us-east-1:000000000000:stateMachine:%.*s", (int)n,
		    base);
		fl->sm_arn = buf_detach(&b);
	}
	char *sm = strstr(fl->sm_arn, ":stateMachine:");
	fl->sm_name = xstrdup(sm + 14);
	struct buf b = { 0 };
	buf_printf(&b, "%.*s:%s:%s:", (int)(sm - fl->sm_arn), fl->sm_arn,
	    fl->o.express ? "express" : "execution", fl->sm_name);
	fl->exec_prefix = buf_detach(&b);
	/* arn:aws:states:REGION:ACCOUNT:... */
	const char *a = fl->sm_arn;
	for (int i = 0; i < 4 && a != NULL; i++)
		a = strchr(a, ':') != NULL ? strchr(a, ':') + 1 : NULL;
	if (a != NULL && strchr(a, ':') != NULL && (size_t)(strchr(a, ':') - a) < sizeof acct)
		snprintf(acct, sizeof acct, "%.*s", (int)(strchr(a, ':') - a), a);
	b = (struct buf){ 0 };
	buf_printf(&b, "arn:aws:iam::%s:role/fnflow", acct);
	fl->role_arn = buf_detach(&b);
}

int
flow_open(const struct flow_opts *o, const char *def, size_t n, struct flow **out,
    struct ev_err *e)
{
	struct flow *fl = xcalloc(1, sizeof *fl);
	struct fres_opts ro = o->res;
	char why[1024];
	jv d;
	int rc;

	fl->o = *o;
	if (fl->o.jobs < 1)
		fl->o.jobs = 1;
	if (jx_parse(def, n, &d, e) != 0) {
		err_set(e, EV_USAGE, "%s: not a JSON definition: %s", o->machine, e->msg);
		free(fl);
		return EV_USAGE;
	}
	ro.done = fx_task_done;
	ro.ctx = fl;
	if ((rc = fres_open(&ro, &fl->res, e)) != 0) {
		jv_free(d);
		free(fl);
		return rc;
	}
	if (fdef_load(d, fl->res, &fl->def, why, sizeof why) != 0) {
		err_set(e, EV_USAGE, "%s: %s", o->machine, why);
		fres_close(fl->res);
		free(fl);
		return EV_USAGE;
	}
	names(fl);
	if (o->history != NULL && (rc = fx_hist_open(fl, o->history, e)) != 0) {
		flow_close(fl);
		return rc;
	}
	*out = fl;
	return 0;
}

int
flow_check(const char *def, size_t n, struct ev_err *e)
{
	struct fdef *d;
	char why[1024];
	jv j;

	if (jx_parse(def, n, &j, e) != 0)
		return EV_USAGE;
	if (fdef_load(j, NULL, &d, why, sizeof why) != 0)
		return err_set(e, EV_USAGE, "%s", why);
	fdef_free(d);
	return 0;
}

/* $$.Execution, when a state first reads the context object. */
jv
fx_exec_ctx(struct fexec *x)
{
	char at[25];

	if (jv_is_valid(x->ctx_exec))
		return x->ctx_exec;
	clock_rfc3339(x->start_ms, at);
	x->ctx_exec = JV_OBJECT(jv_string("Id"), jv_string(x->arn),
	    jv_string("Input"), jv_copy(x->input), jv_string("Name"), jv_string(x->name),
	    jv_string("RoleArn"), jv_string(x->fl->role_arn), jv_string("StartTime"),
	    jv_string(at), jv_string("RedriveCount"), jv_number(0));
	return x->ctx_exec;
}

/* An execution, queued for output; fx_exec_go() runs it. */
struct fexec *
fx_exec_new(struct flow *fl, const char *arn, int64_t start_ms, jv input)
{
	struct fexec *x = xmalloc(sizeof *x);
	const char *name = strrchr(arn, ':');

	memset(x, 0, offsetof(struct fexec, err));	/* not the 4 KiB error */
	x->err.error[0] = x->err.cause[0] = '\0';
	x->fl = fl;
	snprintf(x->name, sizeof x->name, "%s", name != NULL ? name + 1 : arn);
	x->arn = xstrdup(arn);
	x->start_ms = start_ms;
	x->input = input;
	x->output = jv_invalid();
	x->ctx_exec = jv_invalid();	/* built when a state reads $$ */
	if (fl->tail != NULL)
		fl->tail->next = x;
	else
		fl->head = x;
	fl->tail = x;
	fl->running++;
	return x;
}

/* Starts x's top-level machine at state; returns its frame. */
struct frame *
fx_exec_go(struct fexec *x, int state, jv input, jv vars)
{
	struct flow *fl = x->fl;

	x->root = fx_frame(x, &fl->def->top, NULL, 0, input, vars);
	x->root->state = state;
	fx_queue(x->root);
	if (fl->def->timeout_s > 0) {
		x->timeout = fx_ticket(NULL, 0);
		x->timeout->x = x;
		fx_timer(fl, (int64_t)(fl->def->timeout_s * 1000) - (clock_now_ms() - x->start_ms),
		    x->timeout);
	}
	return x->root;
}

static void
start(struct flow *fl, jv input, const char *name)
{
	char uuid[37];
	struct buf b = { 0 };

	if (name == NULL) {
		uuid_v4(uuid);
		name = uuid;
	}
	buf_adds(&b, fl->exec_prefix);	/* not buf_printf: its vsnprintf was 2% of a run */
	buf_adds(&b, name);
	struct fexec *x = fx_exec_new(fl, b.p, clock_now_ms(), input);
	buf_free(&b);
	FX_HIST(x, "ExecutionStarted", JV_OBJECT(jv_string("input"), fx_text(input),
	    jv_string("inputDetails"), JV_OBJECT(jv_string("truncated"), jv_false()),
	    jv_string("roleArn"), jv_string(fl->role_arn),
	    jv_string("stateMachineArn"), jv_string(fl->sm_arn)));
	fx_exec_go(x, fl->def->top.start, jv_copy(input), jv_object());
}

static const char *const status_names[] = { "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT",
	"ABORTED" };

static jv
envelope(const struct fexec *x, jv out)
{
	char at[25];
	jv v = JV_OBJECT(jv_string("executionArn"), jv_string(x->arn),
	    jv_string("stateMachineArn"), jv_string(x->fl->sm_arn),
	    jv_string("name"), jv_string(x->name),
	    jv_string("status"), jv_string(status_names[x->status]));

	if (x->status == X_SUCCEEDED) {
		v = jv_object_set(v, jv_string("output"), jx_dump_string(out));
	} else {
		jv_free(out);
		v = jv_object_set(v, jv_string("error"), jv_string(x->err.error));
		v = jv_object_set(v, jv_string("cause"), jv_string(x->err.cause));
	}
	clock_rfc3339(x->start_ms, at);
	v = jv_object_set(v, jv_string("startDate"), jv_string(at));
	clock_rfc3339(x->stop_ms, at);
	return jv_object_set(v, jv_string("stopDate"), jv_string(at));
}

static void
emit_one(struct flow *fl, struct fexec *x)
{
	int ok = x->status == X_SUCCEEDED;
	jv v = ok ? jv_copy(x->output) : fx_error_value(&x->err);
	char why[sizeof x->err.error + sizeof x->err.cause + 2];

	if (fl->o.envelope)
		v = envelope(x, v);
	buf_reset(&fl->line);
	jx_dump(v, &fl->line);
	jv_free(v);
	if (!ok)
		snprintf(why, sizeof why, "%s: %s", x->err.error, x->err.cause);
	fl->o.emit(fl->o.ctx, fl->line.p, fl->line.n, !ok, ok ? NULL : why);
	if (!ok)
		fl->any_failed = 1;
}

static void
exec_free(struct fexec *x)
{
	if (x->root != NULL)
		fx_free_frame(x->root);
	jv_free(x->input);
	jv_free(x->output);
	jv_free(x->ctx_exec);
	free(x->arn);
	free(x);
}

static void
emit_done(struct flow *fl)
{
	struct fexec *x;

	if (fl->fatal_rc == 0 && fl->hist != NULL) {
		if (fl->hist_err[0] != '\0')
			fl->fatal_rc = err_set(&fl->fatal, EV_IOERR, "%s", fl->hist_err);
		else
			fl->fatal_rc = fx_hist_flush(fl, &fl->fatal);
	}
	if (fl->fatal_rc != 0)
		return;		/* nothing is printed that the history lacks */
	for (struct fexec **pp = &fl->head, *prev = NULL; (x = *pp) != NULL;) {
		if (x->status == X_RUNNING) {
			if (!fl->o.any_order)
				break;
			prev = x;
			pp = &x->next;
			continue;
		}
		emit_one(fl, x);
		*pp = x->next;
		if (fl->tail == x)
			fl->tail = prev;
		exec_free(x);
	}
}

static void
start_named(struct flow *fl, jv input, long seq, int alone)
{
	char name[128];

	if (fl->o.name == NULL) {
		start(fl, input, NULL);
		return;
	}
	if (alone)
		snprintf(name, sizeof name, "%s", fl->o.name);
	else
		snprintf(name, sizeof name, "%s-%ld", fl->o.name, seq);
	start(fl, input, name);
}

static void
release_held(struct flow *fl, int alone)
{
	jv v;
	struct ev_err e;

	if (fl->held == NULL)
		return;
	if (jx_parse(fl->held, fl->held_n, &v, &e) == 0)
		start_named(fl, v, 1, alone);
	free(fl->held);
	fl->held = NULL;
}

int
flow_submit(struct flow *fl, const char *input, size_t n, struct ev_err *e)
{
	jv v;

	if (n > INPUT_LIMIT)
		return err_set(e, EV_DATAERR, "execution input longer than %d bytes", INPUT_LIMIT);
	if (jx_parse(input, n, &v, e) != 0)
		return EV_DATAERR;
	fl->seq++;
	/* --name: NAME for a lone input, NAME-N for several, which the
	 * second tells. */
	if (fl->o.name != NULL && fl->seq == 1) {
		jv_free(v);
		fl->held = xmemdup(input, n);
		fl->held_n = n;
		return 0;
	}
	release_held(fl, 0);
	while (fl->running >= fl->o.jobs && fl->fatal_rc == 0 && !sig_stop) {
		fx_run_once(fl, 1);
		emit_done(fl);
	}
	if (fl->fatal_rc == 0 && !sig_stop) {
		start_named(fl, v, fl->seq, 0);
		fx_run_once(fl, 0);
		emit_done(fl);
	} else {
		jv_free(v);
	}
	if (fl->fatal_rc != 0)
		*e = fl->fatal;
	return fl->fatal_rc;
}

int
flow_finish(struct flow *fl, struct ev_err *e)
{
	release_held(fl, 1);
	/* A stop request ends the wait: what has not ended is dropped, or
	 * left in --history for --resume. */
	while (fl->head != NULL && fl->fatal_rc == 0 && !sig_stop) {
		fx_run_once(fl, 1);
		emit_done(fl);
	}
	if (fl->fatal_rc != 0) {
		*e = fl->fatal;
		return fl->fatal_rc;
	}
	return fl->any_failed;
}

int
flow_start(struct flow *fl, const char *input, size_t n, const char *name, struct ev_err *e)
{
	jv v;

	if (n > INPUT_LIMIT)
		return err_set(e, EV_DATAERR, "execution input longer than %d bytes", INPUT_LIMIT);
	if (jx_parse(input, n, &v, e) != 0)
		return EV_DATAERR;
	start(fl, v, name);
	return 0;
}

int64_t
flow_step(struct flow *fl)
{
	fx_run_once(fl, 0);
	if (fl->ntasks > 0) {
		fres_pump(fl->res, 0);
		fx_run_once(fl, 0);
	}
	emit_done(fl);
	if (fl->ready != NULL)
		return clock_mono_ms();
	/* fres has no descriptor to watch: a running task is polled. */
	int64_t next = fl->ntasks > 0 ? clock_mono_ms() + 5 : -1;
	if (fl->nheap > 0 && (next < 0 || fl->heap[0].at < next))
		next = fl->heap[0].at;
	return next;
}

int
flow_abort(struct flow *fl, const char *arn, const char *error, const char *cause)
{
	struct ferr fe;

	for (struct fexec *x = fl->head; x != NULL; x = x->next) {
		if (x->status != X_RUNNING || strcmp(x->arn, arn) != 0)
			continue;
		snprintf(fe.error, sizeof fe.error, "%s", error);
		snprintf(fe.cause, sizeof fe.cause, "%s", cause);
		fx_abort(x, &fe);
		emit_done(fl);
		return 0;
	}
	return -1;
}

const char *
flow_exec_prefix(const struct flow *fl)
{
	return fl->exec_prefix;
}

void
flow_close(struct flow *fl)
{
	if (fl == NULL)
		return;
	fres_close(fl->res);
	fx_hist_close(fl);
	while (fl->head != NULL) {	/* left by a failed history or a stop */
		struct fexec *x = fl->head;
		fl->head = x->next;
		exec_free(x);
	}
	for (int i = 0; i < fl->nheap; i++)
		free(fl->heap[i].tk);
	free(fl->heap);
	fdef_free(fl->def);
	free(fl->sm_arn);
	free(fl->sm_name);
	free(fl->exec_prefix);
	free(fl->role_arn);
	free(fl->held);
	buf_free(&fl->line);
	buf_free(&fl->text);
	free(fl);
}
