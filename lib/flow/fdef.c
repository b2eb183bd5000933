/* fdef — a state machine's definition loaded into struct fdef and
 * checked as ValidateStateMachineDefinition checks it: the first problem
 * is reported as "CODE: what at /json/path". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "fintr.h"
#include "flow_int.h"

const char fdef_null[] = "null";

/* A JSON path into the definition; a longer one is cut (it is a message). */
static void __attribute__((format(printf, 3, 4)))
loc(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

struct ld {
	char *why;
	size_t n;
	const struct fres *r;
	int failed;
};

/* Records the first problem; returns -1. */
static int __attribute__((format(printf, 3, 4)))
bad(struct ld *l, const char *at, const char *fmt, ...)
{
	va_list ap;
	char what[512];

	if (l->failed++)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(l->why, l->n, "%s at %s", what, *at != '\0' ? at : "/");
	return -1;
}

static int
has(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	int ok = jv_is_valid(v);
	jv_free(v);
	return ok;
}

/* The member k of o (borrowed: o keeps it alive), or jv_invalid(). */
static jv
get(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));

	jv_free(v);	/* o still holds it */
	return v;
}

/* Every member of o is one of allowed (a NULL-ended list). */
static int
fields_known(struct ld *l, jv o, const char *const *allowed, const char *at)
{
	int ok = 0;

	jv_object_foreach(o, k, v) {
		const char *name = jv_string_value(k);
		int i;
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], name) != 0; i++)
			;
		if (allowed[i] == NULL && ok == 0)
			ok = bad(l, at, "SCHEMA_VALIDATION_FAILED: Field '%s' is not supported", name);
		jv_free(k);
		jv_free(v);
	}
	return ok;
}

static int
required(struct ld *l, jv o, const char *k, const char *at)
{
	return has(o, k) ? 0 :
	    bad(l, at, "SCHEMA_VALIDATION_FAILED: These fields are required: [%s]", k);
}

/* A string member (NULL when absent), or a schema error. */
static int
str_field(struct ld *l, jv o, const char *k, const char *at, const char **out)
{
	jv v = get(o, k);

	*out = NULL;
	if (!jv_is_valid(v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_STRING)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field '%s' must be a string", k);
	*out = jv_string_value(v);
	return 0;
}

/* A path member: NULL absent, fdef_null for JSON null, else checked. */
static int
path_field(struct ld *l, jv o, const char *k, enum fpath_kind kind, int nullable,
    const char *at, const char **out)
{
	jv v = get(o, k);
	const char *why;

	*out = NULL;
	if (!jv_is_valid(v))
		return 0;
	if (nullable && jv_get_kind(v) == JV_KIND_NULL) {
		*out = fdef_null;
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_STRING)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field '%s' must be a string%s", k,
		    nullable ? " or null" : "");
	*out = jv_string_value(v);
	if ((why = fpath_check(*out, kind)) != NULL)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: The value for the field '%s' must be "
		    "a valid %sJSONPath: %s", k, kind == FPATH_REFERENCE ? "Reference " : "", why);
	return 0;
}

