/* svc_lambda — evkit-serve's Lambda service (REST-JSON under
 * /2015-03-31/functions/): Invoke (RequestResponse, Event, DryRun),
 * ListFunctions and GetFunction (and, under /2019-09-25/, the event
 * invoke configs of svc_lambda_async.c), for the functions bound with
 * --function NAME=URI (exec:, worker:, jq:, url:, runtime:, as fnflow
 * binds them), each run by an fn runner of its own.
 *
 * No invocation holds the loop: a RequestResponse call stays suspended
 * until the runner's on_done answers it; the runners are pumped without
 * waiting from the service's tick, every few milliseconds while one of
 * them has work.  A request that finds its function's runner full waits
 * in the function's queue, in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/words.h"
#include "fn/fn.h"
#include "serve.h"
#include "svc.h"
#include "svc_lambda.h"

/* How often busy runners are looked at, and Lambda's defaults. */
enum { LAM_TICK_MS = 2, LAM_JOBS = 4, LAM_TIMEOUT_MS = 3000 };
/* Lambda's payload limits: 6 MB synchronous, 1 MB asynchronous. */
enum { LAM_MAX_SYNC = 6 * 1024 * 1024, LAM_MAX_ASYNC = 1024 * 1024 };

static char **specs;
static int nspecs;

void
serve_lambda_setup(char **functions, int n)
{
	specs = functions;
	nspecs = n;
}

static const struct serve_svc *self(void);

/* NAME=URI into f: 0, or 2 with e. */
static int
parse_binding(const char *spec, struct lfn *f, struct ev_err *e)
{
	static const char *const schemes[] = { "exec:", "worker:", "jq:", "url:", "runtime:", NULL };
	const char *eq = strchr(spec, '='), *why;

	if (eq == NULL || eq == spec)
		return err_set(e, EV_USAGE, "--function '%s': expected NAME=URI", spec);
	f->name = xstrdup(spec);
	f->name[eq - spec] = '\0';
	f->uri = eq + 1;
	for (int i = 0; schemes[i] != NULL; i++) {
		size_t k = strlen(schemes[i]);
		if (strncmp(f->uri, schemes[i], k) != 0)
			continue;
		if (f->uri[k] == '\0')
			return err_set(e, EV_USAGE, "--function '%s': nothing after '%s'", spec,
			    schemes[i]);
		if (i != 2 && i != 3 && (f->argv = words_split(f->uri + k, &why)) == NULL)
			return err_set(e, EV_USAGE, "--function '%s': %s", spec, why);
		return 0;
	}
	return err_set(e, EV_USAGE, "--function '%s': unknown scheme (exec:, worker:, jq:, url: "
	    "or runtime:)", spec);
}

static int on_done(void *ctx, void *tag, int failed, const char *res, size_t n);

static int
open_fn(struct lam *l, struct lfn *f, struct ev_err *e)
{
	struct fn_opts o = {
		.jobs = LAM_JOBS, .timeout_ms = LAM_TIMEOUT_MS, .name = f->name, .input_fd = -1,
		.unordered = 1, .no_output = 1, .on_done = on_done, .done_ctx = l,
	};
	const char *rest = strchr(f->uri, ':') + 1;

	if (strncmp(f->uri, "jq:", 3) == 0)
		o.jq = rest;
	else if (strncmp(f->uri, "url:", 4) == 0)
		o.url = rest;
	else
		o.argv = f->argv;
	o.worker = strncmp(f->uri, "worker:", 7) == 0;
	o.runtime_api = strncmp(f->uri, "runtime:", 8) == 0;
	int rc = fn_open(&o, &f->r, e);
	if (rc != 0)
		err_wrap(e, "--function %s", f->name);
	return rc;
}

static int
init(struct serve *srv, void **state, struct ev_err *e)
{
	struct lam *l = xcalloc(1, sizeof *l);
	int rc = 0;

	l->srv = srv;
	l->region = arn_region();
	*state = l;
	/* Lambda retries an Event after 1 then 2 minutes; tests scale it. */
	const char *d = getenv("EVKIT_SERVE_ASYNC_DELAY_MS");
	char *end;
	l->delay_ms = 60000;
	if (d != NULL && *d != '\0') {
		long long v = strtoll(d, &end, 10);
		if (*end != '\0' || v < 0 || v > 3600000)
			return err_set(e, EV_USAGE, "EVKIT_SERVE_ASYNC_DELAY_MS '%s': expected "
			    "milliseconds, 0 to 3600000", d);
		l->delay_ms = v;
	}
	l->fns = xcalloc((size_t)nspecs + 1, sizeof *l->fns);
	for (int i = 0; rc == 0 && i < nspecs; i++) {
		struct lfn *f = &l->fns[i];
		l->nfns = i + 1;
		if ((rc = parse_binding(specs[i], f, e)) != 0)
			break;
		for (int j = 0; j < i; j++)
			if (strcmp(l->fns[j].name, f->name) == 0)
				rc = err_set(e, EV_USAGE, "--function '%s': '%s' is bound twice",
				    specs[i], f->name);
		if (rc == 0)
			rc = open_fn(l, f, e);
	}
	return rc;
}

