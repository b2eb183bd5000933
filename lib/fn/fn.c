/* fn — the runner: a table of invocations, one poll loop, results in
 * input order.  See fn.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "fn_int.h"
#include "core/jx.h"
#include "core/msg.h"
#include "core/out.h"
#include "queue/queue.h"
#include "core/sig.h"
#include "core/backoff.h"
#include "dlq/dlq.h"


/* The open runners (a caller may serve several), for kill_on_die. */
static struct fn_runner *dying;

static void
kill_on_die(void)
{
	for (struct fn_runner *r = dying; r != NULL; r = r->next_open) {
		fn_proc_kill_all(r);
		fn_work_kill_all(r);
		fn_proc_shutdown(r);
	}
}

static int
open_dlq(struct fn_runner *r, const char *uri, struct ev_err *e)
{
	const char *why = dlq_uri_check(uri);

	if (why != NULL)
		return err_set(e, EV_USAGE, "--dlq '%s': %s", uri, why);
	int rc = dlq_open(uri, &r->dlq, e);
	if (rc != 0)
		err_wrap(e, "--dlq");
	return rc;
}

/* The environment a function sees: the allow-list (or all of ours), the
 * variables Lambda sets (ref/lambda.md section 2), then -E. */
static void
lambda_env(struct fn_runner *r)
{
	char b[256], ts[25], id[37];
	const char *name = r->o.name, *region = getenv("AWS_REGION");
	struct proc_env *pe = &r->env;

	if (name == NULL) {
		name = r->o.argv != NULL ? strrchr(r->o.argv[0], '/') : NULL;
		name = name != NULL ? name + 1 : r->o.argv != NULL ? r->o.argv[0] :
		    r->o.url != NULL ? "url" : "jq";
	}
	proc_env_init(pe, r->o.inherit_env);
	proc_env_set(pe, "AWS_LAMBDA_FUNCTION_NAME", name);
	proc_env_set(pe, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
	snprintf(b, sizeof b, "%d", r->o.memory_mb > 0 ? r->o.memory_mb : 128);
	proc_env_set(pe, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", b);
	snprintf(b, sizeof b, "%lld", (long long)(r->o.timeout_ms + 999) / 1000);
	proc_env_set(pe, "AWS_LAMBDA_FUNCTION_TIMEOUT", b);
	proc_env_set(pe, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
	snprintf(b, sizeof b, "/aws/lambda/%s", name);
	proc_env_set(pe, "AWS_LAMBDA_LOG_GROUP_NAME", b);
	clock_rfc3339(clock_now_ms(), ts);
	uuid_v4(id);
	snprintf(b, sizeof b, "%.4s/%.2s/%.2s/[$LATEST]%.8s%.4s%.4s%.4s%.12s", ts, ts + 5, ts + 8,
	    id, id + 9, id + 14, id + 19, id + 24);
	proc_env_set(pe, "AWS_LAMBDA_LOG_STREAM_NAME", b);
	region = region != NULL && *region != '\0' ? region : "us-east-1";
	proc_env_set(pe, "AWS_REGION", region);
	if (getenv("AWS_DEFAULT_REGION") != NULL)
		region = getenv("AWS_DEFAULT_REGION");
	proc_env_set(pe, "AWS_DEFAULT_REGION", region);
	proc_env_set(pe, "_HANDLER", r->o.handler != NULL ? r->o.handler :
	    r->o.argv != NULL ? r->o.argv[0] : "jq");
	if (r->o.runtime_api)
		proc_env_set(pe, "TZ", ":UTC");
	if (getcwd(b, sizeof b) != NULL)
		proc_env_set(pe, "LAMBDA_TASK_ROOT", b);
	for (int i = 0; i < r->o.nenv; i++)
		proc_env_put(pe, r->o.env[i]);
}

static void release(struct fn_runner *r);

/* Everything fn_open checks before the runner is made. */
static int
check_opts(const struct fn_opts *o, struct ev_err *e)
{
	const char *why;

	for (int i = 0; i < o->nenv; i++)
		if ((why = fn_env_check(o->env[i])) != NULL)
			return err_set(e, EV_USAGE, "--env '%s': %s", o->env[i], why);
	return o->url != NULL ? fn_url_check(o, e) : 0;
}

int
fn_open(const struct fn_opts *o, struct fn_runner **rp, struct ev_err *e)
{
	struct fn_runner *r;
	int rc;

	*rp = NULL;
	if ((rc = check_opts(o, e)) != 0)
		return rc;
	r = xcalloc(1, sizeof *r);
	r->o = *o;
	if (r->o.init_timeout_ms <= 0)
		r->o.init_timeout_ms = 10000;
	*rp = r;
	if (o->jq != NULL) {
		struct ev_err je;
		if (jx_compile(o->jq, &r->jx, &je) != 0)
			rc = err_set(e, EV_USAGE, "--jq: %s", je.msg);
		r->o.jobs = 1;	/* in-process: nothing runs concurrently */
	}
	if (rc == 0 && o->dlq != NULL)
		rc = open_dlq(r, o->dlq, e);
	if (rc == 0 && o->report != NULL && (r->report = fopen(o->report, "ae")) == NULL)
		rc = err_sys(e, EV_IOERR, "--report '%s'", o->report);
	/* Room for results that wait on an earlier, slower one. */
	r->ninv = (size_t)r->o.jobs * 4;
	r->inv = xcalloc(r->ninv, sizeof *r->inv);
	r->pfd = xcalloc(r->ninv * 2 + 3 + (size_t)r->o.jobs, sizeof *r->pfd);
	r->owners = xcalloc(r->ninv * 2 + 3 + (size_t)r->o.jobs, sizeof *r->owners);
	if (o->worker || o->runtime_api)
		r->wk = xcalloc((size_t)r->o.jobs, sizeof *r->wk);
	for (int i = 0; r->wk != NULL && i < r->o.jobs; i++)
		r->wk[i].in_fd = r->wk[i].out_fd = -1;
	lambda_env(r);
	if (rc == 0 && o->url != NULL)
		rc = fn_url_open(r, e);
	if (rc == 0 && o->runtime_api)
		rc = fn_rt_open(r, e);
	if (rc == 0)
		rc = fn_proc_setup(e);
	if (rc != 0) {
		release(r);
		*rp = NULL;
		return rc;
	}
	r->next_open = dying;
	dying = r;
	msg_at_die(kill_on_die);
	return 0;
}

const char *
fn_env_check(const char *kv)
{
	static const char *const reserved[] = {
		"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
		"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
		"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", NULL,
	};
	size_t k = strcspn(kv, "=");

	if (k < 2 || !((kv[0] >= 'A' && kv[0] <= 'Z') || (kv[0] >= 'a' && kv[0] <= 'z')) ||
	    strspn(kv, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != k)
		return "a key is a letter, then letters, digits or '_', at least 2 characters";
	for (int i = 0; reserved[i] != NULL; i++)
		if (strlen(reserved[i]) == k && strncmp(kv, reserved[i], k) == 0)
			return "reserved by Lambda";
	return NULL;
}

static void conclude(struct fn_runner *r, struct fn_inv *v);

/* An attempt ended: retry it after a back-off, or settle it (--dlq on a
 * final failure) and make it due for output. */
static void
settle(struct fn_runner *r, struct fn_inv *v)
{
	fn_res_report(r, v);
	if (v->failed && v->attempt <= r->o.retries) {
		/* 100 ms doubling to 30 s, with full jitter (core/backoff) */
		v->not_before = clock_mono_ms() + backoff_ms(100, 30000, v->attempt - 1);
		v->attempt++;
		v->state = FN_READY;
		return;
	}
	conclude(r, v);
}

/* A final outcome: a failure is warned about and goes to the --dlq, or
 * counts against the exit status. */
static void
conclude(struct fn_runner *r, struct fn_inv *v)
{
	v->state = FN_DONE;
	if (v->failed) {
		if (!msg_quiet && !r->o.quiet)
			msg_warn("request %s failed: %.*s", v->id, (int)(v->res.n < 300 ? v->res.n : 300),
			    v->res.p);
		if (r->dlq != NULL && fn_res_dlq(r, v) != 0)
			r->failed++;
		else if (r->dlq == NULL && r->o.on_done == NULL)
			r->failed++;
	}
	if (r->o.on_done != NULL && r->o.on_done(r->o.done_ctx, v->tag, v->failed, v->res.p, v->res.n))
		r->failed++;
}

static void
emit(struct fn_runner *r, struct fn_inv *v)
{
	if (!v->skip && !r->o.no_output) {
		fn_res_line(r, v, &r->line);
		out_line(r->line.p, r->line.n);
	}
	free(v->event);
	v->event = NULL;
	free(v->rec);
	v->rec = NULL;
	v->state = FN_FREE;
	r->emit_seq++;
}

/* Writes the results that are due: in input order, or as they finish. */
static void
emit_due(struct fn_runner *r)
{
	for (int more = 1; more;) {
		more = 0;
		for (size_t i = 0; i < r->ninv; i++) {
			struct fn_inv *v = &r->inv[i];
			if (v->state == FN_DONE && (r->o.unordered || v->seq == r->emit_seq)) {
				emit(r, v);
				more = !r->o.unordered;
			}
		}
	}
}

static void
start(struct fn_runner *r, struct fn_inv *v)
{
	if (v->n > FN_MAX_RESULT) {
		/* Lambda refuses the Invoke itself: nothing runs, and a retry
		 * could not do better. */
		v->failed = 1;
		fn_res_error(&v->res, "RequestEntityTooLargeException", "Request must be "
		    "smaller than %d bytes for the InvokeFunction operation", FN_MAX_RESULT);
		conclude(r, v);
		return;
	}
	if (r->jx != NULL) {
		fn_res_jq(r, v);
		settle(r, v);
		return;
	}
	v->state = FN_RUNNING;
	r->running++;
	if (r->url != NULL)
		fn_url_start(r, v);
	else if (r->wk != NULL)
		fn_work_start(r, v);
	else
		fn_proc_start(r, v);
}

/* Starts ready invocations (retries past their back-off) while slots
 * are free, the earliest in input order first; returns the earliest
 * pending back-off, or -1. */
static int64_t
start_ready(struct fn_runner *r)
{
	int64_t now = clock_mono_ms(), next = -1;

	while (r->running < r->o.jobs && !sig_stop) {
		struct fn_inv *first = NULL;
		for (size_t i = 0; i < r->ninv; i++) {
			struct fn_inv *v = &r->inv[i];
			if (v->state == FN_READY && v->not_before <= now &&
			    (first == NULL || v->seq < first->seq))
				first = v;
		}
		if (first == NULL)
			break;
		start(r, first);
	}
	for (size_t i = 0; i < r->ninv; i++) {
		struct fn_inv *v = &r->inv[i];
		if (v->state == FN_READY && v->not_before > now && (next < 0 || v->not_before < next))
			next = v->not_before;
	}
	return next;
}

static int
busy(const struct fn_runner *r)
{
	for (size_t i = 0; i < r->ninv; i++)
		if (r->inv[i].state == FN_READY || r->inv[i].state == FN_RUNNING)
			return 1;
	return 0;
}

static void
finish_if_done(struct fn_runner *r, struct fn_inv *v)
{
	if (v->state != FN_RUNNING)
		return;
	if (r->url != NULL ? !fn_url_done(r, v) : r->wk != NULL ? !fn_work_done(r, v) :
	    !v->exited || v->out_fd >= 0)
		return;
	if (v->wk != NULL)
		fn_work_init_check(r, v, clock_mono_ms());	/* it answered before we looked */
	r->running--;
	if (r->url != NULL)
		fn_url_result(r, v);
	else
		fn_res_process(r, v);
	settle(r, v);
}

/* Kills handlers past their deadline; returns the nearest deadline still
 * ahead, or -1.  A starting worker is looked at every FN_MEM_TICK_MS. */
static int64_t
enforce_timeouts(struct fn_runner *r)
{
	int64_t now = clock_mono_ms(), next = -1;

	for (size_t i = 0; i < r->ninv; i++) {
		struct fn_inv *v = &r->inv[i];
		if (v->state != FN_RUNNING || v->timed_out)
			continue;
		if (v->wk != NULL && fn_work_init_check(r, v, now)) {
			int64_t t = now + FN_MEM_TICK_MS < v->deadline ? now + FN_MEM_TICK_MS : v->deadline;
			if (next < 0 || t < next)
				next = t;
			continue;
		}
		if (v->exited) {
			/* Something escaped the group and holds stdout: stop waiting. */
			if (v->deadline <= now && v->out_fd >= 0) {
				close(v->out_fd);
				v->out_fd = -1;
			}
			continue;
		}
		if (v->deadline <= now || v->init_timed_out) {
			v->timed_out = 1;
			fn_proc_kill(v);
		} else if (next < 0 || v->deadline < next) {
			next = v->deadline;
		}
	}
	return next;
}

/* A worker's pipes, for as long as v has a line to write or is owed one. */
static nfds_t
poll_worker(struct fn_inv *v, struct pollfd *pfd, struct fn_inv **owners, nfds_t n)
{
	if (v->wk->in_fd >= 0 && v->in_off <= v->n) {
		pfd[n] = (struct pollfd){ v->wk->in_fd, POLLOUT, 0 };
		owners[n++] = v;
	}
	if (v->wk->out_fd >= 0) {
		pfd[n] = (struct pollfd){ v->wk->out_fd, POLLIN, 0 };
		owners[n++] = v;
	}
	return n;
}

/* The poll set: the wake-up pipe, the keeper's socket (-1 when there is
 * none: poll passes over it), then every open handler pipe, then
 * watch_fd (when >= 0).  Returns how many entries; owners[i] names the
 * invocation of pfd[i], NULL for the others. */
static nfds_t
poll_set(struct fn_runner *r, int watch_fd, struct pollfd *pfd, struct fn_inv **owners)
{
	nfds_t n = 0;

	pfd[n] = (struct pollfd){ fn_proc_wake_fd(), POLLIN, 0 };
	owners[n++] = NULL;
	pfd[n] = (struct pollfd){ fn_proc_keeper_fd(r), POLLIN, 0 };
	owners[n++] = NULL;
	if (r->rt != NULL)
		n = fn_rt_poll_set(r, pfd, owners, n);
	r->nfixed = n;
	for (size_t i = 0; i < r->ninv; i++) {
		struct fn_inv *v = &r->inv[i];
		if (v->state != FN_RUNNING)
			continue;
		if (v->wk != NULL) {
			n = poll_worker(v, pfd, owners, n);
			continue;
		}
		if (v->in_fd >= 0) {
			pfd[n] = (struct pollfd){ v->in_fd, POLLOUT, 0 };
			owners[n++] = v;
		}
		if (v->out_fd >= 0) {
			pfd[n] = (struct pollfd){ v->out_fd, POLLIN, 0 };
			owners[n++] = v;
		}
	}
	if (watch_fd >= 0) {
		pfd[n] = (struct pollfd){ watch_fd, POLLIN, 0 };
		owners[n++] = NULL;
	}
	return n;
}

static int
exits_pending(const struct fn_runner *r)
{
#ifdef __linux__
	return fn_keeper_pending(r);
#else
	(void)r;
	return 0;
#endif
}

/* The first half of a round: start what may start, kill what is past
 * its deadline, and build the poll set (watch_fd last, when >= 0) in
 * r->pfd; returns how many entries, with *t how long the round may wait
 * (wait_ms -1: until something happens, at most 100 ms so stop requests
 * are seen). */
static nfds_t
pump_pre(struct fn_runner *r, int watch_fd, int wait_ms, int *t)
{
	int64_t next = start_ready(r), dl = enforce_timeouts(r), now = clock_mono_ms();
	int tick = 100;

	if (r->o.memory_mb > 0 && r->running > 0) {
		fn_mem_enforce(r);
		tick = FN_MEM_TICK_MS;
	}
	if (dl >= 0 && (next < 0 || dl < next))
		next = dl;
	*t = next < 0 ? tick : next - now < 0 ? 0 : next - now > tick ? tick : (int)(next - now);
	if (wait_ms >= 0 && wait_ms < *t)
		*t = wait_ms;
	if (r->rt != NULL)
		*t = fn_rt_wait_ms(r, *t);
	return poll_set(r, watch_fd, r->pfd, r->owners);
}

/* The second half, once r->pfd[0..n) has its revents: feed and read the
 * pipes, reap, settle and write what is due.  Returns 1 when the
 * watch_fd entry became readable. */
static int
pump_post(struct fn_runner *r, nfds_t n)
{
	struct pollfd *pfd = r->pfd;
	int ready = 0, news = pfd[0].revents || pfd[1].revents;

	if (pfd[0].revents)
		fn_proc_drain_wake();
	/* the keeper's news: fn_proc_reap; a Runtime API's: fn_rt_run */
	for (nfds_t i = r->nfixed; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (r->owners[i] == NULL)
			ready = 1;
		else if (pfd[i].events == POLLOUT)
			fn_proc_write(r->owners[i]);
		else
			fn_proc_read(r->owners[i]);
	}
	if (r->rt != NULL)
		fn_rt_run(r);
	struct fn_inv *v;
	/* An end is news only after a SIGCHLD or a keeper's word: no system
	 * calls for it on the other turns. */
	while ((news || exits_pending(r)) && (v = fn_proc_reap(r)) != NULL)
		fn_proc_read(v);	/* the group is dead: the rest is there, or EOF */
	fn_proc_orphans(r, 0);
	for (size_t i = 0; i < r->ninv; i++)
		finish_if_done(r, &r->inv[i]);
	emit_due(r);
	return ready;
}

/* One round of the loop: start what may start, wait up to wait_ms for
 * pipes, exits or watch_fd, then settle and write what is due.  Returns
 * 1 when watch_fd became readable. */
static int
pump(struct fn_runner *r, int watch_fd, int wait_ms)
{
	int t;
	nfds_t n = pump_pre(r, watch_fd, wait_ms, &t);

	if ((r->url != NULL ? fn_url_wait(r, r->pfd, n, t) : poll(r->pfd, n, t)) <= 0)
		for (nfds_t i = 0; i < n; i++)
			r->pfd[i].revents = 0;	/* EINTR leaves them as they were */
	return pump_post(r, n);
}

void
fn_pump_group(struct fn_runner *const *rs, int nr, int wait_ms)
{
	struct pollfd *all = NULL;
	size_t cap = 0, total = 0;
	nfds_t *n = xcalloc((size_t)nr + 1, sizeof *n);
	struct fn_runner *url = NULL;
	int t = wait_ms, nurl = 0;

	for (int i = 0; i < nr; i++) {
		int ti;
		n[i] = pump_pre(rs[i], -1, wait_ms, &ti);
		if (ti < t || t < 0)
			t = ti;
		XGROW(&all, &cap, total + n[i]);
		memcpy(all + total, rs[i]->pfd, n[i] * sizeof *all);
		total += n[i];
		if (rs[i]->url != NULL && fn_busy(rs[i])) {
			url = url != NULL ? url : rs[i];
			nurl++;
		}
	}
	/* One HTTP function's transfers are waited for with every pipe; a
	 * second one's are only moved on each round, so keep rounds short. */
	if (nurl > 1 && (t < 0 || t > 5))
		t = 5;
	int got = url != NULL ? fn_url_wait(url, all, total, t) : poll(all, total, t);
	for (size_t i = 0, k = 0; (int)i < nr; i++)
		for (nfds_t j = 0; j < n[i]; j++, k++)
			rs[i]->pfd[j].revents = got > 0 ? all[k].revents : 0;
	for (int i = 0; i < nr; i++) {
		if (rs[i]->url != NULL && rs[i] != url)
			fn_url_wait(rs[i], NULL, 0, 0);	/* moves its transfers on */
		pump_post(rs[i], n[i]);
	}
	free(all);
	free(n);
}

/* A stop request: events not yet started are dropped (not written, not
 * run), a pending retry ends as a failure; running ones go on to their
 * end or their timeout. */
static void
drop_unstarted(struct fn_runner *r)
{
	for (size_t i = 0; i < r->ninv; i++) {
		struct fn_inv *v = &r->inv[i];
		if (v->state != FN_READY)
			continue;
		if (v->attempt > 1) {
			/* A retry that will not happen: its last error stands. */
			v->attempt--;
			conclude(r, v);
		} else {
			v->state = FN_DONE;
			v->skip = 1;
			r->dropped++;
			if (r->o.on_done != NULL)
				r->o.on_done(r->o.done_ctx, v->tag, 0, NULL, 0);
		}
	}
}

static int
has_room(const struct fn_runner *r)
{
	if (!r->o.unordered)
		return r->next_seq - r->emit_seq < r->ninv;
	for (size_t i = 0; i < r->ninv; i++)
		if (r->inv[i].state == FN_FREE)
			return 1;
	return 0;
}

/* Queues one invocation of event (copied); rec (taken) locates the
 * records of a batch. */
static void
enqueue(struct fn_runner *r, const char *event, size_t n, void *tag, size_t *rec, size_t nrec)
{
	struct fn_inv *v = NULL;

	while (!has_room(r)) {
		if (sig_stop)
			drop_unstarted(r);	/* else a pending retry could block the way */
		pump(r, -1, -1);
	}
	for (size_t i = 0; v == NULL && i < r->ninv; i++)
		if (r->inv[i].state == FN_FREE)
			v = &r->inv[i];
	v->event = xmalloc(n + 1);
	memcpy(v->event, event, n);
	v->event[n] = '\0';
	v->n = n;
	v->tag = tag;
	v->rec = rec;
	v->nrec = nrec;
	v->seq = r->next_seq++;
	v->attempt = 1;
	v->not_before = 0;
	v->skip = 0;
	uuid_v4(v->id);
	v->state = FN_READY;
	/* Start it now, and take in whatever is ready without waiting. */
	pump(r, -1, 0);
}

/* Queues the batch gathered so far, if any, as {"Records":[...]}. */
static void
flush_batch(struct fn_runner *r)
{
	if (r->nbrec == 0)
		return;
	buf_adds(&r->batch, "]}");
	size_t *rec = r->brec, nrec = r->nbrec;
	r->brec = NULL;
	r->nbrec = 0;
	enqueue(r, r->batch.p, r->batch.n, NULL, rec, nrec);
}

int
fn_submit(struct fn_runner *r, const char *event, size_t n, void *tag)
{
	if (r->o.batch <= 0) {
		enqueue(r, event, n, tag, NULL, 0);
		return r->err.code;
	}
	/* Lambda stops gathering at its 6 MB payload limit too. */
	if (r->nbrec > 0 && r->batch.n + n + 3 > FN_MAX_RESULT)
		flush_batch(r);
	if (r->nbrec == 0) {
		buf_reset(&r->batch);
		buf_adds(&r->batch, "{\"Records\":[");
		r->brec = xcalloc((size_t)r->o.batch * 2, sizeof *r->brec);
	} else {
		buf_addc(&r->batch, ',');
	}
	r->brec[r->nbrec * 2] = r->batch.n;
	r->brec[r->nbrec * 2 + 1] = n;
	r->nbrec++;
	buf_add(&r->batch, event, n);
	if (r->nbrec == (size_t)r->o.batch)
		flush_batch(r);
	return r->err.code;
}

int
fn_pump(struct fn_runner *r, int wait_ms)
{
	pump(r, -1, wait_ms);
	int n = r->o.jobs - r->running;
	for (size_t i = 0; i < r->ninv; i++)
		if (r->inv[i].state == FN_READY)
			n--;
	return n > 0 && has_room(r) ? n : 0;
}

void
fn_expire(struct fn_runner *r, void *tag)
{
	for (size_t i = 0; i < r->ninv; i++) {
		struct fn_inv *v = &r->inv[i];
		if (v->tag != tag || v->state != FN_RUNNING)
			continue;
		if (r->url != NULL)
			fn_url_cancel(r, v);	/* settled as a timeout next round */
		else if (v->deadline > clock_mono_ms())
			v->deadline = clock_mono_ms();	/* the next round kills it */
	}
}

int
fn_busy(const struct fn_runner *r)
{
	return busy(r);
}

/* Runs until nothing is queued or running. */
static void
drain(struct fn_runner *r)
{
	while (busy(r)) {
		if (sig_stop)
			drop_unstarted(r);
		pump(r, -1, -1);
	}
	emit_due(r);
}

/* Writes what is due now that the input pauses; a failure ends the run. */
static int
flush_out(struct fn_runner *r)
{
	if (r->err.code == 0 && out_flush() != 0)
		err_sys(&r->err, EV_IOERR, "write error");
	return r->err.code;
}

int
fn_idle(struct fn_runner *r)
{
	flush_batch(r);		/* the input is idle: the batch is what came */
	while (!sig_stop && flush_out(r) == 0) {
		if (r->o.input_fd < 0) {
			/* Cannot tell when input comes: finish what runs first. */
			if (!busy(r))
				return 0;
			pump(r, -1, -1);
			continue;
		}
		/* Wait in poll, not in read, so a stop request is seen. */
		if (pump(r, r->o.input_fd, -1))
			return 0;
	}
	return sig_stop ? -1 : r->err.code;
}

int
fn_finish(struct fn_runner *r, struct ev_err *e)
{
	if (!sig_stop)
		flush_batch(r);
	r->dropped += r->nbrec;	/* a batch a stop request cut short */
	drain(r);
	if (r->wk != NULL)
		fn_work_stop_all(r);
	fn_proc_shutdown(r);
	if (r->dropped > 0)
		msg_warn("stopped: %lu event(s) not run", r->dropped);
	int status = r->failed > 0 ? EV_NONE : EV_OK;
	if (fn_res_report_close(r) != 0 && r->err.code == 0)
		err_sys(&r->err, EV_IOERR, "--report '%s'", r->o.report);
	struct ev_err de;
	if (dlq_close(r->dlq, &de) != 0 && r->err.code == 0)
		r->err = de;
	r->dlq = NULL;
	if (r->err.code != 0) {
		*e = r->err;
		status = r->err.code;
	}
	release(r);
	return status;
}

/* Frees r and what it holds (the report and --dlq closed unchecked). */
static void
release(struct fn_runner *r)
{
	if (r->report != NULL)
		fclose(r->report);
	if (r->dlq != NULL) {
		struct ev_err ignored;
		dlq_close(r->dlq, &ignored);
	}
	if (r->jx != NULL)
		jx_free(r->jx);
	fn_url_close(r);
	for (size_t i = 0; i < r->ninv; i++) {
		free(r->inv[i].rec);
		free(r->inv[i].event);
		buf_free(&r->inv[i].out);
		buf_free(&r->inv[i].res);
	}
	buf_free(&r->line);
	buf_free(&r->batch);
	free(r->brec);
	free(r->inv);
	free(r->pfd);
	free(r->owners);
	if (r->rt != NULL)
		fn_rt_close(r);
#ifdef __linux__
	fn_keeper_forget(r);
#endif
	free(r->wk);
	proc_env_free(&r->env);
	for (struct fn_runner **p = &dying; *p != NULL; p = &(*p)->next_open)
		if (*p == r) {
			*p = r->next_open;
			break;
		}
	free(r);
}
