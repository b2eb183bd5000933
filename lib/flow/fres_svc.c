/* fres_svc — the service integrations of fnflow's Tasks, in the shapes
 * Step Functions gives: lambda:invoke's arguments and wrapper, a
 * function's error as Error and Cause, sqs:sendMessage through queue/
 * (local or remote), events:putEvents routed through a rules file (bus/)
 * or put on events:// (aws/). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jv.h>

#include "aws/aws.h"
#include "bus/bus.h"
#include "bus/rules.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/jx.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue/queue.h"
#include "fres_int.h"

struct fq {
	char *url;
	struct queue *q;
	char id[37];		/* a remote send's MessageId, once the server has it */
};

struct fbus {
	char *uri;
	struct aws_events *b;
};

struct fres_svc {
	const char *endpoint_url, *local_url;
	struct rules *rules;	/* --rules, or NULL */
	struct bus_pipe *pipe;
	struct fq *q;
	size_t nq, capq;
	struct fbus *bus;
	size_t nbus, capbus;
};

static const char *
region(void)
{
	const char *r = getenv("AWS_REGION");

	if (r == NULL || *r == '\0')
		r = getenv("AWS_DEFAULT_REGION");
	return r != NULL && *r != '\0' ? r : "us-east-1";
}

void
fres_lambda_arn(const char *name, char *out, size_t size)
{
	snprintf(out, size, "arn:aws:lambda:%s:000000000000:function:%s", region(), name);
}

int
fres_svc_open(const struct fres_opts *o, struct fres_svc **sp, struct ev_err *e)
{
	struct fres_svc *s = xcalloc(1, sizeof *s);
	struct bus_pipe_opts po = { 0 };
	int rc = 0;

	s->endpoint_url = o->endpoint_url;
	s->local_url = o->local_url;
	*sp = s;
	if (o->rules == NULL)
		return 0;
	if ((rc = rules_load(o->rules, &s->rules, e)) != 0)
		return err_wrap(e, "--rules");
	if ((rc = bus_pipe_open(s->rules, &po, &s->pipe, e)) != 0)
		return err_wrap(e, "--rules");
	return 0;
}

void
fres_svc_close(struct fres_svc *s)
{
	struct ev_err e;

	if (s == NULL)
		return;
	if (s->pipe != NULL)
		bus_pipe_close(s->pipe, &e);
	if (s->rules != NULL)
		rules_free(s->rules);
	for (size_t i = 0; i < s->nq; i++) {
		q_close(s->q[i].q);
		free(s->q[i].url);
	}
	for (size_t i = 0; i < s->nbus; i++) {
		aws_events_close(s->bus[i].b);
		free(s->bus[i].uri);
	}
	free(s->q);
	free(s->bus);
	free(s);
}

/* ---- Lambda ---- */

/* o[k] (o consumed), or jv_invalid when o is no object or has no k. */
static jv
member(jv o, const char *k)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return jv_invalid();
	}
	jv v = jv_object_get(o, jv_string(k));
	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

static void
dump(jv v, struct buf *out)
{
	jv s = jv_dump_string(v, 0);
	buf_adds(out, jv_string_value(s));
	jv_free(s);
}

int
fres_invoke_args(const char *input, size_t n, char **name, struct buf *payload, int *async,
    struct ferr *f)
{
	struct ev_err e;
	jv in;

	*name = NULL;
	if (jx_parse(input, n, &in, &e) != 0)
		return ferr_set(f, "States.Runtime", "lambda:invoke: the parameters are not JSON: %s",
		    e.msg);
	jv fn = member(jv_copy(in), "FunctionName");
	if (jv_get_kind(fn) != JV_KIND_STRING) {
		jv_free(fn);
		jv_free(in);
		return ferr_set(f, "States.Runtime", "lambda:invoke: the parameters have no "
		    "FunctionName string");
	}
	/* NAME, NAME:QUALIFIER, ACCOUNT:function:NAME or a whole ARN */
	const char *s = jv_string_value(fn), *at = strstr(s, ":function:");
	at = at != NULL ? at + strlen(":function:") : s;
	*name = xstrdup(at);
	(*name)[strcspn(*name, ":")] = '\0';
	jv_free(fn);
	jv it = member(jv_copy(in), "InvocationType");
	*async = jv_get_kind(it) == JV_KIND_STRING && strcmp(jv_string_value(it), "Event") == 0;
	jv_free(it);
	jv p = member(in, "Payload");
	buf_reset(payload);
	if (jv_is_valid(p))
		dump(p, payload);
	else
		buf_adds(payload, "{}");	/* Lambda gives an empty payload as {} */
	return 0;
}

