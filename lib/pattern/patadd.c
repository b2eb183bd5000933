/* pat_add(): checks a pattern whole, expands its $or into sub-patterns
 * (event-ruler's cross product), then adds each sub-pattern's fields to
 * the trie of member names.  Nothing is added unless all of it is valid. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "pattern_int.h"

enum { MAX_COMBOS = 1000 };	/* EventBridge refuses more $or combinations */

struct seg {
	const char *k;
	size_t n;
};

struct cfield {
	uint32_t seg0, nseg;
	const struct jnode *vals;
};

struct combo {
	PVEC(struct cfield) f;
};

typedef PVEC(struct combo) combos_t;

struct walk {
	struct pcomp c;
	PVEC(struct seg) segs;	/* saved paths of fields */
	PVEC(struct seg) cur;	/* the path being walked */
	int legacy;		/* "$or" is a field name like any other */
};

static int
reserved(const struct jnode *m)
{
	/* event-ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP: its matcher
	 * names, EventBridge's and those of its own extensions */
	static const char *const names[] = { "exactly", "equals-ignore-case", "prefix",
	    "suffix", "anything-but", "exists", "wildcard", "numeric", "cidr", "=", "<",
	    "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
	    "date-after", "date-on-or-after", "date-before", "date-on-or-before",
	    "in-date-range", "ip-address-in-range", "ip-address-not-in-range", NULL };

	for (int i = 0; names[i] != NULL; i++)
		if (m->kn == strlen(names[i]) && memcmp(m->k, names[i], m->kn) == 0)
			return 1;
	return 0;
}

static int
is_or(const struct jnode *m)
{
	return m->kn == 3 && memcmp(m->k, "$or", 3) == 0;
}

/* event-ruler's JsonRuleCompiler takes "$or" as an OR wherever it is; its
 * value must be an array of two objects or more. */
static int
check_or(struct walk *w, const struct jnode *m)
{
	if (m->t != '[')
		return pc_fail(&w->c, "$or must be an array of objects");
	uint32_t i = 0;
	for (const struct jnode *b = m->kid; b != NULL; b = b->next, i++)
		if (b->t != '{') {
			size_t mark = pc_push_index(&w->c, i);
			pc_fail(&w->c, "only objects are allowed in an $or array");
			pc_pop(&w->c, mark);
			return -1;
		}
	if (m->nkid < 2)
		return pc_fail(&w->c, "$or needs at least two objects");
	return 0;
}

static void
free_combos(combos_t *cs)
{
	for (uint32_t i = 0; i < cs->n; i++)
		free(cs->v[i].f.v);
	free(cs->v);
	memset(cs, 0, sizeof *cs);
}

static void
copy_combos(combos_t *dst, const combos_t *src)
{
	memset(dst, 0, sizeof *dst);
	for (uint32_t i = 0; i < src->n; i++) {
		struct combo c = { { NULL, 0, 0 } };
		for (uint32_t j = 0; j < src->v[i].f.n; j++)
			PPUSH(c.f, src->v[i].f.v[j]);
		PPUSH(*dst, c);
	}
}

static int
same_path(const struct walk *w, const struct cfield *f)
{
	if (f->nseg != w->cur.n)
		return 0;
	for (uint32_t i = 0; i < f->nseg; i++) {
		const struct seg *a = &w->segs.v[f->seg0 + i], *b = &w->cur.v[i];
		if (a->n != b->n || memcmp(a->k, b->k, a->n) != 0)
			return 0;
	}
	return 1;
}

/* Puts the field at the current path into every combination; a field
 * already there is replaced (a path given twice, as a duplicate key or
 * as "a.b" beside {"a":{"b":…}}: the last one wins, as in event-ruler). */
static void
put_field(struct walk *w, combos_t *cs, const struct jnode *vals)
{
	if (cs->n == 0) {
		struct combo c = { { NULL, 0, 0 } };
		PPUSH(*cs, c);
	}
	uint32_t seg0 = w->segs.n;
	for (uint32_t i = 0; i < w->cur.n; i++)
		PPUSH(w->segs, w->cur.v[i]);
	for (uint32_t i = 0; i < cs->n; i++) {
		struct combo *c = &cs->v[i];
		uint32_t j;
		for (j = 0; j < c->f.n && !same_path(w, &c->f.v[j]); j++)
			;
		struct cfield f = { seg0, w->cur.n, vals };
		if (j < c->f.n)
			c->f.v[j] = f;
		else
			PPUSH(c->f, f);
	}
}

