/* queue_sqs_recv — receiving from a remote queue (see queue_sqs.c):
 * ReceiveMessage into struct q_msg, DeleteMessageBatch and
 * ChangeMessageVisibilityBatch for the leases, long polls for q_wait,
 * and Lambda's SQS record with the server's own attributes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue_int.h"

/* Whole seconds for a duration in ms, rounded up (SQS counts seconds). */
static int
secs(int64_t ms)
{
	return ms < 0 ? -1 : (int)((ms + 999) / 1000);
}

static void
to_msg(struct qsqs *rs, size_t i, struct q_msg *m)
{
	struct aws_sqs_msg *a = &rs->cur[i];
	struct buf b = { 0 };
	size_t an = a->attrs != NULL ? strlen(a->attrs) : 0;

	memset(m, 0, sizeof *m);
	m->rowid = ++rs->seq;
	snprintf(m->id, sizeof m->id, "%s", a->id);
	m->rhandle = a->receipt;
	m->body = a->body;
	m->len = a->len;
	m->sys_attrs = a->attrs;
	struct ev_err e;
	if (a->msg_attrs != NULL && aws_sqs_attrs_to_lambda(a->msg_attrs, &b, &e) == 0) {
		rs->lattrs[i] = buf_detach(&b);
		m->attrs = rs->lattrs[i];
		m->attrs_md5 = a->msg_attrs_md5;
	}
	if (qsqs_jstr(a->attrs, an, "ApproximateReceiveCount", &b))
		m->receives = strtol(b.p, NULL, 10);
	if (qsqs_jstr(a->attrs, an, "SentTimestamp", &b))
		m->sent_ms = strtoll(b.p, NULL, 10);
	if (qsqs_jstr(a->attrs, an, "ApproximateFirstReceiveTimestamp", &b))
		m->first_ms = strtoll(b.p, NULL, 10);
	if (qsqs_jstr(a->attrs, an, "SequenceNumber", &b))
		snprintf(m->seq, sizeof m->seq, "%s", b.p);
	buf_free(&b);
}

void
qsqs_give_back(struct qsqs *rs, struct aws_sqs_msg *a, size_t n)
{
	struct aws_sqs_ack k[AWS_SQS_BATCH];
	struct ev_err e;

	for (size_t i = 0; i < n && i < AWS_SQS_BATCH; i++)
		k[i] = (struct aws_sqs_ack){ .receipt = a[i].receipt, .visibility_s = 0 };
	(void)aws_sqs_change_visibility(rs->s, k, n, &e);
}

/* One receive of up to max (≤ 10) messages leased for vis_s seconds
 * (-1: the queue's), from a wait's stash when it holds some. */
static int
fetch(struct queue *q, size_t max, int vis_s, struct q_msg *out, size_t *n, struct ev_err *e)
{
	struct qsqs *rs = q->rs;
	int rc = 0;

	*n = 0;
	qsqs_drop_msgs(rs);
	if (rs->werr.code != 0) {
		*e = rs->werr;
		rs->werr.code = 0;
		return e->code;
	}
	if (max > AWS_SQS_BATCH)
		max = AWS_SQS_BATCH;
	rs->last_vis = vis_s;
	rs->last_max = (int)max;
	if (rs->nstash > 0) {
		if (rs->nstash > max)
			qsqs_give_back(rs, rs->stash + max, rs->nstash - max);
		rs->cur = rs->stash;
		rs->ncur = rs->nstash < max ? rs->nstash : max;
		for (size_t i = rs->ncur; i < rs->nstash; i++)
			aws_sqs_msg_clear(&rs->stash[i]);
		rs->stash = NULL;
		rs->nstash = 0;
	} else {
		struct aws_sqs_recv r = { .max = (int)max, .visibility_s = vis_s, .wait_s = 0 };
		rc = aws_sqs_receive(rs->s, &r, &rs->cur, &rs->ncur, e);
		if (rc != 0)
			return err_wrap(e, "queue '%s'", q->name);
	}
	rs->lattrs = xcalloc(rs->ncur + 1, sizeof *rs->lattrs);
	for (size_t i = 0; i < rs->ncur; i++)
		to_msg(rs, i, &out[i]);
	*n = rs->ncur;
	return 0;
}

int
qsqs_receive(struct queue *q, size_t max, int64_t lease_ms, struct q_msg *out, size_t *n,
    struct ev_err *e)
{
	return fetch(q, max, secs(lease_ms), out, n, e);
}

/* The queue's VisibilityTimeout, but at least q_consume_hold_ms: a
 * queue whose timeout is 0 still has what was printed deleted. */
int
qsqs_consume(struct queue *q, size_t max, struct q_msg *out, size_t *n, struct ev_err *e)
{
	return fetch(q, max, q->a.visibility_ms < Q_CONSUME_MIN_MS ? secs(Q_CONSUME_MIN_MS) : -1,
	    out, n, e);
}

