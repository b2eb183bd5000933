/* aws — the AWS client layer: Amazon SQS (AWS JSON 1.0) and EventBridge
 * (AWS JSON 1.1) over libcurl, signed with SigV4 by libcurl itself.
 *
 * Contract (SPEC 6):
 * - Configuration is found as the AWS CLI finds it (aws_conf.c):
 *   credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 *   AWS_SESSION_TOKEN, else the profile (AWS_PROFILE, default `default`) in
 *   AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then its
 *   `credential_process`, then keys in AWS_CONFIG_FILE (~/.aws/config);
 *   region from AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`,
 *   else the URI's; endpoint from the caller's --endpoint-url, then
 *   AWS_ENDPOINT_URL_SQS (or _EVENTS), AWS_ENDPOINT_URL, the profile's
 *   `endpoint_url`, else the URI's own host.  Secrets live in memory kept
 *   out of core dumps (MADV_DONTDUMP), wiped when freed, and never appear
 *   in an ev_err (nor does a URL with a user:password in it: refused).
 *   credential_process credentials with an Expiration are fetched again
 *   5 minutes before it, as the CLI does.
 * - One struct aws_client per thread: it owns one kept-alive curl handle.
 * - Every call retries as AWS's standard retry mode does (aws_retry.c: 3
 *   attempts or AWS_MAX_ATTEMPTS, full-jitter backoff from 100 ms, 500 ms
 *   after throttling, capped at 20 s, a retry quota of 500 tokens per
 *   client) and returns 0 or a SPEC status with *e worded
 *   "OPERATION: CODE: message":
 *     66  QueueDoesNotExist, NonExistentQueue, ResourceNotFoundException;
 *     77  credentials missing, refused or expired (UnrecognizedClient,
 *         InvalidClientTokenId, InvalidSignature, SignatureDoesNotMatch,
 *         ExpiredToken, AccessDenied, MissingAuthenticationToken,
 *         IncompleteSignature, NotAuthorizedFor*, HTTP 401/403, and a
 *         failing credential_process);
 *     75  throttling still there after the retries;
 *     69  no connection (refused, DNS, timeout) or 5xx after the retries;
 *     65  the request's data is refused: an oversized message or batch,
 *         and every other 4xx the client sent (a bad attribute, id or
 *         value: InvalidParameterValue, MissingParameter...), since it is
 *         what the user gave that the service refuses;
 *     70  a response this client cannot read (not JSON, a bad MD5 from a
 *         send or receive), or a 3xx/1xx: ours or the server's bug;
 *     2   no region anywhere, or an unusable URI / endpoint.
 * - A URI never silently becomes a local path: aws_is_uri() says which
 *   arguments are ours, and aws_sqs_open refuses any other. */
#ifndef EVKIT_AWS_H
#define EVKIT_AWS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum aws_svc { AWS_SQS, AWS_EVENTS };

/* SQS's limits: entries per batch request, bytes per message and per
 * batch request (since 2025 both 1 MiB), seconds of one long poll. */
enum {
	AWS_SQS_BATCH = 10,
	AWS_SQS_MAX_BYTES = 1048576,
	AWS_SQS_MAX_WAIT = 20,
};

/* 1 if arg names a remote queue of ours: sqs://, http:// or https://. */
int aws_is_uri(const char *arg);

/* A parsed queue URI: sqs://REGION/ACCOUNT/NAME or
 * http(s)://HOST[:PORT]/ACCOUNT/NAME (NAME may be empty for ListQueues
 * and CreateQueue's endpoint).  endpoint is where requests go without
 * any configured one (https://sqs.REGION.amazonaws.com for sqs://);
 * region is "" when the URI has none (a host not of AWS's form);
 * queue_url is the URL the server knows the queue by ("" for sqs://
 * URIs: aws_sqs_open asks GetQueueUrl when the endpoint is not AWS's). */
struct aws_uri {
	char *endpoint, *region, *account, *name, *queue_url;
};
int aws_uri_parse(const char *uri, struct aws_uri *u, struct ev_err *e);
void aws_uri_free(struct aws_uri *u);

/* Configuration, resolved once (credential_process runs here) and shared
 * read-only by the clients of every thread. */
struct aws_conf;
/* svc picks AWS_ENDPOINT_URL_SQS or _EVENTS; endpoint_url is the
 * command's --endpoint-url or NULL; uri_region and uri_endpoint are the
 * fallbacks from the URI (NULL or "": none).  77 without credentials
 * (the message names every place looked in), 2 without a region. */
int aws_conf_load(enum aws_svc svc, const char *endpoint_url, const char *uri_region,
    const char *uri_endpoint, struct aws_conf **cp, struct ev_err *e);
void aws_conf_free(struct aws_conf *c);
const char *aws_conf_region(const struct aws_conf *c);
const char *aws_conf_endpoint(const struct aws_conf *c);

/* One thread's connection.  The conf must outlive it; clients of several
 * threads may share one (its refresh of expiring credentials is locked). */
