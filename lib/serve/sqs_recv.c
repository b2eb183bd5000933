/* sqs_recv — ReceiveMessage (the attributes asked for, MD5s of what is
 * returned), DeleteMessage(Batch) and ChangeMessageVisibility(Batch)
 * by receipt handle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"
#include "serve.h"
#include "sqs_int.h"

/* 1 if the string array member key holds "All" or name, or (for
 * MessageAttributeNames) ".*" or a "prefix.*" that name starts with. */
static int
asked(const struct sqs_call *k, const char *key, const char *name, size_t nlen)
{
	size_t arr = sqs_member(k, key), e;
	struct buf s = { 0 };
	int yes = 0;

	if (arr == (size_t)-1 || k->p[arr] != '[')
		return 0;
	for (size_t i = 0; !yes && (e = json_find_index(k->p, k->n, arr, i)) != (size_t)-1; i++) {
		if (!json_string_at(k->p, k->n, e, &s))
			continue;
		if (strcmp(s.p, "All") == 0 || strcmp(s.p, ".*") == 0 ||
		    (s.n == nlen && memcmp(s.p, name, nlen) == 0) ||
		    (s.n >= 2 && strcmp(s.p + s.n - 2, ".*") == 0 && nlen >= s.n - 2 &&
		    memcmp(s.p, name, s.n - 2) == 0))
			yes = 1;
	}
	buf_free(&s);
	return yes;
}

static int
sys_asked(const struct sqs_call *k, const char *name)
{
	return asked(k, "AttributeNames", name, strlen(name)) ||
	    asked(k, "MessageSystemAttributeNames", name, strlen(name));
}

static void
sys_attr(struct buf *b, int *n, const char *name, const char *v, size_t vn)
{
	buf_adds(b, (*n)++ ? ",\"" : "\"");
	buf_adds(b, name);
	buf_adds(b, "\":");
	json_add_string(b, v, vn);
}

static void
sys_attrs(const struct sqs_call *k, const struct q_msg *m, struct buf *b)
{
	char v[32];
	int n = 0;

	buf_adds(b, ",\"Attributes\":{");
	if (sys_asked(k, "SenderId"))
		sys_attr(b, &n, "SenderId", "000000000000", 12);
	if (sys_asked(k, "SentTimestamp"))
		sys_attr(b, &n, "SentTimestamp", v, (size_t)snprintf(v, sizeof v, "%lld",
		    (long long)m->sent_ms));
	if (sys_asked(k, "ApproximateReceiveCount"))
		sys_attr(b, &n, "ApproximateReceiveCount", v, (size_t)snprintf(v, sizeof v, "%ld",
		    m->receives));
	if (sys_asked(k, "ApproximateFirstReceiveTimestamp"))
		sys_attr(b, &n, "ApproximateFirstReceiveTimestamp", v, (size_t)snprintf(v,
		    sizeof v, "%lld", (long long)m->first_ms));
	if (m->group != NULL && sys_asked(k, "MessageGroupId"))
		sys_attr(b, &n, "MessageGroupId", m->group, m->group_len);
	if (m->dedup != NULL && sys_asked(k, "MessageDeduplicationId"))
		sys_attr(b, &n, "MessageDeduplicationId", m->dedup, m->dedup_len);
	if (m->seq[0] != '\0' && sys_asked(k, "SequenceNumber"))
		sys_attr(b, &n, "SequenceNumber", m->seq, strlen(m->seq));
	if (n == 0)
		b->n -= strlen(",\"Attributes\":{");
	else
		buf_addc(b, '}');
}

/* The message attributes asked for, in SQS's shape, and their MD5. */
static void
msg_attrs(const struct sqs_call *k, const struct q_msg *m, struct buf *b)
{
	struct buf all = { 0 }, some = { 0 };
	struct ev_err e;
	size_t at = 0, kk, kend, v, vend;
	char md5[33];
	int n = 0;

	if (m->attrs == NULL || aws_sqs_attrs_from_lambda(m->attrs, &all, &e) != 0)
		goto out;
	buf_addc(&some, '{');
	while (json_member(all.p, all.n, &at, &kk, &kend, &v, &vend) == 1) {
		if (!asked(k, "MessageAttributeNames", all.p + kk + 1, kend - kk - 2))
			continue;
		if (n++)
			buf_addc(&some, ',');
		buf_add(&some, all.p + kk, kend - kk);
		buf_addc(&some, ':');
		buf_add(&some, all.p + v, vend - v);
	}
	buf_addc(&some, '}');
	if (n > 0 && aws_sqs_attrs_md5(some.p, some.n, md5, &e) == 0) {
		buf_printf(b, ",\"MD5OfMessageAttributes\":\"%s\",\"MessageAttributes\":", md5);
		buf_add(b, some.p, some.n);
	}
out:
	buf_free(&all);
	buf_free(&some);
}

