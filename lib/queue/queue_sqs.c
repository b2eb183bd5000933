/* queue_sqs — the q_* calls on a remote queue: Amazon SQS, or a server
 * speaking its protocol, over aws/.  q_open hands an argument for which
 * aws_is_uri() is true here, so every place that takes a QUEUE (evq-*,
 * fnrun --queue, bus targets, dead letters) reaches SQS by the same calls.
 *
 * Where a local concept does not map, it gets the remote meaning or is
 * refused (EV_USAGE), never answered wrongly:
 * - rowids are a count of this handle's receives (the after_rowid cursor
 *   means nothing to SQS and is ignored);
 * - sending buffers up to 10 messages and sends them by SendMessageBatch
 *   (aws_sqs_send splits by 1 MiB); a message's id exists only once the
 *   server acknowledged it, so q_send_add leaves sent->id empty and the
 *   q_send_on_sent callback reports each acknowledged message;
 * - q_wait is one long poll (at most 20 s) whose messages the next
 *   receive returns;
 * - a release cannot take back the receive count SQS already added;
 * - peeking is refused: SQS cannot read a message without receiving it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue_int.h"

/* ---- attributes ---- */

int
qsqs_jstr(const char *p, size_t n, const char *key, struct buf *out)
{
	buf_reset(out);
	if (p == NULL || n == 0)
		return 0;
	size_t v = json_find_member(p, n, json_ws(p, n, 0), key, strlen(key));
	if (v == (size_t)-1 || p[v] != '"')
		return 0;
	size_t end = json_skip(p, n, v);
	json_unescape(out, p + v + 1, end - v - 2);
	buf_addc(out, '\0');
	out->n--;
	return 1;
}

static long long
jnum(const char *p, const char *key)
{
	struct buf b = { 0 };
	long long x = qsqs_jstr(p, p != NULL ? strlen(p) : 0, key, &b) ? strtoll(b.p, NULL, 10) : 0;

	buf_free(&b);
	return x;
}

/* SQS's Attributes object into q->a. */
static void
load_attrs(struct queue *q, const char *p, size_t n)
{
	struct buf v = { 0 }, name = { 0 };
	size_t at = json_ws(p, n, 0), k, kend, vb, ve;

	q_attrs_default(&q->a, 0);
	while (json_member(p, n, &at, &k, &kend, &vb, &ve)) {
		if (p[vb] != '"')
			continue;
		buf_reset(&name);
		json_unescape(&name, p + k + 1, kend - k - 2);
		buf_addc(&name, '\0');
		buf_reset(&v);
		json_unescape(&v, p + vb + 1, ve - vb - 2);
		buf_addc(&v, '\0');
		if (strcmp(name.p, "RedrivePolicy") == 0) {
			struct buf t = { 0 };
			if (qsqs_jstr(v.p, v.n - 1, "deadLetterTargetArn", &t))
				snprintf(q->a.dlq, sizeof q->a.dlq, "%s", t.p);
			q->a.max_receives = (int)jnum(v.p, "maxReceiveCount");
			if (q->a.max_receives == 0) {	/* a number, not a string */
				size_t m = json_find_member(v.p, v.n - 1, 0, "maxReceiveCount", 15);
				q->a.max_receives = m != (size_t)-1 ? atoi(v.p + m) : 0;
			}
			buf_free(&t);
		} else if (strcmp(name.p, "CreatedTimestamp") == 0) {
			q->a.created_ms = strtoll(v.p, NULL, 10) * 1000;
		} else if (strcmp(name.p, "LastModifiedTimestamp") == 0) {
			q->a.modified_ms = strtoll(v.p, NULL, 10) * 1000;
		} else {
			(void)qattr_load(q, name.p, v.p);
		}
	}
	buf_free(&v);
	buf_free(&name);
}

int
qsqs_reload(struct queue *q, struct ev_err *e)
{
	int rc = aws_sqs_get_attrs(q->rs->s, &q->rs->stat, e);

	if (rc == 0)
		load_attrs(q, q->rs->stat.p, q->rs->stat.n);
	return rc;
}

