/* svc_events — EventBridge's API over rules files (see svc_events.h):
 * the calls on rules, targets and buses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arn.h"
#include "core/json.h"
#include "core/names.h"
#include "pattern/pattern.h"
#include "bus/rules.h"
#include "serve.h"
#include "svc_events.h"

jv
evs_request(struct serve_call *c, const struct serve_req *rq)
{
	jv v = rq->body_n == 0 ? jv_object() : jv_parse_sized(rq->body, (int)rq->body_n);

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		serve_error(c, 400, "SerializationException", NULL,
		    "the request body is not a JSON object");
		return jv_invalid();
	}
	return v;
}

const char *
evs_str(jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;

	/* o holds a reference to the string: the pointer outlives v. */
	jv_free(v);
	return s;
}

/* The rules array of top and the index of the rule named name, or -1. */
static int
rule_index(jv top, const char *name)
{
	jv rules = jv_object_get(jv_copy(top), jv_string("rules"));
	int n = jv_array_length(jv_copy(rules)), found = -1;

	for (int i = 0; i < n && found < 0; i++) {
		jv r = jv_array_get(jv_copy(rules), i);
		const char *rn = evs_str(r, "name");
		if (rn != NULL && strcmp(rn, name) == 0)
			found = i;
		jv_free(r);
	}
	jv_free(rules);
	return found;
}

/* What each call on one rule starts with: its bus, the bus's rules file
 * and the rule's place (-1: none).  0, or -1 with c answered. */
struct at {
	struct ebus *b;
	jv top;
	const char *name;
	int i;
};

static int
locate(struct evs *s, struct serve_call *c, jv req, const char *key, int must, struct at *a)
{
	a->top = jv_invalid();
	a->name = evs_str(req, key);
	if (a->name == NULL) {
		serve_error(c, 400, "ValidationException", NULL, "Parameter %s is required.", key);
		return -1;
	}
	if ((a->b = evs_bus(s, c, evs_str(req, "EventBusName"))) == NULL)
		return -1;
	a->top = evs_load(a->b);
	if (!jv_is_valid(a->top)) {
		jv m = jv_invalid_get_msg(a->top);
		serve_error(c, 500, "InternalException", NULL, "the rules file '%s' cannot be read: %s",
		    a->b->path, jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
		jv_free(m);
		return -1;
	}
	a->i = rule_index(a->top, a->name);
	if (a->i < 0 && must) {
		serve_error(c, 400, "ResourceNotFoundException", NULL,
		    "Rule %.64s does not exist on EventBus %s.", a->name, a->b->name);
		jv_free(a->top);
		return -1;
	}
	return 0;
}

static jv
get_rule(const struct at *a)
{
	return jv_array_get(jv_object_get(jv_copy(a->top), jv_string("rules")), a->i);
}

/* Sets the rule of a (appended when a->i < 0) and saves: 0 or -1. */
static int
put_rule_at(struct evs *s, struct serve_call *c, struct at *a, jv rule)
{
	jv rules = jv_object_get(jv_copy(a->top), jv_string("rules"));

	if (a->i < 0)
		a->i = jv_array_length(jv_copy(rules));
	rules = jv_array_set(rules, a->i, rule);
	a->top = jv_object_set(a->top, jv_string("rules"), rules);
	return evs_save(s, c, a->b, jv_copy(a->top));
}

static void
answer_empty(struct serve_call *c)
{
	struct buf b = { 0 };

	buf_adds(&b, "{}");
	serve_json(c, &b);
	buf_free(&b);
}

/* EventPattern checked by the pattern engine: the pattern as jv, or an
 * invalid jv with c answered. */
static jv
check_pattern(struct serve_call *c, const char *text)
{
	struct pat_set *ps = pat_new();
	char *why = NULL;
	jv v = jv_invalid();

	if (pat_add(ps, text, strlen(text), &why) < 0) {
		serve_error(c, 400, "InvalidEventPatternException", NULL,
		    "Event pattern is not valid. Reason: %s", why != NULL ? why : "invalid");
	} else {
		v = jv_parse(text);
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			v = jv_invalid();
			serve_error(c, 400, "InvalidEventPatternException", NULL,
			    "Event pattern is not valid. Reason: not a JSON object");
		}
	}
	free(why);
	pat_free(ps);
	return v;
}