/* A number member in [min, max] (integral if integer); dflt when absent. */
static int
num_field(struct ld *l, jv o, const char *k, double min, double max, int integer,
    const char *at, double dflt, double *out)
{
	jv v = get(o, k);

	*out = dflt;
	if (!jv_is_valid(v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field '%s' must be a number", k);
	double d = jv_number_value(v);
	if (integer && d != floor(d))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field '%s' must be an integer", k);
	if (d < min || d > max)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field '%s' must be between %g and %g",
		    k, min, max);
	*out = d;
	return 0;
}

static int
tmpl_field(struct ld *l, jv o, const char *k, const char *at, jv *out)
{
	char where[512], field[512];
	const char *why;

	*out = get(o, k);
	if (!jv_is_valid(*out))
		return 0;
	loc(field, sizeof field, "%s/%s", at, k);
	if ((why = ftmpl_check(*out, field, where, sizeof where)) != NULL)
		return bad(l, where[0] != '\0' ? where : field, "SCHEMA_VALIDATION_FAILED: %s", why);
	return 0;
}

static int load_machine(struct ld *l, jv m, struct fmachine *out, const char *at,
    int top);

/* QueryLanguage: JSONPath only, for now. */
static int
query_language(struct ld *l, jv o, const char *at)
{
	const char *q;
	char field[512];

	loc(field, sizeof field, "%s/QueryLanguage", at);
	if (str_field(l, o, "QueryLanguage", at, &q) != 0)
		return -1;
	if (q == NULL || strcmp(q, "JSONPath") == 0)
		return 0;
	if (strcmp(q, "JSONata") == 0)
		return bad(l, field, "UNSUPPORTED_FEATURE: JSONata is not supported yet");
	return bad(l, field, "SCHEMA_VALIDATION_FAILED: Value is not a valid query language: %s", q);
}

static int
state_index(const struct fmachine *m, jv names, const char *name)
{
	(void)m;
	for (int i = 0; i < jv_array_length(jv_copy(names)); i++) {
		jv n = jv_array_get(jv_copy(names), i);
		int eq = strcmp(jv_string_value(n), name) == 0;
		jv_free(n);
		if (eq)
			return i;
	}
	return -1;
}

/* A Next (or Default) field naming a state of m. */
static int
target(struct ld *l, jv o, const char *k, const struct fmachine *m, jv names,
    const char *at, int *out)
{
	const char *name;
	char field[512];

	*out = -1;
	if (str_field(l, o, k, at, &name) != 0 || name == NULL)
		return l->failed ? -1 : 0;
	loc(field, sizeof field, "%s/%s", at, k);
	if ((*out = state_index(m, names, name)) < 0)
		return bad(l, field, "MISSING_TRANSITION_TARGET: Missing '%s' target: %s", k, name);
	return 0;
}

static int
error_list(struct ld *l, jv o, const char *at, int last, jv *out)
{
	char field[512];

	loc(field, sizeof field, "%s/ErrorEquals", at);
	if (required(l, o, "ErrorEquals", at) != 0)
		return -1;
	*out = get(o, "ErrorEquals");
	int n = jv_get_kind(*out) == JV_KIND_ARRAY ? jv_array_length(jv_copy(*out)) : 0;
	if (n == 0)
		return bad(l, field, "SCHEMA_VALIDATION_FAILED: ErrorEquals must be a non-empty "
		    "array of strings");
	for (int i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(*out), i);
		int str = jv_get_kind(e) == JV_KIND_STRING;
		int all = str && strcmp(jv_string_value(e), "States.ALL") == 0;
		jv_free(e);
		if (!str)
			return bad(l, field, "SCHEMA_VALIDATION_FAILED: ErrorEquals must be a "
			    "non-empty array of strings");
		if (all && (n > 1 || !last))
			return bad(l, field, "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone "
			    "in the last ErrorEquals of its list");
	}
	return 0;
}

static int
load_retry(struct ld *l, jv st, struct fstate *s, const char *at)
{
	static const char *const known[] = { "ErrorEquals", "IntervalSeconds", "MaxAttempts",
	    "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment", NULL };
	jv a = get(st, "Retry");
	char where[512];

	if (!jv_is_valid(a))
		return 0;
	if (jv_get_kind(a) != JV_KIND_ARRAY)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field 'Retry' must be an array");
	s->nretry = jv_array_length(jv_copy(a));
	s->retry = xcalloc((size_t)s->nretry + 1, sizeof *s->retry);
	for (int i = 0; i < s->nretry; i++) {
		struct fretrier *t = &s->retry[i];
		jv r = jv_array_get(jv_copy(a), i);
		const char *jit = NULL;
		double max;
		jv_free(r);
		loc(where, sizeof where, "%s/Retry/%d", at, i);
		if (jv_get_kind(r) != JV_KIND_OBJECT)
			return bad(l, where, "SCHEMA_VALIDATION_FAILED: A retrier must be an object");
		if (fields_known(l, r, known, where) != 0 ||
		    error_list(l, r, where, i == s->nretry - 1, &t->errors) != 0 ||
		    num_field(l, r, "IntervalSeconds", 1, 99999999, 1, where, 1, &t->interval) != 0 ||
		    num_field(l, r, "MaxAttempts", 0, 99999999, 1, where, 3, &max) != 0 ||
		    num_field(l, r, "BackoffRate", 1, 1e9, 0, where, 2.0, &t->backoff) != 0 ||
		    num_field(l, r, "MaxDelaySeconds", 1, 31622400, 1, where, 0, &t->max_delay) != 0 ||
		    str_field(l, r, "JitterStrategy", where, &jit) != 0)
			return -1;
		t->max_attempts = (int)max;
		if (jit != NULL && strcmp(jit, "FULL") != 0 && strcmp(jit, "NONE") != 0)
			return bad(l, where, "SCHEMA_VALIDATION_FAILED: JitterStrategy must be FULL "
			    "or NONE");
		t->jitter_full = jit != NULL && strcmp(jit, "FULL") == 0;
	}
	return 0;
}

