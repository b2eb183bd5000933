/* aws_batch — the one loop of the batch calls (SQS's SendMessageBatch,
 * DeleteMessageBatch, ChangeMessageVisibilityBatch, EventBridge's
 * PutEvents): entries in requests of at most 10 and 1 MiB, each entry's
 * fate read from the answer (SQS: Successful and Failed by Id;
 * PutEvents: Entries in the request's order, ErrorCode on a failure),
 * and the entries the server failed for a reason that may pass
 * (SenderFault false, throttling, InternalFailure) sent again, as the
 * standard retry mode retries a request: bounded attempts, backoff, the
 * client's quota. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

enum { RETRY = -2, PENDING = -1 };

static int *
st(const struct aws_batch *b, size_t i)
{
	return (int *)((char *)b->arr + i * b->stride + b->status_off);
}

static char *
why(const struct aws_batch *b, size_t i)
{
	return (char *)b->arr + i * b->stride + b->why_off;
}

/* The next request's entries: pending ones from *from, at most 10 and
 * 1 MiB of payload. */
static size_t
next_chunk(const struct aws_batch *b, size_t *from, size_t idx[AWS_SQS_BATCH])
{
	size_t k = 0, bytes = 0;

	for (size_t i = *from; i < b->n && k < AWS_SQS_BATCH; i++) {
		if (*st(b, i) != PENDING)
			continue;
		size_t sz = b->size != NULL ? b->size(b->arr, i) : 0;
		if (k > 0 && bytes + sz > AWS_SQS_MAX_BYTES)
			break;
		bytes += sz;
		idx[k++] = i;
		*from = i + 1;
	}
	return k;
}

static void
build(const struct aws_batch *b, const char *url, const size_t *idx, size_t k, struct buf *req)
{
	buf_reset(req);
	buf_addc(req, '{');
	if (url != NULL) {
		buf_adds(req, "\"QueueUrl\":");
		json_add_string(req, url, strlen(url));
		buf_addc(req, ',');
	}
	buf_adds(req, "\"Entries\":[");
	for (size_t j = 0; j < k; j++) {
		buf_adds(req, j > 0 ? ",{" : "{");
		if (!b->positional)
			buf_printf(req, "\"Id\":\"%zu\"", idx[j]);
		b->entry(req, b->arr, idx[j]);
		buf_addc(req, '}');
	}
	buf_adds(req, "]}");
}

/* The entry an "Id" names, if it is one of this request's. */
static int
entry_of(const char *p, size_t n, size_t obj, const size_t *idx, size_t k, size_t *i)
{
	struct buf id = { 0 };
	int found = 0;

	if (aws_json_str(p, n, obj, "Id", &id) > 0)
		for (size_t j = 0; j < k && !found; j++) {
			char want[24];
			snprintf(want, sizeof want, "%zu", idx[j]);
			found = strcmp(want, id.p) == 0;
			if (found)
				*i = idx[j];
		}
	buf_free(&id);
	return found;
}

/* An entry the server failed: SQS's {Code, Message, SenderFault}, or
 * PutEvents' {ErrorCode, ErrorMessage} (positional). */
static void
failed_entry(const struct aws_batch *b, const char *p, size_t n, size_t obj, size_t i,
    int *kind)
{
	struct aws_error ae = { .http = 400 };
	struct buf code = { 0 }, msg = { 0 };

	aws_json_str(p, n, obj, b->positional ? "ErrorCode" : "Code", &code);
	aws_json_str(p, n, obj, b->positional ? "ErrorMessage" : "Message", &msg);
	snprintf(ae.code, sizeof ae.code, "%s", code.n > 0 ? code.p : "UnknownError");
	snprintf(ae.msg, sizeof ae.msg, "%s", msg.n > 0 ? msg.p : "");
	struct buf w = { 0 };
	buf_printf(&w, "%s: %s", ae.code, ae.msg);
	aws_copy(why(b, i), AWS_WHY, w.p, w.n);
	buf_free(&w);
	int k = aws_code_kind(ae.code);
	if (k == AWS_R_NO && !b->positional && !aws_json_true(p, n, obj, "SenderFault"))
		k = AWS_R_TRANSIENT;
	kind[i] = k;
	*st(b, i) = k != AWS_R_NO ? RETRY : aws_err_status(&ae);
	buf_free(&code);
	buf_free(&msg);
}

/* PutEvents: Entries[j] answers the request's entry j. */
static void
read_positional(const struct aws_batch *b, const char *p, size_t n, int valid,
    const size_t *idx, size_t k, int *kind)
{
	size_t at, v, vend, j = 0;
	size_t obj = json_ws(p, n, 0);

	if (!valid || !aws_json_get(p, n, obj, "Entries", &at, &vend) || p[at] != '[')
		return;
	while (j < k && aws_json_elem(p, n, &at, &v, &vend)) {
		size_t i = idx[j++], ev, evend;
		if (p[v] != '{' || *st(b, i) != PENDING)
			continue;
		if (aws_json_get(p, n, v, "ErrorCode", &ev, &evend) && p[ev] == '"')
			failed_entry(b, p, n, v, i, kind);
		else
			*st(b, i) = b->done(b->arr, i, p, n, v);
	}
}