static void
put_rule(struct evs *s, struct serve_call *c, jv req)
{
	struct at a;
	const char *pat = evs_str(req, "EventPattern"), *st = evs_str(req, "State");
	const char *desc = evs_str(req, "Description");

	if (locate(s, c, req, "Name", 0, &a) != 0)
		return;
	jv rule = a.i >= 0 ? get_rule(&a) : jv_object();
	jv p = jv_invalid();
	if (evs_str(req, "ScheduleExpression") != NULL) {
		serve_error(c, 400, "ValidationException", NULL,
		    "ScheduleExpression is not supported here: only event pattern rules.");
	} else if (pat == NULL && a.i < 0) {
		serve_error(c, 400, "ValidationException", NULL,
		    "Parameter(s) EventPattern or ScheduleExpression must be specified.");
	} else if (st != NULL && strcmp(st, "ENABLED") != 0 && strcmp(st, "DISABLED") != 0) {
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: "
		    "Value '%.40s' at 'state' failed to satisfy constraint: Member must satisfy "
		    "enum value set: [ENABLED, DISABLED]", st);
	} else if (pat == NULL || jv_is_valid(p = check_pattern(c, pat))) {
		rule = jv_object_set(rule, jv_string("name"), jv_string(a.name));
		if (jv_is_valid(p))
			rule = jv_object_set(rule, jv_string("pattern"), p);
		rule = jv_object_set(rule, jv_string("state"), jv_string(st != NULL ? st :
		    a.i >= 0 && evs_str(rule, "state") != NULL ? evs_str(rule, "state") : "ENABLED"));
		if (desc != NULL)
			rule = jv_object_set(rule, jv_string("description"), jv_string(desc));
		if (a.i < 0)
			rule = jv_object_set(rule, jv_string("targets"), jv_array());
		if (put_rule_at(s, c, &a, jv_copy(rule)) == 0) {
			struct buf b = { 0 }, arn = { 0 };
			evs_rule_arn(s, a.b, a.name, &arn);
			buf_adds(&b, "{\"RuleArn\":");
			json_add_string(&b, arn.p, arn.n);
			buf_addc(&b, '}');
			serve_json(c, &b);
			buf_free(&b);
			buf_free(&arn);
		}
	}
	jv_free(rule);
	jv_free(a.top);
}

/* One rule as ListRules and DescribeRule give it, appended to b. */
static void
rule_out(const struct evs *s, const struct ebus *bus, jv r, struct buf *b)
{
	const char *name = evs_str(r, "name"), *st = evs_str(r, "state"), *d;
	struct buf arn = { 0 };
	jv p = jv_dump_string(jv_object_get(jv_copy(r), jv_string("pattern")), 0);

	evs_rule_arn(s, bus, name, &arn);
	buf_adds(b, "{\"Name\":");
	json_add_string(b, name, strlen(name));
	buf_adds(b, ",\"Arn\":");
	json_add_string(b, arn.p, arn.n);
	buf_adds(b, ",\"EventPattern\":");
	json_add_string(b, jv_string_value(p), strlen(jv_string_value(p)));
	buf_printf(b, ",\"State\":\"%s\"", st != NULL ? st : "ENABLED");
	if ((d = evs_str(r, "description")) != NULL) {
		buf_adds(b, ",\"Description\":");
		json_add_string(b, d, strlen(d));
	}
	buf_adds(b, ",\"EventBusName\":");
	json_add_string(b, bus->name, strlen(bus->name));
	buf_adds(b, ",\"CreatedBy\":\"000000000000\"}");
	jv_free(p);
	buf_free(&arn);
}

static void
describe_rule(struct evs *s, struct serve_call *c, jv req)
{
	struct at a;
	struct buf b = { 0 };

	if (locate(s, c, req, "Name", 1, &a) != 0)
		return;
	jv r = get_rule(&a);
	rule_out(s, a.b, r, &b);
	serve_json(c, &b);
	buf_free(&b);
	jv_free(r);
	jv_free(a.top);
}

/* Enable (state "ENABLED") or disable a rule. */
static void
set_state(struct evs *s, struct serve_call *c, jv req, const char *state)
{
	struct at a;

	if (locate(s, c, req, "Name", 1, &a) != 0)
		return;
	jv r = jv_object_set(get_rule(&a), jv_string("state"), jv_string(state));
	if (put_rule_at(s, c, &a, r) == 0)
		answer_empty(c);
	jv_free(a.top);
}