static int
load_catch(struct ld *l, jv st, struct fstate *s, const struct fmachine *m, jv names,
    const char *at)
{
	static const char *const known[] = { "ErrorEquals", "Next", "ResultPath", "Assign",
	    "Comment", NULL };
	jv a = get(st, "Catch");
	char where[512];

	if (!jv_is_valid(a))
		return 0;
	if (jv_get_kind(a) != JV_KIND_ARRAY)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field 'Catch' must be an array");
	s->ncatch = jv_array_length(jv_copy(a));
	s->catch = xcalloc((size_t)s->ncatch + 1, sizeof *s->catch);
	for (int i = 0; i < s->ncatch; i++) {
		struct fcatcher *c = &s->catch[i];
		jv r = jv_array_get(jv_copy(a), i);
		jv_free(r);
		loc(where, sizeof where, "%s/Catch/%d", at, i);
		if (jv_get_kind(r) != JV_KIND_OBJECT)
			return bad(l, where, "SCHEMA_VALIDATION_FAILED: A catcher must be an object");
		if (fields_known(l, r, known, where) != 0 ||
		    error_list(l, r, where, i == s->ncatch - 1, &c->errors) != 0 ||
		    required(l, r, "Next", where) != 0 ||
		    target(l, r, "Next", m, names, where, &c->next) != 0 ||
		    path_field(l, r, "ResultPath", FPATH_REFERENCE, 1, where, &c->result_path) != 0 ||
		    tmpl_field(l, r, "Assign", where, &c->assign) != 0)
			return -1;
	}
	return 0;
}

static int
load_choices(struct ld *l, jv st, struct fstate *s, const struct fmachine *m, jv names,
    const char *at)
{
	jv a = get(st, "Choices");
	char where[512], w2[512];
	const char *why;

	if (jv_get_kind(a) != JV_KIND_ARRAY || jv_array_length(jv_copy(a)) == 0)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field 'Choices' must be a non-empty "
		    "array");
	s->nchoices = jv_array_length(jv_copy(a));
	s->choices = xcalloc((size_t)s->nchoices, sizeof *s->choices);
	for (int i = 0; i < s->nchoices; i++) {
		struct fbranch *b = &s->choices[i];
		jv r = jv_array_get(jv_copy(a), i);
		jv_free(r);
		loc(where, sizeof where, "%s/Choices/%d", at, i);
		if (jv_get_kind(r) != JV_KIND_OBJECT)
			return bad(l, where, "SCHEMA_VALIDATION_FAILED: A choice rule must be an "
			    "object");
		if (required(l, r, "Next", where) != 0 ||
		    target(l, r, "Next", m, names, where, &b->next) != 0 ||
		    tmpl_field(l, r, "Assign", where, &b->assign) != 0)
			return -1;
		b->rule = jv_object_delete(jv_object_delete(jv_copy(r), jv_string("Next")),
		    jv_string("Assign"));
		w2[0] = '\0';
		if ((why = fchoice_check(b->rule, where, w2, sizeof w2)) != NULL)
			return bad(l, w2[0] != '\0' ? w2 : where, "SCHEMA_VALIDATION_FAILED: %s", why);
	}
	return target(l, st, "Default", m, names, at, &s->deflt);
}

