/* queue_nats — a queue on NATS JetStream (nats://SERVERS/NAME), behind
 * the calls of queue.h, as shared/ref/nats.md maps SQS onto JetStream:
 * - the queue is a work-queue stream (evq-NAME, FIFO evqf-BASE; file
 *   storage) on the one subject evq.NAME, with one durable pull consumer
 *   "evq" that every receiver shares; its attributes live in the
 *   stream's description, VisibilityTimeout is the consumer's AckWait,
 *   MessageRetentionPeriod the stream's MaxAge;
 * - a message's id, send time, group, dedup id, attributes and delay are
 *   headers (QN_*); Nats-Msg-Id is its dedup id on FIFO, else its id, so
 *   a publish repeated after a lost ack is dropped within the stream's
 *   5-minute duplicate window;
 * - a receipt handle is the message's ack subject, so any process can
 *   delete (+ACK), release (-NAK with a delay) or extend (+WPI) it; the
 *   server confirms each (queue_nats_recv.c);
 * - the receive count is the delivery count; over maxReceiveCount a
 *   message is published to the dead-letter queue under its own id as
 *   Nats-Msg-Id, then acked (queue_nats_admin.c): a crash in between
 *   leaves it to be moved again, the copy dropped as a duplicate;
 * - DelaySeconds: the visible-at header; a receiver that gets the message
 *   early gives it back with a nak for the time left (that early delivery
 *   counts as a receive: JetStream cannot take it back);
 * - FIFO: the consumer lets one message at a time be in flight
 *   (MaxAckPending 1), so groups keep their order and none has two in
 *   flight; the cost is one message in flight for the whole queue, not
 *   per group, and receives of one message at a time. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/digest.h"
#include "queue_int.h"

enum { DUP_WINDOW_MS = 5 * 60 * 1000, MIN_ACK_WAIT_MS = 1000 };

char *
qnats_strdup(struct qnats *rn, const char *s, size_t n)
{
	XGROW(&rn->strs, &rn->capstrs, rn->nstrs + 1);
	return rn->strs[rn->nstrs++] = xstrndup(s, n);
}

static void
set_names(struct queue *q, const char *name)
{
	struct qnats *rn = q->rn;
	size_t n = strlen(name);

	if (n > 5 && strcmp(name + n - 5, ".fifo") == 0)
		snprintf(rn->stream, sizeof rn->stream, "evqf-%.*s", (int)(n - 5), name);
	else
		snprintf(rn->stream, sizeof rn->stream, "evq-%s", name);
	snprintf(rn->subject, sizeof rn->subject, "evq.%s", name);
	snprintf(q->arn, sizeof q->arn, "arn:aws:sqs:us-east-1:000000000000:%s", name);
}

/* The attributes as the stream's description: "evkit queue" then
 * NAME=VALUE each, the value %XX-escaped beyond [A-Za-z0-9._:/@-]
 * (cnats puts the description into JSON unescaped). */
