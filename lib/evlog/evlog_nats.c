/* evlog_nats.c — an event log on NATS JetStream (SPEC 6), over nats/.
 *
 * LOG nats://SERVERS/NAME is the file stream "evlog_NAME" whose subjects
 * are the log's streams: "evlog.NAME.TOKEN", TOKEN the stream's name with
 * every byte outside [A-Za-z0-9_-] written %XX ("%" alone for "").  Each
 * message is one record, byte for byte the line a local log holds (CRC
 * included, so --verify means the same), its seq the stream sequence.
 * A record's seq must be known before it is published: every publish
 * carries Nats-Expected-Last-Sequence (the record before it, "0" for the
 * first) and Nats-Expected-Last-Subject-Sequence (its stream's head, which
 * is how --expect-version is checked), so the server stores it exactly at
 * that seq or refuses it.  A refusal because another appender got there
 * first is a new round: look again, number the rest anew, publish again.
 * Idempotence: Nats-Msg-Id is SHA-256(stream, id), and the stream's
 * duplicate window (DEDUP_NS) drops an id that is already there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/msg.h"
#include "core/json.h"
#include "nats/nats.h"

enum {
	MAX_ROUNDS = 1000,		/* a contended batch gives up after these */
	NEXT_WAIT_MS = 15000,		/* for a record known to be there */
	TEMP_WAIT_MS = 60000,		/* a cluster electing a leader, a server gone */
};
#define DEDUP_NS (24LL * 3600 * 1000000000)	/* the duplicate window: 24 h */

/* A stream's head: its version and the seq of its last record. */
struct head {
	char *subj;
	uint64_t version, sseq;
};

struct elog_nats {
	struct nats_uri u;
	struct nats_conn *c;
	char *stream, *prefix;		/* "evlog_NAME", "evlog.NAME." */
	int known;			/* last, last_ms and heads are current */
	uint64_t last;			/* the stream's last seq */
	int64_t last_ms;		/* the time of that record */
	struct head *heads;		/* open addressing by subject */
	size_t nheads, cap;
	struct buf subj, tmp, text;	/* scratch; text: a round's records */
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static void
heads_clear(struct elog_nats *n)
{
	for (size_t i = 0; i < n->cap; i++)
		free(n->heads[i].subj);
	if (n->cap > 0)
		memset(n->heads, 0, n->cap * sizeof *n->heads);
	n->nheads = 0;
}

/* The head slot of subj: found, or empty (subj NULL) to be filled. */
static struct head *
head_slot(struct elog_nats *n, const char *subj)
{
	if (2 * (n->nheads + 1) > n->cap) {
		struct head *old = n->heads;
		size_t oc = n->cap;
		n->cap = oc == 0 ? 64 : 2 * oc;
		n->heads = xcalloc(n->cap, sizeof *n->heads);
		n->nheads = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i].subj != NULL) {
				*head_slot(n, old[i].subj) = old[i];
				n->nheads++;
			}
		free(old);
	}
	size_t i = hash(subj) & (n->cap - 1);
	while (n->heads[i].subj != NULL && strcmp(n->heads[i].subj, subj) != 0)
		i = (i + 1) & (n->cap - 1);
	return &n->heads[i];
}

/* The subject of stream st (a JSON string literal) into n->subj. */
static void
subject_of(struct elog_nats *n, const char *st, size_t sn)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_reset(&n->tmp);
	json_unescape(&n->tmp, st + 1, sn - 2);
	buf_reset(&n->subj);
	buf_add(&n->subj, n->prefix, strlen(n->prefix));
	if (n->tmp.n == 0)
		buf_add(&n->subj, "%", 1);
	for (size_t i = 0; i < n->tmp.n; i++) {
		unsigned char c = (unsigned char)n->tmp.p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-') {
			buf_add(&n->subj, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_add(&n->subj, e, 3);
		}
	}
	buf_add(&n->subj, "", 0);	/* NUL-terminated */
}

/* Decodes a stored message as a record, its seq checked against the
 * stream's: 0, or -1 with *why. */