static void
delete_rule(struct evs *s, struct serve_call *c, jv req)
{
	struct at a;

	if (locate(s, c, req, "Name", 0, &a) != 0)
		return;
	if (a.i < 0) {
		answer_empty(c);	/* as EventBridge: deleting what is not there is done */
		jv_free(a.top);
		return;
	}
	jv r = get_rule(&a);
	jv ts = jv_object_get(jv_copy(r), jv_string("targets"));
	jv f = jv_object_get(jv_copy(req), jv_string("Force"));
	if (jv_array_length(ts) > 0 && jv_get_kind(f) != JV_KIND_TRUE) {
		serve_error(c, 400, "ValidationException", NULL,
		    "Rule can't be deleted since it has targets.");
	} else {
		jv rules = jv_array_slice(jv_object_get(jv_copy(a.top), jv_string("rules")), 0, a.i);
		jv rest = jv_object_get(jv_copy(a.top), jv_string("rules"));
		int n = jv_array_length(jv_copy(rest));
		rules = jv_array_concat(rules, jv_array_slice(rest, a.i + 1, n));
		a.top = jv_object_set(a.top, jv_string("rules"), rules);
		if (evs_save(s, c, a.b, jv_copy(a.top)) == 0)
			answer_empty(c);
	}
	jv_free(f);
	jv_free(r);
	jv_free(a.top);
}

/* NextToken as the index to start from; Limit (default 100). */
static void
page(jv req, int *from, int *limit)
{
	const char *t = evs_str(req, "NextToken");
	jv l = jv_object_get(jv_copy(req), jv_string("Limit"));

	*from = t != NULL ? atoi(t) : 0;
	if (*from < 0)
		*from = 0;
	*limit = jv_get_kind(l) == JV_KIND_NUMBER && jv_number_value(l) >= 1 ?
	    (int)jv_number_value(l) : 100;
	jv_free(l);
}

static void
list_rules(struct evs *s, struct serve_call *c, jv req)
{
	struct ebus *bus = evs_bus(s, c, evs_str(req, "EventBusName"));
	const char *prefix = evs_str(req, "NamePrefix");
	struct buf b = { 0 };
	int from, limit, shown = 0, k = 0, n;

	if (bus == NULL)
		return;
	page(req, &from, &limit);
	jv top = evs_load(bus);
	jv rules = jv_is_valid(top) ? jv_object_get(jv_copy(top), jv_string("rules")) : jv_array();
	n = jv_array_length(jv_copy(rules));
	buf_adds(&b, "{\"Rules\":[");
	for (int i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(rules), i);
		const char *name = evs_str(r, "name");
		if (name != NULL && (prefix == NULL || strncmp(name, prefix, strlen(prefix)) == 0) &&
		    k++ >= from && shown < limit) {
			if (shown++ > 0)
				buf_addc(&b, ',');
			rule_out(s, bus, r, &b);
		}
		jv_free(r);
	}
	buf_addc(&b, ']');
	if (k > from + shown)
		buf_printf(&b, ",\"NextToken\":\"%d\"", from + shown);
	buf_addc(&b, '}');
	serve_json(c, &b);
	buf_free(&b);
	jv_free(rules);
	jv_free(top);
}


/* Targets of one call's rule: the array, checked against the five a rule
 * may have once ids are replaced. */
