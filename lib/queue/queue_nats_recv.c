/* queue_nats_recv — receiving from a NATS queue (queue_nats.c says how
 * SQS's terms map): pull fetches from the shared durable, confirmed
 * acks, naks and in-progress by receipt handle, waits, envelopes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/json.h"
#include "core/sig.h"
#include "queue_int.h"

enum { ACK_WAIT_MS = 10000, WAIT_SLICE_MS = 500, RECONNECT_MS = 20000 };

static int
ensure_sub(struct queue *q, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	jsSubOptions so;
	jsErrCode jerr = 0;

	if (rn->sub != NULL)
		return 0;
	jsSubOptions_Init(&so);
	so.Stream = rn->stream;
	so.Consumer = "evq";
	natsStatus s = js_PullSubscribe(&rn->sub, nats_js(rn->c), rn->subject, "evq", NULL, &so,
	    &jerr);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "queue '%s': consumer", q->name);
	return 0;
}

static int
transient(natsStatus s)
{
	return s == NATS_CONNECTION_DISCONNECTED || s == NATS_NO_RESPONDERS || s == NATS_IO_ERROR ||
	    s == NATS_STALE_CONNECTION;
}

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A receipt handle of this queue: the ack subject of its consumer. */
static int
our_handle(const struct qnats *rn, const char *h)
{
	size_t n = strlen(rn->stream);

	return strncmp(h, "$JS.ACK.", 8) == 0 && strncmp(h + 8, rn->stream, n) == 0 &&
	    strncmp(h + 8 + n, ".evq.", 5) == 0 && strpbrk(h, " \t\r\n*>") == NULL;
}

static int
ensure_inbox(struct qnats *rn, struct ev_err *e)
{
	char subj[128];

	if (rn->isub != NULL)
		return 0;
	natsStatus s = natsInbox_Create(&rn->inbox);
	if (s == NATS_OK) {
		snprintf(subj, sizeof subj, "%s.>", (const char *)rn->inbox);
		s = natsConnection_SubscribeSync(&rn->isub, nats_nc(rn->c), subj);
	}
	return s != NATS_OK ? nats_fail(e, s, 0, "%s: inbox", nats_shown(rn->c)) : 0;
}

/* The reply's index if it is this round's answer, not "no responders". */
static long
reply_index(natsMsg *r, unsigned gen)
{
	const char *st = NULL, *dot = strrchr(natsMsg_GetSubject(r), '.');
	char *end;

	if (natsMsgHeader_Get(r, "Status", &st) == NATS_OK && st != NULL && strcmp(st, "503") == 0)
		return -1;
	if (dot == NULL || dot == natsMsg_GetSubject(r))
		return -1;
	const char *g = dot - 1;
	while (g > natsMsg_GetSubject(r) && g[-1] != '.')
		g--;
	if (strtoul(g, &end, 10) != gen || end != dot)
		return -1;
	return strtol(dot + 1, NULL, 10);
}

int
qnats_acks(struct queue *q, const char *const *subj, size_t n, const char *payload,
    unsigned char *ok, size_t *done, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	char reply[160];
	size_t sent = 0, got = 0;

	if (done != NULL)
		*done = 0;
	if (ok != NULL)
		memset(ok, 0, n);
	if (n == 0)
		return 0;
	if (ensure_inbox(rn, e) != 0)
		return e->code;
	unsigned gen = ++rn->gen;
	unsigned char *seen = xcalloc(n, 1);
	for (size_t i = 0; i < n; i++) {
		if (!our_handle(rn, subj[i]))
			continue;
		snprintf(reply, sizeof reply, "%s.%u.%zu", (const char *)rn->inbox, gen, i);
		natsStatus s = natsConnection_PublishRequest(nats_nc(rn->c), subj[i], reply,
		    payload, (int)strlen(payload));
		/* The connection broke under it: not confirmed (the message
		 * comes back after its timeout), and the client reconnects. */
		if (transient(s))
			continue;
		if (s != NATS_OK) {
			free(seen);
			return nats_fail(e, s, 0, "queue '%s'", q->name);
		}
		sent++;
	}
	int64_t deadline = clock_mono_ms() + ACK_WAIT_MS;
	while (got < sent && clock_mono_ms() < deadline) {
		natsMsg *r = NULL;
		if (natsSubscription_NextMsg(&r, rn->isub, deadline - clock_mono_ms()) != NATS_OK)
			break;
		long i = reply_index(r, gen);
		if (i >= 0 && (size_t)i < n && !seen[i]) {
			seen[i] = 1;
			got++;
		}
		natsMsg_Destroy(r);
	}
	if (ok != NULL)
		memcpy(ok, seen, n);
	if (done != NULL)
		*done = got;
	free(seen);
	return 0;
}