static int
load_branches(struct ld *l, jv st, struct fstate *s, const char *at)
{
	jv a = get(st, "Branches");
	char where[512];

	if (jv_get_kind(a) != JV_KIND_ARRAY || jv_array_length(jv_copy(a)) == 0)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field 'Branches' must be a non-empty "
		    "array");
	s->nbranches = jv_array_length(jv_copy(a));
	s->branches = xcalloc((size_t)s->nbranches, sizeof *s->branches);
	for (int i = 0; i < s->nbranches; i++) {
		jv b = jv_array_get(jv_copy(a), i);
		jv_free(b);
		loc(where, sizeof where, "%s/Branches/%d", at, i);
		if (load_machine(l, b, &s->branches[i], where, 0) != 0)
			return -1;
	}
	return 0;
}

static int
load_map(struct ld *l, jv st, struct fstate *s, const char *at)
{
	char where[512];
	const char *k = has(st, "ItemProcessor") ? "ItemProcessor" : "Iterator";
	jv p = get(st, k), cfg;
	const char *mode = NULL;
	double mc;

	if (has(st, "ItemProcessor") && has(st, "Iterator"))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: ItemProcessor and Iterator exclude "
		    "each other");
	if (required(l, st, k, at) != 0)
		return -1;
	loc(where, sizeof where, "%s/%s", at, k);
	cfg = jv_get_kind(p) == JV_KIND_OBJECT ? get(p, "ProcessorConfig") : jv_invalid();
	if (jv_get_kind(cfg) == JV_KIND_OBJECT && str_field(l, cfg, "Mode", where, &mode) != 0)
		return -1;
	if (mode != NULL && strcmp(mode, "INLINE") != 0)
		return bad(l, where, "UNSUPPORTED_FEATURE: Map's %s mode is not supported yet",
		    mode);
	s->iter = xcalloc(1, sizeof *s->iter);
	if (load_machine(l, p, s->iter, where, 2) != 0 ||
	    path_field(l, st, "ItemsPath", FPATH_REFERENCE, 0, at, &s->items_path) != 0 ||
	    num_field(l, st, "MaxConcurrency", 0, 1e9, 1, at, 0, &mc) != 0 ||
	    path_field(l, st, "MaxConcurrencyPath", FPATH_REFERENCE, 0, at, &s->max_conc_path) != 0 ||
	    num_field(l, st, "ToleratedFailureCount", 0, 1e9, 1, at, -1, &s->tol_count) != 0 ||
	    num_field(l, st, "ToleratedFailurePercentage", 0, 100, 0, at, -1, &s->tol_pct) != 0 ||
	    path_field(l, st, "ToleratedFailureCountPath", FPATH_REFERENCE, 0, at,
	    &s->tol_count_path) != 0 ||
	    path_field(l, st, "ToleratedFailurePercentagePath", FPATH_REFERENCE, 0, at,
	    &s->tol_pct_path) != 0)
		return -1;
	s->max_conc = (int)mc;
	if (has(st, "ItemSelector") && has(st, "Parameters"))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: ItemSelector and Parameters exclude "
		    "each other");
	return tmpl_field(l, st, has(st, "ItemSelector") ? "ItemSelector" : "Parameters", at,
	    &s->item_selector);
}

static int
load_wait(struct ld *l, jv st, struct fstate *s, const char *at)
{
	int n = has(st, "Seconds") + has(st, "Timestamp") + has(st, "SecondsPath") +
	    has(st, "TimestampPath");
	int64_t ms;

	if (n != 1)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: A Wait state needs exactly one of "
		    "Seconds, Timestamp, SecondsPath, TimestampPath");
	if (num_field(l, st, "Seconds", 0, 99999999, 1, at, -1, &s->seconds) != 0 ||
	    str_field(l, st, "Timestamp", at, &s->timestamp) != 0 ||
	    path_field(l, st, "SecondsPath", FPATH_REFERENCE, 0, at, &s->seconds_path) != 0 ||
	    path_field(l, st, "TimestampPath", FPATH_REFERENCE, 0, at, &s->timestamp_path) != 0)
		return -1;
	if (s->timestamp != NULL && clock_parse_rfc3339(s->timestamp, &ms) != 0)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Timestamp is not an RFC 3339 "
		    "timestamp: %s", s->timestamp);
	return 0;
}

