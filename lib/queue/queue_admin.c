#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/names.h"
#include "queue_int.h"

int
q_stat(struct queue *q, struct q_stat *st, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->stat(q, st, e);
	qdb_enter(q);
	qdb_exec(q, "BEGIN");
	qdb_load_attrs(q);
	int64_t now = clock_now_ms();
	sqlite3_stmt *s = qdb_prepare(q, "SELECT"
	    " coalesce(sum(visible_at <= ?1), 0),"
	    " coalesce(sum(visible_at > ?1 AND receipt IS NOT NULL), 0),"
	    " coalesce(sum(visible_at > ?1 AND receipt IS NULL), 0)"
	    " FROM msg WHERE sent_at >= ?2");
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, now - q->a.retention_ms);
	if (qdb_step(q, s) > 0) {
		st->visible = (long)sqlite3_column_int64(s, 0);
		st->in_flight = (long)sqlite3_column_int64(s, 1);
		st->delayed = (long)sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	/* Messages under a running consume-mode claim are in flight. */
	s = qdb_prepare(q, "SELECT count(*) FROM msg m, claim c WHERE m.id BETWEEN c.lo AND c.hi"
	    " AND c.until > ?1 AND m.visible_at <= ?1");
	sqlite3_bind_int64(s, 1, now);
	if (qdb_step(q, s) > 0) {
		long claimed = (long)sqlite3_column_int64(s, 0);
		st->visible -= claimed;
		st->in_flight += claimed;
	}
	sqlite3_finalize(s);
	qdb_commit(q);
	return qdb_leave(q, e);
}

int
q_purge(struct queue *q, long *purged, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->purge(q, purged, e);
	qdb_enter(q);
	qdb_begin(q);
	qdb_exec(q, "DELETE FROM msg");
	*purged = (long)sqlite3_changes(q->db);
	qdb_exec(q, "DELETE FROM claim");
	qdb_commit(q);
	return qdb_leave(q, e);
}

/* RedrivePolicy: {"deadLetterTargetArn" or "deadLetterTarget": queue,
 * "maxReceiveCount": N (number or string, 1–1000)}, or "" to remove it. */
int
qadm_redrive_parse(const char *value, char target[4096], long long *max)
{
	jv p = jv_parse(value);
	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		jv_free(p);
		return -1;
	}
	jv t = jv_object_get(jv_copy(p), jv_string("deadLetterTargetArn"));
	if (jv_get_kind(t) != JV_KIND_STRING) {
		jv_free(t);
		t = jv_object_get(jv_copy(p), jv_string("deadLetterTarget"));
	}
	jv m = jv_object_get(p, jv_string("maxReceiveCount"));
	char *end;
	*max = -1;
	if (jv_get_kind(m) == JV_KIND_NUMBER)
		*max = (long long)jv_number_value(m);
	else if (jv_get_kind(m) == JV_KIND_STRING) {
		*max = strtoll(jv_string_value(m), &end, 10);
		if (end == jv_string_value(m) || *end != '\0')
			*max = -1;
	}
	int ok = jv_get_kind(t) == JV_KIND_STRING && *max >= 1 && *max <= 1000;
	if (ok) {
		/* An ARN names the queue after its last colon. */
		const char *ts = jv_string_value(t), *colon = strrchr(ts, ':');
		snprintf(target, 4096, "%s", strncmp(ts, "arn:", 4) == 0 && colon != NULL ? colon + 1 : ts);
	}
	jv_free(t);
	jv_free(m);
	return ok ? 0 : -2;
}

int
qadm_redrive_take(const char *value, struct q_attrs *a, char target[4096], long long *max,
    struct ev_err *e)
{
	target[0] = '\0';
	if (*value == '\0') {
		a->max_receives = 0;
		a->dlq[0] = '\0';
		return 0;
	}
	int rc = qadm_redrive_parse(value, target, max);
	if (rc == -1)
		return err_set(e, EV_USAGE, "RedrivePolicy must be a JSON object");
	if (rc != 0)
		return err_set(e, EV_USAGE, "RedrivePolicy needs deadLetterTargetArn and maxReceiveCount (1-1000)");
	return 0;
}

