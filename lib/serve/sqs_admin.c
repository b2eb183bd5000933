/* sqs_admin — the queue calls: CreateQueue (idempotent for the same
 * attributes, QueueNameExists for others), GetQueueUrl, ListQueues,
 * Get/SetQueueAttributes in SQS's names and string values, PurgeQueue,
 * DeleteQueue, StartMessageMoveTask (done at once); tags are
 * sqs_tags.c's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/names.h"
#include "serve.h"
#include "sqs_int.h"

/* Attributes SQS takes that have no meaning here: accepted, ignored. */
static const char *const ignored[] = {
	"Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
	"RedriveAllowPolicy", "DeduplicationScope", "FifoThroughputLimit", NULL,
};

static int
is_ignored(const char *name)
{
	for (size_t i = 0; ignored[i] != NULL; i++)
		if (strcmp(ignored[i], name) == 0)
			return 1;
	return 0;
}

static int
settable(const char *name)
{
	const struct q_attr_def *d = q_attr_def(name);
	return strcmp(name, "RedrivePolicy") == 0 || (d != NULL && (d->flags & QA_SETTABLE));
}

/* Calls fn for each member of the Attributes map (string values), or
 * answers InvalidAttributeName / InvalidAttributeValue: 0 done, -1
 * answered.  fn returns 0, or -1 having answered. */
static int
each_attr(const struct sqs_call *k, int (*fn)(const struct sqs_call *k, const char *name,
    const char *value, void *ctx), void *ctx)
{
	size_t obj = sqs_member(k, "Attributes"), at = 0, kk, kend, v, vend;
	struct buf name = { 0 }, value = { 0 };
	int rc = 0;

	if (obj == (size_t)-1 || k->p[obj] == 'n')
		return 0;
	if (k->p[obj] != '{') {
		sqs_invalid(k, "Attributes must be a map.");
		return -1;
	}
	const char *p = k->p + obj;
	size_t n = k->n - obj;
	while (rc == 0 && json_member(p, n, &at, &kk, &kend, &v, &vend) == 1) {
		buf_reset(&name);
		json_unescape(&name, p + kk + 1, kend - kk - 2);
		buf_addc(&name, '\0');
		if (!json_string_at(p, n, v, &value)) {
			sqs_fail(k, "InvalidAttributeValue", NULL, "Invalid value for the parameter "
			    "%s.", name.p);
			rc = -1;
		} else if (!is_ignored(name.p) && !settable(name.p) &&
		    strcmp(name.p, "FifoQueue") != 0) {
			sqs_fail(k, "InvalidAttributeName", NULL, "Unknown Attribute %s.", name.p);
			rc = -1;
		} else if (!is_ignored(name.p)) {
			rc = fn(k, name.p, value.p, ctx);
		}
	}
	buf_free(&name);
	buf_free(&value);
	return rc;
}

/* ---- CreateQueue ---- */

/* q_set, its refusal answered: 0, or -1 answered. */
static int
set_attr(const struct sqs_call *k, struct queue *q, const char *name, const char *value)
{
	struct ev_err e;

	if (q_set(q, name, value, &e) == 0)
		return 0;
	sqs_fail(k, "InvalidAttributeValue", NULL, "Invalid value for the parameter %s. "
	    "Reason: %s", name, e.msg);
	return -1;
}

struct create {
	struct sqs_q *c;
	int fifo;
	int existed;
};

static int
same_or_set(const struct sqs_call *k, const char *name, const char *value, void *ctx)
{
	struct create *cr = ctx;
	const struct q_attr_def *d = q_attr_def(name);

	if (strcmp(name, "FifoQueue") == 0) {
		if ((strcmp(value, "true") == 0) != cr->fifo) {
			sqs_invalid(k, "The name of a FIFO queue can only include alphanumeric "
			    "characters, hyphens, or underscores, must end with .fifo suffix.");
			return -1;
		}
		return 0;
	}
	if (cr->existed) {
		char cur[64];
		if (d == NULL)
			return 0;
		snprintf(cur, sizeof cur, "%lld", q_attr_get(q_attrs(cr->c->q), d));
		if (d->kind == QA_BOOL)
			snprintf(cur, sizeof cur, "%s", q_attr_get(q_attrs(cr->c->q), d) ? "true" :
			    "false");
		if (strcmp(cur, value) != 0) {
			sqs_fail(k, "QueueNameExists", "QueueAlreadyExists", "A queue already exists "
			    "with the same name and a different value for attribute %s", name);
			return -1;
		}
		return 0;
	}
	return set_attr(k, cr->c->q, name, value);
}