static int
load_fail(struct ld *l, jv st, struct fstate *s, const char *at)
{
	if (has(st, "Error") && has(st, "ErrorPath"))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Error and ErrorPath exclude each other");
	if (has(st, "Cause") && has(st, "CausePath"))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Cause and CausePath exclude each other");
	if (str_field(l, st, "Error", at, &s->error) != 0 ||
	    str_field(l, st, "Cause", at, &s->cause) != 0)
		return -1;
	const char *p[2] = { NULL, NULL };
	const char *k[2] = { "ErrorPath", "CausePath" };
	for (int i = 0; i < 2; i++) {
		if (str_field(l, st, k[i], at, &p[i]) != 0)
			return -1;
		if (p[i] != NULL && !fintr_is(p[i]) && fpath_check(p[i], FPATH_PATH) != NULL)
			return bad(l, at, "SCHEMA_VALIDATION_FAILED: The value for the field '%s' "
			    "must be a valid JSONPath or intrinsic function", k[i]);
		if (p[i] != NULL && fintr_is(p[i]) && fintr_check(p[i]) != NULL)
			return bad(l, at, "SCHEMA_VALIDATION_FAILED: %s", fintr_check(p[i]));
	}
	s->error_path = p[0];
	s->cause_path = p[1];
	return 0;
}

static int
load_task(struct ld *l, jv st, struct fstate *s, const char *at)
{
	const char *why;
	double hb;

	if (required(l, st, "Resource", at) != 0 || str_field(l, st, "Resource", at,
	    &s->resource) != 0)
		return -1;
	if (l->r != NULL && (why = fres_check(l->r, s->resource)) != NULL)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Resource '%s': %s", s->resource, why);
	if (has(st, "TimeoutSeconds") && has(st, "TimeoutSecondsPath"))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: TimeoutSeconds and TimeoutSecondsPath "
		    "exclude each other");
	if (num_field(l, st, "TimeoutSeconds", 1, 99999999, 1, at, 0, &s->timeout_s) != 0 ||
	    path_field(l, st, "TimeoutSecondsPath", FPATH_REFERENCE, 0, at, &s->timeout_path) != 0 ||
	    num_field(l, st, "HeartbeatSeconds", 1, 99999999, 1, at, 0, &hb) != 0)
		return -1;
	if (hb > 0 && s->timeout_s > 0 && hb >= s->timeout_s)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller "
		    "than TimeoutSeconds");
	return 0;
}