struct aws_client;
int aws_client_new(struct aws_conf *conf, struct aws_client **cp, struct ev_err *e);
void aws_client_free(struct aws_client *c);

/* One operation: POSTs the JSON body to the endpoint as
 * AmazonSQS.OP (JSON 1.0) or AWSEvents.OP (JSON 1.1), retried as the
 * standard mode says, and leaves a 2xx response body in *out (reset
 * first).  wait_s is the long poll the request may legitimately take
 * (added to the request timeout).  0, or a status as above.  A stop
 * request (core/sig's sig_stop) ends a backoff at once (the last failure
 * is returned) and a long poll within a second (answered "{}": nothing
 * received); other requests are finished. */
int aws_call(struct aws_client *c, const char *op, const char *body, size_t n, int wait_s,
    struct buf *out, struct ev_err *e);

/* ---- SQS (aws_sqs.c) ---- */

struct aws_sqs;
/* Opens the queue named by uri (aws_is_uri): the configuration is
 * resolved here (77 without credentials, 2 without a region or with a bad
 * URI), the connection made by the first call.  A sqs:// URI on an
 * endpoint other than AWS's learns its QueueUrl by GetQueueUrl on first
 * use.  Another thread takes its own handle (and connection) with
 * aws_sqs_dup, which shares q's configuration: close the dups first. */
int aws_sqs_open(const char *uri, const char *endpoint_url, struct aws_sqs **qp,
    struct ev_err *e);
int aws_sqs_dup(struct aws_sqs *q, struct aws_sqs **qp, struct ev_err *e);
void aws_sqs_close(struct aws_sqs *q);
/* The QueueUrl (GetQueueUrl when not known yet) and the queue's ARN
 * (arn:aws:sqs:REGION:ACCOUNT:NAME). */
int aws_sqs_url(struct aws_sqs *q, const char **url, struct ev_err *e);
const char *aws_sqs_arn(struct aws_sqs *q);
const char *aws_sqs_region(struct aws_sqs *q);

/* One message to send, and what became of it.  attrs is the
 * MessageAttributes object in SQS's JSON shape
 * ({"k":{"DataType":"String","StringValue":"v"}}) and size counts its
 * bytes toward the 1 MiB limit; attrs_md5 (or NULL) is checked against
 * MD5OfMessageAttributes. */
struct aws_sqs_out {
	const char *body;
	size_t len;
	const char *attrs, *attrs_md5;
	const char *group, *dedup, *trace;	/* NULL: none */
	int delay_s;				/* -1: the queue's */
	/* results */
	int status;			/* 0 sent, -1 not attempted, else SPEC status */
	char id[128];			/* MessageId */
	char seq[64];			/* SequenceNumber (FIFO), else "" */
	char why[512];			/* "CODE: message" when status > 0 */
};
/* Sends o[0..n) by SendMessageBatch, in requests of at most 10 entries and
 * 1 MiB, checking each MD5OfMessageBody; per-entry failures the server
 * calls retryable (SenderFault false, or a throttling code) are sent again
 * within the retry budget.  Each entry's status says what happened to it;
 * a message over 1 MiB (body and attributes) or with an empty body is 65
 * and never sent.  Returns 0 when every entry was sent, else the status
 * of the first entry that failed (e says "SendMessageBatch: entry N:
 * why"); after a whole request's failure (66, 69, 77...) its entries
 * have that status and the later ones stay -1 (not sent). */
int aws_sqs_send(struct aws_sqs *q, struct aws_sqs_out *o, size_t n, struct ev_err *e);

/* A received message; strings are NUL-terminated copies in one
 * allocation (aws_sqs_msg_clear frees it: never free a member).  attrs is the
 * system Attributes object, msg_attrs the MessageAttributes object (raw
 * JSON text, NULL when absent). */
struct aws_sqs_msg {
	char *id, *receipt, *body;
	size_t len;
	char *attrs, *msg_attrs, *msg_attrs_md5;
};
struct aws_sqs_recv {
	int max;			/* MaxNumberOfMessages 1-10 */
	int visibility_s;		/* -1: the queue's */
	int wait_s;			/* 0-20; -1: the queue's ReceiveMessageWaitTimeSeconds */
};
/* ReceiveMessage with every system and message attribute.  Each body's
 * MD5OfBody and each MessageAttributes' MD5 are checked (70 on a
 * mismatch: the messages return after their visibility timeout).
 * *m is NULL and *n 0 when nothing came. */
int aws_sqs_receive(struct aws_sqs *q, const struct aws_sqs_recv *r, struct aws_sqs_msg **m,
    size_t *n, struct ev_err *e);
void aws_sqs_msgs_free(struct aws_sqs_msg *m, size_t n);
/* Frees one message's strings and zeroes it. */
void aws_sqs_msg_clear(struct aws_sqs_msg *m);

/* A receipt handle to delete or to change the visibility of, and the
 * outcome (status 0 done, -1 not attempted, else why). */
