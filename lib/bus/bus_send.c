/* bus_send — one attempt at delivering a batch to a stdout:, file:,
 * queue: or log: target.  Each batch is one write, one transaction or
 * one log append, so a crash leaves whole batches behind. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aws/aws.h"
#include "bus_int.h"
#include "evlog/evlog.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/out.h"
#include "jpath.h"
#include "queue/queue.h"
#include "shape.h"

void
bus_item_fail(struct bus_item *it, int final, const char *code, const char *fmt, ...)
{
	va_list ap;

	it->state = final ? ITEM_FINAL : ITEM_RETRY;
	it->code = code;
	va_start(ap, fmt);
	vsnprintf(it->why, sizeof it->why, fmt, ap);
	va_end(ap);
}

/* stdout: and file: — every line (its payload and the '\n' after it in
 * the batch) in one writev; a failure leaves the items whose line went
 * out whole done and the rest to be retried from the byte that did not. */
static void
send_lines(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct iovec iov[BUS_BATCH];
	size_t total = 0, off = 0;
	int e = 0;

	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = items[i]->payload + items[i]->sent;
		iov[i].iov_len = items[i]->n + 1 - items[i]->sent;
		total += iov[i].iov_len;
	}
	if (r->t->kind == TGT_STDOUT) {
		pthread_mutex_lock(&bus_stdout_mu);
		for (size_t i = 0; i < n; i++)
			out_write(iov[i].iov_base, iov[i].iov_len);
		off = total;
		if ((out_line_mode() || out_pending() >= BUS_BATCH_BYTES) && out_flush() != 0) {
			e = errno;
			off = 0;	/* which of them got out is not ours to know */
		}
		pthread_mutex_unlock(&bus_stdout_mu);
		if (e != 0) {
			for (size_t i = 0; i < n; i++) {
				bus_item_fail(items[i], 1, "IO_ERROR", "stdout: %s", strerror(e));
				items[i]->errnum = e;
			}
			return;
		}
	}
	for (size_t first = 0; off < total;) {
		ssize_t w = writev(r->fd, iov + first, (int)(n - first));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		off += (size_t)w;
		for (size_t k = (size_t)w; first < n && k >= iov[first].iov_len; first++)
			k -= iov[first].iov_len;
		if (first < n) {
			size_t done = 0;
			for (size_t i = 0; i < first; i++)
				done += iov[i].iov_len;
			size_t part = off - done;
			iov[first].iov_base = (char *)iov[first].iov_base + part;
			iov[first].iov_len -= part;
		}
	}
	for (size_t i = 0, at = 0; i < n; i++) {
		size_t len = items[i]->n + 1 - items[i]->sent;
		if (at + len <= off) {
			items[i]->state = ITEM_DONE;
		} else {
			items[i]->sent += off > at ? off - at : 0;
			bus_item_fail(items[i], 0, "IO_ERROR", "%s: %s", r->t->arg, strerror(e));
			items[i]->errnum = e;
		}
		at += len;
	}
}

void
bus_item_status(struct bus_item *it, int status, const char *other, const char *why)
{
	static const struct {
		int status, final;
		const char *code;
	} fates[] = {
		{ EV_TEMPFAIL, 0, "THROTTLING" }, { EV_UNAVAILABLE, 0, "SERVICE_UNAVAILABLE" },
		{ EV_NOPERM, 1, "NO_PERMISSIONS" }, { EV_NOINPUT, 1, "NO_RESOURCE" },
		{ EV_DATAERR, 1, "INVALID_PARAMETER" }, { EV_USAGE, 1, "INVALID_PARAMETER" },
	};

	if (status == 0) {
		it->state = ITEM_DONE;
		return;
	}
	for (size_t i = 0; i < sizeof fates / sizeof fates[0]; i++)
		if (fates[i].status == status) {
			bus_item_fail(it, fates[i].final, fates[i].code, "%s", why);
			return;
		}
	bus_item_fail(it, 0, other, "%s", why);
}

/* queue: — one transaction; a message the queue refuses (too large, bad
 * characters) fails for good, the others go in. */
