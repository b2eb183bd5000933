/* pat_add(): checks a pattern whole, expands its $or into sub-patterns
 * (event-ruler's cross product), then adds each sub-pattern's fields to
 * the trie of member names.  Nothing is added unless all of it is valid. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"
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

/* event-ruler reads "$or" as an OR only when its value is an array of
 * objects that use no matcher names as fields; otherwise "$or" is just a
 * field name (its README, "backward compatibility").  -1: an OR of one. */
static int
is_or(const struct jnode *m)
{
	if (m->kn != 3 || memcmp(m->k, "$or", 3) != 0 || m->t != '[' || m->nkid == 0)
		return 0;
	for (const struct jnode *b = m->kid; b != NULL; b = b->next) {
		if (b->t != '{')
			return 0;
		for (const struct jnode *k = b->kid; k != NULL; k = k->next)
			if (reserved(k))
				return 0;
	}
	return m->nkid >= 2 ? 1 : -1;
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
 * already there is replaced (duplicate paths: the last one wins). */
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

static int
walk_member(struct walk *w, const struct jnode *m, combos_t *cs, int in_or)
{
	int orr = is_or(m);

	if (orr < 0)
		return pc_fail(&w->c, "$or needs at least two objects");
	if (orr > 0)
		return walk_or(w, m, cs);
	if (in_or && reserved(m))
		return pc_fail(&w->c, "'%.*s' is a matcher name and cannot be a field inside $or",
		    (int)m->kn, m->k);
	if (m->t != '{' && m->t != '[')
		return pc_fail(&w->c, "\"%.*s\" must be an object or an array", (int)m->kn, m->k);
	if (m->t == '[' && pc_field(&w->c, m, PAT_NONE, 0, NULL) < 0)
		return -1;
	struct seg sg = { m->k, m->kn };
	PPUSH(w->cur, sg);
	int r = 0;
	if (m->t == '{')
		r = walk_object(w, m, cs, in_or);
	else
		put_field(w, cs, m);
	w->cur.n--;
	return r;
}

static int
walk_object(struct walk *w, const struct jnode *o, combos_t *cs, int in_or)
{
	if (o->nkid == 0)
		return pc_fail(&w->c, "empty objects are not allowed");
	for (const struct jnode *m = o->kid; m != NULL; m = m->next) {
		const struct jnode *later;
		for (later = m->next; later != NULL; later = later->next)
			if (later->kn == m->kn && memcmp(later->k, m->k, m->kn) == 0)
				break;
		if (later != NULL)
			continue;	/* duplicate key: the last one wins */
		size_t mark = pc_push_key(&w->c, m->k, m->kn);
		if (walk_member(w, m, cs, in_or) < 0)
			return -1;
		pc_pop(&w->c, mark);
	}
	return 0;
}

static uint32_t
trie_node(struct pat_set *s, const struct walk *w, const struct cfield *f)
{
	uint32_t node = 0;

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
	if (kind == 0) {
		pc_fail(&w.c, "invalid JSON at column %zu: %s", e.col, e.what);
	} else if (kind != '{') {
		pc_fail(&w.c, "a pattern must be a JSON object");
	} else if (walk_object(&w, pat_tree(p, n, &mem), &cs, 0) == 0) {
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