static char *
describe(const struct q_attrs *a)
{
	struct buf b = { 0 };
	char v[4200];

	buf_adds(&b, "evkit queue");
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++) {
		qattr_text(a, d, v, sizeof v);
		buf_printf(&b, " %s=", d->name);
		for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
			if (strchr("._:/@-", *p) != NULL || (*p < 128 && isalnum(*p)))
				buf_addc(&b, (char)*p);
			else
				buf_printf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

static char *
undescribe(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		unsigned hi, lo;
		if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%1x%1x", &hi, &lo) == 2) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int
load_description(struct queue *q, const char *desc, struct ev_err *e)
{
	if (desc == NULL || strncmp(desc, "evkit queue", 11) != 0)
		return err_set(e, EV_DATAERR, "stream %s is not an evkit queue", q->rn->stream);
	q_attrs_default(&q->a, 0);
	for (const char *p = strchr(desc, ' '); p != NULL; p = strchr(p + 1, ' ')) {
		const char *eq = strchr(p + 1, '='), *end = strchr(p + 1, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if (eq == NULL || eq > end)
			continue;
		char *name = xstrndup(p + 1, (size_t)(eq - p - 1));
		char *val = undescribe(eq + 1, (size_t)(end - eq - 1));
		qattr_load(q, name, val);
		free(name);
		free(val);
	}
	return 0;
}

static int64_t
ack_wait_ms(const struct q_attrs *a)
{
	/* JetStream takes no AckWait of 0: a lease of 0 is a nak instead. */
	return a->visibility_ms < MIN_ACK_WAIT_MS ? MIN_ACK_WAIT_MS : a->visibility_ms;
}

static int
apply_consumer(struct queue *q, int create, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;

	jsConsumerConfig_Init(&cc);
	cc.Durable = "evq";
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = ack_wait_ms(&q->a) * 1000000LL;
	cc.MaxDeliver = -1;		/* dead letters are the receivers' move */
	cc.MaxAckPending = q->a.fifo ? 1 : 1000000;
	cc.MaxWaiting = 4096;
	natsStatus s = create ? js_AddConsumer(&ci, nats_js(rn->c), rn->stream, &cc, NULL, &jerr) :
	    js_UpdateConsumer(&ci, nats_js(rn->c), rn->stream, &cc, NULL, &jerr);
	jsConsumerInfo_Destroy(ci);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "consumer of stream %s", rn->stream);
	rn->ack_wait_ms = ack_wait_ms(&q->a);
	return 0;
}

int
qnats_apply(struct queue *q, int create, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	const char *subj[1] = { rn->subject };
	char *desc = describe(&q->a);

	jsStreamConfig_Init(&sc);
	sc.Name = rn->stream;
	sc.Description = desc;
	sc.Subjects = subj;
	sc.SubjectsLen = 1;
	sc.Retention = js_WorkQueuePolicy;
	sc.Storage = js_FileStorage;
	sc.MaxAge = q->a.retention_ms * 1000000LL;
	sc.Duplicates = (q->a.retention_ms < DUP_WINDOW_MS ? q->a.retention_ms : DUP_WINDOW_MS) *
	    1000000LL;
	sc.Replicas = rn->replicas > 0 ? rn->replicas : 1;
	natsStatus s = create ? js_AddStream(&si, nats_js(rn->c), &sc, NULL, &jerr) :
	    js_UpdateStream(&si, nats_js(rn->c), &sc, NULL, &jerr);
	if (s == NATS_OK && !create)
		rn->replicas = (int)si->Config->Replicas;
	jsStreamInfo_Destroy(si);
	free(desc);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "stream %s", rn->stream);
	return apply_consumer(q, create, e);
}

/* Reads the stream's attributes into q->a; 66 when there is none. */
static int
reload(struct queue *q, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, nats_js(rn->c), rn->stream, NULL, &jerr);

	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
		return err_set(e, EV_NOINPUT, "queue '%s' does not exist", q->name);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "stream %s", rn->stream);
	int rc = load_description(q, si->Config->Description, e);
	rn->replicas = (int)si->Config->Replicas;
	jsStreamInfo_Destroy(si);
	rn->ack_wait_ms = ack_wait_ms(&q->a);
	return rc;
}

static int
create(struct queue *q, const struct q_attrs *init, struct ev_err *e)
{
	q->a = *init;
	q->a.fifo = strlen(q->rn->u.name) > 5 &&
	    strcmp(q->rn->u.name + strlen(q->rn->u.name) - 5, ".fifo") == 0;
	q->a.created_ms = q->a.modified_ms = clock_now_ms();
	int rc = qnats_apply(q, 1, e);
	/* Created at the same time by another: theirs stands, as SQS's. */
	if (rc != 0 && strstr(e->msg, "already in use") != NULL)
		rc = EV_CONFLICT;
	return rc;
}

int
qnats_open(struct queue *q, const char *arg, int flags, const struct q_attrs *init,
    const struct q_open_opts *o, struct ev_err *e)
{
	struct qnats *rn = xcalloc(1, sizeof *rn);
	int rc;

	q->rn = rn;
	q->ops = &qnats_ops;
	if ((rc = nats_uri_parse(arg, 1, &rn->u, e)) != 0)
		return rc;
	q->arg = xstrdup(arg);
	q->name = xstrdup(rn->u.shown);
	q->path = xstrdup(rn->u.shown);
	rn->replicas = o != NULL && o->replicas > 0 ? o->replicas : rn->u.replicas;
	set_names(q, rn->u.name);
	if ((rc = nats_connect(&rn->u, &rn->c, e)) != 0)
		return rc;
	rc = reload(q, e);
	/* As on SQS, only an explicit creation (evq-ctl create) makes one:
	 * a mistyped URI must not leave streams on a cluster. */
	if (rc == EV_NOINPUT && (flags & Q_CREATE) && init != NULL)
		rc = create(q, init, e);
	return rc;
}