static int
decode_msg(natsMsg *m, uint64_t sseq, struct elog_rec *r, const char **why)
{
	if (elog_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), r, why) != 0)
		return -1;
	if (r->seq != sseq) {
		*why = "its seq is not its stream sequence";
		return -1;
	}
	return 0;
}

/* Where the log stands now: its last seq and that record's time; the
 * heads are forgotten (they are looked up again as needed). */
static int
refresh(struct elog *l, struct ev_err *e)
{
	struct elog_nats *n = l->nats;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, nats_js(n->c), n->stream, NULL, &jerr);

	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "%s", l->dir);
	n->last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	n->last_ms = 0;
	heads_clear(n);
	if (n->last > 0) {
		natsMsg *m = NULL;
		struct elog_rec r;
		const char *why;
		s = js_GetMsg(&m, nats_js(n->c), n->stream, n->last, NULL, &jerr);
		if (s != NATS_OK)
			return nats_fail(e, s, jerr, "%s: record %llu", l->dir,
			    (unsigned long long)n->last);
		if (decode_msg(m, n->last, &r, &why) == 0)
			clock_parse_rfc3339(r.time, &n->last_ms);
		natsMsg_Destroy(m);
	}
	n->known = 1;
	return 0;
}

/* The head of the stream whose subject is in n->subj, asked of the
 * server when not yet known. */
static int
head_of(struct elog *l, struct head **hp, struct ev_err *e)
{
	struct elog_nats *n = l->nats;
	struct head *h = head_slot(n, n->subj.p);
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	struct elog_rec r;
	const char *why;

	*hp = h;
	if (h->subj != NULL)
		return 0;
	natsStatus s = js_GetLastMsg(&m, nats_js(n->c), n->stream, n->subj.p, NULL, &jerr);
	if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSNoMessageFoundErr)
		return nats_fail(e, s, jerr, "%s: the head of %s", l->dir, n->subj.p);
	h->version = h->sseq = 0;
	if (s == NATS_OK) {
		h->sseq = natsMsg_GetSequence(m);
		int bad = decode_msg(m, h->sseq, &r, &why);
		natsMsg_Destroy(m);
		if (bad)
			return err_set(e, EV_DATAERR, "%s: record %llu: damaged: %s "
			    "(see evlog-read --verify)", l->dir, (unsigned long long)h->sseq, why);
		h->version = r.version;
	}
	h->subj = xstrdup(n->subj.p);
	n->nheads++;
	return 0;
}

/* One round of an append: the records numbered from the log's last seq
 * on, published, and confirmed in order. */
struct round {
	struct elog *l;
	struct elog_result *res;
	uint64_t start;			/* the last seq before the call */
	size_t done;			/* batch entries confirmed (stored or skipped) */
	size_t *entry;			/* published k: its batch entry */
	uint64_t *seq;			/* published k: the seq it claims */
	size_t *off;			/* published k: its text in n->text */
	int bad;			/* a confirmation that makes no sense */
};

static void
add_text(struct round *rd, const char *p, size_t len, uint64_t seq)
{
	struct elog_result *res = rd->res;

	buf_add(&res->records, p, len);
	buf_add(&res->records, "\n", 1);
	if (res->first_seq == 0)
		res->first_seq = seq;
	res->last_seq = seq;
	res->appended++;
}

/* A copy stored by an earlier round of this call: its text is the
 * server's. */
static void
add_stored(struct round *rd, uint64_t seq)
{
	struct elog_nats *n = rd->l->nats;
	natsMsg *m = NULL;

	if (js_GetMsg(&m, nats_js(n->c), n->stream, seq, NULL, NULL) != NATS_OK) {
		rd->bad = 1;
		return;
	}
	add_text(rd, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), seq);
	natsMsg_Destroy(m);
}

static void
confirmed(void *ctx, const struct nats_ack *a)
{
	struct round *rd = ctx;
	size_t k = (size_t)(uintptr_t)a->tag;
	struct elog_nats *n = rd->l->nats;

	if (!a->duplicate && a->seq != rd->seq[k])
		rd->bad = 1;	/* the expected sequence should have refused it */
	else if (a->seq == rd->seq[k])
		add_text(rd, n->text.p + rd->off[k], rd->off[k + 1] - rd->off[k] - 1, a->seq);
	else if (a->seq > rd->start && a->seq > rd->res->last_seq)
		add_stored(rd, a->seq);	/* stored, its confirmation lost */
	else
		rd->res->skipped++;	/* its id was in the stream already */
	rd->done = rd->entry[k] + 1;
}

