#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/msg.h"
#include "core/alloc.h"
#include "core/names.h"
#include "queue_int.h"
#include "core/sig.h"

/* Message groups that have a message in flight ahead: nothing behind it in
 * the group may go out (SQS FIFO).  A small open-addressing set of ids
 * by their bytes (an id may hold a NUL). */
struct gkey {
	size_t n;
	char p[];
};

struct groupset {
	struct gkey **slot;
	size_t cap, n;
};

static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The slot that holds s, or the empty one where it would go. */
static size_t
gs_find(const struct groupset *g, const char *s, size_t n)
{
	size_t i = hash_bytes(s, n) & (g->cap - 1);

	while (g->slot[i] != NULL && !(g->slot[i]->n == n && memcmp(g->slot[i]->p, s, n) == 0))
		i = (i + 1) & (g->cap - 1);
	return i;
}

static int
gs_has(const struct groupset *g, const char *s, size_t n)
{
	return g->cap > 0 && g->slot[gs_find(g, s, n)] != NULL;
}

static void
gs_add(struct groupset *g, const char *s, size_t n)
{
	if (gs_has(g, s, n))
		return;
	if (2 * (g->n + 1) > g->cap) {
		struct groupset ng = { xcalloc(g->cap ? 2 * g->cap : 64, sizeof *ng.slot),
		    g->cap ? 2 * g->cap : 64, g->n };
		for (size_t i = 0; i < g->cap; i++)
			if (g->slot[i] != NULL)
				ng.slot[gs_find(&ng, g->slot[i]->p, g->slot[i]->n)] = g->slot[i];
		free(g->slot);
		*g = ng;
	}
	struct gkey *k = xmalloc(sizeof *k + n);
	k->n = n;
	memcpy(k->p, s, n);
	g->slot[gs_find(g, s, n)] = k;
	g->n++;
}

static void
gs_free(struct groupset *g)
{
	for (size_t i = 0; i < g->cap; i++)
		free(g->slot[i]);
	free(g->slot);
}

void
ids_add(struct idlist *l, int64_t id)
{
	XGROW(&l->v, &l->cap, l->n + 1);
	l->v[l->n++] = id;
}

