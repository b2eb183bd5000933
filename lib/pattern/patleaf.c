/* Leaf matching: one string, number or literal of the event against the
 * matchers of its path.  Indexed matchers cost a hash lookup whatever the
 * number of patterns: exact values, numbers by value, ignore-case ones by
 * folded key; prefixes, suffixes, wildcards (by a literal run) and IP
 * blocks (by the digits their addresses share) a lookup per key length,
 * all lengths hashed in one pass; numeric ranges a binary search and the
 * ranges that hold the value.  Only anything-but with prefix, suffix,
 * ignore-case or wildcard, wildcards with no literal run, and ignore-case
 * patterns patfold.c cannot key (İ, ẞ) are scanned in a list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
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

/* What to do with a list found under a key: hit its slots, or try the
 * matchers it indexes against the value p[0..n). */
typedef void plist_fn(struct pat_set *s, const struct pvm *vm, uint32_t l, const char *p,
    size_t n);

static void
hit_found(struct pat_set *s, const struct pvm *vm, uint32_t l, const char *p, size_t n)
{
	(void)vm, (void)p, (void)n;
	hit_list(s, l);
}

/* The lists of map m under each prefix (back: suffix) of t[0..tn) whose
 * length is in lens (sorted), all hashed in one pass over t: O(tn) and a
 * lookup per length, however many lengths the patterns have. */
static void
affixes(struct pat_set *s, const struct pvm *vm, const struct pmap *m,
    const struct plist *lens, const char *t, size_t tn, int back, plist_fn *fn,
    const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)t;
	uint64_t h = PAFFIX_SEED;
	size_t done = 0;

	for (uint32_t i = 0; i < lens->n && lens->v[i] <= tn; i++) {
		size_t len = lens->v[i];
		for (; done < len; done++)
			h = PAFFIX_STEP(h, u[back ? tn - 1 - done : done]);
		uint32_t l = pmap_get_h(m, back ? t + tn - len : t, len, PAFFIX_FIN(h));
		if (l != PAT_NONE)
			fn(s, vm, l, p, n);
	}
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
			if (pwild_run(w, sp->len, p, n))
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
	default:
		return peic_suffix(w, m->len, p, n);
	}
}

static plist_fn try_eic;

static void
try_eic(struct pat_set *s, const struct pvm *vm, uint32_t l, const char *p, size_t n)
{
	if (l == PAT_NONE)
		return;
	const struct plist *pl = &s->lists.v[l];
	for (uint32_t i = 0; i < pl->n; i++) {
		const struct pstrm *m = &vm->strm2.v[pl->v[i]];
		if (strm_match(s, m, p, n))
			pat_hit(s, m->slot);
	}
}

/* The indexed ignore-case matchers: the value is folded once, and its
 * key, or its prefix or suffix of each length some pattern has, finds
 * the candidates. */
static void
match_eic(struct pat_set *s, const struct pvm *vm, const char *p, size_t n)
{
	if (s->fcap < 5 * n + 1) {
		free(s->fold);
		s->fcap = 5 * n + 1 > 4096 ? 5 * n + 1 : 4096;
		s->fold = xmalloc(s->fcap);
	}
	size_t fn = peic_fold(p, n, s->fold, 0);
	const char *f = s->fold;
	try_eic(s, vm, pmap_get(&vm->eic, f, fn), p, n);
	affixes(s, vm, &vm->peic, &vm->pelen, f, fn, 0, try_eic, p, n);
	affixes(s, vm, &vm->seic, &vm->selen, f, fn, 1, try_eic, p, n);
}

static void
try_wild(struct pat_set *s, const struct pvm *vm, uint32_t i, const char *p, size_t n)
{
	const struct pstrm *m = &vm->wild.v[i];

	if (pwild_run(s->strs.v + m->off, m->len, p, n))
		pat_hit(s, m->slot);
}

static plist_fn try_wild_list;

/* affixes() passes only lists it found. */
static void
try_wild_list(struct pat_set *s, const struct pvm *vm, uint32_t l, const char *p, size_t n)
{
	const struct plist *pl = &s->lists.v[l];

	for (uint32_t j = 0; j < pl->n; j++)
		try_wild(s, vm, pl->v[j], p, n);
}

/* The wildcards filed under a middle run: a few are tried one by one;
 * more are found by looking the value's bytes up at every place, each
 * tried once (its run may occur many times). */
