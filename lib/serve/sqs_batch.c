/* sqs_batch — the *Batch actions' common part: Entries checked as SQS
 * checks them (EmptyBatchRequest, TooManyEntriesInBatchRequest,
 * InvalidBatchEntryId, BatchEntryIdsNotDistinct), each entry handed to
 * the action, and the Successful / Failed answer. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "sqs_int.h"

enum { MAX_ENTRIES = 10, MAX_ID = 80 };

static int
id_ok(const char *id, size_t n)
{
	if (n == 0 || n > MAX_ID)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

void
sqs_batch_ok_begin(struct sqs_batch *b, const char *id)
{
	buf_adds(&b->ok, b->nok++ ? ",{\"Id\":" : "{\"Id\":");
	json_add_string(&b->ok, id, strlen(id));
}

void
sqs_batch_fail(struct sqs_batch *b, const char *id, int sender, const char *code,
    const char *msg)
{
	buf_adds(&b->failed, b->nfailed++ ? ",{\"Id\":" : "{\"Id\":");
	json_add_string(&b->failed, id, strlen(id));
	buf_printf(&b->failed, ",\"SenderFault\":%s,\"Code\":", sender ? "true" : "false");
	json_add_string(&b->failed, code, strlen(code));
	buf_adds(&b->failed, ",\"Message\":");
	json_add_string(&b->failed, msg, strlen(msg));
	buf_addc(&b->failed, '}');
}

/* The entries' ids, checked; their count, or -1 when answered. */
static int
check_ids(const struct sqs_call *k, size_t arr, size_t *at, char ids[][MAX_ID + 1])
{
	struct buf id = { 0 };
	int n = 0;

	for (size_t e; (e = json_find_index(k->p, k->n, arr, (size_t)n)) != (size_t)-1; n++) {
		if (n == MAX_ENTRIES) {
			sqs_fail(k, "TooManyEntriesInBatchRequest", NULL,
			    "Maximum number of entries per request are %d.", MAX_ENTRIES);
			n = -1;
			break;
		}
		size_t v = k->p[e] == '{' ? json_find_member(k->p, k->n, e, "Id", 2) : (size_t)-1;
		if (v == (size_t)-1 || !json_string_at(k->p, k->n, v, &id) || !id_ok(id.p, id.n)) {
			sqs_fail(k, "InvalidBatchEntryId", NULL, "A batch entry id can only contain "
			    "alphanumeric characters, hyphens and underscores. It can be at most %d "
			    "letters long.", MAX_ID);
			n = -1;
			break;
		}
		memcpy(ids[n], id.p, id.n + 1);
		at[n] = e;
		for (int j = 0; j < n; j++)
			if (strcmp(ids[j], ids[n]) == 0) {
				sqs_fail(k, "BatchEntryIdsNotDistinct", NULL,
				    "Id %s repeated.", ids[n]);
				buf_free(&id);
				return -1;
			}
	}
	buf_free(&id);
	if (n == 0)
		sqs_fail(k, "EmptyBatchRequest", NULL,
		    "There should be at least one SendMessageBatchRequestEntry in the request.");
	return n > 0 ? n : -1;
}

void
sqs_batch(const struct sqs_call *k, void (*fn)(const struct sqs_call *ek, const char *id,
    struct sqs_batch *b, void *ctx),
    void (*done)(const struct sqs_call *k, struct sqs_batch *b, void *ctx), void *ctx)
{
	size_t arr = sqs_member(k, "Entries"), at[MAX_ENTRIES];
	char ids[MAX_ENTRIES][MAX_ID + 1];
	struct sqs_batch b = { 0 };

	if (arr == (size_t)-1 || k->p[arr] == 'n') {
		sqs_missing(k, "Entries");
		return;
	}
	if (k->p[arr] != '[') {
		sqs_invalid(k, "Entries must be a list.");
		return;
	}
	int n = check_ids(k, arr, at, ids);
	for (int i = 0; i < n; i++) {
		struct sqs_call ek = *k;
		ek.p = k->p + at[i];
		ek.n = k->n - at[i];
		fn(&ek, ids[i], &b, ctx);
	}
	if (n > 0 && done != NULL)
		done(k, &b, ctx);
	if (n > 0 && !serve_answered(k->c)) {
		struct buf out = { 0 };
		buf_adds(&out, "{\"Successful\":[");
		buf_add(&out, b.ok.p, b.ok.n);
		buf_adds(&out, "],\"Failed\":[");
		buf_add(&out, b.failed.p, b.failed.n);
		buf_adds(&out, "]}");
		if (b.defer_to != NULL)
			sqs_defer(k->x, b.defer_to, k->c, &out);
		else
			serve_json(k->c, &out);
		buf_free(&out);
	}
	buf_free(&b.ok);
	buf_free(&b.failed);
}
