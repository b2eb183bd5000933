#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/digest.h"
#include "queue_int.h"

/* Opens the batch's transaction (inside a public call). */
static int
send_begin(struct queue *q)
{
	if (q->in_send)
		return 0;
	if (qdb_begin(q) != 0 || qdb_load_attrs(q) != 0)
		return q->err.code;
	q->in_send = 1;
	if (q->a.fifo) {
		sqlite3_stmt *s = qdb_prepare(q, "DELETE FROM dedup WHERE expires_at <= ?1");
		sqlite3_bind_int64(s, 1, clock_now_ms());
		qdb_step(q, s);
		sqlite3_finalize(s);
	}
	return q->err.code;
}

int
q_send_begin(struct queue *q, struct ev_err *e)
{
	if (q->ops != NULL)
		return 0;
	qdb_enter(q);
	send_begin(q);
	return qdb_leave(q, e);
}

int
q_send_active(const struct queue *q)
{
	if (q->ops != NULL)
		return q->ops->send_active(q);
	return q->in_send;
}

int
q_send_commit(struct queue *q, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->send_commit(q, e);
	if (!q->in_send)
		return 0;
	qdb_enter(q);
	q->in_send = 0;
	qdb_commit(q);
	return qdb_leave(q, e);
}

void
q_send_rollback(struct queue *q)
{
	if (q->ops != NULL) {
		q->ops->send_rollback(q);
		return;
	}
	q->in_send = 0;
	qdb_rollback(q);
}

/* FIFO deduplication: 1 if dedup was seen in the last 5 minutes (sent is
 * then the original's), else records it for the message about to go in. */
static int
dedup_seen(struct queue *q, const char *dedup, size_t dlen, int64_t now, struct q_sent *sent)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_DEDUP_GET,
	    "SELECT uuid, seq FROM dedup WHERE id = ?1 AND expires_at > ?2");

	sqlite3_bind_text(s, 1, dedup, (int)dlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	if (qdb_step(q, s) <= 0)
		return 0;
	snprintf(sent->id, sizeof sent->id, "%s", (const char *)sqlite3_column_text(s, 0));
	snprintf(sent->seq, sizeof sent->seq, "%020lld", (long long)sqlite3_column_int64(s, 1));
	sent->duplicate = 1;
	sqlite3_reset(s);
	return 1;
}

static void
dedup_put(struct queue *q, const char *dedup, size_t dlen, const struct q_sent *sent, int64_t seq,
    int64_t now)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_DEDUP_PUT,
	    "INSERT OR REPLACE INTO dedup VALUES(?1, ?2, ?3, ?4)");

	sqlite3_bind_text(s, 1, dedup, (int)dlen, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sent->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, seq);
	sqlite3_bind_int64(s, 4, now + DEDUP_WINDOW_MS);
	qdb_step(q, s);
}

/* Why a FIFO queue refuses m, or NULL; *dedup becomes its id. */
static const char *
fifo_refusal(const struct q_attrs *a, const struct q_out *m, const char **dedup, char hash[65])
{
	if (m->group == NULL)
		return "a FIFO queue needs a message group id";
	if (m->delay_ms >= 0)
		return "FIFO queues take no per-message delay (set the queue's DelaySeconds)";
	if (*dedup == NULL && a->content_dedup) {
		digest_hex_of(DIGEST_SHA256, m->body, m->len, hash);
		*dedup = hash;
	}
	if (*dedup == NULL)
		return "a FIFO queue needs a deduplication id, or ContentBasedDeduplication";
	return NULL;
}

int
q_send_add(struct queue *q, const struct q_out *m, struct q_sent *sent, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->send_add(q, m, sent, e);
	const struct q_attrs *a = &q->a;
	char hash[65];
	const char *dedup = m->dedup;
	size_t dlen = 0;
	int64_t now = clock_now_ms();

	memset(sent, 0, sizeof *sent);
	qdb_enter(q);
	if (send_begin(q) != 0)
		return qdb_leave(q, e);
	if (a->fifo) {
		if ((sent->refused = fifo_refusal(a, m, &dedup, hash)) != NULL)
			return 0;
		dlen = dedup == m->dedup && m->dedup_len > 0 ? m->dedup_len : strlen(dedup);
		if (dedup_seen(q, dedup, dlen, now, sent) || q->err.code != 0)
			return qdb_leave(q, e);
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
		sqlite3_bind_text(s, 5, m->group, m->group_len > 0 ? (int)m->group_len : -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, dedup, (int)dlen, SQLITE_STATIC);
	}
	if (m->attrs != NULL) {
		sqlite3_bind_text(s, 7, m->attrs, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, m->attrs_md5, -1, SQLITE_STATIC);
	}
	qdb_step(q, s);
	if (a->fifo && q->err.code == 0) {
		int64_t seq = sqlite3_last_insert_rowid(q->db);
		snprintf(sent->seq, sizeof sent->seq, "%020lld", (long long)seq);
		dedup_put(q, dedup, dlen, sent, seq, now);
	}
	return qdb_leave(q, e);
}
