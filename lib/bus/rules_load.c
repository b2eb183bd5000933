/* rules_load — reads a rules file with libjq's jv and checks every key
 * against the format of evbus-route(1), naming the JSON path at fault. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/alloc.h"
#include "core/words.h"
#include "core/arn.h"
#include "core/buf.h"
#include "core/msg.h"
#include "core/names.h"
#include "dlq/dlq.h"
#include "jpath.h"
#include "rules.h"
#include "shape.h"

/* The first fault ends the load: fail() fills e and jumps back to
 * rules_load(), which frees what was built (everything hangs off rs). */
struct load {
	jmp_buf jb;
	struct ev_err *e;
};

/* Where the loader is: the file, and the JSON path being checked. */
struct where {
	const char *file;
	struct load *ld;
	char path[256];
};

static noreturn void fail(const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static noreturn void
fail(const struct where *w, const char *fmt, ...)
{
	va_list ap;
	char tmp[768];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	for (char *c = tmp; *c != '\0'; c++)
		if (*c == '\n')
			*c = ' ';
	err_set(w->ld->e, EV_USAGE, "%s: %s: %s", w->file, w->path[0] != '\0' ? w->path : ".",
	    tmp);
	longjmp(w->ld->jb, 1);
}

/* w with ".key" or "[i]" appended to its path. */
static struct where
sub(const struct where *w, const char *key, int idx)
{
	struct where s = *w;
	size_t n = strlen(s.path);

	if (key != NULL)
		snprintf(s.path + n, sizeof s.path - n, ".%s", key);
	else
		snprintf(s.path + n, sizeof s.path - n, "[%d]", idx);
	return s;
}

/* Every key of object o must be one of allowed (NULL-terminated). */
static void
check_keys(const struct where *w, jv o, const char *const *allowed)
{
	jv_object_foreach(o, k, v) {
		const char *ks = jv_string_value(k);
		int ok = 0;
		for (const char *const *a = allowed; *a != NULL && !ok; a++)
			ok = strcmp(ks, *a) == 0;
		if (!ok) {
			struct where s = sub(w, ks, 0);
			fail(&s, "unknown key");
		}
		jv_free(k);
		jv_free(v);
	}
}

static const char *
kind_name(jv v)
{
	return jv_kind_name(jv_get_kind(v));
}

/* o's member key (consumed result), checked to be of kind k when present. */
static jv
member(const struct where *w, jv o, const char *key, jv_kind k, int required)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	struct where s = sub(w, key, 0);

	if (!jv_is_valid(v)) {
		jv_free(v);
		if (required)
			fail(w, "missing key \"%s\"", key);
		return jv_invalid();
	}
	if (jv_get_kind(v) != k)
		fail(&s, "must be %s %s, not %s", k == JV_KIND_ARRAY || k == JV_KIND_OBJECT ?
		    "an" : "a", jv_kind_name(k), kind_name(v));
	return v;
}

/* An EventBridge name (rule name, target id): 1–64 of [.\-_A-Za-z0-9]. */
static int
aws_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "._-abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

/* Names given before, for name_member: the char * at offset off in each
 * of the n elements of size stride at base. */
struct names {
	const void *base;
	size_t stride, off;
	int n;
	const char *dup;	/* the message for a repeated name */
};

/* The required member key of o into *dst (malloc'd): an EventBridge
 * name (what: "rule name", "target id") not in prev. */
static void
name_member(const struct where *w, jv o, const char *key, const char *what,
    const struct names *prev, char **dst)
{
	jv v = member(w, o, key, JV_KIND_STRING, 1);
	struct where s = sub(w, key, 0);
	char *name = *dst = xstrdup(jv_string_value(v));

	jv_free(v);
	if (!aws_name_ok(name))
		fail(&s, "'%s': a %s is 1 to 64 of [.-_A-Za-z0-9]", name, what);
	for (int j = 0; j < prev->n; j++) {
		const char *p = (const char *)prev->base + (size_t)j * prev->stride + prev->off;
		if (strcmp(*(char *const *)p, name) == 0)
			fail(&s, "'%s': %s", name, prev->dup);
	}
}

/* A queue or log argument as every command takes it (SPEC 1). */
static void
check_resource(const struct where *w, const char *what, const char *arg, int fifo)
{
	const char *why;

	if (arg[0] == '\0')
		fail(w, "%s: no %s named", arg, what);
	if (!name_is_path(arg) && (why = name_check(arg, fifo)) != NULL)
		fail(w, "invalid %s name '%s': %s", what, arg, why);
}

/* "file:PATH" or "queue:QUEUE" (a standard queue, as EventBridge asks). */
static void
check_dead_letter(const struct where *w, const char *uri)
{
	const char *why = dlq_uri_check(uri);

	if (why != NULL)
		fail(w, "'%s': %s", uri, why);
	if (strncmp(uri, "queue:", 6) == 0)
		check_resource(w, "queue", uri + 6, 0);
}

