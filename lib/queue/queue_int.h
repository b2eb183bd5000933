/* queue_int — what the queue_*.c files share; not for commands. */
#ifndef EVKIT_QUEUE_IMPL_H
#define EVKIT_QUEUE_IMPL_H

#include <sqlite3.h>

#include "core/buf.h"
#include "aws/aws.h"
#include "nats/nats.h"
#include "core/err.h"
#include "queue.h"

enum {
	QUEUE_APP_ID = 0x65764b51,	/* "evKQ": marks a file as an evkit queue */
	QUEUE_SCHEMA = 1,
	DEDUP_WINDOW_MS = 5 * 60 * 1000,
	MOVED_KEEP_MS = 14LL * 24 * 3600 * 1000,	/* longest retention */
};

struct idlist {
	int64_t *v;
	size_t n, cap;
};
void ids_add(struct idlist *l, int64_t id);

/* Cached prepared statements. */
enum {
	ST_INSERT, ST_DEDUP_GET, ST_DEDUP_PUT, ST_SCAN, ST_CLAIM, ST_PEEK,
	ST_DELETE, ST_RELEASE, ST_UNDELIVER, ST_EXPIRE_ONE, ST_ATTRS,
	ST_MOVED_PUT, ST_INSERT_MOVED, ST_DELETE_MOVED, ST_CLAIMS, ST_REAP, ST_UNCLAIM,
	ST_CLAIM_RUN, ST_SCAN_FULL, ST_SCAN_BODY, ST_UNCLAIM_LIVE, ST_DELETE_RUN, ST_COUNT
};

struct queue {
	sqlite3 *db;
	char *arg, *path, *name;
	char arn[256];
	struct q_attrs a;
	int in_send;
	sqlite3_stmt *st[ST_COUNT];
	struct buf arena;		/* received messages' strings */
	int64_t data_version;
	int ino_fd;			/* inotify on the queue's directory, or -1 */
	int64_t next_visible;		/* earliest future visible_at seen, or 0 */
	struct idlist runs;		/* the last q_consume's claimed runs: lo, hi pairs */
	int64_t run_token;
	/* The first failure of the call under way: once set, every qdb_ step
	 * fails at once, so nothing more touches the database until the
	 * public call rolls back and returns it (qdb_leave). */
	struct ev_err err;
	struct ev_err notice;		/* for q_notice(); code 1 while unread */
	/* A remote queue: its backend's operations (NULL: this file's
	 * SQLite) and state, SQS's (queue_sqs*.c) or NATS's (queue_nats*.c). */
	const struct q_ops *ops;
	struct qsqs *rs;
	struct qnats *rn;
};

/* What a remote backend does for each public call that has a remote
 * meaning (queue.h says what each means; the backends' files say how).
 * peek NULL: the backend cannot read without receiving (EV_USAGE). */
struct q_ops {
	const char *engine;		/* in messages: "SQS", "NATS" */
	void (*close)(struct queue *q);
	int (*send_add)(struct queue *q, const struct q_out *m, struct q_sent *sent,
	    struct ev_err *e);
	int (*send_commit)(struct queue *q, struct ev_err *e);
	void (*send_rollback)(struct queue *q);
	int (*send_active)(const struct queue *q);
	int (*receive)(struct queue *q, int64_t after, size_t max, int64_t lease_ms,
	    struct q_msg *out, size_t *n, struct ev_err *e);
	int (*consume)(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
	    struct ev_err *e);
	int (*consume_done)(struct queue *q, const struct q_msg *out, size_t delivered,
	    size_t *deleted, struct ev_err *e);
	int (*consume_extend)(struct queue *q, int *held, struct ev_err *e);
	int (*peek)(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
	    struct ev_err *e);
	int (*del)(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok,
	    size_t *done, struct ev_err *e);
	int (*release)(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms,
	    unsigned char *ok, size_t *done, struct ev_err *e);
	void (*wait)(struct queue *q, int64_t deadline);
	void (*envelope)(struct queue *q, const struct q_msg *m, struct buf *b);
	int (*stat)(struct queue *q, struct q_stat *st, struct ev_err *e);
	int (*set)(struct queue *q, const char *name, const char *value, struct ev_err *e);
	int (*purge)(struct queue *q, long *purged, struct ev_err *e);
	int (*redrive)(struct queue *q, const char *dest, long *moved, long *kept,
	    struct ev_err *e);
	int (*drop)(struct queue *q, struct ev_err *e);
};
extern const struct q_ops qsqs_ops, qnats_ops;

