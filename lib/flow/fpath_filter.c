/* fpath_filter — parsing and evaluating the filters of [?(...)] as Jayway
 * does: a missing operand makes a comparison false, values of different
 * types are never equal nor ordered, numbers compare as numbers and
 * strings as Java's do (UTF-16 code units). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "fchoice_int.h"
#include "fpath_filter.h"

enum { MAX_DEPTH = 32 };

enum fex_op { FEX_OR, FEX_AND, FEX_NOT, FEX_EXISTS, FEX_CMP };
enum fcmp { FX_EQ, FX_NE, FX_LT, FX_LE, FX_GT, FX_GE };

struct fopnd {
	int is_path;
	struct fpq path;
	jv lit;
};

struct fexpr {
	enum fex_op op;
	enum fcmp cmp;
	struct fexpr *l, *r;
	struct fopnd a, b;
};

static int or_expr(struct pp *p, struct fexpr **out);

static struct fexpr *
node(enum fex_op op)
{
	struct fexpr *x = xcalloc(1, sizeof *x);

	x->op = op;
	x->a.lit = jv_invalid();
	x->b.lit = jv_invalid();
	return x;
}

static void
opnd_free(struct fopnd *o)
{
	if (o->is_path)
		fpq_free(&o->path);
	jv_free(o->lit);
}

void
fexpr_free(struct fexpr *x)
{
	if (x == NULL)
		return;
	fexpr_free(x->l);
	fexpr_free(x->r);
	opnd_free(&x->a);
	opnd_free(&x->b);
	free(x);
}

static int
word(struct pp *p, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(p->s + p->i, w, n) != 0 || isalnum((unsigned char)p->s[p->i + n]))
		return 0;
	p->i += n;
	return 1;
}

static int
literal(struct pp *p, jv *v)
{
	const char *s = p->s + p->i;

	if (*s == '\'' || *s == '"') {
		char *t;
		if (fpp_quoted(p, &t) != 0)
			return -1;
		*v = jv_string(t);
		free(t);
	} else if (isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))) {
		char *end;
		double d = strtod(s, &end);
		p->i += (size_t)(end - s);
		*v = jv_number(d);
	} else if (word(p, "true")) {
		*v = jv_true();
	} else if (word(p, "false")) {
		*v = jv_false();
	} else if (word(p, "null")) {
		*v = jv_null();
	} else {
		return fpp_fail(p, "a path or a literal expected");
	}
	return 0;
}

static int
operand(struct pp *p, struct fopnd *o)
{
	fpp_ws(p);
	if (p->s[p->i] == '@' || p->s[p->i] == '$') {
		if (fpp_path(p, &o->path, 1) != 0)
			return -1;
		o->is_path = 1;
		return 0;
	}
	return literal(p, &o->lit);
}

static int
relop(struct pp *p, enum fcmp *c)
{
	static const struct { const char *t; enum fcmp c; } ops[] = {
		{ "==", FX_EQ }, { "!=", FX_NE }, { "<=", FX_LE }, { ">=", FX_GE },
		{ "<", FX_LT }, { ">", FX_GT },
	};

	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		size_t n = strlen(ops[k].t);
		if (strncmp(p->s + p->i, ops[k].t, n) == 0) {
			p->i += n;
			*c = ops[k].c;
			return 1;
		}
	}
	return 0;
}

/* A comparison, an existence test, !x or (x). */
static int
unary(struct pp *p, struct fexpr **out)
{
	fpp_ws(p);
	if (++p->depth > MAX_DEPTH)
		return fpp_fail(p, "a filter nested too deep");
	int rc = 0;
	if (p->s[p->i] == '!' && p->s[p->i + 1] != '=') {
		p->i++;
		*out = node(FEX_NOT);
		rc = unary(p, &(*out)->l);
	} else if (p->s[p->i] == '(') {
		p->i++;
		rc = or_expr(p, out);
		fpp_ws(p);
		if (rc == 0 && p->s[p->i] != ')')
			rc = fpp_fail(p, "')' expected");
		else if (rc == 0)
			p->i++;
	} else {
		*out = node(FEX_EXISTS);
		rc = operand(p, &(*out)->a);
		fpp_ws(p);
		if (rc == 0 && relop(p, &(*out)->cmp)) {
			(*out)->op = FEX_CMP;
			rc = operand(p, &(*out)->b);
		} else if (rc == 0 && !(*out)->a.is_path) {
			rc = fpp_fail(p, "a comparison operator expected");
		}
	}
	p->depth--;
	return rc;
}