/* The function a path's NAME (a name, or a function ARN) names. */
struct lfn *
lam_find_fn(struct lam *l, const char *name, size_t k)
{
	const char *f;

	if (k > 4 && strncmp(name, "arn:", 4) == 0 && (f = strstr(name, ":function:")) != NULL &&
	    f < name + k) {
		f += 10;
		k = (size_t)(name + k - f);
		k = strcspn(f, ":") < k ? strcspn(f, ":") : k;
		name = f;
	}
	for (int i = 0; i < l->nfns; i++)
		if (strlen(l->fns[i].name) == k && strncmp(l->fns[i].name, name, k) == 0)
			return &l->fns[i];
	return NULL;
}

void
lam_error(struct serve_call *c, int status, const char *type, const char *msg)
{
	serve_header(c, "x-amzn-ErrorType", type);
	serve_error(c, status, type, NULL, "%s", msg);
}

static void
not_found(struct lam *l, struct serve_call *c, const char *name, size_t k)
{
	char m[400];

	snprintf(m, sizeof m, "Function not found: arn:aws:lambda:%s:000000000000:function:%.*s",
	    l->region, (int)(k > 140 ? 140 : k), name);
	lam_error(c, 404, "ResourceNotFoundException", m);
}

/* The function's configuration, as GetFunction and ListFunctions give it. */
static void
config(const struct lam *l, const struct lfn *f, struct buf *b)
{
	char when[25];

	clock_rfc3339(clock_now_ms(), when);
	buf_adds(b, "{\"FunctionName\":");
	json_add_string(b, f->name, strlen(f->name));
	struct buf arn = { 0 };
	buf_printf(&arn, "arn:aws:lambda:%s:000000000000:function:%s", l->region, f->name);
	buf_adds(b, ",\"FunctionArn\":");
	json_add_string(b, arn.p, arn.n);
	buf_free(&arn);
	buf_adds(b, ",\"Runtime\":\"provided.al2023\",\"Role\":\"arn:aws:iam::000000000000:"
	    "role/evkit\",\"Handler\":");
	json_add_string(b, f->uri, strlen(f->uri));
	buf_adds(b, ",\"Description\":");
	json_add_string(b, f->uri, strlen(f->uri));
	buf_printf(b, ",\"CodeSize\":0,\"Timeout\":%d,\"MemorySize\":128,\"LastModified\":\"%.23s"
	    "+0000\",\"Version\":\"$LATEST\",\"PackageType\":\"Zip\",\"State\":\"Active\","
	    "\"Architectures\":[\"x86_64\"]}", LAM_TIMEOUT_MS / 1000, when);
}

static void
list_functions(struct lam *l, struct serve_call *c)
{
	struct buf b = { 0 };

	buf_adds(&b, "{\"Functions\":[");
	for (int i = 0; i < l->nfns; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		config(l, &l->fns[i], &b);
	}
	buf_adds(&b, "]}");
	serve_json(c, &b);
	buf_free(&b);
}

static void
get_function(struct lam *l, struct serve_call *c, struct lfn *f)
{
	struct buf b = { 0 };

	buf_adds(&b, "{\"Configuration\":");
	config(l, f, &b);
	buf_adds(&b, ",\"Code\":{\"RepositoryType\":\"S3\",\"Location\":\"\"}}");
	serve_json(c, &b);
	buf_free(&b);
	(void)l;
}


/* ---- invocations ---- */

/* A client that went away: its answer is dropped, the invocation runs on. */
static void
on_gone(void *ctx, struct serve_call *c)
{
	struct linv *v = ctx;

	(void)c;
	v->c = NULL;
}

/* The runner's end of an invocation (res NULL: a stop dropped it). */
static int
on_done(void *ctx, void *tag, int failed, const char *res, size_t n)
{
	struct lam *l = ctx;
	struct linv *v = tag;

	v->f->inflight--;
	free(v->event);
	v->event = NULL;
	if (v->batch != NULL)
		lam_esm_done(l, v->batch, failed, res, n);
	else if (v->async && res != NULL) {
		lam_async_done(l, v, failed, res, n);
		return 0;
	} else if (v->c != NULL) {
		if (res == NULL) {
			lam_error(v->c, 503, "ServiceException", "the server is stopping");
		} else {
			serve_header(v->c, "X-Amz-Executed-Version", "$LATEST");
			if (failed)
				serve_header(v->c, "X-Amz-Function-Error", "Unhandled");
			serve_reply(v->c, 200, "application/json", res, n);
		}
	}
	lam_inv_free(v);
	return 0;	/* told to its caller: not a failure of the server */
}

