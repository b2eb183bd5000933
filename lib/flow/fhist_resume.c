/* fhist_resume — --resume: the executions of the history log that have
 * no end event, each started again at its last state: with the input and
 * variables it had there, a Wait with what is left of it, a Task whose
 * success was recorded not run again; inside a running Map or Parallel,
 * the same for each iteration or branch (told apart by evkitFrame), the
 * ended ones keeping their results. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/jx.h"
#include "evlog/evlog.h"
#include "fexec_int.h"

/* What the log says of one frame: the execution's top level, or a Map
 * iteration or Parallel branch (by its evkitFrame path). */
struct rframe {
	const struct fmachine *m;
	jv input, vars, pending, task_out, out, errv;
	int64_t entered_ms;
	int state, ended, failed, nkids;	/* nkids: its Map or Parallel had started */
	struct rframe **kids;
};

struct open_exec {
	char *arn;
	jv input;
	struct rframe *root;
	int64_t start_ms;
	int done, evid;
};

struct scan {
	struct open_exec *v;
	size_t n, cap;
};

static jv
member(jv o, const char *k)
{
	return jv_get_kind(o) == JV_KIND_OBJECT ? jv_object_get(jv_copy(o), jv_string(k)) :
	    jv_invalid();
}

/* A JSON text in the history (input, output, a variable's value). */
static jv
parse_text(jv s)
{
	jv v;
	struct ev_err e;

	if (jv_get_kind(s) != JV_KIND_STRING || jx_parse(jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)), &v, &e) != 0)
		v = jv_null();
	jv_free(s);
	return v;
}

