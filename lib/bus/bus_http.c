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
	struct buf trace, id, src, type, time, ext, v;
};

/* A CloudEvent's attributes that the binding sets from elsewhere. */
static int
ce_own(const char *k, size_t kn)
{
	static const char *const own[] = { "specversion", "id", "source", "type", "time",
	    "data", "data_base64", "datacontenttype", NULL };

	for (const char *const *o = own; *o != NULL; o++)
		if (json_key_is(k, kn, *o, strlen(*o)))
			return 1;
	return 0;
}

/* A CloudEvent read as input (it has "specversion") keeps its other
 * attributes: each string member with a CloudEvents attribute name (a-z,
 * 0-9) goes into t->ext as name and value. */
static void
ce_extensions(const struct bus_item *it, struct req_text *t, struct http_req *rq)
{
	const char *p = it->event;
	size_t n = it->en, at = json_ws(p, n, 0), k, kend, v, vend;

	buf_reset(&t->ext);
	if (at >= n || p[at] != '{' || json_find_member(p, n, at, "specversion", 11) == (size_t)-1)
		return;
	while (json_member(p, n, &at, &k, &kend, &v, &vend)) {
		size_t kn = kend - k - 2;
		if (ce_own(p + k + 1, kn) || p[v] != '"' || kn == 0 || kn > 20 ||
		    strspn(p + k + 1, "abcdefghijklmnopqrstuvwxyz0123456789") < kn)
			continue;
		if (!json_string_at(p, n, v, &t->v) ||
		    (t->v.n > 0 && memchr(t->v.p, '\0', t->v.n) != NULL))
			continue;
		buf_add(&t->ext, p + k + 1, kn);
		buf_addc(&t->ext, '\0');
		buf_add(&t->ext, t->v.p, t->v.n);
		buf_addc(&t->ext, '\0');
		rq->nce++;
	}
	rq->ce_ext = t->ext.p;
}

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
	ce_extensions(it, t, rq);
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
		buf_free(&t[i].ext);
		buf_free(&t[i].v);
	}
	free(t);
	free(rq);
}
