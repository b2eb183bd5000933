/* fn_esm — --queue: Lambda's SQS event source mapping over an evq queue.
 *
 * Batches are leased (for the queue's VisibilityTimeout, at least the
 * function's timeout) only when an invocation slot is free, so no lease
 * ticks away while waiting to run.  A batch that succeeds is deleted; a
 * failed one is left to its lease, so it comes back and the queue's
 * redrive policy counts it; {"batchItemFailures":[...]} leaves just the
 * ones it names.  Nothing is deleted before the handler has answered: if
 * fnrun dies, the leases run out and the messages come back.  With a
 * redrive policy, "drained" waits for the leases of the messages it left
 * to run out and receives them again, so a poison message reaches the
 * dead-letter queue in one run, as Lambda's mapping keeps at it. */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jx.h"
#include "fn.h"
#include "core/msg.h"
#include "core/out.h"
#include "queue/queue.h"
#include "core/sig.h"

/* Lambda's defaults and limits for an SQS BatchSize. */
enum { ESM_BATCH = 10, ESM_FIFO_MAX = 10 };

struct esm {
	struct queue *q;
	int64_t held_until;	/* when the last lease of a message left ends (mono ms) */
};

/* One leased batch, copied out of q_receive's buffer (only the id and
 * receipt are used again). */
struct esm_batch {
	int64_t until;		/* its lease's end, monotonic ms */
	size_t n;
	struct q_msg m[];
};

/* Which messages a response names as failed: 0 with keep[] set (none set
 * for a complete success), or -1 when the response is malformed, which
 * Lambda takes as the whole batch failing. */
static int
item_failures(jv res, const struct esm_batch *b, unsigned char *keep)
{
	if (jv_get_kind(res) != JV_KIND_OBJECT)
		return 0;
	jv list = jv_object_get(jv_copy(res), jv_string("batchItemFailures"));
	int kind = jv_get_kind(list), bad = 0;
	if (kind == JV_KIND_INVALID || kind == JV_KIND_NULL) {
		jv_free(list);
		return 0;
	}
	if (kind != JV_KIND_ARRAY) {
		jv_free(list);
		return -1;
	}
	jv_array_foreach(list, i, item) {
		jv id = jv_get_kind(item) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(item), jv_string("itemIdentifier")) : jv_invalid();
		size_t k = b->n;
		if (jv_get_kind(id) == JV_KIND_STRING)
			for (k = 0; k < b->n && strcmp(b->m[k].id, jv_string_value(id)) != 0; k++)
				;
		if (k == b->n)
			bad = 1;	/* missing, empty, null or not in the batch */
		else
			keep[k] = 1;
		jv_free(id);
		jv_free(item);
	}
	jv_free(list);
	return bad ? -1 : 0;
}

/* A successful invocation: deletes the batch but for the messages the
 * response says failed.  Returns whether any was left to its lease. */
static int
settle_success(struct esm *e, struct esm_batch *b, const char *res, size_t n)
{
	unsigned char *keep = xcalloc(b->n, 1);
	struct q_msg *del = xcalloc(b->n, sizeof *del);
	size_t nd = 0, left = 0;

	struct ev_err pe;
	jv v;
	jx_parse(res, n, &v, &pe);	/* what libjq cannot take is null: no list */
	int rc = item_failures(v, b, keep);
	jv_free(v);
	if (rc < 0) {
		msg_warn("queue '%s': invalid batchItemFailures in the response: all %zu "
		    "message(s) left to their lease", q_name(e->q), b->n);
		left = b->n;
	} else {
		for (size_t i = 0; i < b->n; i++)
			if (keep[i])
				left++;
			else
				del[nd++] = b->m[i];
		size_t gone;
		struct ev_err err;
		if (q_delete(e->q, del, nd, NULL, &gone, &err) != 0) {
			msg_warn("%s: %zu message(s) left to their lease", err.msg, nd);
			left += nd;
		} else if (gone < nd)
			msg_warn("queue '%s': %zu message(s) not deleted: their lease ran out first",
			    q_name(e->q), nd - gone);
	}
	free(keep);
	free(del);
	return left > 0;
}

