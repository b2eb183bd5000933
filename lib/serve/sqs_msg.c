/* sqs_msg — SendMessage(Batch): the message checked as SQS checks it
 * (body, its characters and size, DelaySeconds, FIFO ids, attributes and
 * their MD5), then one transaction on the queue; a send wakes this
 * server's long polls on the queue. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"
#include "serve.h"
#include "sqs_int.h"

/* Why an entry failed: SQS's code (also the query code) and message. */
struct why {
	char code[64];
	char msg[512];
};

static int refuse(struct why *w, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct why *w, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(w->code, sizeof w->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof w->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* A message's fields, read from the object k->p. */
struct msg_in {
	struct buf body, group, dedup, attrs_json, lattrs;
	char md5[33], attrs_md5[33];
	long long delay;
};

static void
msg_free(struct msg_in *m)
{
	buf_free(&m->body);
	buf_free(&m->group);
	buf_free(&m->dedup);
	buf_free(&m->attrs_json);
	buf_free(&m->lattrs);
}

static int
read_attrs(const struct sqs_call *k, struct msg_in *m, struct why *w)
{
	size_t v = sqs_member(k, "MessageAttributes");
	struct ev_err e;

	if (v == (size_t)-1 || k->p[v] == 'n')
		return 0;
	size_t end = json_skip(k->p, k->n, v);
	if (k->p[v] != '{' || end == (size_t)-1)
		return refuse(w, "InvalidParameterValue", "%s", "MessageAttributes must be a map.");
	if (end - v <= 2)
		return 0;
	buf_add(&m->attrs_json, k->p + v, end - v);
	buf_addc(&m->attrs_json, '\0');
	m->attrs_json.n--;
	if (aws_sqs_attrs_md5(m->attrs_json.p, m->attrs_json.n, m->attrs_md5, &e) != 0 ||
	    aws_sqs_attrs_to_lambda(m->attrs_json.p, &m->lattrs, &e) != 0)
		return refuse(w, "InvalidParameterValue", "%s", e.msg);
	return 0;
}

static int
read_msg(const struct sqs_call *k, const struct q_attrs *a, struct msg_in *m, struct why *w)
{
	size_t col;

	m->delay = -1;
	if (sqs_str(k, "MessageBody", &m->body) <= 0 || m->body.n == 0)
		return refuse(w, "MissingParameter", "%s",
		    "The request must contain the parameter MessageBody.");
	if ((col = utf8_check(m->body.p, m->body.n, JSON_SQS_CHARS)) != 0)
		return refuse(w, "InvalidMessageContents", "%s", "Invalid characters found. Valid "
		    "unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | "
		    "#x10000 to #x10FFFF");
	if ((long)m->body.n > a->max_bytes) {
		char lim[32];
		snprintf(lim, sizeof lim, "%ld", a->max_bytes);
		return refuse(w, "InvalidParameterValue", "One or more parameters are invalid. "
		    "Reason: Message must be shorter than %s bytes.", lim);
	}
	int d = sqs_int(k, "DelaySeconds", &m->delay);
	if (d < 0 || (d > 0 && (m->delay < 0 || m->delay > 900)))
		return refuse(w, "InvalidParameterValue", "%s", "Value for parameter DelaySeconds "
		    "is invalid. Reason: Must be >= 0 and <= 900.");
	if (d > 0 && a->fifo)
		return refuse(w, "InvalidParameterValue", "%s", "Value for parameter DelaySeconds "
		    "is invalid. Reason: The request include parameter that is not valid for this "
		    "queue type.");
	int g = sqs_str(k, "MessageGroupId", &m->group);
	int dd = sqs_str(k, "MessageDeduplicationId", &m->dedup);
	if (g < 0 || dd < 0)
		return refuse(w, "InvalidParameterValue", "%s", "MessageGroupId and "
		    "MessageDeduplicationId are strings.");
	if (a->fifo && g == 0)
		return refuse(w, "MissingParameter", "%s",
		    "The request must contain the parameter MessageGroupId.");
	if (a->fifo && dd == 0 && !a->content_dedup)
		return refuse(w, "InvalidParameterValue", "%s", "The queue should either have "
		    "ContentBasedDeduplication enabled or MessageDeduplicationId provided "
		    "explicitly");
	if (!a->fifo && dd > 0)
		return refuse(w, "InvalidParameterValue", "%s", "The request include parameter "
		    "MessageDeduplicationId that is not valid for this queue type");
	digest_hex_of(DIGEST_MD5, m->body.p, m->body.n, m->md5);
	return read_attrs(k, m, w);
}

/* Sends the message of object k->p to c, its answer's members into out
 * (after "{" or a batch entry's "Id"). */
static int
send_one(const struct sqs_call *k, struct sqs_q *c, struct buf *out, struct why *w)
{
	struct msg_in m = { 0 };
	struct q_sent sent = { 0 };
	struct ev_err e;
	int rc;

	if (read_msg(k, q_attrs(c->q), &m, w) != 0) {
		msg_free(&m);
		return -1;
	}
	struct q_out o = {
		.body = m.body.p, .len = m.body.n,
		.group = m.group.n ? m.group.p : NULL, .group_len = m.group.n,
		.dedup = m.dedup.n ? m.dedup.p : NULL, .dedup_len = m.dedup.n,
		.delay_ms = m.delay >= 0 ? m.delay * 1000 : -1,
		.attrs = m.lattrs.n ? m.lattrs.p : NULL, .attrs_md5 = m.lattrs.n ? m.attrs_md5 : NULL,
	};
	if ((rc = q_send_begin(c->q, &e)) != 0 || (rc = q_send_add(c->q, &o, &sent, &e)) != 0 ||
	    (rc = q_send_commit(c->q, &e)) != 0) {
		if (q_send_active(c->q))
			q_send_rollback(c->q);
		msg_free(&m);
		return refuse(w, rc == EV_NOINPUT ? "QueueDoesNotExist" : "InternalError", "%s",
		    e.msg);
	}
	if (sent.refused != NULL) {
		msg_free(&m);
		return refuse(w, "InvalidParameterValue", "%s", sent.refused);
	}
	buf_printf(out, "\"MD5OfMessageBody\":\"%s\",\"MessageId\":\"%s\"", m.md5, sent.id);
	if (m.lattrs.n)
		buf_printf(out, ",\"MD5OfMessageAttributes\":\"%s\"", m.attrs_md5);
	if (sent.seq[0] != '\0')
		buf_printf(out, ",\"SequenceNumber\":\"%s\"", sent.seq);
	msg_free(&m);
	k->x->dirty = 1;
	return 0;
}

static void
wake_waiters(const struct sqs_call *k)
{
	if (k->x->dirty && k->x->waits != NULL)
		serve_kick(k->x->s, &serve_sqs);
}

void
sqs_send(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct buf out = { 0 };
	struct why w;

	if (c == NULL)
		return;
	buf_addc(&out, '{');
	if (send_one(k, c, &out, &w) != 0) {
		if (strcmp(w.code, "QueueDoesNotExist") == 0)
			sqs_fail(k, w.code, "AWS.SimpleQueueService.NonExistentQueue", "%s", w.msg);
		else if (strcmp(w.code, "InternalError") == 0)
			serve_error(k->c, 500, "com.amazonaws.sqs#InternalError", "InternalError",
			    "%s", w.msg);
		else
			sqs_fail(k, w.code, w.code, "%s", w.msg);
	} else {
		buf_addc(&out, '}');
		serve_json(k->c, &out);
	}
	buf_free(&out);
	wake_waiters(k);
}

static void
send_entry(const struct sqs_call *k, size_t entry, const char *id, struct sqs_batch *b,
    void *ctx)
{
	struct sqs_call ek = *k;
	struct buf out = { 0 };
	struct why w;

	ek.p = k->p + entry;
	ek.n = k->n - entry;
	if (send_one(&ek, ctx, &out, &w) != 0) {
		sqs_batch_fail(b, id, strcmp(w.code, "InternalError") != 0, w.code, w.msg);
	} else {
		sqs_batch_ok_begin(b, id);
		buf_addc(&b->ok, ',');
		buf_add(&b->ok, out.p, out.n);
		buf_addc(&b->ok, '}');
	}
	buf_free(&out);
}

/* The batch's bodies together, as SQS counts them against its limit. */
static int
batch_too_long(const struct sqs_call *k)
{
	size_t arr = sqs_member(k, "Entries"), total = 0, e;
	struct buf body = { 0 };

	if (arr == (size_t)-1 || k->p[arr] != '[')
		return 0;
	for (size_t i = 0; (e = json_find_index(k->p, k->n, arr, i)) != (size_t)-1 && i < 11;
	    i++) {
		size_t v = k->p[e] == '{' ? json_find_member(k->p, k->n, e, "MessageBody", 11) :
		    (size_t)-1;
		if (v != (size_t)-1 && json_string_at(k->p, k->n, v, &body))
			total += body.n;
	}
	buf_free(&body);
	return total > AWS_SQS_MAX_BYTES;
}

void
sqs_send_batch(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);

	if (c == NULL)
		return;
	if (batch_too_long(k)) {
		sqs_fail(k, "BatchRequestTooLong", NULL, "Batch requests cannot be longer than "
		    "%d bytes.", AWS_SQS_MAX_BYTES);
		return;
	}
	sqs_batch(k, send_entry, c);
	wake_waiters(k);
}