int
lam_room(struct lfn *f)
{
	return f->r != NULL && fn_pump(f->r, 0) > 0;
}

void
lam_submit(struct lfn *f, struct linv *v, const char *event, size_t n)
{
	f->inflight++;
	fn_submit(f->r, event, n, v);
}

/* Hands the function's queued invocations to its runner while it has
 * room (fn_submit then never waits). */
static void
feed(struct lfn *f)
{
	while (f->head != NULL && lam_room(f)) {
		struct linv *v = f->head;
		f->head = v->next;
		if (f->head == NULL)
			f->tail = NULL;
		char *ev = v->event;
		v->event = NULL;
		lam_submit(f, v, ev, v->n);
		free(ev);
	}
}

void
lam_inv_free(struct linv *v)
{
	if (v != NULL) {
		free(v->event);
		free(v->payload);
		free(v);
	}
}

void
lam_enqueue(struct lam *l, struct lfn *f, struct linv *v)
{
	v->next = NULL;
	if (f->tail != NULL)
		f->tail->next = v;
	else
		f->head = v;
	f->tail = v;
	serve_kick(l->srv, self());
}

static char *
dup_n(const char *p, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

static void
queue_inv(struct lam *l, struct lfn *f, struct serve_call *c, const struct serve_req *rq,
    const char *body, size_t n, int async)
{
	struct linv *v = xcalloc(1, sizeof *v);

	v->f = f;
	v->async = async;
	v->c = async ? NULL : c;
	v->event = dup_n(body, n);
	v->n = n;
	if (async) {
		/* Kept for the retries and the destination record. */
		v->payload = dup_n(body, n);
		v->pn = n;
		v->born_ms = clock_mono_ms();
		snprintf(v->rid, sizeof v->rid, "%s", rq->request_id);
		serve_reply(c, 202, "application/json", "", 0);
	} else {
		serve_on_gone(c, on_gone, v);
	}
	lam_enqueue(l, f, v);
}

static void
invoke(struct lam *l, struct serve_call *c, const struct serve_req *rq, struct lfn *f)
{
	const char *type = serve_req_header(c, "X-Amz-Invocation-Type");
	const char *body = rq->body_n > 0 ? rq->body : "{}";
	size_t n = rq->body_n > 0 ? rq->body_n : 2;
	struct json_err je;
	int async = 0;

	if (type == NULL || strcmp(type, "RequestResponse") == 0)
		async = 0;
	else if (strcmp(type, "Event") == 0)
		async = 1;
	else if (strcmp(type, "DryRun") == 0) {
		serve_reply(c, 204, "application/json", "", 0);
		return;
	} else {
		lam_error(c, 400, "InvalidParameterValueException",
		    "X-Amz-Invocation-Type is RequestResponse, Event or DryRun");
		return;
	}
	if (n > (async ? LAM_MAX_ASYNC : LAM_MAX_SYNC)) {
		char m[128];
		snprintf(m, sizeof m, "Request must be smaller than %d bytes for the "
		    "InvokeFunction operation", async ? LAM_MAX_ASYNC : LAM_MAX_SYNC);
		lam_error(c, 413, "RequestTooLargeException", m);
		return;
	}
	if (json_validate(body, n, 0, &je) == 0) {
		char m[160];
		snprintf(m, sizeof m, "Could not parse request body into json: %s at column %zu",
		    je.what, je.col);
		lam_error(c, 400, "InvalidRequestContentException", m);
		return;
	}
	queue_inv(l, f, c, rq, body, n, async);
}

/* functions/NAME/event-invoke-config[/list] */
static void
config_call(struct lam *l, struct serve_call *c, const struct serve_req *rq, const char *op)
{
	static const char fpre[] = "functions/";
	const char *slash;
	size_t k;

	if (strncmp(op, fpre, sizeof fpre - 1) != 0 ||
	    (slash = strchr(op + sizeof fpre - 1, '/')) == NULL ||
	    strncmp(slash, "/event-invoke-config", 20) != 0) {
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
		return;
	}
	op += sizeof fpre - 1;
	k = (size_t)(slash - op);
	struct lfn *f = k > 0 ? lam_find_fn(l, op, k) : NULL;
	if (f == NULL)
		not_found(l, c, op, k);
	else
		lam_async_call(l, c, rq, f, slash + 20);
}

static void
call(void *state, struct serve_call *c, const struct serve_req *rq)
{
	struct lam *l = state;
	static const char fpre[] = "functions", epre[] = "event-source-mappings";
	const char *op = rq->op;

	/* The path prefix is "/20": Lambda's APIs of 2015-03-31, and those
	 * of 2019-09-25 (event invoke configs). */
	if (strncmp(op, "19-09-25/", 9) == 0) {
		config_call(l, c, rq, op + 9);
		return;
	}
	if (strncmp(op, "15-03-31/", 9) != 0) {
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
		return;
	}
	op += 9;
	if (strncmp(op, epre, sizeof epre - 1) == 0 && (op[sizeof epre - 1] == '\0' ||
	    op[sizeof epre - 1] == '/')) {
		lam_esm_call(l, c, rq, op + sizeof epre - 1);
		return;
	}
	if (strncmp(op, fpre, sizeof fpre - 1) != 0 || (op[sizeof fpre - 1] != '\0' &&
	    op[sizeof fpre - 1] != '/')) {
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
		return;
	}
	/* "/2015-03-31/functions" alone is ListFunctions too (the JavaScript
	 * SDK sends it so; botocore adds the slash). */
	op += sizeof fpre - 1;
	op += op[0] == '/';
	const char *slash = strchr(op, '/');
	size_t k = slash != NULL ? (size_t)(slash - op) : strlen(op);
	struct lfn *f = k > 0 ? lam_find_fn(l, op, k) : NULL;
	char note[96];

	if (k > 0) {
		snprintf(note, sizeof note, "FunctionName=%.*s", (int)(k > 80 ? 80 : k), op);
		serve_log_note(c, note);
	}
	if (k == 0 && strcmp(rq->method, "GET") == 0)
		list_functions(l, c);
	else if (k > 0 && f == NULL)
		not_found(l, c, op, k);
	else if (slash == NULL && strcmp(rq->method, "GET") == 0)
		get_function(l, c, f);
	else if (slash != NULL && strcmp(slash, "/invocations") == 0 &&
	    strcmp(rq->method, "POST") == 0)
		invoke(l, c, rq, f);
	else
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
}

/* Pumps every runner without waiting and feeds it, then lets the event
 * source mappings take what room is left; while a runner has work,
 * looks again in LAM_TICK_MS. */
static int64_t
tick(void *state, int64_t now_ms)
{
	struct lam *l = state;
	int busy = 0;

	for (int i = 0; i < l->nfns; i++) {
		struct lfn *f = &l->fns[i];
		if (f->r == NULL)
			continue;
		feed(f);
		if (f->inflight > 0)
			fn_pump(f->r, 0);
		feed(f);
	}
	int64_t next = lam_esm_tick(l, now_ms), due = lam_async_tick(l, now_ms);
	if (due >= 0 && (next < 0 || due < next))
		next = due;
	for (int i = 0; i < l->nfns; i++)
		busy |= l->fns[i].inflight > 0 || l->fns[i].head != NULL;
	if (busy && (next < 0 || next > now_ms + LAM_TICK_MS))
		next = now_ms + LAM_TICK_MS;
	return next;
}

/* A stop: what waits for room is answered 503; the runners let what
 * runs finish and answer it (fn_finish). */
static void
stop(void *state)
{
	struct lam *l = state;
	struct ev_err e;

	if (l->finished)
		return;
	for (int i = 0; i < l->nfns; i++) {
		struct lfn *f = &l->fns[i];
		while (f->head != NULL) {
			struct linv *v = f->head;
			f->head = v->next;
			if (v->c != NULL)
				lam_error(v->c, 503, "ServiceException", "the server is stopping");
			lam_inv_free(v);
		}
		f->tail = NULL;
		if (f->r != NULL)
			fn_finish(f->r, &e);
		f->r = NULL;
	}
	l->finished = 1;
}

static void
fini(void *state)
{
	struct lam *l = state;

	stop(l);
	lam_esm_free(l);
	lam_async_free(l);	/* retries still to come are dropped, as configs are */
	for (int i = 0; i < l->nfns; i++) {
		free(l->fns[i].name);
		words_free(l->fns[i].argv);
	}
	free(l->fns);
	free(l);
}

const struct serve_svc serve_lambda = {
	.name = "lambda",
	.path_prefix = "/20",
	.json_type = "application/json",
	.init = init,
	.call = call,
	.tick = tick,
	.stop = stop,
	.fini = fini,
};

static const struct serve_svc *
self(void)
{
	return &serve_lambda;
}
