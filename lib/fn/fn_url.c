/* fn_url — HTTP functions (--url): each invocation is one POST of the
 * event over lib/http's curl multi handle, -j connections kept alive.
 * No process runs: an invocation is marked exited from the start, so the
 * process side (timeouts, kills, pipes) passes over it, and the runner's
 * poll waits in http_wait, which watches its pipes and the transfers at
 * once.  The request timeout is --timeout, held by libcurl. */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/jx.h"
#include "fn_int.h"
#include "http/http.h"

struct fn_url {
	struct http *h;
	struct http_req *rq;	/* one per invocation slot, as r->inv */
	struct buf *trace;	/* the trace id each one carries */
};

int
fn_url_check(const struct fn_opts *o, struct ev_err *e)
{
	const char *why = http_url_check(o->url);

	if (why != NULL)
		return err_set(e, EV_USAGE, "--url '%s': %s", o->url, why);
	if (o->worker || o->memory_mb > 0)
		return err_set(e, EV_USAGE, "--url: %s has no meaning for an HTTP function",
		    o->worker ? "--worker" : "--memory");
	return 0;
}

int
fn_url_open(struct fn_runner *r, struct ev_err *e)
{
	struct http_conf c = {
		.url = r->o.url, .method = "POST", .concurrency = r->o.jobs,
		.rate = HTTP_RATE_NONE, .timeout_ms = r->o.timeout_ms,
	};
	struct fn_url *u = xcalloc(1, sizeof *u);
	int rc = http_open(&c, &u->h, e);
	if (rc != 0) {
		free(u);
		return rc;
	}
	u->rq = xcalloc(r->ninv, sizeof *u->rq);
	u->trace = xcalloc(r->ninv, sizeof *u->trace);
	r->url = u;
	return 0;
}

void
fn_url_close(struct fn_runner *r)
{
	struct fn_url *u = r->url;

	if (u == NULL)
		return;
	http_close(u->h);
	for (size_t i = 0; i < r->ninv; i++)
		buf_free(&u->trace[i]);
	free(u->trace);
	free(u->rq);
	free(u);
	r->url = NULL;
}

void
fn_url_start(struct fn_runner *r, struct fn_inv *v)
{
	size_t i = (size_t)(v - r->inv);
	struct http_req *rq = &r->url->rq[i];
	struct buf *t = &r->url->trace[i];

	v->start = clock_mono_ms();
	v->deadline = v->start + r->o.timeout_ms;
	v->exited = 1;		/* nothing to wait for, kill or time out */
	v->pid = 0;
	v->in_fd = v->out_fd = -1;
	v->timed_out = v->spawn_errno = v->oom = v->initing = v->init_timed_out = 0;
	v->wk = NULL;
	v->init_ms = -1;
	v->max_mb = 0;
	memset(rq, 0, sizeof *rq);
	rq->body = v->event;
	rq->n = v->n;
	buf_reset(t);
	if (aws_trace_find(v->event, v->n, t) && t->n <= FN_TRACE_MAX) {
		buf_addc(t, '\0');
		rq->trace = t->p;
	}
	rq->resp = &v->out;
	rq->resp_max = FN_MAX_RESULT;
	/* The runner starts no more than -j, the connections there are. */
	if (!http_start(r->url->h, rq)) {
		rq->done = 1;
		rq->code = "CONNECTION_ERROR";
		strcpy(rq->why, "no connection free");
	}
}

int
fn_url_wait(struct fn_runner *r, struct pollfd *pfd, nfds_t n, int wait_ms)
{
	return http_wait(r->url->h, pfd, n, wait_ms);
}

void
fn_url_cancel(struct fn_runner *r, struct fn_inv *v)
{
	http_cancel(r->url->h, &r->url->rq[v - r->inv]);
}

int
fn_url_done(const struct fn_runner *r, const struct fn_inv *v)
{
	return r->url->rq[v - r->inv].done;
}

/* A non-2xx body that is a JSON object with a string errorType is the
 * function's own error, as a runtime reports a thrown one; it gets an
 * errorMessage (the status) when it has none.  Returns whether it was. */
static int
typed_error(struct buf *res, const struct buf *body, const char *why)
{
	struct ev_err e;
	jv v;

	if (body->n == 0 || body->p[0] != '{' || jx_parse(body->p, body->n, &v, &e) != 0)
		return 0;
	if (jv_get_kind(v) != JV_KIND_OBJECT ||
	    jv_get_kind(jv_object_get(jv_copy(v), jv_string("errorType"))) != JV_KIND_STRING) {
		jv_free(v);
		return 0;
	}
	if (jv_get_kind(jv_object_get(jv_copy(v), jv_string("errorMessage"))) != JV_KIND_STRING)
		v = jv_object_set(v, jv_string("errorMessage"), jv_string(why));
	jv s = jv_dump_string(v, 0);
	buf_reset(res);
	buf_adds(res, jv_string_value(s));
	jv_free(s);
	return 1;
}

/* The answer as Lambda's outcome: a 2xx body is the result, read as a
 * process's stdout is; anything else an error naming what happened. */
void
fn_url_result(struct fn_runner *r, struct fn_inv *v)
{
	const struct http_req *rq = &r->url->rq[v - r->inv];

	v->dur_ms = (double)(clock_mono_ms() - v->start);
	v->out_total = rq->resp_total;
	v->failed = 1;
	/* A transfer that failed may have had its status line already. */
	int broken = rq->code != NULL && (strcmp(rq->code, "TIMEOUT") == 0 ||
	    strcmp(rq->code, "CONNECTION_ERROR") == 0);

	if (broken && strcmp(rq->code, "TIMEOUT") == 0) {
		v->timed_out = 1;
		fn_res_error(&v->res, "Runtime.Timeout", "Task timed out after %.2f seconds",
		    (double)r->o.timeout_ms / 1000);
	} else if (broken) {
		fn_res_error(&v->res, "Function.ConnectionError", "%s", rq->why);
	} else if (rq->status < 200 || rq->status > 299) {
		if (!typed_error(&v->res, &v->out, rq->why))
			fn_res_error(&v->res, "Function.HttpError", "%s", rq->why);
	} else if (rq->resp_total > FN_MAX_RESULT) {
		fn_res_error(&v->res, "Function.ResponseSizeTooLarge",
		    "Response payload size (%zu bytes) exceeded maximum allowed payload size (%d bytes).",
		    rq->resp_total, FN_MAX_RESULT);
	} else {
		v->failed = 0;
		fn_res_text(&v->res, v->out.p != NULL ? v->out.p : "", v->out.n);
	}
}
