/* input_template: placeholders filled the way EventBridge fills them.  A
 * template that is JSON (with each value placeholder taken as null) gets
 * values as JSON where a value stands and as raw text inside its strings;
 * any other template is plain text with plain-text values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/alloc.h"
#include "shape_int.h"

static const struct {
	const char *name;
	int kind;
} reserved[] = {
	{ "aws.events.rule-name", P_RULE_NAME },
	{ "aws.events.rule-arn", P_RULE_ARN },
	{ "aws.events.event.ingestion-time", P_INGESTED },
	{ "aws.events.event", P_EVENT },
	{ "aws.events.event.json", P_EVENT_JSON },
};

/* The placeholder "<name>" at t (t[0] == '<'): its kind and length, or 0
 * when it names neither a variable nor a reserved value (then the '<' is
 * plain text, as it is in "a < b"). */
static size_t
placeholder(const char *t, const struct var *vars, size_t nvars, int *kind, size_t *var)
{
	size_t len = strspn(t + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");

	if (len == 0 || t[len + 1] != '>')
		return 0;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strlen(reserved[i].name) == len && memcmp(reserved[i].name, t + 1, len) == 0) {
			*kind = reserved[i].kind;
			return len + 2;
		}
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, t + 1, len) == 0) {
			*kind = P_VAR;
			*var = i;
			return len + 2;
		}
	return 0;
}

static void
add_piece(struct tmpl *tp, struct piece p)
{
	XGROW(&tp->pc, &tp->cap, tp->n + 1);
	tp->pc[tp->n++] = p;
}

/* Literal text t[0..n) into the last text piece; in a JSON template, the
 * white space outside strings goes, so the payload is one line. */
static void
add_text(struct tmpl *tp, const char *t, size_t n, int *in_str, int compact)
{
	if (n == 0)
		return;
	if (tp->n == 0 || tp->pc[tp->n - 1].kind != P_TEXT)
		add_piece(tp, (struct piece){ .kind = P_TEXT, .off = tp->text.n });
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (*in_str && c == '\\' && i + 1 < n) {
			buf_add(&tp->text, t + i, 2);
			i++;
			continue;
		}
		if (c == '"')
			*in_str = !*in_str;
		else if (compact && !*in_str && strchr(" \t\r\n", c) != NULL)
			continue;
		buf_addc(&tp->text, c);
	}
	tp->pc[tp->n - 1].len = tp->text.n - tp->pc[tp->n - 1].off;
	if (tp->pc[tp->n - 1].len == 0)
		tp->n--;	/* it was all white space */
}

/* Cuts t into pieces: with json, placeholders take their JSON context;
 * with compact, literal white space outside strings goes (add_text). */
static void
scan(struct tmpl *tp, const char *t, const struct var *vars, size_t nvars, int json, int compact)
{
	int in_str = 0;

	while (*t != '\0') {
		size_t run = strcspn(t, "<"), len = 0, var = 0;
		int kind = P_TEXT;
		add_text(tp, t, run, &in_str, compact);
		t += run;
		if (*t == '\0')
			break;
		len = placeholder(t, vars, nvars, &kind, &var);
		if (len == 0) {
			add_text(tp, t, 1, &in_str, compact);
			t++;
			continue;
		}
		int ctx = !json ? C_PLAIN : in_str ? C_STRING : C_VALUE;
		add_piece(tp, (struct piece){ .kind = kind, .ctx = ctx, .var = var });
		t += len;
	}
}

/* The template as JSON would be with null for each value placeholder. */
static void
probe(const struct tmpl *tp, struct buf *b)
{
	for (size_t i = 0; i < tp->n; i++) {
		const struct piece *p = &tp->pc[i];
		if (p->kind == P_TEXT)
			buf_add(b, tp->text.p + p->off, p->len);
		else if (p->ctx == C_VALUE)
			buf_adds(b, "null");
	}
	buf_addc(b, '\0');
	b->n--;
}

static int
fail(char **why, const char *what)
{
	*why = xstrdup(what);
	return -1;
}

/* A value placeholder followed by ':' stands where a member name must. */
static int
placeholder_as_key(const struct tmpl *tp)
{
	for (size_t i = 0; i + 1 < tp->n; i++) {
		const struct piece *next = &tp->pc[i + 1];
		if (tp->pc[i].kind == P_TEXT || tp->pc[i].ctx != C_VALUE || next->kind != P_TEXT)
			continue;
		const char *s = tp->text.p + next->off;
		size_t k = json_ws(s, next->len, 0);
		if (k < next->len && s[k] == ':')
			return 1;
	}
	return 0;
}

/* Decides JSON or plain text, and refuses what EventBridge refuses. */
static int
classify(struct tmpl *tp, const char *t, char **why)
{
	struct buf b = { 0 };
	struct json_err err;
	size_t first = json_ws(t, strlen(t), 0);

	probe(tp, &b);
	tp->json = b.n > 0 && json_validate(b.p, b.n, 0, &err) != 0;
	buf_free(&b);
	if (!tp->json && (t[first] == '{' || t[first] == '[')) {
		if (placeholder_as_key(tp))
			return fail(why, "input_template: a placeholder cannot be used as an object key");
		return fail(why, "input_template: a template that starts like JSON must be valid JSON");
	}
	return 0;
}