static int
set_redrive(struct queue *q, struct q_attrs *a, const char *value, struct ev_err *e)
{
	char target[4096], rt[4096], rq[4096];
	long long max;
	int rc = qadm_redrive_take(value, a, target, &max, e);

	if (rc != 0 || target[0] == '\0')
		return rc;
	if (strchr(target, '/') == NULL && target[0] != '.' && name_check(target, 1) != NULL)
		return err_set(e, EV_USAGE, "invalid dead-letter queue name");
	char *tpath;
	if ((rc = name_resolve(target, "queue", ".db", 1, &tpath, e)) != 0)
		return rc;
	int same = realpath(tpath, rt) != NULL && realpath(q->path, rq) != NULL && strcmp(rt, rq) == 0;
	free(tpath);
	if (same)
		return err_set(e, EV_USAGE, "a queue cannot be its own dead-letter queue");
	struct queue *d;
	if (qdb_try_open(q, target, &d) != 0)
		return q->err.code;
	if (d == NULL)
		return err_set(e, EV_USAGE, "the dead-letter queue does not exist");
	int fifo = d->a.fifo;
	snprintf(a->dlq, sizeof a->dlq, "%s", qdb_ref(d));
	q_close(d);
	if (fifo != a->fifo)
		return err_set(e, EV_USAGE,
		    "the dead-letter queue of a FIFO queue must be FIFO, and of a standard queue standard");
	a->max_receives = (int)max;
	return 0;
}

int
q_set(struct queue *q, const char *name, const char *value, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->set(q, name, value, e);
	struct ev_err bad;

	qdb_enter(q);
	if (qdb_begin(q) != 0 || qdb_load_attrs(q) != 0)
		return qdb_leave(q, e);
	struct q_attrs a = q->a;
	int rc = strcmp(name, "RedrivePolicy") == 0 ? set_redrive(q, &a, value, &bad) :
	    qattr_set(&a, name, value, &bad);
	if (q->err.code != 0)
		return qdb_leave(q, e);
	if (rc != 0) {
		qdb_rollback(q);
		return err_set(e, rc, "%s: invalid %s '%s': %s", q->name, name, value, bad.msg);
	}
	a.modified_ms = clock_now_ms();
	qdb_store_attrs(q, &a);
	if (qdb_commit(q) == 0)
		q->a = a;
	return qdb_leave(q, e);
}

int
q_remove(const char *arg, struct ev_err *e)
{
	if (aws_is_uri(arg) || nats_is_uri(arg)) {
		struct queue *q;
		int rc = q_open(arg, Q_OPEN, NULL, &q, e);
		return rc != 0 ? rc : q_drop(q, e);
	}
	static const char *const sfx[] = { "-wal", "-shm" };
	struct buf b = { 0 };
	char *path;
	int r = name_resolve(arg, "queue", ".db", 1, &path, e);
	if (r != 0)
		return r;
	r = unlink(path);
	int saved = errno;

	for (size_t i = 0; i < 2; i++) {
		buf_reset(&b);
		buf_printf(&b, "%s%s", path, sfx[i]);
		unlink(b.p);
	}
	buf_free(&b);
	if (r != 0) {
		errno = saved;
		err_sys(e, EV_IOERR, "delete: cannot remove queue '%s'", arg);
		r = EV_IOERR;
	}
	free(path);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
q_drop(struct queue *q, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->drop(q, e);
	char *arg = xstrdup(q->arg);
	q_close(q);
	int rc = q_remove(arg, e);
	free(arg);
	return rc;
}

int
q_list(void (*fn)(const char *name, const char *path, void *ctx), void *ctx, struct ev_err *e)
{
	char *home;
	int rc = name_home(&home, e);
	if (rc != 0)
		return rc;
	struct buf dir = { 0 }, path = { 0 };
	char **names = NULL;
	size_t n = 0, cap = 0;

	buf_printf(&dir, "%s/queues", home);
	DIR *d = opendir(dir.p);
	struct dirent *ent;
	while (d != NULL && (ent = readdir(d)) != NULL) {
		size_t len = strlen(ent->d_name);
		if (len <= 3 || strcmp(ent->d_name + len - 3, ".db") != 0)
			continue;
		XGROW(&names, &cap, n + 1);
		names[n++] = xstrndup(ent->d_name, len - 3);
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
	return 0;
}
