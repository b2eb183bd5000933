/* queue_nats_admin — a NATS queue's administration (stat, set, purge,
 * delete, list) and its moves: dead letters and redrive, each a
 * confirmed publish under a Nats-Msg-Id that makes a repeat a duplicate,
 * then a confirmed ack of the original, so a crash between the two
 * leaves the message to be moved again and never two copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "queue_int.h"

static int same(const struct queue *a, const struct queue *b);

static const char *const copied[] = {
	QN_SENT, QN_GROUP, QN_DEDUP, QN_ATTRS, QN_ATTRS_MD5, QN_TRACE, NULL
};

/* A copy of m for dest's subject with id as its id, msgid as its
 * Nats-Msg-Id and src (or none) as its source queue. */
static natsMsg *
copy_msg(natsMsg *m, const struct queue *dest, const char *id, const char *msgid,
    const char *src)
{
	natsMsg *c = NULL;

	if (natsMsg_Create(&c, dest->rn->subject, NULL, natsMsg_GetData(m),
	    natsMsg_GetDataLength(m)) != NATS_OK)
		die_oom();
	for (int i = 0; copied[i] != NULL; i++) {
		const char *v = NULL;
		if (natsMsgHeader_Get(m, copied[i], &v) == NATS_OK && v != NULL)
			natsMsgHeader_Set(c, copied[i], v);
	}
	natsMsgHeader_Set(c, QN_ID, id);
	natsMsgHeader_Set(c, "Nats-Msg-Id", msgid);
	if (src != NULL)
		natsMsgHeader_Set(c, QN_SRC, src);
	return c;
}

/* Publishes c to dest, then acks m (by its handle) on q. */
static int
move(struct queue *q, natsMsg *m, struct queue *dest, natsMsg *c, struct ev_err *e)
{
	struct nats_ack a;
	unsigned char ok = 0;
	const char *h = natsMsg_GetReply(m);

	if (nats_pub_sync(dest->rn->c, c, NULL, &a, e) != 0)
		return err_wrap(e, "queue '%s'", dest->name);
	if (qnats_acks(q, &h, 1, "+ACK", &ok, NULL, e) != 0)
		return e->code;
	if (!ok)
		return err_set(e, EV_TEMPFAIL, "queue '%s': no confirmation of a move's ack; "
		    "the message may be moved again (its copy is a duplicate)", q->name);
	return 0;
}

static int
open_dlq(struct queue *q, struct ev_err *e)
{
	struct qnats *rn = q->rn;

	if (rn->dlq != NULL)
		return 0;
	int rc = qnats_open_ref(q, q->a.dlq, &rn->dlq, e);
	if (rc == 0 && rn->dlq->ops != &qnats_ops) {
		q_close(rn->dlq);
		rn->dlq = NULL;
		rc = err_set(e, EV_USAGE, "queue '%s': dead-letter queue '%s' is not on NATS",
		    q->name, q->a.dlq);
	}
	return rc;
}

int
qnats_dead_letter(struct queue *q, natsMsg *m, uint64_t receives, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	const char *id = NULL;
	struct ev_err de;

	(void)receives;
	int rc = open_dlq(q, &de);
	if (rc == EV_NOINPUT) {
		/* Kept, in flight until its visibility timeout: not lost. */
		err_set(&q->notice, 1, "queue '%s': poison messages kept: dead-letter queue '%s' "
		    "does not exist", q->name, q->a.dlq);
		return 0;
	}
	if (rc != 0) {
		*e = de;
		return rc;
	}
	natsMsgHeader_Get(m, QN_ID, &id);
	if (id == NULL)
		id = "";
	/* Its own id as Nats-Msg-Id: moved again after a crash, a duplicate. */
	natsMsg *c = copy_msg(m, rn->dlq, id, id, rn->u.name);
	return move(q, m, rn->dlq, c, e);
}

int
qnats_stat(struct queue *q, struct q_stat *st, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	jsStreamInfo *si = NULL;
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;

	memset(st, 0, sizeof *st);
	natsStatus s = js_GetStreamInfo(&si, nats_js(rn->c), rn->stream, NULL, &jerr);
	if (s == NATS_OK)
		s = js_GetConsumerInfo(&ci, nats_js(rn->c), rn->stream, "evq", NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamInfo_Destroy(si);
		return err_set(e, EV_NOINPUT, "queue '%s' does not exist", q->name);
	}
	if (s == NATS_OK) {
		long msgs = (long)si->State.Msgs, pending = (long)ci->NumAckPending;
		st->in_flight = pending < msgs ? pending : msgs;
		st->visible = msgs - st->in_flight;
	}
	jsStreamInfo_Destroy(si);
	jsConsumerInfo_Destroy(ci);
	return s != NATS_OK ? nats_fail(e, s, jerr, "queue '%s': stat", q->name) : 0;
}

