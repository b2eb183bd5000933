/* pattern — the compiler: pattern JSON to a tree, $or expanded into
 * sub-patterns (one AND of fields each), fields into a trie of member
 * names whose nodes hold the value matchers.  See pattern.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "pattern_int.h"

struct pat_set *
pat_new(void)
{
	struct pat_set *s = xcalloc(1, sizeof *s);
	struct pnode root;

	memset(&root, 0, sizeof root);
	root.vm = PAT_NONE;
	PPUSH(s->nodes, root);
	pat_scan_init();
	return s;
}

static void
free_vm(struct pvm *vm)
{
	struct pmap *maps[] = { &vm->exact, &vm->numtext, &vm->numeq, &vm->prefix,
	    &vm->suffix, &vm->abs, &vm->abn, &vm->eic, &vm->peic, &vm->seic, &vm->wpre,
	    &vm->wsuf, &vm->wgram, &vm->ipm, &vm->ip4k, &vm->ip6k };
	void *vecs[] = { vm->plen.v, vm->slen.v, vm->ranges.v, vm->rpts.v, vm->rdbl.v,
	    vm->rtree.v, vm->strm.v, vm->pelen.v, vm->selen.v, vm->strm2.v, vm->wild.v,
	    vm->wlen.v, vm->wslen.v, vm->wglen.v, vm->wmid.v, vm->wany.v, vm->wstamp.v,
	    vm->ipb.v, vm->ip4len.v, vm->ip6len.v, vm->any.v, vm->abv.v, vm->abo.v };

	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
		pmap_free(maps[i]);
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		free(vecs[i]);
}

void
pat_free(struct pat_set *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nodes.n; i++)
		pmap_free(&s->nodes.v[i].kids);
	for (uint32_t i = 0; i < s->vms.n; i++)
		free_vm(&s->vms.v[i]);
	for (uint32_t i = 0; i < s->lists.n; i++)
		free(s->lists.v[i].v);
	free(s->nodes.v); free(s->vms.v); free(s->slots.v); free(s->fields.v);
	free(s->subs.v); free(s->lists.v); free(s->strs.v); free(s->abstr.v);
	free(s->always.v); free(s->patstamp.v); free(s->hits.v); free(s->ctxa.v);
	free(s->stk.v); free(s->cand.v); free(s->out.v); free(s->chosen.v); free(s->crank.v);
	free(s->absent.v); free(s->scratch); free(s->fold);
	free(s->aleaf.v); free(s->amask.v);
	free(s);
}

size_t
pat_count(const struct pat_set *s)
{
	return s->npat;
}

void
pat_put_utf8(char **o, unsigned c)
{
	unsigned char *p = (unsigned char *)*o;

	if (c < 0x80) {
		*p++ = (unsigned char)c;
	} else if (c < 0x800) {
		*p++ = (unsigned char)(0xc0 | c >> 6);
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (unsigned char)(0xe0 | c >> 12);
		*p++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (unsigned char)(0xf0 | c >> 18);
		*p++ = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		*p++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	*o = (char *)p;
}

static unsigned
hex4(const char *p)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = (unsigned char)p[i];
		v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

size_t
pat_unescape(const char *p, size_t n, char *out)
{
	const char *end = p + n;
	char *o = out;

	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		char e = p[1];
		p += 2;
		switch (e) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned c = hex4(p);
			p += 4;
			if (c >= 0xd800 && c < 0xdc00 && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && hex4(p + 2) >= 0xdc00 && hex4(p + 2) < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (hex4(p + 2) - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c < 0xe000) {
				c = 0xfffd;
			}
			pat_put_utf8(&o, c);
			break;
		}
		default: *o++ = e; break;	/* " \ / */
		}
	}
	return (size_t)(o - out);
}

/* The pattern's JSON tree, built from text json_validate() accepted. */
struct tree {
	const char *p, *end;
	char *strs;		/* decoded strings; never longer than the text */
	size_t nstr;
	PVEC(struct jnode *) blocks;
	uint32_t left;
};

enum { BLOCK = 256 };

