/* sqs_tags — TagQueue, UntagQueue, ListQueueTags, over the tags lib/queue
 * keeps in the queue's file (so they outlive the server, and the limits
 * and their texts are the library's, SQS's own). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "sqs_int.h"

/* A request's tag map or key list, its strings owned. */
struct tagset {
	struct q_tag *t;
	const char **keys;
	size_t n, cap, capk;
};

static void
tagset_free(struct tagset *s)
{
	for (size_t i = 0; s->t != NULL && i < s->n; i++) {
		free((char *)s->t[i].key);
		free((char *)s->t[i].value);
	}
	free(s->t);
	for (size_t i = 0; s->keys != NULL && i < s->n; i++)
		free((char *)s->keys[i]);
	free(s->keys);
}

/* The map at k->p[obj] into s: 0, or -1 answered (a value not a string). */
static int
read_map(const struct sqs_call *k, size_t obj, struct tagset *s)
{
	const char *p = k->p + obj;
	size_t n = k->n - obj, at = 0, kk, kend, v, vend;
	struct buf key = { 0 }, value = { 0 };
	int rc = 0;

	while (rc == 0 && json_member(p, n, &at, &kk, &kend, &v, &vend) == 1) {
		buf_reset(&key);
		json_unescape(&key, p + kk + 1, kend - kk - 2);
		buf_addc(&key, '\0');
		if (!json_string_at(p, n, v, &value)) {
			sqs_invalid(k, "Tag %s must have a string value.", key.p);
			rc = -1;
			break;
		}
		XGROW(&s->t, &s->cap, s->n + 1);
		s->t[s->n].key = xstrdup(key.p);
		s->t[s->n++].value = xstrdup(value.p);
	}
	buf_free(&key);
	buf_free(&value);
	return rc;
}

static int
empty_map(const struct sqs_call *k, size_t obj)
{
	size_t i = json_ws(k->p, k->n, obj + 1);

	return i < k->n && k->p[i] == '}';
}

int
sqs_put_tags(const struct sqs_call *k, struct sqs_q *c, const char *key_name)
{
	size_t obj = sqs_member(k, key_name);
	struct tagset s = { 0 };
	struct ev_err e;
	int rc = 0;

	if (obj == (size_t)-1 || k->p[obj] != '{')
		return 0;
	if (read_map(k, obj, &s) != 0) {
		rc = -1;
	} else if (s.n > 0 && (rc = q_tag(c->q, s.t, s.n, &e)) != 0) {
		sqs_fail_err(k, rc, &e);
		rc = -1;
	}
	tagset_free(&s);
	return rc;
}

void
sqs_tag(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	size_t obj;

	if (c == NULL)
		return;
	/* SQS takes an empty map for no map at all. */
	if ((obj = sqs_member(k, "Tags")) == (size_t)-1 || k->p[obj] != '{' ||
	    empty_map(k, obj)) {
		sqs_missing(k, "Tags");
		return;
	}
	if (sqs_put_tags(k, c, "Tags") == 0)
		serve_reply(k->c, 200, NULL, "{}", 2);
}

void
sqs_untag(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct tagset s = { 0 };
	struct buf key = { 0 };
	struct ev_err e;
	size_t arr, el;
	int rc;

	if (c == NULL)
		return;
	if ((arr = sqs_member(k, "TagKeys")) == (size_t)-1 || k->p[arr] != '[') {
		sqs_missing(k, "TagKeys");
		return;
	}
	for (size_t i = 0; (el = json_find_index(k->p, k->n, arr, i)) != (size_t)-1; i++) {
		XGROW(&s.keys, &s.capk, s.n + 1);
		s.keys[s.n++] = xstrdup(json_string_at(k->p, k->n, el, &key) ? key.p : "");
	}
	/* No keys is a key of no characters, as SQS says. */
	if (s.n == 0) {
		XGROW(&s.keys, &s.capk, 1);
		s.keys[s.n++] = xstrdup("");
	}
	if ((rc = q_untag(c->q, s.keys, s.n, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else
		serve_reply(k->c, 200, NULL, "{}", 2);
	buf_free(&key);
	tagset_free(&s);
}

struct listing {
	struct buf b;
	size_t n;
};

static void
list_one(const char *key, const char *value, void *ctx)
{
	struct listing *l = ctx;

	buf_adds(&l->b, l->n++ ? "," : "{\"Tags\":{");
	json_add_string(&l->b, key, strlen(key));
	buf_addc(&l->b, ':');
	json_add_string(&l->b, value, strlen(value));
}

void
sqs_list_tags(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct listing l = { 0 };
	struct ev_err e;
	int rc;

	if (c == NULL)
		return;
	if ((rc = q_tags(c->q, list_one, &l, &e)) != 0)
		sqs_fail_err(k, rc, &e);
	else if (l.n == 0)
		serve_reply(k->c, 200, NULL, "{}", 2);
	else {
		buf_adds(&l.b, "}}");
		serve_json(k->c, &l.b);
	}
	buf_free(&l.b);
}