static void
put_targets(struct evs *s, struct serve_call *c, jv req, const struct serve_req *rq)
{
	struct at a;
	const char *why = NULL;

	if (locate(s, c, req, "Rule", 1, &a) != 0)
		return;
	jv in = jv_object_get(jv_copy(req), jv_string("Targets"));
	jv r = get_rule(&a);
	jv ts = jv_object_get(jv_copy(r), jv_string("targets"));
	int n = jv_get_kind(in) == JV_KIND_ARRAY ? jv_array_length(jv_copy(in)) : 0;
	if (jv_get_kind(ts) != JV_KIND_ARRAY) {
		jv_free(ts);
		ts = jv_array();
	}
	if (n < 1 || n > 10)
		why = "Targets has 1 to 10 entries.";
	for (int i = 0; i < n && why == NULL; i++) {
		jv t = evs_target_in(rq, jv_array_get(jv_copy(in), i), &why);
		if (why != NULL)
			break;
		int m = jv_array_length(jv_copy(ts)), at = m;
		for (int j = 0; j < m; j++) {
			jv o = jv_array_get(jv_copy(ts), j);
			const char *oid = evs_str(o, "id");
			if (oid != NULL && strcmp(oid, evs_str(t, "id")) == 0)
				at = j;
			jv_free(o);
		}
		ts = jv_array_set(ts, at, t);
	}
	if (why != NULL) {
		serve_error(c, 400, "ValidationException", NULL, "%s", why);
	} else if (jv_array_length(jv_copy(ts)) > RULES_MAX_TARGETS) {
		serve_error(c, 400, "LimitExceededException", NULL,
		    "The requested resource exceeds the maximum number allowed.");
	} else if (put_rule_at(s, c, &a, jv_object_set(jv_copy(r), jv_string("targets"),
	    jv_copy(ts))) == 0) {
		struct buf b = { 0 };
		buf_adds(&b, "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
		serve_json(c, &b);
		buf_free(&b);
	}
	jv_free(ts);
	jv_free(r);
	jv_free(in);
	jv_free(a.top);
}

static void
remove_targets(struct evs *s, struct serve_call *c, jv req)
{
	struct at a;

	if (locate(s, c, req, "Rule", 1, &a) != 0)
		return;
	jv ids = jv_object_get(jv_copy(req), jv_string("Ids"));
	jv r = get_rule(&a);
	jv ts = jv_object_get(jv_copy(r), jv_string("targets")), kept = jv_array();
	int n = jv_get_kind(ts) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ts)) : 0;
	int k = jv_get_kind(ids) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ids)) : 0;
	for (int i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(ts), i);
		int drop = 0;
		for (int j = 0; j < k && !drop; j++) {
			jv id = jv_array_get(jv_copy(ids), j);
			drop = jv_get_kind(id) == JV_KIND_STRING && evs_str(t, "id") != NULL &&
			    strcmp(jv_string_value(id), evs_str(t, "id")) == 0;
			jv_free(id);
		}
		if (drop)
			jv_free(t);
		else
			kept = jv_array_append(kept, t);
	}
	if (k < 1) {
		jv_free(kept);
		serve_error(c, 400, "ValidationException", NULL, "Parameter Ids is required.");
	} else if (put_rule_at(s, c, &a, jv_object_set(jv_copy(r), jv_string("targets"),
	    kept)) == 0) {
		struct buf b = { 0 };
		buf_adds(&b, "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
		serve_json(c, &b);
		buf_free(&b);
	}
	jv_free(ts);
	jv_free(r);
	jv_free(ids);
	jv_free(a.top);
}

static void
list_targets(struct evs *s, struct serve_call *c, jv req)
{
	struct at a;
	struct buf b = { 0 };

	if (locate(s, c, req, "Rule", 1, &a) != 0)
		return;
	jv r = get_rule(&a);
	jv ts = jv_object_get(jv_copy(r), jv_string("targets"));
	int n = jv_get_kind(ts) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ts)) : 0;
	buf_adds(&b, "{\"Targets\":[");
	for (int i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(ts), i);
		if (i > 0)
			buf_addc(&b, ',');
		evs_target_out(s, t, &b);
		jv_free(t);
	}
	buf_adds(&b, "]}");
	serve_json(c, &b);
	buf_free(&b);
	jv_free(ts);
	jv_free(r);
	jv_free(a.top);
}

/* ---- buses ---- */

static void
bus_out(const struct evs *s, const char *name, struct buf *b)
{
	struct buf arn = { 0 };

	evs_bus_arn(s, name, &arn);
	buf_adds(b, "{\"Name\":");
	json_add_string(b, name, strlen(name));
	buf_adds(b, ",\"Arn\":");
	json_add_string(b, arn.p, arn.n);
	buf_addc(b, '}');
	buf_free(&arn);
}

static void
create_bus(struct evs *s, struct serve_call *c, jv req)
{
	const char *name = evs_str(req, "Name");
	struct buf b = { 0 }, arn = { 0 };

	if (evs_bus_create(s, c, name) != 0)
		return;
	evs_bus_arn(s, name, &arn);
	buf_adds(&b, "{\"EventBusArn\":");
	json_add_string(&b, arn.p, arn.n);
	buf_addc(&b, '}');
	serve_json(c, &b);
	buf_free(&b);
	buf_free(&arn);
}

