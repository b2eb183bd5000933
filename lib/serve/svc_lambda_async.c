/* svc_lambda_async — Lambda's asynchronous invocation in evkit-serve:
 * the event invoke configs (Put/Get/Update/Delete/
 * ListFunctionEventInvokeConfigs, REST under /2019-09-25/functions/NAME/
 * event-invoke-config), the retries of an Event whose function failed
 * (MaximumRetryAttempts, 2 by default: after EVKIT_SERVE_ASYNC_DELAY_MS,
 * a minute by default, then twice that, as Lambda waits 1 then 2
 * minutes) and its destinations: the record Lambda writes, sent to an
 * SQS queue, a bound function (invoked as an Event) or an event bus of
 * this server.  A retry waits in a list that the service's tick looks at;
 * no thread.  Configs live as long as the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/jx.h"
#include "core/names.h"
#include "queue/queue.h"
#include "serve.h"
#include "svc_events.h"
#include "svc_lambda.h"

/* Lambda's defaults and limits. */
enum { ASYNC_RETRIES = 2, ASYNC_MAX_AGE = 21600, ASYNC_MIN_AGE = 60 };

static void
fn_arn(const struct lam *l, const struct lfn *f, struct buf *b)
{
	buf_printf(b, "arn:aws:lambda:%s:000000000000:function:%s:$LATEST", l->region, f->name);
}

static void
dest_out(struct buf *b, const char *key, const char *arn)
{
	buf_printf(b, "\"%s\":{", key);
	if (arn != NULL) {
		buf_adds(b, "\"Destination\":");
		json_add_string(b, arn, strlen(arn));
	}
	buf_addc(b, '}');
}

/* The config as AWS answers it: the members set, and the function's ARN. */
static void
config_out(const struct lam *l, const struct lfn *f, struct buf *b)
{
	const struct lcfg *g = f->cfg;
	struct buf arn = { 0 };

	fn_arn(l, f, &arn);
	buf_printf(b, "{\"LastModified\":%.3f,\"FunctionArn\":", (double)g->modified_ms / 1000.0);
	json_add_string(b, arn.p, arn.n);
	buf_free(&arn);
	if (g->retries >= 0)
		buf_printf(b, ",\"MaximumRetryAttempts\":%d", g->retries);
	if (g->max_age >= 0)
		buf_printf(b, ",\"MaximumEventAgeInSeconds\":%d", g->max_age);
	buf_adds(b, ",\"DestinationConfig\":{");
	dest_out(b, "OnSuccess", g->on_success);
	buf_addc(b, ',');
	dest_out(b, "OnFailure", g->on_failure);
	buf_adds(b, "}}");
}

static void
cfg_free(struct lcfg *g)
{
	if (g != NULL) {
		free(g->on_success);
		free(g->on_failure);
		free(g);
	}
}

/* An integer member of req in [lo, hi] into *out when present: 0, or -1
 * with c answered as AWS validates it. */
static int
int_member(struct serve_call *c, jv req, const char *key, const char *wire, int lo, int hi,
    int *out)
{
	jv v = jv_object_get(jv_copy(req), jv_string(key));
	int rc = 0;

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		double d = jv_number_value(v);
		char m[200];
		if (d != (double)(int)d || d < lo || d > hi) {
			snprintf(m, sizeof m, "1 validation error detected: Value '%g' at '%s' "
			    "failed to satisfy constraint: Member must have value %s %d", d, wire,
			    d < lo ? "greater than or equal to" : "less than or equal to",
			    d < lo ? lo : hi);
			lam_error(c, 400, "ValidationException", m);
			rc = -1;
		} else {
			*out = (int)d;
		}
	} else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
		lam_error(c, 400, "SerializationException", "Expected an integer");
		rc = -1;
	}
	jv_free(v);
	return rc;
}

/* What a destination ARN names here: 0 (nothing), 1 a queue, 2 a bound
 * function, 3 an event bus of this server; -1 nothing that exists. */