static const struct {
	const char *name;
	enum fst_type type;
	const char *fields[24];
} types[] = {
	{ "Pass", FS_PASS, { "Next", "End", "InputPath", "OutputPath", "ResultPath",
	    "Parameters", "Result", "Assign", NULL } },
	{ "Task", FS_TASK, { "Next", "End", "InputPath", "OutputPath", "ResultPath",
	    "Parameters", "ResultSelector", "Assign", "Retry", "Catch", "Resource",
	    "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
	    NULL } },
	{ "Choice", FS_CHOICE, { "InputPath", "OutputPath", "Choices", "Default", "Assign",
	    NULL } },
	{ "Wait", FS_WAIT, { "Next", "End", "InputPath", "OutputPath", "Assign", "Seconds",
	    "Timestamp", "SecondsPath", "TimestampPath", NULL } },
	{ "Succeed", FS_SUCCEED, { "InputPath", "OutputPath", NULL } },
	{ "Fail", FS_FAIL, { "Error", "Cause", "ErrorPath", "CausePath", NULL } },
	{ "Parallel", FS_PARALLEL, { "Next", "End", "InputPath", "OutputPath", "ResultPath",
	    "Parameters", "ResultSelector", "Assign", "Retry", "Catch", "Branches", NULL } },
	{ "Map", FS_MAP, { "Next", "End", "InputPath", "OutputPath", "ResultPath",
	    "Parameters", "ResultSelector", "Assign", "Retry", "Catch", "Iterator",
	    "ItemProcessor", "ItemsPath", "ItemSelector", "MaxConcurrency",
	    "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailurePercentage",
	    "ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "Label", NULL } },
};

/* The fields every state may have, then its type's. */
static int
state_fields(struct ld *l, jv st, int t, const char *at)
{
	const char *all[32];
	int n = 0;

	all[n++] = "Type";
	all[n++] = "Comment";
	all[n++] = "QueryLanguage";
	for (int i = 0; types[t].fields[i] != NULL; i++)
		all[n++] = types[t].fields[i];
	all[n] = NULL;
	return fields_known(l, st, all, at);
}

/* Next or End: one of them, except for Choice, Succeed and Fail. */
static int
transition(struct ld *l, jv st, struct fstate *s, const struct fmachine *m, jv names,
    const char *at)
{
	jv end = get(st, "End");

	if (s->type == FS_CHOICE || s->type == FS_SUCCEED || s->type == FS_FAIL) {
		s->next = -1;
		return 0;
	}
	if (jv_is_valid(end) && jv_get_kind(end) != JV_KIND_TRUE)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Field 'End' must be true");
	if (has(st, "Next") == jv_is_valid(end))
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Exactly one of these fields is "
		    "required: [Next, End]");
	return target(l, st, "Next", m, names, at, &s->next);
}

static int
load_paths(struct ld *l, jv st, struct fstate *s, const char *at)
{
	return path_field(l, st, "InputPath", FPATH_PATH, 1, at, &s->input_path) != 0 ||
	    path_field(l, st, "OutputPath", FPATH_PATH, 1, at, &s->output_path) != 0 ||
	    path_field(l, st, "ResultPath", FPATH_REFERENCE, 1, at, &s->result_path) != 0 ||
	    tmpl_field(l, st, "Parameters", at, &s->parameters) != 0 ||
	    tmpl_field(l, st, "ResultSelector", at, &s->result_selector) != 0 ||
	    tmpl_field(l, st, "Assign", at, &s->assign) != 0 ? -1 : 0;
}

static int
load_state(struct ld *l, jv st, struct fstate *s, const struct fmachine *m, jv names,
    const char *at)
{
	const char *type;
	size_t t;
	char field[512];

	s->parameters = s->result_selector = s->result = s->assign = jv_invalid();
	s->item_selector = jv_invalid();
	s->seconds = s->tol_count = s->tol_pct = -1;
	s->deflt = -1;
	if (jv_get_kind(st) != JV_KIND_OBJECT)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: A state must be an object");
	if (required(l, st, "Type", at) != 0 || str_field(l, st, "Type", at, &type) != 0)
		return -1;
	for (t = 0; t < sizeof types / sizeof types[0] && strcmp(types[t].name, type) != 0; t++)
		;
	loc(field, sizeof field, "%s/Type", at);
	if (t == sizeof types / sizeof types[0])
		return bad(l, field, "SCHEMA_VALIDATION_FAILED: Value is not a valid state type: %s",
		    type);
	s->type = types[t].type;
	s->result = get(st, "Result");
	if (query_language(l, st, at) != 0 || state_fields(l, st, (int)t, at) != 0 ||
	    transition(l, st, s, m, names, at) != 0 || load_paths(l, st, s, at) != 0 ||
	    load_retry(l, st, s, at) != 0 || load_catch(l, st, s, m, names, at) != 0)
		return -1;
	switch (s->type) {
	case FS_TASK: return load_task(l, st, s, at);
	case FS_CHOICE: return load_choices(l, st, s, m, names, at);
	case FS_WAIT: return load_wait(l, st, s, at);
	case FS_FAIL: return load_fail(l, st, s, at);
	case FS_PARALLEL: return load_branches(l, st, s, at);
	case FS_MAP: return load_map(l, st, s, at);
	default: return 0;
	}
}

/* What of the context object the text s reads: FCTX_* bits. */
static int
ctx_parts(const char *s)
{
	static const struct { const char *name; int part; } parts[] = {
		{ ".Execution", FCTX_EXECUTION }, { ".StateMachine", FCTX_MACHINE },
		{ ".State", FCTX_STATE }, { ".Map", 0 }, { ".Task", 0 },
	};
	int bits = 0;

	for (const char *p = strstr(s, "$$"); p != NULL; p = strstr(p + 2, "$$")) {
		size_t i;
		for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
			size_t n = strlen(parts[i].name);
			if (strncmp(p + 2, parts[i].name, n) == 0 &&
			    (p[2 + n] == '\0' || p[2 + n] == '.' || p[2 + n] == '[' ||
			    p[2 + n] == ',' || p[2 + n] == ')' || p[2 + n] == ' '))
				break;
		}
		bits |= i < sizeof parts / sizeof parts[0] ? parts[i].part : FCTX_ALL;
	}
	return bits;
}

