/* fexec_state — what each state does, as the States Language and the
 * developer guide say: InputPath, Parameters, the work, ResultSelector,
 * Assign, ResultPath, OutputPath; Retry and Catch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/jx.h"
#include "fexec_int.h"
#include "fintr.h"

#define DATA_LIMIT 262144	/* bytes: AWS's 256 KiB for a state's input or output */

static const struct fstate *
cur(const struct frame *f)
{
	return &f->m->states[f->state];
}

static const char *const type_names[] = { "Pass", "Task", "Choice", "Wait", "Succeed", "Fail",
	"Parallel", "Map" };

/* "<Type>State<what>" with the state's name and more (consumed). */
static void
hist_state(struct frame *f, const char *what, jv more)
{
	char type[64];

	if (!FX_HISTORY(f->x->fl)) {
		jv_free(more);
		return;
	}
	snprintf(type, sizeof type, "%sState%s", type_names[cur(f)->type], what);
	FX_HIST_F(f, type, jv_object_merge(JV_OBJECT(jv_string("name"),
	    jv_string(cur(f)->name)), more));
}

/* The context object of the frame's state, with the parts its paths
 * read, built when a path asks. */
static jv
ctx_of(struct frame *f)
{
	int parts = cur(f)->uses_ctx;
	char at[25];
	struct flow *fl = f->x->fl;

	if (jv_is_valid(f->ctx))
		return f->ctx;
	if (parts == 0)
		return jv_null();	/* no path of the state reads it */
	f->ctx = jv_object();
	if (parts & FCTX_EXECUTION)
		f->ctx = jv_object_set(f->ctx, jv_string("Execution"), jv_copy(fx_exec_ctx(f->x)));
	if (parts & FCTX_STATE) {
		clock_rfc3339(f->entered_ms, at);
		f->ctx = jv_object_set(f->ctx, jv_string("State"), JV_OBJECT(jv_string("EnteredTime"),
		    jv_string(at), jv_string("Name"), jv_string(cur(f)->name),
		    jv_string("RetryCount"), jv_number(f->retry_count)));
	}
	if (parts & FCTX_MACHINE)
		f->ctx = jv_object_set(f->ctx, jv_string("StateMachine"), JV_OBJECT(jv_string("Id"),
		    jv_string(fl->sm_arn), jv_string("Name"), jv_string(fl->sm_name)));
	return f->ctx;
}

static struct fscope
scope(struct frame *f, jv in)
{
	struct fscope s = { .input = in, .ctx = ctx_of(f), .vars = f->vars };
	return s;
}

/* A path of the state on in: NULL is "$", fdef_null is {}. */
static int
path(struct frame *f, const char *p, jv in, const char *field, jv *out)
{
	if (p == NULL || strcmp(p, "$") == 0) {
		*out = jv_copy(in);
		return 0;
	}
	if (p == fdef_null) {
		*out = jv_object();
		return 0;
	}
	struct fscope s = scope(f, in);
	return fpath_get(p, &s, field, out, &f->err);
}

static int
tmpl(struct frame *f, jv t, jv in, const char *field, jv *out)
{
	if (!jv_is_valid(t)) {
		*out = jv_copy(in);
		return 0;
	}
	struct fscope s = scope(f, in);
	return ftmpl_apply(t, &s, field, out, &f->err);
}

jv
fx_error_value(const struct ferr *e)
{
	return JV_OBJECT(jv_string("Error"), jv_string(e->error),
	    jv_string("Cause"), jv_string(e->cause));
}

/* Assign: every value computed against the variables before, then set. */
static int
assign(struct frame *f, jv a, jv in)
{
	jv vals;

	if (!jv_is_valid(a))
		return 0;
	if (tmpl(f, a, in, "Assign", &vals) != 0)
		return -1;
	if (FX_HISTORY(f->x->fl))
		f->assigned = jv_object_merge(jv_is_valid(f->assigned) ? f->assigned : jv_object(),
		    jv_copy(vals));
	f->vars = jv_object_merge(f->vars, vals);
	jv_free(f->ctx);
	f->ctx = jv_invalid();
	return 0;
}