static void
match_wild_mid(struct pat_set *s, struct pvm *vm, const char *p, size_t n)
{
	if (vm->wmid.n <= 8) {
		for (uint32_t i = 0; i < vm->wmid.n; i++)
			try_wild(s, vm, vm->wmid.v[i], p, n);
		return;
	}
	if (++vm->wgen == 0) {
		for (uint32_t i = 0; i < vm->wstamp.n; i++)
			vm->wstamp.v[i] = 0;
		vm->wgen = 1;
	}
	for (size_t at = 0; at < n; at++) {
		for (uint32_t k = 0; k < vm->wglen.n; k++) {
			uint32_t q = vm->wglen.v[k];
			uint32_t l = q <= n - at ? pmap_get(&vm->wgram, p + at, q) : PAT_NONE;
			if (l == PAT_NONE)
				continue;
			const struct plist *pl = &s->lists.v[l];
			for (uint32_t j = 0; j < pl->n; j++) {
				if (vm->wstamp.v[pl->v[j]] == vm->wgen)
					continue;
				vm->wstamp.v[pl->v[j]] = vm->wgen;
				try_wild(s, vm, pl->v[j], p, n);
			}
		}
	}
}

static void
match_wild(struct pat_set *s, struct pvm *vm, const char *p, size_t n)
{
	for (uint32_t i = 0; i < vm->wany.n; i++)
		try_wild(s, vm, vm->wany.v[i], p, n);
	affixes(s, vm, &vm->wpre, &vm->wlen, p, n, 0, try_wild_list, p, n);
	affixes(s, vm, &vm->wsuf, &vm->wslen, p, n, 1, try_wild_list, p, n);
	if (vm->wmid.n != 0)
		match_wild_mid(s, vm, p, n);
}

static plist_fn try_ip;

/* The blocks filed under the value's first digits (v[0..d), passed as
 * chars), decided by pip_in(). */
static void
try_ip(struct pat_set *s, const struct pvm *vm, uint32_t l, const char *v, size_t d)
{
	const struct plist *pl = &s->lists.v[l];

	for (uint32_t i = 0; i < pl->n; i++) {
		const struct pip *b = &vm->ipb.v[pl->v[i]];
		if (pip_in(b, (const unsigned char *)v, d))
			hit_list(s, b->slot);
	}
}

/* IP literals and cidr, on a string (string 1) or a number.  event-ruler
 * reads a value as an address only on a field with no numeric matcher:
 * with one, no address matches anything there.  Blocks of either version
 * are looked up by the value's digits, as pip_in() reads them: an IPv6
 * address's first 8 against IPv4 blocks, an IPv4 address's 8 or a
 * number's text against IPv6 ones. */
static void
match_ip(struct pat_set *s, const struct pvm *vm, const char *p, size_t n, int string)
{
	unsigned char v[32];
	size_t d;

	if (vm->need_num || (d = pip_digits(p, n, string, v)) == 0)
		return;
	const char *t = (const char *)v;
	if (vm->ip4len.n != 0)
		affixes(s, vm, &vm->ip4k, &vm->ip4len, t, d, 0, try_ip, t, d);
	if (vm->ip6len.n != 0)
		affixes(s, vm, &vm->ip6k, &vm->ip6len, t, d, 0, try_ip, t, d);
}

void
pat_leaf_string(struct pat_set *s, struct pvm *vm, const char *p, size_t n)
{
	if (s->decided)
		return;
	hit_list(s, pmap_get(&vm->exact, p, n));
	if (vm->plen.n != 0)
		affixes(s, vm, &vm->prefix, &vm->plen, p, n, 0, hit_found, p, n);
	if (vm->slen.n != 0)
		affixes(s, vm, &vm->suffix, &vm->slen, p, n, 1, hit_found, p, n);
	for (uint32_t i = 0; i < vm->strm.n; i++)
		if (strm_match(s, &vm->strm.v[i], p, n))
			pat_hit(s, vm->strm.v[i].slot);
	if (vm->strm2.n != 0)
		match_eic(s, vm, p, n);
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

/* The ranges that hold the number: those filed on the path from its leaf
 * to the root.  A match needs the number comparable too, as event-ruler
 * compares doubles; asked once, for the first range not already
 * matched. */
static void
match_ranges(struct pat_set *s, struct pvm *vm, const char *p, size_t n,
    const struct pnum *sn, struct pdec *d, int *have)
{
	struct pdec key;
	int comp = -1;

	if (vm->rstale)
		prange_build(s, vm);
	uint32_t leaves = vm->rtree.n / 2;
	uint32_t node = leaves + prange_leaf(vm, sn, pnum_near(sn, s->line_end), d, have);
	for (; node >= 1; node /= 2) {
		uint32_t l = vm->rtree.v[node];
		if (l == PAT_NONE)
			continue;
		const struct plist *pl = &s->lists.v[l];
		for (uint32_t i = 0; i < pl->n; i++) {
			uint32_t slot = pl->v[i];
			if (s->patstamp.v[s->subs.v[s->slots.v[slot].sub].pat] == s->gen)
				continue;
			if (comp < 0)
				comp = pdec_comparable(p, n, &key);
			if (!comp)
				return;
			pat_hit(s, slot);
		}
	}
}

void
pat_leaf_number(struct pat_set *s, struct pvm *vm, const char *p, size_t n)
{
	struct pdec d;
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
		if (vm->ranges.n > 0)
			match_ranges(s, vm, p, n, &sn, &d, &have);
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