/* What of the context object the strings in v read. */
static int
reads_ctx(jv v)
{
	int bits = 0;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		return ctx_parts(jv_string_value(v));
	case JV_KIND_ARRAY:
		for (int i = 0; i < jv_array_length(jv_copy(v)); i++) {
			jv x = jv_array_get(jv_copy(v), i);
			bits |= reads_ctx(x);
			jv_free(x);
		}
		return bits;
	case JV_KIND_OBJECT:
		for (int it = jv_object_iter(v); jv_object_iter_valid(v, it);
		    it = jv_object_iter_next(v, it)) {
			jv x = jv_object_iter_value(v, it);
			bits |= reads_ctx(x);
			jv_free(x);
		}
		return bits;
	default:
		return 0;
	}
}

/* Marks what start reaches; each unmarked state is reported. */
static void
reach(const struct fmachine *m, int i, char *seen)
{
	if (i < 0 || seen[i])
		return;
	seen[i] = 1;
	const struct fstate *s = &m->states[i];
	reach(m, s->next, seen);
	reach(m, s->deflt, seen);
	for (int c = 0; c < s->nchoices; c++)
		reach(m, s->choices[c].next, seen);
	for (int c = 0; c < s->ncatch; c++)
		reach(m, s->catch[c].next, seen);
}

static int
reachable(struct ld *l, const struct fmachine *m, const char *at)
{
	char *seen = xcalloc((size_t)m->nstates + 1, 1), where[512];
	int rc = 0;

	reach(m, m->start, seen);
	for (int i = 0; i < m->nstates && rc == 0; i++) {
		if (seen[i])
			continue;
		loc(where, sizeof where, "%s/States/%s", at, m->states[i].name);
		rc = bad(l, where, "MISSING_TRANSITION_TARGET: State \"%s\" is not reachable.",
		    m->states[i].name);
	}
	free(seen);
	return rc;
}

/* top: 1 the machine, 0 a Parallel branch, 2 a Map's ItemProcessor. */
static int
load_machine(struct ld *l, jv m, struct fmachine *out, const char *at, int top)
{
	static const char *const branch_fields[] = { "StartAt", "States", "Comment", NULL };
	static const char *const proc_fields[] = { "StartAt", "States", "Comment",
	    "ProcessorConfig", NULL };
	jv states, names;
	const char *start;
	char where[512];

	if (jv_get_kind(m) != JV_KIND_OBJECT)
		return bad(l, at, "SCHEMA_VALIDATION_FAILED: Value must be an object");
	if ((top == 0 && fields_known(l, m, branch_fields, at) != 0) ||
	    (top == 2 && fields_known(l, m, proc_fields, at) != 0) ||
	    required(l, m, "StartAt", at) != 0 || required(l, m, "States", at) != 0 ||
	    str_field(l, m, "StartAt", at, &start) != 0)
		return -1;
	states = get(m, "States");
	loc(where, sizeof where, "%s/States", at);
	if (jv_get_kind(states) != JV_KIND_OBJECT || jv_object_length(jv_copy(states)) == 0)
		return bad(l, where, "SCHEMA_VALIDATION_FAILED: Field 'States' must be a non-empty "
		    "object");
	names = jv_keys_unsorted(jv_copy(states));
	out->nstates = jv_array_length(jv_copy(names));
	out->states = xcalloc((size_t)out->nstates, sizeof *out->states);
	int rc = 0;
	int it = jv_object_iter(states);
	for (int i = 0; i < out->nstates && rc == 0; i++, it = jv_object_iter_next(states, it)) {
		/* borrowed: the definition keeps its keys and values */
		jv k = jv_object_iter_key(states, it), st = jv_object_iter_value(states, it);
		jv_free(k);
		jv_free(st);
		out->states[i].name = jv_string_value(k);
		out->states[i].uses_ctx = reads_ctx(st);
		loc(where, sizeof where, "%s/States/%s", at, out->states[i].name);
		rc = load_state(l, st, &out->states[i], out, names, where);
	}
	loc(where, sizeof where, "%s/StartAt", at);
	if (rc == 0 && (out->start = state_index(out, names, start)) < 0)
		rc = bad(l, where, "MISSING_TRANSITION_TARGET: Missing 'StartAt' target: %s", start);
	jv_free(names);
	return rc == 0 ? reachable(l, out, at) : rc;
}