static int64_t
data_version(struct queue *q)
{
	sqlite3_stmt *s;
	int64_t v = 0;

	if (sqlite3_prepare_v2(q->db, "PRAGMA data_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	return v;
}

/* Offsets into the arena, turned into pointers once it stops moving. */
struct pending {
	size_t body, group, dedup, attrs, attrs_md5, src;
};

static size_t
arena_put(struct buf *b, sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return (size_t)-1;
	const void *p = sqlite3_column_blob(s, col);
	size_t off = b->n;
	buf_add(b, p, (size_t)sqlite3_column_bytes(s, col));
	buf_addc(b, '\0');
	return off;
}

static const char *
arena_ptr(const struct buf *b, size_t off)
{
	return off == (size_t)-1 ? NULL : b->p + off;
}

/* "<rowid>.<receipt as 16 hex digits>", as q_parse_handle() reads it. */
static void
format_handle(char out[64], int64_t rowid, int64_t receipt)
{
	static const char hex[] = "0123456789abcdef";
	char digits[24];
	int n = 0;
	uint64_t r = (uint64_t)rowid;

	do {
		digits[n++] = (char)('0' + r % 10);
		r /= 10;
	} while (r > 0);
	while (n > 0)
		*out++ = digits[--n];
	*out++ = '.';
	for (int i = 15; i >= 0; i--)
		*out++ = hex[((uint64_t)receipt >> (4 * i)) & 15];
	*out = '\0';
}

/* Fills m from a row (uuid, body, receives, sent_at, first_recv, grp,
 * dedup, attrs, attrs_md5, src, id, receipt). */
static void
fill_msg(struct queue *q, sqlite3_stmt *s, int b, struct q_msg *m, struct pending *p)
{
	memset(m, 0, sizeof *m);
	/* On the hot path: copies and formats by hand, not by snprintf. */
	const char *id = (const char *)sqlite3_column_text(s, b + 0);
	size_t idlen = id != NULL ? (size_t)sqlite3_column_bytes(s, b + 0) : 0;
	if (idlen >= sizeof m->id)
		idlen = sizeof m->id - 1;
	memcpy(m->id, id != NULL ? id : "", idlen);
	m->id[idlen] = '\0';
	p->body = arena_put(&q->arena, s, b + 1);
	m->len = (size_t)sqlite3_column_bytes(s, b + 1);
	m->receives = (long)sqlite3_column_int64(s, b + 2);
	m->sent_ms = sqlite3_column_int64(s, b + 3);
	m->first_ms = sqlite3_column_int64(s, b + 4);
	p->group = arena_put(&q->arena, s, b + 5);
	m->group_len = (size_t)sqlite3_column_bytes(s, b + 5);
	p->dedup = arena_put(&q->arena, s, b + 6);
	m->dedup_len = (size_t)sqlite3_column_bytes(s, b + 6);
	p->attrs = arena_put(&q->arena, s, b + 7);
	p->attrs_md5 = arena_put(&q->arena, s, b + 8);
	p->src = arena_put(&q->arena, s, b + 9);
	m->rowid = sqlite3_column_int64(s, b + 10);
	m->receipt = sqlite3_column_int64(s, b + 11);
	if (q->a.fifo)
		snprintf(m->seq, sizeof m->seq, "%020lld", (long long)m->rowid);
	if (m->receipt != 0)
		format_handle(m->handle, m->rowid, m->receipt);
}

static void
fix_pointers(struct queue *q, struct q_msg *m, const struct pending *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		m[i].body = arena_ptr(&q->arena, p[i].body);
		if (m[i].body == NULL)
			m[i].body = "";
		m[i].group = arena_ptr(&q->arena, p[i].group);
		m[i].dedup = arena_ptr(&q->arena, p[i].dedup);
		m[i].attrs = arena_ptr(&q->arena, p[i].attrs);
		m[i].attrs_md5 = arena_ptr(&q->arena, p[i].attrs_md5);
		m[i].src = arena_ptr(&q->arena, p[i].src);
	}
}

#define ROW_COLS "uuid, body, receives, sent_at, first_recv, grp, dedup, attrs, attrs_md5, src, id, receipt"

/* A batch holds at most this many bytes of bodies (or one message): the
 * memory of a receive is bounded, whatever the queue holds. */
enum { BATCH_BYTES = 16 << 20 };

/* Range claims of consume mode that are still running, in id order;
 * with reap (inside a write transaction) expired ones are ended: their
 * messages count one more receive and are visible again. */
static void
claims_load(struct queue *q, int64_t now, int reap, struct idlist *active)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_CLAIMS, "SELECT lo, hi, until, token, at FROM claim ORDER BY lo");
	struct idlist dead = { 0 };

	while (qdb_step(q, s) > 0) {
		int64_t lo = sqlite3_column_int64(s, 0), hi = sqlite3_column_int64(s, 1);
		if (sqlite3_column_int64(s, 2) > now) {
			ids_add(active, lo);
			ids_add(active, hi);
			if (q->next_visible == 0 || sqlite3_column_int64(s, 2) < q->next_visible)
				q->next_visible = sqlite3_column_int64(s, 2);
		} else if (reap) {
			ids_add(&dead, lo);
			ids_add(&dead, sqlite3_column_int64(s, 3));
			ids_add(&dead, hi);
			ids_add(&dead, sqlite3_column_int64(s, 4));
		}
	}
	for (size_t i = 0; i < dead.n; i += 4) {
		sqlite3_stmt *u = qdb_stmt(q, ST_REAP, "UPDATE msg SET receives = receives + 1,"
		    " first_recv = coalesce(first_recv, ?3) WHERE id BETWEEN ?1 AND ?2");
		sqlite3_bind_int64(u, 1, dead.v[i]);
		sqlite3_bind_int64(u, 2, dead.v[i + 2]);
		sqlite3_bind_int64(u, 3, dead.v[i + 3]);
		qdb_step(q, u);
		sqlite3_stmt *d = qdb_stmt(q, ST_UNCLAIM, "DELETE FROM claim WHERE lo = ?1 AND token = ?2");
		sqlite3_bind_int64(d, 1, dead.v[i]);
		sqlite3_bind_int64(d, 2, dead.v[i + 1]);
		qdb_step(q, d);
	}
	free(dead.v);
}

