/* fpath_parse — ASL JSONPath text to its parsed form (fpath_int.h): the
 * Jayway syntax Step Functions accepts ($, .name, ['name'], [n], [*],
 * [a,b], [i:j], .., [?(filter)]), "$$" for the context object and "$name"
 * for a variable. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "fpath_int.h"
#include "fpath_filter.h"

enum { MAX_ITEMS = 1024 };

char *
fpath_msgbuf(size_t *n)
{
	static _Thread_local char msg[512];

	*n = sizeof msg;
	return msg;
}

int
fpp_fail(struct pp *p, const char *what)
{
	size_t n;
	char *m = fpath_msgbuf(&n);

	if (p->s[p->i] == '\0')
		snprintf(m, n, "%s at the end", what);
	else
		snprintf(m, n, "%s at character %zu", what, p->i + 1);
	p->why = m;
	return -1;
}

void
fpp_ws(struct pp *p)
{
	while (p->s[p->i] == ' ')
		p->i++;
}

/* A quoted name ('a' or "a", backslash escapes the next character) into
 * *out (malloc'd). */
int
fpp_quoted(struct pp *p, char **out)
{
	char q = p->s[p->i++];
	size_t cap = 16, n = 0;
	char *b = xmalloc(cap);

	for (;;) {
		char c = p->s[p->i];
		if (c == '\0') {
			free(b);
			return fpp_fail(p, "an unterminated quoted name");
		}
		p->i++;
		if (c == q)
			break;
		if (c == '\\' && p->s[p->i] != '\0')
			c = p->s[p->i++];
		XGROW(&b, &cap, n + 2);
		b[n++] = c;
	}
	b[n] = '\0';
	*out = b;
	return 0;
}

static int
read_long(struct pp *p, long *v)
{
	const char *start = p->s + p->i;
	char *end;

	if (!(isdigit((unsigned char)*start) || (*start == '-' && isdigit((unsigned char)start[1]))))
		return fpp_fail(p, "a number expected");
	errno = 0;
	*v = strtol(start, &end, 10);
	if (errno != 0)
		return fpp_fail(p, "an index out of range");
	p->i += (size_t)(end - start);
	return 0;
}

static void
add_name(struct fseg *g, char *name)
{
	if ((g->nnames & 7) == 0)
		g->names = xreallocarray(g->names, g->nnames + 8, sizeof *g->names);
	g->names[g->nnames++] = name;
}

static void
add_idx(struct fseg *g, long v)
{
	if ((g->nidx & 7) == 0)
		g->idx = xreallocarray(g->idx, g->nidx + 8, sizeof *g->idx);
	g->idx[g->nidx++] = v;
}

/* ['a'] or ['a','b'], after the '['. */
static int
bracket_names(struct pp *p, struct fseg *g)
{
	for (;;) {
		char *name;
		if (g->nnames >= MAX_ITEMS)
			return fpp_fail(p, "too many names");
		if (fpp_quoted(p, &name) != 0)
			return -1;
		add_name(g, name);
		fpp_ws(p);
		if (p->s[p->i] != ',')
			break;
		p->i++;
		fpp_ws(p);
		if (p->s[p->i] != '\'' && p->s[p->i] != '"')
			return fpp_fail(p, "a quoted name expected");
	}
	g->kind = g->nnames == 1 ? FSEG_NAME : FSEG_NAMES;
	return 0;
}

/* [n], [a,b], [i:j], after the '['. */
static int
bracket_indexes(struct pp *p, struct fseg *g)
{
	long v;

	size_t k = p->i;

	while (p->s[k] == '-' || p->s[k] == ' ' || isdigit((unsigned char)p->s[k]))
		k++;
	if (p->s[k] == ':') {
		g->kind = FSEG_SLICE;
		if (p->s[p->i] != ':') {
			if (read_long(p, &g->from) != 0)
				return -1;
			g->has_from = 1;
			fpp_ws(p);
		}
		if (p->s[p->i] != ':')
			return fpp_fail(p, "':' expected");
		p->i++;
		fpp_ws(p);
		if (p->s[p->i] != ']') {
			if (read_long(p, &g->to) != 0)
				return -1;
			g->has_to = 1;
		}
		return 0;
	}
	for (;;) {
		if (g->nidx >= MAX_ITEMS)
			return fpp_fail(p, "too many indexes");
		if (read_long(p, &v) != 0)
			return -1;
		add_idx(g, v);
		fpp_ws(p);
		if (p->s[p->i] != ',')
			break;
		p->i++;
		fpp_ws(p);
	}
	g->kind = g->nidx == 1 ? FSEG_INDEX : FSEG_INDEXES;
	return 0;
}

static int
bracket(struct pp *p, struct fseg *g)
{
	p->i++;		/* '[' */
	fpp_ws(p);
	char c = p->s[p->i];
	if (c == '*') {
		p->i++;
		g->kind = FSEG_WILD;
	} else if (c == '?') {
		p->i++;
		fpp_ws(p);
		if (p->s[p->i] != '(')
			return fpp_fail(p, "'(' expected after '?'");
		p->i++;
		g->kind = FSEG_FILTER;
		if (fpp_filter(p, &g->filter) != 0)
			return -1;
		fpp_ws(p);
		if (p->s[p->i] != ')')
			return fpp_fail(p, "')' expected");
		p->i++;
	} else if (c == '\'' || c == '"') {
		if (bracket_names(p, g) != 0)
			return -1;
	} else if (bracket_indexes(p, g) != 0) {
		return -1;
	}
	fpp_ws(p);
	if (p->s[p->i] != ']')
		return fpp_fail(p, "']' expected");
	p->i++;
	return 0;
}

