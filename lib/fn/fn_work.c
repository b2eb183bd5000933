/* fn_work — warm workers (--worker): each started once in its own
 * process group and reused, one event line in and one result line out
 * per invocation.  A worker that dies, times out or desynchronises is
 * dropped and started again for the next event; --max-invocations
 * recycles one after N. */
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "fn_int.h"
#include "core/msg.h"

/* Forgets a worker whose process is reaped (or about to be). */
static void
clear(struct fn_worker *w)
{
	fsx_close(&w->in_fd);
	fsx_close(&w->out_fd);
	buf_reset(&w->rb);
	w->pid = 0;
	w->gone = 0;
	w->uses = 0;
	w->v = NULL;
}

/* Ends a live worker: its whole group is killed; its end, when it
 * comes, finds the slot free (fn_work_gone). */
static void
retire(struct fn_worker *w)
{
	fn_proc_kill_group(w->pid);
	clear(w);
}

/* Gives v a free worker, starting one when the slot has none: that is a
 * cold start, and v carries how long the start took. */
void
fn_work_start(struct fn_runner *r, struct fn_inv *v)
{
	struct fn_worker *w = NULL;

	for (int i = 0; w == NULL && i < r->o.jobs; i++)
		if (r->wk[i].v == NULL)
			w = &r->wk[i];
	v->exited = v->timed_out = v->spawn_errno = v->replied = v->oom = 0;
	v->initing = v->init_timed_out = 0;
	v->peak_kib = 0;
	v->in_off = v->out_total = 0;
	v->init_ms = -1;
	buf_reset(&v->out);
	memset(&v->ru, 0, sizeof v->ru);
	v->start = clock_mono_ms();
	v->deadline = v->start + r->o.timeout_ms;
	v->rt_error = 0;
	if (w->pid == 0) {
		v->spawn_errno = r->rt != NULL ? fn_rt_spawn(r, w) :
		    fn_proc_spawn(r, NULL, &w->pid, &w->in_fd, &w->out_fd);
		if (v->spawn_errno != 0) {
			clear(w);
			v->wk = NULL;
			v->exited = 1;
			return;
		}
		/* A cold start: the init phase has its own budget. */
		v->initing = 1;
		v->init_start = v->start;
		v->deadline = v->start + r->o.init_timeout_ms;
	}
	w->v = v;
	v->wk = w;
	v->pid = w->pid;
	v->in_fd = v->out_fd = -1;	/* the worker's pipes are its own */
	if (r->rt != NULL)
		fn_rt_assign(r, w, v);
	else
		fn_work_write(v);
}

/* Whether a starting worker is ready: Lambda's init lasts until the
 * runtime asks for its first event; a line worker's, until it first
 * takes bytes from its stdin (the pipe holds fewer than we wrote), or
 * answers, or ends. */
static int
ready(const struct fn_inv *v)
{
	const struct fn_worker *w = v->wk;
	int queued = 0;

	if (v->replied || v->exited || w->gone || w->in_fd < 0)
		return 1;
	if (ioctl(w->in_fd, FIONREAD, &queued) != 0)
		return 1;	/* cannot tell: start the clock now */
	return (size_t)queued < v->in_off;
}

/* The init phase of a cold start (--init-timeout): ends when the worker
 * is ready, and the invocation's own timeout starts then; past the init
 * budget it is a timeout.  Returns 1 while v is still starting, for the
 * loop to look again soon. */
int
fn_work_init_check(struct fn_runner *r, struct fn_inv *v, int64_t now)
{
	if (!v->initing)
		return 0;
	if (r->rt != NULL ? fn_rt_ready(v) : ready(v)) {
		v->initing = 0;
		v->init_ms = (double)(now - v->init_start);
		v->start = now;
		v->deadline = now + r->o.timeout_ms;
		return 0;
	}
	if (now < v->deadline)
		return 1;
	v->initing = 0;
	v->init_ms = (double)(now - v->init_start);
	v->init_timed_out = 1;
	return 0;
}

/* Writes what the worker's stdin takes of the event line.  A worker
 * that closed its stdin gets nothing more; its exit or the timeout
 * ends the invocation. */
void
fn_work_write(struct fn_inv *v)
{
	struct fn_worker *w = v->wk;

	if (w->in_fd >= 0 && fn_feed(w->in_fd, v) != 0)
		fsx_close(&w->in_fd);
}

/* Takes the first line of the worker's output as v's result.  A line
 * longer than FN_MAX_RESULT is taken as too large, and the worker is
 * dropped since the rest of that line would follow. */