static int walk_object(struct walk *w, const struct jnode *o, combos_t *cs, int in_or);

static int
walk_or(struct walk *w, const struct jnode *m, combos_t *cs)
{
	combos_t all = { NULL, 0, 0 };
	uint32_t i = 0;

	for (const struct jnode *b = m->kid; b != NULL; b = b->next, i++) {
		combos_t one;
		size_t mark = pc_push_index(&w->c, i);
		copy_combos(&one, cs);
		if (walk_object(w, b, &one, 1) < 0) {
			free_combos(&one);
			free_combos(&all);
			return -1;
		}
		pc_pop(&w->c, mark);
		for (uint32_t j = 0; j < one.n; j++)
			PPUSH(all, one.v[j]);
		free(one.v);
		if (all.n > MAX_COMBOS) {
			free_combos(&all);
			return pc_fail(&w->c, "$or expands to more than %d combinations", MAX_COMBOS);
		}
	}
	free_combos(cs);
	*cs = all;
	return 0;
}

/* event-ruler joins member names with '.' into one flat name, so "a.b"
 * is the path a, b: the segments go on the path one by one. */
static void
push_segments(struct walk *w, const char *k, size_t n)
{
	const char *end = k + n;

	for (;;) {
		const char *dot = memchr(k, '.', (size_t)(end - k));
		struct seg sg = { k, dot != NULL ? (size_t)(dot - k) : (size_t)(end - k) };
		PPUSH(w->cur, sg);
		if (dot == NULL)
			return;
		k = dot + 1;
	}
}

static int
walk_member(struct walk *w, const struct jnode *m, combos_t *cs, int in_or)
{
	if (!w->legacy && is_or(m))
		return check_or(w, m) < 0 ? -1 : walk_or(w, m, cs);
	if (in_or && reserved(m))
		return pc_fail(&w->c, "'%.*s' is a matcher name and cannot be a field inside $or",
		    (int)m->kn, m->k);
	if (m->t != '{' && m->t != '[')
		return pc_fail(&w->c, "\"%.*s\" must be an object or an array", (int)m->kn, m->k);
	if (m->t == '[' && pc_field(&w->c, m, PAT_NONE, 0, NULL) < 0)
		return -1;
	/* event-ruler's Path.extendedName() puts no dot after a path that is
	 * one empty name: {"":{"a":[…]}} is the field a */
	uint32_t base = m->t == '[' && w->cur.n == 1 && w->cur.v[0].n == 0 ? 0 : w->cur.n;
	uint32_t saved = w->cur.n;
	w->cur.n = base;
	push_segments(w, m->k, m->kn);
	int r = 0;
	if (m->t == '{')
		r = walk_object(w, m, cs, in_or);
	else
		put_field(w, cs, m);
	w->cur.n = base;
	if (base != saved)
		PPUSH(w->cur, ((struct seg){ "", 0 }));
	return r;
}

static int
walk_object(struct walk *w, const struct jnode *o, combos_t *cs, int in_or)
{
	if (o->nkid == 0)
		return pc_fail(&w->c, "empty objects are not allowed");
	/* Members in order, duplicates too: event-ruler reads the pattern as a
	 * stream, so a duplicate object merges with the first, a duplicate
	 * value list replaces it, and an invalid first one is refused. */
	for (const struct jnode *m = o->kid; m != NULL; m = m->next) {
		size_t mark = pc_push_key(&w->c, m->k, m->kn);
		if (walk_member(w, m, cs, in_or) < 0)
			return -1;
		pc_pop(&w->c, mark);
	}
	return 0;
}

/* The pattern as event-ruler's Machine.addRule() reads it: with
 * JsonRuleCompiler, or where that refuses it, with the old RuleCompiler,
 * to which "$or" is a field name like any other (its README: "backward
 * compatibility").  The first compiler's reason is the one given. */
static int
walk_pattern(struct walk *w, const struct jnode *root, combos_t *cs)
{
	if (walk_object(w, root, cs, 0) == 0)
		return 0;
	char *why = w->c.why;
	w->c.why = NULL;
	pc_pop(&w->c, 0);
	free_combos(cs);
	w->segs.n = w->cur.n = 0;
	w->legacy = 1;
	if (walk_object(w, root, cs, 0) == 0) {
		free(why);
		return 0;
	}
	free(w->c.why);
	w->c.why = why;
	return -1;
}