static int
dest_kind(struct lam *l, const char *arn)
{
	const char *p = arn, *why;
	struct queue *q;
	struct ev_err e;

	if (arn == NULL || *arn == '\0')
		return 0;
	if (strncmp(arn, "arn:aws:sqs:", 12) == 0) {
		for (int i = 0; i < 5 && p != NULL; i++)
			if ((p = strchr(p, ':')) != NULL)
				p++;
		if (p == NULL || name_check(p, 1) != NULL || q_open(p, Q_OPEN, NULL, &q, &e) != 0)
			return -1;
		q_close(q);
		return 1;
	}
	if (strncmp(arn, "arn:aws:lambda:", 15) == 0)
		return lam_find_fn(l, arn, strlen(arn)) != NULL ? 2 : -1;
	if (strncmp(arn, "arn:aws:events:", 15) == 0 && strstr(arn, ":event-bus/") != NULL)
		return evs_deliver(arn, NULL, 0, &why) == 0 ? 3 : -1;
	return -1;
}

/* DestinationConfig.KEY.Destination of req into *arn when present (""
 * clears it): 0, or -1 with c answered. */
static int
dest_member(struct lam *l, struct serve_call *c, jv req, const char *key, char **arn)
{
	jv d = jv_object_get(jv_copy(req), jv_string("DestinationConfig"));
	jv k = jv_get_kind(d) == JV_KIND_OBJECT ? jv_object_get(jv_copy(d), jv_string(key)) :
	    jv_invalid();
	jv v = jv_get_kind(k) == JV_KIND_OBJECT ? jv_object_get(jv_copy(k), jv_string("Destination")) :
	    jv_invalid();
	int rc = 0;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		const char *s = jv_string_value(v);
		if (dest_kind(l, s) < 0) {
			char m[1200];
			snprintf(m, sizeof m, "The destination ARN %.1024s is invalid.", s);
			lam_error(c, 400, "InvalidParameterValueException", m);
			rc = -1;
		} else {
			free(*arn);
			*arn = *s != '\0' ? xstrdup(s) : NULL;
		}
	}
	jv_free(v);
	jv_free(k);
	jv_free(d);
	return rc;
}

/* Put (g fresh) or Update (g a copy of the config): the request's members
 * into g.  0, or -1 with c answered. */
static int
fill(struct lam *l, struct serve_call *c, const struct serve_req *rq, struct lcfg *g)
{
	struct ev_err e;
	jv req = jv_invalid();

	if (jx_parse(rq->body_n > 0 ? rq->body : "{}", rq->body_n > 0 ? rq->body_n : 2, &req,
	    &e) != 0 || jv_get_kind(req) != JV_KIND_OBJECT) {
		jv_free(req);
		lam_error(c, 400, "SerializationException", "The request body is a JSON object.");
		return -1;
	}
	int rc = int_member(c, req, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2,
	    &g->retries);
	if (rc == 0)
		rc = int_member(c, req, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds",
		    ASYNC_MIN_AGE, ASYNC_MAX_AGE, &g->max_age);
	if (rc == 0)
		rc = dest_member(l, c, req, "OnSuccess", &g->on_success);
	if (rc == 0)
		rc = dest_member(l, c, req, "OnFailure", &g->on_failure);
	jv_free(req);
	return rc;
}

static void
no_config(struct lam *l, struct serve_call *c, struct lfn *f)
{
	struct buf m = { 0 };

	buf_adds(&m, "The function ");
	fn_arn(l, f, &m);
	buf_adds(&m, " doesn't have an EventInvokeConfig");
	buf_addc(&m, '\0');
	lam_error(c, 404, "ResourceNotFoundException", m.p);
	buf_free(&m);
}

static void
put(struct lam *l, struct serve_call *c, const struct serve_req *rq, struct lfn *f, int update)
{
	struct lcfg *g = xcalloc(1, sizeof *g);
	struct buf b = { 0 };

	if (update && f->cfg == NULL) {
		free(g);
		no_config(l, c, f);
		return;
	}
	g->retries = g->max_age = -1;
	if (update) {
		*g = *f->cfg;
		g->on_success = g->on_success != NULL ? xstrdup(g->on_success) : NULL;
		g->on_failure = g->on_failure != NULL ? xstrdup(g->on_failure) : NULL;
	}
	if (fill(l, c, rq, g) != 0) {
		cfg_free(g);
		return;
	}
	g->modified_ms = clock_now_ms();
	cfg_free(f->cfg);
	f->cfg = g;
	config_out(l, f, &b);
	serve_reply(c, 200, "application/json", b.p, b.n);
	buf_free(&b);
}

