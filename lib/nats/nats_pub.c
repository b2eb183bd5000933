/* nats_pub — publishing with confirmation (nats.h): async publishes whose
 * acknowledgements a cnats thread records in slots, and the retries. */
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/msg.h"
#include "nats.h"
#include "nats_int.h"

enum { RETRIES = 8, CONFIRM_WAIT_MS = 15000, SYNC_WAIT_MS = 5000 };

/* The slot of a message in flight: acknowledgements come mostly in
 * order, so the search starts where the last one ended. */
static struct natsp_slot *
find_slot(struct nats_conn *c, const natsMsg *m)
{
	for (size_t k = 0; k < c->nslots; k++) {
		size_t i = (c->cursor + k) % c->nslots;
		if (c->slots[i].state == SLOT_FLIGHT && c->slots[i].msg == m) {
			c->cursor = i + 1;
			return &c->slots[i];
		}
	}
	return NULL;
}

void
natsp_ack_handler(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct nats_conn *c = closure;

	(void)js;
	pthread_mutex_lock(&c->mu);
	struct natsp_slot *sl = find_slot(c, msg);
	if (sl != NULL && pa != NULL) {
		sl->state = SLOT_OK;
		sl->seq = pa->Sequence;
		sl->dup = pa->Duplicate;
	} else if (sl != NULL) {
		/* Kept to publish again from the caller's thread. */
		sl->state = SLOT_FAILED;
		sl->err = pae != NULL ? pae->Err : NATS_ERR;
		sl->jerr = pae != NULL ? pae->ErrCode : 0;
		sl->retry = msg;
		msg = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	natsMsg_Destroy(msg);
}

int
nats_pub_add(struct nats_conn *c, natsMsg *m, void *tag, nats_pub_fn fn, void *ctx,
    struct ev_err *e)
{
	if (c->nslots == NATS_PUB_PENDING) {
		int rc = nats_pub_flush(c, fn, ctx, e);
		if (rc != 0) {
			natsMsg_Destroy(m);
			return rc;
		}
	}
	pthread_mutex_lock(&c->mu);
	struct natsp_slot *sl = &c->slots[c->nslots++];
	memset(sl, 0, sizeof *sl);
	sl->msg = m;
	sl->tag = tag;
	sl->state = SLOT_FLIGHT;
	pthread_mutex_unlock(&c->mu);
	natsMsg *mm = m;
	natsStatus s = js_PublishMsgAsync(c->js, &mm, NULL);
	if (s != NATS_OK) {
		/* Not taken (mm still set): publish it again at the flush. */
		pthread_mutex_lock(&c->mu);
		if (sl->state == SLOT_FLIGHT) {
			sl->state = SLOT_FAILED;
			sl->err = s;
			sl->retry = mm;
			mm = NULL;
		}
		pthread_mutex_unlock(&c->mu);
		natsMsg_Destroy(mm);
	}
	return 0;
}

/* Takes back what was never acknowledged: failed, to publish again. */
static void
take_back(struct nats_conn *c)
{
	natsMsgList l = { 0 };

	if (js_PublishAsyncGetPendingList(&l, c->js) != NATS_OK)
		return;
	pthread_mutex_lock(&c->mu);
	for (int i = 0; i < l.Count; i++) {
		struct natsp_slot *sl = find_slot(c, l.Msgs[i]);
		if (sl == NULL)
			continue;
		sl->state = SLOT_FAILED;
		sl->err = NATS_TIMEOUT;
		sl->retry = l.Msgs[i];
		l.Msgs[i] = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	natsMsgList_Destroy(&l);
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Publishes a failed slot's message again, synchronously, a few times:
 * its Nats-Msg-Id makes a copy the stream already has a duplicate. */
static void
republish(struct nats_conn *c, struct natsp_slot *sl)
{
	jsPubOptions po;

	jsPubOptions_Init(&po);
	po.MaxWait = SYNC_WAIT_MS;
	for (int i = 0; i < RETRIES && sl->state == SLOT_FAILED; i++) {
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		natsStatus s = js_PublishMsg(&pa, c->js, sl->retry, &po, &jerr);
		if (s == NATS_OK) {
			sl->state = SLOT_OK;
			sl->seq = pa->Sequence;
			sl->dup = pa->Duplicate;
		} else {
			sl->err = s;
			sl->jerr = jerr;
			/* The server refused the message itself: no use again. */
			if (jerr != 0 && s != NATS_TIMEOUT)
				break;
			nap_ms(100L << (i < 5 ? i : 5));
		}
		jsPubAck_Destroy(pa);
	}
}

int
nats_pub_flush(struct nats_conn *c, nats_pub_fn fn, void *ctx, struct ev_err *e)
{
	jsPubOptions po;
	int rc = 0;

	if (c->nslots == 0)
		return 0;
	jsPubOptions_Init(&po);
	po.MaxWait = CONFIRM_WAIT_MS;
	if (js_PublishAsyncComplete(c->js, &po) != NATS_OK)
		take_back(c);
	for (size_t i = 0; i < c->nslots; i++) {
		struct natsp_slot *sl = &c->slots[i];
		if (sl->state == SLOT_FAILED && rc == 0)
			republish(c, sl);
		if (sl->state == SLOT_OK && rc == 0) {
			struct nats_ack a = { sl->tag, sl->seq, sl->dup };
			if (fn != NULL)
				fn(ctx, &a);
		} else if (rc == 0) {
			rc = nats_fail(e, sl->err, sl->jerr, "%s: publish", c->shown);
		}
		natsMsg_Destroy(sl->retry);
		sl->retry = NULL;
	}
	c->nslots = 0;
	c->cursor = 0;
	return rc;
}

size_t
nats_pub_pending(const struct nats_conn *c)
{
	return c->nslots;
}

void
nats_pub_drop(struct nats_conn *c)
{
	if (c->nslots == 0)
		return;
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = 1000;
	if (js_PublishAsyncComplete(c->js, &po) != NATS_OK)
		take_back(c);
	for (size_t i = 0; i < c->nslots; i++) {
		natsMsg_Destroy(c->slots[i].retry);
		c->slots[i].retry = NULL;
	}
	c->nslots = 0;
	c->cursor = 0;
}

int
nats_pub_sync(struct nats_conn *c, natsMsg *m, jsPubOptions *po, struct nats_ack *a,
    struct ev_err *e)
{
	natsStatus s = NATS_OK;
	jsErrCode jerr = 0;

	for (int i = 0; i < RETRIES; i++) {
		jsPubAck *pa = NULL;
		jerr = 0;
		s = js_PublishMsg(&pa, c->js, m, po, &jerr);
		if (s == NATS_OK) {
			a->seq = pa->Sequence;
			a->duplicate = pa->Duplicate;
			jsPubAck_Destroy(pa);
			break;
		}
		if (jerr != 0 && s != NATS_TIMEOUT)
			break;
		nap_ms(100L << (i < 5 ? i : 5));
	}
	natsMsg_Destroy(m);
	if (s != NATS_OK)
		return nats_fail(e, s, jerr, "%s: publish", c->shown);
	return 0;
}