/* on_done: settles a batch with the queue.  A failed one stays leased
 * (Lambda: the whole batch is visible again when the lease ends); one a
 * stop request dropped unrun is made visible at once, its receive not
 * counted. */
static int
on_done(void *ctx, void *tag, int failed, const char *res, size_t n)
{
	struct esm *e = ctx;
	struct esm_batch *b = tag;
	int bad = 1;

	if (res == NULL) {
		struct ev_err err;
		if (q_release(e->q, b->m, b->n, 0, 1, NULL, NULL, &err) != 0)
			msg_warn("%s: %zu message(s) left to their lease", err.msg, b->n);
		bad = 0;
	} else if (!failed) {
		bad = settle_success(e, b, res, n);
	}
	if (bad && b->until > e->held_until)
		e->held_until = b->until;
	free(b);
	return bad;
}

/* Invokes the function with {"Records":[...]} of the n leased messages. */
static int
submit(struct fn_runner *r, struct queue *q, const struct q_msg *m, size_t n, int64_t until,
    struct buf *ev)
{
	struct esm_batch *b = xmalloc(sizeof *b + n * sizeof b->m[0]);

	b->until = until;
	buf_reset(ev);
	buf_adds(ev, "{\"Records\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(ev, ',');
		q_envelope(q, &m[i], ev);
		b->m[i] = m[i];
		b->m[i].body = NULL;	/* q_receive's buffer: gone next time */
		b->m[i].group = b->m[i].dedup = b->m[i].attrs = NULL;
		b->m[i].attrs_md5 = b->m[i].src = NULL;
	}
	b->n = n;
	buf_adds(ev, "]}");
	return fn_submit(r, ev->p, ev->n, b);
}

int
fn_esm_run(struct fn_opts *o, const char *name, int follow, struct ev_err *err)
{
	struct esm e = { NULL, 0 };
	struct q_open_opts oo = { .endpoint_url = o->endpoint_url };
	int rc = q_open_with(name, Q_OPEN, NULL, &oo, &e.q, err);
	if (rc != 0)
		return rc;
	const struct q_attrs *a = q_attrs(e.q);
	size_t max = o->batch > 0 ? (size_t)o->batch : ESM_BATCH;
	int64_t lease = a->visibility_ms > o->timeout_ms ? a->visibility_ms : o->timeout_ms;
	int redrive = a->max_receives > 0;
	struct buf ev = { 0 };
	struct fn_runner *r;

	if (a->fifo && max > ESM_FIFO_MAX) {
		q_close(e.q);
		return err_set(err, EV_USAGE, "--batch: at most %d for a FIFO queue", ESM_FIFO_MAX);
	}
	o->batch = 0;		/* the batches are the queue's */
	o->on_done = on_done;
	o->done_ctx = &e;
	if ((rc = fn_open(o, &r, err)) != 0) {
		q_close(e.q);
		return rc;
	}
	struct q_msg *m = xcalloc(max, sizeof *m);
	int slots = fn_pump(r, 0);
	while (!sig_stop && rc == 0) {
		size_t n = 0;
		if (slots > 0 && (rc = q_receive(e.q, 0, max, lease, m, &n, err)) != 0)
			break;
		if (n > 0) {
			/* Past the lease as the queue set it: it stamped it before we looked. */
			rc = submit(r, e.q, m, n, clock_mono_ms() + lease + 5, &ev);
			slots = fn_pump(r, 0);
		} else if (fn_busy(r)) {
			slots = fn_pump(r, 100);	/* back sooner when one ends */
		} else if (follow || (redrive && clock_mono_ms() < e.held_until)) {
			/* Waiting for messages, or for ours to come back so the
			 * redrive policy can count them. */
			if (out_flush() != 0)
				rc = err_sys(err, EV_IOERR, "write error");
			q_wait(e.q, follow ? -1 : e.held_until);
			slots = fn_pump(r, 0);
		} else {
			break;	/* drained: nothing visible, nothing of ours running or leased */
		}
	}
	free(m);
	buf_free(&ev);
	struct ev_err fe;
	int status = fn_finish(r, &fe);
	if (status > EV_NONE) {
		*err = fe;
		rc = status;
	}
	q_close(e.q);
	return rc != 0 ? rc : status;
}