static void
add_msg(const struct sqs_call *k, const struct q_msg *m, struct buf *b)
{
	char md5[33];

	digest_hex_of(DIGEST_MD5, m->body, m->len, md5);
	buf_adds(b, "{\"MessageId\":");
	json_add_string(b, m->id, strlen(m->id));
	buf_adds(b, ",\"ReceiptHandle\":");
	json_add_string(b, m->handle, strlen(m->handle));
	buf_printf(b, ",\"MD5OfBody\":\"%s\",\"Body\":", md5);
	json_add_string(b, m->body, m->len);
	sys_attrs(k, m, b);
	msg_attrs(k, m, b);
	buf_addc(b, '}');
}

/* The checked parameters: 1, or 0 when answered. */
static int
recv_params(const struct sqs_call *k, long long *max, long long *vis, long long *wait)
{
	int r;

	*max = 1;
	*vis = -1;
	*wait = -1;
	if ((r = sqs_int(k, "MaxNumberOfMessages", max)) < 0 || (r > 0 && (*max < 1 || *max > 10))) {
		sqs_invalid(k, "Value %lld for parameter MaxNumberOfMessages is invalid. Reason: "
		    "Must be between 1 and 10, if provided.", *max);
		return 0;
	}
	if ((r = sqs_int(k, "VisibilityTimeout", vis)) < 0 || (r > 0 && (*vis < 0 ||
	    *vis > 43200))) {
		sqs_invalid(k, "Value %lld for parameter VisibilityTimeout is invalid. Reason: "
		    "Must be between 0 and 43200.", *vis);
		return 0;
	}
	if ((r = sqs_int(k, "WaitTimeSeconds", wait)) < 0 || (r > 0 && (*wait < 0 ||
	    *wait > 20))) {
		sqs_invalid(k, "Value %lld for parameter WaitTimeSeconds is invalid. Reason: "
		    "Must be >= 0 and <= 20, if provided.", *wait);
		return 0;
	}
	return 1;
}

void
sqs_answer_msgs(const struct sqs_call *k, const struct q_msg *m, size_t n)
{
	struct buf b = { 0 };

	buf_adds(&b, n > 0 ? "{\"Messages\":[" : "{");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		add_msg(k, &m[i], &b);
	}
	buf_adds(&b, n > 0 ? "]}" : "}");
	serve_json(k->c, &b);
	buf_free(&b);
}

int
sqs_receive_params(const struct sqs_call *k, struct sqs_q *c, long long *max, long long *vis,
    long long *wait)
{
	if (!recv_params(k, max, vis, wait))
		return 0;
	if (*wait < 0)
		*wait = q_attrs(c->q)->wait_ms / 1000;
	return 1;
}

int
sqs_receive(const struct sqs_call *k, int last_try)
{
	struct q_msg m[10];
	long long max, vis, wait;
	size_t n = 0;
	struct ev_err e;
	int rc;

	struct sqs_q *c = sqs_queue(k);
	if (c == NULL || !sqs_receive_params(k, c, &max, &vis, &wait))
		return 1;
	if ((rc = q_receive(c->q, 0, (size_t)max, vis >= 0 ? vis * 1000 : -1, m, &n, &e)) != 0) {
		sqs_fail_err(k, rc, &e);
		return 1;
	}
	if (n == 0 && wait > 0 && !last_try)
		return 0;
	sqs_answer_msgs(k, m, n);
	return 1;
}

/* ---- leases ---- */

/* A receipt handle's message: 1, or 0 when missing or malformed (why). */
static int
handle_of(const struct sqs_call *k, struct q_msg *m, const char **why)
{
	struct buf h = { 0 };
	int ok = 0;

	memset(m, 0, sizeof *m);
	if (sqs_str(k, "ReceiptHandle", &h) <= 0 || h.n == 0)
		*why = "MissingParameter";
	else if (q_parse_handle(h.p, &m->rowid, &m->receipt) != 0)
		*why = "ReceiptHandleIsInvalid";
	else
		ok = 1;
	buf_free(&h);
	return ok;
}

static const char *
why_msg(const char *why, const char *what)
{
	if (strcmp(why, "MissingParameter") == 0)
		return strcmp(what, "VisibilityTimeout") == 0 ?
		    "The request must contain the parameter VisibilityTimeout." :
		    "The request must contain the parameter ReceiptHandle.";
	if (strcmp(why, "ReceiptHandleIsInvalid") == 0)
		return "The input receipt handle is invalid.";
	if (strcmp(why, "MessageNotInflight") == 0)
		return "Message does not exist or is not available for visibility timeout change.";
	if (strcmp(why, "InvalidParameterValue") == 0)
		return "Value for parameter VisibilityTimeout is invalid. Reason: Must be between "
		    "0 and 43200.";
	return why;
}