static const char *
hdr(natsMsg *m, const char *key)
{
	const char *v = NULL;

	return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

static long long
hdr_num(natsMsg *m, const char *key)
{
	const char *v = hdr(m, key);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

static int
unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
	    c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
}

/* A %XX header value back to its bytes, kept until the next receive. */
static const char *
unpct(struct qnats *rn, const char *v, size_t *len)
{
	if (v == NULL)
		return NULL;
	size_t n = strlen(v), k = 0;
	char *out = qnats_strdup(rn, v, n);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '%' && i + 2 < n) {
			out[k++] = (char)(unhex(v[i + 1]) * 16 + unhex(v[i + 2]));
			i += 2;
		} else {
			out[k++] = v[i];
		}
	}
	out[k] = '\0';
	*len = k;
	return out;
}

static void
fill(struct queue *q, natsMsg *m, uint64_t seq, uint64_t receives, struct q_msg *o)
{
	struct qnats *rn = q->rn;
	const char *id = hdr(m, QN_ID);

	memset(o, 0, sizeof *o);
	o->rowid = (int64_t)seq;
	snprintf(o->id, sizeof o->id, "%s", id != NULL ? id : "");
	o->rhandle = natsMsg_GetReply(m) != NULL ? natsMsg_GetReply(m) : "";
	o->body = natsMsg_GetData(m) != NULL ? natsMsg_GetData(m) : "";
	o->len = (size_t)natsMsg_GetDataLength(m);
	o->sent_ms = hdr_num(m, QN_SENT);
	o->first_ms = clock_now_ms();
	o->receives = (long)receives;
	o->group = unpct(rn, hdr(m, QN_GROUP), &o->group_len);
	o->dedup = unpct(rn, hdr(m, QN_DEDUP), &o->dedup_len);
	o->attrs = hdr(m, QN_ATTRS);
	o->attrs_md5 = hdr(m, QN_ATTRS_MD5);
	o->src = hdr(m, QN_SRC);
	if (q->a.fifo)
		snprintf(o->seq, sizeof o->seq, "%020llu", (unsigned long long)seq);
}

static void
forget(struct qnats *rn)
{
	for (size_t i = 0; i < rn->ncur; i++)
		natsMsg_Destroy(rn->cur[i]);
	rn->ncur = 0;
	rn->held = 0;
	for (size_t i = 0; i < rn->nstrs; i++)
		free(rn->strs[i]);
	rn->nstrs = 0;
}

static void
keep(struct qnats *rn, natsMsg *m)
{
	XGROW(&rn->cur, &rn->capcur, rn->ncur + 1);
	rn->cur[rn->ncur++] = m;
}

/* Fetches up to max messages into *list: what a wait got first, then
 * what the consumer has now (no waiting). */
static int
fetch(struct queue *q, size_t max, natsMsg ***got, size_t *n, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	natsMsgList l = { 0 };
	jsFetchRequest r;

	*got = rn->stash;
	*n = rn->nstash;
	if (rn->werr.code != 0) {
		*e = rn->werr;
		err_clear(&rn->werr);
		return e->code;
	}
	if (*n >= max || ensure_sub(q, e) != 0)
		return *n >= max ? 0 : e->code;
	jsFetchRequest_Init(&r);
	r.Batch = (int)(max - *n);
	r.NoWait = true;
	/* The server holds even a no-wait request while a nak's delay runs:
	 * what is not there now is not waited for long. */
	r.Expires = 200LL * 1000000;
	natsStatus s = natsSubscription_FetchRequest(&l, rn->sub, &r);
	/* A server of the cluster died: the client reconnects to another. */
	for (int64_t end = clock_mono_ms() + RECONNECT_MS; transient(s) && !sig_stop &&
	    clock_mono_ms() < end; ) {
		natsMsgList_Destroy(&l);
		nap(200);
		s = natsSubscription_FetchRequest(&l, rn->sub, &r);
	}
	if (s != NATS_OK && s != NATS_TIMEOUT && s != NATS_NOT_FOUND)
		return nats_fail(e, s, 0, "queue '%s': receive", q->name);
	for (int i = 0; i < l.Count; i++) {
		XGROW(&rn->stash, &rn->capstash, rn->nstash + 1);
		rn->stash[rn->nstash++] = l.Msgs[i];
		l.Msgs[i] = NULL;
	}
	natsMsgList_Destroy(&l);
	*got = rn->stash;
	*n = rn->nstash;
	return 0;
}