/* events://REGION[/BUS], checked as aws/'s PutEvents takes it; the
 * target's arg names the bus, "default" when the URI names none. */
static void
parse_events(const struct where *w, struct target *t)
{
	static const char bus_chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/";
	const char *r = t->uri + 9, *slash = strchr(r, '/');
	size_t rn = slash != NULL ? (size_t)(slash - r) : strlen(r);
	const char *bus = slash != NULL && slash[1] != '\0' ? slash + 1 : "default";
	size_t bn = strlen(bus);

	if (rn == 0 || strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") < rn)
		fail(w, "'%s': want events://REGION/BUS (REGION such as us-east-1)", t->uri);
	if (bn > 256 || strspn(bus, bus_chars) != bn)
		fail(w, "'%s': '%s' is not an event bus name (1-256 of A-Z a-z 0-9 . _ - /)",
		    t->uri, bus);
	t->kind = TGT_EVENTS;
	t->arg = xmalloc(9 + rn + 1 + bn + 1);
	sprintf(t->arg, "events://%.*s/%s", (int)rn, r, bus);
}

static void
parse_uri(const struct where *w, struct target *t)
{
	const char *u = t->uri, *why;
	static const struct { const char *scheme; enum tgt_kind kind; } schemes[] = {
		{ "stdout:", TGT_STDOUT }, { "file:", TGT_FILE }, { "queue:", TGT_QUEUE },
		{ "log:", TGT_LOG }, { "exec:", TGT_EXEC },
	};

	if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) {
		t->kind = TGT_HTTP;
		t->arg = xstrdup(u);
		return;
	}
	if (strncmp(u, "events://", 9) == 0) {
		parse_events(w, t);
		return;
	}
	if (strncmp(u, "sqs://", 6) == 0 || strncmp(u, "nats://", 7) == 0)
		fail(w, "'%s': use queue:%s for a remote queue target", u, u);
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncmp(u, schemes[i].scheme, n) != 0)
			continue;
		t->kind = schemes[i].kind;
		t->arg = xstrdup(u + n);
		break;
	}
	if (t->arg == NULL)
		fail(w, "'%s': unknown target; use stdout:, file:PATH, queue:QUEUE, "
		    "log:LOG, exec:COMMAND, events://REGION/BUS or http(s)://URL", u);
	switch (t->kind) {
	case TGT_STDOUT:
		if (t->arg[0] != '\0')
			fail(w, "'%s': stdout: takes nothing after the colon", u);
		break;
	case TGT_FILE:
		if (t->arg[0] == '\0')
			fail(w, "'%s': no file named", u);
		break;
	case TGT_QUEUE:
		check_resource(w, "queue", t->arg, 1);
		break;
	case TGT_LOG:
		check_resource(w, "log", t->arg, 0);
		break;
	case TGT_EXEC:
		if ((t->argv = words_split(t->arg, &why)) == NULL)
			fail(w, "'%s': %s", u, why);
		break;
	case TGT_EVENTS:
	case TGT_HTTP:
		break;
	}
}

static long
int_in(const struct where *w, jv o, const char *key, long min, long max, long dflt)
{
	jv v = member(w, o, key, JV_KIND_NUMBER, 0);
	struct where s = sub(w, key, 0);

	if (!jv_is_valid(v))
		return dflt;
	double d = jv_number_value(v);
	jv_free(v);
	if (d != (double)(long)d || d < (double)min || d > (double)max)
		fail(&s, "must be a whole number from %ld to %ld", min, max);
	return (long)d;
}

/* key is for targets of kind k only (name: "exec:"). */
static void
kind_only(const struct where *w, jv t, const struct target *tg, const char *key,
    enum tgt_kind k, const char *name)
{
	jv v = jv_object_get(jv_copy(t), jv_string(key));

	if (jv_is_valid(v) && tg->kind != k) {
		struct where kw = sub(w, key, 0);
		fail(&kw, "only %s targets take a %s", name, key);
	}
	jv_free(v);
}

/* log: "stream" (a fixed name) or "stream_path" (a JSONPath into the
 * event); without either, the stream is the rule's name. */
