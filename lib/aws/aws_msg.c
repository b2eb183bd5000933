/* aws_msg — SQS messages: SendMessageBatch (MD5s checked, as the SDKs
 * check them), ReceiveMessage and its parsing, DeleteMessageBatch and
 * ChangeMessageVisibilityBatch, over aws_batch's loop. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

/* ---- SendMessageBatch ---- */

static size_t
out_size(void *arr, size_t i)
{
	struct aws_sqs_out *o = (struct aws_sqs_out *)arr + i;
	size_t a = 0;

	if (o->attrs != NULL)
		(void)aws_sqs_attrs_size(o->attrs, strlen(o->attrs), &a, NULL);
	return o->len + a;
}

static void
add_str(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, ",\"%s\":", key);
	json_add_string(b, s, strlen(s));
}

static void
out_entry(struct buf *b, void *arr, size_t i)
{
	const struct aws_sqs_out *o = (struct aws_sqs_out *)arr + i;

	buf_adds(b, ",\"MessageBody\":");
	json_add_string(b, o->body, o->len);
	if (o->delay_s >= 0)
		buf_printf(b, ",\"DelaySeconds\":%d", o->delay_s);
	if (o->attrs != NULL) {
		buf_adds(b, ",\"MessageAttributes\":");
		json_compact(b, o->attrs, strlen(o->attrs));
	}
	if (o->trace != NULL) {
		buf_adds(b, ",\"MessageSystemAttributes\":{\"AWSTraceHeader\":"
		    "{\"DataType\":\"String\",\"StringValue\":");
		json_add_string(b, o->trace, strlen(o->trace));
		buf_adds(b, "}}");
	}
	if (o->group != NULL)
		add_str(b, "MessageGroupId", o->group);
	if (o->dedup != NULL)
		add_str(b, "MessageDeduplicationId", o->dedup);
}

static int
copy_field(const char *p, size_t n, size_t obj, const char *key, char *dst, size_t cap)
{
	struct buf v = { 0 };
	int r = aws_json_str(p, n, obj, key, &v);

	snprintf(dst, cap, "%s", r > 0 ? v.p : "");
	buf_free(&v);
	return r > 0;
}

static int
out_done(void *arr, size_t i, const char *p, size_t n, size_t obj)
{
	struct aws_sqs_out *o = (struct aws_sqs_out *)arr + i;
	char want[33], got[40];

	if (!copy_field(p, n, obj, "MessageId", o->id, sizeof o->id) || o->id[0] == '\0') {
		snprintf(o->why, sizeof o->why, "no MessageId in the server's answer");
		return EV_SOFTWARE;
	}
	copy_field(p, n, obj, "SequenceNumber", o->seq, sizeof o->seq);
	digest_hex_of(DIGEST_MD5, o->body, o->len, want);
	copy_field(p, n, obj, "MD5OfMessageBody", got, sizeof got);
	if (strcmp(want, got) != 0) {
		snprintf(o->why, sizeof o->why, "MD5OfMessageBody is '%s', not '%s' (message %s)",
		    got, want, o->id);
		return EV_SOFTWARE;
	}
	if (o->attrs_md5 != NULL && copy_field(p, n, obj, "MD5OfMessageAttributes", got,
	    sizeof got) && strcmp(got, o->attrs_md5) != 0) {
		snprintf(o->why, sizeof o->why, "MD5OfMessageAttributes is '%s', not '%s' "
		    "(message %s)", got, o->attrs_md5, o->id);
		return EV_SOFTWARE;
	}
	return 0;
}

