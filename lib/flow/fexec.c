/* fexec — fnflow's executions in one thread: a ready list of frames, a
 * heap of timers (Wait, Retry delays, execution timeouts) and the tasks
 * fres runs; outputs in input order. */
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jx.h"
#include "fexec_int.h"

void
fx_queue(struct frame *f)
{
	struct flow *fl = f->x->fl;

	if (f->queued)
		return;
	f->queued = 1;
	f->next_ready = NULL;
	if (fl->ready_tail != NULL)
		fl->ready_tail->next_ready = f;
	else
		fl->ready = f;
	fl->ready_tail = f;
}

static void
unqueue(struct frame *f)
{
	struct flow *fl = f->x->fl;
	struct frame **pp, *prev = NULL;

	if (!f->queued)
		return;
	for (pp = &fl->ready; *pp != f; prev = *pp, pp = &(*pp)->next_ready)
		;
	*pp = f->next_ready;
	if (fl->ready_tail == f)
		fl->ready_tail = prev;
	f->queued = 0;
}

struct ticket *
fx_ticket(struct frame *f, int resume)
{
	struct ticket *tk = xcalloc(1, sizeof *tk);

	tk->f = f;
	tk->resume = resume;
	if (f != NULL)
		f->tk = tk;
	return tk;
}

/* A min-heap on the time each timer is due. */
void
fx_timer(struct flow *fl, int64_t delay_ms, struct ticket *tk)
{
	double scaled = (double)delay_ms * (fl->o.time_scale > 0 ? fl->o.time_scale : 1);

	if (tk->x == NULL)	/* an execution's timeout is not scaled */
		delay_ms = (int64_t)scaled;
	XGROW(&fl->heap, &fl->cheap, fl->nheap + 1);
	int i = fl->nheap++;
	struct tmr t = { clock_mono_ms() + delay_ms, tk };
	while (i > 0 && fl->heap[(i - 1) / 2].at > t.at) {
		fl->heap[i] = fl->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	fl->heap[i] = t;
}

static struct ticket *
timer_pop(struct flow *fl)
{
	struct ticket *tk = fl->heap[0].tk;
	struct tmr last = fl->heap[--fl->nheap];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;
		if (c >= fl->nheap)
			break;
		if (c + 1 < fl->nheap && fl->heap[c + 1].at < fl->heap[c].at)
			c++;
		if (fl->heap[c].at >= last.at)
			break;
		fl->heap[i] = fl->heap[c];
		i = c;
	}
	if (fl->nheap > 0)
		fl->heap[i] = last;
	return tk;
}

struct frame *
fx_frame(struct fexec *x, const struct fmachine *m, struct frame *parent, int index,
    jv input, jv vars)
{
	struct frame *f = xmalloc(sizeof *f);

	memset(f, 0, offsetof(struct frame, err));
	f->err.error[0] = f->err.cause[0] = '\0';
	f->x = x;
	f->m = m;
	f->parent = parent;
	f->index = index;
	f->state = m->start;
	f->input = input;
	f->vars = vars;
	f->eff = f->ctx = f->res = f->items = f->results = f->assigned = jv_invalid();
	return f;
}

/* Stops f and its kids: their pending task or timer ends unheard. */
void
fx_free_frame(struct frame *f)
{
	unqueue(f);
	if (f->tk != NULL)
		f->tk->f = NULL;
	for (int i = 0; i < f->nkids; i++)
		if (f->kids[i] != NULL)
			fx_free_frame(f->kids[i]);
	free(f->kids);
	free(f->attempts);
	fx_plan_free(f->plan);
	jv_free(f->input);
	jv_free(f->eff);
	jv_free(f->vars);
	jv_free(f->ctx);
	jv_free(f->res);
	jv_free(f->items);
	jv_free(f->results);
	jv_free(f->assigned);
	free(f);
}

static void
exec_end(struct fexec *x, int status, jv out, const struct ferr *e)
{
	x->status = status;
	x->stop_ms = clock_now_ms();
	if (status == X_SUCCEEDED)
		x->output = out;
	else
		jv_free(out);
	if (e != NULL)
		x->err = *e;
	if (status == X_SUCCEEDED)
		FX_HIST(x, "ExecutionSucceeded", JV_OBJECT(jv_string("output"), fx_text(x->output),
		    jv_string("outputDetails"), JV_OBJECT(jv_string("truncated"), jv_false())));
	else
		FX_HIST(x, status == X_TIMED_OUT ? "ExecutionTimedOut" :
		    status == X_ABORTED ? "ExecutionAborted" : "ExecutionFailed",
		    JV_OBJECT(jv_string("error"), jv_string(x->err.error),
		    jv_string("cause"), jv_string(x->err.cause)));
	if (x->timeout != NULL)
		x->timeout->x = NULL;
	x->timeout = NULL;
	x->fl->running--;
}