static void
load_stream(const struct where *w, jv t, struct target *tg)
{
	jv s = member(w, t, "stream", JV_KIND_STRING, 0);
	jv p = member(w, t, "stream_path", JV_KIND_STRING, 0);
	const char *why;

	kind_only(w, t, tg, "stream", TGT_LOG, "log:");
	kind_only(w, t, tg, "stream_path", TGT_LOG, "log:");
	if (jv_is_valid(s) && jv_is_valid(p))
		fail(w, "\"stream\" and \"stream_path\" exclude each other");
	if (jv_is_valid(s)) {
		struct where sw = sub(w, "stream", 0);
		tg->stream = xstrdup(jv_string_value(s));
		if (tg->stream[0] == '\0' || strlen(tg->stream) != (size_t)jv_string_length_bytes(
		    jv_copy(s)))
			fail(&sw, "a stream name is not empty and has no NUL");
	}
	if (jv_is_valid(p)) {
		struct where pw = sub(w, "stream_path", 0);
		tg->stream_path_text = xstrdup(jv_string_value(p));
		tg->stream_path = xcalloc(1, sizeof *tg->stream_path);
		if (jpath_parse(tg->stream_path_text, tg->stream_path, &why) < 0)
			fail(&pw, "%s (got \"%s\")", why, tg->stream_path_text);
	}
	jv_free(s);
	jv_free(p);
}

static void
load_retry(const struct where *tw, jv t, struct target *tg)
{
	static const char *const keys[] = { "attempts", "max_age", NULL };
	jv r = member(tw, t, "retry", JV_KIND_OBJECT, 0);
	struct where w = sub(tw, "retry", 0);

	tg->attempts = RULES_DEFAULT_ATTEMPTS;
	tg->max_age_ms = RULES_DEFAULT_MAX_AGE * 1000LL;
	if (!jv_is_valid(r))
		return;
	check_keys(&w, r, keys);
	tg->attempts = (int)int_in(&w, r, "attempts", 0, 185, RULES_DEFAULT_ATTEMPTS);
	tg->max_age_ms = int_in(&w, r, "max_age", 60, 86400, RULES_DEFAULT_MAX_AGE) * 1000LL;
	jv_free(r);
}

/* input_transformer: {"input_paths_map": {...}, "input_template": "..."}. */
static struct shape *
load_transformer(const struct where *tw, jv it, char **why)
{
	static const char *const keys[] = { "input_paths_map", "input_template", NULL };
	struct where w = sub(tw, "input_transformer", 0);

	check_keys(&w, it, keys);
	jv map = member(&w, it, "input_paths_map", JV_KIND_OBJECT, 0);
	jv tmpl = member(&w, it, "input_template", JV_KIND_STRING, 1);
	if (!jv_is_valid(map)) {
		jv_free(map);
		map = jv_null();
	} else {
		struct where m = sub(&w, "input_paths_map", 0);
		if (jv_object_length(jv_copy(map)) > 100)
			fail(&m, "at most 100 paths");
		jv_object_foreach(map, k, v) {
			if (jv_get_kind(v) != JV_KIND_STRING) {
				struct where s = sub(&m, jv_string_value(k), 0);
				fail(&s, "must be a string (a JSONPath), not %s", kind_name(v));
			}
			jv_free(k);
			jv_free(v);
		}
	}
	struct shape *sh = shape_transformer(map, jv_string_value(tmpl), why);
	jv_free(map);
	jv_free(tmpl);
	return sh;
}

/* At most one of input, input_path, input_transformer and jq. */
static void
load_shaping(const struct where *w, jv t, struct target *tg)
{
	static const char *const forms[] = { "input", "input_path", "input_transformer", "jq" };
	const char *seen = NULL;
	char *why = NULL;

	for (size_t i = 0; i < 4; i++) {
		jv v = jv_object_get(jv_copy(t), jv_string(forms[i]));
		int has = jv_is_valid(v);
		jv_free(v);
		if (!has)
			continue;
		if (seen != NULL)
			fail(w, "\"%s\" and \"%s\" exclude each other", seen, forms[i]);
		seen = forms[i];
	}
	if (seen == NULL)
		return;
	if (strcmp(seen, "input") == 0) {
		jv v = jv_object_get(jv_copy(t), jv_string("input"));
		jv d = jv_dump_string(v, 0);
		tg->input = xstrdup(jv_string_value(d));
		jv_free(d);
		return;
	}
	if (strcmp(seen, "input_transformer") == 0) {
		jv it = member(w, t, seen, JV_KIND_OBJECT, 1);
		tg->shape = load_transformer(w, it, &why);
		jv_free(it);
	} else {
		jv v = member(w, t, seen, JV_KIND_STRING, 1);
		tg->shape = seen[0] == 'j' ? shape_jq(jv_string_value(v), &why) :
		    shape_path(jv_string_value(v), &why);
		jv_free(v);
	}
	if (tg->shape == NULL) {
		/* why starts with the place relative to the target (or to
		 * the transformer): "input_paths_map.a: ...".  Join it to
		 * the JSON path. */
		struct where e = strcmp(seen, "input_transformer") == 0 ? sub(w, seen, 0) : *w;
		const char *msg = why != NULL ? why : "invalid";
		const char *colon = strstr(msg, ": ");
		char m[1024];
		if (colon != NULL && memchr(msg, ' ', (size_t)(colon - msg)) == NULL) {
			size_t n = strlen(e.path);
			snprintf(e.path + n, sizeof e.path - n, ".%.*s", (int)(colon - msg), msg);
			msg = colon + 2;
		}
		snprintf(m, sizeof m, "%s", msg);
		free(why);
		fail(&e, "%s", m);
	}
}