/* Refuses before sending what SQS would refuse for its size or shape. */
static void
presend(struct aws_sqs_out *o)
{
	struct ev_err ae;
	size_t a = 0, col;

	o->status = -1;
	o->id[0] = o->seq[0] = o->why[0] = '\0';
	if (o->attrs != NULL && aws_sqs_attrs_size(o->attrs, strlen(o->attrs), &a, &ae) != 0) {
		o->status = EV_DATAERR;
		aws_copy(o->why, sizeof o->why, ae.msg, strlen(ae.msg));
	} else if (o->len == 0) {
		o->status = EV_DATAERR;
		snprintf(o->why, sizeof o->why, "an empty message body (SQS wants 1 character)");
	} else if ((col = utf8_check(o->body, o->len, JSON_SQS_CHARS)) != 0) {
		/* Sent, it would be changed (U+FFFD) or refused: neither. */
		o->status = EV_DATAERR;
		snprintf(o->why, sizeof o->why, "byte %zu of the message body is not UTF-8 or is a "
		    "character SQS refuses", col);
	} else if (o->len + a > AWS_SQS_MAX_BYTES) {
		o->status = EV_DATAERR;
		snprintf(o->why, sizeof o->why, "a message of %zu bytes, over the 1 MiB limit of "
		    "SQS (%d bytes)", o->len + a, AWS_SQS_MAX_BYTES);
	}
}

static const struct aws_batch send_op = {
	.op = "SendMessageBatch", .stride = sizeof(struct aws_sqs_out),
	.status_off = offsetof(struct aws_sqs_out, status),
	.why_off = offsetof(struct aws_sqs_out, why),
	.size = out_size, .entry = out_entry, .done = out_done,
};

int
aws_sqs_send(struct aws_sqs *q, struct aws_sqs_out *o, size_t n, struct ev_err *e)
{
	const char *url;
	int rc = aws_sqs_url(q, &url, e);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		presend(&o[i]);
	return aws_batch_run(aws_sqs_client(q), url, &send_op, o, n, e);
}

int
aws_sqs_parse_send(const char *p, size_t n, struct aws_sqs_out *o, size_t k, struct ev_err *e)
{
	if (k > AWS_SQS_BATCH)
		k = AWS_SQS_BATCH;
	for (size_t i = 0; i < k; i++)
		presend(&o[i]);
	return aws_batch_parse(&send_op, o, k, p, n, e);
}

/* ---- DeleteMessageBatch, ChangeMessageVisibilityBatch ---- */

static void
ack_entry(struct buf *b, void *arr, size_t i)
{
	const struct aws_sqs_ack *a = (struct aws_sqs_ack *)arr + i;

	add_str(b, "ReceiptHandle", a->receipt);
}

static void
vis_entry(struct buf *b, void *arr, size_t i)
{
	const struct aws_sqs_ack *a = (struct aws_sqs_ack *)arr + i;

	ack_entry(b, arr, i);
	buf_printf(b, ",\"VisibilityTimeout\":%d", a->visibility_s);
}

static int
ack_done(void *arr, size_t i, const char *p, size_t n, size_t obj)
{
	(void)arr, (void)i, (void)p, (void)n, (void)obj;
	return 0;
}

static const struct aws_batch delete_op = {
	.op = "DeleteMessageBatch", .stride = sizeof(struct aws_sqs_ack),
	.status_off = offsetof(struct aws_sqs_ack, status),
	.why_off = offsetof(struct aws_sqs_ack, why),
	.entry = ack_entry, .done = ack_done,
}, visibility_op = {
	.op = "ChangeMessageVisibilityBatch", .stride = sizeof(struct aws_sqs_ack),
	.status_off = offsetof(struct aws_sqs_ack, status),
	.why_off = offsetof(struct aws_sqs_ack, why),
	.entry = vis_entry, .done = ack_done,
};

static int
acks(struct aws_sqs *q, const struct aws_batch *op, struct aws_sqs_ack *a, size_t n,
    struct ev_err *e)
{
	const char *url;
	int rc = aws_sqs_url(q, &url, e);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		a[i].status = -1;
		a[i].why[0] = '\0';
	}
	return aws_batch_run(aws_sqs_client(q), url, op, a, n, e);
}

int
aws_sqs_delete(struct aws_sqs *q, struct aws_sqs_ack *a, size_t n, struct ev_err *e)
{
	return acks(q, &delete_op, a, n, e);
}

int
aws_sqs_change_visibility(struct aws_sqs *q, struct aws_sqs_ack *a, size_t n,
    struct ev_err *e)
{
	return acks(q, &visibility_op, a, n, e);
}
