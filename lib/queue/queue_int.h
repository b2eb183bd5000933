/* queue_int — what the queue_*.c files share; not for commands. */
#ifndef EVKIT_QUEUE_IMPL_H
#define EVKIT_QUEUE_IMPL_H

#include <sqlite3.h>

#include "core/buf.h"
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
};

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
#endif