/* Records the first failure with the SPEC status for an SQLite error
 * (75 busy, 74 I/O or full disk, 65 not a queue, 70 otherwise), naming
 * the queue; returns the status. */
int qdb_fail(struct queue *q, int rc, const char *what);
/* Starts a public call (clears q->err); ends it: rolls back what is open
 * if anything failed, copies the failure to *e and returns its status. */
void qdb_enter(struct queue *q);
int qdb_leave(struct queue *q, struct ev_err *e);
int qdb_exec(struct queue *q, const char *sql);
/* The cached statement id, reset and with bindings cleared; NULL after a
 * failure. */
sqlite3_stmt *qdb_stmt(struct queue *q, int id, const char *sql);
/* A statement of its own (finalize it), or NULL after a failure. */
sqlite3_stmt *qdb_prepare(struct queue *q, const char *sql);
/* Steps s: 1 for a row, 0 when done, -1 on failure (recorded). */
int qdb_step(struct queue *q, sqlite3_stmt *s);
int qdb_begin(struct queue *q);
int qdb_commit(struct queue *q);
void qdb_rollback(struct queue *q);
/* Re-reads the attribute table into q->a (inside a transaction). */
int qdb_load_attrs(struct queue *q);


/* Moves poison messages (rowids in l) to the dead-letter queue.  Safe to
 * repeat after a crash at any point: the dead-letter queue remembers what
 * it took in (table moved), and the source deletes only afterwards. */
int qdl_move(struct queue *q, const struct idlist *l);
/* Copies the messages ids of q into dest in one transaction of dest:
 * keep_id keeps MessageId, send time and receive count (dead-lettering);
 * otherwise they go in as new messages (redrive).  Appends to done the
 * ids dest now holds (including ones it had taken in before). */
int qdl_copy(struct queue *q, const struct idlist *ids, struct queue *dest, int keep_id,
    struct idlist *done);
/* Opens a queue by reference into *qp; NULL there if it does not exist.
 * A failure is recorded in q->err. */
int qdb_try_open(struct queue *q, const char *ref, struct queue **qp);
/* How this queue is named in another queue's records: its name, or the
 * absolute path of its file. */
const char *qdb_ref(struct queue *q);
/* "arn:aws:sqs:REGION:000000000000:NAME" for a stored reference. */
void qdb_ref_arn(const char *ref, char *out, size_t n);
/* queue_attr.c: one stored attribute row into q->a (unknown names are
 * skipped); an attribute's stored text; one attribute set by name. */
int qattr_load(struct queue *q, const char *name, const char *value);
void qattr_text(const struct q_attrs *a, const struct q_attr_def *d, char *out, size_t n);
int qattr_set(struct q_attrs *a, const char *name, const char *value, struct ev_err *e);
int qdb_store_attrs(struct queue *q, const struct q_attrs *a);
/* A RedrivePolicy's JSON: its target (an ARN's last part) and
 * maxReceiveCount; -1 not an object, -2 a member missing or bad. */
int qadm_redrive_parse(const char *value, char target[4096], long long *max);
/* A RedrivePolicy attribute's value: "" removes the policy from a
 * (target comes back ""); else target and max as qadm_redrive_parse
 * gives them.  0, or EV_USAGE with e. */
int qadm_redrive_take(const char *value, struct q_attrs *a, char target[4096], long long *max,
    struct ev_err *e);

/* ---- queue_sqs.c, queue_sqs_recv.c: a remote queue (SQS) ---- */
struct pend {
	char *body, *group, *dedup, *attrs, *trace;
	size_t len;
	char attrs_md5[33];
	int delay_s;
};