/* A record as a message with its expectations; mid gets its Nats-Msg-Id,
 * prev_mid is the one of the record published before it in the round
 * ("" for the first). */
static natsMsg *
record_msg(struct elog_nats *n, const char *text, size_t len, const char *st, size_t sn,
    const char *id, size_t in, uint64_t prev, uint64_t subj_prev,
    const char *prev_mid, char mid[DIGEST_SHA256_HEX])
{
	char num[24];
	struct digest d;
	natsMsg *m = NULL;

	if (natsMsg_Create(&m, n->subj.p, NULL, text, (int)len) != NATS_OK)
		return NULL;
	digest_init(&d, DIGEST_SHA256);
	digest_update(&d, st, sn);
	digest_update(&d, "\n", 1);
	digest_update(&d, id, in);
	digest_hex(&d, mid);
	natsMsgHeader_Set(m, "Nats-Msg-Id", mid);
	/* Set by hand: cnats 3.4 leaves out an expectation of 0 (empty). */
	snprintf(num, sizeof num, "%llu", (unsigned long long)prev);
	natsMsgHeader_Set(m, "Nats-Expected-Last-Sequence", num);
	snprintf(num, sizeof num, "%llu", (unsigned long long)subj_prev);
	natsMsgHeader_Set(m, "Nats-Expected-Last-Subject-Sequence", num);
	/* Stored only if the record before it was: else a later record could
	 * pass where another appender's records happen to end at the seqs it
	 * expects, numbered from heads that are not the stream's. */
	if (prev_mid[0] != '\0')
		natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id", prev_mid);
	return m;
}

static int
conflict(struct ev_err *e, const char *st, size_t sn, uint64_t cur, long long expect)
{
	char want[24] = "none";

	if (expect != ELOG_EXPECT_NONE)
		snprintf(want, sizeof want, "%lld", expect);
	return err_set(e, EV_CONFLICT, "conflict: stream %.*s is at version %llu, expected %s",
	    (int)sn, st, (unsigned long long)cur, want);
}

/* Looks up the head of every stream of entries rd->done.. of b, and on
 * the first round checks --expect-version against them, before anything
 * is published: a conflict, or a head that cannot be read, stores
 * nothing. */
static int
prepare(struct round *rd, struct elog_batch *b, long long expect, struct ev_err *e)
{
	struct elog_nats *n = rd->l->nats;
	const char *st, *id, *ev;
	size_t sn, in, en, nb = elog_batch_count(b);
	int rc;

	for (size_t i = rd->done; i < nb; i++) {
		struct head *h;
		elog_batch_get(b, i, &st, &sn, &id, &in, &ev, &en);
		subject_of(n, st, sn);
		if ((rc = head_of(rd->l, &h, e)) != 0)
			return rc;
		if (expect != ELOG_EXPECT_ANY && rd->done == 0 &&
		    h->version != (expect == ELOG_EXPECT_NONE ? 0 : (uint64_t)expect))
			return conflict(e, st, sn, h->version, expect);
	}
	return 0;
}

/* Numbers and publishes entries rd->done.. of b, then waits for every
 * confirmation. */
