/* serve_sqs — SQS (AWS JSON 1.0, X-Amz-Target AmazonSQS.*) over
 * lib/queue: the dispatch, the request's members, errors in SQS's
 * shapes, the open queues, and ReceiveMessage's long polls, which wait
 * as suspended calls re-tried by the tick (every POLL_MS, and at once
 * after a send here). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/names.h"
#include "serve.h"
#include "sqs_int.h"

/* How often a long poll looks again for what other processes sent. */
enum { POLL_MS = 50 };

size_t
sqs_member(const struct sqs_call *k, const char *key)
{
	return json_find_member(k->p, k->n, 0, key, strlen(key));
}

int
sqs_str(const struct sqs_call *k, const char *key, struct buf *out)
{
	size_t v = sqs_member(k, key);

	if (v == (size_t)-1 || k->p[v] == 'n')
		return 0;
	return json_string_at(k->p, k->n, v, out) ? 1 : -1;
}

int
sqs_int(const struct sqs_call *k, const char *key, long long *v)
{
	size_t at = sqs_member(k, key);
	char *end;

	if (at == (size_t)-1 || k->p[at] == 'n')
		return 0;
	if (k->p[at] != '-' && (k->p[at] < '0' || k->p[at] > '9'))
		return -1;
	*v = strtoll(k->p + at, &end, 10);
	return *end == '.' || *end == 'e' || *end == 'E' ? -1 : 1;
}

static void
vfail(const struct sqs_call *k, const char *type, const char *qcode, const char *fmt,
    va_list ap)
{
	char t[128], q[160], m[1024];

	vsnprintf(m, sizeof m, fmt, ap);
	snprintf(t, sizeof t, "com.amazonaws.sqs#%s", type);
	if (qcode == NULL)
		snprintf(q, sizeof q, "AWS.SimpleQueueService.%s", type);
	else
		snprintf(q, sizeof q, "%s", qcode);
	serve_error(k->c, 400, t, q, "%s", m);
}

void
sqs_fail(const struct sqs_call *k, const char *type, const char *qcode, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(k, type, qcode, fmt, ap);
	va_end(ap);
}

void
sqs_missing(const struct sqs_call *k, const char *param)
{
	sqs_fail(k, "MissingParameter", "MissingParameter",
	    "The request must contain the parameter %s.", param);
}

void
sqs_invalid(const struct sqs_call *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(k, "InvalidParameterValue", "InvalidParameterValue", fmt, ap);
	va_end(ap);
}

void
sqs_fail_err(const struct sqs_call *k, int rc, const struct ev_err *e)
{
	switch (rc) {
	case EV_NOINPUT:
		sqs_fail(k, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
		    "The specified queue does not exist.");
		break;
	case EV_USAGE:
	case EV_DATAERR:
		sqs_invalid(k, "%s", e->msg);
		break;
	case EV_TEMPFAIL:
		serve_error(k->c, 400, "com.amazonaws.sqs#RequestThrottled", "RequestThrottled",
		    "%s", e->msg);
		break;
	default:
		serve_error(k->c, 500, "com.amazonaws.sqs#InternalFailure", "InternalFailure",
		    "%s", e->msg);
	}
}

void
sqs_url(const struct sqs_call *k, const char *name, struct buf *b)
{
	buf_printf(b, "%s/000000000000/%s", k->base, name);
}

/* The last part of a QueueUrl (.../ACCOUNT/NAME) or an ARN
 * (arn:aws:sqs:REGION:ACCOUNT:NAME), if a queue's name. */
const char *
sqs_name_of(const char *s, char *name, size_t n)
{
	const char *slash = strrchr(s, '/'), *colon = strrchr(s, ':');
	const char *p = strncmp(s, "arn:", 4) == 0 ? (colon ? colon + 1 : s) :
	    slash != NULL ? slash + 1 : s;

	if (strlen(p) >= n || name_check(p, 1) != NULL)
		return NULL;
	snprintf(name, n, "%s", p);
	return name;
}

