/* queue_sqs_admin — evq-ctl's calls on a remote queue (see queue_sqs.c):
 * GetQueueAttributes, SetQueueAttributes, PurgeQueue, DeleteQueue,
 * ListQueues, and redrive by StartMessageMoveTask or, where the server
 * lacks it, by a receive-and-send move. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue_int.h"

static long
count(struct queue *q, const char *name)
{
	struct buf b = { 0 };
	long n = qsqs_jstr(q->rs->stat.p, q->rs->stat.n, name, &b) ? strtol(b.p, NULL, 10) : 0;

	buf_free(&b);
	return n;
}

static int
refresh(struct queue *q, struct ev_err *e)
{
	struct qsqs *rs = q->rs;
	int rc = aws_sqs_get_attrs(rs->s, &rs->stat, e);

	return rc != 0 ? err_wrap(e, "queue '%s'", q->name) : 0;
}

int
qsqs_stat(struct queue *q, struct q_stat *st, struct ev_err *e)
{
	int rc = refresh(q, e);

	if (rc != 0)
		return rc;
	st->visible = count(q, "ApproximateNumberOfMessages");
	st->in_flight = count(q, "ApproximateNumberOfMessagesNotVisible");
	st->delayed = count(q, "ApproximateNumberOfMessagesDelayed");
	return 0;
}

/* The ARN of a queue named by a URI (a RedrivePolicy's target). */
static int
uri_arn(struct queue *q, const char *uri, struct buf *out, struct ev_err *e)
{
	struct aws_uri u;
	int rc = aws_uri_parse(uri, &u, e);

	if (rc != 0)
		return rc;
	buf_printf(out, "arn:aws:sqs:%s:%s:%s", u.region[0] != '\0' ? u.region :
	    aws_sqs_region(q->rs->s), u.account, u.name);
	aws_uri_free(&u);
	return 0;
}

/* RedrivePolicy as evq-ctl gives it ({"deadLetterTarget":URI,
 * "maxReceiveCount":N}) into SQS's ({"deadLetterTargetArn":ARN,...}). */
static int
redrive_policy(struct queue *q, const char *v, struct buf *out, struct ev_err *e)
{
	struct buf t = { 0 }, arn = { 0 };
	size_t n = strlen(v);
	int rc = 0;

	if (!qsqs_jstr(v, n, "deadLetterTarget", &t)) {
		buf_adds(out, v);	/* SQS's own form, for the server to judge */
		buf_free(&t);
		return 0;
	}
	if (!aws_is_uri(t.p))
		rc = err_set(e, EV_USAGE, "a remote queue's dead-letter queue must be remote too");
	else
		rc = uri_arn(q, t.p, &arn, e);
	if (rc == 0) {
		size_t m = json_find_member(v, n, json_ws(v, n, 0), "maxReceiveCount", 15);
		size_t end = m != (size_t)-1 ? json_skip(v, n, m) : m;
		buf_adds(out, "{\"deadLetterTargetArn\":");
		json_add_string(out, arn.p, arn.n);
		buf_adds(out, ",\"maxReceiveCount\":\"");
		if (m != (size_t)-1 && end != (size_t)-1)
			buf_add(out, v + m + (v[m] == '"'), end - m - (v[m] == '"') * 2);
		buf_adds(out, "\"}");
	}
	buf_free(&t);
	buf_free(&arn);
	return rc;
}

int
qsqs_set(struct queue *q, const char *name, const char *value, struct ev_err *e)
{
	struct buf v = { 0 }, body = { 0 };
	struct q_attrs a = q->a;
	struct ev_err bad;
	int rc = 0;

	if (strcmp(name, "RedrivePolicy") == 0)
		rc = redrive_policy(q, value, &v, &bad);
	else if ((rc = qattr_set(&a, name, value, &bad)) == 0)
		buf_adds(&v, value);
	if (rc != 0) {
		buf_free(&v);
		return err_set(e, rc, "%s: invalid %s '%s': %s", q->name, name, value, bad.msg);
	}
	buf_addc(&body, '{');
	json_add_string(&body, name, strlen(name));
	buf_addc(&body, ':');
	json_add_string(&body, v.p, v.n);
	buf_addc(&body, '}');
	rc = aws_sqs_set_attrs(q->rs->s, body.p, e);
	buf_free(&v);
	buf_free(&body);
	if (rc == 0)
		rc = qsqs_reload(q, e);
	return rc != 0 ? err_wrap(e, "queue '%s'", q->name) : 0;
}

int
qsqs_purge(struct queue *q, long *purged, struct ev_err *e)
{
	struct q_stat st;
	int rc = qsqs_stat(q, &st, e);

	*purged = 0;
	if (rc == 0 && (rc = aws_sqs_purge(q->rs->s, e)) != 0)
		return err_wrap(e, "queue '%s'", q->name);
	*purged = rc == 0 ? st.visible + st.in_flight + st.delayed : 0;
	return rc;
}

int
qsqs_drop(struct queue *q, struct ev_err *e)
{
	int rc = aws_sqs_delete_queue(q->rs->s, e);

	if (rc != 0)
		err_wrap(e, "queue '%s'", q->name);
	q_close(q);
	return rc;
}

int
q_list_remote(const char *uri, const struct q_open_opts *o,
    void (*fn)(const char *name, const char *url, void *ctx), void *ctx, struct ev_err *e)
{
	struct aws_uri u;
	struct aws_sqs *s;
	struct buf out = { 0 };
	size_t n = 0;

	if (nats_is_uri(uri))
		return qnats_list(uri, fn, ctx, e);
	int rc = aws_uri_parse(uri, &u, e);

	if (rc != 0)
		return rc;
	if ((rc = aws_sqs_open(uri, o != NULL ? o->endpoint_url : NULL, &s, e)) == 0) {
		rc = aws_sqs_list(s, u.name, &out, &n, e);
		aws_sqs_close(s);
	}
	for (size_t i = 0, at = 0; rc == 0 && i < n; i++) {
		const char *url = out.p + at, *slash = strrchr(url, '/');
		fn(slash != NULL ? slash + 1 : url, url, ctx);
		at += strlen(url) + 1;
	}
	aws_uri_free(&u);
	buf_free(&out);
	return rc;
}