static void
http_date(char out[40])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* "SdkHttpMetadata" and "SdkResponseMetadata", as Step Functions' service
 * integrations add them to an answer; len is the body's length. */
static void
sdk_metadata(struct buf *b, size_t len, int lambda, int status)
{
	char id[37], date[40], cl[24];

	uuid_v4(id);
	http_date(date);
	snprintf(cl, sizeof cl, "%zu", len);
	buf_printf(b, "\"SdkHttpMetadata\":{\"AllHttpHeaders\":{\"Connection\":[\"keep-alive\"],"
	    "\"Content-Length\":[\"%s\"],\"Content-Type\":[\"%s\"],\"Date\":[\"%s\"],",
	    cl, lambda ? "application/json" : "application/x-amz-json-1.0", date);
	if (lambda && status == 200)
		buf_adds(b, "\"X-Amz-Executed-Version\":[\"$LATEST\"],"
		    "\"x-amzn-Remapped-Content-Length\":[\"0\"],");
	buf_printf(b, "\"x-amzn-RequestId\":[\"%s\"]},\"HttpHeaders\":{\"Connection\":\"keep-alive\","
	    "\"Content-Length\":\"%s\",\"Content-Type\":\"%s\",\"Date\":\"%s\",", id, cl,
	    lambda ? "application/json" : "application/x-amz-json-1.0", date);
	if (lambda && status == 200)
		buf_adds(b, "\"X-Amz-Executed-Version\":\"$LATEST\","
		    "\"x-amzn-Remapped-Content-Length\":\"0\",");
	buf_printf(b, "\"x-amzn-RequestId\":\"%s\"},\"HttpStatusCode\":%d},"
	    "\"SdkResponseMetadata\":{\"RequestId\":\"%s\"}", id, status, id);
}

void
fres_invoke_accepted(struct buf *out)
{
	buf_reset(out);
	buf_adds(out, "{\"Payload\":\"\",");
	sdk_metadata(out, 0, 1, 202);
	buf_adds(out, ",\"StatusCode\":202}");
}

void
fres_invoke_wrap(const char *res, size_t n, struct buf *out)
{
	buf_reset(out);
	buf_adds(out, "{\"ExecutedVersion\":\"$LATEST\",\"Payload\":");
	buf_add(out, res, n);
	buf_addc(out, ',');
	sdk_metadata(out, n, 1, 200);
	buf_adds(out, ",\"StatusCode\":200}");
}

/* A function's error object: Error is its errorType, Cause the object as
 * the function gave it.  Lambda's own failures to run a function to its
 * end (its timeout) are Lambda.Unknown, as the developer guide says of
 * unhandled errors; an object with no errorType too, with the cause
 * Step Functions gives then. */
void
fres_lambda_error(const char *res, size_t n, struct ferr *f)
{
	struct ev_err e;
	jv v;

	if (jx_parse(res, n, &v, &e) == 0) {
		jv type = member(v, "errorType");
		if (jv_get_kind(type) == JV_KIND_STRING &&
		    strcmp(jv_string_value(type), "Runtime.Timeout") != 0) {
			ferr_set(f, jv_string_value(type), "%.*s", (int)n, res);
			jv_free(type);
			return;
		}
		jv_free(type);
	}
	ferr_set(f, "Lambda.Unknown", "The cause could not be determined because Lambda did not "
	    "return an error type. Returned payload: %.*s", (int)n, res);
}

/* ---- SQS ---- */

static void
on_sent(void *ctx, const struct q_sent *sent, const char *body, size_t len)
{
	struct fq *q = ctx;

	(void)body;
	(void)len;
	snprintf(q->id, sizeof q->id, "%s", sent->id);
}

