/* Compiles the value list of one pattern field ("state": [ … ]) into the
 * matchers of its path.  Every check runs first with no path (dry), so a
 * bad pattern is refused before it changes the set.  Messages follow
 * event-ruler's JsonRuleCompiler. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pattern_int.h"

#define IS(v, lit) ((v)->n == sizeof(lit) - 1 && memcmp((v)->s, lit, sizeof(lit) - 1) == 0)
#define KEY(v, lit) ((v)->kn == sizeof(lit) - 1 && memcmp((v)->k, lit, sizeof(lit) - 1) == 0)

static void
add_map(struct pat_set *s, struct pmap *m, const void *k, size_t n, uint32_t slot)
{
	pat_listadd(s, pmap_put(m, k, n), slot);
}

static void
bloom_add(struct pvm *vm, const struct pdec *d)
{
	uint32_t b = pdec_bloom(d);

	vm->numbloom[b / 64] |= 1ULL << (b % 64);
}

/* Key lengths are kept sorted: prefixes and suffixes are hashed in one
 * pass over the value, shortest first. */
static void
add_len(struct plist *lens, uint32_t n)
{
	uint32_t lo = 0, hi = lens->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (lens->v[mid] < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < lens->n && lens->v[lo] == n)
		return;
	PPUSH(*lens, n);
	memmove(lens->v + lo + 1, lens->v + lo, (size_t)(lens->n - 1 - lo) * sizeof *lens->v);
	lens->v[lo] = n;
}

static uint32_t
add_str(struct pat_set *s, const char *p, size_t n)
{
	uint32_t off = s->strs.n;

	for (size_t i = 0; i < n; i++)
		PPUSH(s->strs, p[i]);
	PPUSH(s->strs, '\0');	/* so even "" has an address */
	return off;
}

enum { AFFIX_NO, AFFIX_PRE, AFFIX_SUF };

/* Key k of map m, its length in lens; prefix and suffix maps hash their
 * keys by paffix_hash(). */
static void
add_key(struct pat_set *s, struct pmap *m, struct plist *lens, const char *k, size_t n,
    uint32_t idx, int affix)
{
	uint32_t *l = affix == AFFIX_NO ? pmap_put(m, k, n) :
	    pmap_put_h(m, k, n, paffix_hash(k, n, affix == AFFIX_SUF));

	pat_listadd(s, l, idx);
	add_len(lens, (uint32_t)n);
}

/* Ignore-case matchers are filed under their folded key (whole, prefix
 * or suffix), as exact ones are under their text, unless some character
 * of theirs folds ambiguously: those are tried one by one. */
static void
add_strm(struct pat_set *s, struct pvm *vm, const struct jnode *v, int kind, uint32_t slot)
{
	struct pstrm m = { slot, add_str(s, v->s, v->n), (uint32_t)v->n, (uint8_t)kind };
	char *key = xmalloc(5 * v->n + 1);
	size_t kn = peic_fold(v->s, v->n, key, 1);

	if (kn == (size_t)-1) {
		PPUSH(vm->strm, m);
	} else {
		if (kind == SM_EIC)
			pat_listadd(s, pmap_put(&vm->eic, key, kn), vm->strm2.n);
		else if (kind == SM_PEIC)
			add_key(s, &vm->peic, &vm->pelen, key, kn, vm->strm2.n, AFFIX_PRE);
		else
			add_key(s, &vm->seic, &vm->selen, key, kn, vm->strm2.n, AFFIX_SUF);
		PPUSH(vm->strm2, m);
	}
	free(key);
}


/* Wildcards are filed under a literal run of theirs (pattern_int.h says
 * which), so a value is tried against the few whose run it has, not
 * against all of them. */
static void
add_wild(struct pat_set *s, struct pvm *vm, const struct jnode *v, uint32_t slot)
{
	char *w = xmalloc(v->n + 1);
	size_t wn = pwild_compile(v->s, v->n, w), lit = 0, best = 0, blen = 0;
	struct pstrm m = { slot, add_str(s, w, wn), (uint32_t)wn, SM_WILD };
	uint32_t idx = vm->wild.n;

	PPUSH(vm->wild, m);
	PPUSH(vm->wstamp, 0);
	while (lit < wn && w[lit] != PWILD_STAR)
		lit++;
	for (size_t i = lit, run = 0; i < wn; i++) {	/* the longest run, the last of equals */
		run = w[i] == PWILD_STAR ? 0 : run + 1;
		if (run > 0 && run >= blen) {
			best = i + 1 - run;
			blen = run;
		}
	}
	if (lit > 0) {
		add_key(s, &vm->wpre, &vm->wlen, w, lit, idx, AFFIX_PRE);
	} else if (blen == 0) {
		PPUSH(vm->wany, idx);
	} else if (best + blen == wn) {
		add_key(s, &vm->wsuf, &vm->wslen, w + best, blen, idx, AFFIX_SUF);
	} else {
		add_key(s, &vm->wgram, &vm->wglen, w + best,
		    blen < PWILD_GRAM ? blen : PWILD_GRAM, idx, AFFIX_NO);
		PPUSH(vm->wmid, idx);
	}
	free(w);
}