static int
binary(struct pp *p, struct fexpr **out, const char *tok, enum fex_op op,
    int (*sub)(struct pp *, struct fexpr **))
{
	*out = NULL;
	if (sub(p, out) != 0)
		return -1;
	for (;;) {
		fpp_ws(p);
		if (strncmp(p->s + p->i, tok, 2) != 0)
			return 0;
		p->i += 2;
		struct fexpr *x = node(op);
		x->l = *out;
		*out = x;
		if (sub(p, &x->r) != 0)
			return -1;
	}
}

static int
and_expr(struct pp *p, struct fexpr **out)
{
	return binary(p, out, "&&", FEX_AND, unary);
}

static int
or_expr(struct pp *p, struct fexpr **out)
{
	return binary(p, out, "||", FEX_OR, and_expr);
}

int
fpp_filter(struct pp *p, struct fexpr **out)
{
	*out = NULL;
	return or_expr(p, out);
}

/* The operand's value: 0 and *v, or 1 when a path selects nothing. */
static int
value(const struct fopnd *o, jv cur, const struct fscope *s, jv *v)
{
	char why[8];

	if (!o->is_path) {
		*v = jv_copy(o->lit);
		return 0;
	}
	jv root = o->path.root == FROOT_CUR ? cur : s->input;
	if (o->path.root == FROOT_CUR || o->path.root == FROOT_INPUT)
		return fpq_eval_at(&o->path, root, s, v, why, sizeof why);
	return fpq_eval(&o->path, s, v, why, sizeof why, NULL);
}

static int
compare(enum fcmp c, jv a, jv b)
{
	jv_kind ka = jv_get_kind(a), kb = jv_get_kind(b);
	int r;

	if (ka != kb && !((ka == JV_KIND_TRUE || ka == JV_KIND_FALSE) &&
	    (kb == JV_KIND_TRUE || kb == JV_KIND_FALSE)))
		return c == FX_NE;
	if (ka == JV_KIND_NUMBER) {
		double x = jv_number_value(a), y = jv_number_value(b);
		r = x < y ? -1 : x > y;
	} else if (ka == JV_KIND_STRING) {
		r = fchoice_strcmp(jv_string_value(a), (size_t)jv_string_length_bytes(jv_copy(a)),
		    jv_string_value(b), (size_t)jv_string_length_bytes(jv_copy(b)));
	} else {
		int eq = jv_equal(jv_copy(a), jv_copy(b));
		return c == FX_EQ ? eq : c == FX_NE ? !eq : 0;
	}
	switch (c) {
	case FX_EQ: return r == 0;
	case FX_NE: return r != 0;
	case FX_LT: return r < 0;
	case FX_LE: return r <= 0;
	case FX_GT: return r > 0;
	case FX_GE: return r >= 0;
	}
	return 0;
}

int
fexpr_eval(const struct fexpr *x, jv cur, const struct fscope *s)
{
	jv a, b;

	switch (x->op) {
	case FEX_OR:
		return fexpr_eval(x->l, cur, s) || fexpr_eval(x->r, cur, s);
	case FEX_AND:
		return fexpr_eval(x->l, cur, s) && fexpr_eval(x->r, cur, s);
	case FEX_NOT:
		return !fexpr_eval(x->l, cur, s);
	case FEX_EXISTS:
		if (value(&x->a, cur, s, &a) != 0)
			return 0;
		jv_free(a);
		return 1;
	case FEX_CMP:
		break;
	}
	if (value(&x->a, cur, s, &a) != 0)
		return 0;
	if (value(&x->b, cur, s, &b) != 0) {
		jv_free(a);
		return 0;
	}
	int r = compare(x->cmp, a, b);
	jv_free(a);
	jv_free(b);
	return r;
}