static void
free_machine(struct fmachine *m)
{
	for (int i = 0; i < m->nstates; i++) {
		struct fstate *s = &m->states[i];
		for (int b = 0; b < s->nbranches; b++)
			free_machine(&s->branches[b]);
		free(s->branches);
		if (s->iter != NULL)
			free_machine(s->iter);
		free(s->iter);
		free(s->retry);
		free(s->catch);
		for (int c = 0; c < s->nchoices; c++)
			jv_free(s->choices[c].rule);	/* made without Next and Assign */
		free(s->choices);
	}
	free(m->states);
}

void
fdef_free(struct fdef *d)
{
	if (d == NULL)
		return;
	free_machine(&d->top);
	jv_free(d->json);
	free(d);
	fpath_cache_clear();	/* what its paths and templates left */
}

/* State names are unique in the whole definition, branches and item
 * processors included (so a history's state names are unambiguous). */
static int
unique_names(struct ld *l, const struct fmachine *m, jv *seen, const char *at)
{
	char where[512];

	for (int i = 0; i < m->nstates; i++) {
		const struct fstate *s = &m->states[i];
		jv k = jv_string(s->name);
		if (jv_object_has(jv_copy(*seen), jv_copy(k))) {
			jv_free(k);
			loc(where, sizeof where, "%s/States/%s", at, s->name);
			return bad(l, where, "SCHEMA_VALIDATION_FAILED: Duplicate State name: %s",
			    s->name);
		}
		*seen = jv_object_set(*seen, k, jv_true());
		for (int b = 0; b < s->nbranches; b++) {
			loc(where, sizeof where, "%s/States/%s/Branches/%d", at, s->name, b);
			if (unique_names(l, &s->branches[b], seen, where) != 0)
				return -1;
		}
		loc(where, sizeof where, "%s/States/%s/ItemProcessor", at, s->name);
		if (s->iter != NULL && unique_names(l, s->iter, seen, where) != 0)
			return -1;
	}
	return 0;
}

int
fdef_load(jv def, const struct fres *r, struct fdef **out, char *why, size_t n)
{
	static const char *const top_fields[] = { "StartAt", "States", "Comment", "Version",
	    "TimeoutSeconds", "QueryLanguage", NULL };
	struct ld l = { .why = why, .n = n, .r = r };
	struct fdef *d = xcalloc(1, sizeof *d);

	d->json = def;
	if (jv_get_kind(def) != JV_KIND_OBJECT)
		bad(&l, "", "SCHEMA_VALIDATION_FAILED: The definition must be a JSON object");
	else if (query_language(&l, def, "") == 0 && fields_known(&l, def, top_fields, "") == 0 &&
	    num_field(&l, def, "TimeoutSeconds", 1, 99999999, 1, "", 0, &d->timeout_s) == 0)
		load_machine(&l, def, &d->top, "", 1);
	if (!l.failed) {
		jv seen = jv_object();
		unique_names(&l, &d->top, &seen, "");
		jv_free(seen);
	}
	if (l.failed) {
		fdef_free(d);
		return 2;
	}
	*out = d;
	return 0;
}

int
fdef_matches(jv errors, const char *name)
{
	int n = jv_array_length(jv_copy(errors));

	for (int i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(errors), i);
		const char *s = jv_string_value(e);
		int hit = strcmp(s, name) == 0 ||
		    (strcmp(s, "States.ALL") == 0 && strcmp(name, "States.Runtime") != 0 &&
		    strcmp(name, "States.DataLimitExceeded") != 0) ||
		    (strcmp(s, "States.TaskFailed") == 0 && strcmp(name, "States.Timeout") != 0 &&
		    strcmp(name, "States.Runtime") != 0 &&
		    strcmp(name, "States.DataLimitExceeded") != 0);
		jv_free(e);
		if (hit)
			return 1;
	}
	return 0;
}