/* 1 if id lies in an active claim; *at walks the ranges as ids grow. */
static int
claimed(const struct idlist *active, size_t *at, int64_t id)
{
	while (*at < active->n && active->v[*at + 1] < id)
		*at += 2;
	return *at < active->n && active->v[*at] <= id;
}

struct scan_out {
	struct idlist take, poison, expired;
	struct idlist runs;	/* lo, hi pairs of consecutive messages taken */
};

/* One pass over the queue in order: what to take, what is poison (past
 * maxReceiveCount: to the dead-letter queue), what is past retention.
 * A run of taken messages breaks wherever a message that stays lies
 * between two taken ones. */
/* The lean fill of a body-only consume: rowid, body, counts. */
static void
fill_body(struct queue *q, sqlite3_stmt *s, struct q_msg *m, struct pending *p)
{
	memset(p, 0xff, sizeof *p);	/* every string absent... */
	p->body = arena_put(&q->arena, s, 5);	/* ...but the body */
	m->rowid = sqlite3_column_int64(s, 0);
	m->receives = (long)sqlite3_column_int64(s, 2);
	m->sent_ms = sqlite3_column_int64(s, 3);
	m->len = (size_t)sqlite3_column_bytes(s, 5);
	m->first_ms = 0;
	m->id[0] = m->seq[0] = '\0';
}

static void
scan(struct queue *q, int64_t now, int64_t after, size_t max, const struct idlist *active,
    struct scan_out *o, struct q_msg *out, struct pending *pend, int body_only)
{
	const struct q_attrs *a = &q->a;
	int64_t cutoff = now - a->retention_ms;
	struct groupset blocked = { 0 };
	size_t at = 0;
	int open = 0;		/* the last run may grow */
	/* With out, the messages taken are read in the same pass. */
	sqlite3_stmt *s = out == NULL ?
	    qdb_stmt(q, ST_SCAN, "SELECT id, visible_at, receives, sent_at, grp, length(body) FROM msg"
		" WHERE id > ?1 ORDER BY id") : body_only ?
	    qdb_stmt(q, ST_SCAN_BODY, "SELECT id, visible_at, receives, sent_at, grp, body FROM msg"
		" WHERE id > ?1 ORDER BY id") :
	    qdb_stmt(q, ST_SCAN_FULL, "SELECT id, visible_at, receives, sent_at, grp, " ROW_COLS
		" FROM msg WHERE id > ?1 ORDER BY id");

	/* FIFO must see every earlier row: one in flight blocks its group. */
	sqlite3_bind_int64(s, 1, a->fifo ? 0 : after);
	size_t bytes = 0;	/* a batch holds at most BATCH_BYTES, or one message */
	while (o->take.n < max && bytes < BATCH_BYTES && qdb_step(q, s) > 0) {
		int64_t id = sqlite3_column_int64(s, 0), vis = sqlite3_column_int64(s, 1);
		long rec = (long)sqlite3_column_int64(s, 2);
		const char *grp = (const char *)sqlite3_column_text(s, 4);
		size_t glen = (size_t)sqlite3_column_bytes(s, 4);
		int busy = vis > now || claimed(active, &at, id);
		if (sqlite3_column_int64(s, 3) < cutoff) {
			ids_add(&o->expired, id);	/* deleted before the runs end */
			continue;
		}
		if (busy || id <= after || (a->fifo && grp != NULL && gs_has(&blocked, grp, glen))) {
			if (vis > now && (q->next_visible == 0 || vis < q->next_visible))
				q->next_visible = vis;
			/* In flight, or had by this run: later ones of its
			 * group wait, to keep the group's order. */
			if (a->fifo && grp != NULL && (busy || id <= after))
				gs_add(&blocked, grp, glen);
			open = 0;
			continue;
		}
		if (a->max_receives > 0 && a->dlq[0] != '\0' && rec >= a->max_receives) {
			ids_add(&o->poison, id);
			open = 0;
			continue;
		}
		if (out != NULL && body_only)
			fill_body(q, s, &out[o->take.n], &pend[o->take.n]);
		else if (out != NULL)
			fill_msg(q, s, 5, &out[o->take.n], &pend[o->take.n]);
		/* Without out, column 5 is the body's length. */
		bytes += out == NULL ? (size_t)sqlite3_column_int64(s, 5) :
		    (size_t)sqlite3_column_bytes(s, body_only ? 5 : 6);
		ids_add(&o->take, id);
		if (open) {
			o->runs.v[o->runs.n - 1] = id;
		} else {
			ids_add(&o->runs, id);
			ids_add(&o->runs, id);
			open = 1;
		}
	}
	sqlite3_reset(s);
	gs_free(&blocked);
}

