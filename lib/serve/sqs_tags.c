/* sqs_tags — TagQueue, UntagQueue, ListQueueTags.  lib/queue keeps no
 * tags: this server keeps them in memory while it runs (and while the
 * queue's file is the same), which is what a test of tagging code needs. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "sqs_int.h"

enum { MAX_TAGS = 50 };

static size_t
find(const struct sqs_q *c, const char *key)
{
	for (size_t i = 0; i < c->ntags; i += 2)
		if (strcmp(c->tags[i], key) == 0)
			return i;
	return (size_t)-1;
}

static void
put(struct sqs_q *c, const char *key, const char *value)
{
	size_t i = find(c, key);

	if (i != (size_t)-1) {
		free(c->tags[i + 1]);
		c->tags[i + 1] = xstrdup(value);
		return;
	}
	XGROW(&c->tags, &c->captags, c->ntags + 2);
	c->tags[c->ntags++] = xstrdup(key);
	c->tags[c->ntags++] = xstrdup(value);
}

int
sqs_put_tags(const struct sqs_call *k, struct sqs_q *c, const char *key_name)
{
	size_t obj = sqs_member(k, key_name), at = 0, kk, kend, v, vend;
	struct buf key = { 0 }, value = { 0 };
	int rc = 0;

	if (obj == (size_t)-1 || k->p[obj] != '{')
		return 0;
	const char *p = k->p + obj;
	size_t n = k->n - obj;
	while (json_member(p, n, &at, &kk, &kend, &v, &vend) == 1) {
		buf_reset(&key);
		json_unescape(&key, p + kk + 1, kend - kk - 2);
		buf_addc(&key, '\0');
		if (!json_string_at(p, n, v, &value))
			continue;
		if (c->ntags / 2 >= MAX_TAGS && find(c, key.p) == (size_t)-1) {
			sqs_invalid(k, "Too many tags added for queue %s.", c->name);
			rc = -1;
			break;
		}
		put(c, key.p, value.p);
	}
	buf_free(&key);
	buf_free(&value);
	return rc;
}

void
sqs_tag(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	size_t obj;

	if (c == NULL)
		return;
	if ((obj = sqs_member(k, "Tags")) == (size_t)-1 || k->p[obj] != '{') {
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
	size_t arr, e;
	struct buf key = { 0 };

	if (c == NULL)
		return;
	if ((arr = sqs_member(k, "TagKeys")) == (size_t)-1 || k->p[arr] != '[') {
		sqs_missing(k, "TagKeys");
		return;
	}
	for (size_t i = 0; (e = json_find_index(k->p, k->n, arr, i)) != (size_t)-1; i++) {
		size_t at;
		if (!json_string_at(k->p, k->n, e, &key) || (at = find(c, key.p)) == (size_t)-1)
			continue;
		free(c->tags[at]);
		free(c->tags[at + 1]);
		c->tags[at] = c->tags[c->ntags - 2];
		c->tags[at + 1] = c->tags[c->ntags - 1];
		c->ntags -= 2;
	}
	serve_reply(k->c, 200, NULL, "{}", 2);
	buf_free(&key);
}

void
sqs_list_tags(const struct sqs_call *k)
{
	struct sqs_q *c = sqs_queue(k);
	struct buf b = { 0 };

	if (c == NULL)
		return;
	if (c->ntags == 0) {
		serve_reply(k->c, 200, NULL, "{}", 2);
		return;
	}
	buf_adds(&b, "{\"Tags\":{");
	for (size_t i = 0; i < c->ntags; i += 2) {
		if (i > 0)
			buf_addc(&b, ',');
		json_add_string(&b, c->tags[i], strlen(c->tags[i]));
		buf_addc(&b, ':');
		json_add_string(&b, c->tags[i + 1], strlen(c->tags[i + 1]));
	}
	buf_adds(&b, "}}");
	serve_json(k->c, &b);
	buf_free(&b);
}