/* Files an address (bits 32 or 128) or a block once per distinct block,
 * under the hex digits all its addresses share (pattern_int.h): a value
 * then costs one lookup per distinct count of those digits, whatever the
 * number of blocks. */
static void
add_ip(struct pat_set *s, struct pvm *vm, const struct pip *ip, unsigned bits)
{
	unsigned char key[34];
	size_t d = ip->v6 ? 32 : 8, k = 0;

	key[0] = ip->v6;
	key[1] = (unsigned char)bits;
	memcpy(key + 2, ip->lo, 16);
	uint32_t *b = pmap_put(&vm->ipm, key, 18);
	vm->need_ip = 1;
	if (*b == PAT_NONE) {
		struct pip blk = *ip;
		*b = vm->ipb.n;
		blk.slot = PAT_NONE;
		PPUSH(vm->ipb, blk);
		for (; k < d && PIP_NIB(ip->lo, k) == PIP_NIB(ip->hi, k); k++)
			key[k] = (unsigned char)PIP_NIB(ip->lo, k);
		add_key(s, ip->v6 ? &vm->ip6k : &vm->ip4k, ip->v6 ? &vm->ip6len : &vm->ip4len,
		    (const char *)key, k, *b, AFFIX_PRE);
	}
	pat_listadd(s, &vm->ipb.v[*b].slot, ip->slot);
}

/* A string literal; one that reads as an IP address matches that address
 * in any spelling, as event-ruler compiles it to a one-address range. */
static void
add_exact(struct pat_set *s, struct pvm *vm, const struct jnode *v, uint32_t slot, int ipok)
{
	struct pip ip;

	memset(&ip, 0, sizeof ip);
	int kind = ipok ? pip_parse(v->s, v->n, ip.lo) : 0;
	if (kind == 0) {
		add_map(s, &vm->exact, v->s, v->n, slot);
		return;
	}
	memcpy(ip.hi, ip.lo, 16);
	ip.v6 = kind == 6;
	ip.slot = slot;
	add_ip(s, vm, &ip, kind == 4 ? 32 : 128);
}

static int
comparable(struct pcomp *c, const struct jnode *v, struct pdec *key)
{
	if (v->t != '0')
		return pc_fail(c, "value must be numeric");
	if (!pdec_comparable(v->s, v->n, key))
		return pc_fail(c, "cannot compare number %.*s (it has no exact float64 value)",
		    (int)v->n, v->s);
	return 0;
}

/* The prefix length as event-ruler reads it (Java's Integer.parseInt):
 * a sign, then digits; -1 if none, or past 999. */
static long
cidr_bits(const char *p, size_t n)
{
	long bits = 0;
	int neg = n > 0 && *p == '-';

	if (n > 0 && (*p == '+' || *p == '-'))
		p++, n--;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9' || (bits = bits * 10 + (p[i] - '0')) > 999)
			return -1;
	}
	return neg && bits > 0 ? -1 : bits;
}

