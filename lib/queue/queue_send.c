#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/digest.h"
#include "core/msg.h"
#include "queue_int.h"

void
q_send_begin(struct queue *q)
{
	if (q->in_send)
		return;
	qdb_begin(q);
	qdb_load_attrs(q);
	q->in_send = 1;
	if (q->a.fifo) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(q->db, "DELETE FROM dedup WHERE expires_at <= ?1", -1, &s, NULL) != SQLITE_OK)
			qdb_die(q, sqlite3_errcode(q->db), "prepare");
		sqlite3_bind_int64(s, 1, clock_now_ms());
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			qdb_die(q, rc, "dedup cleanup");
	}
}

int
q_send_active(const struct queue *q)
{
	return q->in_send;
}

void
q_send_commit(struct queue *q)
{
	if (!q->in_send)
		return;
	q->in_send = 0;
	qdb_commit(q);
}

void
q_send_rollback(struct queue *q)
{
	q->in_send = 0;
	qdb_rollback(q);
}

/* FIFO deduplication: 1 if dedup was seen in the last 5 minutes (sent is
 * then the original's), else records it for the message about to go in. */
static int
dedup_seen(struct queue *q, const char *dedup, int64_t now, struct q_sent *sent)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_DEDUP_GET,
	    "SELECT uuid, seq FROM dedup WHERE id = ?1 AND expires_at > ?2");

	sqlite3_bind_text(s, 1, dedup, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	if (!qdb_step(q, s))
		return 0;
	snprintf(sent->id, sizeof sent->id, "%s", (const char *)sqlite3_column_text(s, 0));
	snprintf(sent->seq, sizeof sent->seq, "%020lld", (long long)sqlite3_column_int64(s, 1));
	sent->duplicate = 1;
	sqlite3_reset(s);
	return 1;
}

static void
dedup_put(struct queue *q, const char *dedup, const struct q_sent *sent, int64_t seq, int64_t now)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_DEDUP_PUT,
	    "INSERT OR REPLACE INTO dedup VALUES(?1, ?2, ?3, ?4)");

	sqlite3_bind_text(s, 1, dedup, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, seq);
	sqlite3_bind_int64(s, 4, now + DEDUP_WINDOW_MS);
	qdb_step(q, s);
}

int
q_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, const char **why)
{
	const struct q_attrs *a = &q->a;
	char hash[65];
	const char *dedup = m->dedup;
	int64_t now = clock_now_ms();

	memset(sent, 0, sizeof *sent);
	if (!q->in_send)
		q_send_begin(q);
	if (a->fifo) {
		if (m->group == NULL)
			return *why = "a FIFO queue needs a message group id", -1;
		if (m->delay_ms >= 0)
			return *why = "FIFO queues take no per-message delay (set the queue's DelaySeconds)", -1;
		if (dedup == NULL && a->content_dedup) {
			sha256_hex_of(m->body, m->len, hash);
			dedup = hash;
		}
		if (dedup == NULL)
			return *why = "a FIFO queue needs a deduplication id, or ContentBasedDeduplication", -1;
		if (dedup_seen(q, dedup, now, sent))
			return 0;
	}
	uuid_v4(sent->id);
	int64_t delay = m->delay_ms >= 0 ? m->delay_ms : a->delay_ms;
	sqlite3_stmt *s = qdb_stmt(q, ST_INSERT,
	    "INSERT INTO msg(uuid, body, sent_at, visible_at, grp, dedup, attrs, attrs_md5)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	sqlite3_bind_text(s, 1, sent->id, 36, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, m->body, (int)m->len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, now + delay);
	if (a->fifo) {
		sqlite3_bind_text(s, 5, m->group, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, dedup, -1, SQLITE_STATIC);
	}
	if (m->attrs != NULL) {
		sqlite3_bind_text(s, 7, m->attrs, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, m->attrs_md5, -1, SQLITE_STATIC);
	}
	qdb_step(q, s);
	if (a->fifo) {
		int64_t seq = sqlite3_last_insert_rowid(q->db);
		snprintf(sent->seq, sizeof sent->seq, "%020lld", (long long)seq);
		dedup_put(q, dedup, sent, seq, now);
	}
	return 0;
}
