/* fres — fnflow's Task resources: one fn runner per --function binding,
 * served together from the caller's thread (fn_pump_group); service
 * integrations done at once (fres_svc.c).  Every end is told through
 * opts.done from fres_pump, never from within fres_start, so the
 * interpreter may start the next task from done.  See fres.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/sig.h"
#include "core/words.h"
#include "fn/fn.h"
#include "fres_int.h"

/* A function's own timeout (Lambda's largest): a Task without
 * TimeoutSeconds waits for its function as long as Lambda would at most. */
enum { FRES_FN_TIMEOUT_MS = 900 * 1000 };

struct fbind {
	char *name;
	const char *uri;	/* the URI, in the --function argument */
	char **argv;		/* exec:, worker:, runtime: its words */
	struct fn_runner *r;
	int inflight;		/* submitted, not yet ended in fn */
	int jobs;
};

struct fres {
	struct fres_opts o;
	struct fbind *b;
	int nb;
	struct fn_runner **runners;	/* b[i].r, for fn_pump_group */
	struct fres_svc *svc;
	struct ftask *tasks;	/* every task not yet told of, and abandoned ones */
};

static const char *const schemes[] = { "exec:", "worker:", "jq:", "url:", "runtime:", NULL };

static struct fbind *
find_bind(const struct fres *rs, const char *name, size_t len)
{
	for (int i = 0; i < rs->nb; i++)
		if (strlen(rs->b[i].name) == len && memcmp(rs->b[i].name, name, len) == 0)
			return &rs->b[i];
	return NULL;
}

/* fn's end of an invocation: kept for the next fres_pump. */
static int
on_fn_done(void *ctx, void *tag, int failed, const char *res, size_t n)
{
	struct ftask *t = tag;
	struct ferr f;

	(void)ctx;
	t->b->inflight--;
	if (t->state == FT_ABANDONED) {
		t->state = FT_DONE;
		t->silent = 1;	/* told of already: freed unseen */
		return 0;
	}
	if (res == NULL) {
		ferr_set(&f, "States.Runtime", "the task was not run: the run was stopped");
		fres_task_fail(t, &f);
	} else if (failed) {
		fres_lambda_error(res, n, &f);
		fres_task_fail(t, &f);
	} else if (t->invoke) {
		struct buf w = { 0 };
		fres_invoke_wrap(res, n, &w);
		fres_task_ok(t, w.p, w.n);
		buf_free(&w);
	} else {
		fres_task_ok(t, res, n);
	}
	return 0;
}

/* NAME=URI into b: 0, or 2 with e. */
static int
parse_binding(const char *spec, struct fbind *b, struct ev_err *e)
{
	const char *eq = strchr(spec, '=');
	const char *why;

	memset(b, 0, sizeof *b);
	if (eq == NULL || eq == spec)
		return err_set(e, EV_USAGE, "--function '%s': expected NAME=URI", spec);
	b->name = xstrdup(spec);
	b->name[eq - spec] = '\0';
	b->uri = eq + 1;
	for (int i = 0; schemes[i] != NULL; i++)
		if (strncmp(b->uri, schemes[i], strlen(schemes[i])) == 0) {
			const char *rest = b->uri + strlen(schemes[i]);
			if (*rest == '\0')
				return err_set(e, EV_USAGE, "--function '%s': nothing after '%s'",
				    spec, schemes[i]);
			if (i == 2 || i == 3)
				return 0;	/* jq: and url: take the rest as it is */
			if ((b->argv = words_split(rest, &why)) == NULL)
				return err_set(e, EV_USAGE, "--function '%s': %s", spec, why);
			return 0;
		}
	return err_set(e, EV_USAGE, "--function '%s': unknown scheme (exec:, worker:, jq:, url: "
	    "or runtime:)", spec);
}

static void
bind_opts(struct fres *rs, const struct fbind *b, struct fn_opts *fo)
{
	const char *rest = strchr(b->uri, ':') + 1;

	memset(fo, 0, sizeof *fo);
	fo->jobs = rs->o.jobs > 0 ? rs->o.jobs : 1;
	fo->timeout_ms = rs->o.timeout_ms > 0 ? rs->o.timeout_ms : FRES_FN_TIMEOUT_MS;
	fo->name = b->name;
	fo->input_fd = -1;
	fo->unordered = 1;	/* each end is told as it comes */
	fo->no_output = 1;
	fo->quiet = 1;
	fo->endpoint_url = rs->o.endpoint_url;
	fo->on_done = on_fn_done;
	fo->done_ctx = rs;
	if (strncmp(b->uri, "jq:", 3) == 0)
		fo->jq = rest;
	else if (strncmp(b->uri, "url:", 4) == 0)
		fo->url = rest;
	else
		fo->argv = b->argv;
	fo->worker = strncmp(b->uri, "worker:", 7) == 0;
	fo->runtime_api = strncmp(b->uri, "runtime:", 8) == 0;
}

