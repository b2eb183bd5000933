/* svc_sfn — evkit-serve's Step Functions service (AWS JSON 1.0,
 * X-Amz-Target AWSStepFunctions.*): state machines checked as fnflow
 * checks them and kept under $EVKIT_HOME/statemachines, executions run by
 * lib/flow's engine a step at a time from the service's tick (no thread,
 * no wait), their history kept in memory for GetExecutionHistory.
 * Tasks: the --function bindings, sqs:sendMessage, events:putEvents
 * through the server's rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include <jv.h>

#include "core/alloc.h"
#include "core/arn.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jx.h"
#include "core/names.h"
#include "flow/flow.h"
#include "serve.h"
#include "svc.h"
#include "svc_sfn.h"

static char **fn_specs, **machine_specs;
static int nfn_specs, nmachine_specs;
static const char *rules_file;

void
serve_sfn_setup(char **functions, int nfunctions, char **machines, int nmachines,
    const char *rules)
{
	fn_specs = functions;
	nfn_specs = nfunctions;
	machine_specs = machines;
	nmachine_specs = nmachines;
	rules_file = rules;
}

static const struct serve_svc *self(void);

static const char *
str(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;

	jv_free(v);	/* o keeps the string */
	return s;
}

static double
secs(int64_t ms)
{
	return (double)ms / 1000.0;
}

static struct sm *
sm_find(struct sfn *s, const char *arn)
{
	for (struct sm *m = s->sms; m != NULL; m = m->next)
		if (strcmp(m->arn, arn) == 0)
			return m;
	return NULL;
}

static struct sx *
sx_find(struct sfn *s, const char *arn)
{
	for (struct sx *x = s->xs; x != NULL; x = x->next)
		if (strcmp(x->arn, arn) == 0)
			return x;
	return NULL;
}

/* StartExecution's and CreateStateMachine's names: 1..80 of [A-Za-z0-9_-]. */
static int
name_ok(const char *n)
{
	size_t k = strlen(n);

	return k >= 1 && k <= 80 &&
	    strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == k;
}

/* ---- executions' ends and events, from flow ---- */

static void
answer_sync(struct sx *x)
{
	struct serve_call *c = x->sync;
	jv r = jv_copy(x->result);

	x->sync = NULL;
	r = jv_object_set(r, jv_string("startDate"), jv_number(secs(x->start_ms)));
	r = jv_object_set(r, jv_string("stopDate"), jv_number(secs(x->stop_ms)));
	r = jv_object_set(r, jv_string("input"), jv_string(x->input));
	r = jv_object_set(r, jv_string("billingDetails"), JV_OBJECT(
	    jv_string("billedMemoryUsedInMB"), jv_number(64),
	    jv_string("billedDurationInMilliseconds"), jv_number((double)(x->stop_ms - x->start_ms))));
	jv d = jv_dump_string(r, 0);
	serve_reply(c, 200, NULL, jv_string_value(d), (size_t)jv_string_length_bytes(jv_copy(d)));
	jv_free(d);
}

static void
on_emit(void *ctx, const char *line, size_t n, int failed, const char *why)
{
	struct sm *m = ctx;
	struct ev_err e;
	jv v;
	(void)failed;
	(void)why;

	if (jx_parse(line, n, &v, &e) != 0)
		return;
	const char *arn = str(v, "executionArn");
	struct sx *x = arn != NULL ? sx_find(m->s, arn) : NULL;
	if (x == NULL) {
		jv_free(v);
		return;
	}
	x->stop_ms = clock_now_ms();
	snprintf(x->status, sizeof x->status, "%s", str(v, "status"));
	/* The engine's dates are RFC 3339; the SDKs read epoch seconds. */
	v = jv_object_delete(jv_object_delete(v, jv_string("startDate")), jv_string("stopDate"));
	jv_free(x->result);
	x->result = v;
	if (x->sync != NULL)
		answer_sync(x);
}

