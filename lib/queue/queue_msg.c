/* queue_msg — SQS message attributes (--attr) and the Lambda SQS record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/alloc.h"
#include "core/msg.h"
#include "queue_int.h"

struct mattr {
	char name[257], type[257];
	char *value;		/* String/Number text, or the base64 of Binary */
	unsigned char *raw;	/* the bytes MD5 and size count */
	size_t rawlen;
	int binary;
};

/* SQS attribute names: [A-Za-z0-9_.-], no AWS./Amazon. prefix, no
 * leading, trailing or doubled dot. */
static const char *
check_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 256)
		return "attribute name must be 1 to 256 characters";
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return "attribute name may hold only A-Z, a-z, 0-9, '_', '-' and '.'";
	}
	if (n[0] == '.' || n[len - 1] == '.' || strstr(n, "..") != NULL)
		return "attribute name must not start or end with '.', or hold '..'";
	if (strncasecmp(n, "AWS.", 4) == 0 || strncasecmp(n, "Amazon.", 7) == 0)
		return "attribute names starting with 'AWS.' or 'Amazon.' are reserved";
	return NULL;
}

static int
is_number(const char *s)
{
	struct json_err e;
	size_t n = strlen(s);

	return n > 0 && json_validate(s, n, 0, &e) == '0';
}

/* Parses NAME[:TYPE]=VALUE into a. */
static const char *
parse_spec(const char *spec, struct mattr *a)
{
	const char *eq = strchr(spec, '='), *colon;

	if (eq == NULL)
		return "--attr takes NAME=VALUE or NAME:TYPE=VALUE";
	colon = memchr(spec, ':', (size_t)(eq - spec));
	size_t nlen = (size_t)((colon != NULL ? colon : eq) - spec);
	if (nlen >= sizeof a->name)
		return "attribute name must be 1 to 256 characters";
	memcpy(a->name, spec, nlen);
	a->name[nlen] = '\0';
	const char *why = check_name(a->name);
	if (why != NULL)
		return why;
	snprintf(a->type, sizeof a->type, "%.*s", colon != NULL ? (int)(eq - colon - 1) : 6,
	    colon != NULL ? colon + 1 : "String");
	const char *base = a->type;
	size_t blen = strcspn(base, ".");
	a->value = xstrdup(eq + 1);
	if (*a->value == '\0')
		return "attribute value must not be empty";
	if (blen == 6 && strncmp(base, "String", 6) == 0) {
		;
	} else if (blen == 6 && strncmp(base, "Number", 6) == 0) {
		if (!is_number(a->value))
			return "a Number attribute needs a number";
	} else if (blen == 6 && strncmp(base, "Binary", 6) == 0) {
		a->binary = 1;
		struct buf raw = { 0 };
		if (b64_decode_strict(&raw, a->value, strlen(a->value)) != 0) {
			buf_free(&raw);
			return "a Binary attribute needs base64";
		}
		a->raw = (unsigned char *)raw.p;
		a->rawlen = raw.n;
		return NULL;
	} else {
		return "attribute type must be String, Number or Binary (with an optional .label)";
	}
	a->raw = (unsigned char *)xstrdup(a->value);
	a->rawlen = strlen(a->value);
	return NULL;
}

static int
cmp_attr(const void *x, const void *y)
{
	return strcmp(((const struct mattr *)x)->name, ((const struct mattr *)y)->name);
}

int
q_attrs_render(char *const *specs, int n, char **json, char md5out[33], long *sizep,
    struct ev_err *e)
{
	struct mattr a[10];
	long size = 0;
	const char *why[1];

