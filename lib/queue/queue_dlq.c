#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/msg.h"
#include "core/names.h"
#include "queue_int.h"

/* Takes one row of src into dest; 1 if dest has it now. */
static int
copy_one(struct queue *src, sqlite3_stmt *row, struct queue *dest, int keep_id, int64_t now)
{
	sqlite3_stmt *m = qdb_stmt(dest, ST_MOVED_PUT, "INSERT OR IGNORE INTO moved VALUES(?1, ?2)");
	sqlite3_bind_text(m, 1, (const char *)sqlite3_column_text(row, 0), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(m, 2, now + MOVED_KEEP_MS);
	if (qdb_step(dest, m) < 0)
		return 0;
	if (sqlite3_changes(dest->db) == 0)
		return 1;	/* taken in before a crash: do not take it twice */

	char id[37];
	sqlite3_stmt *s = qdb_stmt(dest, ST_INSERT_MOVED,
	    "INSERT INTO msg(uuid, body, sent_at, visible_at, receives, first_recv, grp, dedup,"
	    " attrs, attrs_md5, src) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
	if (keep_id) {
		/* SQS keeps the MessageId and send time, and counts the
		 * receive that found the message poisoned. */
		snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(row, 0));
		sqlite3_bind_int64(s, 3, sqlite3_column_int64(row, 3));
		sqlite3_bind_int64(s, 4, now);
		sqlite3_bind_int64(s, 5, sqlite3_column_int64(row, 2) + 1);
		sqlite3_bind_value(s, 6, sqlite3_column_value(row, 4));
		sqlite3_bind_text(s, 11, qdb_ref(src), -1, SQLITE_TRANSIENT);
	} else {
		uuid_v4(id);
		sqlite3_bind_int64(s, 3, now);
		sqlite3_bind_int64(s, 4, now + dest->a.delay_ms);
		sqlite3_bind_int64(s, 5, 0);
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_value(s, 2, sqlite3_column_value(row, 1));
	if (dest->a.fifo) {
		/* FIFO to FIFO: the deduplication id becomes the MessageId. */
		if (sqlite3_column_type(row, 5) != SQLITE_NULL)
			sqlite3_bind_value(s, 7, sqlite3_column_value(row, 5));
		else
			sqlite3_bind_text(s, 7, "default", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, id, -1, SQLITE_STATIC);
	}
	sqlite3_bind_value(s, 9, sqlite3_column_value(row, 7));
	sqlite3_bind_value(s, 10, sqlite3_column_value(row, 8));
	return qdb_step(dest, s) == 0;
}

/* Copies in one transaction of dest; a failure of either queue is
 * recorded in q->err (dest's own is rolled back). */
int
qdl_copy(struct queue *q, const struct idlist *ids, struct queue *dest, int keep_id,
    struct idlist *done)
{
	int64_t now = clock_now_ms();
	size_t had = done->n;
	sqlite3_stmt *row = qdb_prepare(q, "SELECT uuid, body, receives, sent_at, first_recv, grp,"
	    " dedup, attrs, attrs_md5, src FROM msg WHERE id = ?1");

	qdb_enter(dest);
	qdb_begin(dest);
	qdb_load_attrs(dest);
	for (size_t i = 0; i < ids->n && q->err.code == 0 && dest->err.code == 0; i++) {
		sqlite3_reset(row);
		sqlite3_bind_int64(row, 1, ids->v[i]);
		if (qdb_step(q, row) > 0 && copy_one(q, row, dest, keep_id, now))
			ids_add(done, ids->v[i]);
	}
	sqlite3_finalize(row);
	qdb_commit(dest);
	struct ev_err e;
	if (qdb_leave(dest, &e) != 0 && q->err.code == 0)
		q->err = e;
	if (q->err.code != 0)
		done->n = had;	/* nothing of this copy is in dest */
	return q->err.code;
}

static int
delete_done(struct queue *q, const struct idlist *done)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_DELETE_MOVED, "DELETE FROM msg WHERE id = ?1");

	qdb_begin(q);
	for (size_t i = 0; i < done->n && q->err.code == 0; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, done->v[i]);
		qdb_step(q, s);
	}
	return qdb_commit(q);
}