int
fres_open(const struct fres_opts *o, struct fres **rp, struct ev_err *e)
{
	struct fres *rs = xcalloc(1, sizeof *rs);
	int rc = 0;

	*rp = NULL;
	rs->o = *o;
	rs->b = xcalloc((size_t)o->nfunctions + 1, sizeof *rs->b);
	rs->runners = xcalloc((size_t)o->nfunctions + 1, sizeof *rs->runners);
	for (int i = 0; rc == 0 && i < o->nfunctions; i++) {
		struct fbind *b = &rs->b[i];
		struct fn_opts fo;
		rs->nb = i + 1;
		if ((rc = parse_binding(o->functions[i], b, e)) != 0)
			break;
		if (find_bind(rs, b->name, strlen(b->name)) != b) {
			rc = err_set(e, EV_USAGE, "--function '%s': '%s' is bound twice",
			    o->functions[i], b->name);
			break;
		}
		bind_opts(rs, b, &fo);
		if ((rc = fn_open(&fo, &b->r, e)) != 0)
			err_wrap(e, "--function '%s'", o->functions[i]);
		b->jobs = fo.jq != NULL ? 1 : fo.jobs;
		rs->runners[i] = b->r;
	}
	if (rc == 0)
		rc = fres_svc_open(o, &rs->svc, e);
	if (rc != 0) {
		fres_close(rs);
		return rc;
	}
	*rp = rs;
	return 0;
}

/* The function name a Lambda ARN or a plain name gives: its start and
 * length, or NULL. */
static const char *
lambda_name(const char *res, size_t *len)
{
	static const char pre[] = "arn:aws:lambda:";

	if (strncmp(res, pre, sizeof pre - 1) != 0) {
		*len = strlen(res);
		return strchr(res, ':') == NULL && *len > 0 ? res : NULL;
	}
	const char *f = strstr(res, ":function:");
	if (f == NULL)
		return NULL;
	f += strlen(":function:");
	*len = strcspn(f, ":");
	return *len > 0 ? f : NULL;
}

static const char *
check_service(const char *res)
{
	static const char *const known[] = {
		"arn:aws:states:::lambda:invoke", "arn:aws:states:::sqs:sendMessage",
		"arn:aws:states:::events:putEvents", NULL,
	};
	for (int i = 0; known[i] != NULL; i++) {
		size_t k = strlen(known[i]);
		if (strncmp(res, known[i], k) != 0)
			continue;
		if (res[k] == '\0')
			return NULL;
		if (strcmp(res + k, ".waitForTaskToken") == 0)
			return "the callback pattern (.waitForTaskToken) is not supported: nothing "
			    "here can send the task token back";
		if (strcmp(res + k, ".sync") == 0)
			return "the .sync pattern is not supported for this service";
	}
	return "no supported service integration (arn:aws:states:::lambda:invoke, "
	    "sqs:sendMessage, events:putEvents)";
}

const char *
fres_check(const struct fres *rs, const char *resource)
{
	static __thread char why[512];
	size_t len;

	if (strncmp(resource, "arn:aws:states:", 15) == 0)
		return check_service(resource);
	const char *name = lambda_name(resource, &len);
	if (name == NULL)
		return strncmp(resource, "arn:", 4) == 0 ? "an ARN of no service that can be run "
		    "here (a Lambda function or arn:aws:states:::SERVICE:API)" :
		    "not a function name or an ARN";
	if (find_bind(rs, name, len) == NULL) {
		snprintf(why, sizeof why, "no function '%.*s' is bound (--function %.*s=URI)",
		    (int)(len > 200 ? 200 : len), name, (int)(len > 200 ? 200 : len), name);
		return why;
	}
	return NULL;
}

struct ftask *
fres_task_new(struct fres *rs, void *tag)
{
	struct ftask *t = xmalloc(sizeof *t);

	/* cleared but for its 4 KiB error, cleared enough as two strings */
	memset(t, 0, offsetof(struct ftask, f));
	t->f.error[0] = t->f.cause[0] = '\0';
	t->rs = rs;
	t->tag = tag;
	t->state = FT_RUNNING;
	t->next = rs->tasks;
	rs->tasks = t;
	return t;
}

