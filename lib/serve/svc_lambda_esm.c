/* svc_lambda_esm — Lambda's SQS event source mappings in evkit-serve:
 * CreateEventSourceMapping, GetEventSourceMapping,
 * ListEventSourceMappings, UpdateEventSourceMapping (Enabled, BatchSize)
 * and DeleteEventSourceMapping, run as fnrun --queue runs one (SPEC 5):
 * a batch leased (for the queue's VisibilityTimeout, at least the
 * function's timeout) when the function has a free slot, invoked with
 * {"Records":[...]}, deleted when the function succeeds but for the
 * messages its {"batchItemFailures":[...]} names, left to its lease when
 * it fails, so the queue's redrive policy counts it.  One batch of a
 * mapping at a time; an idle queue is looked at every 100 ms.  Mappings
 * live as long as the server. */
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
#include "svc_lambda.h"

enum { ESM_POLL_MS = 100, ESM_BATCH = 10, ESM_FUNCTION_TIMEOUT_MS = 3000 };

struct lesm {
	char uuid[37];
	struct lfn *f;
	char *arn, *queue;
	struct queue *q;
	int batch, enabled, deleted, busy;
	int64_t next_poll, modified_ms;
	struct lesm *next;
};

struct lesm_batch {
	struct lesm *m;
	size_t n;
	struct q_msg msg[];
};

static struct lesm *
find(struct lam *l, const char *uuid)
{
	for (struct lesm *m = l->esms; m != NULL; m = m->next)
		if (!m->deleted && strcmp(m->uuid, uuid) == 0)
			return m;
	return NULL;
}

static void
mapping_out(const struct lam *l, const struct lesm *m, const char *state, struct buf *b)
{
	buf_printf(b, "{\"UUID\":\"%s\",\"BatchSize\":%d,\"MaximumBatchingWindowInSeconds\":0,"
	    "\"EventSourceArn\":", m->uuid, m->batch);
	json_add_string(b, m->arn, strlen(m->arn));
	struct buf arn = { 0 };
	buf_printf(&arn, "arn:aws:lambda:%s:000000000000:function:%s", l->region, m->f->name);
	buf_adds(b, ",\"FunctionArn\":");
	json_add_string(b, arn.p, arn.n);
	buf_free(&arn);
	buf_printf(b, ",\"LastModified\":%.3f,\"State\":\"%s\",\"StateTransitionReason\":"
	    "\"USER_INITIATED\",\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"]}",
	    (double)m->modified_ms / 1000.0, state != NULL ? state : m->enabled ? "Enabled" :
	    "Disabled");
}

static void
answer(struct lam *l, struct serve_call *c, int status, const struct lesm *m, const char *state)
{
	struct buf b = { 0 };

	mapping_out(l, m, state, &b);
	serve_reply(c, status, "application/json", b.p, b.n);
	buf_free(&b);
}

/* BatchSize of req into *batch when present: 0, or -1 with c answered. */
static int
batch_size(struct serve_call *c, jv req, int *batch)
{
	jv v = jv_object_get(jv_copy(req), jv_string("BatchSize"));
	int rc = 0;

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		double d = jv_number_value(v);
		if (d < 1 || d > 10000 || d != (double)(int)d) {
			lam_error(c, 400, "InvalidParameterValueException",
			    "BatchSize is 1 to 10000.");
			rc = -1;
		} else {
			*batch = (int)d;
		}
	}
	jv_free(v);
	return rc;
}

static int
enabled_of(jv req, int dflt)
{
	jv v = jv_object_get(jv_copy(req), jv_string("Enabled"));
	int e = jv_get_kind(v) == JV_KIND_TRUE ? 1 : jv_get_kind(v) == JV_KIND_FALSE ? 0 : dflt;

	jv_free(v);
	return e;
}

static const char *
str_of(jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;

	jv_free(v);	/* o still holds the string */
	return s;
}

/* The queue of an SQS ARN, opened: 0, or -1 with c answered. */
static int
open_source(struct serve_call *c, const char *arn, char **name, struct queue **q)
{
	const char *p = arn != NULL && strncmp(arn, "arn:aws:sqs:", 12) == 0 ? arn + 12 : NULL;
	struct ev_err e;

	for (int i = 0; i < 2 && p != NULL; i++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL || name_check(p, 1) != NULL) {
		lam_error(c, 400, "InvalidParameterValueException",
		    "EventSourceArn is an SQS queue's ARN: arn:aws:sqs:REGION:ACCOUNT:NAME.");
		return -1;
	}
	if (q_open(p, Q_OPEN, NULL, q, &e) != 0) {
		char m[1100];
		snprintf(m, sizeof m, "Error occurred while ReceiveMessage: %.1000s", e.msg);
		lam_error(c, 400, "InvalidParameterValueException", m);
		return -1;
	}
	*name = xstrdup(p);
	return 0;
}

