/* aws_recv — ReceiveMessage: every system and message attribute asked
 * for, the answer read into copies, each body's MD5OfBody and each
 * MessageAttributes' MD5 checked as the SDKs check them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

enum { F_ID, F_RECEIPT, F_BODY, F_ATTRS, F_MSG_ATTRS, F_ATTRS_MD5, NF };

/* Copies a message's members into one allocation that id heads (""
 * when absent, refused by the caller): string members unescaped, the
 * two Attributes objects as their JSON text; an absent one is NULL. */
static void
copy_members(const char *p, size_t n, size_t obj, struct aws_sqs_msg *m)
{
	static const char *const key[NF] = { "MessageId", "ReceiptHandle", "Body",
		"Attributes", "MessageAttributes", "MD5OfMessageAttributes" };
	char **field[NF] = { &m->id, &m->receipt, &m->body, &m->attrs, &m->msg_attrs,
		&m->msg_attrs_md5 };
	size_t off[NF], v, vend;
	struct buf all = { 0 }, s = { 0 };

	for (int i = 0; i < NF; i++) {
		off[i] = all.n;
		if (i == F_ATTRS || i == F_MSG_ATTRS) {
			if (aws_json_get(p, n, obj, key[i], &v, &vend) && p[v] == '{')
				buf_add(&all, p + v, vend - v);
			else
				off[i] = SIZE_MAX;
		} else if (aws_json_str(p, n, obj, key[i], &s) > 0) {
			buf_add(&all, s.p, s.n);
			if (i == F_BODY)
				m->len = s.n;
		} else if (i != F_ID) {
			off[i] = SIZE_MAX;
		}
		if (off[i] != SIZE_MAX)
			buf_addc(&all, '\0');
	}
	buf_free(&s);
	char *base = buf_detach(&all);
	for (int i = 0; i < NF; i++)
		*field[i] = off[i] != SIZE_MAX ? base + off[i] : NULL;
}

void
aws_sqs_msg_clear(struct aws_sqs_msg *m)
{
	free(m->id);
	memset(m, 0, sizeof *m);
}

/* One message; 0, or a status with e set. */
static int
one(const char *p, size_t n, size_t obj, struct aws_sqs_msg *m, struct ev_err *e)
{
	char want[33];
	struct buf md5 = { 0 };
	int rc = 0;

	memset(m, 0, sizeof *m);
	copy_members(p, n, obj, m);
	if (m->receipt == NULL || m->body == NULL || m->id[0] == '\0' || m->receipt[0] == '\0')
		return err_set(e, EV_SOFTWARE, "ReceiveMessage: a message without MessageId, "
		    "ReceiptHandle or Body");
	digest_hex_of(DIGEST_MD5, m->body, m->len, want);
	if (aws_json_str(p, n, obj, "MD5OfBody", &md5) <= 0 || strcmp(md5.p, want) != 0)
		rc = err_set(e, EV_SOFTWARE, "ReceiveMessage: MD5OfBody of message %s is '%s', "
		    "not '%s'", m->id, md5.p, want);
	buf_free(&md5);
	if (rc == 0 && m->msg_attrs != NULL && m->msg_attrs_md5 != NULL) {
		if ((rc = aws_sqs_attrs_md5(m->msg_attrs, strlen(m->msg_attrs), want, e)) != 0)
			rc = err_wrap(e, "ReceiveMessage: message %s", m->id);
		else if (strcmp(want, m->msg_attrs_md5) != 0)
			rc = err_set(e, EV_SOFTWARE, "ReceiveMessage: MD5OfMessageAttributes of "
			    "message %s is '%s', not '%s'", m->id, m->msg_attrs_md5, want);
		if (rc != 0)
			rc = EV_SOFTWARE;
	}
	return rc;
}

int
aws_sqs_parse_recv(const char *p, size_t n, struct aws_sqs_msg **mp, size_t *count,
    struct ev_err *e)
{
	struct json_err je;
	struct aws_sqs_msg *m = NULL;
	size_t cap = 0, k = 0, at, v, vend;
	int rc = 0;

	*mp = NULL;
	*count = 0;
	if (json_validate(p, n, 0, &je) != '{')
		return err_set(e, EV_SOFTWARE, "ReceiveMessage: the answer is not a JSON object");
	if (!aws_json_get(p, n, json_ws(p, n, 0), "Messages", &at, &vend))
		return 0;
	if (p[at] != '[')
		return err_set(e, EV_SOFTWARE, "ReceiveMessage: Messages is not an array");
	while (rc == 0 && aws_json_elem(p, n, &at, &v, &vend)) {
		XGROW(&m, &cap, k + 1);
		memset(&m[k], 0, sizeof m[k]);
		if (p[v] != '{')
			rc = err_set(e, EV_SOFTWARE, "ReceiveMessage: a message is not an object");
		else
			rc = one(p, n, v, &m[k], e);
		k++;
	}
	if (rc != 0) {
		aws_sqs_msgs_free(m, k);
		return rc;
	}
	*mp = m;
	*count = k;
	return 0;
}

void
aws_sqs_msgs_free(struct aws_sqs_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aws_sqs_msg_clear(&m[i]);
	free(m);
}

int
aws_sqs_receive(struct aws_sqs *q, const struct aws_sqs_recv *r, struct aws_sqs_msg **m,
    size_t *n, struct ev_err *e)
{
	const char *url;
	int rc = aws_sqs_url(q, &url, e);
	int wait = r->wait_s > AWS_SQS_MAX_WAIT ? AWS_SQS_MAX_WAIT : r->wait_s;
	int max = r->max < 1 ? 1 : r->max > AWS_SQS_BATCH ? AWS_SQS_BATCH : r->max;

	*m = NULL;
	*n = 0;
	if (rc != 0)
		return rc;
	struct buf *b = aws_sqs_req(q);
	buf_adds(b, "{\"QueueUrl\":");
	json_add_string(b, url, strlen(url));
	buf_printf(b, ",\"MaxNumberOfMessages\":%d", max);
	if (wait >= 0)
		buf_printf(b, ",\"WaitTimeSeconds\":%d", wait);
	if (r->visibility_s >= 0)
		buf_printf(b, ",\"VisibilityTimeout\":%d", r->visibility_s);
	buf_adds(b, ",\"MessageSystemAttributeNames\":[\"All\"],\"AttributeNames\":[\"All\"],"
	    "\"MessageAttributeNames\":[\"All\"]}");
	/* The queue's own wait is at most 20 s: give the request that long. */
	if ((rc = aws_sqs_call(q, "ReceiveMessage", wait >= 0 ? wait : AWS_SQS_MAX_WAIT, e)) != 0)
		return rc;
	const struct buf *resp = aws_sqs_resp(q);
	return aws_sqs_parse_recv(resp->p, resp->n, m, n, e);
}