static void
scan_free(struct scan_out *o)
{
	free(o->take.v);
	free(o->poison.v);
	free(o->expired.v);
	free(o->runs.v);
}


static void
delete_ids(struct queue *q, const struct idlist *l)
{
	sqlite3_stmt *s = qdb_stmt(q, ST_EXPIRE_ONE, "DELETE FROM msg WHERE id = ?1");

	for (size_t i = 0; i < l->n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, l->v[i]);
		qdb_step(q, s);
	}
}

/* Starts a receive: the transaction, attributes, claims, the scan. */
static int
receive_begin(struct queue *q, int64_t after, size_t max, struct idlist *active,
    struct scan_out *o, int64_t *now, struct q_msg *out, struct pending *pend, int body_only)
{
	buf_reset(&q->arena);
	/* A lease need not survive a power cut: lost, it only makes the
	 * message visible again.  The next synced commit carries it anyway. */
	qdb_exec(q, "PRAGMA synchronous=NORMAL");
	if (qdb_begin(q) != 0 || qdb_load_attrs(q) != 0)
		return q->err.code;
	*now = clock_now_ms();
	q->next_visible = 0;
	claims_load(q, *now, 1, active);
	scan(q, *now, after, max, active, o, out, pend, body_only);
	delete_ids(q, &o->expired);
	q->data_version = data_version(q);	/* q_wait() wakes on any later commit */
	return q->err.code;
}

/* Commits a receive and moves its poison messages; *n stays 0 when it
 * failed, as nothing was received. */
static int
receive_end(struct queue *q, struct q_msg *out, struct pending *pend, size_t got, size_t *n,
    struct idlist *active, struct scan_out *o, struct ev_err *e)
{
	qdb_commit(q);
	if (q->err.code == 0) {
		*n = got;
		fix_pointers(q, out, pend, got);
	}
	free(pend);
	/* A move that fails leaves them where they are, for a later receive
	 * to move: the receive itself went through. */
	if (q->err.code == 0 && o->poison.n > 0 && qdl_move(q, &o->poison) != 0) {
		qdb_rollback(q);
		err_clear(&q->err);
	}
	free(active->v);
	scan_free(o);
	int rc = qdb_leave(q, e);
	/* After the commit: it is how fast the next receive starts. */
	sqlite3_exec(q->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return rc;
}

int
q_receive(struct queue *q, int64_t after, size_t max, int64_t lease_ms, struct q_msg *out,
    size_t *n, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->receive(q, after, max, lease_ms, out, n, e);
	struct idlist active = { 0 };
	struct scan_out o = { 0 };
	int64_t now;
	size_t got = 0;

	*n = 0;
	if (max == 0)
		return 0;
	qdb_enter(q);
	receive_begin(q, after, max, &active, &o, &now, NULL, NULL, 0);
	int64_t lease = lease_ms >= 0 ? lease_ms : q->a.visibility_ms;
	struct pending *pend = xcalloc(o.take.n + 1, sizeof *pend);
	sqlite3_stmt *s = qdb_stmt(q, ST_CLAIM,
	    "UPDATE msg SET visible_at = ?2, receives = receives + 1, receipt = ?3,"
	    " first_recv = coalesce(first_recv, ?4) WHERE id = ?1 RETURNING " ROW_COLS);
	for (size_t i = 0; i < o.take.n && q->err.code == 0; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, o.take.v[i]);
		sqlite3_bind_int64(s, 2, now + lease);
		sqlite3_bind_int64(s, 3, (int64_t)(rand64() >> 1) | 1);
		sqlite3_bind_int64(s, 4, now);
		if (qdb_step(q, s) > 0)
			fill_msg(q, s, 0, &out[got], &pend[got]), got++;
		while (qdb_step(q, s) > 0)
			;
	}
	return receive_end(q, out, pend, got, n, &active, &o, e);
}

