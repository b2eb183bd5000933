#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/names.h"
#include "queue_int.h"

void
q_stat(struct queue *q, struct q_stat *st)
{
	sqlite3_stmt *s;

	qdb_exec(q, "BEGIN");
	qdb_load_attrs(q);
	if (sqlite3_prepare_v2(q->db, "SELECT"
	    " coalesce(sum(visible_at <= ?1), 0),"
	    " coalesce(sum(visible_at > ?1 AND receipt IS NOT NULL), 0),"
	    " coalesce(sum(visible_at > ?1 AND receipt IS NULL), 0)"
	    " FROM msg WHERE sent_at >= ?2", -1, &s, NULL) != SQLITE_OK)
		qdb_die(q, sqlite3_errcode(q->db), "prepare");
	int64_t now = clock_now_ms();
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, now - q->a.retention_ms);
	if (qdb_step(q, s)) {
		st->visible = (long)sqlite3_column_int64(s, 0);
		st->in_flight = (long)sqlite3_column_int64(s, 1);
		st->delayed = (long)sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	/* Messages under a running consume-mode claim are in flight. */
	if (sqlite3_prepare_v2(q->db, "SELECT count(*) FROM msg m, claim c WHERE m.id BETWEEN c.lo AND c.hi"
	    " AND c.until > ?1 AND m.visible_at <= ?1", -1, &s, NULL) != SQLITE_OK)
		qdb_die(q, sqlite3_errcode(q->db), "prepare");
	sqlite3_bind_int64(s, 1, now);
	if (qdb_step(q, s)) {
		long claimed = (long)sqlite3_column_int64(s, 0);
		st->visible -= claimed;
		st->in_flight += claimed;
	}
	sqlite3_finalize(s);
	qdb_commit(q);
}

long
q_purge(struct queue *q)
{
	qdb_begin(q);
	qdb_exec(q, "DELETE FROM msg");
	long n = (long)sqlite3_changes(q->db);
	qdb_exec(q, "DELETE FROM claim");
	qdb_commit(q);
	return n;
}

static int
parse_range(const char *v, long long min, long long max, long long *out)
{
	char *end;

	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

/* RedrivePolicy: {"deadLetterTargetArn" or "deadLetterTarget": queue,
 * "maxReceiveCount": N (number or string, 1–1000)}, or "" to remove it. */
static int
set_redrive(struct queue *q, struct q_attrs *a, const char *value, const char **why)
{
	if (*value == '\0') {
		a->max_receives = 0;
		a->dlq[0] = '\0';
		return 0;
	}
	jv p = jv_parse(value);
	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		jv_free(p);
		return *why = "RedrivePolicy must be a JSON object", -1;
	}
	jv t = jv_object_get(jv_copy(p), jv_string("deadLetterTargetArn"));
	if (jv_get_kind(t) != JV_KIND_STRING) {
		jv_free(t);
		t = jv_object_get(jv_copy(p), jv_string("deadLetterTarget"));
	}
	jv m = jv_object_get(p, jv_string("maxReceiveCount"));
	long long max = -1;
	if (jv_get_kind(m) == JV_KIND_NUMBER)
		max = (long long)jv_number_value(m);
	else if (jv_get_kind(m) == JV_KIND_STRING && parse_range(jv_string_value(m), 1, 1000, &max) != 0)
		max = -1;
	int ok = jv_get_kind(t) == JV_KIND_STRING && max >= 1 && max <= 1000;
	char target[4096] = "";
	if (ok) {
		/* An ARN names the queue after its last colon. */
		const char *ts = jv_string_value(t), *colon = strrchr(ts, ':');
		snprintf(target, sizeof target, "%s",
		    strncmp(ts, "arn:", 4) == 0 && colon != NULL ? colon + 1 : ts);
	}
	jv_free(t);
	jv_free(m);
	if (!ok)
		return *why = "RedrivePolicy needs deadLetterTargetArn and maxReceiveCount (1-1000)", -1;
	if (strchr(target, '/') == NULL && target[0] != '.' && name_check(target, 1) != NULL)
		return *why = "invalid dead-letter queue name", -1;
	char *tpath, rt[4096], rq[4096];
	if (name_resolve(target, "queue", ".db", 1, &tpath, NULL) != 0)
		return *why = "invalid dead-letter queue name", -1;
	int same = realpath(tpath, rt) != NULL && realpath(q->path, rq) != NULL && strcmp(rt, rq) == 0;
	free(tpath);
	if (same)
		return *why = "a queue cannot be its own dead-letter queue", -1;
	struct queue *d = qdb_try_open(target);
	if (d == NULL)
		return *why = "the dead-letter queue does not exist", -1;
	int fifo = d->a.fifo;
	snprintf(a->dlq, sizeof a->dlq, "%s", qdb_ref(d));
	q_close(d);
	if (fifo != a->fifo)
		return *why = "the dead-letter queue of a FIFO queue must be FIFO, and of a standard queue standard", -1;
	a->max_receives = (int)max;
	return 0;
}