/* Deletes (vis < -1... no: vis -1) or changes the visibility of the
 * message of the object k->p: NULL done, or SQS's code. */
static const char *
lease_one(const struct sqs_call *k, struct sqs_q *c, int change, struct ev_err *e, int *rc)
{
	struct q_msg m;
	const char *why;
	unsigned char ok = 0;
	long long vis = 0;
	size_t done;

	*rc = 0;
	if (!handle_of(k, &m, &why))
		return why;
	if (!change) {
		sqs_defer_delete(c, &m);
		return NULL;
	}
	int r = sqs_int(k, "VisibilityTimeout", &vis);
	if (r == 0)
		return "MissingParameter";
	if (r < 0 || vis < 0 || vis > 43200)
		return "InvalidParameterValue";
	if ((*rc = q_release(c->q, &m, 1, vis * 1000, 0, &ok, &done, e)) != 0)
		return NULL;
	return ok ? NULL : "MessageNotInflight";
}

static void
lease(const struct sqs_call *k, int change)
{
	struct sqs_q *c = sqs_queue(k);
	struct ev_err e;
	int rc;

	if (c == NULL)
		return;
	const char *why = lease_one(k, c, change, &e, &rc);
	if (rc != 0) {
		sqs_fail_err(k, rc, &e);
	} else if (why == NULL && !change) {
		struct buf none = { 0 };
		buf_adds(&none, "{}");
		sqs_defer(k->x, c, k->c, &none);
	} else if (why != NULL) {
		sqs_fail(k, strcmp(why, "ReceiptHandleIsInvalid") == 0 ? "ReceiptHandleIsInvalid" :
		    why, strcmp(why, "MessageNotInflight") == 0 ?
		    "AWS.SimpleQueueService.MessageNotInflight" : why, "%s",
		    why_msg(why, change && strcmp(why, "MissingParameter") == 0 &&
		    sqs_member(k, "ReceiptHandle") != (size_t)-1 ? "VisibilityTimeout" : ""));
	} else {
		serve_reply(k->c, 200, NULL, "{}", 2);
	}
}

void
sqs_delete(const struct sqs_call *k)
{
	lease(k, 0);
}

void
sqs_visibility(const struct sqs_call *k)
{
	lease(k, 1);
}

struct lease_ctx {
	struct sqs_q *c;
	int change;
	struct q_msg m[10];	/* DeleteMessageBatch's, deleted at once */
	char ids[10][81];
	size_t n;
};

static void
lease_entry(const struct sqs_call *ek, const char *id, struct sqs_batch *b, void *ctx)
{
	struct lease_ctx *lc = ctx;
	struct ev_err e;
	int rc;

	if (!lc->change) {
		const char *bad;
		if (!handle_of(ek, &lc->m[lc->n], &bad))
			sqs_batch_fail(b, id, 1, bad, why_msg(bad, ""));
		else
			snprintf(lc->ids[lc->n++], sizeof lc->ids[0], "%s", id);
		return;
	}
	const char *why = lease_one(ek, lc->c, lc->change, &e, &rc);
	if (rc != 0) {
		sqs_batch_fail(b, id, 0, "InternalError", e.msg);
	} else if (why != NULL) {
		sqs_batch_fail(b, id, 1, why, why_msg(why, ""));
	} else {
		sqs_batch_ok_begin(b, id);
		buf_addc(&b->ok, '}');
	}
}

/* DeleteMessageBatch's handles, deleted with the turn's other deletes. */
static void
delete_all(const struct sqs_call *k, struct sqs_batch *b, void *ctx)
{
	struct lease_ctx *lc = ctx;

	(void)k;
	for (size_t i = 0; i < lc->n; i++) {
		sqs_defer_delete(lc->c, &lc->m[i]);
		sqs_batch_ok_begin(b, lc->ids[i]);
		buf_addc(&b->ok, '}');
	}
	if (lc->n > 0)
		b->defer_to = lc->c;
}

static void
lease_batch(const struct sqs_call *k, int change)
{
	struct lease_ctx lc = { .c = sqs_queue(k), .change = change };

	if (lc.c != NULL)
		sqs_batch(k, lease_entry, change ? NULL : delete_all, &lc);
}

void
sqs_delete_batch(const struct sqs_call *k)
{
	lease_batch(k, 0);
}

void
sqs_visibility_batch(const struct sqs_call *k)
{
	lease_batch(k, 1);
}
