/* evlog_batch.c — events read but not yet appended: each one validated,
 * compacted, with its stream and id already in JSON form, so that the
 * work done under the writer lock is numbering, CRC and one write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "evlog_int.h"
#include "core/json.h"
#include "core/msg.h"

struct ev {
	size_t stream, stream_n, id, id_n, event, event_n;	/* offsets into arena */
};

struct elog_batch {
	struct buf arena;
	struct ev *ev;
	size_t n, cap;
	struct buf last;	/* the stream name of the last event, as given */
	char why[96];
};

/* The batch is exposed to evlog.c through these accessors. */
size_t elog_batch_get(const struct elog_batch *b, size_t i, const char **stream,
    size_t *sn, const char **id, size_t *in, const char **event, size_t *en);

struct elog_batch *
elog_batch_new(void)
{
	struct elog_batch *b = calloc(1, sizeof *b);

	if (b == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	return b;
}

void
elog_batch_free(struct elog_batch *b)
{
	if (b == NULL)
		return;
	buf_free(&b->arena);
	buf_free(&b->last);
	free(b->ev);
	free(b);
}

void
elog_batch_clear(struct elog_batch *b)
{
	b->arena.n = 0;
	b->n = 0;
}

size_t
elog_batch_count(const struct elog_batch *b)
{
	return b->n;
}

size_t
elog_batch_bytes(const struct elog_batch *b)
{
	return b->arena.n;
}

size_t
elog_batch_get(const struct elog_batch *b, size_t i, const char **stream,
    size_t *sn, const char **id, size_t *in, const char **event, size_t *en)
{
	const struct ev *e = &b->ev[i];

	*stream = b->arena.p + e->stream;
	*sn = e->stream_n;
	*id = b->arena.p + e->id;
	*in = e->id_n;
	*event = b->arena.p + e->event;
	*en = e->event_n;
	return b->n;
}

/* Copies valid JSON without the white space outside strings. */
static void
compact(struct buf *b, const char *p, size_t n, int spaced)
{
	/* Most producers write compact JSON (jq -c): the validator saw no
	 * blanks to remove, so a plain copy. */
	if (!spaced) {
		buf_add(b, p, n);
		return;
	}
	buf_grow(b, n);
	char *out = b->p + b->n;
	size_t o = 0;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\') {
				out[o++] = c;
				c = p[++i];
			} else if (c == '"') {
				in_str = 0;
			}
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue;
		} else if (c == '"') {
			in_str = 1;
		}
		out[o++] = c;
	}
	b->n += o;
	b->p[b->n] = '\0';
}

/* End of the compact JSON value at p (which is valid JSON), by the one
 * JSON walker (core/json.h): past a string, object or array; at the ','
 * or closing bracket after a number, true, false or null. */
static const char *
skip_value(const char *p, const char *end)
{
	size_t i = json_skip(p, (size_t)(end - p), 0);

	return i == (size_t)-1 ? end : p + i;
}

int
elog_json_member(const char *obj, size_t n, size_t *it, const char **k, size_t *kn,
    const char **v, size_t *vn)
{
	const char *end = obj + n - 1, *q = obj + (*it > 0 ? *it : 1);

	if (n < 2 || q >= end || *q != '"')
		return 0;
	*k = q;
	q = skip_value(q, end);		/* the key */
	*kn = (size_t)(q - *k);
	if (q + 1 >= end || *q != ':')
		return 0;		/* not compact JSON after all */
	*v = ++q;
	q = skip_value(q, end);
	*vn = (size_t)(q - *v);
	if (q < end && *q == ',')
		q++;
	*it = (size_t)(q - obj);
	return 1;
}

/* The top-level "id" member of a compact object, when a non-empty string
 * (quotes included); NULL otherwise.  Keys are compared as written. */
static const char *
find_id(const char *p, size_t n, size_t *len)
{
	const char *k, *v;
	size_t it = 0, kn, vn;

	while (elog_json_member(p, n, &it, &k, &kn, &v, &vn)) {
		if (kn == 4 && memcmp(k, "\"id\"", 4) == 0) {
			if (*v != '"' || vn <= 2)
				return NULL;
			*len = vn;
			return v;
		}
	}
	return NULL;
}

int
elog_batch_add(struct elog_batch *b, const char *stream, size_t stream_n,
    const char *event, size_t n, const char **why)
{
	struct json_err je;
	int spaced;
	int kind = json_validate_spaced(event, n, 0, &je, &spaced);

	if (kind != '{') {
		if (kind == 0)
			snprintf(b->why, sizeof b->why, "invalid JSON at column %zu: %s",
			    je.col, je.what);
		else
			snprintf(b->why, sizeof b->why, "an event must be a JSON object");
		*why = b->why;
		return -1;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->ev = realloc(b->ev, b->cap * sizeof *b->ev);
		if (b->ev == NULL)
			msg_die(EV_SOFTWARE, "out of memory");
	}
	struct ev *e = &b->ev[b->n];
	e->event = b->arena.n;
	compact(&b->arena, event, n, spaced);
	e->event_n = b->arena.n - e->event;
	if (b->n > 0 && b->last.n == stream_n && memcmp(b->last.p, stream, stream_n) == 0) {
		/* the usual case, one stream throughout: quoted once */
		e->stream = e[-1].stream;
		e->stream_n = e[-1].stream_n;
	} else {
		e->stream = b->arena.n;
		json_add_string(&b->arena, stream, stream_n);
		e->stream_n = b->arena.n - e->stream;
		buf_reset(&b->last);
		buf_add(&b->last, stream, stream_n);
	}
	size_t idn;
	const char *id = find_id(b->arena.p + e->event, e->event_n, &idn);
	if (id != NULL) {
		e->id = (size_t)(id - b->arena.p);
		e->id_n = idn;
	} else {
		char u[37];
		uuid_v7(u);
		e->id = b->arena.n;
		buf_addc(&b->arena, '"');
		buf_add(&b->arena, u, 36);
		buf_addc(&b->arena, '"');
		e->id_n = 38;
	}
	b->n++;
	return 0;
}