static int
name_char(char c, int infilter)
{
	if (c == '\0' || c == '.' || c == '[' || c == '(')
		return 0;
	if (infilter && strchr(" )=!<>&|", c) != NULL)
		return 0;
	return 1;
}

/* .name or .*, after the '.'. */
static int
dot_name(struct pp *p, struct fseg *g, int infilter)
{
	size_t start = p->i;

	if (p->s[p->i] == '*' && !name_char(p->s[p->i + 1], infilter) ) {
		p->i++;
		g->kind = FSEG_WILD;
		return 0;
	}
	while (name_char(p->s[p->i], infilter)) {
		if (strchr(" )]'\"*", p->s[p->i]) != NULL)
			return fpp_fail(p, "a character not allowed in a name");
		p->i++;
	}
	if (p->i == start)
		return fpp_fail(p, "a name expected");
	g->kind = FSEG_NAME;
	add_name(g, xstrndup(p->s + start, p->i - start));
	return 0;
}

static int
segment(struct pp *p, struct fseg *g, int infilter)
{
	if (p->s[p->i] == '[')
		return bracket(p, g);
	p->i++;		/* '.' */
	return dot_name(p, g, infilter);
}

static int
next_segment(struct pp *p, struct fpq *q, int infilter)
{
	if (q->n >= MAX_ITEMS)
		return fpp_fail(p, "a path too long");
	if ((q->n & 7) == 0)
		q->seg = xreallocarray(q->seg, q->n + 8, sizeof *q->seg);
	struct fseg *g = &q->seg[q->n];
	memset(g, 0, sizeof *g);
	q->n++;
	if (p->s[p->i] == '.' && p->s[p->i + 1] == '.') {
		p->i++;		/* the second '.' is the next segment's */
		g->kind = FSEG_SCAN;
		if (p->s[p->i + 1] == '[')
			p->i++;
		else if (!name_char(p->s[p->i + 1], infilter))
			return fpp_fail(p, "a name expected after '..'");
		return 0;
	}
	return segment(p, g, infilter);
}

static int
root(struct pp *p, struct fpq *q)
{
	const char *s = p->s;

	if (s[0] == '@') {
		q->root = FROOT_CUR;
		p->i = 1;
	} else if (s[0] != '$') {
		return fpp_fail(p, "a path must start with '$'");
	} else if (s[1] == '$') {
		q->root = FROOT_CTX;
		p->i = 2;
	} else if (isalpha((unsigned char)s[1]) || s[1] == '_') {
		size_t n = 1;
		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		q->root = FROOT_VAR;
		q->var = xstrndup(s + 1, n - 1);
		p->i = n;
	} else {
		q->root = FROOT_INPUT;
		p->i = 1;
	}
	return 0;
}

static void
classify(struct fpq *q)
{
	q->first_indef = q->n;
	q->reference = 1;
	for (size_t k = q->n; k-- > 0;) {
		struct fseg *g = &q->seg[k];
		if (g->kind != FSEG_NAME && g->kind != FSEG_INDEX && g->kind != FSEG_NAMES)
			q->first_indef = k;
		if (g->kind == FSEG_NAMES || (g->kind != FSEG_NAME && g->kind != FSEG_INDEX) ||
		    (g->kind == FSEG_INDEX && g->idx[0] < 0))
			q->reference = 0;
	}
}

/* A path from p's position: in a filter, it ends where the filter's
 * grammar goes on. */
int
fpp_path(struct pp *p, struct fpq *q, int infilter)
{
	size_t base = p->i;

	memset(q, 0, sizeof *q);
	struct pp sub = { p->s + base, 0, p->depth, NULL };
	if (root(&sub, q) != 0)
		goto bad;
	while (sub.s[sub.i] == '.' || sub.s[sub.i] == '[') {
		if (next_segment(&sub, q, infilter) != 0)
			goto bad;
	}
	for (size_t k = 0; k + 1 < q->n; k++)
		if (q->seg[k].kind == FSEG_NAMES) {
			sub.i = 0;
			fpp_fail(&sub, "Multi properties can only be used as path leafs");
			goto bad;
		}
	classify(q);
	p->i = base + sub.i;
	return 0;
bad:
	p->i = base + sub.i;
	p->why = sub.why;
	fpq_free(q);
	return -1;
}

int
fpq_parse(const char *path, struct fpq *q, const char **why)
{
	struct pp p = { path, 0, 0, NULL };

	if (path[0] == '@') {
		fpp_fail(&p, "a path must start with '$'");
		*why = p.why;
		return -1;
	}
	if (fpp_path(&p, q, 0) != 0) {
		*why = p.why;
		return -1;
	}
	if (path[p.i] != '\0') {
		fpp_fail(&p, path[p.i] == '(' ? "a function call (not supported)" : "an unexpected character");
		*why = p.why;
		fpq_free(q);
		return -1;
	}
	for (size_t k = 0; k < q->n; k++) {	/* keys looked up on every read */
		struct fseg *g = &q->seg[k];
		if (g->kind == FSEG_NAME) {
			g->key = jv_string(g->names[0]);
			g->has_key = 1;
		}
	}
	return 0;
}

void
fpq_free(struct fpq *q)
{
	for (size_t k = 0; k < q->n; k++) {
		struct fseg *g = &q->seg[k];
		for (size_t j = 0; j < g->nnames; j++)
			free(g->names[j]);
		free(g->names);
		free(g->idx);
		fexpr_free(g->filter);
		if (g->has_key)
			jv_free(g->key);
	}
	free(q->seg);
	free(q->var);
	memset(q, 0, sizeof *q);
}
