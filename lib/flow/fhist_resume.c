/* fhist_resume — --resume: the executions of the history log that have
 * no end event, each started again at its last top-level state: with the
 * input and variables it had there, a Wait with what is left of it, a
 * Task whose success was recorded not run again. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/jx.h"
#include "evlog/evlog.h"
#include "fexec_int.h"

struct open_exec {
	char *arn;
	jv input, vars, pending, last_input, task_out;
	int64_t start_ms, entered_ms;
	int state, done, evid;
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

static int
top_state(const struct fmachine *m, jv name)
{
	for (int i = 0; jv_get_kind(name) == JV_KIND_STRING && i < m->nstates; i++)
		if (strcmp(m->states[i].name, jv_string_value(name)) == 0)
			return i;
	return -1;
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
on_entered(struct flow *fl, struct open_exec *o, jv d, int64_t at)
{
	int st = top_state(&fl->def->top, jv_object_get(jv_copy(d), jv_string("name")));

	if (st < 0)
		return;
	o->vars = merge_vars(o->vars, o->pending);
	o->pending = jv_invalid();
	o->state = st;
	jv_free(o->last_input);
	o->last_input = parse_text(member(d, "input"));
	o->entered_ms = at;
	jv_free(o->task_out);
	o->task_out = jv_invalid();
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
		*o = (struct open_exec){ .arn = xstrdup(arn), .vars = jv_object(),
		    .pending = jv_invalid(), .last_input = jv_invalid(), .task_out = jv_invalid(),
		    .start_ms = at, .state = -1 };
		o->input = parse_text(member(d, "input"));
	} else if (o == NULL) {
		;	/* the log's start was cut: nothing to resume */
	} else if (ends_with(type, "StateEntered")) {
		on_entered(fl, o, d, at);
	} else if (ends_with(type, "StateExited") &&
	    top_state(&fl->def->top, member(d, "name")) >= 0) {
		jv_free(o->pending);
		o->pending = member(d, "assignedVariables");
	} else if (strcmp(type, "TaskSucceeded") == 0 && o->state >= 0 &&
	    fl->def->top.states[o->state].type == FS_TASK) {
		jv_free(o->task_out);
		o->task_out = parse_text(member(d, "output"));
	} else if (strncmp(type, "Execution", 9) == 0 && strcmp(type, "ExecutionStarted") != 0) {
		o->done = 1;
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

static void
restart(struct flow *fl, struct open_exec *o)
{
	struct fexec *x = fx_exec_new(fl, o->arn, o->start_ms, jv_copy(o->input));

	x->evid = o->evid;
	if (o->state < 0) {
		fx_exec_go(x, fl->def->top.start, jv_copy(o->input), jv_object());
		return;
	}
	struct frame *f = fx_exec_go(x, o->state, jv_copy(o->last_input), jv_copy(o->vars));
	f->resumed = 1;
	f->entered_ms = o->entered_ms;
	if (jv_is_valid(o->task_out)) {
		f->res = jv_copy(o->task_out);
		f->resume = R_TASK_OK;
	}
}

int
flow_resume(struct flow *fl, struct ev_err *e)
{
	struct scan sc = { 0 };
	int rc, n = 0;

	if (fl->hist == NULL)
		return err_set(e, EV_USAGE, "--resume needs --history");
	rc = scan_log(fl, &sc, e);
	for (size_t i = 0; i < sc.n; i++) {
		struct open_exec *o = &sc.v[i];
		if (rc == 0 && !o->done) {
			restart(fl, o);
			n++;
		}
		free(o->arn);
		jv_free(o->input);
		jv_free(o->vars);
		jv_free(o->pending);
		jv_free(o->last_input);
		jv_free(o->task_out);
	}
	free(sc.v);
	return rc;
}