	*json = NULL;
	if (n > 10)
		return err_set(e, EV_USAGE, "at most 10 message attributes");
	memset(a, 0, sizeof a);
	for (int i = 0; i < n; i++)
		if ((*why = parse_spec(specs[i], &a[i])) != NULL)
			goto fail;
	qsort(a, (size_t)n, sizeof a[0], cmp_attr);
	struct digest c;
	struct buf b = { 0 };
	digest_init(&c, DIGEST_MD5);
	buf_addc(&b, '{');
	for (int i = 0; i < n; i++) {
		if (i > 0 && strcmp(a[i].name, a[i - 1].name) == 0) {
			*why = "attribute given twice";
			buf_free(&b);
			goto fail;
		}
		digest_sqs_attr(&c, a[i].name, strlen(a[i].name), a[i].type, strlen(a[i].type),
		    a[i].binary, a[i].raw, a[i].rawlen);
		size += (long)(strlen(a[i].name) + strlen(a[i].type) + a[i].rawlen);
		if (i > 0)
			buf_addc(&b, ',');
		json_add_string(&b, a[i].name, strlen(a[i].name));
		buf_adds(&b, a[i].binary ? ":{\"binaryValue\":" : ":{\"stringValue\":");
		json_add_string(&b, a[i].value, strlen(a[i].value));
		buf_adds(&b, ",\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":");
		json_add_string(&b, a[i].type, strlen(a[i].type));
		buf_addc(&b, '}');
	}
	buf_addc(&b, '}');
	digest_hex(&c, md5out);
	*json = buf_detach(&b);
	*sizep = size;
	*why = NULL;
fail:
	for (int i = 0; i < n; i++) {
		free(a[i].value);
		free(a[i].raw);
	}
	return *why != NULL ? err_set(e, EV_USAGE, "%s", *why) : 0;
}

void
q_envelope(struct queue *q, const struct q_msg *m, struct buf *b)
{
	if (q->ops != NULL) {
		q->ops->envelope(q, m, b);
		return;
	}
	char arn[256];

	if (m->src != NULL)
		qdb_ref_arn(m->src, arn, sizeof arn);
	qmsg_envelope_head(q, m, m->handle[0] != '\0' ? m->handle : NULL,
	    m->src != NULL ? arn : NULL, b);
	const char *region = strchr(q->arn + 12, ':');	/* after "arn:aws:sqs:" */
	qmsg_envelope_end(q, m, q->arn + 12, (size_t)(region - q->arn - 12), b);
}

void
qmsg_envelope_head(const struct queue *q, const struct q_msg *m, const char *handle,
    const char *src_arn, struct buf *b)
{
	const char *user = getenv("USER");

	if (user == NULL)
		user = "evkit";
	buf_adds(b, "{\"messageId\":");
	json_add_string(b, m->id, strlen(m->id));
	buf_adds(b, ",\"receiptHandle\":");
	if (handle != NULL)
		json_add_string(b, handle, strlen(handle));
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"body\":");
	json_add_string(b, m->body, m->len);
	buf_printf(b, ",\"attributes\":{\"ApproximateReceiveCount\":\"%ld\",\"SentTimestamp\":\"%lld\"",
	    m->receives, (long long)m->sent_ms);
	buf_adds(b, ",\"SenderId\":");
	json_add_string(b, user, strlen(user));
	buf_printf(b, ",\"ApproximateFirstReceiveTimestamp\":\"%lld\"", (long long)m->first_ms);
	if (q->a.fifo) {
		buf_printf(b, ",\"SequenceNumber\":\"%s\",\"MessageGroupId\":", m->seq);
		json_add_string(b, m->group ? m->group : "", m->group ? m->group_len : 0);
		buf_adds(b, ",\"MessageDeduplicationId\":");
		json_add_string(b, m->dedup ? m->dedup : "", m->dedup ? m->dedup_len : 0);
	}
	if (src_arn != NULL) {
		buf_adds(b, ",\"DeadLetterQueueSourceArn\":");
		json_add_string(b, src_arn, strlen(src_arn));
	}
	buf_addc(b, '}');
}

void
qmsg_envelope_end(const struct queue *q, const struct q_msg *m, const char *region,
    size_t rlen, struct buf *b)
{
	char md5[33];

	digest_hex_of(DIGEST_MD5, m->body, m->len, md5);
	buf_adds(b, ",\"messageAttributes\":");
	buf_adds(b, m->attrs != NULL ? m->attrs : "{}");
	if (m->attrs_md5 != NULL)
		buf_printf(b, ",\"md5OfMessageAttributes\":\"%s\"", m->attrs_md5);
	buf_printf(b, ",\"md5OfBody\":\"%s\",\"eventSource\":\"aws:sqs\",\"eventSourceARN\":", md5);
	json_add_string(b, q->arn, strlen(q->arn));
	buf_adds(b, ",\"awsRegion\":");
	json_add_string(b, region, rlen);
	buf_addc(b, '}');
}