/* The frame ends with f->err. */
static int
end_failed(struct frame *f)
{
	fx_end(f, 0, jv_null(), &f->err);
	return S_END;
}

static int on_error(struct frame *f);

/* An upper bound on v's JSON text's length, exact but for numbers (their
 * longest form), that stops counting past DATA_LIMIT: a state's output is
 * measured without being written out. */
static size_t
text_bound(jv v, size_t sum, int exact)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_STRING: {
		size_t n = (size_t)jv_string_length_bytes(jv_copy(v)), k = n + 2;
		if (!exact)	/* every byte escaped at worst: no scan */
			return sum + 6 * n + 2;
		const unsigned char *p = (const unsigned char *)jv_string_value(v);
		for (size_t i = 0; i < n; i++)
			k += p[i] < 0x20 || p[i] == '"' || p[i] == '\\' || p[i] == 0x7f ? 5 : 0;
		return sum + k;
	}
	case JV_KIND_NUMBER: return sum + 25;
	case JV_KIND_ARRAY:
		sum += 2;
		jv_array_foreach(v, i, x) {
			sum = sum > DATA_LIMIT ? sum : text_bound(x, sum + 1, exact);
			jv_free(x);
		}
		return sum;
	case JV_KIND_OBJECT:
		sum += 2;
		jv_object_foreach(v, k, x) {
			sum = sum > DATA_LIMIT ? sum : text_bound(x, text_bound(k, sum + 2, exact), exact);
			jv_free(k);
			jv_free(x);
		}
		return sum;
	default: return sum + 5;
	}
}

/* Whether v (borrowed) is over AWS's 256 KiB for a state's input, output
 * or result (States.DataLimitExceeded, which nothing catches). */
static int
over_limit(jv v)
{
	/* a loose bound first, which small data (most) passes without a
	 * look at each byte; then a tight one; then the text itself */
	if (text_bound(v, 0, 0) <= DATA_LIMIT || text_bound(v, 0, 1) <= DATA_LIMIT)
		return 0;
	jv s = jv_dump_string(jv_copy(v), 0);
	int over = jv_string_length_bytes(jv_copy(s)) > DATA_LIMIT;
	jv_free(s);
	return over;
}

static void
data_limit(struct frame *f, const char *what)
{
	ferr_set(&f->err, "States.DataLimitExceeded", "The state/task '%s' %s a size "
	    "exceeding the maximum number of bytes service limit.", cur(f)->name, what);
}

/* To the next state with out, or the frame's end. */
static int
transition(struct frame *f, int next, jv out)
{
	/* an output that is the input as it came was measured before */
	if (!jv_identical(jv_copy(out), jv_copy(f->input)) && over_limit(out)) {
		jv_free(out);
		data_limit(f, "returned a result with");
		return end_failed(f);
	}
	if (FX_HISTORY(f->x->fl)) {
		jv more = JV_OBJECT(jv_string("output"), fx_text(out),
		    jv_string("outputDetails"), JV_OBJECT(jv_string("truncated"), jv_false()));
		if (jv_is_valid(f->assigned)) {
			jv texts = jv_object();
			jv_object_foreach(f->assigned, k, v)
				texts = jv_object_set(texts, k, jv_dump_string(v, 0));
			more = jv_object_set(more, jv_string("assignedVariables"), texts);
		}
		hist_state(f, "Exited", more);
	}
	if (next < 0) {
		fx_end(f, 1, out, NULL);
		return S_END;
	}
	jv_free(f->input);
	f->input = out;
	f->state = next;
	f->resume = R_ENTER;
	return S_CONT;
}


/* A state's error: its Retry and Catch decide (States.Runtime always
 * ends the execution, as AWS has it). */
static int
fail(struct frame *f)
{
	return on_error(f);
}