/* The queue QueueUrl names, opened once. */
static int
queue_of(struct fres_svc *s, const char *url, struct fq **out, struct ev_err *e)
{
	struct q_open_opts oo = { .endpoint_url = s->endpoint_url };
	size_t k = s->local_url != NULL ? strlen(s->local_url) : 0;

	if (k > 0 && strncmp(url, s->local_url, k) == 0 && url[k] == '/' &&
	    strrchr(url, '/')[1] != '\0')
		url = strrchr(url, '/') + 1;
	for (size_t i = 0; i < s->nq; i++)
		if (strcmp(s->q[i].url, url) == 0) {
			*out = &s->q[i];
			return 0;
		}
	struct queue *q;
	int rc = q_open_with(url, Q_OPEN, NULL, &oo, &q, e);
	if (rc != 0)
		return rc;
	XGROW(&s->q, &s->capq, s->nq + 1);
	*out = &s->q[s->nq++];
	**out = (struct fq){ .url = xstrdup(url), .q = q };
	return 0;
}

/* SQS's failure as Step Functions names it: SQS.<exception>, and the
 * message with the SDK's suffix as the cause. */
static int
sqs_fail(struct ferr *f, int rc, const char *msg)
{
	int missing = rc == EV_NOINPUT;

	return ferr_set(f, missing ? "SQS.QueueDoesNotExistException" : "SQS.AmazonSQSException",
	    "%s (Service: AmazonSQS; Status Code: %d; Error Code: %s)", msg,
	    rc == EV_UNAVAILABLE || rc == EV_TEMPFAIL ? 500 : 400,
	    missing ? "AWS.SimpleQueueService.NonExistentQueue" :
	    rc == EV_DATAERR ? "InvalidParameterValue" : "InternalError");
}

/* MessageBody: a string as it is, any other JSON as its text. */
static void
body_text(jv v, struct buf *b)
{
	if (jv_get_kind(v) == JV_KIND_STRING)
		buf_adds(b, jv_string_value(v));
	else
		dump(jv_copy(v), b);
	jv_free(v);
}

/* The string member k of in, copied into b (NUL-terminated), or NULL. */
static const char *
opt_string(jv in, const char *k, struct buf *b)
{
	jv v = member(jv_copy(in), k);

	buf_reset(b);
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return NULL;
	}
	buf_adds(b, jv_string_value(v));
	buf_addc(b, '\0');
	jv_free(v);
	return b->p;
}

struct sqs_msg {
	struct buf body, url, group, dedup, attrs, lattrs;
	char md5[33], amd5[33];
	int64_t delay_ms;
};

static void
sqs_msg_free(struct sqs_msg *m)
{
	buf_free(&m->body);
	buf_free(&m->url);
	buf_free(&m->group);
	buf_free(&m->dedup);
	buf_free(&m->attrs);
	buf_free(&m->lattrs);
}

/* The parameters into m: 0, or -1 with f. */
static int
sqs_params(jv in, struct sqs_msg *m, struct ferr *f)
{
	struct ev_err e;

	if (opt_string(in, "QueueUrl", &m->url) == NULL)
		return ferr_set(f, "States.Runtime", "sqs:sendMessage: the parameters have no "
		    "QueueUrl string");
	jv body = member(jv_copy(in), "MessageBody");
	if (!jv_is_valid(body)) {
		jv_free(body);
		return sqs_fail(f, EV_USAGE, "The request must contain the parameter MessageBody.");
	}
	body_text(body, &m->body);
	digest_hex_of(DIGEST_MD5, m->body.p, m->body.n, m->md5);
	jv d = member(jv_copy(in), "DelaySeconds");
	m->delay_ms = jv_get_kind(d) == JV_KIND_NUMBER ? (int64_t)jv_number_value(d) * 1000 : -1;
	jv_free(d);
	jv a = member(jv_copy(in), "MessageAttributes");
	if (jv_get_kind(a) == JV_KIND_OBJECT && jv_object_length(jv_copy(a)) > 0) {
		dump(jv_copy(a), &m->attrs);
		buf_addc(&m->attrs, '\0');
		if (aws_sqs_attrs_md5(m->attrs.p, m->attrs.n - 1, m->amd5, &e) != 0 ||
		    aws_sqs_attrs_to_lambda(m->attrs.p, &m->lattrs, &e) != 0) {
			jv_free(a);
			return sqs_fail(f, EV_DATAERR, e.msg);
		}
		buf_addc(&m->lattrs, '\0');
	}
	jv_free(a);
	opt_string(in, "MessageGroupId", &m->group);
	opt_string(in, "MessageDeduplicationId", &m->dedup);
	return 0;
}

