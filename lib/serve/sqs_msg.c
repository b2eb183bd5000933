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

static void
out_of(const struct msg_in *m, struct q_out *dst)
{
	*dst = (struct q_out){
		.body = m->body.p, .len = m->body.n,
		.group = m->group.n ? m->group.p : NULL, .group_len = m->group.n,
		.dedup = m->dedup.n ? m->dedup.p : NULL, .dedup_len = m->dedup.n,
		.delay_ms = m->delay >= 0 ? m->delay * 1000 : -1,
		.attrs = m->lattrs.n ? m->lattrs.p : NULL,
		.attrs_md5 = m->lattrs.n ? m->attrs_md5 : NULL,
	};
}

/* A sent message's answer members (after "{" or a batch entry's "Id"). */
static void
sent_json(const struct msg_in *m, const struct q_sent *sent, struct buf *out)
{
	buf_printf(out, "\"MD5OfMessageBody\":\"%s\",\"MessageId\":\"%s\"", m->md5, sent->id);
	if (m->lattrs.n)
		buf_printf(out, ",\"MD5OfMessageAttributes\":\"%s\"", m->attrs_md5);
	if (sent->seq[0] != '\0')
		buf_printf(out, ",\"SequenceNumber\":\"%s\"", sent->seq);
}

/* Adds the checked messages m[0..n) to c's open send transaction (begun
 * if none is): sent[i] says what became of each; 0, or the queue's
 * failure (the whole transaction rolled back, its earlier sends
 * answered 500). */
static int
send_all(struct sqs_q *c, struct msg_in *m, size_t n, struct q_sent *sent, struct ev_err *e)
{
	struct q_out o;
	int rc;

	if (!c->tx) {
		if ((rc = q_send_begin(c->q, e)) != 0)
			return rc;
		c->tx = 1;
	}
	for (size_t i = 0; i < n; i++) {
		out_of(&m[i], &o);
		memset(&sent[i], 0, sizeof sent[i]);
		if ((rc = q_send_add(c->q, &o, &sent[i], e)) != 0) {
			sqs_abort(c, e);
			return rc;
		}
	}
	return 0;
}


static void
fail_why(const struct sqs_call *k, const struct why *w)
{
	if (strcmp(w->code, "QueueDoesNotExist") == 0)
		sqs_fail(k, w->code, "AWS.SimpleQueueService.NonExistentQueue", "%s", w->msg);
	else if (strcmp(w->code, "InternalError") == 0)
		serve_error(k->c, 500, "com.amazonaws.sqs#InternalError", "InternalError", "%s",
		    w->msg);
	else
		sqs_fail(k, w->code, w->code, "%s", w->msg);
}

void
sqs_send(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct msg_in m = { 0 };
	struct q_sent sent;
	struct buf out = { 0 };
	struct ev_err e;
	struct why w;
	int rc;

	if (c == NULL)
		return;
	if (read_msg(k, q_attrs(c->q), &m, &w) != 0) {
		fail_why(k, &w);
	} else if ((rc = send_all(c, &m, 1, &sent, &e)) != 0) {
		sqs_fail_err(k, rc, &e);
	} else if (sent.refused != NULL) {
		sqs_invalid(k, "%s", sent.refused);
	} else {
		buf_addc(&out, '{');
		sent_json(&m, &sent, &out);
		buf_addc(&out, '}');
		sqs_defer(k->x, c, k->c, &out);
	}
	msg_free(&m);
	buf_free(&out);
}

/* A batch's entries: those that pass the checks wait for one transaction. */
struct sends {
	struct sqs_q *c;
	struct msg_in m[10];
	char ids[10][81];
	size_t n;
};

static void
send_entry(const struct sqs_call *ek, const char *id, struct sqs_batch *b, void *ctx)
{
	struct sends *ss = ctx;
	struct msg_in *m = &ss->m[ss->n];
	struct why w;

	memset(m, 0, sizeof *m);
	if (read_msg(ek, q_attrs(ss->c->q), m, &w) != 0) {
		sqs_batch_fail(b, id, 1, w.code, w.msg);
		msg_free(m);
		return;
	}
	snprintf(ss->ids[ss->n++], sizeof ss->ids[0], "%s", id);
}

static void
send_entries(const struct sqs_call *k, struct sqs_batch *b, void *ctx)
{
	struct sends *ss = ctx;
	struct q_sent sent[10];
	struct ev_err e;

	(void)k;
	if (ss->n == 0)
		return;
	if (send_all(ss->c, ss->m, ss->n, sent, &e) != 0) {
		for (size_t i = 0; i < ss->n; i++)
			sqs_batch_fail(b, ss->ids[i], 0, "InternalError", e.msg);
		return;
	}
	for (size_t i = 0; i < ss->n; i++) {
		if (sent[i].refused != NULL) {
			sqs_batch_fail(b, ss->ids[i], 1, "InvalidParameterValue", sent[i].refused);
			continue;
		}
		sqs_batch_ok_begin(b, ss->ids[i]);
		buf_addc(&b->ok, ',');
		sent_json(&ss->m[i], &sent[i], &b->ok);
		buf_addc(&b->ok, '}');
	}
	b->defer_to = ss->c;
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
	struct sends ss = { .c = c };
	sqs_batch(k, send_entry, send_entries, &ss);
	for (size_t i = 0; i < ss.n; i++)
		msg_free(&ss.m[i]);
}