static void
create(struct lam *l, struct serve_call *c, jv req)
{
	const char *fname = str_of(req, "FunctionName"), *arn = str_of(req, "EventSourceArn");
	struct lfn *f = fname != NULL ? lam_find_fn(l, fname, strlen(fname)) : NULL;
	struct lesm *m = xcalloc(1, sizeof *m);

	m->batch = ESM_BATCH;
	if (f == NULL) {
		lam_error(c, 404, "ResourceNotFoundException", "Function does not exist");
	} else if (batch_size(c, req, &m->batch) == 0 && open_source(c, arn, &m->queue, &m->q) == 0) {
		if (q_attrs(m->q)->fifo && m->batch > 10) {
			lam_error(c, 400, "InvalidParameterValueException",
			    "BatchSize is at most 10 for a FIFO queue.");
		} else {
			uuid_v4(m->uuid);
			m->f = f;
			m->arn = xstrdup(arn);
			m->enabled = enabled_of(req, 1);
			m->modified_ms = clock_now_ms();
			m->next = l->esms;
			l->esms = m;
			answer(l, c, 202, m, m->enabled ? "Creating" : "Disabled");
			serve_kick(l->srv, &serve_lambda);
			return;
		}
		q_close(m->q);
	}
	free(m->queue);
	free(m);
}

static void
list(struct lam *l, struct serve_call *c, const struct serve_req *rq)
{
	struct buf b = { 0 };
	int k = 0;

	buf_adds(&b, "{\"EventSourceMappings\":[");
	for (struct lesm *m = l->esms; m != NULL; m = m->next) {
		/* FunctionName=NAME in the query: that function's only. */
		const char *fq = strstr(rq->query, "FunctionName=");
		size_t fn = fq != NULL ? strcspn(fq + 13, "&") : 0;
		if (m->deleted || (fq != NULL && (fn != strlen(m->f->name) ||
		    strncmp(fq + 13, m->f->name, fn) != 0)))
			continue;
		if (k++ > 0)
			buf_addc(&b, ',');
		mapping_out(l, m, NULL, &b);
	}
	buf_adds(&b, "]}");
	serve_reply(c, 200, "application/json", b.p, b.n);
	buf_free(&b);
}

static void
update(struct lam *l, struct serve_call *c, struct lesm *m, jv req)
{
	int batch = m->batch;

	if (batch_size(c, req, &batch) != 0)
		return;
	m->batch = batch;
	m->enabled = enabled_of(req, m->enabled);
	m->modified_ms = clock_now_ms();
	answer(l, c, 202, m, m->enabled ? "Updating" : "Disabling");
	serve_kick(l->srv, &serve_lambda);
}

void
lam_esm_call(struct lam *l, struct serve_call *c, const struct serve_req *rq, const char *rest)
{
	const char *id = rest[0] == '/' ? rest + 1 : rest;
	struct lesm *m = id[0] != '\0' ? find(l, id) : NULL;
	jv req = rq->body_n > 0 ? jv_parse_sized(rq->body, (int)rq->body_n) : jv_object();

	if (jv_get_kind(req) != JV_KIND_OBJECT) {
		lam_error(c, 400, "InvalidRequestContentException",
		    "Could not parse request body into json");
	} else if (id[0] == '\0' && strcmp(rq->method, "POST") == 0) {
		create(l, c, req);
	} else if (id[0] == '\0' && strcmp(rq->method, "GET") == 0) {
		list(l, c, rq);
	} else if (m == NULL) {
		lam_error(c, 404, "ResourceNotFoundException",
		    "The resource you requested does not exist.");
	} else if (strcmp(rq->method, "GET") == 0) {
		answer(l, c, 200, m, NULL);
	} else if (strcmp(rq->method, "PUT") == 0) {
		update(l, c, m, req);
	} else if (strcmp(rq->method, "DELETE") == 0) {
		m->deleted = 1;	/* freed with the server; a batch running ends first */
		m->enabled = 0;
		answer(l, c, 202, m, "Deleting");
	} else {
		lam_error(c, 400, "UnknownOperationException", "Unknown operation");
	}
	jv_free(req);
}