/* A result's way out: ResultSelector, Assign, ResultPath, OutputPath. */
static int
after_result(struct frame *f, jv result)
{
	const struct fstate *s = cur(f);
	jv sel, merged, out;
	int rc;

	rc = tmpl(f, s->result_selector, result, "ResultSelector", &sel);
	jv_free(result);
	if (rc != 0)
		return fail(f);
	if (assign(f, s->assign, sel) != 0) {
		jv_free(sel);
		return fail(f);
	}
	if (s->result_path == fdef_null) {
		jv_free(sel);
		merged = jv_copy(f->input);
	} else if (s->result_path == NULL || strcmp(s->result_path, "$") == 0) {
		merged = sel;
	} else {
		rc = fpath_set(f->input, s->result_path, sel, &merged, &f->err);
		jv_free(sel);
		if (rc != 0)
			return fail(f);
	}
	rc = path(f, s->output_path, merged, "OutputPath", &out);
	jv_free(merged);
	return rc != 0 ? fail(f) : transition(f, s->next, out);
}

/* Wait and Choice: OutputPath on the effective input. */
static int
pass_on(struct frame *f, jv eff, int next)
{
	jv out;
	int rc = path(f, cur(f)->output_path, eff, "OutputPath", &out);

	jv_free(eff);
	return rc != 0 ? fail(f) : transition(f, next, out);
}

static int
act_pass(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	jv r;

	if (jv_is_valid(s->result)) {
		jv_free(eff);
		return after_result(f, jv_copy(s->result));
	}
	int rc = tmpl(f, s->parameters, eff, "Parameters", &r);
	jv_free(eff);
	return rc != 0 ? fail(f) : after_result(f, r);
}

static int
act_choice(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	struct fscope sc = scope(f, eff);

	for (int i = 0; i < s->nchoices; i++) {
		int match;
		if (fchoice_eval(s->choices[i].rule, &sc, &match, &f->err) != 0) {
			jv_free(eff);
			return fail(f);
		}
		if (match) {
			if (assign(f, s->choices[i].assign, eff) != 0) {
				jv_free(eff);
				return fail(f);
			}
			return pass_on(f, eff, s->choices[i].next);
		}
	}
	if (s->deflt >= 0) {
		if (assign(f, s->assign, eff) != 0) {
			jv_free(eff);
			return fail(f);
		}
		return pass_on(f, eff, s->deflt);
	}
	jv_free(eff);
	ferr_set(&f->err, "States.NoChoiceMatched", "No Matches!");
	return on_error(f);
}

static int
seconds_of(struct frame *f, const char *p, jv eff, const char *field, double *out)
{
	jv v;

	if (path(f, p, eff, field, &v) != 0)
		return -1;
	int ok = jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0;
	*out = ok ? jv_number_value(v) : 0;
	jv_free(v);
	if (!ok)
		return ferr_set(&f->err, "States.Runtime", "An error occurred while executing the "
		    "state '%s'. The %s parameter does not reference a valid non-negative "
		    "integer value", cur(f)->name, field);
	return 0;
}

static int
act_wait(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	double sec = s->seconds;
	int64_t ms = 0, at;

	if (s->seconds_path != NULL && seconds_of(f, s->seconds_path, eff, "SecondsPath", &sec)
	    != 0) {
		jv_free(eff);
		return fail(f);
	}
	if (s->timestamp != NULL || s->timestamp_path != NULL) {
		jv t = jv_invalid();
		if (s->timestamp_path != NULL && path(f, s->timestamp_path, eff, "TimestampPath",
		    &t) != 0) {
			jv_free(eff);
			return fail(f);
		}
		const char *ts = s->timestamp != NULL ? s->timestamp :
		    jv_get_kind(t) == JV_KIND_STRING ? jv_string_value(t) : "";
		int bad = clock_parse_rfc3339(ts, &at) != 0;
		jv_free(t);
		if (bad) {
			jv_free(eff);
			ferr_set(&f->err, "States.Runtime", "An error occurred while executing the "
			    "state '%s'. The TimestampPath parameter does not reference a valid "
			    "ISO-8601 extended offset date-time format string", s->name);
			return fail(f);
		}
		ms = at - clock_now_ms();
	} else {
		/* a resumed Wait waits what is left of it */
		double scale = f->x->fl->o.time_scale > 0 ? f->x->fl->o.time_scale : 1;
		ms = (int64_t)(sec * 1000 - (double)(clock_now_ms() - f->entered_ms) / scale);
	}
	f->eff = eff;
	fx_timer(f->x->fl, ms > 0 ? ms : 0, fx_ticket(f, R_WAIT_DONE));
	return S_SUSPEND;
}