static void
take_line(struct fn_inv *v, struct fn_worker *w)
{
	char *nl = w->rb.n > 0 ? memchr(w->rb.p, '\n', w->rb.n) : NULL;

	if (nl == NULL && w->rb.n <= FN_MAX_RESULT)
		return;
	size_t len = nl != NULL ? (size_t)(nl - w->rb.p) : w->rb.n;
	size_t used = nl != NULL ? len + 1 : len;
	if (len <= FN_MAX_RESULT)
		buf_add(&v->out, w->rb.p, len);
	v->out_total = len;
	memmove(w->rb.p, w->rb.p + used, w->rb.n - used);
	w->rb.n -= used;
	v->replied = 1;
}

/* Reads what the worker wrote; EOF closes its stdout. */
void
fn_work_read(struct fn_inv *v)
{
	struct fn_worker *w = v->wk;
	char tmp[65536];
	size_t got;

	while ((got = fsx_read_some(&w->out_fd, tmp, sizeof tmp)) > 0) {
		buf_add(&w->rb, tmp, got);
		if (!v->replied)
			take_line(v, w);
		/* answered, and the pipe was emptied: no read just to hear EAGAIN */
		if (v->replied && got < sizeof tmp)
			break;
	}
	if (!v->replied)
		take_line(v, w);
}

/* A reaped pid: a worker serving nobody is forgotten at once; one that
 * serves an invocation is left for fn_work_done to drain. */
void
fn_work_gone(struct fn_runner *r, pid_t pid)
{
	for (int i = 0; r->wk != NULL && i < r->o.jobs; i++) {
		struct fn_worker *w = &r->wk[i];
		if (w->pid != pid)
			continue;
		if (w->v == NULL)
			clear(w);
		else
			w->gone = 1;
	}
}

/* A live worker's peak memory so far (VmHWM, KiB), as ru_maxrss would
 * give it at exit; 0 where /proc cannot tell. */
long
fn_work_peak_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = 0;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Whether v's invocation is over: its line came (unless it timed out:
 * then only the kill counts), or the worker died.  When over, the
 * worker is let go: dropped if it died, timed out or must be recycled,
 * else kept warm for the next event. */
int
fn_work_done(struct fn_runner *r, struct fn_inv *v)
{
	struct fn_worker *w = v->wk;

	if (w == NULL)
		return v->exited;	/* it could not be started */
	if (!(v->timed_out ? v->exited : v->replied || v->exited))
		return 0;
	if (v->replied && !v->timed_out && !v->oom) {
		v->status = 0;	/* it answered; a death after that is the next one's */
		v->exited = 0;
	} else if (w->rb.n > 0) {
		/* Died mid-line: what it said may be its error object. */
		buf_add(&v->out, w->rb.p, w->rb.n < FN_MAX_RESULT ? w->rb.n : FN_MAX_RESULT);
		v->out_total = w->rb.n;
	}
	/* only the --report line tells it: /proc costs a read per event */
	if (!w->gone && r->report != NULL)
		v->ru.ru_maxrss = fn_work_peak_kib(w->pid);
	w->v = NULL;
	w->uses++;
	/* A runtime takes any response size back (it was refused whole);
	 * one that reported an init error is reset. */
	int reset = r->rt != NULL ? fn_rt_done(r, w, v) : v->out_total > FN_MAX_RESULT;
	if (w->gone)
		clear(w);
	else if (v->timed_out || v->oom || reset ||
	    (r->o.max_inv > 0 && w->uses >= r->o.max_inv))
		retire(w);
	return 1;
}

/* Kills every worker's group: the last word before dying. */
void
fn_work_kill_all(struct fn_runner *r)
{
	for (int i = 0; r->wk != NULL && i < r->o.jobs; i++)
		fn_proc_kill_group(r->wk[i].pid);
}

/* End of input: stdin closed tells each worker to finish; those still
 * there after a grace period are killed, and every group is killed at
 * the leader's exit so nothing a worker started outlives it. */
void
fn_work_stop_all(struct fn_runner *r)
{
	/* A runtime never ends by itself: Lambda freezes and kills it. */
	int64_t until = clock_mono_ms() + (r->rt != NULL ? 0 : 1000);
	int left = 1;

	for (int i = 0; r->wk != NULL && i < r->o.jobs; i++)
		fsx_close(&r->wk[i].in_fd);
	while (left && clock_mono_ms() < until) {
		while (fn_proc_reap(r) != NULL)
			;	/* an idle worker's end frees its slot */
		left = 0;
		for (int i = 0; r->wk != NULL && i < r->o.jobs; i++)
			left |= r->wk[i].pid > 0;
		if (left)
			usleep(5000);
	}
	for (int i = 0; r->wk != NULL && i < r->o.jobs; i++) {
		retire(&r->wk[i]);
		buf_free(&r->wk[i].rb);
	}
	if (r->rt != NULL)
		fn_rt_close(r);
	free(r->wk);
	r->wk = NULL;
}