/* Deletes or changes the visibility of m[0..n) (vis_s < 0: delete).  A
 * handle the server refuses (expired, unknown) is only not ok[i]; any
 * other failure is the call's. */
static int
settle(struct queue *q, const struct q_msg *m, size_t n, int vis_s, unsigned char *ok,
    size_t *done, struct ev_err *e)
{
	struct aws_sqs_ack *k = xcalloc(n + 1, sizeof *k);
	int rc = 0;
	size_t good = 0;

	for (size_t i = 0; i < n; i++)
		k[i] = (struct aws_sqs_ack){ .receipt = q_msg_handle(&m[i]), .visibility_s = vis_s };
	if (n > 0)
		rc = vis_s < 0 ? aws_sqs_delete(q->rs->s, k, n, e) :
		    aws_sqs_change_visibility(q->rs->s, k, n, e);
	for (size_t i = 0; i < n; i++) {
		if (k[i].status != 0 && k[i].status != EV_DATAERR)
			rc = rc != 0 ? rc : k[i].status;
		else
			good += k[i].status == 0;
		if (ok != NULL)
			ok[i] = k[i].status == 0;
	}
	int refused_only = rc == EV_DATAERR;
	for (size_t i = 0; i < n && refused_only; i++)
		refused_only = k[i].status == 0 || k[i].status == EV_DATAERR;
	free(k);
	if (done != NULL)
		*done = good;
	if (rc != 0 && !refused_only)
		return err_wrap(e, "queue '%s'", q->name);
	return 0;
}

int
qsqs_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok, size_t *done,
    struct ev_err *e)
{
	return settle(q, m, n, -1, ok, done, e);
}

int
qsqs_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms,
    unsigned char *ok, size_t *done, struct ev_err *e)
{
	return settle(q, m, n, secs(delay_ms < 0 ? 0 : delay_ms), ok, done, e);
}

int
qsqs_consume_done(struct queue *q, const struct q_msg *out, size_t delivered, size_t *deleted,
    struct ev_err *e)
{
	size_t n = q->rs->ncur;
	int rc = settle(q, out, delivered, -1, NULL, deleted, e);

	if (rc == 0 && delivered < n)
		rc = settle(q, out + delivered, n - delivered, 0, NULL, NULL, e);
	return rc;
}

int
qsqs_consume_extend(struct queue *q, int *held, struct ev_err *e)
{
	struct qsqs *rs = q->rs;
	struct q_msg *m = xcalloc(rs->ncur + 1, sizeof *m);
	size_t done = 0;

	for (size_t i = 0; i < rs->ncur; i++)
		m[i].rhandle = rs->cur[i].receipt;
	int rc = settle(q, m, rs->ncur, secs(q_consume_hold_ms(q)), NULL, &done, e);
	*held = rc == 0 && done == rs->ncur;
	free(m);
	return rc;
}

/* One long poll of at most 20 s (or until deadline); what it receives
 * waits for the next receive.  A failure is kept for that receive. */
void
qsqs_wait(struct queue *q, int64_t deadline)
{
	struct qsqs *rs = q->rs;
	int64_t left = deadline < 0 ? AWS_SQS_MAX_WAIT * 1000 : deadline - clock_mono_ms();

	if (rs->nstash > 0 || rs->werr.code != 0 || left <= 0)
		return;
	int wait = secs(left) > AWS_SQS_MAX_WAIT ? AWS_SQS_MAX_WAIT : secs(left);
	struct aws_sqs_recv r = { .max = rs->last_max, .visibility_s = rs->last_vis, .wait_s = wait };
	if (aws_sqs_receive(rs->s, &r, &rs->stash, &rs->nstash, &rs->werr) != 0)
		err_wrap(&rs->werr, "queue '%s'", q->name);
}

void
qsqs_envelope(struct queue *q, const struct q_msg *m, struct buf *b)
{
	const char *region = aws_sqs_region(q->rs->s);

	buf_adds(b, "{\"messageId\":");
	json_add_string(b, m->id, strlen(m->id));
	buf_adds(b, ",\"receiptHandle\":");
	json_add_string(b, q_msg_handle(m), strlen(q_msg_handle(m)));
	buf_adds(b, ",\"body\":");
	json_add_string(b, m->body, m->len);
	/* The server's system attributes as they came, AWSTraceHeader and
	 * DeadLetterQueueSourceArn included: Lambda passes them on alike. */
	buf_adds(b, ",\"attributes\":");
	if (m->sys_attrs != NULL)
		json_compact(b, m->sys_attrs, strlen(m->sys_attrs));
	else
		buf_adds(b, "{}");
	qmsg_envelope_end(q, m, region, strlen(region), b);
}