void
lam_async_call(struct lam *l, struct serve_call *c, const struct serve_req *rq, struct lfn *f,
    const char *rest)
{
	const char *m = rq->method;
	struct buf b = { 0 };

	if (strcmp(rest, "/list") == 0 && strcmp(m, "GET") == 0) {
		buf_adds(&b, "{\"FunctionEventInvokeConfigs\":[");
		if (f->cfg != NULL)
			config_out(l, f, &b);
		buf_adds(&b, "]}");
		serve_reply(c, 200, "application/json", b.p, b.n);
	} else if (*rest != '\0') {
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
	} else if (strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0) {
		put(l, c, rq, f, strcmp(m, "POST") == 0);
	} else if (f->cfg == NULL && (strcmp(m, "GET") == 0 || strcmp(m, "DELETE") == 0)) {
		no_config(l, c, f);
	} else if (strcmp(m, "GET") == 0) {
		config_out(l, f, &b);
		serve_reply(c, 200, "application/json", b.p, b.n);
	} else if (strcmp(m, "DELETE") == 0) {
		cfg_free(f->cfg);
		f->cfg = NULL;
		serve_reply(c, 204, "application/json", "", 0);
	} else {
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
	}
	buf_free(&b);
}

/* ---- retries and destinations ---- */

static void
add_json(struct buf *b, const char *p, size_t n)
{
	struct json_err je;

	if (n == 0)
		buf_adds(b, "null");
	else if (json_validate(p, n, 0, &je) != 0)
		json_compact(b, p, n);
	else
		json_add_string(b, p, n);
}

/* The record Lambda sends a destination. */
static void
record(struct lam *l, const struct linv *v, const char *cond, int failed, const char *res,
    size_t n, struct buf *b)
{
	char when[25];

	clock_rfc3339(clock_now_ms(), when);
	buf_printf(b, "{\"version\":\"1.0\",\"timestamp\":\"%s\",\"requestContext\":"
	    "{\"requestId\":\"%s\",\"functionArn\":\"", when, v->rid);
	fn_arn(l, v->f, b);
	buf_printf(b, "\",\"condition\":\"%s\",\"approximateInvokeCount\":%d},"
	    "\"requestPayload\":", cond, v->tries);
	add_json(b, v->payload, v->pn);
	if (res != NULL) {
		buf_adds(b, ",\"responseContext\":{\"statusCode\":200,"
		    "\"executedVersion\":\"$LATEST\"");
		if (failed)
			buf_adds(b, ",\"functionError\":\"Unhandled\"");
		buf_adds(b, "},\"responsePayload\":");
		add_json(b, res, n);
	}
	buf_addc(b, '}');
}