void
sqs_create(const struct sqs_call *k)
{
	struct buf name = { 0 }, url = { 0 };
	struct create cr = { 0 };
	struct queue *q;
	struct ev_err e;
	int rc;

	if (sqs_str(k, "QueueName", &name) <= 0 || name.n == 0) {
		sqs_missing(k, "QueueName");
		goto out;
	}
	cr.fifo = name.n > 5 && strcmp(name.p + name.n - 5, ".fifo") == 0;
	if (name_check(name.p, 1) != NULL) {
		sqs_invalid(k, "Can only include alphanumeric characters, hyphens, or underscores. "
		    "1 to 80 in length");
		goto out;
	}
	serve_log_note(k->c, name.p);
	cr.existed = sqs_open(k->x, name.p, &cr.c, &e) == 0;
	if (!cr.existed) {
		struct q_attrs a;
		q_attrs_default(&a, cr.fifo);
		if ((rc = q_open(name.p, Q_CREATE, &a, &q, &e)) != 0) {
			sqs_fail_err(k, rc, &e);
			goto out;
		}
		q_close(q);
		if ((rc = sqs_open(k->x, name.p, &cr.c, &e)) != 0) {
			sqs_fail_err(k, rc, &e);
			goto out;
		}
	}
	if (each_attr(k, same_or_set, &cr) != 0) {
		if (!cr.existed) {
			sqs_forget(k->x, name.p);
			q_remove(name.p, &e);
		}
		goto out;
	}
	if (!cr.existed && sqs_put_tags(k, cr.c, "tags") != 0) {
		sqs_forget(k->x, name.p);
		q_remove(name.p, &e);
		goto out;
	}
	buf_adds(&url, "{\"QueueUrl\":\"");
	sqs_url(k, name.p, &url);
	buf_adds(&url, "\"}");
	serve_json(k->c, &url);
out:
	buf_free(&name);
	buf_free(&url);
}

