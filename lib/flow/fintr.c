/* fintr — ASL's intrinsic functions: a call is parsed into a small tree
 * (here), then run bottom-up on libjq values (fintr_fn.c, one function
 * each).
 *
 * What AWS does, as observed (the developer guide is silent or differs):
 * - every failure of a call at run time is States.Runtime ("Invalid
 *   arguments in States.X"), not States.IntrinsicFailure, which the guide
 *   reserves; so States.ALL does not catch it;
 * - only the syntax and the function names are checked when a machine is
 *   created: a wrong argument count or type fails the execution;
 * - ArrayRange, ArrayPartition, ArrayGetItem and MathRandom truncate a
 *   fractional argument, MathAdd rounds it (Java's Math.round);
 * - Base64Decode skips what is not base64 and stops at the padding;
 *   StringSplit splits on any character of its second argument and
 *   drops empty pieces (Java's StringTokenizer). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "fintr.h"
#include "fintr_int.h"

#define FINTR_ERROR "States.Runtime"
/* "You can nest up to 10 intrinsic functions within a field" */
#define FINTR_MAX_DEPTH 10

int
fintr_is(const char *s)
{
	return strncmp(s, "States.", 7) == 0;
}

struct parser {
	const char *s;
	size_t i;
	char *why;	/* set on the first failure */
	size_t whyn;
};

/* Records why the parse failed, at the current character; returns -1. */
static int
fail(struct parser *ps, const char *what)
{
	if (ps->why[0] == '\0')
		snprintf(ps->why, ps->whyn, "%s (at character %zu)", what, ps->i + 1);
	return -1;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->s[ps->i] == ' ' || ps->s[ps->i] == '\t' || ps->s[ps->i] == '\n' ||
	    ps->s[ps->i] == '\r')
		ps->i++;
}

static int
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_';
}

/* A string literal: the escapes AWS reserves (\' \{ \} \\) and no other. */
static int
parse_string(struct parser *ps, struct fnode *n)
{
	const char *s = ps->s;

	n->kind = FN_STR;
	n->p = s + ++ps->i;
	for (;;) {
		char c = s[ps->i];
		if (c == '\0')
			return fail(ps, "the string literal is not closed");
		if (c == '\'')
			break;
		if (c == '\\') {
			char e = s[ps->i + 1];
			if (e != '\'' && e != '{' && e != '}' && e != '\\')
				return fail(ps, "an open escape backslash in a string literal"
				    " (only \\', \\{, \\} and \\\\ are escapes)");
			ps->i++;
		}
		ps->i++;
	}
	n->n = (size_t)(s + ps->i - n->p);
	ps->i++;
	return 0;
}

/* A path runs to the first ',', ')' or space outside brackets, parentheses
 * and the quotes inside them; what it means is the resolver's business. */