static int
cidr(struct pcomp *c, const struct jnode *v, struct pvm *vm, uint32_t slot)
{
	struct pip ip;
	size_t len = v->n;

	if (v->t != '"')
		return pc_fail(c, "cidr match pattern must be a string");
	/* Java's split("/"), which drops trailing empty parts: two parts */
	while (len > 0 && v->s[len - 1] == '/')
		len--;
	const char *slash = memchr(v->s, '/', len);
	memset(&ip, 0, sizeof ip);
	int kind = slash != NULL ? pip_parse(v->s, (size_t)(slash - v->s), ip.lo) : 0;
	size_t nb = slash != NULL ? len - (size_t)(slash - v->s) - 1 : 0;
	long lbits = kind != 0 && memchr(slash + 1, '/', nb) == NULL ? cidr_bits(slash + 1, nb) : -1;
	if (lbits < 0)
		return pc_fail(c, "malformed CIDR '%.*s'", (int)v->n, v->s);
	unsigned bits = (unsigned)lbits;
	unsigned width = kind == 4 ? 32 : 128;
	if (bits >= width)
		return pc_fail(c, "CIDR prefix length must be below %u in '%.*s'", width,
		    (int)v->n, v->s);
	if (vm == NULL)
		return 0;
	memcpy(ip.hi, ip.lo, 16);
	for (unsigned b = bits; b < width; b++) {
		ip.lo[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
		ip.hi[b / 8] |= (unsigned char)(0x80u >> (b % 8));
	}
	ip.v6 = kind == 6;
	ip.slot = slot;
	add_ip(c->s, vm, &ip, bits);
	return 0;
}

/* Whether d is the largest double (top 1) or the least. */
static int
at_end(const struct pdec *d, int top)
{
	struct pdec max;

	pdec_parse("1.7976931348623157e308", 22, &max);
	max.neg = (uint8_t)!top;
	return pdec_cmp(d, &max) == 0;
}

static int
range_op(const struct jnode *v, int *lo, int *open)
{
	if (v->t != '"')
		return 0;
	*lo = IS(v, ">") || IS(v, ">=");
	*open = IS(v, ">") || IS(v, "<");
	return *lo || IS(v, "<") || IS(v, "<=");
}

static int
numeric(struct pcomp *c, const struct jnode *v, struct pvm *vm, uint32_t slot)
{
	struct prange r;
	int lo, open, lo2, open2;

	if (v->t != '[')
		return pc_fail(c, "value of numeric must be an array");
	const struct jnode *a = v->kid;
	if (a == NULL || a->t != '"')
		return pc_fail(c, "invalid member in numeric match");
	memset(&r, 0, sizeof r);
	r.slot = slot;
	int eq = IS(a, "=");
	if (!eq && !range_op(a, &lo, &open))
		return pc_fail(c, "unrecognized numeric operator '%.*s'", (int)a->n, a->s);
	if (a->next == NULL)
		return pc_fail(c, "value of %.*s must be numeric", (int)a->n, a->s);
	if (comparable(c, a->next, eq || lo ? &r.lo : &r.hi) < 0)
		return -1;
	const struct jnode *b = a->next->next;
	if (b != NULL && (eq || !lo))
		return pc_fail(c, "too many elements in numeric expression");
	if (b != NULL) {
		if (!range_op(b, &lo2, &open2) || lo2)
			return pc_fail(c, "bad numeric range operator (the upper bound needs < or <=)");
		if (b->next == NULL || comparable(c, b->next, &r.hi) < 0)
			return b->next == NULL ? pc_fail(c, "value of upper bound must be numeric") : -1;
		if (b->next->next != NULL)
			return pc_fail(c, "too many terms in numeric range expression");
		if (pdec_cmp(&r.lo, &r.hi) >= 0)
			return pc_fail(c, "bottom of numeric range must be less than top");
		r.flags |= R_HI | (open2 ? R_HI_OPEN : 0);
	} else if (!eq && at_end(lo ? &r.lo : &r.hi, lo)) {
		/* event-ruler's range then runs from the end of the number line
		 * to itself, and its automaton crashes on it */
		return pc_fail(c, "numeric bound at the end of the number line (%s1.7976931348623157e308)",
		    lo ? "" : "-");
	}
	if (vm == NULL)
		return 0;
	vm->need_num = 1;
	if (eq) {
		add_map(c->s, &vm->numeq, &r.lo, sizeof r.lo, slot);
		bloom_add(vm, &r.lo);
		return 0;
	}
	r.flags |= lo ? R_LO | (open ? R_LO_OPEN : 0) : R_HI | (open ? R_HI_OPEN : 0);
	PPUSH(vm->ranges, r);
	vm->rstale = 1;
	return 0;
}

/* anything-but with a value or a list of values (all strings or all
 * numbers): matches every leaf but those. */
static int
anything_values(struct pcomp *c, const struct jnode *v, struct pvm *vm, uint32_t slot)
{
	const struct jnode *one = v->t == '[' ? v->kid : v;
	int strings = 0, numbers = 0;
	struct pdec key;

	for (const struct jnode *e = one; e != NULL; e = v->t == '[' ? e->next : NULL) {
		if (e->t == '"')
			strings = 1;
		else if (e->t == '0' && comparable(c, e, &key) == 0)
			numbers = 1;
		else if (e->t == '0')
			return -1;
		else
			return pc_fail(c, "anything-but values must be strings or numbers (no null, boolean, object or array)");
	}
	if (strings == numbers)
		return pc_fail(c, strings ? "anything-but list mixes strings and numbers" :
		    "anything-but list must not be empty");
	if (vm == NULL)
		return 0;
	struct pabv ab = { slot, 0 };
	PPUSH(vm->abv, ab);
	for (const struct jnode *e = one; e != NULL; e = v->t == '[' ? e->next : NULL) {
		if (e->t == '"') {
			add_map(c->s, &vm->abs, e->s, e->n, vm->abv.n - 1);
		} else {
			pdec_comparable(e->s, e->n, &key);
			add_map(c->s, &vm->abn, &key, sizeof key, vm->abv.n - 1);
			bloom_add(vm, &key);
			vm->need_num = 1;
		}
	}
	return 0;
}

/* anything-but {prefix|suffix|equals-ignore-case|wildcard: s | [s…]}. */
static int
anything_set(struct pcomp *c, const struct jnode *o, struct pvm *vm, uint32_t slot)
{
	static const char *const ops[] = { "prefix", "suffix", "equals-ignore-case", "wildcard" };
	const struct jnode *k = o->kid;
	int kind = -1;

	if (k == NULL || o->nkid > 1)
		return pc_fail(c, "anything-but object must have exactly one key");
	for (int i = 0; i < 4; i++)
		if (k->kn == strlen(ops[i]) && memcmp(k->k, ops[i], k->kn) == 0)
			kind = i;
	if (kind < 0)
		return pc_fail(c, "unsupported anything-but pattern '%.*s'", (int)k->kn, k->k);
	size_t mark = pc_push_key(c, k->k, k->kn);
	const struct jnode *one = k->t == '[' ? k->kid : k;
	if (one == NULL)	/* event-ruler crashes on it */
		return pc_fail(c, "anything-but %s list must not be empty", ops[kind]);
	for (const struct jnode *e = one; e != NULL; e = k->t == '[' ? e->next : NULL) {
		if (e->t != '"')
			return pc_fail(c, "%s match pattern must be a string", ops[kind]);
		if (kind < 2 && e->n == 0)
			return pc_fail(c, "empty %s is not allowed in anything-but", ops[kind]);
		const char *bad = kind == 3 ? pwild_check(e->s, e->n) : NULL;
		if (bad != NULL)
			return pc_fail(c, "%s", bad);
	}
	pc_pop(c, mark);
	if (vm == NULL)
		return 0;
	struct pab ab = { slot, c->s->abstr.n, 0, (uint8_t)kind };
	for (const struct jnode *e = one; e != NULL; e = k->t == '[' ? e->next : NULL) {
		char *w = xmalloc(e->n + 1);	/* wildcards kept pwild_compile()d */
		size_t wn = kind == 3 ? pwild_compile(e->s, e->n, w) : e->n;
		struct pspan sp = { add_str(c->s, kind == 3 ? w : e->s, wn), (uint32_t)wn };
		free(w);
		PPUSH(c->s->abstr, sp);
		ab.n++;
	}
	PPUSH(vm->abo, ab);
	return 0;
}

static int
string_op(struct pcomp *c, const struct jnode *v, const char *op, struct pvm *vm,
    uint32_t slot, int kind)
{
	if (v->t == '{' && (kind == SM_PEIC || kind == SM_SEIC)) {
		const struct jnode *k = v->kid;
		if (k == NULL || v->nkid > 1 || !KEY(k, "equals-ignore-case"))
			return pc_fail(c, "unsupported %s pattern (only equals-ignore-case)", op);
		size_t mark = pc_push_key(c, k->k, k->kn);
		if (k->t != '"')
			return pc_fail(c, "equals-ignore-case match pattern must be a string");
		pc_pop(c, mark);
		if (vm != NULL)
			add_strm(c->s, vm, k, kind, slot);
		return 0;
	}
	if (v->t != '"')
		return pc_fail(c, "%s match pattern must be a string", op);
	if (kind == SM_WILD && pwild_check(v->s, v->n) != NULL)
		return pc_fail(c, "%s", pwild_check(v->s, v->n));
	if (vm == NULL)
		return 0;
	if (kind == SM_PEIC) {		/* plain prefix */
		add_key(c->s, &vm->prefix, &vm->plen, v->s, v->n, slot, AFFIX_PRE);
	} else if (kind == SM_SEIC) {	/* plain suffix */
		add_key(c->s, &vm->suffix, &vm->slen, v->s, v->n, slot, AFFIX_SUF);
	} else if (kind == SM_WILD) {
		add_wild(c->s, vm, v, slot);
	} else {
		add_strm(c->s, vm, v, kind, slot);
	}
	return 0;
}

/* A match expression: a one-key object inside a value list. */
static int
expr(struct pcomp *c, const struct jnode *o, struct pvm *vm, uint32_t slot)
{
	const struct jnode *k = o->kid;

	if (k == NULL)
		return pc_fail(c, "match expression name not found");
	if (o->nkid > 1)
		return pc_fail(c, "only one key allowed in match expression");
	size_t mark = pc_push_key(c, k->k, k->kn);
	int r;
	if (KEY(k, "exists")) {
		if (k->t != 't' && k->t != 'f')
			return pc_fail(c, "exists match pattern must be either true or false");
		r = k->t == 'f';	/* exists:false: the caller makes a presence slot */
		if (!r && vm != NULL)
			PPUSH(vm->any, slot);
	} else if (KEY(k, "prefix")) {
		r = string_op(c, k, "prefix", vm, slot, SM_PEIC);
	} else if (KEY(k, "suffix")) {
		r = string_op(c, k, "suffix", vm, slot, SM_SEIC);
	} else if (KEY(k, "equals-ignore-case")) {
		r = string_op(c, k, "equals-ignore-case", vm, slot, SM_EIC);
	} else if (KEY(k, "wildcard")) {
		r = string_op(c, k, "wildcard", vm, slot, SM_WILD);
	} else if (KEY(k, "exactly")) {
		if (k->t != '"')
			return pc_fail(c, "exactly match pattern must be a string");
		r = 0;
		if (vm != NULL)
			add_exact(c->s, vm, k, slot, 0);
	} else if (KEY(k, "numeric")) {
		r = numeric(c, k, vm, slot);
	} else if (KEY(k, "cidr")) {
		r = cidr(c, k, vm, slot);
	} else if (KEY(k, "anything-but")) {
		r = k->t == '{' ? anything_set(c, k, vm, slot) : anything_values(c, k, vm, slot);
	} else {
		pc_pop(c, mark);
		return pc_fail(c, "unrecognized match type '%.*s'", (int)k->kn, k->k);
	}
	if (r >= 0)
		pc_pop(c, mark);
	return r;
}

/* One member of a value list: 1 if it is {"exists": false}. */
static int
value(struct pcomp *c, const struct jnode *v, struct pvm *vm, uint32_t slot)
{
	struct pdec key;

	switch (v->t) {
	case '{':
		return expr(c, v, vm, slot);
	case '[':
		return pc_fail(c, "match value must be a string, number, true, false, or null");
	case '"':
		if (vm != NULL)
			add_exact(c->s, vm, v, slot, 1);
		return 0;
	case '0':
		if (vm == NULL)
			return 0;
		/* A number with an exact float64 value matches by value, which
		 * covers its own text too; any other matches its text only. */
		if (pdec_comparable(v->s, v->n, &key)) {
			add_map(c->s, &vm->numeq, &key, sizeof key, slot);
			bloom_add(vm, &key);
			vm->need_num = 1;
		} else {
			add_map(c->s, &vm->numtext, v->s, v->n, slot);
		}
		return 0;
	default:
		if (vm != NULL)
			pat_listadd(c->s, &vm->lit[v->t == 't' ? 0 : v->t == 'f' ? 1 : 2], slot);
		return 0;
	}
}

static uint32_t
new_slot(struct pat_set *s, uint32_t sub, int kind)
{
	struct pslot sl = { sub, (uint8_t)kind, 0, 0, PAT_NONE };

	PPUSH(s->slots, sl);
	return s->slots.n - 1;
}

int
pc_field(struct pcomp *c, const struct jnode *vals, uint32_t vmi, uint32_t sub,
    struct pfield *f)
{
	int absent = 0, other = 0;
	uint32_t i = 0;

	if (vals->nkid == 0)
		return pc_fail(c, "empty arrays are not allowed");
	for (const struct jnode *v = vals->kid; v != NULL; v = v->next, i++) {
		size_t mark = pc_push_index(c, i);
		int r = value(c, v, NULL, PAT_NONE);
		if (r < 0)
			return -1;
		pc_pop(c, mark);
		if (r == 1)
			absent = 1;
		else
			other = 1;
	}
	if (vmi == PAT_NONE)
		return 0;
	f->req = other ? new_slot(c->s, sub, absent ? SLOT_OPT : SLOT_REQ) : PAT_NONE;
	f->pres = absent ? new_slot(c->s, sub, SLOT_PRES) : PAT_NONE;
	struct pvm *vm = &c->s->vms.v[vmi];
	if (absent)
		PPUSH(vm->any, f->pres);
	for (const struct jnode *v = vals->kid; v != NULL && other; v = v->next)
		value(c, v, vm, f->req);
	return 0;
}
