/* pat_match(): scan, then decide the sub-patterns that need more than a
 * count of hit fields: those with a hit inside an array (array
 * consistency) or with exists:false. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pattern_int.h"

int pat_search_only;

static uint32_t
head(const struct pat_set *s, uint32_t slot)
{
	const struct pslot *sl = &s->slots.v[slot];

	return sl->stamp == s->gen ? sl->head : PAT_NONE;
}

/* Two leaves may combine unless they sit in different elements of one
 * array.  Contexts list (array id, index) from the outermost array in;
 * once the arrays differ, the leaves are in different arrays. */
static int
compatible(const struct pat_set *s, const struct phit *a, const struct phit *b)
{
	uint32_t n = a->nctx < b->nctx ? a->nctx : b->nctx;
	const uint32_t *x = s->ctxa.v + a->ctx, *y = s->ctxa.v + b->ctx;

	for (uint32_t i = 0; i < n; i += 2) {
		if (x[i] != y[i])
			return 1;
		if (x[i + 1] != y[i + 1])
			return 0;
	}
	return 1;
}

/* Whether hit h goes with the chosen hits of fields ranked below rank. */
static int
fits(const struct pat_set *s, uint32_t h, uint32_t rank)
{
	const struct phit *a = &s->hits.v[h];

	for (uint32_t i = 0; i < s->chosen.n; i++)
		if (s->crank.v[i] < rank && !compatible(s, a, &s->hits.v[s->chosen.v[i]]))
			return 0;
	return 1;
}

/* exists:false fields: no leaf of theirs may go with the chosen ones.
 * event-ruler checks an absence when it reaches the field, walking them
 * sorted by name, so only against the fields before it: one that sorts
 * first is absent from the whole event or not at all. */
static int
absent_ok(const struct pat_set *s, const struct psub *sub)
{
	for (uint32_t i = 0; i < sub->nf; i++) {
		if (!s->absent.v[i])
			continue;
		const struct pfield *f = &s->fields.v[sub->f0 + i];
		for (uint32_t h = head(s, f->pres); h != PAT_NONE; h = s->hits.v[h].next)
			if (fits(s, h, f->rank))
				return 0;
	}
	return 1;
}

/* Chooses one hit per field, each compatible with those chosen before;
 * a field that allows exists:false may instead be absent. */
static int
choose(struct pat_set *s, const struct psub *sub, uint32_t i)
{
	if (i == sub->nf)
		return absent_ok(s, sub);
	const struct pfield *f = &s->fields.v[sub->f0 + i];
	s->absent.v[i] = 0;
	if (f->req != PAT_NONE) {
		for (uint32_t h = head(s, f->req); h != PAT_NONE; h = s->hits.v[h].next) {
			if (!fits(s, h, UINT32_MAX))
				continue;
			PPUSH(s->chosen, h);
			PPUSH(s->crank, f->rank);
			int ok = choose(s, sub, i + 1);
			s->chosen.n--;
			s->crank.n--;
			if (ok)
				return 1;
		}
		if (s->slots.v[f->req].kind == SLOT_REQ)
			return 0;
	}
	s->absent.v[i] = 1;
	int ok = choose(s, sub, i + 1);
	s->absent.v[i] = 0;
	return ok;
}

static void
decide(struct pat_set *s, uint32_t si)
{
	const struct psub *sub = &s->subs.v[si];

	if (s->decided || s->patstamp.v[sub->pat] == s->gen)
		return;
	while (s->absent.cap < sub->nf)
		s->absent.v = pat_grow(s->absent.v, &s->absent.cap, sub->nf, 1);
	int fit = pat_search_only ? -1 : pat_arrays_fit(s, sub);
	s->chosen.n = s->crank.n = 0;
	if (fit < 0)
		fit = choose(s, sub, 0);
	if (fit) {
		s->patstamp.v[sub->pat] = s->gen;
		PPUSH(s->out, sub->pat);
		if (!s->all)
			s->decided = 1;
	}
}

static void
new_generation(struct pat_set *s)
{
	if (++s->gen != 0)
		return;
	/* After 2^32 events: forget every stamp rather than misread one. */
	for (uint32_t i = 0; i < s->slots.n; i++)
		s->slots.v[i].stamp = 0;
	for (uint32_t i = 0; i < s->subs.n; i++)
		s->subs.v[i].stamp = 0;
	for (uint32_t i = 0; i < s->patstamp.n; i++)
		s->patstamp.v[i] = 0;
	s->gen = 1;
}

int
pat_match(struct pat_set *s, const char *p, size_t n, int all, struct pat_err *err)
{
	if (s->scap < n + 1) {
		free(s->scratch);
		s->scap = n + 1 > 4096 ? n + 1 : 4096;
		s->scratch = xmalloc(s->scap);
	}
	new_generation(s);
	s->all = all;
	s->decided = 0;
	s->hits.n = s->ctxa.n = s->stk.n = s->cand.n = s->out.n = 0;
	s->narr = 0;
	if (pat_scan(s, p, n, err) < 0)
		return -1;
	for (uint32_t i = 0; i < s->cand.n; i++)
		decide(s, s->cand.v[i]);
	for (uint32_t i = 0; i < s->always.n; i++)
		decide(s, s->always.v[i]);
	return (int)s->out.n;
}

const uint32_t *
pat_hits(const struct pat_set *s)
{
	return s->out.v;
}
