/* queue — SQS semantics on one machine: one SQLite database (WAL) per
 * queue, safe for any number of producer and consumer processes.
 *
 * Every call that writes runs in one BEGIN IMMEDIATE transaction with a
 * busy timeout.  State is columns: visible_at (ms; in the future means
 * delayed or leased), receives, and a random receipt token that is new on
 * every receive and fences stale handles.  Commands see only the opaque
 * struct queue and these calls, in SQS's terms (send, receive with a
 * lease, delete, change visibility).  A QUEUE that is a URI (sqs://,
 * http://, https://: aws_is_uri) is a remote queue on Amazon SQS or a
 * server speaking its protocol, behind the same calls (queue_sqs.c says
 * what each one means there). */
#ifndef EVKIT_QUEUE_H
#define EVKIT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;
struct buf;

/* Attributes, in SQS's names, units and ranges (ms where SQS says s). */
struct q_attrs {
	int64_t visibility_ms;		/* VisibilityTimeout 0–43200 s, default 30 */
	int64_t delay_ms;		/* DelaySeconds 0–900, default 0 */
	int64_t retention_ms;		/* MessageRetentionPeriod 60–1209600 s, default 4 days */
	int64_t wait_ms;		/* ReceiveMessageWaitTimeSeconds 0–20, default 0 */
	long max_bytes;			/* MaximumMessageSize 1024–1048576, default 1 MiB */
	int fifo;			/* FifoQueue, set at creation only */
	int content_dedup;		/* ContentBasedDeduplication (FIFO) */
	int max_receives;		/* RedrivePolicy maxReceiveCount; 0 = no policy */
	char dlq[4096];			/* RedrivePolicy dead-letter target as given */
	int64_t created_ms, modified_ms;
};

/* The one table of attributes (queue_attr.c): each one's SQS name, kind,
 * place in struct q_attrs, range and default in SQS's units, and unit. */
enum { QA_SECONDS, QA_LONG, QA_BOOL, QA_INT, QA_TEXT, QA_MS };
enum { QA_SETTABLE = 1 };		/* `evq-ctl set NAME=VALUE` takes it */
struct q_attr_def {
	const char *name;
	int kind;
	size_t off;
	long long min, max, def;
	const char *unit;
	int flags;
};
extern const struct q_attr_def q_attr_table[];	/* ends with a NULL name */
const struct q_attr_def *q_attr_def(const char *name);
/* The attribute's value in SQS's units (seconds, bytes, 0 or 1). */
long long q_attr_get(const struct q_attrs *a, const struct q_attr_def *d);
void q_attrs_default(struct q_attrs *a, int fifo);
/* 1 if x and y agree on every attribute a user sets. */
int q_attrs_same(const struct q_attrs *x, const struct q_attrs *y);

/* One message to send. */
struct q_out {
	const char *body;
	size_t len;
	const char *group;		/* MessageGroupId or NULL */
	const char *dedup;		/* MessageDeduplicationId or NULL */
	int64_t delay_ms;		/* -1: the queue's DelaySeconds */
	const char *attrs;		/* messageAttributes JSON (Lambda shape) or NULL */
	const char *attrs_md5;		/* MD5OfMessageAttributes when attrs */
	/* The ids' lengths in bytes, 0 for strlen: an id is its exact bytes,
	 * so ids that differ only after a NUL stay distinct. */
	size_t group_len, dedup_len;
	const char *trace;		/* AWSTraceHeader to carry (remote), or NULL */
};

/* What a send reports: on a FIFO duplicate, the original's id and number. */
struct q_sent {
	char id[37];
	char seq[21];			/* SequenceNumber, FIFO only ("" otherwise) */
	int duplicate;
	const char *refused;		/* why the message was refused, or NULL */
};

/* A received message; its strings live until the next receive. */
struct q_msg {
	int64_t rowid, receipt;
	char id[37];
	char handle[64];		/* receipt handle: "<rowid>.<receipt hex>" */
	const char *body;
	size_t len;
	int64_t sent_ms, first_ms;
	long receives;
	const char *group, *dedup, *attrs, *attrs_md5, *src;
	size_t group_len, dedup_len;	/* the ids' bytes (they may hold a NUL) */
	char seq[21];
	/* A remote queue's: its receipt handle (handle is "" then) and the
	 * server's system attributes object (JSON); NULL locally. */
	const char *rhandle, *sys_attrs;
};
/* The message's receipt handle, local or remote. */
const char *q_msg_handle(const struct q_msg *m);

enum { Q_OPEN = 0, Q_CREATE = 1 };