static int
publish_round(struct round *rd, struct elog_batch *b, long long expect, struct ev_err *e)
{
	struct elog *l = rd->l;
	struct elog_nats *n = l->nats;
	const char *st, *id, *ev;
	size_t sn, in, en, nb = elog_batch_count(b), k = 0;
	uint64_t seq = n->last;
	char time[25], mid[2][DIGEST_SHA256_HEX] = { "", "" };
	int rc = prepare(rd, b, expect, e);

	int64_t ms = clock_now_ms();
	clock_rfc3339(ms > n->last_ms ? ms : n->last_ms, time);
	buf_reset(&n->text);
	for (size_t i = rd->done; i < nb && rc == 0; i++) {
		struct head *h;
		elog_batch_get(b, i, &st, &sn, &id, &in, &ev, &en);
		subject_of(n, st, sn);
		if ((rc = head_of(l, &h, e)) != 0)
			break;	/* known since prepare(): not asked again */
		rd->off[k] = n->text.n;
		elog_encode(&n->text, seq + 1, st, sn, h->version + 1, time, id, in, ev, en);
		rd->off[k + 1] = n->text.n;
		natsMsg *m = record_msg(n, n->text.p + rd->off[k], rd->off[k + 1] - rd->off[k] - 1,
		    st, sn, id, in, seq, h->sseq, mid[(k + 1) & 1], mid[k & 1]);
		if (m == NULL) {
			rc = err_set(e, EV_SOFTWARE, "%s: cannot make a message", l->dir);
			break;
		}
		rd->entry[k] = i;
		rd->seq[k] = ++seq;
		h->version++;
		h->sseq = seq;
		rc = nats_pub_add(n->c, m, (void *)(uintptr_t)k, confirmed, rd, e);
		k++;
	}
	if (rc == 0)
		rc = nats_pub_flush(n->c, confirmed, rd, e);
	else
		nats_pub_drop(n->c);
	return rc;
}