struct aws_sqs_ack {
	const char *receipt;
	int visibility_s;		/* ChangeMessageVisibilityBatch only */
	int status;
	char why[512];
};
/* DeleteMessageBatch / ChangeMessageVisibilityBatch over a[0..n), in
 * requests of 10, per-entry retryable failures retried.  0, or the first
 * failure's status as aws_sqs_send. */
int aws_sqs_delete(struct aws_sqs *q, struct aws_sqs_ack *a, size_t n, struct ev_err *e);
int aws_sqs_change_visibility(struct aws_sqs *q, struct aws_sqs_ack *a, size_t n,
    struct ev_err *e);

/* The admin calls.  attrs is a JSON object of attribute name to string
 * value (SQS's Attributes), or NULL. */
int aws_sqs_create(struct aws_sqs *q, const char *attrs, struct ev_err *e);
/* GetQueueAttributes (All): the Attributes object's JSON into *out. */
int aws_sqs_get_attrs(struct aws_sqs *q, struct buf *out, struct ev_err *e);
int aws_sqs_set_attrs(struct aws_sqs *q, const char *attrs, struct ev_err *e);
int aws_sqs_purge(struct aws_sqs *q, struct ev_err *e);
int aws_sqs_delete_queue(struct aws_sqs *q, struct ev_err *e);
/* ListQueues (every page): the queue URLs whose name starts with prefix
 * (NULL: all), NUL-separated in *out, their number in *n. */
int aws_sqs_list(struct aws_sqs *q, const char *prefix, struct buf *out, size_t *n,
    struct ev_err *e);
/* StartMessageMoveTask from this queue (a DLQ) to dest_arn (NULL: each
 * message's source); rate 0: the server's.  The TaskHandle into *out.  A
 * server without it (fauxqs) answers InvalidAction, 65 here with
 * "InvalidAction" in e: the caller moves by receive-and-send instead. */
int aws_sqs_move(struct aws_sqs *q, const char *dest_arn, int rate, struct buf *out,
    struct ev_err *e);

/* ---- Trace context (aws_trace.c, SPEC 6) ---- */

/* The trace id the event ev[0..n) carries, as an X-Ray header
 * ("Root=1-...;Parent=...;Sampled=...") into *out (reset first): the
 * SQS system attribute AWSTraceHeader of a Lambda SQS record
 * (.attributes.AWSTraceHeader), an X-Amzn-Trace-Id header of an HTTP
 * event (.headers, any case), else a W3C / CloudEvents traceparent
 * (.traceparent) converted; in a batch ({"Records":[...]}), the first
 * record's.  1 found, 0 none (or not well formed). */
int aws_trace_find(const char *ev, size_t n, struct buf *out);

/* MD5OfMessageAttributes of a MessageAttributes object in SQS's JSON
 * shape (names sorted, each length-prefixed, Binary values decoded):
 * 0, or 65 for an attribute this algorithm cannot encode. */
int aws_sqs_attrs_md5(const char *json, size_t n, char out[33], struct ev_err *e);

/* ---- EventBridge (aws_events.c) ---- */

/* An event bus, events://REGION/BUS (requests to AWS_ENDPOINT_URL_EVENTS,
 * AWS_ENDPOINT_URL, the profile's endpoint_url, else
 * https://events.REGION.amazonaws.com; configuration as for SQS). */
struct aws_events;
int aws_events_open(const char *uri, const char *endpoint_url, struct aws_events **bp,
    struct ev_err *e);
void aws_events_close(struct aws_events *b);
const char *aws_events_bus(const struct aws_events *b);

/* One PutEvents entry and its fate.  detail is a JSON object's text (sent
 * as a string), resources a JSON array of ARNs or NULL. */
struct aws_events_entry {
	const char *source, *detail_type, *detail;
	size_t detail_len;
	const char *resources;
	int64_t time_ms;		/* -1: the time of the call */
	const char *trace;		/* TraceHeader, or NULL */
	const char *bus;		/* set by aws_events_put */
	/* results */
	int status;			/* as aws_sqs_out's */
	char id[128];			/* EventId */
	char why[512];
};
/* PutEvents of en[0..n) on the bus, in requests of 10 entries and 1 MiB;
 * entries failed with InternalFailure or ThrottlingException are sent
 * again within the retry budget (then 69 or 75), others get the status
 * of their ErrorCode (AccessDeniedException and NotAuthorizedFor* 77, the
 * rest 65).  Returns as
 * aws_sqs_send. */
int aws_events_put(struct aws_events *b, struct aws_events_entry *en, size_t n,
    struct ev_err *e);

/* Message attributes between the Lambda shape queue/ renders and
 * envelopes carry ({"k":{"stringValue":"v",...,"dataType":"String"}})
 * and SQS's JSON shape ({"k":{"DataType":"String","StringValue":"v"}}):
 * the converted object into *out (reset first); 0 or 65. */
int aws_sqs_attrs_from_lambda(const char *json, struct buf *out, struct ev_err *e);
int aws_sqs_attrs_to_lambda(const char *json, struct buf *out, struct ev_err *e);

#endif