int
qdl_move(struct queue *q, const struct idlist *poison)
{
	struct idlist done = { 0 };
	struct queue *dlq;

	/* No dead-letter queue: never lost, the messages stay past their
	 * count, undelivered, until it exists. */
	if (qdb_try_open(q, q->a.dlq, &dlq) != 0)
		return q->err.code;
	if (dlq == NULL) {
		err_set(&q->notice, 1, "queue '%s': dead-letter queue '%s' does not exist; %zu message(s) kept",
		    q->arg, q->a.dlq, poison->n);
		return 0;
	}
	if (qdl_copy(q, poison, dlq, 1, &done) == 0)
		delete_done(q, &done);
	q_close(dlq);
	free(done.v);
	return q->err.code;
}

/* 1 if ref names q's own file. */
static int
same_queue(struct queue *q, const char *ref)
{
	char *path, a[4096], b[4096];
	if (name_resolve(ref, "queue", ".db", 1, &path, NULL) != 0)
		return 0;
	int same = realpath(path, a) != NULL && realpath(q->path, b) != NULL && strcmp(a, b) == 0;

	free(path);
	return same;
}

/* The next run of up to 1000 messages past *last bound for one queue
 * (named into target); messages that name no queue are counted in *kept. */
static size_t
next_run(struct queue *q, sqlite3_stmt *s, const char *dest, int64_t *last, struct idlist *ids,
    char target[4096], long *kept)
{
	size_t seen = 0;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, *last);
	sqlite3_bind_int64(s, 2, clock_now_ms());
	while (qdb_step(q, s) > 0) {
		const char *src = (const char *)sqlite3_column_text(s, 1);
		const char *to = dest != NULL ? dest : src;
		if (to != NULL && ids->n > 0 && strcmp(to, target) != 0)
			break;
		*last = sqlite3_column_int64(s, 0);
		seen++;
		if (to == NULL) {
			(*kept)++;
			continue;
		}
		snprintf(target, 4096, "%s", to);
		ids_add(ids, *last);
	}
	sqlite3_reset(s);
	return seen;
}

int
q_redrive(struct queue *q, const char *dest, long *moved, long *kept, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->redrive(q, dest, moved, kept, e);
	int64_t last = 0;

	*moved = *kept = 0;
	qdb_enter(q);
	if (dest != NULL && same_queue(q, dest))
		return err_set(e, EV_USAGE, "redrive: queue '%s' cannot be redriven into itself", q->arg);
	sqlite3_stmt *s = qdb_prepare(q, "SELECT id, src FROM msg WHERE id > ?1 AND visible_at <= ?2"
	    " ORDER BY id LIMIT 1000");
	while (q->err.code == 0) {
		struct idlist ids = { 0 }, done = { 0 };
		char target[4096] = "";
		struct queue *d = NULL;
		if (next_run(q, s, dest, &last, &ids, target, kept) == 0)
			break;
		if (ids.n == 0)
			continue;
		if (same_queue(q, target))
			err_set(&q->err, EV_USAGE, "redrive: queue '%s' cannot be redriven into itself", q->arg);
		else if (qdb_try_open(q, target, &d) == 0 && d == NULL)
			err_set(&q->err, EV_NOINPUT, "queue '%s': redrive target '%s' does not exist", q->arg, target);
		if (d != NULL && qdl_copy(q, &ids, d, 0, &done) == 0 && delete_done(q, &done) == 0)
			*moved += (long)done.n;
		q_close(d);
		free(ids.v);
		free(done.v);
	}
	sqlite3_finalize(s);
	return qdb_leave(q, e);
}