static void
send_queue(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct q_sent sent;
	struct ev_err e;
	struct buf trace = { 0 };
	int rc = 0, remote = q_is_remote(r->q);

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct q_out m = { .body = items[i]->payload, .len = items[i]->n, .delay_ms = -1 };
		if (q_attrs(r->q)->fifo)
			m.group = r->t->rule->name;
		/* The event's trace id goes on as AWSTraceHeader (SPEC 6); a
		 * local queue keeps none, so its events are not searched. */
		if (remote && aws_trace_find(items[i]->event, items[i]->en, &trace)) {
			buf_addc(&trace, '\0');
			m.trace = trace.p;
		}
		if ((rc = q_send_add(r->q, &m, &sent, &e)) != 0)
			break;
		if (sent.refused != NULL)
			bus_item_fail(items[i], 1, "INVALID_PARAMETER", "queue %s: %s",
			    q_name(r->q), sent.refused);
		else
			items[i]->state = ITEM_DONE;
	}
	buf_free(&trace);
	if (rc == 0)
		rc = q_send_commit(r->q, &e);
	if (rc == 0)
		return;
	/* The queue failed (locked, full disk, a remote queue throttled or
	 * unreachable): nothing of the batch went in, so every delivery that
	 * was not refused is retried; one a remote queue will never take
	 * (no credentials, no such queue) fails for good. */
	for (size_t i = 0; i < n; i++)
		if (items[i]->state != ITEM_FINAL)
			bus_item_status(items[i], rc == EV_DATAERR || rc == EV_USAGE ? -1 : rc,
			    "IO_ERROR", e.msg);
}

/* The stream of a log: target's delivery: "stream", the value at
 * "stream_path" in the event as matched (a string's characters, a
 * number's exact text, as evlog-append --stream-from), else the rule's
 * name.  NULL when the path does not lead to a string or number. */
static const char *
log_stream(const struct tgt_run *r, const struct bus_item *it, struct buf *b, size_t *n)
{
	const struct target *t = r->t;
	const char *v;
	size_t vn;

	if (t->stream_path == NULL) {
		const char *s = t->stream != NULL ? t->stream : t->rule->name;
		*n = strlen(s);
		return s;
	}
	if (!jpath_find(t->stream_path, it->event, it->en, &v, &vn) || vn == 0)
		return NULL;
	buf_reset(b);
	if (v[0] == '"' && vn >= 2)
		json_unescape(b, v + 1, vn - 2);
	else if (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
		buf_add(b, v, vn);
	else
		return NULL;
	*n = b->n;
	return b->p != NULL ? b->p : "";
}

/* log: — one append, each event under its stream (log_stream); a
 * payload that is not a JSON object, or an event without its stream,
 * fails for good.  Events whose id is already in the stream are
 * skipped, so a replay does not write them twice. */
static void
send_log(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct elog_result res = { 0 };
	struct buf sb = { 0 };
	const char *why, *stream;
	size_t added = 0, sn;

	elog_batch_clear(r->lb);
	for (size_t i = 0; i < n; i++) {
		if ((stream = log_stream(r, items[i], &sb, &sn)) == NULL) {
			bus_item_fail(items[i], 1, "INVALID_PARAMETER", "log %s: stream_path "
			    "'%s' is not a string or number in this event", r->t->arg,
			    r->t->stream_path_text);
		} else if (elog_batch_add(r->lb, stream, sn, items[i]->payload,
		    items[i]->n, &why) != 0) {
			bus_item_fail(items[i], 1, "INVALID_PARAMETER", "log %s: %s", r->t->arg, why);
		} else {
			items[i]->state = ITEM_DONE;
			added++;
		}
	}
	buf_free(&sb);
	if (added == 0)
		return;
	struct ev_err le;
	int rc = elog_append(r->log, r->lb, ELOG_EXPECT_ANY, &res, &le);
	elog_result_free(&res);
	if (rc == EV_OK)
		return;
	for (size_t i = 0; i < n; i++)
		if (items[i]->state == ITEM_DONE)
			bus_item_fail(items[i], 0, rc == EV_TEMPFAIL ? "THROTTLING" : "IO_ERROR",
			    "log %s: %s", r->t->arg, le.msg);
}

typedef void send_fn(struct tgt_run *r, struct bus_item **items, size_t n);

void
bus_send_batch(struct tgt_run *r, struct bus_item **items, size_t n)
{
	/* exec: targets schedule their own children (bus_exec). */
	static send_fn *const send[] = {
		[TGT_STDOUT] = send_lines, [TGT_FILE] = send_lines, [TGT_QUEUE] = send_queue,
		[TGT_LOG] = send_log, [TGT_EVENTS] = bus_send_events, [TGT_HTTP] = bus_send_http,
	};

	if ((size_t)r->t->kind < sizeof send / sizeof send[0] && send[r->t->kind] != NULL)
		send[r->t->kind](r, items, n);
}