/* "env": what an exec: target's command gets beside the allow-list, as
 * fnrun's -E: "NAME=VALUE", or "NAME" for our own value. */
static void
load_env(const struct where *w, jv t, struct target *tg)
{
	jv env = member(w, t, "env", JV_KIND_ARRAY, 0);

	if (!jv_is_valid(env)) {
		jv_free(env);
		return;
	}
	struct where ew = sub(w, "env", 0);
	int n = jv_array_length(jv_copy(env));
	tg->env = xcalloc((size_t)n + 1, sizeof *tg->env);
	for (int k = 0; k < n; k++) {
		jv v = jv_array_get(jv_copy(env), k);
		struct where vw = sub(&ew, NULL, k);
		if (jv_get_kind(v) != JV_KIND_STRING)
			fail(&vw, "an env entry must be a string NAME or NAME=VALUE, not %s",
			    kind_name(v));
		const char *s = jv_string_value(v);
		size_t k0 = strcspn(s, "=");
		if (k0 == 0 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_") != k0 || (s[0] >= '0' && s[0] <= '9'))
			fail(&vw, "'%s' is not NAME or NAME=VALUE (NAME: letters, digits, _)", s);
		tg->env[k] = xstrdup(s);
		jv_free(v);
	}
	jv_free(env);
	kind_only(w, t, tg, "env", TGT_EXEC, "exec:");
}

/* A string member of o, copied, or NULL when absent (required: fail). */
static char *
str_dup(const struct where *w, jv o, const char *key, int required)
{
	jv v = member(w, o, key, JV_KIND_STRING, required);
	char *s = NULL;

	if (jv_is_valid(v)) {
		struct where kw = sub(w, key, 0);
		const char *vs = jv_string_value(v);
		if (vs[0] == '\0' || strlen(vs) != (size_t)jv_string_length_bytes(jv_copy(v)))
			fail(&kw, "must not be empty or hold a NUL");
		s = xstrdup(vs);
	}
	jv_free(v);
	return s;
}

/* The value of the environment variable named at o.key, copied: a
 * variable that is not set is a usage error naming it (SPEC 6a). */
static char *
secret_env(const struct where *w, jv o, const char *key)
{
	char *name = str_dup(w, o, key, 1);
	const char *v = getenv(name);

	if (v == NULL) {
		struct where kw = sub(w, key, 0);
		char m[128];
		snprintf(m, sizeof m, "%s", name);
		free(name);
		fail(&kw, "environment variable %s is not set", m);
	}
	free(name);
	return xstrdup(v);
}

static void
load_connection(const struct where *tw, jv t, struct http_conf *c)
{
	static const char *const basic[] = { "auth", "username", "password_env", NULL };
	static const char *const apikey[] = { "auth", "header", "value_env", NULL };
	static const char *const oauth[] = { "auth", "token_url", "client_id",
	    "client_secret_env", "scope", NULL };
	jv o = member(tw, t, "connection", JV_KIND_OBJECT, 0);
	struct where w = sub(tw, "connection", 0), aw = sub(&w, "auth", 0);

	if (!jv_is_valid(o))
		return;
	/* A copy on the stack: a failure below must leave nothing to free. */
	char auth[32];
	jv a = member(&w, o, "auth", JV_KIND_STRING, 1);
	snprintf(auth, sizeof auth, "%s", jv_string_value(a));
	jv_free(a);
	if (strcmp(auth, "basic") == 0) {
		check_keys(&w, o, basic);
		c->auth = HTTP_AUTH_BASIC;
		c->user = str_dup(&w, o, "username", 1);
		c->secret = secret_env(&w, o, "password_env");
	} else if (strcmp(auth, "api_key") == 0) {
		check_keys(&w, o, apikey);
		c->auth = HTTP_AUTH_API_KEY;
		c->user = str_dup(&w, o, "header", 1);
		if (strpbrk(c->user, ": \t\r\n") != NULL)
			fail(&w, "\"header\" must be a header name");
		c->secret = secret_env(&w, o, "value_env");
	} else if (strcmp(auth, "oauth_client_credentials") == 0) {
		check_keys(&w, o, oauth);
		c->auth = HTTP_AUTH_OAUTH;
		c->token_url = str_dup(&w, o, "token_url", 1);
		if (strncmp(c->token_url, "http://", 7) != 0 &&
		    strncmp(c->token_url, "https://", 8) != 0) {
			struct where uw = sub(&w, "token_url", 0);
			fail(&uw, "'%s' is not an http:// or https:// URL", c->token_url);
		}
		c->user = str_dup(&w, o, "client_id", 1);
		c->scope = str_dup(&w, o, "scope", 0);
		c->secret = secret_env(&w, o, "client_secret_env");
	} else {
		fail(&aw, "want \"basic\", \"api_key\" or \"oauth_client_credentials\"");
	}
	jv_free(o);
}

/* Checks one {name: string} object of http_parameters (hdr: of headers);
 * fails before anything is allocated, so a failure leaks nothing. */
static void
check_params(const struct where *pw, jv p, const char *key, int hdr)
{
	jv o = member(pw, p, key, JV_KIND_OBJECT, 0);
	struct where w = sub(pw, key, 0);

	if (!jv_is_valid(o))
		return;
	jv_object_foreach(o, k, v) {
		struct where kw = sub(&w, jv_string_value(k), 0);
		const char *ks = jv_string_value(k);
		if (jv_get_kind(v) != JV_KIND_STRING)
			fail(&kw, "must be a string, not %s", kind_name(v));
		const char *vs = jv_string_value(v);
		if (ks[0] == '\0' || strpbrk(ks, "\r\n") != NULL || strpbrk(vs, "\r\n") != NULL)
			fail(&kw, "a parameter has a name and no line break");
		if (hdr && strpbrk(ks, ": \t") != NULL)
			fail(&kw, "'%s' is not a header name", ks);
		jv_free(k);
		jv_free(v);
	}
	jv_free(o);
}

/* Adds the checked parameters of p[key] to b, NUL-terminated in turn:
 * "Name: value" header lines, or query names and values; returns how many
 * strings. */
static size_t
add_params(jv p, const char *key, int hdr, struct buf *b)
{
	jv o = jv_object_get(jv_copy(p), jv_string(key));
	size_t n = 0;

	if (!jv_is_valid(o)) {
		jv_free(o);
		return 0;
	}
	jv_object_foreach(o, k, v) {
		const char *ks = jv_string_value(k), *vs = jv_string_value(v);
		if (hdr) {
			buf_printf(b, "%s: %s", ks, vs);
			buf_addc(b, '\0');
			n++;
		} else {
			buf_add(b, ks, strlen(ks) + 1);
			buf_add(b, vs, strlen(vs) + 1);
			n += 2;
		}
		jv_free(k);
		jv_free(v);
	}
	jv_free(o);
	return n;
}

/* The n strings of b, NUL-terminated in turn, as a NULL-terminated array
 * of copies. */
static char **
split_nul(const struct buf *b, size_t n)
{
	char **v = xcalloc(n + 1, sizeof *v);

	for (size_t i = 0, at = 0; i < n; i++, at += strlen(b->p + at) + 1)
		v[i] = xstrdup(b->p + at);
	return v;
}

/* The URL checked and its query parameters added; the header lines. */
static void
load_endpoint(const struct where *tw, jv t, struct target *tg, struct http_conf *c)
{
	static const char *const keys[] = { "header_parameters", "query_string_parameters",
	    NULL };
	struct where uw = sub(tw, "uri", 0), w = sub(tw, "http_parameters", 0);
	jv p = member(tw, t, "http_parameters", JV_KIND_OBJECT, 0);
	struct buf hdrs = { 0 }, query = { 0 };
	size_t nh = 0, nq = 0;
	const char *why;

	if (jv_is_valid(p)) {
		check_keys(&w, p, keys);
		check_params(&w, p, "header_parameters", 1);
		check_params(&w, p, "query_string_parameters", 0);
	}
	if (http_url_check(tg->uri) != NULL) {
		jv_free(p);
		fail(&uw, "'%s' is not a valid http:// or https:// URL", tg->uri);
	}
	if (jv_is_valid(p)) {
		nh = add_params(p, "header_parameters", 1, &hdrs);
		nq = add_params(p, "query_string_parameters", 0, &query);
	}
	jv_free(p);
	char **kv = split_nul(&query, nq);
	c->url = http_url_join(tg->uri, (const char *const *)kv, nq / 2, &why);
	for (size_t i = 0; i < nq; i++)
		free(kv[i]);
	free(kv);
	c->headers = (const char *const *)split_nul(&hdrs, nh);
	buf_free(&hdrs);
	buf_free(&query);
}

static void
load_http(const struct where *w, jv t, struct target *tg)
{
	static const char *const methods[] = { "POST", "PUT", "PATCH", "DELETE", "GET", "HEAD",
	    NULL };
	struct http_conf *c;

	if (tg->kind != TGT_HTTP) {
		static const char *const keys[] = { "method", "http_parameters", "connection",
		    "rate_per_second", "insecure", "cloudevents", NULL };
		for (const char *const *k = keys; *k != NULL; k++)
			kind_only(w, t, tg, *k, TGT_HTTP, "http");
		return;
	}
	c = tg->http = xcalloc(1, sizeof *c);
	load_endpoint(w, t, tg, c);
	char *m = str_dup(w, t, "method", 0);
	c->method = m != NULL ? m : xstrdup("POST");
	int ok = 0;
	for (const char *const *k = methods; *k != NULL; k++)
		ok |= strcmp(*k, c->method) == 0;
	if (!ok) {
		struct where mw = sub(w, "method", 0);
		fail(&mw, "want POST, PUT, PATCH, DELETE, GET or HEAD");
	}
	c->concurrency = tg->concurrency;
	c->timeout_ms = tg->timeout_ms;
	c->rate = tg->http_rate = (int)int_in(w, t, "rate_per_second", 1, 1000000,
	    HTTP_DEFAULT_RATE);
	jv ins = jv_object_get(jv_copy(t), jv_string("insecure"));
	if (jv_is_valid(ins) && jv_get_kind(ins) != JV_KIND_TRUE && jv_get_kind(ins) != JV_KIND_FALSE) {
		struct where iw = sub(w, "insecure", 0);
		fail(&iw, "must be true or false");
	}
	c->insecure = jv_get_kind(ins) == JV_KIND_TRUE;
	jv_free(ins);
	char *ce = str_dup(w, t, "cloudevents", 0);
	if (ce != NULL) {
		c->cloudevents = strcmp(ce, "binary") == 0 ? HTTP_CE_BINARY :
		    strcmp(ce, "structured") == 0 ? HTTP_CE_STRUCTURED : HTTP_CE_NONE;
		free(ce);
		if (c->cloudevents == HTTP_CE_NONE) {
			struct where cw = sub(w, "cloudevents", 0);
			fail(&cw, "want \"binary\" or \"structured\"");
		}
	}
	load_connection(w, t, c);
}

static void
load_target(const struct where *w, jv t, struct rule *r, int i)
{
	static const char *const keys[] = { "id", "uri", "input", "input_path",
	    "input_transformer", "jq", "retry", "dead_letter", "concurrency", "timeout",
	    "stream", "stream_path", "env", "method", "http_parameters", "connection",
	    "rate_per_second", "insecure", "cloudevents", NULL };
	struct target *tg = &r->targets[i];

	if (jv_get_kind(t) != JV_KIND_OBJECT)
		fail(w, "a target must be an object, not %s", kind_name(t));
	jv uri = member(w, t, "uri", JV_KIND_STRING, 1);
	struct where uw = sub(w, "uri", 0);
	tg->uri = xstrdup(jv_string_value(uri));
	jv_free(uri);
	tg->rule = r;
	parse_uri(&uw, tg);
	check_keys(w, t, keys);
	struct names ids = { r->targets, sizeof *r->targets, offsetof(struct target, id), i,
	    "duplicate target id in this rule" };
	name_member(w, t, "id", "target id", &ids, &tg->id);
	load_shaping(w, t, tg);
	load_retry(w, t, tg);
	jv dl = member(w, t, "dead_letter", JV_KIND_STRING, 0);
	if (jv_is_valid(dl)) {
		struct where dw = sub(w, "dead_letter", 0);
		check_dead_letter(&dw, jv_string_value(dl));
		tg->dead_letter = xstrdup(jv_string_value(dl));
	}
	jv_free(dl);
	int web = tg->kind == TGT_HTTP;
	tg->concurrency = (int)int_in(w, t, "concurrency", 1, 1024,
	    web ? HTTP_DEFAULT_CONCURRENCY : 1);
	tg->timeout_ms = int_in(w, t, "timeout", 1, 86400,
	    web ? HTTP_DEFAULT_TIMEOUT_MS / 1000 : 0) * 1000LL;
	if (!web) {
		kind_only(w, t, tg, "concurrency", TGT_EXEC, "exec: and http");
		kind_only(w, t, tg, "timeout", TGT_EXEC, "exec: and http");
	}
	load_http(w, t, tg);
	load_stream(w, t, tg);
	load_env(w, t, tg);
	jv_free(t);	/* ours (a failure's jump leaves it: the load ends there) */
}

/* The pattern's own text in the file: jq would round numbers that have
 * no exact float64 value, and the pattern matcher compares those by their
 * spelling, as -p does.  Falls back to jq's text if the walk fails. */
static jv
pattern_text(const struct rules *rs, jv p)
{
	struct jseg seg = { "pattern", 7, 0 };
	struct jpath jp = { &seg, 1 };
	const char *v;
	size_t vn;

	if (rs->text != NULL && jpath_find(&jp, rs->text, rs->text_n, &v, &vn) && v[0] == '{') {
		jv_free(p);
		return jv_string_sized(v, (int)vn);
	}
	return jv_dump_string(p, 0);
}

/* The pattern: compiled into the shared set when the rule is enabled,
 * into a scratch set (checked, then dropped) when it is not. */
static void
load_pattern(const struct where *w, jv rule, struct rules *rs, struct pat_set *scratch,
    struct rule *r)
{
	jv p = member(w, rule, "pattern", JV_KIND_OBJECT, 1);
	struct where pw = sub(w, "pattern", 0);
	jv text = pattern_text(rs, p);
	const char *s = jv_string_value(text);
	char *why = NULL;

	if (pat_add(r->enabled ? rs->set : scratch, s, strlen(s), &why) < 0) {
		char m[1024];
		snprintf(m, sizeof m, "invalid event pattern %s", why);
		free(why);
		fail(&pw, "%s", m);
	}
	jv_free(text);
}

static void
load_rule(const struct where *w, jv rule, struct rules *rs, struct pat_set *scratch, int i)
{
	static const char *const keys[] = { "name", "pattern", "state", "description",
	    "targets", NULL };
	struct rule *r = &rs->rules[i];

	if (jv_get_kind(rule) != JV_KIND_OBJECT)
		fail(w, "a rule must be an object, not %s", kind_name(rule));
	check_keys(w, rule, keys);
	struct names names = { rs->rules, sizeof *rs->rules, offsetof(struct rule, name), i,
	    "duplicate rule name" };
	name_member(w, rule, "name", "rule name", &names, &r->name);
	r->arn = arn_make("events", "local", "rule/", r->name);
	jv st = member(w, rule, "state", JV_KIND_STRING, 0);
	r->enabled = 1;
	if (jv_is_valid(st)) {
		struct where sw = sub(w, "state", 0);
		if (strcmp(jv_string_value(st), "DISABLED") == 0)
			r->enabled = 0;
		else if (strcmp(jv_string_value(st), "ENABLED") != 0)
			fail(&sw, "'%s': the state is ENABLED or DISABLED", jv_string_value(st));
	}
	jv_free(st);
	jv d = member(w, rule, "description", JV_KIND_STRING, 0);
	if (jv_is_valid(d) && jv_string_length_bytes(jv_copy(d)) > 512) {
		struct where dw = sub(w, "description", 0);
		fail(&dw, "at most 512 bytes");
	}
	jv_free(d);
	load_pattern(w, rule, rs, scratch, r);
	jv ts = member(w, rule, "targets", JV_KIND_ARRAY, 1);
	struct where tw = sub(w, "targets", 0);
	int n = jv_array_length(jv_copy(ts));
	/* None is allowed, as EventBridge allows it (PutRule before
	 * PutTargets): the rule matches and delivers nowhere. */
	if (n > RULES_MAX_TARGETS)
		fail(&tw, "a rule has at most %d targets, not %d", RULES_MAX_TARGETS, n);
	r->ntargets = n;
	for (int j = 0; j < n; j++) {
		struct where t1 = sub(&tw, NULL, j);
		load_target(&t1, jv_array_get(jv_copy(ts), j), r, j);
	}
	jv_free(ts);
	jv_free(rule);
}

/* The file's text in b and its JSON in *v: 0, or 66 or 2 with e. */
static int
read_json(const char *path, struct buf *b, jv *v, struct ev_err *e)
{
	int rc = buf_read_file(b, path);

	if (rc != 0) {
		errno = rc;
		return err_sys(e, EV_NOINPUT, "cannot read rules file '%s'", path);
	}
	*v = jv_parse_sized(b->p, (int)b->n);
	if (!jv_is_valid(*v)) {
		jv m = jv_invalid_get_msg(*v);
		const char *s = jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "empty file";
		/* jq 1.6 quotes the whole text after the reason: leave it out. */
		rc = err_set(e, EV_USAGE, "%s: not JSON: %.*s", path, (int)strcspn(s, "("), s);
		jv_free(m);
		return rc;
	}
	return 0;
}

/* Where the elements of .rules start in the file text (its '['), or
 * (size_t)-1 when the walk cannot find it. */
static size_t
rules_array(const char *p, size_t n)
{
	struct jseg seg = { "rules", 5, 0 };
	struct jpath jp = { &seg, 1 };
	const char *v;
	size_t vn;

	return jpath_find(&jp, p, n, &v, &vn) && v[0] == '[' ? (size_t)(v - p) : (size_t)-1;
}

/* Points rs->text at the next element of .rules, one walk over the
 * array in all (the rules are loaded in order). */
static void
next_rule_text(struct rules *rs, const char *p, size_t n, size_t *at)
{
	rs->text = NULL;
	if (*at == (size_t)-1)
		return;
	size_t i = json_ws(p, n, *at + 1);	/* past the '[' or the ',' */
	size_t end = json_skip(p, n, i);
	if (end == (size_t)-1) {
		*at = end;
		return;
	}
	rs->text = p + i;
	rs->text_n = end - i;
	*at = json_ws(p, n, end);
}

/* The whole file, or a fault: fail() jumps back to rules_load(). */
static void
load_all(struct where *w, struct rules *rs, jv top, const struct buf *text,
    struct pat_set *scratch)
{
	static const char *const keys[] = { "rules", NULL };

	if (jv_get_kind(top) != JV_KIND_OBJECT)
		fail(w, "the rules file is an object with \"rules\", not %s", kind_name(top));
	check_keys(w, top, keys);
	jv list = member(w, top, "rules", JV_KIND_ARRAY, 1);
	struct where lw = sub(w, "rules", 0);
	rs->nrules = jv_array_length(jv_copy(list));
	rs->rules = xcalloc((size_t)rs->nrules + 1, sizeof *rs->rules);
	rs->byidx = xcalloc((size_t)rs->nrules + 1, sizeof *rs->byidx);
	size_t at = rules_array(text->p, text->n);
	for (int i = 0; i < rs->nrules; i++) {
		struct where rw = sub(&lw, NULL, i);
		next_rule_text(rs, text->p, text->n, &at);
		load_rule(&rw, jv_array_get(jv_copy(list), i), rs, scratch, i);
		if (rs->rules[i].enabled)
			rs->byidx[pat_count(rs->set) - 1] = &rs->rules[i];
	}
	jv_free(list);
}

int
rules_load(const char *path, struct rules **out, struct ev_err *e)
{
	struct load ld = { .e = e };
	struct where w = { .file = path, .ld = &ld };
	struct rules *rs = xcalloc(1, sizeof *rs);
	struct buf text = { 0 };
	struct pat_set *scratch = NULL;
	jv top = jv_invalid();
	int rc;

	*out = NULL;
	if ((rc = read_json(path, &text, &top, e)) != 0) {
		buf_free(&text);
		free(rs);
		return rc;
	}
	rs->set = pat_new();
	scratch = pat_new();
	if (setjmp(ld.jb) == 0) {
		load_all(&w, rs, top, &text, scratch);
		rs->text = NULL;
		*out = rs;
	} else {
		rules_free(rs);
	}
	pat_free(scratch);
	jv_free(top);
	buf_free(&text);
	return *out != NULL ? 0 : EV_USAGE;
}

static void
http_conf_free(struct http_conf *c)
{
	if (c == NULL)
		return;
	if (c->secret != NULL)
		explicit_bzero((char *)c->secret, strlen(c->secret));
	const char *const s[] = { c->url, c->method, c->user, c->secret, c->token_url, c->scope };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		free((char *)s[i]);
	for (const char *const *h = c->headers; h != NULL && *h != NULL; h++)
		free((char *)*h);
	free((void *)c->headers);
	free(c);
}

/* The strings a target owns, freed alike. */
static const size_t target_strings[] = {
	offsetof(struct target, id), offsetof(struct target, uri), offsetof(struct target, arg),
	offsetof(struct target, input), offsetof(struct target, dead_letter),
	offsetof(struct target, stream), offsetof(struct target, stream_path_text),
};

static void
target_free(struct target *t)
{
	for (size_t i = 0; i < sizeof target_strings / sizeof target_strings[0]; i++)
		free(*(char **)((char *)t + target_strings[i]));
	words_free(t->argv);
	words_free(t->env);
	shape_free(t->shape);
	if (t->stream_path != NULL)
		jpath_free(t->stream_path);
	free(t->stream_path);
	http_conf_free(t->http);
}

void
rules_free(struct rules *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < rs->nrules; i++) {
		for (int j = 0; j < rs->rules[i].ntargets; j++)
			target_free(&rs->rules[i].targets[j]);
		free(rs->rules[i].name);
		free(rs->rules[i].arn);
	}
	pat_free(rs->set);
	free(rs->rules);
	free(rs->byidx);
	free(rs);
}

int
rules_describe(const struct target *t, struct buf *b)
{
	static const char *const auth[] = { "none", "basic", "api_key",
	    "oauth_client_credentials" };
	const struct http_conf *c = t->http;

	if (c == NULL)
		return 0;
	buf_reset(b);
	buf_printf(b, "%s %s auth %s, rate %d/s, concurrency %d, timeout %lld s%s%s", c->method,
	    c->url, auth[c->auth], c->rate, c->concurrency, (long long)(c->timeout_ms / 1000),
	    c->insecure ? ", insecure (TLS not verified)" : "",
	    c->cloudevents == HTTP_CE_BINARY ? ", cloudevents binary" :
	    c->cloudevents == HTTP_CE_STRUCTURED ? ", cloudevents structured" : "");
	buf_addc(b, '\0');
	return 1;
}