/* RedrivePolicy: the target a NATS queue (a nats:// URI, or a name on
 * the same servers) that exists, is not this one, and is FIFO if this
 * one is. */
static int
set_redrive(struct queue *q, struct q_attrs *a, const char *value, struct ev_err *e)
{
	char target[4096];
	long long max;
	struct queue *d = NULL;
	int rc = qadm_redrive_take(value, a, target, &max, e);

	if (rc != 0 || target[0] == '\0')
		return rc;
	rc = qnats_open_ref(q, target, &d, e);
	if (rc == EV_NOINPUT)
		return err_set(e, EV_USAGE, "the dead-letter queue does not exist");
	if (rc != 0)
		return rc;
	if (d->ops != &qnats_ops)
		rc = err_set(e, EV_USAGE, "the dead-letter queue must be on NATS");
	else if (same(q, d))
		rc = err_set(e, EV_USAGE, "a queue cannot be its own dead-letter queue");
	else if (d->a.fifo != a->fifo)
		rc = err_set(e, EV_USAGE, "the dead-letter queue of a FIFO queue must be FIFO, "
		    "and of a standard queue standard");
	q_close(d);
	if (rc != 0)
		return rc;
	snprintf(a->dlq, sizeof a->dlq, "%s", target);
	a->max_receives = (int)max;
	return 0;
}

int
qnats_set(struct queue *q, const char *name, const char *value, struct ev_err *e)
{
	struct q_attrs a = q->a, old = q->a;
	struct ev_err bad;

	int rc = strcmp(name, "RedrivePolicy") == 0 ? set_redrive(q, &a, value, &bad) :
	    qattr_set(&a, name, value, &bad);
	if (rc != 0)
		return err_set(e, rc, "%s: invalid %s '%s': %s", q->name, name, value, bad.msg);
	a.modified_ms = clock_now_ms();
	q->a = a;
	if ((rc = qnats_apply(q, 0, e)) != 0)
		q->a = old;
	return rc;
}

int
qnats_purge(struct queue *q, long *purged, struct ev_err *e)
{
	struct qnats *rn = q->rn;
	struct q_stat st;
	jsErrCode jerr = 0;

	*purged = 0;
	if (qnats_stat(q, &st, e) != 0)
		return e->code;
	natsStatus s = js_PurgeStream(nats_js(rn->c), rn->stream, NULL, &jerr);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "queue '%s': purge", q->name);
	*purged = st.visible + st.in_flight;
	return 0;
}

int
qnats_drop(struct queue *q, struct ev_err *e)
{
	jsErrCode jerr = 0;
	natsStatus s = js_DeleteStream(nats_js(q->rn->c), q->rn->stream, NULL, &jerr);
	int rc = 0;

	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
		rc = err_set(e, EV_NOINPUT, "queue '%s' does not exist", q->name);
	else if (s != NATS_OK)
		rc = nats_fail(e, s, jerr, "queue '%s': delete", q->name);
	q_close(q);
	return rc;
}

/* ---- redrive ---- */

struct redrive {
	struct queue *to;		/* --to, or the last source opened */
	char *to_name;			/* that source's name */
	int fixed;			/* to is --to */
	const char **kept;		/* handles of letters with no source */
	size_t nkept, capkept;
};

static int
target(struct queue *q, struct redrive *r, natsMsg *m, struct queue **to, struct ev_err *e)
{
	const char *src = NULL;

	*to = NULL;
	if (r->fixed) {
		*to = r->to;
		return 0;
	}
	if (natsMsgHeader_Get(m, QN_SRC, &src) != NATS_OK || src == NULL)
		return 0;
	if (r->to == NULL || strcmp(r->to_name, src) != 0) {
		q_close(r->to);
		free(r->to_name);
		r->to = NULL;
		r->to_name = xstrdup(src);
		int rc = qnats_open_ref(q, src, &r->to, e);
		if (rc == EV_NOINPUT)
			return 0;
		if (rc != 0)
			return rc;
	}
	*to = r->to;
	return 0;
}

static int
same(const struct queue *a, const struct queue *b)
{
	return b->ops == &qnats_ops && strcmp(a->rn->stream, b->rn->stream) == 0 &&
	    strcmp(nats_shown(a->rn->c), nats_shown(b->rn->c)) == 0;
}