static int
sqs_send(struct fres_svc *s, struct sqs_msg *m, struct q_sent *sent, struct fq **qp,
    struct ferr *f)
{
	struct ev_err e;
	struct fq *q;
	int rc;

	if ((rc = queue_of(s, m->url.p, &q, &e)) != 0)
		return sqs_fail(f, rc, e.msg);
	*qp = q;
	struct q_out o = {
		.body = m->body.p, .len = m->body.n, .delay_ms = m->delay_ms,
		.group = m->group.n > 0 ? m->group.p : NULL,
		.dedup = m->dedup.n > 0 ? m->dedup.p : NULL,
		.attrs = m->lattrs.n > 0 ? m->lattrs.p : NULL,
		.attrs_md5 = m->lattrs.n > 0 ? m->amd5 : NULL,
	};
	q->id[0] = '\0';
	q_send_on_sent(q->q, on_sent, q);
	memset(sent, 0, sizeof *sent);
	if ((rc = q_send_begin(q->q, &e)) != 0 || (rc = q_send_add(q->q, &o, sent, &e)) != 0) {
		q_send_rollback(q->q);
		return sqs_fail(f, rc, e.msg);
	}
	if (sent->refused != NULL) {
		q_send_rollback(q->q);
		return sqs_fail(f, EV_DATAERR, sent->refused);
	}
	if ((rc = q_send_commit(q->q, &e)) != 0)
		return sqs_fail(f, rc, e.msg);
	return 0;
}

int
fres_sqs_send(struct fres_svc *s, const char *input, size_t n, struct buf *out, struct ferr *f)
{
	struct sqs_msg m = { 0 };
	struct ev_err e;
	struct q_sent sent;
	struct fq *q = NULL;
	jv in;

	if (jx_parse(input, n, &in, &e) != 0)
		return ferr_set(f, "States.Runtime", "sqs:sendMessage: the parameters are not "
		    "JSON: %s", e.msg);
	int rc = sqs_params(in, &m, f);
	jv_free(in);
	if (rc == 0)
		rc = sqs_send(s, &m, &sent, &q, f);
	if (rc == 0) {
		size_t at = out->n;
		buf_printf(out, "{\"MD5OfMessageBody\":\"%s\",", m.md5);
		if (m.lattrs.n > 0)
			buf_printf(out, "\"MD5OfMessageAttributes\":\"%s\",", m.amd5);
		buf_printf(out, "\"MessageId\":\"%s\",", sent.id[0] != '\0' ? sent.id : q->id);
		if (sent.seq[0] != '\0')
			buf_printf(out, "\"SequenceNumber\":\"%s\",", sent.seq);
		sdk_metadata(out, out->n - at, 0, 200);
		buf_addc(out, '}');
	}
	sqs_msg_free(&m);
	return rc;
}

/* ---- EventBridge ---- */

static int
events_fail(struct ferr *f, const char *msg)
{
	return ferr_set(f, "EventBridge.AmazonEventBridgeException", "%s (Service: "
	    "AmazonEventBridge; Status Code: 400; Error Code: ValidationException)", msg);
}