static int
get_arg(void *arg, const char *p, jv *out, struct ferr *e)
{
	return fpath_get(p, arg, "CausePath", out, e);
}

/* ErrorPath and CausePath: a path, or an intrinsic function's call. */
static int
path_or_call(struct frame *f, const char *p, jv in, const char *field, jv *out)
{
	if (!fintr_is(p))
		return path(f, p, in, field, out);
	struct fscope s = scope(f, in);
	return fintr_eval(p, get_arg, &s, out, &f->err);
}

static int
act_fail(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	jv e = jv_invalid(), c = jv_invalid();
	int rc = 0;

	if (s->error_path != NULL)
		rc = path_or_call(f, s->error_path, eff, "ErrorPath", &e);
	if (rc == 0 && s->cause_path != NULL)
		rc = path_or_call(f, s->cause_path, eff, "CausePath", &c);
	jv_free(eff);
	if (rc == 0) {
		const char *es = s->error != NULL ? s->error :
		    jv_get_kind(e) == JV_KIND_STRING ? jv_string_value(e) : "";
		const char *cs = s->cause != NULL ? s->cause :
		    jv_get_kind(c) == JV_KIND_STRING ? jv_string_value(c) : "";
		ferr_set(&f->err, es, "%s", cs);
	}
	jv_free(e);
	jv_free(c);
	return fail(f);
}

static int
act_task(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	jv in;
	double sec = s->timeout_s;

	if (s->timeout_path != NULL && seconds_of(f, s->timeout_path, eff, "TimeoutSecondsPath",
	    &sec) != 0) {
		jv_free(eff);
		return fail(f);
	}
	int rc = tmpl(f, s->parameters, eff, "Parameters", &in);
	jv_free(eff);
	if (rc != 0)
		return fail(f);
	struct buf *text = &f->x->fl->text;
	buf_reset(text);
	jx_dump(in, text);
	jv_free(in);
	if (text->n > DATA_LIMIT) {
		data_limit(f, "has an input with");
		return end_failed(f);
	}
	if (FX_HISTORY(f->x->fl)) {
		jv d = fx_res_details(s->resource);
		d = jv_object_set(d, jv_string("region"), jv_string("us-east-1"));
		d = jv_object_set(d, jv_string("parameters"), jv_string_sized(text->p, (int)text->n));
		if (sec > 0)
			d = jv_object_set(d, jv_string("timeoutInSeconds"), jv_number(sec));
		FX_HIST_F(f, "TaskScheduled", d);
	}
	struct ticket *tk = fx_ticket(f, R_TASK_OK);
	rc = fres_start(f->x->fl->res, s->resource, text->p, text->n, (int64_t)(sec * 1000), tk,
	    &f->err);
	if (rc != 0) {
		f->tk = NULL;
		free(tk);
		return on_error(f);
	}
	f->x->fl->ntasks++;
	FX_HIST_F(f, "TaskStarted", fx_res_details(s->resource));
	return S_SUSPEND;
}

/* Starts kid i (the next in order but on --resume). */
void
fx_kid_start(struct frame *f, int i)
{
	const struct fstate *s = cur(f);
	const struct fmachine *m = s->type == FS_MAP ? s->iter : &s->branches[i];
	jv in = s->type == FS_MAP ? jv_array_get(jv_copy(f->items), i) : jv_copy(f->eff);

	f->kids[i] = fx_frame(f->x, m, f, i, in, jv_copy(f->vars));
	f->running++;
	if (s->type == FS_MAP)
		FX_HIST_F(f, "MapIterationStarted", JV_OBJECT(jv_string("name"),
		    jv_string(s->name), jv_string("index"), jv_number(i)));
	fx_queue(f->kids[i]);
}

/* Starts the kids that MaxConcurrency allows. */
static void
start_kids(struct frame *f)
{
	while (f->started < f->nkids && (f->max_conc <= 0 || f->running < f->max_conc))
		fx_kid_start(f, f->started++);
}