void
sqs_get_url(const struct sqs_call *k)
{
	struct buf name = { 0 }, url = { 0 };
	struct sqs_q *c;
	struct ev_err e;
	int rc;

	if (sqs_str(k, "QueueName", &name) <= 0 || name.n == 0)
		sqs_missing(k, "QueueName");
	else if (name_check(name.p, 1) != NULL)
		sqs_fail_err(k, EV_NOINPUT, &e);
	else if ((rc = sqs_open(k->x, name.p, &c, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else {
		buf_adds(&url, "{\"QueueUrl\":\"");
		sqs_url(k, name.p, &url);
		buf_adds(&url, "\"}");
		serve_json(k->c, &url);
	}
	buf_free(&name);
	buf_free(&url);
}

/* ListQueues: names in order, from past the NextToken's name, at most
 * max; more is set when one was left for the next page. */
struct listing {
	const struct sqs_call *k;
	const char *prefix;
	char after[96];		/* the last name of the page before, or "" */
	struct buf out;
	char last[96];
	long n, max;
	int more;
};

static void
list_one(const char *name, const char *path, void *ctx)
{
	struct listing *l = ctx;

	(void)path;
	if (strncmp(name, l->prefix, strlen(l->prefix)) != 0 || strcmp(name, l->after) <= 0)
		return;
	if (l->n >= l->max) {
		l->more = 1;
		return;
	}
	buf_adds(&l->out, l->n++ ? ",\"" : "\"");
	sqs_url(l->k, name, &l->out);
	buf_addc(&l->out, '"');
	snprintf(l->last, sizeof l->last, "%s", name);
}

/* A NextToken is the page's last queue name in hex: opaque to clients,
 * and a name only when it decodes to one. */
static int
token_name(const char *tok, char *name, size_t n)
{
	size_t len = strlen(tok);
	unsigned x;

	if (len == 0 || len % 2 != 0 || len / 2 >= n)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		if (sscanf(tok + 2 * i, "%2x", &x) != 1 || !isxdigit((unsigned char)tok[2 * i]) ||
		    !isxdigit((unsigned char)tok[2 * i + 1]))
			return -1;
		name[i] = (char)x;
	}
	name[len / 2] = '\0';
	return name_check(name, 1) == NULL ? 0 : -1;
}

static void
list_answer(struct listing *l, int paged)
{
	buf_adds(&l->out, "]");
	if (paged && l->more) {
		buf_adds(&l->out, ",\"NextToken\":\"");
		for (const char *c = l->last; *c != '\0'; c++)
			buf_printf(&l->out, "%02x", (unsigned char)*c);
		buf_addc(&l->out, '"');
	}
	buf_adds(&l->out, "}");
	serve_json(l->k->c, &l->out);
}

void
sqs_list(const struct sqs_call *k)
{
	struct buf prefix = { 0 }, tok = { 0 };
	struct listing l = { .k = k, .max = 1000 };
	struct ev_err e;
	long long max;
	int rc, r;

	if ((r = sqs_int(k, "MaxResults", &max)) < 0 || (r > 0 && (max < 1 || max > 1000))) {
		sqs_invalid(k, "Value for parameter MaxResults is invalid. Reason: MaxResults must "
		    "be an integer between 1 and 1000.");
		return;
	}
	if (r > 0)
		l.max = max;
	if (sqs_str(k, "NextToken", &tok) > 0 && token_name(tok.p, l.after, sizeof l.after) != 0) {
		sqs_invalid(k, "Invalid NextToken value.");
		buf_free(&tok);
		return;
	}
	sqs_str(k, "QueueNamePrefix", &prefix);
	l.prefix = prefix.p != NULL ? prefix.p : "";
	buf_adds(&l.out, "{\"QueueUrls\":[");
	if ((rc = q_list(list_one, &l, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else
		list_answer(&l, r > 0);
	buf_free(&prefix);
	buf_free(&tok);
	buf_free(&l.out);
}

/* ---- attributes ---- */

static int
want(const struct sqs_call *k, const char *name)
{
	size_t arr = sqs_member(k, "AttributeNames"), e;
	struct buf s = { 0 };
	int yes = 0;

	if (arr == (size_t)-1 || k->p[arr] != '[')
		return 0;
	for (size_t i = 0; !yes && (e = json_find_index(k->p, k->n, arr, i)) != (size_t)-1; i++)
		yes = json_string_at(k->p, k->n, e, &s) && (strcmp(s.p, "All") == 0 ||
		    strcmp(s.p, name) == 0);
	buf_free(&s);
	return yes;
}

static void
attr(struct buf *b, int *n, const char *name, const char *v)
{
	buf_printf(b, "%s\"%s\":", (*n)++ ? "," : "", name);
	json_add_string(b, v, strlen(v));
}

static void
attr_num(const struct sqs_call *k, struct buf *b, int *n, const char *name, long long v)
{
	char s[32];

	if (!want(k, name))
		return;
	snprintf(s, sizeof s, "%lld", v);
	attr(b, n, name, s);
}

/* The dead-letter queue's ARN, from what the queue keeps (a name or a
 * path ending NAME.db). */
static void
redrive(const struct sqs_call *k, const struct queue *q, const struct q_attrs *a,
    struct buf *b, int *n)
{
	char v[4352], name[96];
	const char *arn = q_arn(q), *slash = strrchr(a->dlq, '/');
	const char *dn = slash != NULL ? slash + 1 : a->dlq;
	size_t dl = strlen(dn), al = strrchr(arn, ':') - arn;

	if (a->max_receives <= 0 || !want(k, "RedrivePolicy"))
		return;
	if (dl > 3 && strcmp(dn + dl - 3, ".db") == 0)
		dl -= 3;
	snprintf(name, sizeof name, "%.*s", (int)dl, dn);
	snprintf(v, sizeof v, "{\"deadLetterTargetArn\":\"%.*s:%s\",\"maxReceiveCount\":%d}",
	    (int)al, arn, name, a->max_receives);
	attr(b, n, "RedrivePolicy", v);
}

void
sqs_get_attrs(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct q_stat st;
	struct ev_err e;
	struct buf b = { 0 };
	int rc, n = 0;

	if (c == NULL)
		return;
	if ((rc = q_stat(c->q, &st, &e)) != 0) {
		sqs_fail_err(k, rc, &e);
		return;
	}
	const struct q_attrs *a = q_attrs(c->q);
	buf_adds(&b, "{\"Attributes\":{");
	if (want(k, "QueueArn"))
		attr(&b, &n, "QueueArn", q_arn(c->q));
	attr_num(k, &b, &n, "ApproximateNumberOfMessages", st.visible);
	attr_num(k, &b, &n, "ApproximateNumberOfMessagesNotVisible", st.in_flight);
	attr_num(k, &b, &n, "ApproximateNumberOfMessagesDelayed", st.delayed);
	attr_num(k, &b, &n, "CreatedTimestamp", a->created_ms / 1000);
	attr_num(k, &b, &n, "LastModifiedTimestamp", a->modified_ms / 1000);
	for (const struct q_attr_def *d = q_attr_table; d->name != NULL; d++) {
		if (d->kind == QA_INT || d->kind == QA_TEXT || d->kind == QA_MS)
			continue;
		if ((d->kind == QA_BOOL && !a->fifo) || !want(k, d->name))
			continue;
		if (d->kind == QA_BOOL)
			attr(&b, &n, d->name, q_attr_get(a, d) ? "true" : "false");
		else
			attr_num(k, &b, &n, d->name, q_attr_get(a, d));
	}
	if (want(k, "SqsManagedSseEnabled"))
		attr(&b, &n, "SqsManagedSseEnabled", "false");
	redrive(k, c->q, a, &b, &n);
	buf_adds(&b, "}}");
	if (n == 0)
		serve_reply(k->c, 200, NULL, "{}", 2);
	else
		serve_json(k->c, &b);
	buf_free(&b);
}

static int
set_one(const struct sqs_call *k, const char *name, const char *value, void *ctx)
{
	struct sqs_q *c = ctx;

	if (strcmp(name, "FifoQueue") == 0) {
		sqs_fail(k, "InvalidAttributeName", NULL, "Unknown Attribute FifoQueue.");
		return -1;
	}
	return set_attr(k, c->q, name, value);
}

void
sqs_set_attrs(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);

	if (c == NULL)
		return;
	if (sqs_member(k, "Attributes") == (size_t)-1) {
		sqs_missing(k, "Attributes");
		return;
	}
	if (each_attr(k, set_one, c) == 0)
		serve_reply(k->c, 200, NULL, "{}", 2);
}

/* ---- the rest ---- */

void
sqs_purge(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct ev_err e;
	long n;
	int rc;

	if (c == NULL)
		return;
	if ((rc = q_purge(c->q, &n, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else
		serve_reply(k->c, 200, NULL, "{}", 2);
}

void
sqs_delete_queue(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct ev_err e;
	char name[96];
	int rc;

	if (c == NULL)
		return;
	snprintf(name, sizeof name, "%s", c->name);
	sqs_forget(k->x, name);
	if ((rc = q_remove(name, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else
		serve_reply(k->c, 200, NULL, "{}", 2);
	serve_kick(k->x->s, &serve_sqs);	/* its long polls end */
}

void
sqs_move(const struct sqs_call *k)
{
	struct buf src = { 0 }, dst = { 0 }, out = { 0 };
	char sname[96], dname[96];
	struct sqs_q *c;
	struct ev_err e;
	long moved, kept;
	int rc;

	if (sqs_str(k, "SourceArn", &src) <= 0 || src.n == 0)
		sqs_missing(k, "SourceArn");
	else if (sqs_name_of(src.p, sname, sizeof sname) == NULL)
		sqs_fail_err(k, EV_NOINPUT, &e);
	else if (sqs_str(k, "DestinationArn", &dst) > 0 &&
	    sqs_name_of(dst.p, dname, sizeof dname) == NULL)
		sqs_fail_err(k, EV_NOINPUT, &e);
	else if ((rc = sqs_open(k->x, sname, &c, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else if ((rc = q_redrive(c->q, dst.n ? dname : NULL, &moved, &kept, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else {
		char id[37];
		uuid_v4(id);
		buf_printf(&out, "{\"TaskHandle\":\"%s\"}", id);
		serve_json(k->c, &out);
		k->x->dirty = 1;
		serve_kick(k->x->s, &serve_sqs);
	}
	buf_free(&src);
	buf_free(&dst);
	buf_free(&out);
}