static int
parse_path(struct parser *ps, struct fnode *n)
{
	const char *s = ps->s;
	int brackets = 0, parens = 0;
	char q = 0;

	n->kind = FN_PATH;
	n->p = s + ps->i;
	for (;; ps->i++) {
		char c = s[ps->i];
		if (c == '\0')
			break;
		if (q != 0) {
			if (c == '\\' && s[ps->i + 1] != '\0')
				ps->i++;
			else if (c == q)
				q = 0;
			continue;
		}
		if ((c == '\'' || c == '"') && brackets + parens > 0)
			q = c;
		else if (c == '[')
			brackets++;
		else if (c == '(')
			parens++;
		else if (c == ']' && brackets > 0)
			brackets--;
		else if (c == ')' && parens > 0)
			parens--;
		else if (c == ']' || c == ')' || (brackets + parens == 0 &&
		    (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')))
			break;
	}
	if (q != 0 || brackets + parens != 0)
		return fail(ps, "the path is not closed");
	n->n = (size_t)(s + ps->i - n->p);
	return 0;
}

/* A number as JSON writes it. */
static int
parse_number(struct parser *ps, struct fnode *n)
{
	const char *s = ps->s, *st = s + ps->i;
	size_t i = ps->i;

	if (s[i] == '-')
		i++;
	if (s[i] < '0' || s[i] > '9')
		return fail(ps, "a number has no digits");
	if (s[i] == '0')
		i++;
	else
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	if (s[i] == '.') {
		if (s[++i] < '0' || s[i] > '9')
			return ps->i = i, fail(ps, "a number has no digits after '.'");
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		if (s[++i] == '+' || s[i] == '-')
			i++;
		if (s[i] < '0' || s[i] > '9')
			return ps->i = i, fail(ps, "a number has no exponent digits");
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	n->kind = FN_NUM;
	n->p = st;
	n->n = (size_t)(s + i - st);
	n->num = strtod(st, NULL);
	ps->i = i;
	if (!isfinite(n->num))
		return fail(ps, "a number is out of range");
	return 0;
}

static int parse_call(struct parser *ps, struct fnode *n, int depth);

static int
parse_word(struct parser *ps, struct fnode *n, const char *w, enum fnode_kind k)
{
	size_t len = strlen(w);

	if (strncmp(ps->s + ps->i, w, len) != 0 || is_word(ps->s[ps->i + len]))
		return fail(ps, "an argument is not a string, number, boolean, null, path"
		    " or intrinsic function");
	n->kind = k;
	n->p = ps->s + ps->i;
	n->n = len;
	ps->i += len;
	return 0;
}

static int
parse_arg(struct parser *ps, struct fnode *n, int depth)
{
	char c = ps->s[ps->i];

	if (c == '\'')
		return parse_string(ps, n);
	if (c == '$')
		return parse_path(ps, n);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(ps, n);
	if (c == 't')
		return parse_word(ps, n, "true", FN_TRUE);
	if (c == 'f')
		return parse_word(ps, n, "false", FN_FALSE);
	if (c == 'n')
		return parse_word(ps, n, "null", FN_NULL);
	if (strncmp(ps->s + ps->i, "States.", 7) == 0)
		return parse_call(ps, n, depth + 1);
	return fail(ps, "an argument is not a string, number, boolean, null, path"
	    " or intrinsic function");
}

static int
parse_args(struct parser *ps, struct fnode *n, int depth)
{
	size_t cap = 0;

	skip_ws(ps);
	if (ps->s[ps->i] == ')') {
		ps->i++;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		XGROW(&n->args, &cap, (size_t)n->nargs + 1);
		memset(&n->args[n->nargs], 0, sizeof n->args[0]);
		if (parse_arg(ps, &n->args[n->nargs++], depth) != 0)
			return -1;
		skip_ws(ps);
		char c = ps->s[ps->i];
		if (c == ')') {
			ps->i++;
			return 0;
		}
		if (c != ',')
			return fail(ps, "expected ',' or ')' after an argument");
		ps->i++;
	}
}

static int
parse_call(struct parser *ps, struct fnode *n, int depth)
{
	const char *st = ps->s + ps->i;
	char name[64];
	size_t len = 7;

	if (depth > FINTR_MAX_DEPTH)
		return fail(ps, "more than 10 intrinsic functions are nested");
	while (is_word(st[len]))
		len++;
	snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), st);
	n->kind = FN_CALL;
	n->p = st;
	n->fn = fintr_lookup(name, len);
	if (n->fn < 0) {
		char what[96];
		snprintf(what, sizeof what, "'%s' is not an intrinsic function", name);
		return fail(ps, what);
	}
	ps->i += len;
	if (ps->s[ps->i] != '(')
		return fail(ps, "expected '(' after the function name");
	ps->i++;
	if (parse_args(ps, n, depth) != 0)
		return -1;
	n->n = (size_t)(ps->s + ps->i - st);
	return 0;
}

void
fintr_free(struct fnode *n)
{
	for (int k = 0; k < n->nargs; k++)
		fintr_free(&n->args[k]);
	free(n->args);
	n->args = NULL;
	n->nargs = 0;
}

int
fintr_parse(const char *s, struct fnode *root, char *why, size_t whyn)
{
	struct parser ps = { .s = s, .why = why, .whyn = whyn };

	why[0] = '\0';
	memset(root, 0, sizeof *root);
	if (!fintr_is(s))
		return fail(&ps, "an intrinsic function call starts with 'States.'");
	if (parse_call(&ps, root, 1) != 0)
		return -1;
	skip_ws(&ps);
	if (s[ps.i] != '\0')
		return fail(&ps, "unexpected text after the call");
	return 0;
}

const char *
fintr_check(const char *s)
{
	static _Thread_local char why[256];
	struct fnode root;

	int rc = fintr_parse(s, &root, why, sizeof why);
	fintr_free(&root);
	return rc == 0 ? NULL : why;
}

/* Evaluation: each node to a new jv reference. */

static int
eval_string(const struct fnode *n, jv *out)
{
	char *p = xmalloc(n->n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n->n; i++) {
		if (n->p[i] == '\\' && i + 1 < n->n)
			i++;
		p[k++] = n->p[i];
	}
	*out = jv_string_sized(p, (int)k);
	free(p);
	return 0;
}

static int
eval_node(struct fctx *x, const struct fnode *n, jv *out)
{
	switch (n->kind) {
	case FN_STR:
		return eval_string(n, out);
	case FN_NUM:
		*out = jv_number(n->num);
		return 0;
	case FN_TRUE:
		*out = jv_true();
		return 0;
	case FN_FALSE:
		*out = jv_false();
		return 0;
	case FN_NULL:
		*out = jv_null();
		return 0;
	case FN_PATH: {
		char *path = xstrndup(n->p, n->n);
		int rc = x->get(x->arg, path, out, x->f);
		free(path);
		return rc == 0 ? 0 : -1;
	}
	case FN_CALL:
		break;
	}
	jv *a = xcalloc((size_t)n->nargs + 1, sizeof *a);
	int done = 0, rc = 0;
	while (done < n->nargs && rc == 0) {
		rc = eval_node(x, &n->args[done], &a[done]);
		if (rc == 0)
			done++;
	}
	if (rc == 0)
		rc = fintr_run(x, n, a, n->nargs, out);
	for (int k = 0; k < done; k++)
		jv_free(a[k]);
	free(a);
	return rc;
}

int
fintr_invalid(struct fctx *x, const struct fnode *n)
{
	int len = x->topn > 3000 ? 3000 : (int)x->topn;

	return ferr_set(x->f, FINTR_ERROR, "There was an error while evaluating the intrinsic"
	    " function: %.*s. Invalid arguments in %.*s", len, x->top,
	    (int)strcspn(n->p, "("), n->p);
}

int
fintr_eval(const char *s, fintr_get_fn get, void *arg, jv *out, struct ferr *f)
{
	char why[256];
	struct fnode root;
	struct fctx x = { .top = s, .topn = strlen(s), .get = get, .arg = arg, .f = f };

	if (fintr_parse(s, &root, why, sizeof why) != 0) {
		fintr_free(&root);
		return ferr_set(f, FINTR_ERROR, "The intrinsic function %.*s is not valid: %s",
		    (int)(x.topn > 3000 ? 3000 : x.topn), s, why);
	}
	int rc = eval_node(&x, &root, out);
	fintr_free(&root);
	return rc;
}