int
tmpl_compile(struct tmpl *tp, const char *t, const struct var *vars, size_t nvars, char **why)
{
	memset(tp, 0, sizeof *tp);
	if (*t == '\0' || strlen(t) > 8192)
		return fail(why, "input_template: must be 1 to 8192 characters");
	scan(tp, t, vars, nvars, 1, 0);
	if (classify(tp, t, why) < 0) {
		tmpl_free(tp);
		return -1;
	}
	int json = tp->json;
	tmpl_free(tp);
	tp->json = json;
	scan(tp, t, vars, nvars, json, json);
	for (size_t i = 0; i < tp->n; i++) {
		int k = tp->pc[i].kind;
		if ((k == P_EVENT || k == P_EVENT_JSON) && tp->pc[i].ctx != C_VALUE) {
			tmpl_free(tp);
			return fail(why, k == P_EVENT
			    ? "input_template: <aws.events.event> can only stand as a JSON value"
			    : "input_template: <aws.events.event.json> can only stand as a JSON value");
		}
	}
	return 0;
}

void
tmpl_free(struct tmpl *tp)
{
	buf_free(&tp->text);
	free(tp->pc);
	memset(tp, 0, sizeof *tp);
}

/* s as the body of a JSON string: escaped, without its quotes. */
static void
add_escaped(struct buf *out, const char *s, size_t n)
{
	size_t at = out->n;

	json_add_string(out, s, n);
	memmove(out->p + at, out->p + at + 1, out->n - at - 2);
	out->n -= 2;
	out->p[out->n] = '\0';
}

/* A value taken from the event, v[0..n) its raw JSON text. */
static void
add_value(struct buf *out, int ctx, const char *v, size_t n)
{
	int str = n >= 2 && v[0] == '"';

	if (ctx == C_VALUE)
		buf_add(out, v, n);
	else if (str && ctx == C_STRING)
		buf_add(out, v + 1, n - 2);	/* already escaped as JSON wants */
	else if (str)
		json_unescape(out, v + 1, n - 2);
	else if (ctx == C_STRING)
		add_escaped(out, v, n);	/* an object's quotes must not end the string */
	else
		buf_add(out, v, n);
}

/* A string evkit supplies (a rule name, a time). */
static void
add_string(struct buf *out, int ctx, const char *s)
{
	if (ctx == C_VALUE)
		json_add_string(out, s, strlen(s));
	else if (ctx == C_STRING)
		add_escaped(out, s, strlen(s));
	else
		buf_adds(out, s);
}

/* The event without its detail member, as <aws.events.event> is. */
static void
add_event_sans_detail(struct buf *out, const char *ev, size_t n)
{
	size_t at = json_ws(ev, n, 0), k, kend, v, vend, first = 1;

	buf_addc(out, '{');
	while (json_member(ev, n, &at, &k, &kend, &v, &vend)) {
		if (kend - k == 8 && memcmp(ev + k, "\"detail\"", 8) == 0)
			continue;
		if (!first)
			buf_addc(out, ',');
		buf_add(out, ev + k, vend - k);
		first = 0;
	}
	buf_addc(out, '}');
}

static void
add_reserved(struct buf *out, const struct piece *p, const char *ev, size_t n,
    const struct shape_ctx *ctx)
{
	switch (p->kind) {
	case P_RULE_NAME:
		add_string(out, p->ctx, ctx->rule_name);
		break;
	case P_RULE_ARN:
		add_string(out, p->ctx, ctx->rule_arn);
		break;
	case P_INGESTED:
		add_string(out, p->ctx, ctx->ingestion_time);
		break;
	case P_EVENT:
		add_event_sans_detail(out, ev, n);
		break;
	default: {
		size_t a = json_ws(ev, n, 0), b = n;
		while (b > a && strchr(" \t\r\n", ev[b - 1]) != NULL)
			b--;
		buf_add(out, ev + a, b - a);
	}
	}
}

void
tmpl_render(const struct tmpl *tp, const struct var *vars, const char *ev, size_t n,
    const struct shape_ctx *ctx, struct buf *out)
{
	for (size_t i = 0; i < tp->n; i++) {
		const struct piece *p = &tp->pc[i];
		const char *v;
		size_t vn;
		if (p->kind == P_TEXT)
			buf_add(out, tp->text.p + p->off, p->len);
		else if (p->kind != P_VAR)
			add_reserved(out, p, ev, n, ctx);
		else if (jpath_find(&vars[p->var].path, ev, n, &v, &vn))
			add_value(out, p->ctx, v, vn);
		else if (p->ctx == C_VALUE)
			buf_adds(out, "null");	/* a missing path: no value */
	}
}