/* Leases one batch of m and invokes its function with it. */
static void
poll_one(struct lam *l, struct lesm *m, int64_t now_ms, struct buf *ev)
{
	const struct q_attrs *a = q_attrs(m->q);
	int64_t lease = a->visibility_ms > ESM_FUNCTION_TIMEOUT_MS ? a->visibility_ms :
	    ESM_FUNCTION_TIMEOUT_MS;
	struct q_msg *msg = xcalloc((size_t)m->batch, sizeof *msg);
	size_t n = 0;
	struct ev_err e;

	(void)l;
	m->next_poll = now_ms + ESM_POLL_MS;
	if (q_receive(m->q, 0, (size_t)m->batch, lease, msg, &n, &e) != 0 || n == 0) {
		free(msg);
		return;
	}
	struct lesm_batch *b = xmalloc(sizeof *b + n * sizeof b->msg[0]);
	b->m = m;
	b->n = n;
	buf_reset(ev);
	buf_adds(ev, "{\"Records\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(ev, ',');
		q_envelope(m->q, &msg[i], ev);
		b->msg[i] = msg[i];
		b->msg[i].body = NULL;	/* q_receive's buffer: gone next time */
		b->msg[i].group = b->msg[i].dedup = b->msg[i].attrs = NULL;
		b->msg[i].attrs_md5 = b->msg[i].src = NULL;
	}
	buf_adds(ev, "]}");
	free(msg);
	struct linv *v = xcalloc(1, sizeof *v);
	v->f = m->f;
	v->async = 1;
	v->batch = b;
	m->busy = 1;
	m->next_poll = now_ms;	/* a full queue: the next batch as soon as this one ends */
	lam_submit(m->f, v, ev->p, ev->n);
}

int64_t
lam_esm_tick(struct lam *l, int64_t now_ms)
{
	struct buf ev = { 0 };
	int64_t next = -1;

	for (struct lesm *m = l->esms; m != NULL; m = m->next) {
		if (!m->enabled || m->deleted)
			continue;
		if (!m->busy && m->next_poll <= now_ms && m->f->head == NULL && lam_room(m->f))
			poll_one(l, m, now_ms, &ev);
		if (!m->busy && (next < 0 || m->next_poll < next))
			next = m->next_poll > now_ms ? m->next_poll : now_ms + 1;
	}
	buf_free(&ev);
	return next;
}

/* Which messages a response names as failed (keep[i] set): 0, or -1
 * when the list is malformed, which Lambda takes as the whole batch
 * failing (as fn_esm.c reads it for fnrun --queue). */
static int
item_failures(const char *res, size_t n, const struct lesm_batch *b, unsigned char *keep)
{
	struct ev_err pe;
	jv v;
	int bad = 0;

	jx_parse(res, n, &v, &pe);
	jv list = jv_get_kind(v) == JV_KIND_OBJECT ?
	    jv_object_get(jv_copy(v), jv_string("batchItemFailures")) : jv_null();
	jv_free(v);
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		bad = jv_get_kind(list) != JV_KIND_NULL && jv_get_kind(list) != JV_KIND_INVALID;
		jv_free(list);
		return bad ? -1 : 0;
	}
	jv_array_foreach(list, i, item) {
		const char *id = jv_get_kind(item) == JV_KIND_OBJECT ? str_of(item, "itemIdentifier") :
		    NULL;
		size_t k = b->n;
		for (size_t j = 0; id != NULL && j < b->n; j++)
			if (strcmp(b->msg[j].id, id) == 0)
				k = j;
		if (k == b->n)
			bad = 1;
		else
			keep[k] = 1;
		jv_free(item);
		(void)i;
	}
	jv_free(list);
	return bad ? -1 : 0;
}

void
lam_esm_done(struct lam *l, struct lesm_batch *b, int failed, const char *res, size_t n)
{
	struct lesm *m = b->m;
	struct ev_err e;

	(void)l;
	m->busy = 0;
	if (res == NULL) {
		q_release(m->q, b->msg, b->n, 0, 1, NULL, NULL, &e);	/* never run */
	} else if (!failed) {
		unsigned char *keep = xcalloc(b->n, 1);
		struct q_msg *del = xcalloc(b->n, sizeof *del);
		size_t nd = 0;
		if (item_failures(res, n, b, keep) == 0) {
			for (size_t i = 0; i < b->n; i++)
				if (!keep[i])
					del[nd++] = b->msg[i];
			q_delete(m->q, del, nd, NULL, NULL, &e);
		}
		free(keep);
		free(del);
	}
	/* A failure is left to its lease: the messages come back, counted. */
	free(b);
}

void
lam_esm_free(struct lam *l)
{
	while (l->esms != NULL) {
		struct lesm *m = l->esms;
		l->esms = m->next;
		q_close(m->q);
		free(m->arn);
		free(m->queue);
		free(m);
	}
}