static struct sqs_q *
cached(struct sqs *x, const char *name, size_t *at)
{
	for (size_t i = 0; i < x->nq; i++)
		if (strcmp(x->qs[i]->name, name) == 0) {
			*at = i;
			return x->qs[i];
		}
	return NULL;
}

static void
drop(struct sqs *x, size_t i)
{
	struct sqs_q *c = x->qs[i];

	q_close(c->q);
	free(c->name);
	for (size_t t = 0; t < c->ntags; t++)
		free(c->tags[t]);
	free(c->tags);
	free(c);
	x->qs[i] = x->qs[--x->nq];
}

void
sqs_forget(struct sqs *x, const char *name)
{
	size_t i;

	if (cached(x, name, &i) != NULL)
		drop(x, i);
}

/* A cached queue stays while its file is the one opened: another
 * process may have deleted it, or deleted and made it again. */
int
sqs_open(struct sqs *x, const char *name, struct sqs_q **qp, struct ev_err *e)
{
	struct sqs_q *c;
	struct stat st;
	size_t i;
	int rc;

	if ((c = cached(x, name, &i)) != NULL) {
		if (stat(q_path(c->q), &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino) {
			*qp = c;
			return 0;
		}
		drop(x, i);
	}
	struct queue *q;
	if ((rc = q_open(name, Q_OPEN, NULL, &q, e)) != 0)
		return rc;
	if (stat(q_path(q), &st) != 0) {
		q_close(q);
		return err_set(e, EV_NOINPUT, "%s: no such queue", name);
	}
	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(name);
	c->q = q;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	XGROW(&x->qs, &x->capq, x->nq + 1);
	x->qs[x->nq++] = c;
	*qp = c;
	return 0;
}

struct sqs_q *
sqs_queue(const struct sqs_call *k)
{
	struct buf url = { 0 };
	struct sqs_q *c = NULL;
	struct ev_err e;
	char name[96];
	int rc;

	if (sqs_str(k, "QueueUrl", &url) <= 0 || url.n == 0) {
		sqs_missing(k, "QueueUrl");
	} else if (sqs_name_of(url.p, name, sizeof name) == NULL) {
		sqs_fail(k, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
		    "The specified queue does not exist.");
	} else if ((rc = sqs_open(k->x, name, &c, &e)) != 0) {
		sqs_fail_err(k, rc, &e);
		c = NULL;
	} else {
		serve_log_note(k->c, name);
	}
	buf_free(&url);
	return c;
}

/* ---- the long polls ---- */

static void
wait_free(struct sqs_wait *w)
{
	free(w->name);
	free(w->base);
	buf_free(&w->body);
	free(w);
}

static void
wait_gone(void *ctx, struct serve_call *c)
{
	struct sqs *x = ctx;

	for (struct sqs_wait **p = &x->waits; *p != NULL; p = &(*p)->next)
		if ((*p)->c == c) {
			struct sqs_wait *w = *p;
			*p = w->next;
			wait_free(w);
			return;
		}
}

/* A ReceiveMessage that found nothing and may wait: kept to try again. */
void
sqs_receive_call(const struct sqs_call *k)
{
	long long wait_s = -1;

	if (sqs_receive(k, 0))
		return;
	struct sqs_wait *w = xcalloc(1, sizeof *w);
	struct sqs_q *c = sqs_queue(k);
	if (c == NULL) {	/* answered: deleted meanwhile */
		free(w);
		return;
	}
	if (sqs_int(k, "WaitTimeSeconds", &wait_s) <= 0)
		wait_s = q_attrs(c->q)->wait_ms / 1000;
	w->c = k->c;
	w->name = xstrdup(c->name);
	w->base = xstrdup(k->base);
	buf_add(&w->body, k->p, k->n);
	buf_addc(&w->body, '\0');
	w->body.n--;
	w->deadline = clock_mono_ms() + wait_s * 1000;
	w->next = k->x->waits;
	k->x->waits = w;
	serve_on_gone(k->c, wait_gone, k->x);
	serve_kick(k->x->s, &serve_sqs);
}

/* Tries each waiting long poll; answers those with messages, and those
 * whose time is up (with none). */
static int64_t
tick(void *state, int64_t now)
{
	struct sqs *x = state;
	int64_t next = -1;

	x->dirty = 0;
	for (struct sqs_wait **p = &x->waits; *p != NULL;) {
		struct sqs_wait *w = *p;
		struct sqs_call k = { x, w->c, w->body.p, w->body.n, w->base };
		int last = now >= w->deadline || serve_stopping(x->s);
		if (sqs_receive(&k, last)) {
			*p = w->next;
			wait_free(w);
			continue;
		}
		int64_t at = now + POLL_MS < w->deadline ? now + POLL_MS : w->deadline;
		if (next < 0 || at < next)
			next = at;
		p = &w->next;
	}
	return next;
}

static void
stop(void *state)
{
	struct sqs *x = state;

	tick(x, clock_mono_ms());
}

static int
init(struct serve *s, void **state, struct ev_err *e)
{
	struct sqs *x = xcalloc(1, sizeof *x);
	char *home;
	int rc;

	/* $EVKIT_HOME is checked now, not at the first request. */
	if ((rc = name_home(&home, e)) != 0) {
		free(x);
		return rc;
	}
	free(home);
	x->s = s;
	*state = x;
	return 0;
}

static void
fini(void *state)
{
	struct sqs *x = state;

	while (x->nq > 0)
		drop(x, x->nq - 1);
	while (x->waits != NULL) {
		struct sqs_wait *w = x->waits;
		x->waits = w->next;
		wait_free(w);
	}
	free(x->qs);
	free(x);
}

static const struct {
	const char *op;
	void (*fn)(const struct sqs_call *k);
} ops[] = {
	{ "SendMessage", sqs_send },
	{ "SendMessageBatch", sqs_send_batch },
	{ "ReceiveMessage", sqs_receive_call },
	{ "DeleteMessage", sqs_delete },
	{ "DeleteMessageBatch", sqs_delete_batch },
	{ "ChangeMessageVisibility", sqs_visibility },
	{ "ChangeMessageVisibilityBatch", sqs_visibility_batch },
	{ "CreateQueue", sqs_create },
	{ "GetQueueUrl", sqs_get_url },
	{ "ListQueues", sqs_list },
	{ "GetQueueAttributes", sqs_get_attrs },
	{ "SetQueueAttributes", sqs_set_attrs },
	{ "PurgeQueue", sqs_purge },
	{ "DeleteQueue", sqs_delete_queue },
	{ "StartMessageMoveTask", sqs_move },
	{ "TagQueue", sqs_tag },
	{ "UntagQueue", sqs_untag },
	{ "ListQueueTags", sqs_list_tags },
};

static void
call(void *state, struct serve_call *c, const struct serve_req *rq)
{
	struct sqs_call k = { state, c, rq->body, rq->body_n, rq->base_url };
	struct json_err je;

	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		if (strcmp(rq->op, ops[i].op) != 0)
			continue;
		if (rq->body_n == 0) {
			k.p = "{}";
			k.n = 2;
		} else if (json_validate(rq->body, rq->body_n, 0, &je) != '{') {
			serve_error(c, 400, "com.amazon.coral.service#SerializationException", NULL,
			    "the request body is not a JSON object");
			return;
		} else {
			size_t at = json_ws(k.p, k.n, 0);	/* the members are found from its '{' */
			k.p += at;
			k.n -= at;
		}
		ops[i].fn(&k);
		return;
	}
	sqs_fail(&k, "InvalidAction", "AWS.SimpleQueueService.InvalidAction",
	    "The action %s is not valid for this endpoint.", rq->op);
}

const struct serve_svc serve_sqs = {
	.name = "sqs",
	.target_prefix = "AmazonSQS.",
	.json_type = "application/x-amz-json-1.0",
	.init = init,
	.call = call,
	.tick = tick,
	.stop = stop,
	.fini = fini,
};
