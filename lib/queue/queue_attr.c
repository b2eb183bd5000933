/* queue_attr — the one table of SQS queue attributes: names, where each
 * lives in struct q_attrs, ranges, defaults and units.  The database's
 * attribute rows, `evq-ctl set`, `evq-ctl create`'s options and `evq-ctl
 * stat` are all read from it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue_int.h"

#define AT(f) offsetof(struct q_attrs, f)

const struct q_attr_def q_attr_table[] = {
	{ "VisibilityTimeout", QA_SECONDS, AT(visibility_ms), 0, 43200, 30, "seconds", QA_SETTABLE },
	{ "DelaySeconds", QA_SECONDS, AT(delay_ms), 0, 900, 0, "", QA_SETTABLE },
	{ "MessageRetentionPeriod", QA_SECONDS, AT(retention_ms), 60, 1209600, 345600, "seconds",
	    QA_SETTABLE },
	{ "ReceiveMessageWaitTimeSeconds", QA_SECONDS, AT(wait_ms), 0, 20, 0, "", QA_SETTABLE },
	{ "MaximumMessageSize", QA_LONG, AT(max_bytes), 1024, 1048576, 1048576, "bytes", QA_SETTABLE },
	{ "FifoQueue", QA_BOOL, AT(fifo), 0, 1, 0, "", 0 },
	{ "ContentBasedDeduplication", QA_BOOL, AT(content_dedup), 0, 1, 0, "", QA_SETTABLE },
	/* Stored, not set by name: RedrivePolicy and the clock set them. */
	{ "maxReceiveCount", QA_INT, AT(max_receives), 1, 1000, 0, "", 0 },
	{ "deadLetterTarget", QA_TEXT, AT(dlq), 0, 0, 0, "", 0 },
	{ "CreatedTimestamp", QA_MS, AT(created_ms), 0, 0, 0, "", 0 },
	{ "LastModifiedTimestamp", QA_MS, AT(modified_ms), 0, 0, 0, "", 0 },
	{ NULL, 0, 0, 0, 0, 0, NULL, 0 },
};

const struct q_attr_def *
q_attr_def(const char *name)
{
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* The value in SQS's units (seconds, bytes, 0/1, ms). */
long long
q_attr_get(const struct q_attrs *a, const struct q_attr_def *d)
{
	const char *p = (const char *)a + d->off;

	switch (d->kind) {
	case QA_SECONDS: return *(const int64_t *)(const void *)p / 1000;
	case QA_MS: return *(const int64_t *)(const void *)p;
	case QA_LONG: return *(const long *)(const void *)p;
	case QA_BOOL:
	case QA_INT: return *(const int *)(const void *)p;
	default: return 0;
	}
}

static void
attr_put(struct q_attrs *a, const struct q_attr_def *d, long long v)
{
	char *p = (char *)a + d->off;

	switch (d->kind) {
	case QA_SECONDS: *(int64_t *)(void *)p = (int64_t)v * 1000; break;
	case QA_MS: *(int64_t *)(void *)p = (int64_t)v; break;
	case QA_LONG: *(long *)(void *)p = (long)v; break;
	case QA_BOOL:
	case QA_INT: *(int *)(void *)p = (int)v; break;
	default: break;
	}
}

void
q_attrs_default(struct q_attrs *a, int fifo)
{
	memset(a, 0, sizeof *a);
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++)
		attr_put(a, d, d->def);
	a->fifo = fifo;
}

/* Parses one attribute's text as stored or as given to `set`; 0, or -1
 * when it is not in the attribute's range. */
static int
attr_parse(struct q_attrs *a, const struct q_attr_def *d, const char *v)
{
	char *end;

	if (d->kind == QA_TEXT) {
		snprintf((char *)a + d->off, sizeof a->dlq, "%s", v);
		return 0;
	}
	if (d->kind == QA_BOOL) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return -1;
		attr_put(a, d, strcmp(v, "true") == 0);
		return 0;
	}
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return -1;
	if (d->kind != QA_MS && (x < d->min || x > d->max) && !(d->kind == QA_INT && x == 0))
		return -1;
	attr_put(a, d, x);
	return 0;
}