int64_t
q_consume_hold_ms(const struct queue *q)
{
	return q->a.visibility_ms > Q_CONSUME_MIN_MS ? q->a.visibility_ms : Q_CONSUME_MIN_MS;
}

/* One claim row leases a whole run: no message row is rewritten. */
static void
claim_runs(struct queue *q, const struct scan_out *o, int64_t now, int64_t token)
{
	for (size_t r = 0; r < o->runs.n; r += 2) {
		sqlite3_stmt *c = qdb_stmt(q, ST_CLAIM_RUN, "INSERT INTO claim VALUES(?1, ?2, ?3, ?4, ?5)");
		sqlite3_bind_int64(c, 1, o->runs.v[r]);
		sqlite3_bind_int64(c, 2, o->runs.v[r + 1]);
		sqlite3_bind_int64(c, 3, now + q_consume_hold_ms(q));
		sqlite3_bind_int64(c, 4, token);
		sqlite3_bind_int64(c, 5, now);
		qdb_step(q, c);
	}
	q->runs.n = 0;
	for (size_t r = 0; r < o->runs.n; r++)
		ids_add(&q->runs, o->runs.v[r]);
	q->run_token = token;
}

int
q_consume(struct queue *q, int64_t after, size_t max, int flags, struct q_msg *out, size_t *n,
    struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->consume(q, after, max, out, n, e);
	struct idlist active = { 0 };
	struct scan_out o = { 0 };
	int64_t now, token = (int64_t)(rand64() >> 1) | 1;

	*n = 0;
	if (max == 0)
		return 0;
	qdb_enter(q);
	struct pending *pend = xcalloc(max + 1, sizeof *pend);
	receive_begin(q, after, max, &active, &o, &now, out, pend, flags & Q_BODY_ONLY);
	claim_runs(q, &o, now, token);
	for (size_t i = 0; i < o.take.n; i++) {
		struct q_msg *m = &out[i];
		m->receives++;
		if (m->first_ms == 0)
			m->first_ms = now;
		m->receipt = token;
		if (!(flags & Q_BODY_ONLY))
			format_handle(m->handle, m->rowid, token);
	}
	int rc = receive_end(q, out, pend, o.take.n, n, &active, &o, e);
	if (rc != 0)
		q->runs.n = 0;
	return rc;
}

int
q_consume_done(struct queue *q, const struct q_msg *out, size_t delivered, size_t *deleted,
    struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->consume_done(q, out, delivered, deleted, e);
	size_t gone = 0, i = 0;

	*deleted = 0;
	if (q->runs.n == 0)
		return 0;
	qdb_enter(q);
	qdb_begin(q);
	int64_t now = clock_now_ms();
	for (size_t r = 0; r < q->runs.n && q->err.code == 0; r += 2) {
		int64_t lo = q->runs.v[r], hi = q->runs.v[r + 1], last = 0;
		size_t first = i;
		for (; i < delivered && out[i].rowid <= hi; i++)
			last = out[i].rowid;
		sqlite3_stmt *c = qdb_stmt(q, ST_UNCLAIM_LIVE,
		    "DELETE FROM claim WHERE lo = ?1 AND token = ?2 AND until > ?3");
		sqlite3_bind_int64(c, 1, lo);
		sqlite3_bind_int64(c, 2, q->run_token);
		sqlite3_bind_int64(c, 3, now);
		if (qdb_step(q, c) < 0 || sqlite3_changes(q->db) == 0 || i == first)
			continue;	/* lease gone (someone may have them), or none delivered */
		sqlite3_stmt *d = qdb_stmt(q, ST_DELETE_RUN, "DELETE FROM msg WHERE id BETWEEN ?1 AND ?2");
		sqlite3_bind_int64(d, 1, lo);
		sqlite3_bind_int64(d, 2, last);
		if (qdb_step(q, d) == 0)
			gone += (size_t)sqlite3_changes(q->db);
	}
	if (qdb_commit(q) == 0) {
		*deleted = gone;
		q->runs.n = 0;
	}
	return qdb_leave(q, e);
}