/* Sorts what a fetch got: early (delayed) ones go back for the time
 * left, ones seen before in this run go back, poison ones to the
 * dead-letter queue; the rest into out[]. */
static int
sort_out(struct queue *q, int64_t after, struct q_msg *out, size_t *n, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	natsMsg **got = rn->stash;
	size_t ngot = rn->nstash;
	int rc = 0;

	rn->stash = NULL;
	rn->nstash = rn->capstash = 0;
	*n = 0;
	for (size_t i = 0; i < ngot; i++) {
		natsMsg *m = got[i];
		jsMsgMetaData *md = NULL;
		if (rc != 0 || natsMsg_GetMetaData(&md, m) != NATS_OK) {
			natsMsg_Destroy(m);
			continue;
		}
		uint64_t seq = md->Sequence.Stream, dc = md->NumDelivered;
		jsMsgMetaData_Destroy(md);
		int64_t visible = hdr_num(m, QN_VISIBLE), now = clock_now_ms();
		if (visible > now) {
			natsMsg_NakWithDelay(m, visible - now, NULL);
		} else if (after > 0 && (int64_t)seq <= after) {
			XGROW(&rn->skipped, &rn->capskipped, rn->nskipped + 1);
			rn->skipped[rn->nskipped++] = m;
			continue;
		} else if (q->a.max_receives > 0 && dc > (uint64_t)q->a.max_receives) {
			rc = qnats_dead_letter(q, m, dc, e);
		} else {
			fill(q, m, seq, dc, &out[*n]);
			keep(rn, m);
			(*n)++;
			continue;
		}
		natsMsg_Destroy(m);
	}
	free(got);
	return rc;
}

void
qnats_unskip(struct qnats *rn)
{
	for (size_t i = 0; i < rn->nskipped; i++) {
		natsMsg_Nak(rn->skipped[i], NULL);
		natsMsg_Destroy(rn->skipped[i]);
	}
	rn->nskipped = 0;
}

static int
get(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n, struct ev_err *e)
{
	natsMsg **got;
	size_t ngot;

	forget(q->rn);
	if (after == 0)
		qnats_unskip(q->rn);	/* a new run: they are due again */
	*n = 0;
	if (fetch(q, max, &got, &ngot, e) != 0)
		return e->code;
	return sort_out(q, after, out, n, e);
}

static void
nak_payload(char *p, size_t n, int64_t delay_ms)
{
	if (delay_ms <= 0)
		snprintf(p, n, "-NAK");
	else
		snprintf(p, n, "-NAK {\"delay\":%lld}", (long long)delay_ms * 1000000LL);
}

static int
by_handle(struct queue *q, const struct q_msg *m, size_t n, const char *payload,
    unsigned char *ok, size_t *done, struct ev_err *e)
{
	const char **subj = xcalloc(n > 0 ? n : 1, sizeof *subj);

	for (size_t i = 0; i < n; i++)
		subj[i] = q_msg_handle(&m[i]);
	int rc = qnats_acks(q, subj, n, payload, ok, done, e);
	free(subj);
	return rc;
}

int
qnats_receive(struct queue *q, int64_t after, size_t max, int64_t lease_ms, struct q_msg *out,
    size_t *n, struct ev_err *e)
{
	char p[64];

	if (q->a.fifo && max > 1)
		max = 1;	/* MaxAckPending 1: one message in flight */
	int rc = get(q, after, max, out, n, e);
	if (rc != 0 || *n == 0 || lease_ms < 0 || lease_ms == q->rn->ack_wait_ms)
		return rc;
	/* Another lease than AckWait: a nak due when the lease ends. */
	nak_payload(p, sizeof p, lease_ms);
	return by_handle(q, out, *n, p, NULL, NULL, e);
}

int
qnats_consume(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
    struct ev_err *e)
{
	if (q->a.fifo && max > 1)
		max = 1;
	int rc = get(q, after, max, out, n, e);
	q->rn->held = rc == 0 ? *n : 0;
	return rc;
}

int
qnats_consume_done(struct queue *q, const struct q_msg *out, size_t delivered, size_t *deleted,
    struct ev_err *e)
{
	struct qnats *rn = q->rn;
	size_t held = rn->held;