/* CreateQueue's Attributes from *a: what differs from SQS's defaults. */
static void
create_attrs(const struct q_attrs *a, struct buf *b)
{
	struct q_attrs def;
	char v[64];

	q_attrs_default(&def, a->fifo);
	buf_addc(b, '{');
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++) {
		if (d->kind == QA_INT || d->kind == QA_TEXT || d->kind == QA_MS)
			continue;
		if (q_attr_get(a, d) == q_attr_get(&def, d) && strcmp(d->name, "FifoQueue") != 0)
			continue;
		if (strcmp(d->name, "FifoQueue") == 0 && !a->fifo)
			continue;
		qattr_text(a, d, v, sizeof v);
		buf_printf(b, "%s\"%s\":\"%s\"", b->n > 1 ? "," : "", d->name, v);
	}
	buf_addc(b, '}');
}

int
qsqs_open(struct queue *q, const char *arg, int flags, const struct q_attrs *init,
    const char *endpoint_url, struct ev_err *e)
{
	struct qsqs *rs = xcalloc(1, sizeof *rs);
	int rc;

	q->rs = rs;
	q->ops = &qsqs_ops;
	rs->last_vis = -1;
	rs->last_max = 1;
	q->arg = xstrdup(arg);
	q->name = xstrdup(arg);
	rs->endpoint_url = endpoint_url != NULL ? xstrdup(endpoint_url) : NULL;
	if ((rc = aws_sqs_open(arg, endpoint_url, &rs->s, e)) != 0)
		return rc;
	snprintf(q->arn, sizeof q->arn, "%s", aws_sqs_arn(rs->s));
	rc = qsqs_reload(q, e);
	/* Only an explicit creation (evq-ctl create) makes a remote queue:
	 * a mistyped URL must not create queues in an account. */
	if (rc == EV_NOINPUT && (flags & Q_CREATE) && init != NULL) {
		struct buf b = { 0 };
		create_attrs(init, &b);
		rc = aws_sqs_create(rs->s, b.p, e);
		buf_free(&b);
		if (rc == EV_DATAERR && strstr(e->msg, "Exists") != NULL)
			rc = EV_CONFLICT;
		if (rc == 0)
			rc = qsqs_reload(q, e);
	}
	const char *url;
	if (rc == 0 && (rc = aws_sqs_url(rs->s, &url, e)) == 0)
		q->path = xstrdup(url);
	return rc != 0 ? err_wrap(e, "queue '%s'", arg) : 0;
}

void
qsqs_drop_msgs(struct qsqs *rs)
{
	for (size_t i = 0; i < rs->ncur && rs->lattrs != NULL; i++)
		free(rs->lattrs[i]);
	free(rs->lattrs);
	rs->lattrs = NULL;
	aws_sqs_msgs_free(rs->cur, rs->ncur);
	rs->cur = NULL;
	rs->ncur = 0;
}

static void
drop_pend(struct qsqs *rs)
{
	for (size_t i = 0; i < rs->npend; i++) {
		struct pend *p = &rs->pend[i];
		free(p->body);
		free(p->group);
		free(p->dedup);
		free(p->attrs);
		free(p->trace);
	}
	rs->npend = 0;
}

void
qsqs_close(struct queue *q)
{
	struct qsqs *rs = q->rs;

	drop_pend(rs);
	qsqs_drop_msgs(rs);
	if (rs->nstash > 0)	/* a long poll's catch no one took */
		qsqs_give_back(rs, rs->stash, rs->nstash);
	aws_sqs_msgs_free(rs->stash, rs->nstash);
	buf_free(&rs->stat);
	free(rs->attrs_in);
	free(rs->attrs_out);
	aws_sqs_close(rs->s);
	free(rs->endpoint_url);
	free(rs);
	q->rs = NULL;
}

/* ---- sending ---- */

void
q_send_on_sent(struct queue *q, void (*fn)(void *ctx, const struct q_sent *sent,
    const char *body, size_t len), void *ctx)
{
	if (q->rs != NULL) {
		q->rs->on_sent = fn;
		q->rs->ctx = ctx;
	}
	if (q->rn != NULL) {
		q->rn->on_sent = fn;
		q->rn->ctx = ctx;
	}
}

