/* aws_events — Amazon EventBridge's PutEvents (AWS JSON 1.1) on the bus
 * an events://REGION/BUS URI names: entries in requests of at most 10
 * and 256 KiB (sized as EventBridge sizes them), each entry's fate read
 * by its place in the answer's Entries, and the entries that failed for
 * a reason that may pass (ThrottlingException, InternalFailure) sent
 * again within the standard retry mode's attempts and quota. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

struct aws_events {
	char *region, *bus;
	struct aws_conf *conf;
	struct aws_client *c;
};

enum { RETRY = -2, PENDING = -1 };

static const char bus_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

/* A bus name ([.-_A-Za-z0-9]+) or an event bus ARN
 * (arn:aws*:events:REGION:ACCOUNT:event-bus/NAME), as PutEvents takes. */
static int
good_bus(const char *s)
{
	const char *slash = strrchr(s, '/');

	if (strncmp(s, "arn:aws", 7) == 0) {
		if (slash == NULL || strstr(s, ":events:") == NULL ||
		    slash - s < 10 || memcmp(slash - 9, "event-bus", 9) != 0)
			return 0;
		s = slash + 1;
	}
	size_t n = strlen(s);
	return n >= 1 && n <= 256 && strspn(s, bus_chars) == n;
}

int
aws_events_uri_parse(const char *uri, char **region, char **bus, struct ev_err *e)
{
	const char *r = uri + 9, *slash;
	size_t rn;

	if (strncmp(uri, "events://", 9) != 0)
		return err_set(e, EV_USAGE, "'%s' is not an events://REGION/BUS URI", uri);
	slash = strchr(r, '/');
	rn = slash != NULL ? (size_t)(slash - r) : strlen(r);
	if (rn == 0 || strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") < rn)
		return err_set(e, EV_USAGE, "events URI '%s': want events://REGION/BUS "
		    "(REGION such as us-east-1)", uri);
	const char *b = slash != NULL && slash[1] != '\0' ? slash + 1 : "default";
	if (!good_bus(b))
		return err_set(e, EV_USAGE, "events URI '%s': '%s' is not an event bus name "
		    "(. - _ A-Z a-z 0-9) or event bus ARN", uri, b);
	*region = xstrndup(r, rn);
	*bus = xstrdup(b);
	return 0;
}

int
aws_events_open(const char *uri, const char *endpoint_url, struct aws_events **evp,
    struct ev_err *e)
{
	struct aws_events *ev = xcalloc(1, sizeof *ev);
	int rc = aws_events_uri_parse(uri, &ev->region, &ev->bus, e);

	if (rc == 0) {
		char *ep = aws_cat("https://events.", ev->region, ".amazonaws.com", NULL);
		rc = aws_conf_load(AWS_EVENTS, endpoint_url, ev->region, ep, &ev->conf, e);
		free(ep);
	}
	if (rc == 0)
		rc = aws_client_new(ev->conf, &ev->c, e);
	if (rc != 0) {
		aws_events_close(ev);
		return rc;
	}
	*evp = ev;
	return 0;
}

void
aws_events_close(struct aws_events *ev)
{
	if (ev == NULL)
		return;
	aws_client_free(ev->c);
	aws_conf_free(ev->conf);
	free(ev->region);
	free(ev->bus);
	free(ev);
}

const char *
aws_events_bus(const struct aws_events *ev)
{
	return ev->bus;
}

/* How EventBridge counts an entry toward the request's limit: Time 14
 * bytes, Source, DetailType, Detail and each resource their bytes. */
size_t
aws_events_size(const struct aws_events_entry *en)
{
	size_t n = strlen(en->source) + strlen(en->detail_type) + en->detail_len;

	if (en->time_ms >= 0)
		n += 14;
	if (en->resources != NULL) {
		size_t at = 0, v, vend;
		const char *p = en->resources;
		size_t pn = strlen(p);
		while (aws_json_elem(p, pn, &at, &v, &vend))
			n += vend - v >= 2 ? vend - v - 2 : 0;
	}
	return n;
}

/* Why an entry cannot be sent at all (65), or NULL. */
static const char *
refuse(const struct aws_events_entry *en)
{
	size_t dt = strlen(en->detail_type);

	if (en->source[0] == '\0' || dt == 0 || en->detail_len == 0)
		return "Source, DetailType and Detail are required";
	if (dt > 128)
		return "DetailType is longer than 128 characters";
	if (en->trace != NULL && (en->trace[0] == '\0' || strlen(en->trace) > 500))
		return "TraceHeader is not 1 to 500 characters";
	if (aws_events_size(en) > AWS_EVENTS_MAX_BYTES)
		return "the entry is over 256 KiB (EventBridge's limit)";
	return NULL;
}

static void
entry_json(struct buf *b, const struct aws_events *ev, const struct aws_events_entry *en)
{
	buf_adds(b, "{\"Source\":");
	json_add_string(b, en->source, strlen(en->source));
	buf_adds(b, ",\"DetailType\":");
	json_add_string(b, en->detail_type, strlen(en->detail_type));
	buf_adds(b, ",\"Detail\":");
	json_add_string(b, en->detail, en->detail_len);
	if (en->resources != NULL) {
		buf_adds(b, ",\"Resources\":");
		buf_adds(b, en->resources);
	}
	if (en->time_ms >= 0)	/* a JSON 1.1 timestamp: epoch seconds */
		buf_printf(b, ",\"Time\":%lld.%03lld", (long long)(en->time_ms / 1000),
		    (long long)(en->time_ms % 1000));
	buf_adds(b, ",\"EventBusName\":");
	json_add_string(b, ev->bus, strlen(ev->bus));
	if (en->trace != NULL) {
		buf_adds(b, ",\"TraceHeader\":");
		json_add_string(b, en->trace, strlen(en->trace));
	}
	buf_addc(b, '}');
}

/* The next request: pending entries from *from, at most 10 and 256 KiB. */
static size_t
next_chunk(struct aws_events_entry *en, size_t n, size_t *from, size_t idx[AWS_EVENTS_BATCH])
{
	size_t k = 0, bytes = 0;

	for (size_t i = *from; i < n && k < AWS_EVENTS_BATCH; i++) {
		if (en[i].status != PENDING)
			continue;
		size_t sz = aws_events_size(&en[i]);
		if (k > 0 && bytes + sz > AWS_EVENTS_MAX_BYTES)
			break;
		bytes += sz;
		idx[k++] = i;
		*from = i + 1;
	}
	return k;
}

/* One answer entry's fate: EventId (sent) or ErrorCode (retried when
 * AWS calls it retryable, else its status). */
static void
read_entry(struct aws_events_entry *en, const char *p, size_t n, size_t obj, int *kind)
{
	struct buf id = { 0 }, code = { 0 }, msg = { 0 };

	if (aws_json_str(p, n, obj, "ErrorCode", &code) > 0 && code.n > 0) {
		struct aws_error ae = { .http = 400 };
		aws_json_str(p, n, obj, "ErrorMessage", &msg);
		aws_copy(ae.code, sizeof ae.code, code.p, code.n);
		snprintf(en->why, sizeof en->why, "%s: %s", code.p, msg.n > 0 ? msg.p : "");
		*kind = aws_code_kind(ae.code);
		en->status = *kind != AWS_R_NO ? RETRY : aws_err_status(&ae);
		if (strncmp(code.p, "NotAuthorizedFor", 16) == 0)
			en->status = EV_NOPERM;
	} else if (aws_json_str(p, n, obj, "EventId", &id) > 0 && id.n > 0) {
		aws_copy(en->id, sizeof en->id, id.p, id.n);
		en->status = 0;
	}
	buf_free(&id);
	buf_free(&code);
	buf_free(&msg);
}

/* Reads the answer to entries idx[0..k): Entries[j] is idx[j]'s. */
void
aws_events_read(struct aws_events_entry *en, const char *p, size_t n, const size_t *idx,
    size_t k, int *kind)
{
	struct json_err je;
	size_t obj = json_ws(p, n, 0), at, v, vend, j = 0;
	int valid = json_validate(p, n, 0, &je) == '{';

	if (valid && aws_json_get(p, n, obj, "Entries", &at, &vend) && p[at] == '[')
		for (; j < k && aws_json_elem(p, n, &at, &v, &vend); j++)
			if (p[v] == '{')
				read_entry(&en[idx[j]], p, n, v, &kind[idx[j]]);
	for (j = 0; j < k; j++)
		if (en[idx[j]].status == PENDING) {
			en[idx[j]].status = EV_SOFTWARE;
			snprintf(en[idx[j]].why, sizeof en[idx[j]].why, "%s", valid ?
			    "not in the server's answer" : "the server's answer is not JSON");
		}
}

/* One pass over the pending entries; a whole request's failure ends it
 * (its entries get that status, the later ones stay pending). */
static int
pass(struct aws_events *ev, struct aws_events_entry *en, size_t n, int *kind, struct ev_err *e)
{
	size_t idx[AWS_EVENTS_BATCH], from = 0, k;
	struct buf req = { 0 }, resp = { 0 };
	int rc = 0;

	while (rc == 0 && (k = next_chunk(en, n, &from, idx)) > 0) {
		buf_reset(&req);
		buf_adds(&req, "{\"Entries\":[");
		for (size_t j = 0; j < k; j++) {
			if (j > 0)
				buf_addc(&req, ',');
			entry_json(&req, ev, &en[idx[j]]);
		}
		buf_adds(&req, "]}");
		rc = aws_call(ev->c, "PutEvents", req.p, req.n, 0, &resp, e);
		for (size_t j = 0; rc != 0 && j < k; j++) {
			en[idx[j]].status = rc;
			aws_copy(en[idx[j]].why, sizeof en[idx[j]].why, e->msg, strlen(e->msg));
		}
		if (rc == 0)
			aws_events_read(en, resp.p, resp.n, idx, k, kind);
	}
	buf_free(&req);
	buf_free(&resp);
	return rc;
}

/* Entries left to retry when no retry is left: what their code says. */
static void
give_up(struct aws_events_entry *en, size_t n, const int *kind)
{
	for (size_t i = 0; i < n; i++)
		if (en[i].status == RETRY)
			en[i].status = kind[i] == AWS_R_THROTTLE ? EV_TEMPFAIL : EV_UNAVAILABLE;
}

static void
start(struct aws_events_entry *en, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = refuse(&en[i]);
		en[i].status = why != NULL ? EV_DATAERR : PENDING;
		en[i].id[0] = '\0';
		snprintf(en[i].why, sizeof en[i].why, "%s", why != NULL ? why : "");
	}
}

int
aws_events_put(struct aws_events *ev, struct aws_events_entry *en, size_t n, struct ev_err *e)
{
	struct aws_retry *r = aws_client_retry(ev->c);
	int *kind = xcalloc(n + 1, sizeof *kind), rc = 0, worst = 0;
	struct ev_err scratch;

	if (e == NULL)
		e = &scratch;
	start(en, n);
	for (int attempt = 1; rc == 0; attempt++) {
		rc = pass(ev, en, n, kind, e);
		int again = AWS_R_NO;
		for (size_t i = 0; i < n; i++)
			if (en[i].status == RETRY && again != AWS_R_THROTTLE)
				again = kind[i];
		if (rc != 0 || again == AWS_R_NO)
			break;
		int cost = attempt < r->max_attempts ? aws_retry_take(r, again) : 0;
		if (cost == 0 || aws_nap(aws_retry_delay(r, again, attempt)) != 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (en[i].status == RETRY)
				en[i].status = PENDING;
	}
	give_up(en, n, kind);
	free(kind);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n && worst == 0; i++)
		if (en[i].status > 0)
			worst = err_set(e, en[i].status, "PutEvents: entry %zu: %s", i + 1, en[i].why);
	return worst;
}