	*deleted = 0;
	rn->held = 0;
	if (delivered > held)
		delivered = held;
	int rc = by_handle(q, out, delivered, "+ACK", NULL, deleted, e);
	/* What the reader never got: visible again at once. */
	if (rc == 0 && held > delivered)
		rc = by_handle(q, out + delivered, held - delivered, "-NAK", NULL, NULL, e);
	return rc;
}

int
qnats_consume_extend(struct queue *q, int *held, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	const char **subj = xcalloc(rn->held > 0 ? rn->held : 1, sizeof *subj);
	size_t done = 0;

	for (size_t i = 0; i < rn->held; i++)
		subj[i] = natsMsg_GetReply(rn->cur[i]);
	int rc = qnats_acks(q, subj, rn->held, "+WPI", NULL, &done, e);
	free(subj);
	*held = rc == 0 && rn->held > 0 && done == rn->held;
	return rc;
}

int
qnats_delete(struct queue *q, const struct q_msg *m, size_t n, unsigned char *ok, size_t *done,
    struct ev_err *e)
{
	return by_handle(q, m, n, "+ACK", ok, done, e);
}

int
qnats_release(struct queue *q, const struct q_msg *m, size_t n, int64_t delay_ms,
    unsigned char *ok, size_t *done, struct ev_err *e)
{
	char p[64];

	nak_payload(p, sizeof p, delay_ms);
	return by_handle(q, m, n, p, ok, done, e);
}

void
qnats_wait(struct queue *q, int64_t deadline)
{
	struct qnats *rn = q->rn;
	natsMsgList l = { 0 };

	if (rn->nstash > 0 || rn->werr.code != 0 || ensure_sub(q, &rn->werr) != 0)
		return;
	/* Long polls in slices, so that a stop signal is seen soon. */
	while (!sig_stop) {
		int64_t left = deadline < 0 ? WAIT_SLICE_MS : deadline - clock_mono_ms();
		if (left <= 0)
			return;
		natsStatus s = natsSubscription_Fetch(&l, rn->sub, 1,
		    left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS, NULL);
		if (s == NATS_OK && l.Count > 0) {
			XGROW(&rn->stash, &rn->capstash, (size_t)l.Count);
			for (int i = 0; i < l.Count; i++) {
				rn->stash[rn->nstash++] = l.Msgs[i];
				l.Msgs[i] = NULL;
			}
			natsMsgList_Destroy(&l);
			return;
		}
		natsMsgList_Destroy(&l);
		if (transient(s) && (deadline < 0 || clock_mono_ms() < deadline)) {
			nap(200);
			continue;
		}
		if (s != NATS_OK && s != NATS_TIMEOUT && s != NATS_NOT_FOUND) {
			nats_fail(&rn->werr, s, 0, "queue '%s': receive", q->name);
			return;
		}
	}
}

void
qnats_envelope(struct queue *q, const struct q_msg *m, struct buf *b)
{
	char arn[256];

	if (m->src != NULL)
		snprintf(arn, sizeof arn, "arn:aws:sqs:us-east-1:000000000000:%s", m->src);
	qmsg_envelope_head(q, m, q_msg_handle(m), m->src != NULL ? arn : NULL, b);
	qmsg_envelope_end(q, m, "us-east-1", 9, b);
}

/* Reads stored messages by sequence, past after, changing nothing: the
 * ones in flight too (the stream does not tell them apart cheaply). */
int
qnats_peek(struct queue *q, int64_t after, size_t max, struct q_msg *out, size_t *n,
    struct ev_err *e)
{
	struct qnats *rn = q->rn;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;

	forget(rn);
	*n = 0;
	natsStatus s = js_GetStreamInfo(&si, nats_js(rn->c), rn->stream, NULL, &jerr);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "queue '%s'", q->name);
	uint64_t seq = (uint64_t)after + 1, last = si->State.LastSeq;
	if (seq < si->State.FirstSeq)
		seq = si->State.FirstSeq;
	jsStreamInfo_Destroy(si);
	for (; seq <= last && *n < max; seq++) {
		natsMsg *m = NULL;
		s = js_GetMsg(&m, nats_js(rn->c), rn->stream, seq, NULL, &jerr);
		if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
			continue;
		if (s != NATS_OK)
			return nats_fail(e, s, jerr, "queue '%s': peek", q->name);
		fill(q, m, seq, 0, &out[*n]);
		out[*n].rhandle = NULL;
		keep(rn, m);
		(*n)++;
	}
	return 0;
}
