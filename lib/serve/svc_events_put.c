/* svc_events_put — PutEvents (entries in EventBridge's envelope, routed
 * by lib/bus over the bus's rules file) and TestEventPattern (the same
 * pattern engine). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "core/clock.h"
#include "core/json.h"
#include "pattern/pattern.h"
#include "svc_events.h"

/* PutEvents' limit on a request's entries, as SQS's on a message (SPEC 1). */
enum { EVS_MAX_REQUEST = 1024 * 1024 };

/* An entry's Time (epoch seconds, or an RFC 3339 text) as
 * EventBridge's envelope has it: "2026-12-07T22:00:00Z". */
static int
entry_time(jv e, char out[32])
{
	jv t = jv_object_get(jv_copy(e), jv_string("Time"));
	int64_t ms = clock_now_ms();
	int ok = 1;

	if (jv_get_kind(t) == JV_KIND_NUMBER && isfinite(jv_number_value(t)))
		ms = (int64_t)(jv_number_value(t) * 1000);
	else if (jv_get_kind(t) == JV_KIND_STRING)
		ok = clock_parse_rfc3339(jv_string_value(t), &ms) == 0;
	else if (jv_is_valid(t) && jv_get_kind(t) != JV_KIND_NULL)
		ok = 0;
	jv_free(t);
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ok;
}

/* Resources, as a JSON array of strings into b: 0, or -1. */
static int
entry_resources(jv e, struct buf *b)
{
	jv r = jv_object_get(jv_copy(e), jv_string("Resources"));
	int rc = 0;

	buf_addc(b, '[');
	if (jv_get_kind(r) == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(r));
		for (int i = 0; i < n && rc == 0; i++) {
			jv x = jv_array_get(jv_copy(r), i);
			if (jv_get_kind(x) != JV_KIND_STRING)
				rc = -1;
			else {
				if (i > 0)
					buf_addc(b, ',');
				json_add_string(b, jv_string_value(x),
				    (size_t)jv_string_length_bytes(jv_copy(x)));
			}
			jv_free(x);
		}
	} else if (jv_is_valid(r) && jv_get_kind(r) != JV_KIND_NULL) {
		rc = -1;
	}
	buf_addc(b, ']');
	jv_free(r);
	return rc;
}

static void
add_str(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, ",\"%s\":", key);
	json_add_string(b, s, strlen(s));
}

/* The envelope of entry e into ev, its id in id: NULL, or the entry's ErrorCode with
 * *msg its ErrorMessage. */
static const char *
envelope(const struct evs *s, jv e, struct buf *ev, char id[37], const char **msg)
{
	const char *src = evs_str(e, "Source"), *dt = evs_str(e, "DetailType");
	const char *detail = evs_str(e, "Detail");
	char when[32];
	struct buf res = { 0 };

	*msg = NULL;
	if (src == NULL || *src == '\0')
		*msg = "Parameter Source is not valid. Reason: Source is a required argument.";
	else if (dt == NULL || *dt == '\0')
		*msg = "Parameter DetailType is not valid. Reason: DetailType is a required argument.";
	else if (detail == NULL)
		*msg = "Parameter Detail is not valid. Reason: Detail is a required argument.";
	else if (strlen(dt) > 128)
		*msg = "Parameter DetailType is not valid. Reason: at most 128 characters.";
	else if (!entry_time(e, when))
		*msg = "Parameter Time is not valid. Reason: not a timestamp.";
	else if (entry_resources(e, &res) != 0)
		*msg = "Parameter Resources is not valid. Reason: a list of strings.";
	if (*msg != NULL) {
		buf_free(&res);
		return "InvalidArgument";
	}
	size_t dn = strlen(detail);
	struct json_err je;
	if (json_validate(detail, dn, 0, &je) != '{') {
		buf_free(&res);
		*msg = "Detail is malformed.";
		return "MalformedDetail";
	}
	uuid_v4(id);
	buf_reset(ev);
	buf_printf(ev, "{\"version\":\"0\",\"id\":\"%s\"", id);
	add_str(ev, "detail-type", dt);
	add_str(ev, "source", src);
	buf_printf(ev, ",\"account\":\"000000000000\",\"time\":\"%s\"", when);
	add_str(ev, "region", s->region);
	buf_adds(ev, ",\"resources\":");
	buf_add(ev, res.p, res.n);
	buf_adds(ev, ",\"detail\":");
	json_compact(ev, detail, dn);
	buf_addc(ev, '}');
	buf_free(&res);
	return NULL;
}

/* Routes the envelope ev through bus b: NULL, or why not (static). */
static const char *
route(struct evs *s, struct ebus *b, const struct buf *ev)
{
	const char *why = NULL;
	struct pat_err pe;

	if (evs_bus_ready(s, b, &why) != 0)
		return why;
	if (b->rs == NULL || b->bus == NULL)
		return NULL;	/* no rules: nothing to deliver */
	int hits = pat_match(b->rs->set, ev->p, ev->n, 1, &pe);
	if (hits < 0)
		return "Detail is malformed.";
	if (hits > 0) {
		bus_route(b->bus, b->rs, (size_t)hits, ev->p, ev->n, clock_now_ms());
		bus_flush(b->bus);
	}
	return NULL;
}

