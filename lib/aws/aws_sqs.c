/* aws_sqs — a queue on Amazon SQS or a server speaking its JSON 1.0
 * protocol: the handle (URI, configuration, one client), sending,
 * receiving, acknowledging.  The admin calls are in aws_admin.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

struct aws_sqs {
	struct aws_uri u;
	struct aws_conf *conf;
	int own_conf;
	struct aws_client *c;
	char *url, *arn;
	struct buf req, resp;
};

/* The end of aws_sqs_open and aws_sqs_dup, given how their first steps
 * went (rc): q, its client made, into *qp, or q closed and the status. */
static int
finish_open(struct aws_sqs *q, int rc, struct aws_sqs **qp, struct ev_err *e)
{
	if (rc == 0)
		rc = aws_client_new(q->conf, &q->c, e);
	if (rc != 0) {
		aws_sqs_close(q);
		return rc;
	}
	/* An sqs:// URI names its queue by AWS's URL only on AWS itself;
	 * elsewhere (fauxqs keys queues by the URL it made) GetQueueUrl. */
	if (q->u.queue_url[0] != '\0')
		q->url = xstrdup(q->u.queue_url);
	else if (q->u.name[0] != '\0' && strcmp(aws_conf_endpoint(q->conf), q->u.endpoint) == 0)
		q->url = aws_cat(q->u.endpoint, "/", q->u.account, "/", q->u.name, NULL);
	q->arn = aws_cat("arn:aws:sqs:", aws_conf_region(q->conf), ":", q->u.account, ":",
	    q->u.name, NULL);
	*qp = q;
	return 0;
}

int
aws_sqs_open(const char *uri, const char *endpoint_url, struct aws_sqs **qp, struct ev_err *e)
{
	struct aws_sqs *q = xcalloc(1, sizeof *q);
	int rc = aws_uri_parse(uri, &q->u, e);

	if (rc == 0) {
		q->own_conf = 1;
		rc = aws_conf_load(AWS_SQS, endpoint_url, q->u.region, q->u.endpoint, &q->conf, e);
	}
	return finish_open(q, rc, qp, e);
}

int
aws_sqs_dup(struct aws_sqs *q, struct aws_sqs **qp, struct ev_err *e)
{
	struct aws_sqs *d = xcalloc(1, sizeof *d);

	d->u.endpoint = xstrdup(q->u.endpoint);
	d->u.region = xstrdup(q->u.region);
	d->u.account = xstrdup(q->u.account);
	d->u.name = xstrdup(q->u.name);
	d->u.queue_url = xstrdup(q->url != NULL ? q->url : q->u.queue_url);
	d->conf = q->conf;
	return finish_open(d, 0, qp, e);
}

void
aws_sqs_close(struct aws_sqs *q)
{
	if (q == NULL)
		return;
	aws_client_free(q->c);
	if (q->own_conf)
		aws_conf_free(q->conf);
	aws_uri_free(&q->u);
	free(q->url);
	free(q->arn);
	buf_free(&q->req);
	buf_free(&q->resp);
	free(q);
}

const char *
aws_sqs_arn(struct aws_sqs *q)
{
	return q->arn;
}

const char *
aws_sqs_region(struct aws_sqs *q)
{
	return aws_conf_region(q->conf);
}

struct aws_client *
aws_sqs_client(struct aws_sqs *q)
{
	return q->c;
}

const char *
aws_sqs_name(struct aws_sqs *q)
{
	return q->u.name;
}

/* Calls op with the request in q->req; the answer in q->resp, checked to
 * be one JSON object. */
int
aws_sqs_call(struct aws_sqs *q, const char *op, int wait_s, struct ev_err *e)
{
	struct json_err je;
	int rc = aws_call(q->c, op, q->req.p, q->req.n, wait_s, &q->resp, e);

	if (rc == 0 && json_validate(q->resp.p, q->resp.n, 0, &je) != '{')
		rc = err_set(e, EV_SOFTWARE, "%s: the server's answer is not a JSON object", op);
	return rc;
}

struct buf *
aws_sqs_req(struct aws_sqs *q)
{
	buf_reset(&q->req);
	return &q->req;
}

const struct buf *
aws_sqs_resp(struct aws_sqs *q)
{
	return &q->resp;
}

int
aws_sqs_url(struct aws_sqs *q, const char **url, struct ev_err *e)
{
	struct buf *r = aws_sqs_req(q), u = { 0 };
	int rc = 0;

	if (q->url == NULL && q->u.name[0] == '\0')
		return err_set(e, EV_USAGE, "this queue URI names no queue");
	if (q->url == NULL) {
		buf_adds(r, "{\"QueueName\":");
		json_add_string(r, q->u.name, strlen(q->u.name));
		buf_adds(r, ",\"QueueOwnerAWSAccountId\":");
		json_add_string(r, q->u.account, strlen(q->u.account));
		buf_addc(r, '}');
		if ((rc = aws_sqs_call(q, "GetQueueUrl", 0, e)) == 0 &&
		    aws_json_str(q->resp.p, q->resp.n, 0, "QueueUrl", &u) <= 0)
			rc = err_set(e, EV_SOFTWARE, "GetQueueUrl: no QueueUrl in the answer");
		if (rc == 0)
			q->url = buf_detach(&u);
		buf_free(&u);
	}
	*url = q->url;
	return rc;
}

void
aws_sqs_set_url(struct aws_sqs *q, char *url)
{
	free(q->url);
	q->url = url;
}