static void
to_queue(const char *arn, const struct buf *rec)
{
	const char *p = arn;
	struct q_out o = { .body = rec->p, .len = rec->n, .delay_ms = -1 };
	struct q_sent sent;
	struct queue *q;
	struct ev_err e;

	for (int i = 0; i < 5 && p != NULL; i++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	/* A queue deleted since the config was put: the record is dropped,
	 * as Lambda drops what it cannot deliver. */
	if (p == NULL || q_open(p, Q_OPEN, NULL, &q, &e) != 0)
		return;
	if (q_send_begin(q, &e) == 0) {
		if (q_send_add(q, &o, &sent, &e) == 0)
			(void)q_send_commit(q, &e);
		else
			q_send_rollback(q);
	}
	q_close(q);
}

static void
to_bus(struct lam *l, const struct linv *v, const char *arn, int ok, const struct buf *rec)
{
	struct buf ev = { 0 };
	char id[37], when[25];
	const char *why;

	uuid_v4(id);
	clock_rfc3339(clock_now_ms(), when);
	buf_printf(&ev, "{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"Lambda Function "
	    "Invocation Result - %s\",\"source\":\"lambda\",\"account\":\"000000000000\","
	    "\"time\":\"%.19sZ\",\"region\":\"%s\",\"resources\":[", id, ok ? "Success" :
	    "Failure", when, l->region);
	json_add_string(&ev, arn, strlen(arn));
	buf_adds(&ev, ",\"");
	fn_arn(l, v->f, &ev);
	buf_adds(&ev, "\"],\"detail\":");
	buf_add(&ev, rec->p, rec->n);
	buf_addc(&ev, '}');
	(void)evs_deliver(arn, ev.p, ev.n, &why);
	buf_free(&ev);
}

/* An Event of f with the record as payload, as Invoke queues one. */
static void
to_function(struct lam *l, struct lfn *f, const struct buf *rec)
{
	if (serve_stopping(l->srv))
		return;	/* the runners are finishing: it would never run */
	struct linv *v = xcalloc(1, sizeof *v);

	v->f = f;
	v->async = 1;
	v->event = xmalloc(rec->n + 1);
	memcpy(v->event, rec->p, rec->n);
	v->event[rec->n] = '\0';
	v->n = rec->n;
	v->payload = xmalloc(rec->n + 1);
	memcpy(v->payload, v->event, rec->n + 1);
	v->pn = rec->n;
	v->born_ms = clock_mono_ms();
	uuid_v4(v->rid);
	lam_enqueue(l, f, v);
}

/* v's end: its record to the destination its config names (then freed). */
static void
finish(struct lam *l, struct linv *v, const char *cond, int failed, const char *res, size_t n)
{
	const struct lcfg *g = v->f->cfg;
	const char *arn = g == NULL ? NULL : failed ? g->on_failure : g->on_success;
	struct buf rec = { 0 };

	if (arn != NULL) {
		record(l, v, cond, failed, res, n, &rec);
		switch (dest_kind(l, arn)) {
		case 1:
			to_queue(arn, &rec);
			break;
		case 2:
			to_function(l, lam_find_fn(l, arn, strlen(arn)), &rec);
			break;
		case 3:
			to_bus(l, v, arn, !failed, &rec);
			break;
		default:
			break;	/* gone since the config was put: dropped */
		}
	}
	buf_free(&rec);
	lam_inv_free(v);
}

void
lam_async_done(struct lam *l, struct linv *v, int failed, const char *res, size_t n)
{
	const struct lcfg *g = v->f->cfg;
	int retries = g != NULL && g->retries >= 0 ? g->retries : ASYNC_RETRIES;

	v->tries++;
	if (!failed)
		finish(l, v, "Success", 0, res, n);
	else if (v->tries > retries || serve_stopping(l->srv))
		finish(l, v, "RetriesExhausted", 1, res, n);
	else {
		/* The last answer waits with it, for an EventAgeExceeded record. */
		free(v->event);
		v->event = xmalloc(n + 1);
		memcpy(v->event, res, n);
		v->event[n] = '\0';
		v->n = n;
		v->due_ms = clock_mono_ms() + l->delay_ms * v->tries;
		v->next = l->retries;
		l->retries = v;
		serve_kick(l->srv, &serve_lambda);
	}
}

int64_t
lam_async_tick(struct lam *l, int64_t now_ms)
{
	int64_t next = -1;

	for (struct linv **pp = &l->retries; *pp != NULL;) {
		struct linv *v = *pp;
		if (v->due_ms > now_ms) {
			if (next < 0 || v->due_ms < next)
				next = v->due_ms;
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		const struct lcfg *g = v->f->cfg;
		int age = g != NULL && g->max_age >= 0 ? g->max_age : ASYNC_MAX_AGE;
		if (now_ms - v->born_ms > (int64_t)age * 1000) {
			char *res = v->event;
			v->event = NULL;
			finish(l, v, "EventAgeExceeded", 1, res, v->n);
			free(res);
			continue;
		}
		free(v->event);
		v->event = xmalloc(v->pn + 1);
		memcpy(v->event, v->payload, v->pn + 1);
		v->n = v->pn;
		lam_enqueue(l, v->f, v);
	}
	return next;
}

void
lam_async_free(struct lam *l)
{
	while (l->retries != NULL) {
		struct linv *v = l->retries;
		l->retries = v->next;
		lam_inv_free(v);
	}
	for (int i = 0; i < l->nfns; i++) {
		cfg_free(l->fns[i].cfg);
		l->fns[i].cfg = NULL;
	}
}
