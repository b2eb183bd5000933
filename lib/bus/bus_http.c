/* bus_http — an http:// or https:// target (SPEC 6a): each delivery is
 * one request of the batch's attempt, driven concurrently by lib/http;
 * its outcome (done, retried, final) is the item's.  The thread blocks
 * in http_send until the whole batch has its outcomes, so a slow
 * endpoint fills the target's bounded FIFO and the reader waits. */
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "bus_int.h"
#include "core/alloc.h"
#include "core/json.h"
#include "http/http.h"

/* The texts one request points into. */
struct req_text {
	struct buf trace, id, src, type, time;
};

/* The string member key of the event's top object into b (NUL-ended):
 * the text, or NULL. */
static const char *
attr(const struct bus_item *it, const char *key, struct buf *b)
{
	size_t o = json_ws(it->event, it->en, 0);

	buf_reset(b);
	if (o >= it->en || it->event[o] != '{' || !json_string_at(it->event, it->en,
	    json_find_member(it->event, it->en, o, key, strlen(key)), b))
		return NULL;
	buf_addc(b, '\0');
	return b->p;
}

static void
fill(const struct tgt_run *r, const struct bus_item *it, struct req_text *t,
    struct http_req *rq)
{
	memset(rq, 0, sizeof *rq);
	rq->body = it->payload;
	rq->n = it->n;
	buf_reset(&t->trace);
	if (aws_trace_find(it->event, it->en, &t->trace)) {
		buf_addc(&t->trace, '\0');
		rq->trace = t->trace.p;
	}
	if (r->t->http->cloudevents == HTTP_CE_NONE)
		return;
	/* An EventBridge event's attributes, or a CloudEvent's own. */
	rq->ce_id = attr(it, "id", &t->id);
	rq->ce_source = attr(it, "source", &t->src);
	if ((rq->ce_type = attr(it, "detail-type", &t->type)) == NULL)
		rq->ce_type = attr(it, "type", &t->type);
	rq->ce_time = attr(it, "time", &t->time);
}

void
bus_send_http(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct req_text *t = xcalloc(n, sizeof *t);
	struct http_req *rq = xcalloc(n, sizeof *rq);

	for (size_t i = 0; i < n; i++)
		fill(r, items[i], &t[i], &rq[i]);
	http_send(r->http, rq, n);
	for (size_t i = 0; i < n; i++) {
		if (rq[i].outcome == HTTP_OK)
			items[i]->state = ITEM_DONE;
		else
			bus_item_fail(items[i], rq[i].outcome == HTTP_FINAL, rq[i].code, "%s",
			    rq[i].why);
		buf_free(&t[i].trace);
		buf_free(&t[i].id);
		buf_free(&t[i].src);
		buf_free(&t[i].type);
		buf_free(&t[i].time);
	}
	free(t);
	free(rq);
}