static void
nap(int round)
{
	struct timespec ts = { 0, (long)(1 + round % 100) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Rounds until every entry is confirmed.  A refused round is tried again
 * when another appender got there first (the log moved, or part of the
 * round was stored), and a failure that passes (a timeout, no responders:
 * a server died, the cluster is between leaders) until TEMP_WAIT_MS. */
static int
rounds(struct round *rd, struct elog_batch *b, long long expect, struct ev_err *e)
{
	struct elog *l = rd->l;
	struct elog_nats *n = l->nats;
	int64_t deadline = clock_now_ms() + TEMP_WAIT_MS;
	int rc = 0;

	for (int round = 0; rd->done < elog_batch_count(b); round++) {
		size_t before = rd->done;
		rc = n->known ? 0 : refresh(l, e);
		uint64_t last = n->last;
		if (rc == 0)
			rc = publish_round(rd, b, expect, e);
		if (rd->res->last_seq > n->last)
			n->last = rd->res->last_seq;
		if (rd->bad) {
			n->known = 0;
			return err_set(e, EV_SOFTWARE, "%s: the server confirmed a record at a "
			    "seq it was not numbered for", l->dir);
		}
		if (rc == 0 || rc == EV_CONFLICT)
			break;
		n->known = 0;
		if (rc == EV_TEMPFAIL && clock_now_ms() < deadline) {
			nap(20 + round);
			continue;
		}
		struct ev_err e2;
		int rrc = refresh(l, &e2);
		if (rrc == EV_TEMPFAIL && clock_now_ms() < deadline)
			continue;
		if (rrc != 0 || round >= MAX_ROUNDS || (rd->done == before && n->last == last))
			break;
		nap(round);
	}
	return rc;
}

static int
nats_append_start(struct elog *l, struct elog_batch *b, long long expect,
    struct elog_result *res, struct ev_err *e)
{
	struct elog_nats *n = l->nats;
	size_t nb = elog_batch_count(b);
	int rc = 0;

	res->appended = res->skipped = 0;
	res->first_seq = res->last_seq = 0;
	buf_reset(&res->records);
	if (nb == 0)
		return 0;
	if (!l->writer)
		return err_set(e, EV_SOFTWARE, "%s: not opened for writing", l->dir);
	if (!n->known && (rc = refresh(l, e)) != 0)
		return rc;
	struct round rd = { l, res, n->last, 0, xcalloc(nb, sizeof *rd.entry),
	    xcalloc(nb, sizeof *rd.seq), xcalloc(nb + 1, sizeof *rd.off), 0 };
	rc = rounds(&rd, b, expect, e);
	if (rc == 0)
		n->last = res->last_seq > n->last ? res->last_seq : n->last;
	free(rd.entry);
	free(rd.seq);
	free(rd.off);
	return rc;
}

/* Every record is confirmed by the time _start returns. */
static int
nats_append_finish(struct elog *l, struct ev_err *e)
{
	(void)l;
	(void)e;
	return 0;
}

static void
nats_close_log(struct elog *l)
{
	struct elog_nats *n = l->nats;

	if (n != NULL) {
		nats_close(n->c);
		nats_uri_free(&n->u);
		heads_clear(n);
		free(n->heads);
		free(n->stream);
		free(n->prefix);
		buf_free(&n->subj);
		buf_free(&n->tmp);
		buf_free(&n->text);
		free(n);
	}
	free(l->dir);
	free(l);
}

/* The log's stream, made when missing if the log is opened to write. */
static int
ensure_stream(struct elog *l, struct ev_err *e)
{
	struct elog_nats *n = l->nats;
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	int64_t deadline = clock_now_ms() + TEMP_WAIT_MS;
	natsStatus s;

	/* A cluster between leaders answers late, or not at all: that passes. */
	while ((s = js_GetStreamInfo(&si, nats_js(n->c), n->stream, NULL, &jerr)) != NATS_OK &&
	    jerr != JSStreamNotFoundErr && s != NATS_NOT_FOUND) {
		int rc = nats_fail(e, s, jerr, "%s", l->dir);
		if (rc != EV_TEMPFAIL || clock_now_ms() >= deadline)
			return rc;
		nap(100);
		jerr = 0;
	}
	jsStreamInfo_Destroy(si);
	if (s == NATS_OK)
		return 0;
	if (!l->writer)
		return err_set(e, EV_NOINPUT, "%s: no such log", l->dir);
	char subjects[120];
	const char *subj[1] = { subjects };
	snprintf(subjects, sizeof subjects, "%s>", n->prefix);
	jsStreamConfig_Init(&cfg);
	cfg.Name = n->stream;
	cfg.Subjects = subj;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Retention = js_LimitsPolicy;
	cfg.Duplicates = DEDUP_NS;
	cfg.Replicas = n->u.replicas > 0 ? n->u.replicas : 1;
	/* Append-only: seq stays gap-free. */
	cfg.DenyDelete = true;
	cfg.DenyPurge = true;
	for (;;) {
		jerr = 0;
		si = NULL;
		s = js_AddStream(&si, nats_js(n->c), &cfg, NULL, &jerr);
		jsStreamInfo_Destroy(si);
		/* Made by another appender meanwhile (or by a try that timed
		 * out): as good. */
		if (s == NATS_OK || jerr == JSStreamNameExistErr)
			return 0;
		int rc = nats_fail(e, s, jerr, "%s: cannot create the log", l->dir);
		if (rc != EV_TEMPFAIL || clock_now_ms() >= deadline)
			return rc;
		nap(100);
	}
}

int
elog_nats_open(const char *uri, const struct elog_opts *o, struct elog **out, struct ev_err *e)
{
	struct elog *l = xcalloc(1, sizeof *l);
	struct elog_nats *n = xcalloc(1, sizeof *n);
	int rc;

	*out = NULL;
	l->ops = &elog_nats_ops;
	l->nats = n;
	l->o = *o;
	l->writer = o->create;
	l->dirfd = l->lockfd = l->segfd = -1;
	rc = nats_uri_parse(uri, 1, &n->u, e);
	if (rc != 0) {
		l->dir = xstrdup(uri);
		nats_close_log(l);
		return rc;
	}
	l->dir = xstrdup(n->u.shown);
	if (strchr(n->u.name, '.') != NULL) {
		rc = err_set(e, EV_USAGE, "'%s': a log's name is 1-80 of A-Za-z0-9_-", l->dir);
	} else {
		buf_printf(&n->tmp, "evlog_%s", n->u.name);
		n->stream = xstrdup(n->tmp.p);
		buf_reset(&n->tmp);
		buf_printf(&n->tmp, "evlog.%s.", n->u.name);
		n->prefix = xstrdup(n->tmp.p);
		rc = nats_connect(&n->u, &n->c, e);
	}
	if (rc == 0)
		rc = ensure_stream(l, e);
	if (rc != 0) {
		nats_close_log(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* Reading: an ordered consumer (cnats makes it again from where it was
 * when a server goes) from seq `from` on, over all the log's subjects.
 * The committed end is the stream's last seq, learnt at the start and
 * from each message's count of what is pending after it. */
struct nats_reader {
	struct elog *l;
	natsSubscription *sub;
	natsMsg *msg;			/* the record returned last */
	natsMsg *ahead;			/* one received by reader_wait */
	uint64_t ahead_seq;		/* its stream sequence */
	uint64_t next, end, seq;
};

static int
rd_subscribe(struct nats_reader *rd, struct ev_err *e)
{
	struct elog_nats *n = rd->l->nats;
	jsSubOptions so;
	jsErrCode jerr = 0;
	char subj[120];

	jsSubOptions_Init(&so);
	so.Stream = n->stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = rd->next;
	snprintf(subj, sizeof subj, "%s>", n->prefix);
	/* A consumer is not made while the cluster is between leaders, or
	 * placed on a peer that just died: that passes. */
	int64_t deadline = clock_now_ms() + TEMP_WAIT_MS;
	for (int i = 0;; i++) {
		jerr = 0;
		natsStatus s = js_SubscribeSync(&rd->sub, nats_js(n->c), subj, NULL, &so, &jerr);
		if (s == NATS_OK)
			return 0;
		int rc = nats_fail(e, s, jerr, "%s: cannot read", rd->l->dir);
		if (rc != EV_TEMPFAIL || clock_now_ms() >= deadline)
			return rc;
		nap(100 + i);
	}
}

static int
nats_reader_open(struct elog *l, uint64_t from, void **out, struct ev_err *e)
{
	struct elog_nats *n = l->nats;
	struct nats_reader *rd = xcalloc(1, sizeof *rd);
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	int rc = 0;

	*out = NULL;
	rd->l = l;
	rd->next = from > 0 ? from : 1;
	int64_t deadline = clock_now_ms() + TEMP_WAIT_MS;
	natsStatus s;
	while ((s = js_GetStreamInfo(&si, nats_js(n->c), n->stream, NULL, &jerr)) != NATS_OK) {
		rc = nats_fail(e, s, jerr, "%s", l->dir);
		if (rc != EV_TEMPFAIL || clock_now_ms() >= deadline) {
			free(rd);
			return rc;
		}
		nap(100);
		jerr = 0;
	}
	rd->end = si->State.LastSeq;
	/* A log starts at seq 1, and its stream refuses deletes and purges. */
	if (si->State.Msgs > 0 && si->State.FirstSeq > 1 && rd->next < si->State.FirstSeq)
		rc = err_set(e, EV_DATAERR, "%s: records 1-%llu are missing", l->dir,
		    (unsigned long long)si->State.FirstSeq - 1);
	jsStreamInfo_Destroy(si);
	if (rc == 0)
		rc = rd_subscribe(rd, e);
	if (rc != 0) {
		free(rd);
		return rc;
	}
	*out = rd;
	return 0;
}

/* The next message of the consumer within ms: 1 and *m, 0 if none came,
 * or a status. */
static int
rd_receive(struct nats_reader *rd, int ms, natsMsg **m, uint64_t *sseq, struct ev_err *e)
{
	jsMsgMetaData *md = NULL;
	natsStatus s = natsSubscription_NextMsg(m, rd->sub, ms);

	if (s == NATS_TIMEOUT)
		return 0;
	if (s != NATS_OK)
		return nats_fail(e, s, 0, "%s: read", rd->l->dir);
	if (natsMsg_GetMetaData(&md, *m) != NATS_OK) {
		natsMsg_Destroy(*m);
		return err_set(e, EV_UNAVAILABLE, "%s: a message without its metadata",
		    rd->l->dir);
	}
	*sseq = md->Sequence.Stream;
	if (md->Sequence.Stream + md->NumPending > rd->end)
		rd->end = md->Sequence.Stream + md->NumPending;
	jsMsgMetaData_Destroy(md);
	return 1;
}

static int
nats_reader_next(void *p, struct elog_rec *r, struct ev_err *e)
{
	struct nats_reader *rd = p;
	natsMsg *m = rd->ahead;
	uint64_t sseq = rd->ahead_seq;
	const char *why;

	rd->ahead = NULL;
	natsMsg_Destroy(rd->msg);
	rd->msg = NULL;
	while (m == NULL || sseq < rd->next) {
		natsMsg_Destroy(m);
		m = NULL;
		if (rd->next > rd->end)
			return 0;
		int k = rd_receive(rd, NEXT_WAIT_MS, &m, &sseq, e);
		if (k == 0)
			return err_set(e, EV_TEMPFAIL, "%s: record %llu did not come",
			    rd->l->dir, (unsigned long long)rd->next);
		if (k != 1)
			return k;
	}
	rd->msg = m;
	rd->seq = sseq;
	if (sseq > rd->next)
		return err_set(e, EV_DATAERR, "%s: records %llu-%llu are missing", rd->l->dir,
		    (unsigned long long)rd->next, (unsigned long long)sseq - 1);
	if (decode_msg(m, sseq, r, &why) != 0)
		return err_set(e, EV_DATAERR, "%s: record %llu: damaged: %s "
		    "(see evlog-read --verify)", rd->l->dir, (unsigned long long)sseq, why);
	rd->next = sseq + 1;
	return 1;
}

static void
nats_reader_wait(void *p, int timeout_ms)
{
	struct nats_reader *rd = p;
	struct ev_err e;
	uint64_t sseq;

	if (rd->ahead != NULL || rd->next <= rd->end)
		return;
	natsMsg *m = NULL;
	if (rd_receive(rd, timeout_ms, &m, &sseq, &e) == 1) {
		rd->ahead = m;
		rd->ahead_seq = sseq;
	}
}

static const char *
nats_reader_segment(const void *p)
{
	const struct nats_reader *rd = p;

	return rd->l->nats->stream;
}

static unsigned long
nats_reader_line(const void *p)
{
	const struct nats_reader *rd = p;

	return (unsigned long)rd->seq;
}

static void
nats_reader_close(void *p)
{
	struct nats_reader *rd = p;

	if (rd == NULL)
		return;
	natsSubscription_Unsubscribe(rd->sub);
	natsSubscription_Destroy(rd->sub);
	natsMsg_Destroy(rd->msg);
	natsMsg_Destroy(rd->ahead);
	free(rd);
}

/* --verify: every record read in order (seq = stream sequence, CRC),
 * every stream's versions 1, 2, 3… */
static long
nats_verify(struct elog *l, void (*report)(void *, const char *), void *ctx,
    uint64_t *records, struct ev_err *e)
{
	struct elog_nats *n = l->nats;
	void *rd;
	struct elog_rec r;
	long damages = 0;
	char what[256];
	int k;

	*records = 0;
	if (nats_reader_open(l, 1, &rd, e) != 0)
		return -1;
	heads_clear(n);
	n->known = 0;
	while ((k = nats_reader_next(rd, &r, e)) != 0) {
		if (k != 1 && k != EV_DATAERR)
			break;
		if (k == EV_DATAERR) {
			snprintf(what, sizeof what, "%s:%llu: %.180s", n->stream,
			    (unsigned long long)((struct nats_reader *)rd)->seq, e->msg);
			report(ctx, what);
			damages++;
			((struct nats_reader *)rd)->next = ((struct nats_reader *)rd)->seq + 1;
			continue;
		}
		subject_of(n, r.stream, r.stream_n);
		struct head *h = head_slot(n, n->subj.p);
		if (h->subj == NULL) {
			h->subj = xstrdup(n->subj.p);
			n->nheads++;
		}
		if (r.version != h->version + 1) {
			snprintf(what, sizeof what, "%s:%llu: stream %.*s: version %llu after %llu",
			    n->stream, (unsigned long long)r.seq, (int)r.stream_n, r.stream,
			    (unsigned long long)r.version, (unsigned long long)h->version);
			report(ctx, what);
			damages++;
		}
		h->version = r.version;
		(*records)++;
	}
	nats_reader_close(rd);
	heads_clear(n);
	return k > 1 ? -1 : damages;
}

const struct elog_ops elog_nats_ops = {
	nats_close_log, nats_append_start, nats_append_finish, nats_verify,
	nats_reader_open, nats_reader_next, nats_reader_wait,
	nats_reader_segment, nats_reader_line, nats_reader_close,
};