static void
drop_msgs(natsMsg **m, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		natsMsg_Destroy(m[i]);
	*n = 0;
}

void
qnats_close(struct queue *q)
{
	struct qnats *rn = q->rn;

	if (rn == NULL)
		return;
	/* What a wait fetched and nobody got: visible again at once. */
	if (rn->nstash > 0)
		for (size_t i = 0; i < rn->nstash; i++)
			natsMsg_Nak(rn->stash[i], NULL);
	if (rn->c != NULL && rn->nstash > 0)
		natsConnection_FlushTimeout(nats_nc(rn->c), 2000);
	qnats_unskip(rn);
	free(rn->skipped);
	if (rn->c != NULL)
		natsConnection_FlushTimeout(nats_nc(rn->c), 2000);
	drop_msgs(rn->stash, &rn->nstash);
	drop_msgs(rn->cur, &rn->ncur);
	free(rn->stash);
	free(rn->cur);
	for (size_t i = 0; i < rn->nstrs; i++)
		free(rn->strs[i]);
	free(rn->strs);
	qnats_send_rollback(q);
	natsSubscription_Destroy(rn->sub);
	natsSubscription_Destroy(rn->isub);
	natsInbox_Destroy(rn->inbox);
	q_close(rn->dlq);
	nats_close(rn->c);
	nats_uri_free(&rn->u);
	free(rn);
	q->rn = NULL;
}

int
qnats_open_ref(struct queue *q, const char *ref, struct queue **qp, struct ev_err *e)
{
	struct q_open_opts o = { 0 };

	if (nats_is_uri(ref))
		return q_open_with(ref, Q_OPEN, NULL, &o, qp, e);
	/* A bare name: on the same servers, with the same credentials. */
	const char *slash = strrchr(q->arg, '/');
	struct buf b = { 0 };
	buf_printf(&b, "%.*s/%s", (int)(slash - q->arg), q->arg, ref);
	int rc = q_open_with(b.p, Q_OPEN, NULL, &o, qp, e);
	buf_free(&b);
	return rc;
}

/* ---- sending ---- */

/* A header value: printable ASCII kept, other bytes and % as %XX (ids
 * may hold any byte, a NUL included). */
static char *
pct(const char *s, size_t n)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > ' ' && c < 127 && c != '%')
			buf_addc(&b, (char)c);
		else
			buf_printf(&b, "%%%02X", c);
	}
	if (b.p == NULL)
		buf_adds(&b, "");
	return buf_detach(&b);
}

static natsMsg *
build(struct queue *q, const struct q_out *m, const char *id, const char *dedup, size_t dlen)
{
	natsMsg *msg = NULL;
	char v[32];

	if (natsMsg_Create(&msg, q->rn->subject, NULL, m->body, (int)m->len) != NATS_OK)
		die_oom();
	natsMsgHeader_Set(msg, QN_ID, id);
	if (dedup != NULL) {
		char *d = pct(dedup, dlen);
		natsMsgHeader_Set(msg, "Nats-Msg-Id", d);
		natsMsgHeader_Set(msg, QN_DEDUP, d);
		free(d);
	} else {
		natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
	}
	int64_t now = clock_now_ms(), delay = m->delay_ms >= 0 ? m->delay_ms : q->a.delay_ms;
	snprintf(v, sizeof v, "%lld", (long long)now);
	natsMsgHeader_Set(msg, QN_SENT, v);
	if (delay > 0) {
		snprintf(v, sizeof v, "%lld", (long long)(now + delay));
		natsMsgHeader_Set(msg, QN_VISIBLE, v);
	}
	if (m->group != NULL) {
		char *g = pct(m->group, m->group_len ? m->group_len : strlen(m->group));
		natsMsgHeader_Set(msg, QN_GROUP, g);
		free(g);
	}
	if (m->attrs != NULL) {
		natsMsgHeader_Set(msg, QN_ATTRS, m->attrs);
		natsMsgHeader_Set(msg, QN_ATTRS_MD5, m->attrs_md5);
	}
	if (m->trace != NULL)
		natsMsgHeader_Set(msg, QN_TRACE, m->trace);
	return msg;
}

