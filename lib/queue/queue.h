/* queue — SQS semantics on one machine: one SQLite database (WAL) per
 * queue, safe for any number of producer and consumer processes.
 *
 * Every call that writes runs in one BEGIN IMMEDIATE transaction with a
 * busy timeout.  State is columns: visible_at (ms; in the future means
 * delayed or leased), receives, and a random receipt token that is new on
 * every receive and fences stale handles.  Commands see only the opaque
 * struct queue and these calls, in SQS's terms (send, receive with a
 * lease, delete, change visibility): the seam where remote queues (SQS
 * over HTTP, NATS JetStream) will slot in behind the same commands. */
#ifndef EVKIT_QUEUE_H
#define EVKIT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;

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

/* One message to send. */
struct q_out {
	const char *body;
	size_t len;
	const char *group;		/* MessageGroupId or NULL */
	const char *dedup;		/* MessageDeduplicationId or NULL */
	int64_t delay_ms;		/* -1: the queue's DelaySeconds */
	const char *attrs;		/* messageAttributes JSON (Lambda shape) or NULL */
	const char *attrs_md5;		/* MD5OfMessageAttributes when attrs */
};

/* What a send reports: on a FIFO duplicate, the original's id and number. */
struct q_sent {
	char id[37];
	char seq[21];			/* SequenceNumber, FIFO only ("" otherwise) */
	int duplicate;
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
	char seq[21];
};

enum { Q_OPEN = 0, Q_CREATE = 1 };

/* Opens QUEUE (a name under $EVKIT_HOME/queues or a path).  With Q_CREATE
 * a missing queue is created with *init (or defaults, FIFO for a .fifo
 * name).  Dies with a clear message and the SPEC status on failure: 66 no
 * such queue, 65 not a queue, 74 I/O, 75 lock timeout. */
struct queue *q_open(const char *arg, int flags, const struct q_attrs *init);
void q_close(struct queue *q);
const struct q_attrs *q_attrs(struct queue *q);
const char *q_name(const struct queue *q);	/* name as given by the user */
const char *q_path(const struct queue *q);	/* the database file */
/* "arn:aws:sqs:REGION:000000000000:NAME" (static storage per queue). */
const char *q_arn(const struct queue *q);

/* Sending: add messages, then commit them all at once.  q_send_add
 * returns 0, or -1 with a reason in *why (the message is not added). */
void q_send_begin(struct queue *q);
int q_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, const char **why);
void q_send_commit(struct queue *q);
void q_send_rollback(struct queue *q);
int q_send_active(const struct queue *q);

/* Leases up to max visible messages past after_rowid (0: from the start;
 * a receiver passes the last rowid it got, so one run never sees a
 * message twice) for lease_ms (-1: VisibilityTimeout) into out[]; poison
 * messages are moved to the dead-letter queue and expired ones dropped on
 * the way.  Returns the number leased. */
size_t q_receive(struct queue *q, int64_t after_rowid, size_t max, int64_t lease_ms,
    struct q_msg *out);
/* Consume mode: like q_receive with the queue's VisibilityTimeout, but one
 * claim leases each run of consecutive messages, so no message is
 * rewritten.  With Q_BODY_ONLY, out[] holds only rowid, body and counts
 * (for receivers that print bodies).  End it with q_consume_done(). */
enum { Q_BODY_ONLY = 1 };
size_t q_consume(struct queue *q, int64_t after_rowid, size_t max, int flags, struct q_msg *out);
/* Deletes the first delivered messages of the last q_consume (out as it
 * filled it) and makes the rest visible again, their receive not counted.
 * Returns how many it deleted: fewer when a lease ran out first. */
size_t q_consume_done(struct queue *q, const struct q_msg *out, size_t delivered);
/* Reads up to max visible messages past after_rowid (0: from the start)
 * without changing anything. */
size_t q_peek(struct queue *q, int64_t after_rowid, size_t max, struct q_msg *out);

/* Ends leases.  Each returns the number of messages it changed, and sets
 * ok[i] (when ok is not NULL) to whether m[i] changed; a handle whose
 * lease expired (or was replaced by a newer receive) changes nothing. */
size_t q_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok);
/* Visible again after delay_ms.  undeliver: the messages never reached
 * anyone (a closed pipe), so their receive is not counted. */
size_t q_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms, int undeliver,
    unsigned char *ok);
/* Parses a receipt handle; 0 on success. */
int q_parse_handle(const char *s, int64_t *rowid, int64_t *receipt);

/* Waits until a message may be visible, something changed, a signal
 * arrived, or deadline (monotonic ms; -1 = forever) passes.  Wakes within
 * ~100 ms of a send. */
void q_wait(struct queue *q, int64_t deadline);

/* Queue administration. */
struct q_stat {
	long visible, in_flight, delayed;
};
void q_stat(struct queue *q, struct q_stat *st);
/* Sets one attribute by its SQS name; 0, or -1 with a reason in *why. */
int q_set(struct queue *q, const char *name, const char *value, const char **why);
long q_purge(struct queue *q);
/* Moves messages from this dead-letter queue back to their source queues,
 * or to dest when not NULL, as new messages.  Returns how many moved. */
long q_redrive(struct queue *q, const char *dest);
/* Removes the queue's files; 0, or -1 with errno. */
int q_remove(const char *arg);
/* Calls fn for each queue under $EVKIT_HOME/queues, in name order. */
void q_list(void (*fn)(const char *name, const char *path, void *ctx), void *ctx);

/* Validates and renders --attr NAME[:TYPE]=VALUE options into the Lambda
 * messageAttributes JSON and its MD5 (SQS's algorithm).  Returns the
 * size SQS counts toward MaximumMessageSize, or -1 with *why. */
long q_attrs_render(char *const *specs, int n, char **json, char md5[33], const char **why);

/* Appends the message as an AWS Lambda SQS event record (the shape a
 * Lambda handler written for SQS triggers receives). */
struct buf;
void q_envelope(struct queue *q, const struct q_msg *m, struct buf *b);

#endif