static int
start_all(struct frame *f, int n)
{
	f->nkids = n;
	f->started = f->finished = f->failed = f->running = f->fail_set = f->kids_ended = 0;
	f->kids = xcalloc((size_t)n + 1, sizeof *f->kids);
	f->results = jv_array();
	for (int i = 0; i < n; i++)
		f->results = jv_array_set(f->results, i, jv_null());
	int had = f->plan != NULL ? fx_plan_kids(f) : -1;	/* --resume */
	if (had == 0) {
		start_kids(f);
		return S_SUSPEND;
	}
	if (had < 0 && cur(f)->type == FS_MAP)
		FX_HIST_F(f, "MapStateStarted", JV_OBJECT(jv_string("length"), jv_number(n)));
	else if (had < 0)
		FX_HIST_F(f, "ParallelStateStarted", jv_invalid());
	if (n == 0 || had == 1) {
		f->resume = R_KIDS_DONE;
		return S_CONT;
	}
	start_kids(f);
	return S_SUSPEND;
}

static int
act_parallel(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	jv in;
	int rc = tmpl(f, s->parameters, eff, "Parameters", &in);

	jv_free(eff);
	if (rc != 0)
		return fail(f);
	if (jv_is_valid(s->parameters) && over_limit(in)) {	/* each branch's input */
		jv_free(in);
		data_limit(f, "has an input with");
		return end_failed(f);
	}
	f->eff = in;
	f->max_conc = 0;
	return start_all(f, s->nbranches);
}

/* A Map's numbers from their fields or paths. */
static int
map_limits(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	double mc = s->max_conc;

	f->tol_count = s->tol_count;
	f->tol_pct = s->tol_pct;
	if ((s->max_conc_path != NULL && seconds_of(f, s->max_conc_path, eff,
	    "MaxConcurrencyPath", &mc) != 0) ||
	    (s->tol_count_path != NULL && seconds_of(f, s->tol_count_path, eff,
	    "ToleratedFailureCountPath", &f->tol_count) != 0) ||
	    (s->tol_pct_path != NULL && seconds_of(f, s->tol_pct_path, eff,
	    "ToleratedFailurePercentagePath", &f->tol_pct) != 0))
		return -1;
	f->max_conc = (int)mc;
	return 0;
}

/* Each item through ItemSelector, with $$.Map.Item.  The context object
 * is taken from the frame so that setting Map changes it in place, not
 * a copy of it per item. */
static int
map_items(struct frame *f, jv eff, jv arr, jv *out)
{
	const struct fstate *s = cur(f);
	int n = jv_array_length(jv_copy(arr)), rc = 0;

	*out = jv_array();
	if (!jv_is_valid(s->item_selector)) {
		jv_free(*out);
		*out = jv_copy(arr);
		return 0;
	}
	jv ctx = jv_copy(ctx_of(f));
	jv_free(f->ctx);
	f->ctx = jv_invalid();
	if (jv_get_kind(ctx) != JV_KIND_OBJECT) {	/* it reads $$.Map alone */
		jv_free(ctx);
		ctx = jv_object();
	}
	for (int i = 0; i < n && rc == 0; i++) {
		jv item = jv_array_get(jv_copy(arr), i), v;
		ctx = jv_object_set(ctx, jv_string("Map"), JV_OBJECT(jv_string("Item"),
		    JV_OBJECT(jv_string("Index"), jv_number(i), jv_string("Value"), item)));
		struct fscope sc = { .input = eff, .ctx = ctx, .vars = f->vars };
		if ((rc = ftmpl_apply(s->item_selector, &sc, "ItemSelector", &v, &f->err)) == 0)
			*out = jv_array_append(*out, v);
	}
	jv_free(ctx);
	if (rc != 0)
		jv_free(*out);
	return rc;
}

static int
act_map(struct frame *f, jv eff)
{
	const struct fstate *s = cur(f);
	jv arr;

	if (map_limits(f, eff) != 0 || path(f, s->items_path, eff, "ItemsPath", &arr) != 0) {
		jv_free(eff);
		return fail(f);
	}
	if (jv_get_kind(arr) != JV_KIND_ARRAY) {
		jv_free(arr);
		jv_free(eff);
		ferr_set(&f->err, "States.Runtime", "An error occurred while executing the state "
		    "'%s'. The ItemsPath field '%s' does not reference a JSON array", s->name,
		    s->items_path != NULL ? s->items_path : "$");
		return fail(f);
	}
	int rc = map_items(f, eff, arr, &f->items);
	jv_free(arr);
	jv_free(eff);
	if (rc != 0)
		return fail(f);
	return start_all(f, jv_array_length(jv_copy(f->items)));
}

