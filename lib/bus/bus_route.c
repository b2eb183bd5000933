/* bus_route — from a matched event to the payload of each target:
 * the constant input, the shaped event, or the event as it came. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "bus_int.h"
#include "shape.h"

static int
by_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t
bus_matched(const struct rules *rs, size_t nhits, const struct rule **out)
{
	uint32_t idx[256], *v = nhits <= 256 ? idx : xreallocarray(NULL, nhits, sizeof *v);

	if (nhits == 0)
		return 0;
	memcpy(v, pat_hits(rs->set), nhits * sizeof *v);
	qsort(v, nhits, sizeof *v, by_index);
	for (size_t i = 0; i < nhits; i++)
		out[i] = rs->byidx[v[i]];
	if (v != idx)
		free(v);
	return nhits;
}

/* Shapes ev for t and pushes the result (or the shaping error); 0 when
 * there is nothing to push (a jq program with no output). */
static int
route_target(struct bus *b, const struct target *t, const struct shape_ctx *ctx,
    const char *ev, size_t n, int64_t read_ms, uint64_t tag, struct buf *out)
{
	char *why = NULL;
	int kind;

	if (t->input != NULL) {
		bus_push(b, t, SHAPE_JSON, t->input, strlen(t->input), ev, n, read_ms, tag);
		return 1;
	}
	if (t->shape == NULL) {
		bus_push(b, t, SHAPE_JSON, ev, n, ev, n, read_ms, tag);
		return 1;
	}
	buf_reset(out);
	kind = shape_apply(t->shape, ev, n, ctx, out, &why);
	if (kind < 0) {
		const char *w = why != NULL ? why : "shaping failed";
		bus_push(b, t, BUS_FAILED, w, strlen(w), ev, n, read_ms, tag);
		free(why);
	} else if (kind != SHAPE_SKIP) {
		bus_push(b, t, kind, out->p != NULL ? out->p : "", out->n, ev, n, read_ms, tag);
	}
	return kind != SHAPE_SKIP;
}

void
bus_route(struct bus *b, const struct rules *rs, size_t nhits, const char *ev, size_t n,
    int64_t read_ms)
{
	static struct buf out;
	static const struct rule **matched;
	static size_t cap;
	char ts[25];

	if (cap < nhits) {
		cap = pat_count(rs->set);
		free(matched);
		matched = xreallocarray(NULL, cap, sizeof *matched);
	}
	clock_rfc3339(read_ms, ts);
	bus_matched(rs, nhits, matched);
	for (size_t i = 0; i < nhits; i++) {
		const struct rule *r = matched[i];
		struct shape_ctx ctx = { r->name, r->arn, ts };
		for (int j = 0; j < r->ntargets; j++)
			route_target(b, &r->targets[j], &ctx, ev, n, read_ms, 0, &out);
	}
}

int
bus_route_to(struct bus *b, const struct target *t, const char *ev, size_t n, int64_t read_ms,
    uint64_t tag)
{
	static struct buf out;
	char ts[25];
	struct shape_ctx ctx = { t->rule->name, t->rule->arn, ts };

	clock_rfc3339(read_ms, ts);
	return route_target(b, t, &ctx, ev, n, read_ms, tag, &out);
}
