/* fchoice_rule — checking a Choice rule at definition time and deciding
 * it for a state's input (fpath.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fchoice_int.h"
#include "fpath_int.h"

enum { MAX_DEPTH = 64 };

static int
ignored(const char *k)
{
	return strcmp(k, "Next") == 0 || strcmp(k, "Comment") == 0 || strcmp(k, "Assign") == 0;
}

static int
logical(const char *k)
{
	return strcmp(k, "And") == 0 || strcmp(k, "Or") == 0 || strcmp(k, "Not") == 0;
}

static size_t
add_step(char *where, size_t n, size_t at, const char *step)
{
	int k = snprintf(where + at, at < n ? n - at : 0, "/%s", step);

	return k < 0 || at + (size_t)k >= n ? (n ? n - 1 : 0) : at + (size_t)k;
}

static const char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A check's reason, in the thread's buffer. */
static const char *
msg(const char *fmt, ...)
{
	size_t n;
	char *m = fpath_msgbuf(&n);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, n, fmt, ap);
	va_end(ap);
	return m;
}

static const char *check_rule(jv r, char *where, size_t n, size_t at, int depth);

static const char *
check_operand(const struct fchoice_op *o, jv v)
{
	jv_kind k = jv_get_kind(v);

	if (o->path || o->type == FT_TIMESTAMP || o->type == FT_STRING) {
		if (k != JV_KIND_STRING)
			return msg("The value for the field '%s' must be a string", o->name);
		const char *s = jv_string_value(v);
		long long sec;
		long ns;
		if (o->path && fpath_check(s, FPATH_PATH) != NULL)
			return msg("The value for the field '%s' must be a valid JSONPath", o->name);
		if (!o->path && o->type == FT_TIMESTAMP && o->cmp != FC_IS &&
		    !fchoice_timestamp(s, &sec, &ns))
			return msg("The value for the field '%s' must be a valid timestamp "
			    "(RFC 3339, as 2016-08-18T17:33:00Z): '%s'", o->name, s);
		return NULL;
	}
	if (o->cmp == FC_IS || o->type == FT_BOOLEAN) {
		if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
			return msg("The value for the field '%s' must be a boolean", o->name);
		return NULL;
	}
	if (k != JV_KIND_NUMBER)
		return msg("The value for the field '%s' must be a number", o->name);
	return NULL;
}

/* A member naming an operator other than IsX: its operand's type; for
 * IsX the operand is a boolean whatever the type tested. */
static const char *
check_op(const struct fchoice_op *o, jv v)
{
	if (o->cmp == FC_IS) {
		jv_kind k = jv_get_kind(v);
		if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
			return msg("The value for the field '%s' must be a boolean", o->name);
		return NULL;
	}
	return check_operand(o, v);
}

static const char *
check_logical(const char *k, jv v, char *where, size_t n, size_t at, int depth)
{
	if (strcmp(k, "Not") == 0) {
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			return "The value for the field 'Not' must be a Choice rule (an object)";
		return check_rule(v, where, n, at, depth + 1);
	}
	if (jv_get_kind(v) != JV_KIND_ARRAY || jv_array_length(jv_copy(v)) == 0)
		return msg("The value for the field '%s' must be a non-empty array of Choice rules",
		    k);
	const char *why = NULL;
	int len = jv_array_length(jv_copy(v));
	for (int i = 0; i < len && why == NULL; i++) {
		char idx[16];
		snprintf(idx, sizeof idx, "%d", i);
		jv r = jv_array_get(jv_copy(v), i);
		size_t end = add_step(where, n, at, idx);
		why = jv_get_kind(r) == JV_KIND_OBJECT ? check_rule(r, where, n, end, depth + 1) :
		    "a Choice rule must be an object";
		jv_free(r);
	}
	return why;
}

/* One member of a rule; *op counts operators, *first names the first. */
static const char *
check_member(const char *k, jv v, char *where, size_t n, size_t at, int depth, int *ops,
    char *first, size_t nfirst)
{
	const struct fchoice_op *o = fchoice_op(k);

	if (strcmp(k, "Variable") == 0) {
		if (jv_get_kind(v) != JV_KIND_STRING || fpath_check(jv_string_value(v), FPATH_PATH))
			return "The value for the field 'Variable' must be a valid JSONPath";
		return NULL;
	}
	if (ignored(k))
		return NULL;
	if (o == NULL && !logical(k))
		return msg("Field '%s' is not supported in a Choice rule", k);
	if ((*ops)++ > 0)
		return msg("A Choice rule has more than one operator: '%s' and '%s'", first, k);
	snprintf(first, nfirst, "%s", k);
	if (o != NULL)
		return check_op(o, v);
	return check_logical(k, v, where, n, at, depth);
}

static const char *
check_rule(jv r, char *where, size_t n, size_t at, int depth)
{
	const char *why = NULL;
	char first[64] = "";
	int ops = 0;

	if (depth > MAX_DEPTH)
		return "Choice rules nested too deep";
	for (int it = jv_object_iter(r); why == NULL && jv_object_iter_valid(r, it);
	    it = jv_object_iter_next(r, it)) {
		jv k = jv_object_iter_key(r, it), v = jv_object_iter_value(r, it);
		size_t end = add_step(where, n, at, jv_string_value(k));
		why = check_member(jv_string_value(k), v, where, n, end, depth, &ops, first,
		    sizeof first);
		jv_free(k);
		jv_free(v);
	}
	if (why != NULL)
		return why;
	if (at < n)
		where[at] = '\0';
	int has_var = jv_object_has(jv_copy(r), jv_string("Variable"));
	if (ops == 0)
		return "A Choice rule must have a comparison operator, And, Or or Not";
	if (logical(first) && has_var)
		return msg("Field 'Variable' is not supported with '%s'", first);
	if (!logical(first) && !has_var)
		return msg("A Choice rule with '%s' must have a Variable", first);
	return NULL;
}

const char *
fchoice_check(jv rule, const char *field, char *where, size_t n)
{
	if (n == 0)
		return NULL;
	snprintf(where, n, "%s", field);
	if (jv_get_kind(rule) != JV_KIND_OBJECT)
		return "a Choice rule must be an object";
	const char *why = check_rule(rule, where, n, strlen(where), 0);
	if (why == NULL)
		snprintf(where, n, "%s", field);
	return why;
}