/* A FIFO duplicate: the original's id, if the stream still has it. */
static void
original_id(struct queue *q, uint64_t seq, struct q_sent *sent)
{
	natsMsg *orig = NULL;
	const char *id = NULL;

	if (js_GetMsg(&orig, nats_js(q->rn->c), q->rn->stream, seq, NULL, NULL) == NATS_OK &&
	    natsMsgHeader_Get(orig, QN_ID, &id) == NATS_OK && strlen(id) < sizeof sent->id)
		snprintf(sent->id, sizeof sent->id, "%s", id);
	natsMsg_Destroy(orig);
}

static int
send_fifo(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e)
{
	const char *dedup = m->dedup;
	size_t dlen = m->dedup != NULL ? (m->dedup_len ? m->dedup_len : strlen(m->dedup)) : 0;
	char hash[65];

	if (m->group == NULL)
		return sent->refused = "a FIFO queue needs a message group id", 0;
	if (m->delay_ms >= 0)
		return sent->refused = "FIFO queues take no per-message delay (set the queue's "
		    "DelaySeconds)", 0;
	if (dedup == NULL && q->a.content_dedup) {
		digest_hex_of(DIGEST_SHA256, m->body, m->len, hash);
		dedup = hash;
		dlen = 64;
	}
	if (dedup == NULL)
		return sent->refused = "a FIFO queue needs a deduplication id, or "
		    "ContentBasedDeduplication", 0;
	uuid_v4(sent->id);
	natsMsg *msg = build(q, m, sent->id, dedup, dlen);
	struct nats_ack a = { 0 };
	int rc = nats_pub_sync(q->rn->c, msg, NULL, &a, e);
	if (rc != 0)
		return err_wrap(e, "queue '%s'", q->name);
	sent->duplicate = a.duplicate;
	if (a.duplicate)
		original_id(q, a.seq, sent);
	snprintf(sent->seq, sizeof sent->seq, "%020llu", (unsigned long long)a.seq);
	return 0;
}

static void
on_ack(void *ctx, const struct nats_ack *a)
{
	struct queue *q = ctx;
	struct qnats *rn = q->rn;
	struct npend *p = &rn->pend[(size_t)(uintptr_t)a->tag];
	struct q_sent sent = { 0 };

	snprintf(sent.id, sizeof sent.id, "%s", p->id);
	if (rn->on_sent != NULL)
		rn->on_sent(rn->ctx, &sent, p->body, p->len);
}

static void
drop_pend(struct qnats *rn)
{
	for (size_t i = 0; i < rn->npend; i++)
		free(rn->pend[i].body);
	rn->npend = 0;
}

int
qnats_send_commit(struct queue *q, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	int rc = nats_pub_flush(rn->c, on_ack, q, e);

	drop_pend(rn);
	return rc != 0 ? err_wrap(e, "queue '%s'", q->name) : 0;
}

int
qnats_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e)
{
	struct qnats *rn = q->rn;

	memset(sent, 0, sizeof *sent);
	if (q->a.fifo)
		return send_fifo(q, m, sent, e);
	if (rn->npend == NATS_PUB_PENDING && qnats_send_commit(q, e) != 0)
		return e->code;
	struct npend *p = &rn->pend[rn->npend];
	uuid_v4(p->id);
	p->body = xmemdup(m->body, m->len);
	p->len = m->len;
	natsMsg *msg = build(q, m, p->id, NULL, 0);
	if (nats_pub_add(rn->c, msg, (void *)(uintptr_t)rn->npend++, on_ack, q, e) != 0)
		return err_wrap(e, "queue '%s'", q->name);
	return 0;
}

void
qnats_send_rollback(struct queue *q)
{
	if (q->rn->c != NULL)
		nats_pub_drop(q->rn->c);
	drop_pend(q->rn);
}

int
qnats_send_active(const struct queue *q)
{
	return q->rn->npend > 0;
}

const struct q_ops qnats_ops = {
	.engine = "NATS",
	.close = qnats_close,
	.send_add = qnats_send_add,
	.send_commit = qnats_send_commit,
	.send_rollback = qnats_send_rollback,
	.send_active = qnats_send_active,
	.receive = qnats_receive,
	.consume = qnats_consume,
	.consume_done = qnats_consume_done,
	.consume_extend = qnats_consume_extend,
	.peek = qnats_peek,
	.del = qnats_delete,
	.release = qnats_release,
	.wait = qnats_wait,
	.envelope = qnats_envelope,
	.stat = qnats_stat,
	.set = qnats_set,
	.purge = qnats_purge,
	.redrive = qnats_redrive,
	.drop = qnats_drop,
};
