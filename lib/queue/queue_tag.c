/* queue_tag — a queue's tags (SQS's TagQueue, UntagQueue, ListQueueTags)
 * in the table tag of its database.  A queue made before there were tags
 * has no such table: the first write adds it, and a read sees no tags.
 * The limits and error texts are SQS's, which is what the server answers
 * with them. */
#include <string.h>

#include "core/msg.h"
#include "queue_int.h"

static const char tag_table[] =
	"CREATE TABLE IF NOT EXISTS tag(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID";

/* SQS counts characters: UTF-8 lead bytes. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int
check_key(const char *key, struct ev_err *e)
{
	size_t n = chars(key);

	if (n < 1 || n > Q_TAG_KEY_MAX)
		return err_set(e, EV_USAGE, "Tag keys must be between 1 and %d characters in length.",
		    Q_TAG_KEY_MAX);
	return 0;
}

static int
local_only(const struct queue *q, struct ev_err *e)
{
	if (q->ops == NULL)
		return 0;
	return err_set(e, EV_USAGE, "queue '%s': tags are kept for local queues only, not on %s",
	    q->arg, q->ops->engine);
}

static int
has_table(struct queue *q)
{
	sqlite3_stmt *s = qdb_prepare(q, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='tag'");
	int yes = qdb_step(q, s) > 0;

	sqlite3_finalize(s);
	return yes;
}

static long
count(struct queue *q)
{
	sqlite3_stmt *s = qdb_prepare(q, "SELECT count(*) FROM tag");
	long n = qdb_step(q, s) > 0 ? (long)sqlite3_column_int64(s, 0) : 0;

	sqlite3_finalize(s);
	return n;
}

int
q_tag(struct queue *q, const struct q_tag *t, size_t n, struct ev_err *e)
{
	if (local_only(q, e) != 0)
		return e->code;
	for (size_t i = 0; i < n; i++) {
		if (check_key(t[i].key, e) != 0)
			return e->code;
		if (chars(t[i].value) > Q_TAG_VALUE_MAX)
			return err_set(e, EV_USAGE, "Tag values must be between 0 and %d characters "
			    "in length.", Q_TAG_VALUE_MAX);
	}
	qdb_enter(q);
	if (qdb_begin(q) != 0 || qdb_exec(q, tag_table) != 0)
		return qdb_leave(q, e);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = qdb_prepare(q, "INSERT OR REPLACE INTO tag VALUES(?1, ?2)");
		sqlite3_bind_text(s, 1, t[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, t[i].value, -1, SQLITE_STATIC);
		qdb_step(q, s);
		sqlite3_finalize(s);
	}
	if (q->err.code == 0 && count(q) > Q_TAGS_MAX) {
		qdb_rollback(q);
		return err_set(e, EV_USAGE, "Too many tags added for queue %s.", q->name);
	}
	qdb_commit(q);
	return qdb_leave(q, e);
}

int
q_untag(struct queue *q, const char *const *keys, size_t n, struct ev_err *e)
{
	if (local_only(q, e) != 0)
		return e->code;
	for (size_t i = 0; i < n; i++)
		if (check_key(keys[i], e) != 0)
			return e->code;
	qdb_enter(q);
	if (qdb_begin(q) != 0 || qdb_exec(q, tag_table) != 0)
		return qdb_leave(q, e);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = qdb_prepare(q, "DELETE FROM tag WHERE key = ?1");
		sqlite3_bind_text(s, 1, keys[i], -1, SQLITE_STATIC);
		qdb_step(q, s);
		sqlite3_finalize(s);
	}
	qdb_commit(q);
	return qdb_leave(q, e);
}

int
q_tags(struct queue *q, void (*fn)(const char *key, const char *value, void *ctx), void *ctx,
    struct ev_err *e)
{
	if (local_only(q, e) != 0)
		return e->code;
	qdb_enter(q);
	/* One read transaction: the table and its rows as of one moment. */
	if (qdb_exec(q, "BEGIN") != 0)
		return qdb_leave(q, e);
	if (has_table(q)) {
		sqlite3_stmt *s = qdb_prepare(q, "SELECT key, value FROM tag ORDER BY key");
		while (qdb_step(q, s) > 0)
			fn((const char *)sqlite3_column_text(s, 0),
			    (const char *)sqlite3_column_text(s, 1), ctx);
		sqlite3_finalize(s);
	}
	qdb_commit(q);
	return qdb_leave(q, e);
}