int
qattr_load(struct queue *q, const char *name, const char *value)
{
	const struct q_attr_def *d = q_attr_def(name);

	return d != NULL ? attr_parse(&q->a, d, value) : 0;
}

void
qattr_text(const struct q_attrs *a, const struct q_attr_def *d, char *out, size_t n)
{
	if (d->kind == QA_TEXT)
		snprintf(out, n, "%s", (const char *)a + d->off);
	else if (d->kind == QA_BOOL)
		snprintf(out, n, "%s", q_attr_get(a, d) ? "true" : "false");
	else
		snprintf(out, n, "%lld", q_attr_get(a, d));
}

int
qattr_set(struct q_attrs *a, const char *name, const char *v, struct ev_err *e)
{
	const struct q_attr_def *d = q_attr_def(name);

	if (d == NULL || !(d->flags & QA_SETTABLE)) {
		if (strcmp(name, "FifoQueue") == 0)
			return err_set(e, EV_USAGE, "FifoQueue can only be set when the queue is created");
		return err_set(e, EV_USAGE, "unknown attribute");
	}
	if (d->kind == QA_BOOL && d->off == offsetof(struct q_attrs, content_dedup) && !a->fifo)
		return err_set(e, EV_USAGE, "%s applies to FIFO queues only", d->name);
	if (attr_parse(a, d, v) == 0)
		return 0;
	if (d->kind == QA_BOOL)
		return err_set(e, EV_USAGE, "%s must be true or false", d->name);
	return err_set(e, EV_USAGE, "%s must be %lld to %lld%s%s", d->name, d->min, d->max,
	    *d->unit ? " " : "", d->unit);
}

int
q_attrs_same(const struct q_attrs *x, const struct q_attrs *y)
{
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++)
		if (d->kind != QA_TEXT && d->kind != QA_MS && q_attr_get(x, d) != q_attr_get(y, d))
			return 0;
	return 1;
}

void
q_stat_json(struct queue *q, const struct q_stat *st, struct buf *b)
{
	const struct q_attrs *a = &q->a;

	buf_adds(b, "{\"QueueName\":");
	json_add_string(b, q->name, strlen(q->name));
	buf_adds(b, ",\"QueueArn\":");
	json_add_string(b, q->arn, strlen(q->arn));
	buf_adds(b, q->ops != NULL ? ",\"QueueUrl\":" : ",\"Path\":");
	json_add_string(b, q->path, strlen(q->path));
	buf_printf(b, ",\"ApproximateNumberOfMessages\":%ld,\"ApproximateNumberOfMessagesNotVisible\":%ld,"
	    "\"ApproximateNumberOfMessagesDelayed\":%ld", st->visible, st->in_flight, st->delayed);
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++) {
		if (d->kind == QA_INT || d->kind == QA_TEXT || d->kind == QA_MS)
			continue;	/* the policy and times come below */
		if (d->off == offsetof(struct q_attrs, content_dedup) && !a->fifo)
			continue;
		char v[32];
		qattr_text(a, d, v, sizeof v);
		buf_printf(b, ",\"%s\":%s", d->name, v);
	}
	if (a->max_receives > 0) {
		buf_adds(b, ",\"RedrivePolicy\":{\"deadLetterTarget\":");
		json_add_string(b, a->dlq, strlen(a->dlq));
		buf_printf(b, ",\"maxReceiveCount\":%d}", a->max_receives);
	}
	buf_printf(b, ",\"CreatedTimestamp\":%lld,\"LastModifiedTimestamp\":%lld}",
	    (long long)(a->created_ms / 1000), (long long)(a->modified_ms / 1000));
}
