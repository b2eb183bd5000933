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

static void vfail(const struct sqs_call *k, const char *type, const char *qcode,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

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

/* ---- the sends' shared transaction ---- */

static void
answer_pend(struct sqs_q *c, int rc, const struct ev_err *e)
{
	while (c->pend != NULL) {
		struct sqs_pend *p = c->pend;
		c->pend = p->next;
		if (rc == 0)
			serve_json(p->c, &p->out);
		else
			serve_error(p->c, 500, "com.amazonaws.sqs#InternalError", "InternalError",
			    "%s", e->msg);
		buf_free(&p->out);
		free(p);
	}
	c->pend_tail = &c->pend;
}

static void run_receives(struct sqs *x, struct sqs_q *c);

void
sqs_commit(struct sqs *x, struct sqs_q *c)
{
	struct ev_err e;
	size_t done;
	int rc = 0;

	if (c->tx) {
		c->tx = 0;
		if ((rc = q_send_commit(c->q, &e)) != 0 && q_send_active(c->q))
			q_send_rollback(c->q);
		x->dirty = 1;
	}
	/* A stale handle deletes nothing and succeeds, as on SQS. */
	if (rc == 0 && c->ndel > 0)
		rc = q_delete(c->q, c->dels, c->ndel, NULL, &done, &e);
	c->ndel = 0;
	if (c->pend != NULL)
		answer_pend(c, rc, &e);
	if (c->recvs != NULL)
		run_receives(x, c);
}

void
sqs_defer_delete(struct sqs_q *c, const struct q_msg *m)
{
	XGROW(&c->dels, &c->capdel, c->ndel + 1);
	c->dels[c->ndel++] = *m;
}

void
sqs_abort(struct sqs_q *c, const struct ev_err *e)
{
	if (q_send_active(c->q))
		q_send_rollback(c->q);
	c->tx = 0;
	answer_pend(c, EV_SOFTWARE, e);
}

void
sqs_defer(struct sqs *x, struct sqs_q *c, struct serve_call *call, struct buf *out)
{
	struct sqs_pend *p = xcalloc(1, sizeof *p);

	p->c = call;
	p->out = *out;
	*out = (struct buf){ 0 };
	if (c->pend_tail == NULL)
		c->pend_tail = &c->pend;
	*c->pend_tail = p;
	c->pend_tail = &p->next;
	serve_kick(x->s, &serve_sqs);
}

static void
commit_all(struct sqs *x)
{
	for (size_t i = 0; i < x->nq; i++)
		sqs_commit(x, x->qs[i]);
}

static void
drop(struct sqs *x, size_t i)
{
	struct sqs_q *c = x->qs[i];

	sqs_commit(x, c);
	free(c->dels);
	q_close(c->q);
	free(c->name);
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
			if (!x->sending)
				sqs_commit(x, c);	/* what comes next sees the sends */
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
	c->pend_tail = &c->pend;
	c->recvs_tail = &c->recvs;
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

/* A long poll that found nothing: kept to try again. */
static void
add_waiter(struct sqs *x, const struct sqs_call *k, const char *name, long long wait_s)
{
	struct sqs_wait *w = xcalloc(1, sizeof *w);

	w->c = k->c;
	w->name = xstrdup(name);
	w->base = xstrdup(k->base);
	buf_add(&w->body, k->p, k->n);
	buf_addc(&w->body, '\0');
	w->body.n--;
	w->deadline = clock_mono_ms() + wait_s * 1000;
	w->next = x->waits;
	x->waits = w;
	serve_on_gone(k->c, wait_gone, x);
	serve_kick(x->s, &serve_sqs);
}

/* ReceiveMessage: checked now, done with the turn's others on the queue. */
void
sqs_receive_call(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct sqs_recvp r = { .c = k->c, .p = k->p, .n = k->n };

	if (c == NULL || !sqs_receive_params(k, c, &r.max, &r.vis, &r.wait))
		return;
	struct sqs_recvp *p = xmemdup(&r, sizeof r);
	p->base = xstrdup(k->base);
	if (c->recvs_tail == NULL)
		c->recvs_tail = &c->recvs;
	*c->recvs_tail = p;
	c->recvs_tail = &p->next;
	serve_kick(k->x->s, &serve_sqs);
}

enum { GROUP_MAX = 64 };	/* messages one grouped q_receive takes */

/* Hands out n received messages m to the group g..end in order: each its
 * MaxNumberOfMessages; one left with none waits if it may. */
static void
hand_out(struct sqs *x, struct sqs_q *c, struct sqs_recvp *g, struct sqs_recvp *end,
    const struct q_msg *m, size_t n)
{
	size_t at = 0;

	for (struct sqs_recvp *r = g; r != end; r = r->next) {
		struct sqs_call k = { x, r->c, r->p, r->n, r->base };
		size_t take = n - at < (size_t)r->max ? n - at : (size_t)r->max;
		if (take == 0 && r->wait > 0 && !serve_stopping(x->s))
			add_waiter(x, &k, c->name, r->wait);
		else
			sqs_answer_msgs(&k, m + at, take);
		at += take;
	}
}

/* The turn's receives on c: runs of the same VisibilityTimeout, up to
 * GROUP_MAX messages, each one q_receive (one lease, one fsync). */
static void
run_receives(struct sqs *x, struct sqs_q *c)
{
	struct q_msg m[GROUP_MAX];
	struct sqs_recvp *g = c->recvs;
	struct ev_err e;

	c->recvs = NULL;
	c->recvs_tail = &c->recvs;
	while (g != NULL) {
		struct sqs_recvp *end = g;
		size_t want = 0, n = 0;
		while (end != NULL && end->vis == g->vis && want + (size_t)end->max <= GROUP_MAX) {
			want += (size_t)end->max;
			end = end->next;
		}
		int rc = q_receive(c->q, 0, want, g->vis >= 0 ? g->vis * 1000 : -1, m, &n, &e);
		for (struct sqs_recvp *r = g; rc != 0 && r != end; r = r->next) {
			struct sqs_call k = { x, r->c, r->p, r->n, r->base };
			sqs_fail_err(&k, rc, &e);
		}
		if (rc == 0)
			hand_out(x, c, g, end, m, n);
		while (g != end) {
			struct sqs_recvp *r = g;
			g = g->next;
			free(r->base);
			free(r);
		}
	}
}

/* Tries each waiting long poll; answers those with messages, and those
 * whose time is up (with none). */
static int64_t
tick(void *state, int64_t now)
{
	struct sqs *x = state;
	int64_t next = -1;

	commit_all(x);
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
	struct sqs *x = state;
	struct sqs_call k = { x, c, rq->body, rq->body_n, rq->base_url };
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
		x->sending = ops[i].fn == sqs_send || ops[i].fn == sqs_send_batch ||
		    ops[i].fn == sqs_delete || ops[i].fn == sqs_delete_batch ||
		    ops[i].fn == sqs_receive_call;
		ops[i].fn(&k);
		x->sending = 0;
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