static void
on_event(void *ctx, const char *arn, const char *ev, size_t n)
{
	struct sm *m = ctx;
	struct sx *x = sx_find(m->s, arn);
	struct ev_err e;
	jv v;

	if (x == NULL || jx_parse(ev, n, &v, &e) != 0)
		return;
	v = jv_object_set(v, jv_string("timestamp"), jv_number(secs(clock_now_ms())));
	x->history = jv_array_append(x->history, v);
}

static void
sync_gone(void *ctx, struct serve_call *c)
{
	struct sx *x = ctx;
	(void)c;

	x->sync = NULL;
}

/* ---- state machines ---- */

/* Opens m's engine on def: 0, or 2 with why ("CODE: what at /path"). */
static int
sm_open(struct sfn *s, struct sm *m, struct ev_err *e)
{
	struct flow_opts o = {
		.machine = m->name, .arn = m->arn, .express = strcmp(m->type, "EXPRESS") == 0,
		.jobs = 1, .envelope = 1, .any_order = 1, .emit = on_emit, .on_event = on_event,
		.ctx = m,
		.res = { .functions = fn_specs, .nfunctions = nfn_specs,
		    /* The default bus's rules as they are now (none yet: none). */
		    .rules = rules_file != NULL || access(s->rules, R_OK) == 0 ? s->rules : NULL,
		    .jobs = 4, .local_url = serve_url(s->srv) },
	};
	int rc = flow_open(&o, m->def, strlen(m->def), &m->fl, e);

	if (rc != 0 && strncmp(e->msg, m->name, strlen(m->name)) == 0 &&
	    strncmp(e->msg + strlen(m->name), ": ", 2) == 0)
		memmove(e->msg, e->msg + strlen(m->name) + 2, strlen(e->msg + strlen(m->name) + 1));
	return rc;
}

static void
sm_free(struct sm *m)
{
	flow_close(m->fl);
	free(m->name);
	free(m->arn);
	free(m->def);
	free(m->type);
	free(m->role);
	free(m);
}

static char *
sm_path(const struct sfn *s, const char *name)
{
	struct buf b = { 0 };

	buf_printf(&b, "%s/statemachines/%s.json", s->home, name);
	return buf_detach(&b);
}

/* Writes m whole under $EVKIT_HOME/statemachines and renames it in. */
static int
sm_save(const struct sfn *s, const struct sm *m)
{
	char *path = sm_path(s, m->name);
	struct buf tmp = { 0 };
	jv v = JV_OBJECT(jv_string("name"), jv_string(m->name), jv_string("type"),
	    jv_string(m->type), jv_string("roleArn"), jv_string(m->role),
	    jv_string("creationDate"), jv_number((double)m->created_ms),
	    jv_string("definition"), jv_string(m->def));
	jv d = jv_dump_string(v, 0);
	FILE *f;
	int rc = -1;

	buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
	if (name_mkparent(path) == 0 && (f = fopen(tmp.p, "we")) != NULL) {
		int bad = fputs(jv_string_value(d), f) == EOF;
		if (fclose(f) != 0 || bad || rename(tmp.p, path) != 0)
			unlink(tmp.p);
		else
			rc = 0;
	}
	jv_free(d);
	buf_free(&tmp);
	free(path);
	return rc;
}

static struct sm *
sm_new(struct sfn *s, const char *name, const char *def, const char *type, const char *role)
{
	struct sm *m = xcalloc(1, sizeof *m);

	m->s = s;
	m->name = xstrdup(name);
	m->arn = arn_make("states", NULL, "stateMachine:", name);
	m->def = xstrdup(def);
	m->type = xstrdup(type != NULL ? type : "STANDARD");
	m->role = xstrdup(role != NULL ? role : "arn:aws:iam::000000000000:role/evkit");
	m->created_ms = clock_now_ms();
	return m;
}