void
fx_end(struct frame *f, int ok, jv out, const struct ferr *e)
{
	f->ended = 1;
	if (f->parent != NULL)
		fx_kid_done(f->parent, f->index, ok, out, e);
	else
		exec_end(f->x, ok ? X_SUCCEEDED : X_FAILED, out, e);
}

/* Runs f until it waits or ends; a long run of transitions yields. */
static void
step(struct frame *f)
{
	for (int n = 0; n < 256; n++)
		if (fx_step_one(f) != S_CONT)
			return;
	fx_queue(f);
}

static void
run_ready(struct flow *fl)
{
	struct frame *f;

	while ((f = fl->ready) != NULL) {
		fl->ready = f->next_ready;
		if (fl->ready == NULL)
			fl->ready_tail = NULL;
		f->queued = 0;
		step(f);
	}
}

static void
exec_timeout(struct fexec *x)
{
	struct ferr e;

	ferr_set(&e, "States.Timeout", "The execution timed out after %g seconds",
	    x->fl->def->timeout_s);
	x->timeout = NULL;
	if (x->root != NULL && !x->root->ended) {
		fx_free_frame(x->root);
		x->root = NULL;
	}
	exec_end(x, X_TIMED_OUT, jv_null(), &e);
}

/* StopExecution: its frames forget their tasks and timers. */
void
fx_abort(struct fexec *x, const struct ferr *e)
{
	if (x->root != NULL && !x->root->ended) {
		fx_free_frame(x->root);
		x->root = NULL;
	}
	exec_end(x, X_ABORTED, jv_null(), e);
}

static void
fire_timers(struct flow *fl)
{
	int64_t now = clock_mono_ms();

	while (fl->nheap > 0 && fl->heap[0].at <= now) {
		struct ticket *tk = timer_pop(fl);
		if (tk->x != NULL) {
			exec_timeout(tk->x);
		} else if (tk->f != NULL) {
			tk->f->tk = NULL;
			tk->f->resume = tk->resume;
			fx_queue(tk->f);
		}
		free(tk);
	}
}

static void
task_history(struct frame *f, const char *resource, const char *res, size_t n)
{
	jv d = fx_res_details(resource);

	if (f->resume == R_TASK_OK)
		fx_hist_f(f, "TaskSucceeded", jv_object_set(d, jv_string("output"),
		    jv_string_sized(res, (int)n)));
	else
		fx_hist_f(f, strcmp(f->err.error, "States.Timeout") == 0 ? "TaskTimedOut" :
		    "TaskFailed", jv_object_set(jv_object_set(d, jv_string("error"),
		    jv_string(f->err.error)), jv_string("cause"), jv_string(f->err.cause)));
}

/* fres's report of a task's end: the frame runs on from the ready list. */
void
fx_task_done(void *ctx, void *tag, int ok, const char *res, size_t n, const struct ferr *fe)
{
	struct flow *fl = ctx;
	struct ticket *tk = tag;
	struct frame *f = tk->f;
	struct ev_err e;

	fl->ntasks--;
	free(tk);
	if (f == NULL)
		return;
	f->tk = NULL;
	f->resume = R_TASK_FAIL;
	const char *resource = f->m->states[f->state].resource;
	if (!ok)
		f->err = *fe;
	else if (n > 262144)
		ferr_set(&f->err, "States.DataLimitExceeded", "The state/task '%s' returned a "
		    "result with a size exceeding the maximum number of bytes service limit.",
		    resource);
	else if (jx_parse(res, n, &f->res, &e) != 0)
		ferr_set(&f->err, "States.TaskFailed", "The task's result is not JSON: %s", e.msg);
	else
		f->resume = R_TASK_OK;
	if (FX_HISTORY(fl))
		task_history(f, resource, res, n);
	fx_queue(f);
}

/* One turn: the ready frames run, then what is due; with block, waits
 * for the next timer or task end first. */
void
fx_run_once(struct flow *fl, int block)
{
	run_ready(fl);
	fire_timers(fl);
	if (fl->ready != NULL || !block)
		return;
	int64_t wait = fl->nheap > 0 ? fl->heap[0].at - clock_mono_ms() : 1000;
	if (wait < 0)
		wait = 0;
	if (fl->ntasks > 0)
		fres_pump(fl->res, (int)(wait < 1000 ? wait : 1000));
	else if (wait > 0 && fl->nheap > 0)
		poll(NULL, 0, (int)(wait < 1000 ? wait : 1000));
	fire_timers(fl);
	run_ready(fl);
}