int
q_consume_extend(struct queue *q, int *held, struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->consume_extend(q, held, e);
	*held = q->runs.n > 0;
	if (q->runs.n == 0)
		return 0;
	qdb_enter(q);
	qdb_begin(q);
	int64_t now = clock_now_ms();
	sqlite3_stmt *s = qdb_prepare(q, "UPDATE claim SET until = ?1 WHERE token = ?2 AND until > ?3");
	sqlite3_bind_int64(s, 1, now + q_consume_hold_ms(q));
	sqlite3_bind_int64(s, 2, q->run_token);
	sqlite3_bind_int64(s, 3, now);
	if (qdb_step(q, s) == 0)
		*held = (size_t)sqlite3_changes(q->db) * 2 == q->runs.n;
	sqlite3_finalize(s);
	qdb_commit(q);
	return qdb_leave(q, e);
}

int
q_peek(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n, struct ev_err *e)
{
	if (q->ops != NULL && q->ops->peek != NULL)
		return q->ops->peek(q, after, max, out, n, e);
	if (q->ops != NULL) {
		*n = 0;
		return err_set(e, EV_USAGE, "queue '%s': a remote queue cannot be peeked at "
		    "(%s reads a message only by receiving it)", q->name, q->ops->engine);
	}
	size_t got = 0, bytes = 0;

	*n = 0;
	qdb_enter(q);
	struct pending *pend = xcalloc(max + 1, sizeof *pend);
	buf_reset(&q->arena);
	qdb_exec(q, "BEGIN");
	qdb_load_attrs(q);
	int64_t now = clock_now_ms();
	sqlite3_stmt *s = qdb_stmt(q, ST_PEEK, "SELECT " ROW_COLS " FROM msg m"
	    " WHERE id > ?4 AND visible_at <= ?1 AND sent_at >= ?2 AND NOT EXISTS"
	    " (SELECT 1 FROM claim WHERE m.id BETWEEN lo AND hi AND until > ?1)"
	    " ORDER BY id LIMIT ?3");
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, now - q->a.retention_ms);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	sqlite3_bind_int64(s, 4, after);
	while (got < max && bytes < BATCH_BYTES && qdb_step(q, s) > 0) {
		fill_msg(q, s, 0, &out[got], &pend[got]);
		bytes += out[got].len;
		out[got++].handle[0] = '\0';	/* a peek leases nothing */
	}
	sqlite3_reset(s);
	if (qdb_commit(q) == 0) {
		fix_pointers(q, out, pend, got);
		*n = got;
	}
	free(pend);
	return qdb_leave(q, e);
}

int
q_parse_handle(const char *s, int64_t *rowid, int64_t *receipt)
{
	char *end;

	errno = 0;
	long long id = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '.' || id <= 0)
		return -1;
	const char *r = end + 1;
	unsigned long long rc = strtoull(r, &end, 16);
	if (errno != 0 || end - r != 16 || *end != '\0' || rc == 0)
		return -1;
	*rowid = id;
	*receipt = (int64_t)rc;
	return 0;
}

/* Runs s (?1 rowid, ?2 receipt, ?3 now, ?4 now + delay_ms) for each handle
 * in one transaction; the statement's own WHERE fences stale handles. */