static void
sm_add(struct sfn *s, struct sm *m)
{
	m->next = s->sms;
	s->sms = m;
}

static void
reply(struct serve_call *c, jv v)
{
	jv d = jv_dump_string(v, 0);

	serve_reply(c, 200, NULL, jv_string_value(d), (size_t)jv_string_length_bytes(jv_copy(d)));
	jv_free(d);
}

/* The state machine the request's stateMachineArn names, or an error. */
static struct sm *
need_sm(struct sfn *s, struct serve_call *c, jv rq)
{
	const char *arn = str(rq, "stateMachineArn"), *why;
	struct sm *m;

	if (arn == NULL)
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: "
		    "Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null");
	else if ((why = flow_arn_check(arn)) != NULL)
		serve_error(c, 400, "InvalidArn", NULL, "Invalid Arn: '%s': %s", arn, why);
	else if ((m = sm_find(s, arn)) == NULL)
		serve_error(c, 400, "StateMachineDoesNotExist", NULL, "State Machine Does Not Exist: "
		    "'%s'", arn);
	else
		return m;
	return NULL;
}

static struct sx *
need_sx(struct sfn *s, struct serve_call *c, jv rq)
{
	const char *arn = str(rq, "executionArn");
	struct sx *x;

	if (arn == NULL)
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: "
		    "Value null at 'executionArn' failed to satisfy constraint: Member must not be null");
	else if (strncmp(arn, "arn:aws:states:", 15) != 0 ||
	    (strstr(arn, ":execution:") == NULL && strstr(arn, ":express:") == NULL))
		serve_error(c, 400, "InvalidArn", NULL, "Invalid Arn: '%s'", arn);
	else if ((x = sx_find(s, arn)) == NULL)
		serve_error(c, 400, "ExecutionDoesNotExist", NULL, "Execution Does Not Exist: '%s'",
		    arn);
	else
		return x;
	return NULL;
}

static jv
sm_desc(const struct sm *m)
{
	return JV_OBJECT(jv_string("stateMachineArn"), jv_string(m->arn), jv_string("name"),
	    jv_string(m->name), jv_string("status"), jv_string("ACTIVE"), jv_string("definition"),
	    jv_string(m->def), jv_string("roleArn"), jv_string(m->role), jv_string("type"),
	    jv_string(m->type), jv_string("creationDate"), jv_number(secs(m->created_ms)));
}

static void
op_create(struct sfn *s, struct serve_call *c, jv rq)
{
	const char *name = str(rq, "name"), *def = str(rq, "definition"), *type = str(rq, "type");
	struct ev_err e;

	if (name == NULL || def == NULL) {
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: "
		    "Value null at '%s' failed to satisfy constraint: Member must not be null",
		    name == NULL ? "name" : "definition");
		return;
	}
	if (!name_ok(name)) {
		serve_error(c, 400, "InvalidName", NULL, "Invalid Name: '%s'", name);
		return;
	}
	if (type != NULL && strcmp(type, "STANDARD") != 0 && strcmp(type, "EXPRESS") != 0) {
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: Value "
		    "'%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: "
		    "[STANDARD, EXPRESS]", type);
		return;
	}
	struct sm *m = sm_new(s, name, def, type, str(rq, "roleArn")), *old = sm_find(s, m->arn);
	if (old != NULL) {
		if (strcmp(old->def, def) != 0 || strcmp(old->type, m->type) != 0)
			serve_error(c, 400, "StateMachineAlreadyExists", NULL, "State Machine Already "
			    "Exists: '%s'", m->arn);
		else	/* the same again: CreateStateMachine is idempotent */
			reply(c, JV_OBJECT(jv_string("stateMachineArn"), jv_string(old->arn),
			    jv_string("creationDate"), jv_number(secs(old->created_ms))));
		sm_free(m);
		return;
	}
	if (sm_open(s, m, &e) != 0) {
		serve_error(c, 400, "InvalidDefinition", NULL, "Invalid State Machine Definition: "
		    "'%s'", e.msg);
		sm_free(m);
		return;
	}
	if (sm_save(s, m) != 0) {
		serve_error(c, 500, "ServiceException", NULL, "cannot write the state machine under "
		    "%s", s->home);
		sm_free(m);
		return;
	}
	sm_add(s, m);
	reply(c, JV_OBJECT(jv_string("stateMachineArn"), jv_string(m->arn),
	    jv_string("creationDate"), jv_number(secs(m->created_ms))));
}