static struct jnode *
new_node(struct tree *t, char type)
{
	if (t->left == 0) {
		struct jnode *b = xcalloc(BLOCK, sizeof *b);
		PPUSH(t->blocks, b);
		t->left = BLOCK;
	}
	struct jnode *j = &t->blocks.v[t->blocks.n - 1][BLOCK - t->left--];
	j->t = type;
	return j;
}

static void
ws(struct tree *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' || *t->p == '\r'))
		t->p++;
}

/* t->p is at the opening quote. */
static const char *
string(struct tree *t, size_t *n)
{
	const char *start = ++t->p;

	while (*t->p != '"')
		t->p += *t->p == '\\' ? 2 : 1;
	char *o = t->strs + t->nstr;
	*n = pat_unescape(start, (size_t)(t->p - start), o);
	t->nstr += *n;
	t->p++;
	return o;
}

static struct jnode *
parse(struct tree *t)
{
	struct jnode *j, **tail;

	ws(t);
	switch (*t->p) {
	case '{':
	case '[':
		j = new_node(t, *t->p++);
		tail = &j->kid;
		for (;;) {
			ws(t);
			if (*t->p == ',') {
				t->p++;
				ws(t);
			}
			if (*t->p == '}' || *t->p == ']')
				break;
			const char *k = NULL;
			size_t kn = 0;
			if (j->t == '{') {
				k = string(t, &kn);
				ws(t);
				t->p++;		/* ':' */
			}
			struct jnode *v = parse(t);
			v->k = k;
			v->kn = kn;
			*tail = v;
			tail = &v->next;
			j->nkid++;
		}
		t->p++;
		return j;
	case '"':
		j = new_node(t, '"');
		j->s = string(t, &j->n);
		return j;
	case 't':
	case 'f':
	case 'n':
		j = new_node(t, *t->p);
		t->p += *t->p == 'f' ? 5 : 4;
		return j;
	default:
		j = new_node(t, '0');
		j->s = t->p;
		while (t->p < t->end && strchr("0123456789+-.eE", *t->p) != NULL && *t->p != '\0')
			t->p++;
		j->n = (size_t)(t->p - j->s);
		return j;
	}
}

struct jnode *
pat_tree(const char *p, size_t n, void **mem)
{
	struct tree *t = xcalloc(1, sizeof *t);

	t->strs = xmalloc(n + 1);
	t->p = p;
	t->end = p + n;
	*mem = t;
	return parse(t);
}

void
pat_tree_free(void *mem)
{
	struct tree *t = mem;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->blocks.n; i++)
		free(t->blocks.v[i]);
	free(t->blocks.v);
	free(t->strs);
	free(t);
}

int
pc_fail(struct pcomp *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->why != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (asprintf(&c->why, "at %s: %s", c->plen ? c->path : ".", msg) < 0)
		die_oom();
	return -1;
}

static void
path_add(struct pcomp *c, const char *s, size_t n)
{
	if (c->plen + n + 4 >= sizeof c->path) {
		memcpy(c->path + sizeof c->path - 4, "...", 4);
		c->plen = sizeof c->path - 1;
		return;
	}
	memcpy(c->path + c->plen, s, n);
	c->plen += n;
	c->path[c->plen] = '\0';
}

size_t
pc_push_key(struct pcomp *c, const char *k, size_t n)
{
	size_t mark = c->plen;
	int plain = n > 0;

	for (size_t i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-$",
		    k[i]) == NULL || k[i] == '\0')
			plain = 0;
	if (plain) {
		path_add(c, ".", 1);
		path_add(c, k, n);
	} else {
		struct buf b = { 0 };
		json_add_string(&b, k, n);
		path_add(c, "[", 1);
		path_add(c, b.p, b.n);
		path_add(c, "]", 1);
		buf_free(&b);
	}
	return mark;
}

size_t
pc_push_index(struct pcomp *c, uint32_t i)
{
	size_t mark = c->plen;
	char num[16];

	path_add(c, num, (size_t)snprintf(num, sizeof num, "[%u]", i));
	return mark;
}

void
pc_pop(struct pcomp *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = '\0';
}
