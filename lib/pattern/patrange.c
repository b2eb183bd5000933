/* Numeric ranges as a segment tree, so a number costs a binary search and
 * the ranges that hold it, not a test of every range.  The sorted
 * distinct bounds cut the number line into elementary intervals: leaf
 * 2k + 1 is the bound rpts[k] itself, leaf 2k the open gap below it, leaf
 * 2m the gap above the last.  A range covers a run of leaves and is filed
 * in the O(log m) nodes that cover that run exactly (the bottom-up tree:
 * leaf i is node leaves + i, node j's parent j / 2). */
#include <math.h>
#include <stdlib.h>

#include "pattern_int.h"

static int
cmp(const void *a, const void *b)
{
	return pdec_cmp(a, b);
}

/* The index of bound d, which is in rpts. */
static uint32_t
index_of(const struct pvm *vm, const struct pdec *d)
{
	uint32_t lo = 0, hi = vm->rpts.n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdec_cmp(&vm->rpts.v[mid], d) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
add_bound(struct pvm *vm, const struct pdec *d)
{
	PPUSH(vm->rpts, *d);
}

void
prange_build(struct pat_set *s, struct pvm *vm)
{
	vm->rpts.n = 0;
	for (uint32_t i = 0; i < vm->ranges.n; i++) {
		if (vm->ranges.v[i].flags & R_LO)
			add_bound(vm, &vm->ranges.v[i].lo);
		if (vm->ranges.v[i].flags & R_HI)
			add_bound(vm, &vm->ranges.v[i].hi);
	}
	qsort(vm->rpts.v, vm->rpts.n, sizeof *vm->rpts.v, cmp);
	uint32_t m = 0;
	for (uint32_t i = 0; i < vm->rpts.n; i++)
		if (m == 0 || pdec_cmp(&vm->rpts.v[m - 1], &vm->rpts.v[i]) != 0)
			vm->rpts.v[m++] = vm->rpts.v[i];
	vm->rpts.n = m;
	vm->rdbl.n = 0;
	for (uint32_t i = 0; i < m; i++)
		PPUSH(vm->rdbl, pdec_double(&vm->rpts.v[i]));
	uint32_t leaves = 2 * m + 1;
	vm->rtree.n = 0;
	for (uint32_t i = 0; i < 2 * leaves; i++)
		PPUSH(vm->rtree, PAT_NONE);
	for (uint32_t i = 0; i < vm->ranges.n; i++) {
		const struct prange *r = &vm->ranges.v[i];
		uint32_t a = 0, b = 2 * m;
		if (r->flags & R_LO)
			a = 2 * index_of(vm, &r->lo) + (r->flags & R_LO_OPEN ? 2 : 1);
		if (r->flags & R_HI)
			b = 2 * index_of(vm, &r->hi) + (r->flags & R_HI_OPEN ? 0 : 1);
		for (uint32_t l = a + leaves, h = b + leaves + 1; l < h; l /= 2, h /= 2) {
			if (l & 1)
				pat_listadd(s, &vm->rtree.v[l++], r->slot);
			if (h & 1)
				pat_listadd(s, &vm->rtree.v[--h], r->slot);
		}
	}
	vm->rstale = 0;
}

/* The sign of (the number sn - bound i): by the doubles when they differ
 * by more than both roundings together, as most do, else exactly. */
static int
against(const struct pvm *vm, uint32_t i, const struct pnum *sn, double x, struct pdec *d,
    int *have)
{
	double e = vm->rdbl.v[i];

	if (!isnan(x)) {
		double margin = 1e-15 * (fabs(x) + fabs(e));
		if (x < e && e - x > margin)
			return -1;
		if (x > e && x - e > margin)
			return 1;
	}
	if (!*have) {
		pnum_dec(sn, d);
		*have = 1;
	}
	return pdec_cmp(d, &vm->rpts.v[i]);
}

uint32_t
prange_leaf(const struct pvm *vm, const struct pnum *sn, double x, struct pdec *d, int *have)
{
	uint32_t lo = 0, hi = vm->rpts.n, at = PAT_NONE;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = against(vm, mid, sn, x, d, have);
		if (c == 0)
			at = mid;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return at != PAT_NONE ? 2 * at + 1 : 2 * lo;
}