static int
redrive_one(struct queue *q, struct redrive *r, natsMsg *m, long *moved, struct ev_err *e)
{
	struct queue *to;
	jsMsgMetaData *md = NULL;
	const char *oid = NULL;
	char id[37], msgid[160];

	if (target(q, r, m, &to, e) != 0)
		return e->code;
	if (to == NULL) {
		XGROW(&r->kept, &r->capkept, r->nkept + 1);
		r->kept[r->nkept++] = xstrdup(natsMsg_GetReply(m));
		return 0;
	}
	if (natsMsg_GetMetaData(&md, m) != NATS_OK)
		return err_set(e, EV_SOFTWARE, "queue '%s': a message without metadata", q->name);
	natsMsgHeader_Get(m, QN_ID, &oid);
	/* A new message, as SQS's redrive; a repeat after a crash: a duplicate. */
	snprintf(msgid, sizeof msgid, "redrive-%s-%llu", oid != NULL ? oid : "",
	    (unsigned long long)md->Sequence.Stream);
	jsMsgMetaData_Destroy(md);
	uuid_v4(id);
	if (move(q, m, to, copy_msg(m, to, id, msgid, NULL), e) != 0)
		return e->code;
	(*moved)++;
	return 0;
}

static int
redrive_loop(struct queue *q, struct redrive *r, long *moved, struct ev_err *e)
{
	struct q_msg out[100];
	size_t n;
	int rc;

	while ((rc = qnats_consume(q, 0, 100, out, &n, e)) == 0 && n > 0) {
		struct qnats *rn = q->rn;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = redrive_one(q, r, rn->cur[i], moved, e);
		rn->held = 0;
		if (rc != 0)
			break;
	}
	return rc;
}

int
qnats_redrive(struct queue *q, const char *dest, long *moved, long *kept, struct ev_err *e)
{
	struct redrive r = { 0 };
	int rc = 0;

	*moved = *kept = 0;
	if (dest != NULL) {
		rc = qnats_open_ref(q, dest, &r.to, e);
		if (rc == 0 && r.to->ops != &qnats_ops)
			rc = err_set(e, EV_USAGE, "redrive: '%s' is not a NATS queue", dest);
		else if (rc == 0 && same(q, r.to))
			rc = err_set(e, EV_USAGE, "redrive: '%s' is the dead-letter queue itself", dest);
		r.fixed = 1;
	}
	if (rc == 0)
		rc = redrive_loop(q, &r, moved, e);
	/* Letters naming no source stay, visible again. */
	struct ev_err ke;
	qnats_acks(q, r.kept, r.nkept, "-NAK", NULL, NULL, &ke);
	*kept = (long)r.nkept;
	for (size_t i = 0; i < r.nkept; i++)
		free((char *)r.kept[i]);
	free(r.kept);
	q_close(r.to);
	free(r.to_name);
	return rc;
}

/* ---- list ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
qnats_list(const char *uri, void (*fn)(const char *name, const char *url, void *ctx), void *ctx,
    struct ev_err *e)
{
	struct nats_uri u;
	struct nats_conn *c;
	jsStreamNamesList *l = NULL;
	jsErrCode jerr = 0;
	int rc = nats_uri_parse(uri, 0, &u, e);

	if (rc != 0)
		return rc;
	if ((rc = nats_connect(&u, &c, e)) != 0) {
		nats_uri_free(&u);
		return rc;
	}
	natsStatus s = js_StreamNames(&l, nats_js(c), NULL, &jerr);
	if (s != NATS_OK && s != NATS_NOT_FOUND)
		rc = nats_fail(e, s, jerr, "%s: list", nats_shown(c));
	char **names = xcalloc(l != NULL ? (size_t)l->Count + 1 : 1, sizeof *names);
	size_t n = 0;
	for (int i = 0; rc == 0 && l != NULL && i < l->Count; i++) {
		const char *sn = l->List[i];
		int fifo = strncmp(sn, "evqf-", 5) == 0;
		if (!fifo && strncmp(sn, "evq-", 4) != 0)
			continue;
		struct buf b = { 0 };
		buf_printf(&b, "%s%s", sn + (fifo ? 5 : 4), fifo ? ".fifo" : "");
		if (strncmp(b.p, u.name, strlen(u.name)) == 0)
			names[n++] = buf_detach(&b);
		else
			buf_free(&b);
	}
	qsort(names, n, sizeof *names, cmp_str);
	struct buf url = { 0 };
	for (size_t i = 0; i < n; i++) {
		buf_reset(&url);
		buf_printf(&url, "%s/%s", nats_shown(c), names[i]);
		fn(names[i], url.p, ctx);
		free(names[i]);
	}
	buf_free(&url);
	free(names);
	jsStreamNamesList_Destroy(l);
	nats_close(c);
	nats_uri_free(&u);
	return rc;
}
