/* sqs_int — the SQS service's parts: the request's JSON, the open
 * queues, errors in SQS's shapes, and the actions (sqs_msg.c,
 * sqs_admin.c). */
#ifndef EVKIT_SERVE_SQS_INT_H
#define EVKIT_SERVE_SQS_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "queue/queue.h"
#include "svc.h"

/* A ReceiveMessage of the turn, done with the others on its queue. */
struct sqs_recvp {
	struct serve_call *c;
	const char *p;		/* its request (the call's, alive until answered) */
	size_t n;
	char *base;
	long long max, vis, wait;
	struct sqs_recvp *next;
};

/* A send answered once its transaction commits. */
struct sqs_pend {
	struct serve_call *c;
	struct buf out;
	struct sqs_pend *next;
};

/* An open queue, kept across requests while its file stays the same.
 * The sends of one loop turn share one transaction (one fsync), and its
 * deletes one q_delete, done by the tick, or before any other call on the
 * queue; their answers wait for it. */
struct sqs_q {
	int tx;			/* a send transaction is open */
	struct q_msg *dels;	/* deletes of the turn, done in one q_delete */
	size_t ndel, capdel;
	struct sqs_pend *pend, **pend_tail;
	struct sqs_recvp *recvs, **recvs_tail;
	char *name;
	struct queue *q;
	dev_t dev;
	ino_t ino;
};

/* A ReceiveMessage long poll, re-tried on a timer and on a send here. */
struct sqs_wait {
	struct serve_call *c;
	char *name, *base;
	struct buf body;	/* the request, kept to run again */
	int64_t deadline;
	struct sqs_wait *next;
};

struct sqs {
	struct serve *s;
	struct sqs_q **qs;
	size_t nq, capq;
	struct sqs_wait *waits;
	int dirty;		/* a send here: try the waiters now */
	int sending;		/* in a send, delete or receive: the queue's
				 * pending work waits for the tick */
};

/* One request: its call, body and the base URL of its QueueUrls. */
struct sqs_call {
	struct sqs *x;
	struct serve_call *c;
	const char *p;		/* the request's JSON */
	size_t n;
	const char *base;
};

/* ---- the request's members (the object at p[0]) ---- */
/* A string member into out: 1; 0 absent or null; -1 another type. */
int sqs_str(const struct sqs_call *k, const char *key, struct buf *out);
/* A whole number member into *v: 1; 0 absent; -1 not a number. */
int sqs_int(const struct sqs_call *k, const char *key, long long *v);
/* The member's value's start in k->p, or (size_t)-1. */
size_t sqs_member(const struct sqs_call *k, const char *key);

/* ---- answers ---- */
/* SQS's error: __type "com.amazonaws.sqs#TYPE", x-amzn-query-error
 * QCODE (NULL: "AWS.SimpleQueueService.TYPE"). */
void sqs_fail(const struct sqs_call *k, const char *type, const char *qcode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sqs_missing(const struct sqs_call *k, const char *param);
void sqs_invalid(const struct sqs_call *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The lib's error answered: 66 QueueDoesNotExist, 2 and 65 invalid
 * values, 75 throttled, the rest an internal error. */
void sqs_fail_err(const struct sqs_call *k, int rc, const struct ev_err *e);
void sqs_url(const struct sqs_call *k, const char *name, struct buf *b);

/* ---- queues ---- */
/* The queue of the request's QueueUrl: NULL when answered (missing,
 * unknown). */
struct sqs_q *sqs_queue(const struct sqs_call *k);
/* The queue named name, opened (or cached): 0, or the lib's status. */
int sqs_open(struct sqs *x, const char *name, struct sqs_q **qp, struct ev_err *e);
/* The queue's open send transaction committed, its deletes done, and
 * their calls answered. */
void sqs_commit(struct sqs *x, struct sqs_q *c);
/* The queue's open send transaction rolled back, its sends answered 500. */
void sqs_abort(struct sqs_q *c, const struct ev_err *e);
/* Answers call with out (taken) once c's transaction commits. */
/* Deletes m (a receipt handle's message) with the turn's others. */
void sqs_defer_delete(struct sqs_q *c, const struct q_msg *m);
void sqs_defer(struct sqs *x, struct sqs_q *c, struct serve_call *call, struct buf *out);
/* Forgets a queue (deleted). */
void sqs_forget(struct sqs *x, const char *name);
/* The queue name of a QueueUrl or an ARN, checked: NULL if none. */
const char *sqs_name_of(const char *url_or_arn, char *name, size_t n);

/* ---- the actions ---- */
void sqs_send(const struct sqs_call *k);
void sqs_send_batch(const struct sqs_call *k);
/* 1 when answered, 0 nothing to receive yet (a long poll waits). */
int sqs_receive(const struct sqs_call *k, int last_try);
/* ReceiveMessage's parameters checked (0: answered), WaitTimeSeconds
 * defaulted to the queue's. */
int sqs_receive_params(const struct sqs_call *k, struct sqs_q *c, long long *max,
    long long *vis, long long *wait);
/* Answers k with the messages m[0..n). */
void sqs_answer_msgs(const struct sqs_call *k, const struct q_msg *m, size_t n);
void sqs_receive_call(const struct sqs_call *k);
void sqs_delete(const struct sqs_call *k);
void sqs_delete_batch(const struct sqs_call *k);
void sqs_visibility(const struct sqs_call *k);
void sqs_visibility_batch(const struct sqs_call *k);
void sqs_create(const struct sqs_call *k);
void sqs_get_url(const struct sqs_call *k);
void sqs_list(const struct sqs_call *k);
void sqs_get_attrs(const struct sqs_call *k);
void sqs_set_attrs(const struct sqs_call *k);
void sqs_purge(const struct sqs_call *k);
void sqs_delete_queue(const struct sqs_call *k);
void sqs_move(const struct sqs_call *k);
void sqs_tag(const struct sqs_call *k);
/* The map member key_name of the request added to c's tags: 0, or -1
 * answered (an invalid tag, too many, a failure). */
int sqs_put_tags(const struct sqs_call *k, struct sqs_q *c, const char *key_name);
void sqs_untag(const struct sqs_call *k);
void sqs_list_tags(const struct sqs_call *k);

/* Batch entries: checks Entries (empty, over 10, ids); calls fn for
 * each entry (ek: the call with the entry's object as its request) with the Successful / Failed arrays
 * to append to, then done (when not NULL: the entries' one transaction),
 * then answers. */
struct sqs_batch {
	struct buf ok, failed;
	size_t nok, nfailed;
	struct sqs_q *defer_to;	/* answered once its transaction commits */
};
void sqs_batch(const struct sqs_call *k, void (*fn)(const struct sqs_call *ek, const char *id,
    struct sqs_batch *b, void *ctx),
    void (*done)(const struct sqs_call *k, struct sqs_batch *b, void *ctx), void *ctx);
/* Appends a failed entry. */
void sqs_batch_fail(struct sqs_batch *b, const char *id, int sender, const char *code,
    const char *msg);
void sqs_batch_ok_begin(struct sqs_batch *b, const char *id);

#endif