/* Every call that can fail keeps the error contract (core/err.h): it
 * returns 0, or the SPEC status after filling *e (66 no such queue, 65 not
 * a queue, 74 I/O or full disk, 75 lock timeout, 2 an invalid attribute),
 * and a write that failed changed nothing.  Only out of memory dies. */
struct ev_err;

/* Opens QUEUE (a name under $EVKIT_HOME/queues or a path) into *qp.  With
 * Q_CREATE a missing queue is created with *init (or defaults, FIFO for a
 * .fifo name). */
int q_open(const char *arg, int flags, const struct q_attrs *init, struct queue **qp,
    struct ev_err *e);
/* What a remote queue's open needs: the --endpoint-url (NULL: the
 * environment's or the URI's own host, aws.h). */
struct q_open_opts {
	const char *endpoint_url;
	int replicas;		/* nats://: the stream's replicas at creation (0: 1) */
};
int q_open_with(const char *arg, int flags, const struct q_attrs *init,
    const struct q_open_opts *o, struct queue **qp, struct ev_err *e);
/* 1 for a remote queue (SQS). */
int q_is_remote(const struct queue *q);
void q_close(struct queue *q);
const struct q_attrs *q_attrs(struct queue *q);
const char *q_name(const struct queue *q);	/* name as given by the user */
const char *q_path(const struct queue *q);	/* the database file */
/* "arn:aws:sqs:REGION:000000000000:NAME" (static storage per queue). */
const char *q_arn(const struct queue *q);

/* Sending: add messages, then commit them all at once.  q_send_add
 * returns 0 when it handled the message: added, a FIFO duplicate
 * (sent->duplicate), or refused for itself (sent->refused says why, and
 * nothing was added; the batch goes on).  A failure of the queue rolls
 * the whole uncommitted batch back. */
int q_send_begin(struct queue *q, struct ev_err *e);
int q_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e);
int q_send_commit(struct queue *q, struct ev_err *e);
void q_send_rollback(struct queue *q);
int q_send_active(const struct queue *q);
/* A remote queue knows a message's id only once the server took it:
 * q_send_add leaves sent->id "" there, and fn is called for each message
 * the server acknowledged (within q_send_add, when a full batch of 10
 * goes out, or q_send_commit).  A local queue never calls fn. */
void q_send_on_sent(struct queue *q, void (*fn)(void *ctx, const struct q_sent *sent,
    const char *body, size_t len), void *ctx);

/* Leases up to max visible messages past after_rowid (0: from the start;
 * a receiver passes the last rowid it got, so one run never sees a
 * message twice) for lease_ms (-1: VisibilityTimeout) into out[], and
 * their number into *n; poison messages are moved to the dead-letter
 * queue and expired ones dropped on the way. */
int q_receive(struct queue *q, int64_t after_rowid, size_t max, int64_t lease_ms,
    struct q_msg *out, size_t *n, struct ev_err *e);
/* Consume mode: like q_receive with the queue's VisibilityTimeout, but one
 * claim leases each run of consecutive messages, so no message is
 * rewritten.  With Q_BODY_ONLY, out[] holds only rowid, body and counts
 * (for receivers that print bodies).  End it with q_consume_done(). */
enum { Q_BODY_ONLY = 1 };
int q_consume(struct queue *q, int64_t after_rowid, size_t max, int flags, struct q_msg *out,
    size_t *n, struct ev_err *e);
/* Deletes the first delivered messages of the last q_consume (out as it
 * filled it) and makes the rest visible again, their receive not counted.
 * *deleted is how many it deleted: fewer when a lease ran out first. */
int q_consume_done(struct queue *q, const struct q_msg *out, size_t delivered, size_t *deleted,
    struct ev_err *e);
/* How long consume mode holds the messages it is printing: the
 * VisibilityTimeout, but at least Q_CONSUME_MIN_MS, so that a queue whose
 * timeout is 0 still has what was printed deleted (SQS deletes by the
 * receipt handle even after the timeout). */
enum { Q_CONSUME_MIN_MS = 1000 };	/* SQS counts whole seconds */
int64_t q_consume_hold_ms(const struct queue *q);
/* Renews the lease of the last q_consume's messages for another
 * VisibilityTimeout (a receiver still waiting for its reader); *held is
 * 0 when it had already run out. */
int q_consume_extend(struct queue *q, int *held, struct ev_err *e);
/* Reads up to max visible messages past after_rowid (0: from the start)
 * without changing anything. */