struct evs *evs_current;

int
evs_deliver(const char *bus, const char *ev, size_t n, const char **why)
{
	struct ebus *b = evs_current != NULL ? evs_bus(evs_current, NULL, bus) : NULL;

	*why = "no such event bus";
	if (b == NULL)
		return -1;
	*why = NULL;
	if (ev == NULL)
		return 0;
	struct buf e = { .p = (char *)ev, .n = n };
	return (*why = route(evs_current, b, &e)) != NULL ? -1 : 0;
}

/* The size EventBridge counts for an entry (freed). */
static size_t
entry_size(jv e)
{
	static const char *const keys[] = { "Source", "DetailType", "Detail" };
	size_t n = 0;
	jv r = jv_object_get(jv_copy(e), jv_string("Resources"));

	for (size_t i = 0; i < 3; i++)
		n += evs_str(e, keys[i]) != NULL ? strlen(evs_str(e, keys[i])) : 0;
	jv t = jv_object_get(jv_copy(e), jv_string("Time"));
	n += jv_is_valid(t) && jv_get_kind(t) != JV_KIND_NULL ? 14 : 0;
	jv_free(t);
	if (jv_get_kind(r) == JV_KIND_ARRAY)
		jv_array_foreach(r, i, x) {
			(void)i;
			if (jv_get_kind(x) == JV_KIND_STRING)
				n += (size_t)jv_string_length_bytes(jv_copy(x));
			jv_free(x);
		}
	jv_free(r);
	jv_free(e);
	return n;
}

/* One entry (freed): its answer into out; returns 1 when it failed. */
static int
put_one(struct evs *s, struct serve_call *c, jv e, struct buf *ev, struct buf *out)
{
	const char *msg, *code = NULL;
	struct ebus *b = NULL;
	char id[37];

	if (jv_get_kind(e) != JV_KIND_OBJECT) {
		code = "InvalidArgument";
		msg = "An entry is an object.";
	} else if ((code = envelope(s, e, ev, id, &msg)) == NULL) {
		b = evs_bus(s, NULL, evs_str(e, "EventBusName"));
		if (b == NULL) {
			code = "InvalidArgument";
			msg = "The event bus does not exist.";
		} else if ((msg = route(s, b, ev)) != NULL) {
			code = "InternalFailure";
		}
	}
	(void)c;
	jv_free(e);
	if (code != NULL) {
		buf_adds(out, "{\"ErrorCode\":");
		json_add_string(out, code, strlen(code));
		add_str(out, "ErrorMessage", msg);
		buf_addc(out, '}');
		return 1;
	}
	buf_printf(out, "{\"EventId\":\"%s\"}", id);
	return 0;
}

void
evs_put_events(struct evs *s, struct serve_call *c, jv req)
{
	jv es = jv_object_get(jv_copy(req), jv_string("Entries"));
	int n = jv_get_kind(es) == JV_KIND_ARRAY ? jv_array_length(jv_copy(es)) : -1;
	size_t size = 0;

	for (int i = 0; i < n; i++)
		size += entry_size(jv_array_get(jv_copy(es), i));
	if (n < 1 || n > 10) {
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: "
		    "Value at 'entries' failed to satisfy constraint: Member must have length "
		    "less than or equal to 10 and greater than or equal to 1");
	} else if (size > EVS_MAX_REQUEST) {
		serve_error(c, 400, "ValidationException", NULL,
		    "Total size of the entries in the request is over the limit.");
	} else {
		struct buf out = { 0 }, ev = { 0 }, ans = { 0 };
		int failed = 0;
		for (int i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(&out, ',');
			failed += put_one(s, c, jv_array_get(jv_copy(es), i), &ev, &out);
		}
		buf_printf(&ans, "{\"FailedEntryCount\":%d,\"Entries\":[", failed);
		buf_add(&ans, out.p, out.n);
		buf_adds(&ans, "]}");
		serve_json(c, &ans);
		buf_free(&ans);
		buf_free(&out);
		buf_free(&ev);
	}
	jv_free(es);
}

void
evs_test_pattern(struct evs *s, struct serve_call *c, jv req)
{
	const char *pat = evs_str(req, "EventPattern"), *ev = evs_str(req, "Event");
	struct pat_set *ps;
	struct pat_err pe;
	char *why = NULL;

	(void)s;
	if (pat == NULL || ev == NULL) {
		serve_error(c, 400, "ValidationException", NULL,
		    "Parameters EventPattern and Event are required.");
		return;
	}
	ps = pat_new();
	if (pat_add(ps, pat, strlen(pat), &why) < 0) {
		serve_error(c, 400, "InvalidEventPatternException", NULL,
		    "Event pattern is not valid. Reason: %s", why != NULL ? why : "invalid");
	} else {
		int hits = pat_match(ps, ev, strlen(ev), 0, &pe);
		if (hits < 0) {
			serve_error(c, 400, "InvalidArgument", NULL,
			    "Parameter Event is not valid. Reason: %s at column %zu", pe.what, pe.col);
		} else {
			struct buf b = { 0 };
			buf_printf(&b, "{\"Result\":%s}", hits > 0 ? "true" : "false");
			serve_json(c, &b);
			buf_free(&b);
		}
	}
	free(why);
	pat_free(ps);
}
