/* aws_admin — the queue's admin calls for evq-ctl: CreateQueue,
 * Get/SetQueueAttributes, ListQueues (every page), PurgeQueue,
 * DeleteQueue and StartMessageMoveTask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

static void
add_url(struct buf *b, const char *url)
{
	buf_adds(b, "{\"QueueUrl\":");
	json_add_string(b, url, strlen(url));
}

/* An Attributes object given by the caller: a JSON object, compacted. */
static int
add_attrs(struct buf *b, const char *attrs, struct ev_err *e)
{
	struct json_err je;

	if (attrs == NULL)
		return 0;
	if (json_validate(attrs, strlen(attrs), 0, &je) != '{')
		return err_set(e, EV_USAGE, "queue attributes are not a JSON object");
	buf_adds(b, ",\"Attributes\":");
	json_compact(b, attrs, strlen(attrs));
	return 0;
}

int
aws_sqs_create(struct aws_sqs *q, const char *attrs, struct ev_err *e)
{
	const char *name = aws_sqs_name(q);
	struct buf *b = aws_sqs_req(q), url = { 0 };
	int rc;

	if (name[0] == '\0')
		return err_set(e, EV_USAGE, "this queue URI names no queue to create");
	buf_adds(b, "{\"QueueName\":");
	json_add_string(b, name, strlen(name));
	if ((rc = add_attrs(b, attrs, e)) != 0)
		return rc;
	buf_addc(b, '}');
	if ((rc = aws_sqs_call(q, "CreateQueue", 0, e)) != 0)
		return rc;
	const struct buf *r = aws_sqs_resp(q);
	if (aws_json_str(r->p, r->n, 0, "QueueUrl", &url) <= 0) {
		buf_free(&url);
		return err_set(e, EV_SOFTWARE, "CreateQueue: no QueueUrl in the answer");
	}
	aws_sqs_set_url(q, buf_detach(&url));
	return 0;
}

/* A call whose request is the QueueUrl and maybe more. */
static int
on_queue(struct aws_sqs *q, const char *op, const char *more, struct ev_err *e)
{
	const char *url;
	int rc = aws_sqs_url(q, &url, e);

	if (rc != 0)
		return rc;
	struct buf *b = aws_sqs_req(q);
	add_url(b, url);
	if (more != NULL)
		buf_adds(b, more);
	buf_addc(b, '}');
	return aws_sqs_call(q, op, 0, e);
}

int
aws_sqs_get_attrs(struct aws_sqs *q, struct buf *out, struct ev_err *e)
{
	size_t v, vend;
	int rc = on_queue(q, "GetQueueAttributes", ",\"AttributeNames\":[\"All\"]", e);

	buf_reset(out);
	if (rc != 0)
		return rc;
	const struct buf *r = aws_sqs_resp(q);
	if (aws_json_get(r->p, r->n, 0, "Attributes", &v, &vend) && r->p[v] == '{')
		buf_add(out, r->p + v, vend - v);
	else
		buf_adds(out, "{}");
	return 0;
}

int
aws_sqs_set_attrs(struct aws_sqs *q, const char *attrs, struct ev_err *e)
{
	struct buf more = { 0 };
	int rc = add_attrs(&more, attrs != NULL ? attrs : "{}", e);

	if (rc == 0)
		rc = on_queue(q, "SetQueueAttributes", more.p, e);
	buf_free(&more);
	return rc;
}

int
aws_sqs_purge(struct aws_sqs *q, struct ev_err *e)
{
	return on_queue(q, "PurgeQueue", NULL, e);
}

int
aws_sqs_delete_queue(struct aws_sqs *q, struct ev_err *e)
{
	return on_queue(q, "DeleteQueue", NULL, e);
}

/* One page of ListQueues: the URLs onto out, the NextToken into *next. */
static int
list_page(struct aws_sqs *q, const char *prefix, struct buf *next, struct buf *out, size_t *n,
    struct ev_err *e)
{
	struct buf *b = aws_sqs_req(q), u = { 0 };
	size_t at, v, vend;
	int rc;

	buf_adds(b, "{\"MaxResults\":1000");
	if (prefix != NULL && *prefix != '\0') {
		buf_adds(b, ",\"QueueNamePrefix\":");
		json_add_string(b, prefix, strlen(prefix));
	}
	if (next->n > 0) {
		buf_adds(b, ",\"NextToken\":");
		json_add_string(b, next->p, next->n);
	}
	buf_addc(b, '}');
	if ((rc = aws_sqs_call(q, "ListQueues", 0, e)) != 0)
		return rc;
	const struct buf *r = aws_sqs_resp(q);
	if (aws_json_get(r->p, r->n, 0, "QueueUrls", &at, &vend) && r->p[at] == '[')
		while (aws_json_elem(r->p, r->n, &at, &v, &vend))
			if (r->p[v] == '"' && vend - v >= 2) {
				buf_reset(&u);
				json_unescape(&u, r->p + v + 1, vend - v - 2);
				buf_add(out, u.p, u.n);
				buf_add(out, "", 1);
				++*n;
			}
	buf_free(&u);
	aws_json_str(r->p, r->n, 0, "NextToken", next);
	return 0;
}

int
aws_sqs_list(struct aws_sqs *q, const char *prefix, struct buf *out, size_t *n,
    struct ev_err *e)
{
	struct buf next = { 0 };
	int rc;

	buf_reset(out);
	*n = 0;
	do
		rc = list_page(q, prefix, &next, out, n, e);
	while (rc == 0 && next.n > 0);
	buf_free(&next);
	return rc;
}

int
aws_sqs_move(struct aws_sqs *q, const char *dest_arn, int rate, struct buf *out,
    struct ev_err *e)
{
	const char *arn = aws_sqs_arn(q);
	struct buf *b = aws_sqs_req(q);
	int rc;

	buf_reset(out);
	buf_adds(b, "{\"SourceArn\":");
	json_add_string(b, arn, strlen(arn));
	if (dest_arn != NULL) {
		buf_adds(b, ",\"DestinationArn\":");
		json_add_string(b, dest_arn, strlen(dest_arn));
	}
	if (rate > 0)
		buf_printf(b, ",\"MaxNumberOfMessagesPerSecond\":%d", rate);
	buf_addc(b, '}');
	if ((rc = aws_sqs_call(q, "StartMessageMoveTask", 0, e)) != 0)
		return rc;
	const struct buf *r = aws_sqs_resp(q);
	aws_json_str(r->p, r->n, 0, "TaskHandle", out);
	return 0;
}
