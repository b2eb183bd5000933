/* Array consistency without search, for sub-patterns whose fields are all
 * required (no exists:false).
 *
 * The leaves that hit a sub-pattern's fields sit in a tree: the arrays of
 * the event and, in each, its elements.  Leaves can be taken together
 * unless two of them are in different elements of one array.  So, bottom
 * up: the fields an element can give are those of its own leaves plus,
 * for each array in it, what one element of that array gives; an array
 * gives what any one of its elements gives.  The sub-pattern matches when
 * the whole event can give every field.  What a node can give is kept as
 * its maximal field masks (giving fewer is always possible), which keeps
 * the work about linear in the number of hits where backtracking over
 * them multiplies. */
#include <stdlib.h>
#include <string.h>

#include "pattern_int.h"

/* Up to this many fields and maximal masks per node; past them the search
 * (pateval.c) decides. */
enum { ARR_FIELDS = 32, ARR_MASKS = 256 };


static int
by_context(const void *pa, const void *pb, void *arg)
{
	const struct pat_set *s = arg;
	const struct phit *a = &s->hits.v[((const struct pleaf *)pa)->hit];
	const struct phit *b = &s->hits.v[((const struct pleaf *)pb)->hit];
	const uint32_t *x = s->ctxa.v + a->ctx, *y = s->ctxa.v + b->ctx;
	uint32_t n = a->nctx < b->nctx ? a->nctx : b->nctx;

	for (uint32_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return a->nctx < b->nctx ? -1 : a->nctx > b->nctx;
}

/* The masks of a node are a run at the top of s->amask, from *base on. */
static int
add_mask(struct pat_set *s, uint32_t base, uint64_t m)
{
	uint32_t w = base;

	for (uint32_t i = base; i < s->amask.n; i++) {
		uint64_t x = s->amask.v[i];
		if ((x | m) == x)
			return 0;	/* already covered */
		if ((x | m) != m)
			s->amask.v[w++] = x;	/* not covered by m: kept */
	}
	s->amask.n = w;
	if (w - base >= ARR_MASKS)
		return -1;
	PPUSH(s->amask, m);
	return 0;
}

static uint32_t
depth_of(const struct pat_set *s, const struct pleaf *l)
{
	return s->hits.v[l->hit].nctx;
}

/* Entry d of a leaf's context: an array id (d even) or an index in it. */
static uint32_t
ctx_at(const struct pat_set *s, const struct pleaf *l, uint32_t d)
{
	return s->ctxa.v[s->hits.v[l->hit].ctx + d];
}

/* The first of lv[lo, hi) whose context entry d differs from lv[lo]'s. */
static uint32_t
run_end(const struct pat_set *s, const struct pleaf *lv, uint32_t lo, uint32_t hi, uint32_t d)
{
	uint32_t v = ctx_at(s, &lv[lo], d), j = lo + 1;

	while (j < hi && ctx_at(s, &lv[j], d) == v)
		j++;
	return j;
}

/* Adds the masks at [from, to) of s->amask to the set [base, end), end <=
 * from, which then ends s->amask.  Each add writes at most one place past
 * the set's end, so never over a mask not yet read. */
static int
merge(struct pat_set *s, uint32_t base, uint32_t end, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		uint64_t m = s->amask.v[i];
		s->amask.n = end;
		if (add_mask(s, base, m) < 0)
			return -1;
		end = s->amask.n;
	}
	s->amask.n = end;
	return 0;
}

static int element(struct pat_set *s, const struct pleaf *lv, uint32_t lo, uint32_t hi,
    uint32_t d);

/* The masks of one array, whose leaves are lv[lo, hi) at depth d: any one
 * element's, or none. */
static int
array(struct pat_set *s, const struct pleaf *lv, uint32_t lo, uint32_t hi, uint32_t d)
{
	uint32_t base = s->amask.n;

	PPUSH(s->amask, 0);
	while (lo < hi) {
		uint32_t j = run_end(s, lv, lo, hi, d + 1), top = s->amask.n;
		if (element(s, lv, lo, j, d + 2) < 0 || merge(s, base, top, top, s->amask.n) < 0)
			return -1;
		lo = j;
	}
	return 0;
}

/* The masks of one element, whose leaves are lv[lo, hi), all past depth d:
 * its own leaves' fields with one mask of each array in it. */
static int
element(struct pat_set *s, const struct pleaf *lv, uint32_t lo, uint32_t hi, uint32_t d)
{
	uint32_t base = s->amask.n;
	uint64_t own = 0;

	for (; lo < hi && depth_of(s, &lv[lo]) == d; lo++)
		own |= (uint64_t)1 << lv[lo].field;
	PPUSH(s->amask, own);
	while (lo < hi) {
		uint32_t j = run_end(s, lv, lo, hi, d), mid = s->amask.n;
		if (array(s, lv, lo, j, d) < 0)
			return -1;
		uint32_t end = s->amask.n, nold = mid - base, narr = end - mid;
		if ((uint64_t)nold * narr > (uint64_t)ARR_MASKS * ARR_MASKS)
			return -1;
		/* each mask so far with each of the array's */
		for (uint32_t a = 0; a < nold; a++)
			for (uint32_t b = 0; b < narr; b++)
				PPUSH(s->amask, s->amask.v[base + a] | s->amask.v[mid + b]);
		if (merge(s, base, base, end, s->amask.n) < 0)
			return -1;
		lo = j;
	}
	return 0;
}

int
pat_arrays_fit(struct pat_set *s, const struct psub *sub)
{
	if (sub->has_pres || sub->nf > ARR_FIELDS)
		return -1;
	s->aleaf.n = 0;
	for (uint32_t i = 0; i < sub->nf; i++) {
		uint32_t req = s->fields.v[sub->f0 + i].req;
		if (req == PAT_NONE || s->slots.v[req].kind != SLOT_REQ)
			return -1;
		const struct pslot *sl = &s->slots.v[req];
		if (sl->stamp != s->gen)
			return 0;	/* a field with no leaf at all */
		for (uint32_t h = sl->head; h != PAT_NONE; h = s->hits.v[h].next) {
			struct pleaf l = { h, i };
			PPUSH(s->aleaf, l);
		}
	}
	qsort_r(s->aleaf.v, s->aleaf.n, sizeof *s->aleaf.v, by_context, s);
	s->amask.n = 0;
	if (element(s, s->aleaf.v, 0, s->aleaf.n, 0) < 0)
		return -1;
	uint64_t all = sub->nf == 64 ? ~(uint64_t)0 : ((uint64_t)1 << sub->nf) - 1;
	for (uint32_t i = 0; i < s->amask.n; i++)
		if (s->amask.v[i] == all)
			return 1;
	return 0;
}