/* The state's work, from its raw input. */
static int
act(struct frame *f)
{
	const struct fstate *s = cur(f);
	jv eff;

	jv_free(f->ctx);
	f->ctx = jv_invalid();
	if (path(f, s->input_path, f->input, "InputPath", &eff) != 0)
		return fail(f);
	switch (s->type) {
	case FS_PASS: return act_pass(f, eff);
	case FS_CHOICE: return act_choice(f, eff);
	case FS_WAIT: return act_wait(f, eff);
	case FS_SUCCEED: return pass_on(f, eff, -1);
	case FS_FAIL: return act_fail(f, eff);
	case FS_TASK: return act_task(f, eff);
	case FS_PARALLEL: return act_parallel(f, eff);
	case FS_MAP: return act_map(f, eff);
	}
	return fail(f);
}

static int
enter(struct frame *f)
{
	const struct fstate *s = cur(f);

	if (!f->resumed)
		f->entered_ms = clock_now_ms();
	f->resumed = 0;
	f->retry_count = 0;
	jv_free(f->assigned);
	f->assigned = jv_invalid();
	if (FX_HISTORY(f->x->fl) && f->plan == NULL)	/* a resumed Map's was recorded */
		hist_state(f, "Entered", JV_OBJECT(jv_string("input"), fx_text(f->input),
		    jv_string("inputDetails"), JV_OBJECT(jv_string("truncated"), jv_false())));
	free(f->attempts);
	f->attempts = s->nretry > 0 ? xcalloc((size_t)s->nretry, sizeof *f->attempts) : NULL;
	int rc = act(f);
	fx_plan_free(f->plan);	/* used by now, or of no use */
	f->plan = NULL;
	return rc;
}

static int
uncatchable(const char *error)
{
	return strcmp(error, "States.Runtime") == 0 ||
	    strcmp(error, "States.DataLimitExceeded") == 0;
}

/* AWS names the state in a States.Runtime cause. */
static void
runtime_cause(struct frame *f)
{
	static const char head[] = "An error occurred while executing the state";
	char cause[sizeof f->err.cause];

	if (strcmp(f->err.error, "States.Runtime") != 0 ||
	    strncmp(f->err.cause, head, sizeof head - 1) == 0)
		return;
	memcpy(cause, f->err.cause, sizeof cause);
	ferr_set(&f->err, "States.Runtime", "%s '%s'. %s", head, cur(f)->name, cause);
}

static int
retry(struct frame *f)
{
	const struct fstate *s = cur(f);

	for (int i = 0; i < s->nretry; i++) {
		const struct fretrier *r = &s->retry[i];
		if (!fdef_matches(r->errors, f->err.error))
			continue;
		if (f->attempts[i] >= r->max_attempts)
			return -1;
		double d = r->interval * pow(r->backoff, f->attempts[i]);
		if (r->max_delay > 0 && d > r->max_delay)
			d = r->max_delay;
		if (r->jitter_full)
			d = d * (double)(rand64() >> 11) / 9007199254740992.0;
		f->attempts[i]++;
		f->retry_count++;
		fx_timer(f->x->fl, (int64_t)(d * 1000), fx_ticket(f, R_RETRY));
		return 0;
	}
	return -1;
}

static int
on_error(struct frame *f)
{
	const struct fstate *s = cur(f);

	if (uncatchable(f->err.error)) {
		runtime_cause(f);
		return end_failed(f);
	}
	if (retry(f) == 0)
		return S_SUSPEND;
	for (int i = 0; i < s->ncatch; i++) {
		const struct fcatcher *c = &s->catch[i];
		jv errv, out;
		if (!fdef_matches(c->errors, f->err.error))
			continue;
		errv = fx_error_value(&f->err);
		if (assign(f, c->assign, errv) != 0) {
			jv_free(errv);
			return end_failed(f);
		}
		if (c->result_path == fdef_null) {
			jv_free(errv);
			out = jv_copy(f->input);
		} else {
			int rc = fpath_set(f->input, c->result_path != NULL ? c->result_path : "$",
			    errv, &out, &f->err);
			jv_free(errv);
			if (rc != 0)
				return end_failed(f);
		}
		return transition(f, c->next, out);
	}
	return end_failed(f);
}