static uint32_t
trie_node(struct pat_set *s, const struct walk *w, const struct cfield *f)
{
	uint32_t node = 0, parent = PAT_NONE;

	for (uint32_t i = 0; i < f->nseg; i++) {
		const struct seg *sg = &w->segs.v[f->seg0 + i];
		uint32_t *kid = pmap_put(&s->nodes.v[node].kids, sg->k, sg->n);
		if (*kid == PAT_NONE) {
			struct pnode nn;
			memset(&nn, 0, sizeof nn);
			nn.vm = PAT_NONE;
			*kid = s->nodes.n;	/* before the push moves nodes */
			PPUSH(s->nodes, nn);
		}
		if (parent != PAT_NONE)
			s->nodes.v[parent].deep = 1;
		parent = node;
		node = *kid;
	}
	if (s->nodes.v[node].vm == PAT_NONE) {
		struct pvm vm;
		memset(&vm, 0, sizeof vm);
		vm.lit[0] = vm.lit[1] = vm.lit[2] = PAT_NONE;
		PPUSH(s->vms, vm);
		s->nodes.v[node].vm = s->vms.n - 1;
	}
	return s->nodes.v[node].vm;
}

/* Byte j of field f's name as event-ruler spells it (segments joined
 * with dots), or -1 past its end. */
static int
name_at(const struct walk *w, const struct cfield *f, size_t j)
{
	for (uint32_t i = 0; i < f->nseg; i++) {
		const struct seg *sg = &w->segs.v[f->seg0 + i];
		if (j < sg->n)
			return (unsigned char)sg->k[j];
		j -= sg->n;
		if (i + 1 < f->nseg && j-- == 0)
			return '.';
	}
	return -1;
}

/* How many fields of c event-ruler walks before field i: it walks a
 * rule's fields sorted by name. */
static uint32_t
rank(const struct walk *w, const struct combo *c, uint32_t i)
{
	uint32_t r = 0;

	for (uint32_t k = 0; k < c->f.n; k++) {
		int a, b;
		size_t j = 0;
		do {
			a = name_at(w, &c->f.v[k], j);
			b = name_at(w, &c->f.v[i], j++);
		} while (a == b && a >= 0);
		r += a < b;
	}
	return r;
}

static void
build(struct pat_set *s, struct walk *w, const struct combo *c)
{
	struct psub sub;

	memset(&sub, 0, sizeof sub);
	sub.pat = s->npat;
	sub.f0 = s->fields.n;
	sub.nf = c->f.n;
	uint32_t si = s->subs.n;
	for (uint32_t i = 0; i < c->f.n; i++) {
		struct pfield f;
		uint32_t vm = trie_node(s, w, &c->f.v[i]);
		pc_field(&w->c, c->f.v[i].vals, vm, si, &f);
		f.rank = rank(w, c, i);
		PPUSH(s->fields, f);
		if (f.req != PAT_NONE && s->slots.v[f.req].kind == SLOT_REQ)
			sub.nreq++;
		if (f.pres != PAT_NONE)
			sub.has_pres = 1;
	}
	PPUSH(s->subs, sub);
	if (sub.nreq == 0)
		PPUSH(s->always, si);
}

int
pat_add(struct pat_set *s, const char *p, size_t n, char **why)
{
	struct walk w;
	combos_t cs = { NULL, 0, 0 };
	struct json_err e;
	void *mem = NULL;
	int r = -1;

	memset(&w, 0, sizeof w);
	w.c.s = s;
	int kind = json_validate(p, n, 0, &e);
	if (kind == 0 && strcmp(e.what, "trailing characters after the value") == 0) {
		/* event-ruler's parser stops at the end of the pattern's
		 * value and never reads what follows it */
		n = e.col - 1;
		kind = json_validate(p, n, 0, &e);
	}
	if (kind == 0) {
		pc_fail(&w.c, "invalid JSON at column %zu: %s", e.col, e.what);
	} else if (kind != '{') {
		pc_fail(&w.c, "a pattern must be a JSON object");
	} else if (walk_pattern(&w, pat_tree(p, n, &mem), &cs) == 0) {
		for (uint32_t i = 0; i < cs.n; i++)
			build(s, &w, &cs.v[i]);
		uint32_t zero = 0;
		PPUSH(s->patstamp, zero);
		r = (int)s->npat++;
	}
	pat_tree_free(mem);
	free_combos(&cs);
	free(w.segs.v);
	free(w.cur.v);
	*why = w.c.why;
	return r;
}