static int
by_handle(struct queue *q, sqlite3_stmt *s, const struct q_msg *m, size_t n, int64_t delay_ms,
    unsigned char *ok, size_t *donep, struct ev_err *e)
{
	size_t done = 0;

	if (donep != NULL)
		*donep = 0;
	if (ok != NULL)
		memset(ok, 0, n);
	qdb_begin(q);
	int64_t now = clock_now_ms();
	for (size_t i = 0; i < n && q->err.code == 0; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, m[i].rowid);
		sqlite3_bind_int64(s, 2, m[i].receipt);
		sqlite3_bind_int64(s, 3, now);
		if (sqlite3_bind_parameter_count(s) >= 4)
			sqlite3_bind_int64(s, 4, now + delay_ms);
		int changed = qdb_step(q, s) == 0 && sqlite3_changes(q->db) > 0;
		if (ok != NULL)
			ok[i] = (unsigned char)changed;
		done += (size_t)changed;
	}
	if (qdb_commit(q) == 0 && donep != NULL)
		*donep = done;
	if (q->err.code != 0 && ok != NULL)
		memset(ok, 0, n);
	return qdb_leave(q, e);
}

int
q_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok, size_t *done,
    struct ev_err *e)
{
	if (q->ops != NULL)
		return q->ops->del(q, m, n, ok, done, e);
	if (done != NULL)
		*done = 0;
	if (n == 0)
		return 0;
	qdb_enter(q);
	return by_handle(q, qdb_stmt(q, ST_DELETE,
	    "DELETE FROM msg WHERE id = ?1 AND receipt = ?2 AND visible_at > ?3"), m, n, 0, ok, done, e);
}

int
q_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms, int undeliver,
    unsigned char *ok, size_t *done, struct ev_err *e)
{
	/* Remotely the receive stays counted: SQS cannot take it back. */
	if (q->ops != NULL)
		return q->ops->release(q, m, n, delay_ms, ok, done, e);
	if (done != NULL)
		*done = 0;
	if (n == 0)
		return 0;
	qdb_enter(q);
	sqlite3_stmt *s = undeliver ?
	    qdb_stmt(q, ST_UNDELIVER, "UPDATE msg SET visible_at = ?4, receives = receives - 1,"
		" receipt = NULL, first_recv = CASE WHEN receives = 1 THEN NULL ELSE first_recv END"
		" WHERE id = ?1 AND receipt = ?2 AND visible_at > ?3") :
	    qdb_stmt(q, ST_RELEASE, "UPDATE msg SET visible_at = ?4"
		" WHERE id = ?1 AND receipt = ?2 AND visible_at > ?3");
	return by_handle(q, s, m, n, delay_ms, ok, done, e);
}

static void
watch_dir(struct queue *q)
{
	char *tmp = xstrdup(q->path);

	q->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (q->ino_fd >= 0 && inotify_add_watch(q->ino_fd, dirname(tmp),
	    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(q->ino_fd);
		q->ino_fd = -2;		/* polling only */
	}
	free(tmp);
}

void
q_wait(struct queue *q, int64_t deadline)
{
	if (q->ops != NULL) {
		q->ops->wait(q, deadline);
		return;
	}
	q_wait_fd(q, deadline, -1);
}

void
q_wait_fd(struct queue *q, int64_t deadline, int watch_fd)
{
	if (q->ops != NULL) {
		q->ops->wait(q, deadline);
		return;
	}
	int64_t version = q->data_version;

	if (q->ino_fd == -1)
		watch_dir(q);
	for (;;) {
		if (sig_stop)
			return;		/* asked to stop: the caller settles and exits */
		int64_t now = clock_mono_ms(), timeout = 100;
		if (deadline >= 0 && deadline - now < timeout)
			timeout = deadline - now;
		if (q->next_visible > 0) {
			int64_t due = q->next_visible - clock_now_ms();
			if (due < timeout)
				timeout = due;
		}
		if (timeout <= 0)
			return;
		/* events 0: a pipe's write end reports only POLLERR (its reader
		 * left), a socket POLLHUP. */
		struct pollfd pfd[2] = { { q->ino_fd >= 0 ? q->ino_fd : -1, POLLIN, 0 },
		    { watch_fd, 0, 0 } };
		int rc = poll(pfd, 2, (int)timeout);
		if (rc < 0 && errno == EINTR)
			return;
		if (rc > 0 && (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL)))
			return;
		if (rc > 0 && pfd[0].revents) {
			char ev[4096];
			while (read(q->ino_fd, ev, sizeof ev) > 0)
				;
		}
		if (data_version(q) != version)
			return;
		if (q->next_visible > 0 && clock_now_ms() >= q->next_visible)
			return;
	}
}