void
fres_task_ok(struct ftask *t, const char *res, size_t n)
{
	t->ok = 1;
	buf_reset(&t->res);
	buf_add(&t->res, res, n);
	t->state = FT_DONE;
}

void
fres_task_fail(struct ftask *t, const struct ferr *f)
{
	t->ok = 0;
	t->f = *f;
	t->state = FT_DONE;
}

static void
task_free(struct ftask *t)
{
	free(t->input);
	buf_free(&t->res);
	free(t);
}

/* Hands t to its function now, or parks it until a slot is free. */
static void
submit(struct ftask *t)
{
	struct fbind *b = t->b;

	if (b->inflight >= b->jobs) {
		t->state = FT_PARKED;
		return;
	}
	t->state = FT_RUNNING;
	b->inflight++;
	/* fn copies the event; a jq function may end (on_fn_done) right here. */
	fn_submit(b->r, t->input, t->n, t);
	free(t->input);
	t->input = NULL;
}

static int
start_function(struct fres *rs, struct ftask *t, const char *name, size_t len,
    const char *input, size_t n, struct ferr *f)
{
	char arn[512];

	if ((t->b = find_bind(rs, name, len)) == NULL) {
		char nm[256];
		snprintf(nm, sizeof nm, "%.*s", (int)(len > 200 ? 200 : len), name);
		fres_lambda_arn(nm, arn, sizeof arn);
		return ferr_set(f, "Lambda.ResourceNotFoundException", "Function not found: %s "
		    "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException)",
		    arn);
	}
	t->input = xmalloc(n + 1);
	memcpy(t->input, input, n);
	t->input[n] = '\0';
	t->n = n;
	submit(t);
	return 0;
}

/* InvocationType Event: the task ends now with Lambda's 202, and the
 * function runs on unseen (its end, even a failure, is not the task's). */
static void
accept_async(struct fres *rs, struct ftask *t)
{
	struct ftask *told = fres_task_new(rs, t->tag);

	fres_invoke_accepted(&told->res);
	told->ok = 1;
	told->state = FT_DONE;
	t->silent = 1;
	t->deadline = 0;
}

static int
start_service(struct fres *rs, struct ftask *t, const char *resource, const char *input,
    size_t n, struct ferr *f)
{
	int rc;

	if (strcmp(resource, "arn:aws:states:::sqs:sendMessage") == 0) {
		rc = fres_sqs_send(rs->svc, input, n, &t->res, f);
	} else if (strcmp(resource, "arn:aws:states:::events:putEvents") == 0) {
		const char *arns[2] = {
			rs->o.execution_arn != NULL ? rs->o.execution_arn(rs->o.ctx, t->tag) : NULL,
			rs->o.state_machine_arn,
		};
		rc = fres_events_put(rs->svc, input, n, arns, &t->res, f);
	} else {
		struct buf payload = { 0 };
		char *name = NULL;
		int async = 0;
		rc = fres_invoke_args(input, n, &name, &payload, &async, f);
		t->invoke = 1;
		if (rc == 0)
			rc = start_function(rs, t, name, strlen(name), payload.p, payload.n, f);
		free(name);
		buf_free(&payload);
		if (rc == 0 && async)
			accept_async(rs, t);
		return rc;
	}
	if (rc == 0) {
		t->ok = 1;
		t->state = FT_DONE;
	}
	return rc;
}

int
fres_start(struct fres *rs, const char *resource, const char *input, size_t n,
    int64_t timeout_ms, void *tag, struct ferr *f)
{
	const char *why = fres_check(rs, resource);
	size_t len;
	int rc;

	if (why != NULL)
		return ferr_set(f, "States.Runtime", "%s: %s", resource, why);
	struct ftask *t = fres_task_new(rs, tag);
	if (timeout_ms > 0)
		t->deadline = clock_mono_ms() + timeout_ms;
	if (strncmp(resource, "arn:aws:states:", 15) == 0) {
		rc = start_service(rs, t, resource, input, n, f);
	} else {
		const char *name = lambda_name(resource, &len);
		rc = start_function(rs, t, name, len, input, n, f);
	}
	if (rc != 0)
		fres_task_fail(t, f);	/* a task's failure, told through done */
	return 0;
}

/* Parked tasks whose function has a free slot go now, oldest first. */
static void
unpark(struct fres *rs)
{
	struct ftask *oldest;

	do {
		oldest = NULL;
		for (struct ftask *t = rs->tasks; t != NULL; t = t->next)
			if (t->state == FT_PARKED && t->b->inflight < t->b->jobs)
				oldest = t;	/* the list is newest first */
		if (oldest != NULL)
			submit(oldest);
	} while (oldest != NULL);
}