struct qsqs {
	struct aws_sqs *s;
	struct pend pend[AWS_SQS_BATCH];
	size_t npend;
	int active;
	void (*on_sent)(void *ctx, const struct q_sent *sent, const char *body, size_t len);
	void *ctx;
	struct aws_sqs_msg *cur, *stash;	/* last receive; what a wait got */
	size_t ncur, nstash;
	char **lattrs;				/* cur's messageAttributes, Lambda shape */
	int last_vis, last_max;			/* the last receive's, for q_wait */
	int64_t seq;
	struct ev_err werr;			/* a failed q_wait, for the next call */
	struct buf stat;			/* the last GetQueueAttributes */
	char *endpoint_url;			/* as opened, for the queues redrive opens */
	/* The last message attributes converted to SQS's shape: a sender
	 * gives every message the same ones. */
	char *attrs_in, *attrs_out;
};

/* Opens arg (aws_is_uri) into q, whose rs it sets; with Q_CREATE and
 * init, a missing queue is created (CreateQueue). */
int qsqs_open(struct queue *q, const char *arg, int flags, const struct q_attrs *init,
    const char *endpoint_url, struct ev_err *e);
void qsqs_close(struct queue *q);
/* GetQueueAttributes into rs->stat and q->a. */
int qsqs_reload(struct queue *q, struct ev_err *e);
/* The string member key of the JSON object p[0..n) into *out (NUL
 * terminated); 0 if there is none. */
int qsqs_jstr(const char *p, size_t n, const char *key, struct buf *out);
/* Makes a[0..n) (n <= 10), received but never handed out, visible again
 * at once (a wait's stash beyond what was asked for, or left at close). */
void qsqs_give_back(struct qsqs *rs, struct aws_sqs_msg *a, size_t n);
void qsqs_drop_msgs(struct qsqs *rs);
int qsqs_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e);
int qsqs_send_commit(struct queue *q, struct ev_err *e);
void qsqs_send_rollback(struct queue *q);
int qsqs_send_active(const struct queue *q);
int qsqs_receive(struct queue *q, size_t max, int64_t lease_ms, struct q_msg *out, size_t *n,
    struct ev_err *e);
int qsqs_consume(struct queue *q, size_t max, struct q_msg *out, size_t *n, struct ev_err *e);
int qsqs_consume_done(struct queue *q, const struct q_msg *out, size_t delivered,
    size_t *deleted, struct ev_err *e);
int qsqs_consume_extend(struct queue *q, int *held, struct ev_err *e);
int qsqs_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok,
    size_t *done, struct ev_err *e);
int qsqs_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms,
    unsigned char *ok, size_t *done, struct ev_err *e);
void qsqs_wait(struct queue *q, int64_t deadline);
void qsqs_envelope(struct queue *q, const struct q_msg *m, struct buf *b);
/* The Lambda record's start, up to its "attributes" object closed: the
 * handle (NULL: null) and the dead-letter source's ARN (NULL: none) as
 * the backend knows them. */
void qmsg_envelope_head(const struct queue *q, const struct q_msg *m, const char *handle,
    const char *src_arn, struct buf *b);
/* A Lambda SQS record's end, both backends': ,"messageAttributes" to
 * "awsRegion" (region[0..rlen)) and the closing brace. */
void qmsg_envelope_end(const struct queue *q, const struct q_msg *m, const char *region,
    size_t rlen, struct buf *b);
int qsqs_stat(struct queue *q, struct q_stat *st, struct ev_err *e);
int qsqs_set(struct queue *q, const char *name, const char *value, struct ev_err *e);
int qsqs_purge(struct queue *q, long *purged, struct ev_err *e);
int qsqs_redrive(struct queue *q, const char *dest, long *moved, long *kept, struct ev_err *e);
int qsqs_drop(struct queue *q, struct ev_err *e);

/* ---- queue_nats*.c: a remote queue on NATS JetStream ---- */
struct npend {				/* a standard send awaiting its ack */
	char *body;
	size_t len;
	char id[37];
};