static struct open_exec *
find(struct scan *sc, const char *arn)
{
	for (size_t i = sc->n; i-- > 0;)
		if (strcmp(sc->v[i].arn, arn) == 0)
			return &sc->v[i];
	return NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The state named name (consumed) in m, or -1. */
static int
state_of(const struct fmachine *m, jv name)
{
	int st = -1;

	for (int i = 0; jv_get_kind(name) == JV_KIND_STRING && i < m->nstates && st < 0; i++)
		if (strcmp(m->states[i].name, jv_string_value(name)) == 0)
			st = i;
	jv_free(name);
	return st;
}

static struct rframe *
rframe_new(const struct fmachine *m, jv vars)
{
	struct rframe *rf = xcalloc(1, sizeof *rf);

	rf->m = m;
	rf->vars = vars;
	rf->input = rf->pending = rf->task_out = rf->out = rf->errv = jv_invalid();
	rf->state = -1;
	return rf;
}

static void
drop_kids(struct rframe *rf)
{
	for (int i = 0; i < rf->nkids; i++)
		fx_plan_free(rf->kids[i]);
	free(rf->kids);
	rf->kids = NULL;
	rf->nkids = 0;
}

void
fx_plan_free(struct rframe *rf)
{
	if (rf == NULL)
		return;
	drop_kids(rf);
	jv_free(rf->input);
	jv_free(rf->vars);
	jv_free(rf->pending);
	jv_free(rf->task_out);
	jv_free(rf->out);
	jv_free(rf->errv);
	free(rf);
}

/* The frame at path (an array of kid indexes, invalid for the top), made
 * when its first event comes; NULL if the log and definition disagree. */
static struct rframe *
locate(struct rframe *rf, jv path)
{
	int n = jv_get_kind(path) == JV_KIND_ARRAY ? jv_array_length(jv_copy(path)) : 0;

	for (int d = 0; d < n && rf != NULL; d++) {
		jv iv = jv_array_get(jv_copy(path), d);
		int i = jv_get_kind(iv) == JV_KIND_NUMBER ? (int)jv_number_value(iv) : -1;
		jv_free(iv);
		if (rf->state < 0 || i < 0 || i >= rf->nkids)
			return NULL;
		const struct fstate *s = &rf->m->states[rf->state];
		if (rf->kids[i] == NULL)
			rf->kids[i] = rframe_new(s->type == FS_MAP ? s->iter : &s->branches[i],
			    jv_copy(rf->vars));
		rf = rf->kids[i];
	}
	return rf;
}

/* Variables a state assigned: name -> JSON text, as AWS records them. */
static jv
merge_vars(jv vars, jv assigned)
{
	if (jv_get_kind(assigned) == JV_KIND_OBJECT) {
		jv_object_foreach(assigned, k, v)
			vars = jv_object_set(vars, k, parse_text(v));
	}
	jv_free(assigned);
	return vars;
}

static void
on_entered(struct rframe *rf, jv d, int64_t at)
{
	int st = state_of(rf->m, member(d, "name"));

	if (st < 0)
		return;
	rf->vars = merge_vars(rf->vars, rf->pending);
	rf->pending = jv_invalid();
	rf->state = st;
	jv_free(rf->input);
	rf->input = parse_text(member(d, "input"));
	rf->entered_ms = at;
	jv_free(rf->task_out);
	rf->task_out = jv_invalid();
	rf->ended = 0;
	drop_kids(rf);
}

/* A state's exit: its output, and whether the frame ended there (a state
 * that ends a branch; a Catch's Next would be entered in the same turn). */
static void
on_exited(struct rframe *rf, jv d)
{
	int st = state_of(rf->m, member(d, "name"));

	if (st < 0)
		return;
	jv_free(rf->pending);
	rf->pending = member(d, "assignedVariables");
	jv_free(rf->out);
	rf->out = parse_text(member(d, "output"));
	rf->ended = rf->m->states[st].type != FS_CHOICE && rf->m->states[st].next < 0;
	drop_kids(rf);
}

static void
on_kids(struct rframe *rf, const char *type, jv d)
{
	if (rf->state < 0)
		return;
	const struct fstate *s = &rf->m->states[rf->state];
	if (strcmp(type, "MapStateStarted") == 0 || strcmp(type, "ParallelStateStarted") == 0) {
		jv len = member(d, "length");
		drop_kids(rf);
		rf->nkids = s->type == FS_PARALLEL ? s->nbranches :
		    jv_get_kind(len) == JV_KIND_NUMBER ? (int)jv_number_value(len) : 0;
		rf->kids = xcalloc((size_t)rf->nkids + 1, sizeof *rf->kids);
		jv_free(len);
	} else if (strcmp(type, "MapIterationFailed") == 0) {
		jv path = JV_ARRAY(member(d, "index"));
		struct rframe *k = locate(rf, path);
		if (k != rf && k != NULL) {
			k->failed = 1;
			jv_free(k->errv);
			k->errv = JV_OBJECT(jv_string("Error"), member(d, "error"),
			    jv_string("Cause"), member(d, "cause"));
		}
		jv_free(path);
	} else if (strcmp(type, "MapIterationStarted") == 0) {
		jv path = JV_ARRAY(member(d, "index"));
		locate(rf, path);	/* made now: it has started */
		jv_free(path);
	} else if (ends_with(type, "StateSucceeded") || ends_with(type, "StateFailed")) {
		drop_kids(rf);
	}
}

static void
frame_event(struct rframe *rf, const char *type, jv d, int64_t at)
{
	if (ends_with(type, "StateEntered"))
		on_entered(rf, d, at);
	else if (ends_with(type, "StateExited"))
		on_exited(rf, d);
	else if (strcmp(type, "TaskSucceeded") == 0 && rf->state >= 0 &&
	    rf->m->states[rf->state].type == FS_TASK) {
		jv_free(rf->task_out);
		rf->task_out = parse_text(member(d, "output"));
	} else if (strncmp(type, "Map", 3) == 0 || strncmp(type, "Parallel", 8) == 0)
		on_kids(rf, type, d);
}

static void
one_event(struct flow *fl, struct scan *sc, const char *arn, jv ev)
{
	jv t = member(ev, "type"), ts = member(ev, "timestamp");
	const char *type = jv_get_kind(t) == JV_KIND_STRING ? jv_string_value(t) : "";
	int64_t at = 0;
	struct open_exec *o = find(sc, arn);
	char key[96];

	if (jv_get_kind(ts) == JV_KIND_STRING)
		clock_parse_rfc3339(jv_string_value(ts), &at);
	fx_details_key(type, key, sizeof key);
	jv d = member(ev, key);
	if (strcmp(type, "ExecutionStarted") == 0 && o == NULL) {
		XGROW(&sc->v, &sc->cap, sc->n + 1);
		o = &sc->v[sc->n++];
		*o = (struct open_exec){ .arn = xstrdup(arn), .start_ms = at,
		    .root = rframe_new(&fl->def->top, jv_object()) };
		o->input = parse_text(member(d, "input"));
	} else if (o == NULL) {
		;	/* the log's start was cut: nothing to resume */
	} else if (strncmp(type, "Execution", 9) == 0 && strcmp(type, "ExecutionStarted") != 0) {
		o->done = 1;
	} else {
		jv path = member(ev, "evkitFrame");
		struct rframe *rf = locate(o->root, path);
		jv_free(path);
		if (rf != NULL)
			frame_event(rf, type, d, at);
	}
	if (o != NULL) {
		jv id = member(ev, "id");
		if (jv_get_kind(id) == JV_KIND_NUMBER)
			o->evid = (int)jv_number_value(id);
		jv_free(id);
	}
	jv_free(d);
	jv_free(t);
	jv_free(ts);
}

static int
scan_log(struct flow *fl, struct scan *sc, struct ev_err *e)
{
	struct elog_reader *rd;
	struct elog_rec r;
	int rc;

	if ((rc = elog_reader_open(fl->hist, 1, &rd, e)) != 0)
		return rc;
	while ((rc = elog_reader_next(rd, &r, e)) == 1) {
		jv ev, arn;
		struct ev_err pe;
		if (jx_parse(r.stream, r.stream_n, &arn, &pe) != 0)
			continue;
		if (jx_parse(r.event, r.event_n, &ev, &pe) == 0)
			one_event(fl, sc, jv_string_value(arn), ev);
		jv_free(ev);
		jv_free(arn);
	}
	elog_reader_close(rd);
	return rc;
}

/* Frame f goes on as rf (its own now) left it: at its state with the
 * input and variables it had there, a recorded task success not run
 * again, a Map or Parallel with its kids. */
static void
restore(struct frame *f, struct rframe *rf)
{
	f->state = rf->state;
	f->resumed = 1;
	f->entered_ms = rf->entered_ms;
	if (jv_is_valid(rf->task_out)) {
		f->res = rf->task_out;
		rf->task_out = jv_invalid();
		f->resume = R_TASK_OK;
	}
	if (rf->nkids > 0)
		f->plan = rf;
	else
		fx_plan_free(rf);
}

/* Kid i of f from what the log says of it (k, taken). */
static void
plan_kid(struct frame *f, int i, struct rframe *k, int tolerant)
{
	f->started = i + 1 > f->started ? i + 1 : f->started;
	if (k->failed || k->ended) {
		f->finished++;
		if (k->ended) {
			f->results = jv_array_set(f->results, i, jv_copy(k->out));
		} else if (tolerant) {
			f->failed++;
			f->results = jv_array_set(f->results, i, jv_copy(k->errv));
		} else if (!f->fail_set) {
			jv e = jv_object_get(jv_copy(k->errv), jv_string("Error"));
			jv c = jv_object_get(jv_copy(k->errv), jv_string("Cause"));
			f->fail_set = 1;
			ferr_set(&f->err, jv_get_kind(e) == JV_KIND_STRING ? jv_string_value(e) :
			    "States.TaskFailed", "%s", jv_get_kind(c) == JV_KIND_STRING ?
			    jv_string_value(c) : "");
			jv_free(e);
			jv_free(c);
		}
		fx_plan_free(k);
		return;
	}
	if (k->state < 0) {	/* started, no state entered */
		fx_plan_free(k);
		const struct fstate *s = &f->m->states[f->state];
		jv in = s->type == FS_MAP ? jv_array_get(jv_copy(f->items), i) : jv_copy(f->eff);
		f->kids[i] = fx_frame(f->x, s->type == FS_MAP ? s->iter : &s->branches[i], f, i,
		    in, jv_copy(f->vars));
		f->running++;
		fx_queue(f->kids[i]);
		return;
	}
	f->kids[i] = fx_frame(f->x, k->m, f, i, jv_copy(k->input), jv_copy(k->vars));
	f->running++;
	restore(f->kids[i], k);
	fx_queue(f->kids[i]);
}

int
fx_plan_kids(struct frame *f)
{
	struct rframe *rf = f->plan;
	int hi = 0;

	f->plan = NULL;
	if (rf->state != f->state || rf->nkids != f->nkids) {
		fx_plan_free(rf);
		return -1;
	}
	for (int i = 0; i < rf->nkids; i++)
		if (rf->kids[i] != NULL)
			hi = i + 1;
	for (int i = 0; i < hi; i++) {
		struct rframe *k = rf->kids[i];
		rf->kids[i] = NULL;
		if (k != NULL)
			plan_kid(f, i, k, f->m->states[f->state].type == FS_MAP &&
			    (f->tol_count >= 0 || f->tol_pct >= 0));
		else
			fx_kid_start(f, i);	/* a gap: an iteration not recorded */
	}
	fx_plan_free(rf);
	if (f->finished == f->nkids || (f->fail_set && f->running == 0)) {
		f->kids_ended = 1;
		f->resume = R_KIDS_DONE;
		return 1;
	}
	return 0;
}

static void
restart(struct flow *fl, struct open_exec *o)
{
	struct fexec *x = fx_exec_new(fl, o->arn, o->start_ms, jv_copy(o->input));
	struct rframe *rf = o->root;

	o->root = NULL;
	x->evid = o->evid;
	if (rf->state < 0) {
		fx_plan_free(rf);
		fx_exec_go(x, fl->def->top.start, jv_copy(o->input), jv_object());
		return;
	}
	restore(fx_exec_go(x, rf->state, jv_copy(rf->input), jv_copy(rf->vars)), rf);
}

int
flow_resume(struct flow *fl, struct ev_err *e)
{
	struct scan sc = { 0 };
	int rc;

	if (fl->hist == NULL)
		return err_set(e, EV_USAGE, "--resume needs --history");
	rc = scan_log(fl, &sc, e);
	for (size_t i = 0; i < sc.n; i++) {
		struct open_exec *o = &sc.v[i];
		if (rc == 0 && !o->done)
			restart(fl, o);
		free(o->arn);
		jv_free(o->input);
		fx_plan_free(o->root);
	}
	free(sc.v);
	return rc;
}