static int
set_one(struct queue *q, struct q_attrs *a, const char *name, const char *v, const char **why)
{
	long long x;

	if (strcmp(name, "VisibilityTimeout") == 0) {
		if (parse_range(v, 0, 43200, &x) != 0)
			return *why = "VisibilityTimeout must be 0 to 43200 seconds", -1;
		a->visibility_ms = x * 1000;
	} else if (strcmp(name, "DelaySeconds") == 0) {
		if (parse_range(v, 0, 900, &x) != 0)
			return *why = "DelaySeconds must be 0 to 900", -1;
		a->delay_ms = x * 1000;
	} else if (strcmp(name, "MessageRetentionPeriod") == 0) {
		if (parse_range(v, 60, 1209600, &x) != 0)
			return *why = "MessageRetentionPeriod must be 60 to 1209600 seconds", -1;
		a->retention_ms = x * 1000;
	} else if (strcmp(name, "ReceiveMessageWaitTimeSeconds") == 0) {
		if (parse_range(v, 0, 20, &x) != 0)
			return *why = "ReceiveMessageWaitTimeSeconds must be 0 to 20", -1;
		a->wait_ms = x * 1000;
	} else if (strcmp(name, "MaximumMessageSize") == 0) {
		if (parse_range(v, 1024, 1048576, &x) != 0)
			return *why = "MaximumMessageSize must be 1024 to 1048576 bytes", -1;
		a->max_bytes = (long)x;
	} else if (strcmp(name, "ContentBasedDeduplication") == 0) {
		if (!a->fifo)
			return *why = "ContentBasedDeduplication applies to FIFO queues only", -1;
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return *why = "ContentBasedDeduplication must be true or false", -1;
		a->content_dedup = strcmp(v, "true") == 0;
	} else if (strcmp(name, "RedrivePolicy") == 0) {
		return set_redrive(q, a, v, why);
	} else if (strcmp(name, "FifoQueue") == 0) {
		return *why = "FifoQueue can only be set when the queue is created", -1;
	} else {
		return *why = "unknown attribute", -1;
	}
	return 0;
}

int
q_set(struct queue *q, const char *name, const char *value, const char **why)
{
	qdb_begin(q);
	qdb_load_attrs(q);
	struct q_attrs a = q->a;
	if (set_one(q, &a, name, value, why) != 0) {
		qdb_rollback(q);
		return -1;
	}
	a.modified_ms = clock_now_ms();
	qdb_store_attrs(q, &a);
	qdb_commit(q);
	q->a = a;
	return 0;
}

int
q_remove(const char *arg)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char *path;
	struct ev_err err;
	if (name_resolve(arg, "queue", ".db", 1, &path, &err) != 0)
		msg_die_err(&err);
	struct buf b = { 0 };
	int r = unlink(path);
	int e = errno;

	for (size_t i = 0; i < 2; i++) {
		buf_reset(&b);
		buf_printf(&b, "%s%s", path, sfx[i]);
		unlink(b.p);
	}
	buf_free(&b);
	free(path);
	errno = e;
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
q_list(void (*fn)(const char *name, const char *path, void *ctx), void *ctx)
{
	char *home;
	struct ev_err err;
	if (name_home(&home, &err) != 0)
		msg_die_err(&err);
	struct buf dir = { 0 }, path = { 0 };
	char **names = NULL;
	size_t n = 0;

	buf_printf(&dir, "%s/queues", home);
	DIR *d = opendir(dir.p);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len <= 3 || strcmp(e->d_name + len - 3, ".db") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strndup(e->d_name, len - 3)) == NULL)
			msg_die(EV_SOFTWARE, "out of memory");
		n++;
	}
	if (d != NULL)
		closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s.db", dir.p, names[i]);
		fn(names[i], path.p, ctx);
		free(names[i]);
	}
	free(names);
	buf_free(&dir);
	buf_free(&path);
	free(home);
}
