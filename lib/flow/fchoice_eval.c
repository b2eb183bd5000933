/* fchoice_eval — deciding a checked Choice rule for a state's input. */
#include <string.h>

#include "fchoice_int.h"
#include "fpath_int.h"

static int eval_rule(jv r, const struct fscope *s, int *m, struct ferr *f);

/* The value path selects: 0 and *v, 1 when it selects nothing. */
static int
lookup(const char *path, const struct fscope *s, jv *v)
{
	const char *why;
	char buf[8];
	const struct fpq *q = fpq_cached(path, &why);

	if (q == NULL)
		return 1;
	return fpq_eval(q, s, v, buf, sizeof buf, NULL);
}

static int
invalid(const char *path, struct ferr *f)
{
	return ferr_set(f, "States.Runtime", "Invalid path '%s': The choice state's condition "
	    "path references an invalid value.", path);
}

static int
is_type(enum ftype t, jv v)
{
	long long sec;
	long ns;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		return t == FT_STRING ||
		    (t == FT_TIMESTAMP && fchoice_timestamp(jv_string_value(v), &sec, &ns));
	case JV_KIND_NUMBER: return t == FT_NUMBER;
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return t == FT_BOOLEAN;
	case JV_KIND_NULL: return t == FT_IS_NULL;
	default: return 0;
	}
}

/* -1, 0 or 1 as a against b, both of o's type. */
static int
order(const struct fchoice_op *o, jv a, jv b)
{
	long long sa, sb;
	long na, nb;

	switch (o->type) {
	case FT_NUMBER: {
		double x = jv_number_value(a), y = jv_number_value(b);
		return x < y ? -1 : x > y;
	}
	case FT_TIMESTAMP:
		fchoice_timestamp(jv_string_value(a), &sa, &na);
		fchoice_timestamp(jv_string_value(b), &sb, &nb);
		return sa != sb ? (sa < sb ? -1 : 1) : na != nb ? (na < nb ? -1 : 1) : 0;
	case FT_BOOLEAN:
		return jv_get_kind(a) == jv_get_kind(b) ? 0 : 1;
	default: {
		int la = jv_string_length_bytes(jv_copy(a)), lb = jv_string_length_bytes(jv_copy(b));
		return fchoice_strcmp(jv_string_value(a), (size_t)la, jv_string_value(b), (size_t)lb);
	}
	}
}

static int
compare(const struct fchoice_op *o, jv a, jv b)
{
	if (!is_type(o->type, a) || !is_type(o->type, b))
		return 0;	/* the wrong type: simply false */
	if (o->cmp == FC_MATCH)
		return fchoice_match(jv_string_value(a), (size_t)jv_string_length_bytes(jv_copy(a)),
		    jv_string_value(b), (size_t)jv_string_length_bytes(jv_copy(b)));
	int c = order(o, a, b);
	switch (o->cmp) {
	case FC_EQ: return c == 0;
	case FC_LT: return c < 0;
	case FC_GT: return c > 0;
	case FC_LE: return c <= 0;
	case FC_GE: return c >= 0;
	default: return 0;
	}
}

static int
eval_cmp(const struct fchoice_op *o, jv operand, jv r, const struct fscope *s, int *m,
    struct ferr *f)
{
	jv var = jv_object_get(jv_copy(r), jv_string("Variable")), v, b;
	const char *path = jv_is_valid(var) && jv_get_kind(var) == JV_KIND_STRING ?
	    jv_string_value(var) : "";
	int rc = 0;

	if (lookup(path, s, &v) != 0) {
		if (o->type == FT_IS_PRESENT)
			*m = jv_get_kind(operand) == JV_KIND_FALSE;
		else
			rc = invalid(path, f);
		jv_free(var);
		return rc;
	}
	if (o->cmp == FC_IS) {
		int is = o->type == FT_IS_PRESENT ? 1 : is_type(o->type, v);
		*m = is == (jv_get_kind(operand) == JV_KIND_TRUE);
	} else if (o->path) {
		const char *p = jv_get_kind(operand) == JV_KIND_STRING ? jv_string_value(operand) : "";
		if (lookup(p, s, &b) != 0) {
			rc = invalid(p, f);
		} else {
			*m = compare(o, v, b);
			jv_free(b);
		}
	} else {
		*m = compare(o, v, operand);
	}
	jv_free(v);
	jv_free(var);
	return rc;
}

static int
eval_logical(const char *k, jv v, const struct fscope *s, int *m, struct ferr *f)
{
	if (k[0] == 'N') {
		if (eval_rule(v, s, m, f) != 0)
			return -1;
		*m = !*m;
		return 0;
	}
	int all = k[0] == 'A';
	int len = jv_array_length(jv_copy(v));
	*m = all;
	for (int i = 0; i < len; i++) {
		jv r = jv_array_get(jv_copy(v), i);
		int one = 0, rc = eval_rule(r, s, &one, f);
		jv_free(r);
		if (rc != 0)
			return -1;
		if (one != all) {
			*m = one;
			return 0;
		}
	}
	return 0;
}

static int
eval_rule(jv r, const struct fscope *s, int *m, struct ferr *f)
{
	int rc = 1;

	*m = 0;
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return ferr_set(f, "States.Runtime", "a Choice rule is not an object");
	for (int it = jv_object_iter(r); rc == 1 && jv_object_iter_valid(r, it);
	    it = jv_object_iter_next(r, it)) {
		jv k = jv_object_iter_key(r, it), v = jv_object_iter_value(r, it);
		const char *key = jv_string_value(k);
		const struct fchoice_op *o = fchoice_op(key);
		if (o != NULL)
			rc = eval_cmp(o, v, r, s, m, f);
		else if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0 || strcmp(key, "Not") == 0)
			rc = eval_logical(key, v, s, m, f);
		jv_free(k);
		jv_free(v);
	}
	if (rc == 1)
		return ferr_set(f, "States.Runtime", "a Choice rule has no operator");
	return rc;
}

int
fchoice_eval(jv rule, const struct fscope *s, int *match, struct ferr *f)
{
	int m = 0;

	if (eval_rule(rule, s, &m, f) != 0)
		return -1;
	*match = m;
	return 0;
}