void
aws_batch_read(const struct aws_batch *b, const char *p, size_t n, const size_t *idx,
    size_t k, int *kind)
{
	struct json_err je;
	size_t obj = json_ws(p, n, 0), at, v, vend, i;
	int valid = json_validate(p, n, 0, &je) == '{';

	if (b->positional) {
		read_positional(b, p, n, valid, idx, k, kind);
	} else {
		if (valid && aws_json_get(p, n, obj, "Successful", &at, &vend) && p[at] == '[')
			while (aws_json_elem(p, n, &at, &v, &vend))
				if (p[v] == '{' && entry_of(p, n, v, idx, k, &i) &&
				    *st(b, i) == PENDING)
					*st(b, i) = b->done(b->arr, i, p, n, v);
		if (valid && aws_json_get(p, n, obj, "Failed", &at, &vend) && p[at] == '[')
			while (aws_json_elem(p, n, &at, &v, &vend))
				if (p[v] == '{' && entry_of(p, n, v, idx, k, &i) &&
				    *st(b, i) == PENDING)
					failed_entry(b, p, n, v, i, kind);
	}
	/* An entry the answer does not speak of was not sent, as far as we
	 * can tell: never a success. */
	for (size_t j = 0; j < k; j++)
		if (*st(b, idx[j]) == PENDING) {
			*st(b, idx[j]) = EV_SOFTWARE;
			snprintf(why(b, idx[j]), AWS_WHY, "%s", valid ? "not in the server's answer" :
			    "the server's answer is not JSON");
		}
}

/* Entries left to retry when no retry is left: what their code says. */
static void
give_up(const struct aws_batch *b, const int *kind)
{
	for (size_t i = 0; i < b->n; i++)
		if (*st(b, i) == RETRY)
			*st(b, i) = kind[i] == AWS_R_THROTTLE ? EV_TEMPFAIL : EV_UNAVAILABLE;
}

/* One pass over the pending entries; a whole request's failure ends it
 * (its entries get that status, the later ones stay pending). */
static int
pass(struct aws_client *c, const char *url, const struct aws_batch *b, int *kind,
    struct ev_err *e)
{
	size_t idx[AWS_SQS_BATCH], from = 0, k;
	struct buf req = { 0 }, resp = { 0 };
	int rc = 0;

	while (rc == 0 && (k = next_chunk(b, &from, idx)) > 0) {
		build(b, url, idx, k, &req);
		rc = aws_call(c, b->op, req.p, req.n, 0, &resp, e);
		if (rc != 0)
			for (size_t j = 0; j < k; j++) {
				*st(b, idx[j]) = rc;
				aws_copy(why(b, idx[j]), AWS_WHY, e != NULL ? e->msg : b->op,
				    strlen(e != NULL ? e->msg : b->op));
			}
		else
			aws_batch_read(b, resp.p, resp.n, idx, k, kind);
	}
	buf_free(&req);
	buf_free(&resp);
	return rc;
}

int
aws_batch_run(struct aws_client *c, const char *url, const struct aws_batch *op,
    void *arr, size_t n, struct ev_err *e)
{
	struct aws_batch bb = *op, *b = &bb;
	struct aws_retry *r = aws_client_retry(c);
	int *kind = xcalloc(n + 1, sizeof *kind), rc = 0, worst = 0;

	b->arr = arr;
	b->n = n;

	for (int attempt = 1; rc == 0; attempt++) {
		rc = pass(c, url, b, kind, e);
		int again = AWS_R_NO;
		for (size_t i = 0; i < b->n; i++)
			if (*st(b, i) == RETRY && again != AWS_R_THROTTLE)
				again = kind[i];
		if (rc != 0 || again == AWS_R_NO)
			break;
		int cost = attempt < r->max_attempts ? aws_retry_take(r, again) : 0;
		if (cost == 0)
			break;
		if (aws_nap(aws_retry_delay(r, again, attempt)) != 0)
			break;
		for (size_t i = 0; i < b->n; i++)
			if (*st(b, i) == RETRY)
				*st(b, i) = PENDING;
	}
	give_up(b, kind);
	free(kind);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < b->n && worst == 0; i++)
		if (*st(b, i) > 0)
			worst = err_set(e, *st(b, i), "%s: entry %zu: %s", b->op, i + 1, why(b, i));
	return worst;
}

int
aws_batch_parse(const struct aws_batch *op, void *arr, size_t k, const char *p, size_t n,
    struct ev_err *e)
{
	struct aws_batch b = *op;
	size_t idx[AWS_SQS_BATCH] = { 0 };
	int kind[AWS_SQS_BATCH] = { 0 };

	b.arr = arr;
	b.n = k;
	for (size_t i = 0; i < k; i++)
		idx[i] = i;
	aws_batch_read(&b, p, n, idx, k, kind);
	for (size_t i = 0; i < k; i++)
		if (*st(&b, i) != 0)
			return err_set(e, *st(&b, i) < 0 ? EV_TEMPFAIL : *st(&b, i),
			    "%s: entry %zu: %s", b.op, i + 1, why(&b, i));
	return 0;
}
