/* fpath_set — the public calls of fpath.h for paths: checking a path,
 * reading one with the cause Step Functions gives when it selects
 * nothing, and ResultPath's merge. */
#include <ctype.h>
#include <string.h>

#include "fpath_int.h"

const char *
fpath_check(const char *path, enum fpath_kind kind)
{
	struct fpq q;
	const char *why;

	if (fpq_parse(path, &q, &why) != 0)
		return why;
	int ok = q.reference;
	fpq_free(&q);
	if (kind == FPATH_REFERENCE && !ok)
		return "a reference path has only names and indexes after '$' ($.a, $['a'], $.a[0])";
	return NULL;
}

static int
ends_with_dollar(const char *field)
{
	size_t n = strlen(field);

	return n >= 2 && strcmp(field + n - 2, ".$") == 0;
}

/* A template member ("x.$") says which input missed the path, as AWS's
 * Parameters cause; a field (InputPath ...) says what Jayway said. */
int
fpq_get(const struct fpq *q, const char *path, const struct fscope *s, const char *field,
    jv *out, struct ferr *f)
{
	char msg[1024];
	jv root;

	if (fpq_eval(q, s, out, msg, sizeof msg, &root) == 0)
		return 0;
	if (ends_with_dollar(field)) {
		jv t = fpath_text(root);
		ferr_set(f, "States.Runtime", "The JSONPath '%s' specified for the field '%s' could "
		    "not be found in the input '%s'", path, field, jv_string_value(t));
		jv_free(t);
	} else {
		ferr_set(f, "States.Runtime", "Invalid path '%s' : %s", path, msg);
	}
	jv_free(root);
	return -1;
}

int
fpath_get(const char *path, const struct fscope *s, const char *field, jv *out,
    struct ferr *f)
{
	const char *why;
	const struct fpq *q = fpq_cached(path, &why);

	if (q == NULL)
		return ferr_set(f, "States.Runtime", "Invalid path '%s' : %s", path, why);
	return fpq_get(q, path, s, field, out, f);
}

/* Puts value (consumed) at segment i of q inside cur (consumed). */
static int
put(jv cur, const struct fpq *q, size_t i, jv value, jv *out)
{
	if (i == q->n) {
		jv_free(cur);
		*out = value;
		return 0;
	}
	const struct fseg *g = &q->seg[i];
	jv child, key = jv_invalid(), nv;
	if (g->kind == FSEG_NAME && jv_get_kind(cur) == JV_KIND_OBJECT) {
		key = g->has_key ? jv_copy(g->key) : jv_string(g->names[0]);
		child = jv_object_get(jv_copy(cur), jv_copy(key));
		if (!jv_is_valid(child)) {
			jv_free(child);
			child = jv_object();	/* objects made on the way */
		}
		/* cur lets go of child so that it is changed in place. */
		cur = jv_object_set(cur, jv_copy(key), jv_null());
	} else if (g->kind == FSEG_INDEX && jv_get_kind(cur) == JV_KIND_ARRAY &&
	    g->idx[0] < jv_array_length(jv_copy(cur))) {
		child = jv_array_get(jv_copy(cur), (int)g->idx[0]);
		cur = jv_array_set(cur, (int)g->idx[0], jv_null());
	} else {
		jv_free(cur);
		jv_free(value);
		return -1;
	}
	if (put(child, q, i + 1, value, &nv) != 0) {
		jv_free(cur);
		jv_free(key);
		return -1;
	}
	if (jv_is_valid(key))
		*out = jv_object_set(cur, key, nv);
	else
		*out = jv_array_set(cur, (int)g->idx[0], nv);
	return 0;
}

int
fpath_set(jv input, const char *refpath, jv value, jv *out, struct ferr *f)
{
	const char *why = NULL;
	const struct fpq *q = fpq_cached(refpath, &why);

	if (q != NULL && !q->reference)
		why = "a reference path has only names and indexes after '$' ($.a, $['a'], $.a[0])";
	char c = refpath[0] == '$' ? refpath[1] : '\0';
	if (why == NULL && (c == '$' || c == '_' || isalpha((unsigned char)c)))
		why = "a ResultPath puts the result into the input: it starts with '$.' or '$['";
	if (why != NULL)
		return ferr_set(f, "States.Runtime", "Invalid path '%s' : %s", refpath, why);
	int rc = put(jv_copy(input), q, 0, jv_copy(value), out);
	if (rc == 0)
		return 0;
	jv t = fpath_text(input);
	ferr_set(f, "States.ReferencePathConflict", "Unable to apply ReferencePath %s to input %s",
	    refpath, jv_string_value(t));
	jv_free(t);
	return -1;
}