int q_peek(struct queue *q, int64_t after_rowid, size_t max, struct q_msg *out, size_t *n,
    struct ev_err *e);

/* Ends leases.  *done (when not NULL) is the number of messages changed,
 * and ok[i] (when ok is not NULL) whether m[i] changed; a handle whose
 * lease expired (or was replaced by a newer receive) changes nothing. */
int q_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok, size_t *done,
    struct ev_err *e);
/* Visible again after delay_ms.  undeliver: the messages never reached
 * anyone (a closed pipe), so their receive is not counted. */
int q_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms, int undeliver,
    unsigned char *ok, size_t *done, struct ev_err *e);
/* What the last call did that its caller should tell the user (poison
 * messages kept because their dead-letter queue is missing), once; or
 * NULL. */
const char *q_notice(struct queue *q);
/* Parses a receipt handle; 0 on success. */
int q_parse_handle(const char *s, int64_t *rowid, int64_t *receipt);

/* Waits until a message may be visible, something changed, a signal
 * arrived, or deadline (monotonic ms; -1 = forever) passes.  Wakes within
 * ~100 ms of a send.  With watch_fd >= 0 it also returns when that fd
 * reports an error or hang-up (the reader of stdout left). */
void q_wait(struct queue *q, int64_t deadline);
void q_wait_fd(struct queue *q, int64_t deadline, int watch_fd);

/* Queue administration. */
struct q_stat {
	long visible, in_flight, delayed;
};
int q_stat(struct queue *q, struct q_stat *st, struct ev_err *e);
/* GetQueueAttributes' answer: counts, attributes, policy, times. */
void q_stat_json(struct queue *q, const struct q_stat *st, struct buf *b);
/* Sets one attribute by its SQS name (an invalid one: 2). */
int q_set(struct queue *q, const char *name, const char *value, struct ev_err *e);
int q_purge(struct queue *q, long *purged, struct ev_err *e);
/* Moves messages from this dead-letter queue back to their source queues,
 * or to dest when not NULL, as new messages; *moved counts them, *kept
 * those that name no source queue (they stay).  Into itself: 2. */
int q_redrive(struct queue *q, const char *dest, long *moved, long *kept, struct ev_err *e);
/* Removes the queue's files (a URI: DeleteQueue). */
int q_remove(const char *arg, struct ev_err *e);
/* Deletes the queue q names and closes q. */
int q_drop(struct queue *q, struct ev_err *e);
/* Calls fn for each queue under $EVKIT_HOME/queues, in name order (no
 * home: 2). */
int q_list(void (*fn)(const char *name, const char *path, void *ctx), void *ctx, struct ev_err *e);
/* ListQueues at a remote URI (sqs://REGION/ACCOUNT/[PREFIX] or
 * http(s)://HOST/ACCOUNT/[PREFIX]): fn gets each queue's name and URL. */
int q_list_remote(const char *uri, const struct q_open_opts *o,
    void (*fn)(const char *name, const char *url, void *ctx), void *ctx, struct ev_err *e);

/* Tags (SQS's TagQueue), kept in a local queue's database; a remote
 * queue keeps none here (2).  q_tag adds or replaces t[0..n) all at once:
 * a key of 0 or over Q_TAG_KEY_MAX characters, a value over
 * Q_TAG_VALUE_MAX, or over Q_TAGS_MAX tags in all is 2 and changes
 * nothing (e->msg is SQS's text).  q_untag removes the tags of keys[0..n)
 * (a key with none is no error); q_tags calls fn for each, in key order. */
enum { Q_TAGS_MAX = 50, Q_TAG_KEY_MAX = 128, Q_TAG_VALUE_MAX = 256 };
struct q_tag {
	const char *key, *value;
};
int q_tag(struct queue *q, const struct q_tag *t, size_t n, struct ev_err *e);
int q_untag(struct queue *q, const char *const *keys, size_t n, struct ev_err *e);
int q_tags(struct queue *q, void (*fn)(const char *key, const char *value, void *ctx), void *ctx,
    struct ev_err *e);

/* Validates and renders --attr NAME[:TYPE]=VALUE options into the Lambda
 * messageAttributes JSON and its MD5 (SQS's algorithm); *size is what
 * SQS counts toward MaximumMessageSize.  A bad spec: 2. */
int q_attrs_render(char *const *specs, int n, char **json, char md5[33], long *size,
    struct ev_err *e);

/* Appends the message as an AWS Lambda SQS event record (the shape a
 * Lambda handler written for SQS triggers receives). */
void q_envelope(struct queue *q, const struct q_msg *m, struct buf *b);

#endif