/* Tasks past their TimeoutSeconds fail with States.Timeout now; their
 * function is stopped (fn_expire) and its end, when fn tells it, is
 * dropped.  Returns the nearest deadline still ahead, or -1. */
static int64_t
expire(struct fres *rs, int64_t now)
{
	int64_t next = -1;

	for (struct ftask *t = rs->tasks; t != NULL; t = t->next) {
		if ((t->state != FT_RUNNING && t->state != FT_PARKED) || t->deadline == 0 ||
		    t->silent)
			continue;
		if (t->deadline > now) {
			if (next < 0 || t->deadline < next)
				next = t->deadline;
			continue;
		}
		struct ferr f;
		/* AWS gives a task's timeout no cause. */
		ferr_set(&f, "States.Timeout", "%s", "");
		int parked = t->state == FT_PARKED;
		fres_task_fail(t, &f);
		if (t->b != NULL && !parked) {
			fn_expire(t->b->r, t);
			struct ftask *ghost = xcalloc(1, sizeof *ghost);
			*ghost = *t;	/* fn still holds t: it stays, abandoned */
			memset(&ghost->res, 0, sizeof ghost->res);
			t->state = FT_ABANDONED;
			ghost->next = rs->tasks;
			rs->tasks = ghost;
		}
	}
	return next;
}

/* Calls done for every task whose end is known, oldest first; done may
 * start new tasks.  Returns how many were told of. */
static int
tell(struct fres *rs)
{
	struct ftask *ended = NULL, **p = &rs->tasks;
	int n = 0;

	while (*p != NULL) {
		struct ftask *t = *p;
		if (t->state == FT_DONE) {
			*p = t->next;
			t->next = ended;	/* reversed: oldest first */
			ended = t;
		} else {
			p = &t->next;
		}
	}
	while (ended != NULL) {
		struct ftask *t = ended;
		ended = t->next;
		if (!t->silent) {
			if (rs->o.done != NULL)
				rs->o.done(rs->o.ctx, t->tag, t->ok, t->ok ? t->res.p : NULL,
				    t->ok ? t->res.n : 0, t->ok ? NULL : &t->f);
			n++;
		}
		task_free(t);
	}
	return n;
}

static int
running(const struct fres *rs)
{
	int n = 0;

	for (const struct ftask *t = rs->tasks; t != NULL; t = t->next)
		n += (t->state == FT_RUNNING || t->state == FT_PARKED) && !t->silent;
	return n;
}

static int
fn_busy_any(const struct fres *rs)
{
	for (int i = 0; i < rs->nb; i++)
		if (rs->b[i].inflight > 0)
			return 1;
	return 0;
}

int
fres_pump(struct fres *rs, int wait_ms)
{
	int64_t until = clock_mono_ms() + (wait_ms > 0 ? wait_ms : 0);

	for (int rounds = 0;; rounds++) {
		int64_t now = clock_mono_ms(), next = expire(rs, now);
		unpark(rs);
		if (tell(rs) > 0 || !fn_busy_any(rs) || (rounds > 0 && now >= until))
			return running(rs);
		int64_t t = until - now;
		if (next >= 0 && next - now < t)
			t = next - now;
		fn_pump_group(rs->runners, rs->nb, (int)(t < 0 ? 0 : t));
	}
}

void
fres_close(struct fres *rs)
{
	struct ev_err e;

	if (rs == NULL)
		return;
	/* Every task still running ends (done is called), abandoned ones
	 * too; on a stop request fn_finish drops what has not started. */
	while (!sig_stop && (fn_busy_any(rs) || rs->tasks != NULL))
		fres_pump(rs, 100);
	/* The bus first: a runner's end kills every child of ours that is
	 * not its own, and a bus exec target's must finish first. */
	fres_svc_close(rs->svc);
	for (int i = 0; i < rs->nb; i++) {
		if (rs->b[i].r != NULL)
			fn_finish(rs->b[i].r, &e);
		free(rs->b[i].name);
		words_free(rs->b[i].argv);
	}
	struct ferr f;
	ferr_set(&f, "States.Runtime", "the task was not run: the run was stopped");
	for (struct ftask *t = rs->tasks; t != NULL; t = t->next) {
		if (t->state == FT_ABANDONED)
			t->silent = 1;	/* told of already */
		if (t->state != FT_DONE)
			fres_task_fail(t, &f);
	}
	tell(rs);
	free(rs->b);
	free(rs->runners);
	free(rs);
}