static void
list_buses(struct evs *s, struct serve_call *c, jv req)
{
	char **names = evs_bus_names(s);
	const char *prefix = evs_str(req, "NamePrefix");
	struct buf b = { 0 };
	int shown = 0;

	buf_adds(&b, "{\"EventBuses\":[");
	for (char **n = names; *n != NULL; n++) {
		if (prefix == NULL || strncmp(*n, prefix, strlen(prefix)) == 0) {
			if (shown++ > 0)
				buf_addc(&b, ',');
			bus_out(s, *n, &b);
		}
		free(*n);
	}
	free(names);
	buf_adds(&b, "]}");
	serve_json(c, &b);
	buf_free(&b);
}

static void
describe_bus(struct evs *s, struct serve_call *c, jv req)
{
	struct ebus *bus = evs_bus(s, c, evs_str(req, "Name"));
	struct buf b = { 0 };

	if (bus == NULL)
		return;
	bus_out(s, bus->name, &b);
	serve_json(c, &b);
	buf_free(&b);
}

static void
delete_bus(struct evs *s, struct serve_call *c, jv req)
{
	const char *name = evs_str(req, "Name");
	struct ebus *bus;

	if (name != NULL && strcmp(name, "default") == 0) {
		serve_error(c, 400, "ValidationException", NULL,
		    "Cannot delete event bus default.");
		return;
	}
	if ((bus = evs_bus(s, c, name)) == NULL)
		return;
	unlink(bus->path);
	answer_empty(c);
}

/* ---- the service ---- */

static const struct {
	const char *op;
	void (*fn)(struct evs *s, struct serve_call *c, jv req);
} ops[] = {
	{ "PutEvents", evs_put_events }, { "TestEventPattern", evs_test_pattern },
	{ "PutRule", put_rule }, { "DescribeRule", describe_rule }, { "ListRules", list_rules },
	{ "DeleteRule", delete_rule }, { "ListTargetsByRule", list_targets },
	{ "RemoveTargets", remove_targets }, { "CreateEventBus", create_bus },
	{ "ListEventBuses", list_buses }, { "DescribeEventBus", describe_bus },
	{ "DeleteEventBus", delete_bus },
};

static void
enable_rule(struct evs *s, struct serve_call *c, jv req)
{
	set_state(s, c, req, "ENABLED");
}

static void
disable_rule(struct evs *s, struct serve_call *c, jv req)
{
	set_state(s, c, req, "DISABLED");
}

static void
call(void *state, struct serve_call *c, const struct serve_req *rq)
{
	struct evs *s = state;
	jv req = evs_request(c, rq);

	if (!jv_is_valid(req))
		return;
	/* Before the call: an error's own note (its type) replaces it. */
	const char *name = evs_str(req, "Name") != NULL ? evs_str(req, "Name") : evs_str(req, "Rule");
	if (name != NULL) {
		char note[96];
		snprintf(note, sizeof note, "Name=%.80s", name);
		serve_log_note(c, note);
	}
	if (strcmp(rq->op, "PutTargets") == 0)
		put_targets(s, c, req, rq);
	else if (strcmp(rq->op, "EnableRule") == 0)
		enable_rule(s, c, req);
	else if (strcmp(rq->op, "DisableRule") == 0)
		disable_rule(s, c, req);
	else {
		size_t i = 0;
		while (i < sizeof ops / sizeof ops[0] && strcmp(ops[i].op, rq->op) != 0)
			i++;
		if (i < sizeof ops / sizeof ops[0])
			ops[i].fn(s, c, req);
		else
			serve_error(c, 400, "UnknownOperationException", NULL,
			    "Unknown operation %.64s", rq->op);
	}
	jv_free(req);
}

static int
init(struct serve *srv, void **state, struct ev_err *e)
{
	struct evs *s = xcalloc(1, sizeof *s);
	int rc = name_home(&s->home, e);

	if (rc != 0) {
		free(s);
		return rc;
	}
	s->srv = srv;
	s->region = arn_region();
	*state = s;
	evs_current = s;
	return 0;
}

static void
fini(void *state)
{
	struct evs *s = state;

	evs_current = NULL;
	while (s->buses != NULL) {
		struct ebus *b = s->buses;
		s->buses = b->next;
		evs_bus_free(b);
	}
	free(s->home);
	free(s);
}

const struct serve_svc serve_events = {
	.name = "events",
	.target_prefix = "AWSEvents.",
	.json_type = "application/x-amz-json-1.1",
	.init = init,
	.call = call,
	.fini = fini,
};
