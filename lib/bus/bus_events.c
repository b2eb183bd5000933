/* bus_events — an events://REGION/BUS target: each delivery becomes one
 * PutEvents entry (aws/aws.h batches them 10 a request).  A payload in
 * EventBridge's shape (string "source" and "detail-type", object
 * "detail") keeps its source, detail-type, detail, resources and time;
 * any other JSON object is the Detail of an entry with Source "evkit"
 * and DetailType the rule's name.  The trace id the event as read
 * carries (aws_trace_find) goes as TraceHeader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "bus_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "shape.h"

/* The texts one entry points into. */
struct ent_text {
	struct buf src, type, detail, res, time, trace;
};

/* The string member key of the object at p[obj] into b: 1, or 0. */
static int
str_member(const char *p, size_t n, size_t obj, const char *key, struct buf *b)
{
	return json_string_at(p, n, json_find_member(p, n, obj, key, strlen(key)), b);
}

/* "resources" when it is an array of strings, compacted into b. */
static int
resources(const char *p, size_t n, size_t obj, struct buf *b)
{
	size_t v = json_find_member(p, n, obj, "resources", 9), end, at, k;

	if (v == (size_t)-1 || p[v] != '[' || (end = json_skip(p, n, v)) == (size_t)-1)
		return 0;
	for (size_t i = 0; (at = json_find_index(p, n, v, i)) != (size_t)-1; i++)
		if (p[at] != '"')
			return 0;
	buf_reset(b);
	json_compact(b, p + v, end - v);
	k = b->n;
	buf_addc(b, '\0');
	b->n = k;
	return 1;
}

/* Fills en from the payload; NULL, or why it cannot be an entry. */
static const char *
map(const struct tgt_run *r, const struct bus_item *it, struct ent_text *t,
    struct aws_events_entry *en)
{
	const char *p = it->payload;
	size_t n = it->n, obj = json_ws(p, n, 0), d, dend;
	int64_t ms;

	if (it->kind != SHAPE_JSON || obj >= n || p[obj] != '{')
		return "the payload is not a JSON object (PutEvents' Detail must be one)";
	memset(en, 0, sizeof *en);
	en->time_ms = -1;
	d = json_find_member(p, n, obj, "detail", 6);
	if (d != (size_t)-1 && p[d] == '{' && str_member(p, n, obj, "source", &t->src) &&
	    str_member(p, n, obj, "detail-type", &t->type) &&
	    (dend = json_skip(p, n, d)) != (size_t)-1) {
		buf_reset(&t->detail);
		json_compact(&t->detail, p + d, dend - d);
		if (resources(p, n, obj, &t->res))
			en->resources = t->res.p;
		if (str_member(p, n, obj, "time", &t->time) && clock_parse_rfc3339(t->time.p, &ms) == 0)
			en->time_ms = ms;
	} else {
		buf_reset(&t->src);
		buf_adds(&t->src, "evkit");
		buf_reset(&t->type);
		buf_adds(&t->type, r->t->rule->name);
		buf_reset(&t->detail);
		json_compact(&t->detail, p, n);
	}
	buf_addc(&t->src, '\0');
	buf_addc(&t->type, '\0');
	en->source = t->src.p;
	en->detail_type = t->type.p;
	en->detail = t->detail.p;
	en->detail_len = t->detail.n;
	if (aws_trace_find(it->event, it->en, &t->trace)) {
		buf_addc(&t->trace, '\0');
		en->trace = t->trace.p;
	}
	return NULL;
}

static void
text_free(struct ent_text *t)
{
	buf_free(&t->src);
	buf_free(&t->type);
	buf_free(&t->detail);
	buf_free(&t->res);
	buf_free(&t->time);
	buf_free(&t->trace);
}

void
bus_send_events(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct ent_text *t = xcalloc(n, sizeof *t);
	struct aws_events_entry *en = xcalloc(n, sizeof *en);
	struct bus_item **who = xcalloc(n, sizeof *who);
	struct ev_err e = { 0 };
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *why = map(r, items[i], &t[k], &en[k]);
		if (why != NULL)
			bus_item_fail(items[i], 1, "INVALID_PARAMETER", "%s: %s", r->t->uri, why);
		else
			who[k++] = items[i];
	}
	if (k > 0)
		aws_events_put(r->ev, en, k, &e);
	for (size_t i = 0; i < k; i++)
		bus_item_status(who[i], en[i].status, "SERVICE_UNAVAILABLE",
		    en[i].status == -1 && e.msg[0] != '\0' ? e.msg :
		    en[i].why[0] != '\0' ? en[i].why : "not sent");
	for (size_t i = 0; i < n; i++)
		text_free(&t[i]);
	free(t);
	free(en);
	free(who);
}