/* Sends what is buffered; reports each message the server took. */
static int
flush(struct queue *q, struct ev_err *e)
{
	struct qsqs *rs = q->rs;
	struct aws_sqs_out o[AWS_SQS_BATCH];
	int rc;

	if (rs->npend == 0)
		return 0;
	memset(o, 0, sizeof o);
	for (size_t i = 0; i < rs->npend; i++) {
		struct pend *p = &rs->pend[i];
		o[i] = (struct aws_sqs_out){ .body = p->body, .len = p->len, .attrs = p->attrs,
		    .attrs_md5 = p->attrs != NULL ? p->attrs_md5 : NULL, .group = p->group,
		    .dedup = p->dedup, .trace = p->trace, .delay_s = p->delay_s };
	}
	rc = aws_sqs_send(rs->s, o, rs->npend, e);
	for (size_t i = 0; i < rs->npend; i++) {
		if (o[i].status != 0 || rs->on_sent == NULL)
			continue;
		struct q_sent sent = { 0 };
		snprintf(sent.id, sizeof sent.id, "%s", o[i].id);
		snprintf(sent.seq, sizeof sent.seq, "%s", o[i].seq);
		rs->on_sent(rs->ctx, &sent, rs->pend[i].body, rs->pend[i].len);
	}
	if (rc != 0)
		err_wrap(e, "queue '%s'", q->name);
	drop_pend(rs);
	return rc;
}

static char *
dup_id(const char *s, size_t len)
{
	return s == NULL ? NULL : len > 0 ? xstrndup(s, len) : xstrdup(s);
}

/* m's attributes in SQS's shape into *out (a copy), or NULL. */
static int
sqs_attrs(struct qsqs *rs, const char *attrs, char **out, struct ev_err *e)
{
	struct buf a = { 0 };
	int rc;

	*out = NULL;
	if (attrs == NULL)
		return 0;
	if (rs->attrs_in == NULL || strcmp(rs->attrs_in, attrs) != 0) {
		if ((rc = aws_sqs_attrs_from_lambda(attrs, &a, e)) != 0) {
			buf_free(&a);
			return rc;
		}
		free(rs->attrs_in);
		free(rs->attrs_out);
		rs->attrs_in = xstrdup(attrs);
		rs->attrs_out = buf_detach(&a);
	}
	*out = rs->attrs_out != NULL ? xstrdup(rs->attrs_out) : NULL;
	return 0;
}

int
qsqs_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e)
{
	struct qsqs *rs = q->rs;
	char *attrs;
	int rc;

	memset(sent, 0, sizeof *sent);
	if ((rc = sqs_attrs(rs, m->attrs, &attrs, e)) != 0)
		return rc;
	if (rs->npend == AWS_SQS_BATCH && (rc = flush(q, e)) != 0) {
		free(attrs);
		return rc;
	}
	struct pend *p = &rs->pend[rs->npend++];
	const char *trace = m->trace != NULL ? m->trace : getenv("_X_AMZN_TRACE_ID");
	*p = (struct pend){ .body = xstrndup(m->body, m->len), .len = m->len,
	    .group = dup_id(m->group, m->group_len), .dedup = dup_id(m->dedup, m->dedup_len),
	    .attrs = attrs,
	    .trace = trace != NULL && *trace != '\0' ? xstrdup(trace) : NULL,
	    .delay_s = m->delay_ms < 0 ? -1 : (int)(m->delay_ms / 1000) };
	if (m->attrs_md5 != NULL)
		snprintf(p->attrs_md5, sizeof p->attrs_md5, "%s", m->attrs_md5);
	rs->active = 1;
	return 0;
}

int
qsqs_send_commit(struct queue *q, struct ev_err *e)
{
	q->rs->active = 0;
	return flush(q, e);
}

void
qsqs_send_rollback(struct queue *q)
{
	drop_pend(q->rs);
	q->rs->active = 0;
}

int
qsqs_send_active(const struct queue *q)
{
	return q->rs->active;
}

/* SQS has no order to resume from: every receive is a new one. */
static int
receive(struct queue *q, int64_t after, size_t max, int64_t lease_ms, struct q_msg *out,
    size_t *n, struct ev_err *e)
{
	(void)after;
	return qsqs_receive(q, max, lease_ms, out, n, e);
}

static int
consume(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
    struct ev_err *e)
{
	(void)after;
	return qsqs_consume(q, max, out, n, e);
}

const struct q_ops qsqs_ops = {
	.engine = "SQS",
	.close = qsqs_close,
	.send_add = qsqs_send_add,
	.send_commit = qsqs_send_commit,
	.send_rollback = qsqs_send_rollback,
	.send_active = qsqs_send_active,
	.receive = receive,
	.consume = consume,
	.consume_done = qsqs_consume_done,
	.consume_extend = qsqs_consume_extend,
	.peek = NULL,
	.del = qsqs_delete,
	.release = qsqs_release,
	.wait = qsqs_wait,
	.envelope = qsqs_envelope,
	.stat = qsqs_stat,
	.set = qsqs_set,
	.purge = qsqs_purge,
	.redrive = qsqs_redrive,
	.drop = qsqs_drop,
};