/* The event EventBridge makes of an entry, for the rules to match. */
static void
event_of(jv en, const char *detail, struct buf *b, char id[37])
{
	char ts[25];
	jv res = member(jv_copy(en), "Resources");

	uuid_v4(id);
	clock_rfc3339(clock_now_ms(), ts);
	memcpy(ts + 19, "Z", 2);	/* EventBridge's times are to the second */
	buf_printf(b, "{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":", id);
	jv dt = member(jv_copy(en), "DetailType");
	dump(dt, b);
	buf_adds(b, ",\"source\":");
	dump(member(jv_copy(en), "Source"), b);
	buf_printf(b, ",\"account\":\"000000000000\",\"time\":\"%s\",\"region\":", ts);
	json_add_string(b, region(), strlen(region()));
	buf_adds(b, ",\"resources\":");
	if (jv_get_kind(res) == JV_KIND_ARRAY)
		dump(res, b);
	else {
		jv_free(res);
		buf_adds(b, "[]");
	}
	buf_adds(b, ",\"detail\":");
	buf_adds(b, detail);
	buf_addc(b, '}');
}

/* An entry's Detail as a JSON object's text into d: 0, or why not. */
static const char *
detail_of(jv en, struct buf *d)
{
	struct ev_err e;
	jv v = member(jv_copy(en), "Detail");

	buf_reset(d);
	if (jv_get_kind(v) == JV_KIND_STRING) {
		jv p;
		const char *s = jv_string_value(v);
		int bad = jx_parse(s, strlen(s), &p, &e) != 0;
		if (!bad && jv_get_kind(p) != JV_KIND_OBJECT) {
			jv_free(p);
			bad = 1;
		}
		if (bad) {
			jv_free(v);
			return "Detail is malformed.";
		}
		dump(p, d);
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		dump(jv_copy(v), d);
	} else {
		jv_free(v);
		return "Parameter Detail is not valid. Reason: Detail is a required argument.";
	}
	jv_free(v);
	buf_addc(d, '\0');
	return NULL;
}

static int
bus_of(struct fres_svc *s, const char *uri, struct aws_events **out, struct ev_err *e)
{
	for (size_t i = 0; i < s->nbus; i++)
		if (strcmp(s->bus[i].uri, uri) == 0) {
			*out = s->bus[i].b;
			return 0;
		}
	int rc = aws_events_open(uri, s->endpoint_url, out, e);
	if (rc != 0)
		return rc;
	XGROW(&s->bus, &s->capbus, s->nbus + 1);
	s->bus[s->nbus++] = (struct fbus){ .uri = xstrdup(uri), .b = *out };
	return 0;
}

/* PutEvents of one entry (its Detail's text d) on the bus uri: NULL
 * with its EventId, or why it failed. */
static const char *
put_remote(struct fres_svc *s, jv en, const char *uri, const struct buf *d, char id[128],
    char why[512])
{
	struct buf src = { 0 }, dt = { 0 }, rs = { 0 };
	struct aws_events *b;
	struct ev_err e;
	const char *err = NULL;
	jv r = member(jv_copy(en), "Resources");

	if (jv_get_kind(r) == JV_KIND_ARRAY && jv_array_length(jv_copy(r)) > 0) {
		dump(jv_copy(r), &rs);
		buf_addc(&rs, '\0');
	}
	jv_free(r);
	struct aws_events_entry x = {
		.source = opt_string(en, "Source", &src),
		.detail_type = opt_string(en, "DetailType", &dt),
		.detail = d->p, .detail_len = d->n - 1, .time_ms = -1,
		.resources = rs.n > 0 ? rs.p : NULL,
	};
	int rc = bus_of(s, uri, &b, &e);
	if (rc == 0)
		rc = aws_events_put(b, &x, 1, &e);
	if (rc != 0 || x.status != 0) {
		snprintf(why, 512, "%.500s", rc != 0 ? e.msg : x.why);
		err = why;
	} else {
		snprintf(id, 128, "%s", x.id);
	}
	buf_free(&src);
	buf_free(&rs);
	buf_free(&dt);
	return err;
}

/* The event of one entry routed through the rules: NULL with its id, or
 * why it failed. */
static const char *
put_local(struct fres_svc *s, jv en, const struct buf *d, char id[128], char why[512])
{
	struct buf ev = { 0 };
	struct ev_err e;
	char uid[37];

	if (s->pipe == NULL)
		return "no --rules file to route events to (or an events:// EventBusName)";
	event_of(en, d->p, &ev, uid);
	int rc = bus_pipe_line(s->pipe, ev.p, ev.n, &e);
	if (rc == 0)
		rc = bus_pipe_idle(s->pipe, &e);
	buf_free(&ev);
	if (rc != 0) {
		snprintf(why, 512, "%.500s", e.msg);
		return why;
	}
	snprintf(id, 128, "%s", uid);
	return NULL;
}

/* One entry (consumed): put on events:// or routed through the rules.
 * Returns NULL with its EventId, or the ErrorMessage of a failed entry. */
static const char *
put_entry(struct fres_svc *s, jv en, char id[128], char why[512])
{
	struct buf d = { 0 }, bus = { 0 };
	const char *err;

	if (jv_get_kind(en) != JV_KIND_OBJECT)
		err = "an entry is not an object";
	else if (opt_string(en, "Source", &d) == NULL)
		err = "Parameter Source is not valid. Reason: Source is a required argument.";
	else if (opt_string(en, "DetailType", &d) == NULL)
		err = "Parameter DetailType is not valid. Reason: DetailType is a required argument.";
	else
		err = detail_of(en, &d);
	const char *name = err == NULL ? opt_string(en, "EventBusName", &bus) : NULL;
	if (err == NULL && name != NULL && strncmp(name, "events://", 9) == 0)
		err = put_remote(s, en, name, &d, id, why);
	else if (err == NULL)
		err = put_local(s, en, &d, id, why);
	jv_free(en);
	buf_free(&d);
	buf_free(&bus);
	return err;
}

/* en with the ARNs (NULL ones left out) appended to its Resources, as
 * Step Functions appends the execution's and the state machine's. */
static jv
with_arns(jv en, const char *const arns[2])
{
	if (jv_get_kind(en) != JV_KIND_OBJECT || (arns[0] == NULL && arns[1] == NULL))
		return en;
	jv r = member(jv_copy(en), "Resources");
	if (jv_get_kind(r) != JV_KIND_ARRAY) {
		jv_free(r);
		r = jv_array();
	}
	for (int i = 0; i < 2; i++)
		if (arns[i] != NULL)
			r = jv_array_append(r, jv_string(arns[i]));
	return jv_object_set(en, jv_string("Resources"), r);
}

int
fres_events_put(struct fres_svc *s, const char *input, size_t n, const char *const arns[2],
    struct buf *out, struct ferr *f)
{
	struct ev_err e;
	jv in;

	if (jx_parse(input, n, &in, &e) != 0)
		return ferr_set(f, "States.Runtime", "events:putEvents: the parameters are not "
		    "JSON: %s", e.msg);
	jv ens = member(in, "Entries");
	int len = jv_get_kind(ens) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ens)) : -1;
	if (len < 1 || len > 10) {
		jv_free(ens);
		return events_fail(f, len < 1 ? "1 validation error detected: Value null at "
		    "'entries' failed to satisfy constraint: Member must not be null" :
		    "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
		    "Member must have length less than or equal to 10");
	}
	struct buf res = { 0 };
	int failed = 0;
	char why[512], id[128];
	for (int i = 0; i < len; i++) {
		const char *err = put_entry(s, with_arns(jv_array_get(jv_copy(ens), i), arns), id, why);
		buf_adds(&res, i > 0 ? ",{" : "{");
		if (err != NULL) {
			failed++;
			buf_adds(&res, "\"ErrorCode\":\"InvalidArgument\",\"ErrorMessage\":");
			json_add_string(&res, err, strlen(err));
		} else {
			buf_adds(&res, "\"EventId\":");
			json_add_string(&res, id, strlen(id));
		}
		buf_addc(&res, '}');
	}
	jv_free(ens);
	if (failed > 0) {
		/* Step Functions fails the task when an entry failed. */
		ferr_set(f, "EventBridge.FailedEntry", "{\"Entries\":[%.*s],\"FailedEntryCount\":%d}",
		    (int)res.n, res.p, failed);
		buf_free(&res);
		return -1;
	}
	size_t at = out->n;
	buf_printf(out, "{\"Entries\":[%.*s],\"FailedEntryCount\":0,", (int)res.n, res.p);
	sdk_metadata(out, out->n - at, 0, 200);
	buf_addc(out, '}');
	buf_free(&res);
	return 0;
}
