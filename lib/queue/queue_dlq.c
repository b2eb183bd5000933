#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/msg.h"
#include "queue_int.h"

/* Takes one row of src into dest; 1 if dest has it now. */
static int
copy_one(struct queue *src, sqlite3_stmt *row, struct queue *dest, int keep_id, int64_t now)
{
	sqlite3_stmt *m = qdb_stmt(dest, ST_MOVED_PUT, "INSERT OR IGNORE INTO moved VALUES(?1, ?2)");
	sqlite3_bind_text(m, 1, (const char *)sqlite3_column_text(row, 0), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(m, 2, now + MOVED_KEEP_MS);
	qdb_step(dest, m);
	if (sqlite3_changes(dest->db) == 0)
		return 1;	/* taken in before a crash: do not take it twice */

	char id[37];
	const char *grp = (const char *)sqlite3_column_text(row, 5);
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
		sqlite3_bind_text(s, 7, grp != NULL ? grp : "default", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 8, id, -1, SQLITE_STATIC);
	}
	sqlite3_bind_value(s, 9, sqlite3_column_value(row, 7));
	sqlite3_bind_value(s, 10, sqlite3_column_value(row, 8));
	qdb_step(dest, s);
	return 1;
}

void
qdl_copy(struct queue *q, const struct idlist *ids, struct queue *dest, int keep_id,
    struct idlist *done)
{
	sqlite3_stmt *row;
	int64_t now = clock_now_ms();

	if (sqlite3_prepare_v2(q->db, "SELECT uuid, body, receives, sent_at, first_recv, grp,"
	    " dedup, attrs, attrs_md5, src FROM msg WHERE id = ?1", -1, &row, NULL) != SQLITE_OK)
		qdb_die(q, sqlite3_errcode(q->db), "prepare");
	qdb_begin(dest);
	qdb_load_attrs(dest);
	for (size_t i = 0; i < ids->n; i++) {
		sqlite3_reset(row);
		sqlite3_bind_int64(row, 1, ids->v[i]);
		if (qdb_step(q, row) && copy_one(q, row, dest, keep_id, now))
			ids_add(done, ids->v[i]);
	}
	sqlite3_finalize(row);
	qdb_commit(dest);
}

static void
delete_done(struct queue *q, const struct idlist *done)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_DELETE_MOVED, "DELETE FROM msg WHERE id = ?1");

	qdb_begin(q);
	for (size_t i = 0; i < done->n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, done->v[i]);
		qdb_step(q, s);
	}
	qdb_commit(q);
}

void
qdl_move(struct queue *q, const struct idlist *poison)
{
	struct idlist done = { 0 };
	struct queue *dlq = qdb_try_open(q->a.dlq);

	if (dlq == NULL) {
		/* Never lost: the messages stay, past their count, undelivered. */
		msg_warn("queue '%s': dead-letter queue '%s' does not exist; %zu message(s) kept",
		    q->arg, q->a.dlq, poison->n);
		return;
	}
	qdl_copy(q, poison, dlq, 1, &done);
	delete_done(q, &done);
	q_close(dlq);
	free(done.v);
}

long
q_redrive(struct queue *q, const char *dest_arg)
{
	long moved = 0;
	int64_t last = 0;
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(q->db, "SELECT id, src FROM msg WHERE id > ?1 AND visible_at <= ?2"
	    " ORDER BY id LIMIT 1000", -1, &s, NULL) != SQLITE_OK)
		qdb_die(q, sqlite3_errcode(q->db), "prepare");
	for (;;) {
		struct idlist ids = { 0 }, done = { 0 };
		char target[4096] = "";
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, last);
		sqlite3_bind_int64(s, 2, clock_now_ms());
		/* One run of messages bound for the same queue. */
		while (qdb_step(q, s)) {
			const char *src = (const char *)sqlite3_column_text(s, 1);
			const char *to = dest_arg != NULL ? dest_arg : src;
			if (to == NULL) {
				msg_warn("queue '%s': message without a source queue kept (use --to)", q->arg);
				last = sqlite3_column_int64(s, 0);
				continue;
			}
			if (ids.n > 0 && strcmp(to, target) != 0)
				break;
			snprintf(target, sizeof target, "%s", to);
			ids_add(&ids, sqlite3_column_int64(s, 0));
			last = sqlite3_column_int64(s, 0);
		}
		sqlite3_reset(s);
		if (ids.n == 0)
			break;
		struct queue *d = qdb_try_open(target);
		if (d == NULL)
			msg_die(EV_NOINPUT, "queue '%s': redrive target '%s' does not exist", q->arg, target);
		qdl_copy(q, &ids, d, 0, &done);
		delete_done(q, &done);
		moved += (long)done.n;
		q_close(d);
		free(ids.v);
		free(done.v);
	}
	sqlite3_finalize(s);
	return moved;
}
