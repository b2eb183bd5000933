/* Leaf matching: one string, number or literal of the event against the
 * matchers of its path.  Indexed matchers (exact values, prefixes and
 * suffixes by length, numbers by value) cost a hash lookup whatever the
 * number of patterns; the rest are scanned in a list. */
#include <math.h>
#include <string.h>

#include "pattern_int.h"

static void
hit_list(struct pat_set *s, uint32_t l)
{
	if (l == PAT_NONE)
		return;
	const struct plist *pl = &s->lists.v[l];
	for (uint32_t i = 0; i < pl->n; i++)
		pat_hit(s, pl->v[i]);
}

static inline void
hit_any(struct pat_set *s, const struct pvm *vm)
{
	for (uint32_t i = 0; i < vm->any.n; i++)
		pat_hit(s, vm->any.v[i]);
}

/* anything-but value lists: every one matches but those excluding this
 * leaf (list l of abv indices). */
static inline void
hit_anything(struct pat_set *s, struct pvm *vm, uint32_t l)
{
	if (vm->abv.n == 0)
		return;
	if (++vm->leafgen == 0) {
		for (uint32_t i = 0; i < vm->abv.n; i++)
			vm->abv.v[i].stamp = 0;
		vm->leafgen = 1;
	}
	if (l != PAT_NONE) {
		const struct plist *pl = &s->lists.v[l];
		for (uint32_t i = 0; i < pl->n; i++)
			vm->abv.v[pl->v[i]].stamp = vm->leafgen;
	}
	for (uint32_t i = 0; i < vm->abv.n && !s->decided; i++)
		if (vm->abv.v[i].stamp != vm->leafgen)
			pat_hit(s, vm->abv.v[i].slot);
}

static int
excluded(const struct pat_set *s, const struct pab *ab, const char *p, size_t n)
{
	for (uint32_t i = 0; i < ab->n; i++) {
		const struct pspan *sp = &s->abstr.v[ab->first + i];
		const char *w = s->strs.v + sp->off;
		switch (ab->kind) {
		case 0:		/* prefix */
			if (n >= sp->len && memcmp(p, w, sp->len) == 0)
				return 1;
			break;
		case 1:		/* suffix */
			if (n >= sp->len && memcmp(p + n - sp->len, w, sp->len) == 0)
				return 1;
			break;
		case 2:
			if (peic_equal(w, sp->len, p, n))
				return 1;
			break;
		default:
			if (pwild_match(w, sp->len, p, n))
				return 1;
			break;
		}
	}
	return 0;
}

static int
strm_match(const struct pat_set *s, const struct pstrm *m, const char *p, size_t n)
{
	const char *w = s->strs.v + m->off;

	switch (m->kind) {
	case SM_EIC:
		return peic_equal(w, m->len, p, n);
	case SM_PEIC:
		return peic_prefix(w, m->len, p, n);
	case SM_SEIC:
		return peic_suffix(w, m->len, p, n);
	default:
		return pwild_match(w, m->len, p, n);
	}
}

static void
try_wild(struct pat_set *s, const struct pvm *vm, uint32_t i, const char *p, size_t n)
{
	const struct pstrm *m = &vm->wild.v[i];

	if (pwild_match(s->strs.v + m->off, m->len, p, n))
		pat_hit(s, m->slot);
}

static void
match_wild(struct pat_set *s, const struct pvm *vm, const char *p, size_t n)
{
	for (uint32_t i = 0; i < vm->wany.n; i++)
		try_wild(s, vm, vm->wany.v[i], p, n);
	for (uint32_t i = 0; i < vm->wlen.n; i++) {
		if (vm->wlen.v[i] > n)
			continue;
		uint32_t l = pmap_get(&vm->wpre, p, vm->wlen.v[i]);
		if (l == PAT_NONE)
			continue;
		const struct plist *pl = &s->lists.v[l];
		for (uint32_t j = 0; j < pl->n; j++)
			try_wild(s, vm, pl->v[j], p, n);
	}
}

/* IP literals and cidr, on a string (string 1) or a number.  event-ruler
 * reads a value as an address only on a field with no numeric matcher:
 * with one, no address matches anything there. */
static void
match_ip(struct pat_set *s, const struct pvm *vm, const char *p, size_t n, int string)
{
	unsigned char v[32];
	size_t d;

	if (vm->need_num || (d = pip_digits(p, n, string, v)) == 0)
		return;
	for (uint32_t i = 0; i < vm->ips.n; i++)
		if (pip_in(&vm->ips.v[i], v, d))
			pat_hit(s, vm->ips.v[i].slot);
}