struct qnats {
	struct nats_conn *c;
	struct nats_uri u;
	char stream[100], subject[104];
	natsSubscription *sub;			/* the shared durable, once needed */
	natsInbox *inbox;			/* confirmed acks' replies */
	natsSubscription *isub;
	unsigned gen;				/* the round of acks under way */
	natsMsg **cur, **stash;			/* the last receive's; what a wait got */
	size_t ncur, capcur, nstash, capstash;
	/* Seen before in this run (past after): held, not given back, so
	 * that a receiver does not get them again and again. */
	natsMsg **skipped;
	size_t nskipped, capskipped;
	char **strs;				/* cur's decoded ids */
	size_t nstrs, capstrs;
	struct npend pend[NATS_PUB_PENDING];
	size_t npend;
	void (*on_sent)(void *ctx, const struct q_sent *sent, const char *body, size_t len);
	void *ctx;
	struct queue *dlq;			/* the dead-letter queue, once needed */
	struct ev_err werr;			/* a failed wait, for the next call */
	int64_t ack_wait_ms;
	int replicas;
	size_t held;				/* cur[0..held): the last consume's */
};

/* queue_nats.c */
int qnats_open(struct queue *q, const char *arg, int flags, const struct q_attrs *init,
    const struct q_open_opts *o, struct ev_err *e);
void qnats_close(struct queue *q);
/* The stream's and consumer's configuration from q->a. */
int qnats_apply(struct queue *q, int create, struct ev_err *e);
/* Opens another queue on the same servers: ref is a nats:// URI or a
 * bare name there. */
int qnats_open_ref(struct queue *q, const char *ref, struct queue **qp, struct ev_err *e);
char *qnats_strdup(struct qnats *rn, const char *s, size_t n);
/* queue_nats_recv.c */
/* Gives back (nak) what was skipped. */
void qnats_unskip(struct qnats *rn);
int qnats_acks(struct queue *q, const char *const *subj, size_t n, const char *payload,
    unsigned char *ok, size_t *done, struct ev_err *e);
/* queue_nats_admin.c */
int qnats_list(const char *uri, void (*fn)(const char *name, const char *url, void *ctx),
    void *ctx, struct ev_err *e);
int qnats_stat(struct queue *q, struct q_stat *st, struct ev_err *e);
int qnats_set(struct queue *q, const char *name, const char *value, struct ev_err *e);
int qnats_purge(struct queue *q, long *purged, struct ev_err *e);
int qnats_redrive(struct queue *q, const char *dest, long *moved, long *kept, struct ev_err *e);
int qnats_drop(struct queue *q, struct ev_err *e);
int qnats_dead_letter(struct queue *q, natsMsg *m, uint64_t receives, struct ev_err *e);
int qnats_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e);
int qnats_send_commit(struct queue *q, struct ev_err *e);
void qnats_send_rollback(struct queue *q);
int qnats_send_active(const struct queue *q);
int qnats_receive(struct queue *q, int64_t after, size_t max, int64_t lease_ms,
    struct q_msg *out, size_t *n, struct ev_err *e);
int qnats_consume(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
    struct ev_err *e);
int qnats_consume_done(struct queue *q, const struct q_msg *out, size_t delivered,
    size_t *deleted, struct ev_err *e);
int qnats_consume_extend(struct queue *q, int *held, struct ev_err *e);
int qnats_peek(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
    struct ev_err *e);
int qnats_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok,
    size_t *done, struct ev_err *e);
int qnats_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms,
    unsigned char *ok, size_t *done, struct ev_err *e);
void qnats_wait(struct queue *q, int64_t deadline);
void qnats_envelope(struct queue *q, const struct q_msg *m, struct buf *b);
/* Message headers of a queue message (all values printable ASCII). */
#define QN_ID "Evq-Id"
#define QN_SENT "Evq-Sent"
#define QN_GROUP "Evq-Group"
#define QN_DEDUP "Evq-Dedup"
#define QN_ATTRS "Evq-Attrs"
#define QN_ATTRS_MD5 "Evq-Attrs-Md5"
#define QN_TRACE "Evq-Trace"
#define QN_VISIBLE "Evq-Visible"
#define QN_SRC "Evq-Source"
#endif