static void
op_describe_sm(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sm *m = need_sm(s, c, rq);

	if (m != NULL)
		reply(c, sm_desc(m));
}

static void
op_list_sm(struct sfn *s, struct serve_call *c, jv rq)
{
	jv a = jv_array();
	(void)rq;

	for (struct sm *m = s->sms; m != NULL; m = m->next)
		a = jv_array_append(a, JV_OBJECT(jv_string("stateMachineArn"), jv_string(m->arn),
		    jv_string("name"), jv_string(m->name), jv_string("type"), jv_string(m->type),
		    jv_string("creationDate"), jv_number(secs(m->created_ms))));
	reply(c, JV_OBJECT(jv_string("stateMachines"), a));
}

static void
op_delete_sm(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sm *m = need_sm(s, c, rq);

	if (m == NULL)
		return;
	for (struct sx *x = s->xs; x != NULL; x = x->next)
		if (x->m == m && strcmp(x->status, "RUNNING") == 0)
			flow_abort(m->fl, x->arn, "States.Aborted", "the state machine was deleted");
	for (struct sx *x = s->xs; x != NULL; x = x->next)
		if (x->m == m)
			x->m = NULL;
	for (struct sm **pp = &s->sms; *pp != NULL; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	char *path = sm_path(s, m->name);
	unlink(path);
	free(path);
	sm_free(m);
	reply(c, jv_object());
}

/* ---- executions ---- */

static jv
sx_desc(const struct sx *x)
{
	jv v = JV_OBJECT(jv_string("executionArn"), jv_string(x->arn), jv_string("stateMachineArn"),
	    jv_string(x->sm_arn), jv_string("name"), jv_string(x->name), jv_string("status"),
	    jv_string(x->status), jv_string("startDate"), jv_number(secs(x->start_ms)));

	if (x->stop_ms != 0)
		v = jv_object_set(v, jv_string("stopDate"), jv_number(secs(x->stop_ms)));
	return v;
}

static struct sx *
sx_new(struct sfn *s, struct sm *m, const char *name, const char *input)
{
	struct sx *x = xcalloc(1, sizeof *x);
	struct buf b = { 0 };

	buf_printf(&b, "%s%s", flow_exec_prefix(m->fl), name);
	x->arn = buf_detach(&b);
	x->m = m;
	x->sm_arn = xstrdup(m->arn);
	x->name = xstrdup(name);
	x->input = xstrdup(input);
	x->start_ms = clock_now_ms();
	x->history = jv_array();
	x->result = jv_null();
	snprintf(x->status, sizeof x->status, "RUNNING");
	x->next = s->xs;
	s->xs = x;
	return x;
}

static void
sx_unlink(struct sfn *s, struct sx *x)
{
	for (struct sx **pp = &s->xs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	jv_free(x->history);
	jv_free(x->result);
	free(x->arn);
	free(x->sm_arn);
	free(x->name);
	free(x->input);
	free(x);
}

/* StartExecution and StartSyncExecution: the execution, or NULL answered. */
static struct sx *
start(struct sfn *s, struct serve_call *c, jv rq, int sync)
{
	struct sm *m = need_sm(s, c, rq);
	const char *name = str(rq, "name"), *input = str(rq, "input");
	char uuid[37];
	struct ev_err e;

	if (m == NULL)
		return NULL;
	if (sync && strcmp(m->type, "EXPRESS") != 0) {
		serve_error(c, 400, "StateMachineTypeNotSupported", NULL, "This operation is not "
		    "supported by this type of state machine");
		return NULL;
	}
	if (name == NULL) {
		uuid_v4(uuid);
		name = uuid;
	} else if (!name_ok(name)) {
		serve_error(c, 400, "InvalidName", NULL, "Invalid Name: '%s'", name);
		return NULL;
	}
	if (input == NULL)
		input = "{}";
	struct buf arn = { 0 };
	buf_printf(&arn, "%s%s", flow_exec_prefix(m->fl), name);
	struct sx *old = sx_find(s, arn.p);
	buf_free(&arn);
	if (old != NULL) {
		/* The same name and input while it runs: the same execution. */
		if (!sync && strcmp(old->status, "RUNNING") == 0 && strcmp(old->input, input) == 0)
			return old;
		serve_error(c, 400, "ExecutionAlreadyExists", NULL, "Execution Already Exists: "
		    "'%s'", old->arn);
		return NULL;
	}
	struct sx *x = sx_new(s, m, name, input);
	if (flow_start(m->fl, input, strlen(input), name, &e) != 0) {
		sx_unlink(s, x);
		serve_error(c, 400, "InvalidExecutionInput", NULL, "Invalid Execution Input: %s",
		    e.msg);
		return NULL;
	}
	serve_kick(s->srv, self());
	return x;
}

static void
op_start(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sx *x = start(s, c, rq, 0);

	if (x != NULL)
		reply(c, JV_OBJECT(jv_string("executionArn"), jv_string(x->arn),
		    jv_string("startDate"), jv_number(secs(x->start_ms))));
}

static void
op_start_sync(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sx *x = start(s, c, rq, 1);

	if (x == NULL)
		return;
	x->sync = c;
	serve_on_gone(c, sync_gone, x);
	if (strcmp(x->status, "RUNNING") != 0)
		answer_sync(x);
}

static void
op_describe_x(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sx *x = need_sx(s, c, rq);

	if (x == NULL)
		return;
	jv v = sx_desc(x);
	v = jv_object_set(v, jv_string("input"), jv_string(x->input));
	v = jv_object_set(v, jv_string("inputDetails"), JV_OBJECT(jv_string("included"),
	    jv_true()));
	if (jv_get_kind(x->result) == JV_KIND_OBJECT)
		jv_object_foreach(x->result, k, val) {
		const char *ks = jv_string_value(k);
		if (strcmp(ks, "output") == 0 || strcmp(ks, "error") == 0 ||
		    strcmp(ks, "cause") == 0)
			v = jv_object_set(v, jv_copy(k), jv_copy(val));
		jv_free(k);
		jv_free(val);
		}
	if (strcmp(x->status, "SUCCEEDED") == 0)
		v = jv_object_set(v, jv_string("outputDetails"), JV_OBJECT(jv_string("included"),
		    jv_true()));
	reply(c, v);
}

static void
op_history(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sx *x = need_sx(s, c, rq);
	jv rev = jv_object_get(jv_copy(rq), jv_string("reverseOrder"));

	if (x != NULL) {
		jv a = jv_copy(x->history);
		if (jv_get_kind(rev) == JV_KIND_TRUE) {
			jv r = jv_array();
			for (int i = jv_array_length(jv_copy(a)) - 1; i >= 0; i--)
				r = jv_array_append(r, jv_array_get(jv_copy(a), i));
			jv_free(a);
			a = r;
		}
		reply(c, JV_OBJECT(jv_string("events"), a));
	}
	jv_free(rev);
}

static void
op_stop(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sx *x = need_sx(s, c, rq);
	const char *err = str(rq, "error"), *cause = str(rq, "cause");

	if (x == NULL)
		return;
	if (x->m != NULL && strcmp(x->status, "RUNNING") == 0)
		flow_abort(x->m->fl, x->arn, err != NULL ? err : "", cause != NULL ? cause : "");
	if (x->stop_ms == 0)
		x->stop_ms = clock_now_ms();
	reply(c, JV_OBJECT(jv_string("stopDate"), jv_number(secs(x->stop_ms))));
}

static void
op_list_x(struct sfn *s, struct serve_call *c, jv rq)
{
	struct sm *m = need_sm(s, c, rq);
	const char *filter = str(rq, "statusFilter");
	jv a = jv_array();

	if (m == NULL) {
		jv_free(a);
		return;
	}
	for (struct sx *x = s->xs; x != NULL; x = x->next)
		if (x->m == m && (filter == NULL || strcmp(filter, x->status) == 0))
			a = jv_array_append(a, sx_desc(x));
	reply(c, JV_OBJECT(jv_string("executions"), a));
}

/* ---- the service ---- */

static const struct {
	const char *op;
	void (*fn)(struct sfn *, struct serve_call *, jv);
} ops[] = {
	{ "CreateStateMachine", op_create }, { "DescribeStateMachine", op_describe_sm },
	{ "ListStateMachines", op_list_sm }, { "DeleteStateMachine", op_delete_sm },
	{ "StartExecution", op_start }, { "StartSyncExecution", op_start_sync },
	{ "DescribeExecution", op_describe_x }, { "GetExecutionHistory", op_history },
	{ "StopExecution", op_stop }, { "ListExecutions", op_list_x },
};

static void
call(void *state, struct serve_call *c, const struct serve_req *rq)
{
	struct sfn *s = state;
	struct ev_err e;
	jv v;

	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		if (strcmp(rq->op, ops[i].op) != 0)
			continue;
		int bad = jx_parse(rq->body_n > 0 ? rq->body : "{}", rq->body_n > 0 ? rq->body_n : 2,
		    &v, &e) != 0;
		if (bad || jv_get_kind(v) != JV_KIND_OBJECT) {
			if (!bad)
				jv_free(v);
			serve_error(c, 400, "SerializationException", NULL, "Start of structure or "
			    "map found where not expected.");
			return;
		}
		ops[i].fn(s, c, v);
		jv_free(v);
		return;
	}
	serve_error(c, 400, "UnknownOperationException", NULL, "Unknown operation %s", rq->op);
}

static int64_t
tick(void *state, int64_t now_ms)
{
	struct sfn *s = state;
	int64_t next = -1;
	(void)now_ms;

	for (struct sm *m = s->sms; m != NULL; m = m->next) {
		int64_t t = flow_step(m->fl);
		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	return next;
}

/* A machine file under $EVKIT_HOME/statemachines (what CreateStateMachine
 * wrote): 0, or 2 with e. */
static int
load_saved(struct sfn *s, const char *path, struct ev_err *e)
{
	struct buf b = { 0 };
	jv v;
	int rc;

	if (buf_read_file(&b, path) != 0)
		return err_sys(e, EV_NOINPUT, "%s", path);
	rc = jx_parse(b.p, b.n, &v, e);
	buf_free(&b);
	if (rc != 0 || jv_get_kind(v) != JV_KIND_OBJECT || str(v, "name") == NULL ||
	    str(v, "definition") == NULL) {
		if (rc == 0)
			jv_free(v);
		return err_set(e, EV_USAGE, "%s: not a state machine evkit-serve wrote", path);
	}
	struct sm *m = sm_new(s, str(v, "name"), str(v, "definition"), str(v, "type"),
	    str(v, "roleArn"));
	jv at = jv_object_get(jv_copy(v), jv_string("creationDate"));
	if (jv_get_kind(at) == JV_KIND_NUMBER)
		m->created_ms = (int64_t)jv_number_value(at);
	jv_free(at);
	jv_free(v);
	/* One whose Task names a function not bound this time stays on disk,
	 * unserved until a start binds it again. */
	if (sm_open(s, m, e) != 0) {
		sm_free(m);
		return 0;
	}
	sm_add(s, m);
	return 0;
}

static int
load_dir(struct sfn *s, struct ev_err *e)
{
	struct buf dir = { 0 };
	struct dirent *de;
	int rc = 0;

	buf_printf(&dir, "%s/statemachines", s->home);
	DIR *d = opendir(dir.p);
	while (rc == 0 && d != NULL && (de = readdir(d)) != NULL) {
		size_t k = strlen(de->d_name);
		if (de->d_name[0] == '.' || k < 6 || strcmp(de->d_name + k - 5, ".json") != 0)
			continue;
		struct buf p = { 0 };
		buf_printf(&p, "%s/%s", dir.p, de->d_name);
		rc = load_saved(s, p.p, e);
		buf_free(&p);
	}
	if (d != NULL)
		closedir(d);
	buf_free(&dir);
	return rc;
}

/* --machine NAME=FILE: a STANDARD machine, created (or replaced) at start. */
static int
load_flag(struct sfn *s, const char *spec, struct ev_err *e)
{
	const char *eq = strchr(spec, '=');
	struct buf b = { 0 };
	int rc;

	if (eq == NULL || eq == spec || eq[1] == '\0')
		return err_set(e, EV_USAGE, "--machine '%s': expected NAME=FILE", spec);
	char *name = xstrndup(spec, (size_t)(eq - spec));
	if (!name_ok(name)) {
		rc = err_set(e, EV_USAGE, "--machine '%s': invalid name '%s'", spec, name);
		free(name);
		return rc;
	}
	if (buf_read_file(&b, eq + 1) != 0) {
		free(name);
		return err_sys(e, EV_NOINPUT, "--machine %s", spec);
	}
	buf_addc(&b, '\0');
	struct sm *m = sm_new(s, name, b.p, "STANDARD", NULL), *old = sm_find(s, m->arn);
	free(name);
	buf_free(&b);
	if ((rc = sm_open(s, m, e)) != 0) {
		err_wrap(e, "--machine %s", eq + 1);
		sm_free(m);
		return rc;
	}
	if (old != NULL) {
		for (struct sm **pp = &s->sms; *pp != NULL; pp = &(*pp)->next)
			if (*pp == old) {
				*pp = old->next;
				break;
			}
		sm_free(old);
	}
	sm_add(s, m);
	if (sm_save(s, m) != 0)
		return err_set(e, EV_IOERR, "--machine %s: cannot write it under %s", spec, s->home);
	return 0;
}

static int
init(struct serve *srv, void **state, struct ev_err *e)
{
	struct sfn *s = xcalloc(1, sizeof *s);
	int rc;

	s->srv = srv;
	*state = s;
	if ((rc = name_home(&s->home, e)) != 0)
		return rc;
	if (rules_file != NULL) {
		s->rules = xstrdup(rules_file);
	} else {
		struct buf b = { 0 };
		buf_printf(&b, "%s/buses/default.json", s->home);
		s->rules = buf_detach(&b);
	}
	if ((rc = load_dir(s, e)) != 0)
		return rc;
	for (int i = 0; rc == 0 && i < nmachine_specs; i++)
		rc = load_flag(s, machine_specs[i], e);
	return rc;
}

static void
fini(void *state)
{
	struct sfn *s = state;

	if (s == NULL)
		return;
	while (s->xs != NULL)
		sx_unlink(s, s->xs);
	while (s->sms != NULL) {
		struct sm *m = s->sms;
		s->sms = m->next;
		sm_free(m);
	}
	free(s->home);
	free(s->rules);
	free(s);
}

const struct serve_svc serve_sfn = {
	.name = "states",
	.target_prefix = "AWSStepFunctions.",
	.json_type = "application/x-amz-json-1.0",
	.init = init,
	.call = call,
	.tick = tick,
	.fini = fini,
};

static const struct serve_svc *
self(void)
{
	return &serve_sfn;
}