static int
task_ok(struct frame *f)
{
	jv r = f->res;

	f->res = jv_invalid();
	return after_result(f, r);
}

/* Parallel and Map: the kids' results, or the failure that stopped them. */
static int
kids_done(struct frame *f)
{
	for (int i = 0; i < f->nkids; i++)
		if (f->kids[i] != NULL)
			fx_free_frame(f->kids[i]);
	free(f->kids);
	f->kids = NULL;
	f->nkids = 0;
	jv_free(f->items);
	f->items = jv_invalid();
	jv_free(f->eff);
	f->eff = jv_invalid();
	jv r = f->results;
	f->results = jv_invalid();
	if (!f->fail_set && over_limit(r)) {
		f->fail_set = 1;
		data_limit(f, "returned a result with");
	}
	char type[32];
	snprintf(type, sizeof type, "%sState%s", type_names[cur(f)->type],
	    f->fail_set ? "Failed" : "Succeeded");
	FX_HIST_F(f, type, jv_invalid());
	if (f->fail_set) {
		jv_free(r);
		return on_error(f);
	}
	return after_result(f, r);
}

int
fx_step_one(struct frame *f)
{
	int r = f->resume;

	f->resume = R_ENTER;
	switch (r) {
	case R_ENTER: return enter(f);
	case R_RETRY: return act(f);
	case R_TASK_OK: return task_ok(f);
	case R_TASK_FAIL: return on_error(f);
	case R_WAIT_DONE: {
		jv eff = f->eff;
		f->eff = jv_invalid();
		if (assign(f, cur(f)->assign, eff) != 0) {
			jv_free(eff);
			return fail(f);
		}
		return pass_on(f, eff, cur(f)->next);
	}
	case R_KIDS_DONE: return kids_done(f);
	}
	return fail(f);
}

static int
over_tolerance(const struct frame *p)
{
	return (p->tol_count >= 0 && p->failed > p->tol_count) ||
	    (p->tol_pct >= 0 && (double)p->failed * 100 > p->tol_pct * p->nkids);
}

void
fx_kid_done(struct frame *p, int idx, int ok, jv out, const struct ferr *e)
{
	if (p->kids_ended) {
		jv_free(out);
		return;
	}
	p->running--;
	p->finished++;
	if (cur(p)->type == FS_MAP && FX_HISTORY(p->x->fl)) {
		/* error and cause are evkit's, for --resume and a tolerated failure */
		jv d = JV_OBJECT(jv_string("name"), jv_string(cur(p)->name), jv_string("index"),
		    jv_number(idx));
		if (!ok)
			d = jv_object_merge(d, JV_OBJECT(jv_string("error"), jv_string(e->error),
			    jv_string("cause"), jv_string(e->cause)));
		fx_hist_f(p, ok ? "MapIterationSucceeded" : "MapIterationFailed", d);
	}
	if (ok) {
		p->results = jv_array_set(p->results, idx, out);
	} else {
		jv_free(out);
		p->failed++;
		if (cur(p)->type == FS_MAP && (p->tol_count >= 0 || p->tol_pct >= 0)) {
			p->results = jv_array_set(p->results, idx, fx_error_value(e));
			if (over_tolerance(p)) {
				p->fail_set = 1;
				ferr_set(&p->err, "States.ExceedToleratedFailureThreshold",
				    "The specified tolerated failure threshold was exceeded");
			}
		} else if (!p->fail_set) {
			p->fail_set = 1;
			p->err = *e;
		}
	}
	if (p->fail_set || p->finished == p->nkids) {
		p->kids_ended = 1;
		p->resume = R_KIDS_DONE;
		fx_queue(p);
		return;
	}
	start_kids(p);
}