void
pat_leaf_string(struct pat_set *s, struct pvm *vm, const char *p, size_t n)
{
	if (s->decided)
		return;
	hit_list(s, pmap_get(&vm->exact, p, n));
	for (uint32_t i = 0; i < vm->plen.n; i++)
		if (vm->plen.v[i] <= n)
			hit_list(s, pmap_get(&vm->prefix, p, vm->plen.v[i]));
	for (uint32_t i = 0; i < vm->slen.n; i++)
		if (vm->slen.v[i] <= n)
			hit_list(s, pmap_get(&vm->suffix, p + n - vm->slen.v[i], vm->slen.v[i]));
	for (uint32_t i = 0; i < vm->strm.n; i++)
		if (strm_match(s, &vm->strm.v[i], p, n))
			pat_hit(s, vm->strm.v[i].slot);
	if (vm->wild.n != 0)
		match_wild(s, vm, p, n);
	if (vm->need_ip)
		match_ip(s, vm, p, n, 1);
	hit_any(s, vm);
	hit_anything(s, vm, pmap_get(&vm->abs, p, n));
	for (uint32_t i = 0; i < vm->abo.n; i++)
		if (!excluded(s, &vm->abo.v[i], p, n))
			pat_hit(s, vm->abo.v[i].slot);
}

/* Whether x, the value of a number within a relative 2.5e-16 (NAN: not
 * known), is surely outside r: below its lower bound or above its upper
 * one by more than both roundings together.  Most numbers are, and this
 * spares them the exact decimal comparison. */
static inline int
surely_out(const struct prange *r, double x)
{
	if ((r->flags & R_LO) && x < r->dlo && r->dlo - x > 1e-15 * (fabs(x) + fabs(r->dlo)))
		return 1;
	if ((r->flags & R_HI) && x > r->dhi && x - r->dhi > 1e-15 * (fabs(x) + fabs(r->dhi)))
		return 1;
	return 0;
}

static int
in_range(const struct prange *r, const struct pdec *d)
{
	if (r->flags & R_LO) {
		int c = pdec_cmp(d, &r->lo);
		if (c < 0 || (c == 0 && (r->flags & R_LO_OPEN)))
			return 0;
	}
	if (r->flags & R_HI) {
		int c = pdec_cmp(d, &r->hi);
		if (c > 0 || (c == 0 && (r->flags & R_HI_OPEN)))
			return 0;
	}
	return 1;
}

void
pat_leaf_number(struct pat_set *s, struct pvm *vm, const char *p, size_t n)
{
	struct pdec d, key;
	uint32_t abx = PAT_NONE;

	if (s->decided)
		return;
	if (vm->numtext.e.n != 0)
		hit_list(s, pmap_get(&vm->numtext, p, n));
	struct pnum sn;
	int sr = 1;
	if (vm->need_num && (sr = pnum_spans_fast(p, n, s->line_end, &sn)) > 0)
		sr = pnum_spans(p, n, (size_t)(s->line_end - p), &sn);
	if (sr == 0) {
		/* Most numbers equal no pattern number: the Bloom filter says
		 * so before any digit is copied. */
		uint64_t last8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (sn.nf >= 8) {
			memcpy(&last8, sn.fp + sn.nf - 8, 8);
		} else
#endif
		{
#define SPAN_AT(i) ((unsigned char)((size_t)(i) < sn.ni ? sn.ip[i] : sn.fp[(size_t)(i) - sn.ni]))
			PBLOOM_LAST8(last8, sn.nd, SPAN_AT);
#undef SPAN_AT
		}
		uint32_t b = pbloom(sn.exp, sn.nd, sn.neg, last8);
		int have = 0;
		if (vm->numbloom[b / 64] >> (b % 64) & 1) {
			pnum_dec(&sn, &d);
			have = 1;
			/* Equal to a pattern's shortest form means comparable too. */
			hit_list(s, pmap_get(&vm->numeq, &d, sizeof d));
			abx = pmap_get(&vm->abn, &d, sizeof d);
		}
		int comp = -1;	/* not yet known */
		double x = vm->ranges.n > 0 ? pnum_near(&sn, s->line_end) : NAN;
		for (uint32_t i = 0; i < vm->ranges.n; i++) {
			const struct prange *r = &vm->ranges.v[i];
			if (surely_out(r, x))
				continue;
			if (!have) {
				pnum_dec(&sn, &d);
				have = 1;
			}
			if (!in_range(r, &d) || s->patstamp.v[s->subs.v[s->slots.v[r->slot].sub].pat] == s->gen)
				continue;
			if (comp < 0)
				comp = pdec_comparable(p, n, &key);
			if (comp)
				pat_hit(s, r->slot);
		}
	}
	if (vm->need_ip)
		match_ip(s, vm, p, n, 0);
	hit_any(s, vm);
	hit_anything(s, vm, abx);
	for (uint32_t i = 0; i < vm->abo.n; i++)
		pat_hit(s, vm->abo.v[i].slot);
}

void
pat_leaf_literal(struct pat_set *s, struct pvm *vm, int which)
{
	if (s->decided)
		return;
	hit_list(s, vm->lit[which]);
	hit_any(s, vm);
	hit_anything(s, vm, PAT_NONE);
	for (uint32_t i = 0; i < vm->abo.n; i++)
		pat_hit(s, vm->abo.v[i].slot);
}
