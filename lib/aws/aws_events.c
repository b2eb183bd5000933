/* aws_events — an EventBridge bus, events://REGION/BUS: PutEvents (AWS
 * JSON 1.1) in requests of 10 entries and 1 MiB, Detail sent as a string,
 * Time as epoch seconds, entries failed with InternalFailure or
 * ThrottlingException sent again (aws_batch). */
#include <stddef.h>
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

/* Bus names: 1-256 of [A-Za-z0-9._-/] (a partner bus has slashes). */
static const char bus_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/";

static int
parse(const char *uri, struct aws_events *b, struct ev_err *e)
{
	const char *r = uri + 9, *slash;

	if (strncmp(uri, "events://", 9) != 0 || (slash = strchr(r, '/')) == NULL ||
	    slash == r || strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") < (size_t)(slash - r))
		return err_set(e, EV_USAGE, "'%s' is not an event bus URI (events://REGION/BUS)", uri);
	size_t bn = strlen(slash + 1);
	if (bn == 0 || bn > 256 || strspn(slash + 1, bus_chars) != bn)
		return err_set(e, EV_USAGE, "event bus URI '%s': '%s' is not a bus name", uri,
		    slash + 1);
	b->region = xstrndup(r, (size_t)(slash - r));
	b->bus = xstrdup(slash + 1);
	return 0;
}

int
aws_events_open(const char *uri, const char *endpoint_url, struct aws_events **bp,
    struct ev_err *e)
{
	struct aws_events *b = xcalloc(1, sizeof *b);
	int rc = parse(uri, b, e);

	if (rc == 0)
		rc = aws_conf_load(AWS_EVENTS, endpoint_url, b->region, NULL, &b->conf, e);
	if (rc == 0)
		rc = aws_client_new(b->conf, &b->c, e);
	if (rc == 0)
		*bp = b;
	else
		aws_events_close(b);
	return rc;
}

void
aws_events_close(struct aws_events *b)
{
	if (b == NULL)
		return;
	aws_client_free(b->c);
	aws_conf_free(b->conf);
	free(b->region);
	free(b->bus);
	free(b);
}

const char *
aws_events_bus(const struct aws_events *b)
{
	return b->bus;
}

/* The entry's size as EventBridge counts it: Time 14, Source,
 * DetailType, Detail and each Resources element by their bytes. */
static size_t
entry_size(void *arr, size_t i)
{
	const struct aws_events_entry *en = (struct aws_events_entry *)arr + i;
	size_t sz = strlen(en->source) + strlen(en->detail_type) + en->detail_len +
	    (en->time_ms >= 0 ? 14 : 0);

	if (en->resources != NULL)
		sz += strlen(en->resources);	/* the elements, give or take the brackets */
	return sz;
}

static void
put_entry(struct buf *b, void *arr, size_t i)
{
	const struct aws_events_entry *en = (struct aws_events_entry *)arr + i;

	buf_adds(b, "\"Source\":");
	json_add_string(b, en->source, strlen(en->source));
	buf_adds(b, ",\"DetailType\":");
	json_add_string(b, en->detail_type, strlen(en->detail_type));
	buf_adds(b, ",\"Detail\":");
	json_add_string(b, en->detail, en->detail_len);
	if (en->resources != NULL) {
		buf_adds(b, ",\"Resources\":");
		json_compact(b, en->resources, strlen(en->resources));
	}
	if (en->time_ms >= 0)
		buf_printf(b, ",\"Time\":%lld", (long long)(en->time_ms / 1000));
	buf_adds(b, ",\"EventBusName\":");
	json_add_string(b, en->bus, strlen(en->bus));
	if (en->trace != NULL) {
		buf_adds(b, ",\"TraceHeader\":");
		json_add_string(b, en->trace, strlen(en->trace));
	}
}

static int
put_done(void *arr, size_t i, const char *p, size_t n, size_t obj)
{
	struct aws_events_entry *en = (struct aws_events_entry *)arr + i;
	struct buf id = { 0 };
	int rc = 0;

	if (aws_json_str(p, n, obj, "EventId", &id) > 0 && id.n > 0) {
		aws_copy(en->id, sizeof en->id, id.p, id.n);
	} else {
		snprintf(en->why, sizeof en->why, "no EventId in the server's answer");
		rc = EV_SOFTWARE;
	}
	buf_free(&id);
	return rc;
}

/* What PutEvents would refuse: a missing field, Resources not an array,
 * Detail not an object, an entry over 1 MiB. */
static void
preput(struct aws_events_entry *en, const char *bus)
{
	struct json_err je;

	en->status = -1;
	en->id[0] = en->why[0] = '\0';
	en->bus = bus;
	if (en->source == NULL || en->detail_type == NULL || en->detail == NULL)
		snprintf(en->why, sizeof en->why, "an entry without Source, DetailType or Detail");
	else if (json_validate(en->detail, en->detail_len, 0, &je) != '{')
		snprintf(en->why, sizeof en->why, "Detail is not a JSON object");
	else if (en->resources != NULL &&
	    json_validate(en->resources, strlen(en->resources), 0, &je) != '[')
		snprintf(en->why, sizeof en->why, "Resources is not a JSON array");
	else if (entry_size(en, 0) > AWS_SQS_MAX_BYTES)
		snprintf(en->why, sizeof en->why, "an entry of %zu bytes, over the 1 MiB limit",
		    entry_size(en, 0));
	if (en->why[0] != '\0')
		en->status = EV_DATAERR;
}

static const struct aws_batch put_op = {
	.op = "PutEvents", .positional = 1, .stride = sizeof(struct aws_events_entry),
	.status_off = offsetof(struct aws_events_entry, status),
	.why_off = offsetof(struct aws_events_entry, why),
	.size = entry_size, .entry = put_entry, .done = put_done,
};

int
aws_events_put(struct aws_events *b, struct aws_events_entry *en, size_t n, struct ev_err *e)
{
	for (size_t i = 0; i < n; i++)
		preput(&en[i], b->bus);
	return aws_batch_run(b->c, NULL, &put_op, en, n, e);
}

int
aws_events_parse_put(const char *p, size_t n, struct aws_events_entry *en, size_t k,
    struct ev_err *e)
{
	if (k > AWS_SQS_BATCH)
		k = AWS_SQS_BATCH;
	for (size_t i = 0; i < k; i++)
		preput(&en[i], "default");
	return aws_batch_parse(&put_op, en, k, p, n, e);
}
