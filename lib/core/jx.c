/* jx — the one libjq wrapper (see jx.h for what libjq 1.6 cannot take). */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "alloc.h"
#include "json.h"
#include "jx.h"
#include "msg.h"
#include "sigact.h"

/* One step of a simple path: a member name (decoded) or an index. */
struct jx_seg {
	char *name;		/* NULL for an index */
	size_t len;
	size_t idx;
};

struct jx {
	jq_state *jq;
	char *prog;
	struct buf err;		/* compile errors, as libjq reports them */
	struct jx_seg *seg;	/* the program as a simple path, if it is one */
	size_t nseg;
	int simple;
};

/* libjq reports compile errors here: "jq: error: WHAT\n" lines and a
 * closing "jq: N compile error(s)", which says nothing more. */
static void
on_error(void *ctx, jv e)
{
	struct buf *b = ctx;

	if (jv_get_kind(e) != JV_KIND_STRING)
		e = jv_dump_string(e, 0);
	const char *s = jv_string_value(e);
	size_t n = strlen(s);
	if (strncmp(s, "jq: error: ", 11) == 0)
		s += 11, n -= 11;
	else if (strncmp(s, "jq: ", 4) == 0 && strstr(s, "compile error") != NULL)
		n = 0;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (n > 0) {
		if (b->n > 0)
			buf_adds(b, "; ");
		buf_add(b, s, n);
	}
	jv_free(e);
}

/* A jq string literal at p ('"'): its decoded characters into *seg;
 * the index past it, or 0 if it is not a plain JSON string (jq's
 * interpolation "\(…)", a lone surrogate). */
static size_t
literal(const char *p, struct jx_seg *seg)
{
	struct json_err je;
	struct buf b = { 0 };
	size_t end = json_skip(p, strlen(p), 0);

	if (end == (size_t)-1 || json_validate(p, end, 0, &je) != '"' ||
	    json_unescape(&b, p + 1, end - 2) != 0) {
		buf_free(&b);
		return 0;
	}
	seg->len = b.n;
	seg->name = buf_detach(&b);
	return end;
}

static const char ident[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

/* One step of a simple path at p; the index past it, or 0. */
static size_t
step(const char *p, struct jx_seg *seg)
{
	size_t i = 0;

	memset(seg, 0, sizeof *seg);
	if (p[0] == '.' && p[1] != '\0' && strchr(ident, p[1]) != NULL && !(p[1] >= '0' && p[1] <= '9')) {
		size_t len = strspn(p + 1, ident);
		seg->name = xstrndup(p + 1, len);
		seg->len = len;
		return 1 + len;
	}
	if (p[i] == '.' && p[i + 1] == '"')
		return (i = literal(p + 1, seg)) > 0 ? 1 + i : 0;
	if (p[i] == '.' && p[i + 1] == '[')
		i++;
	if (p[i] != '[')
		return 0;
	if (p[i + 1] == '"') {
		size_t end = literal(p + i + 1, seg);
		return end > 0 && p[i + 1 + end] == ']' ? i + end + 2 : 0;
	}
	size_t len = strspn(p + i + 1, "0123456789");
	if (len == 0 || len > 9 || p[i + 1 + len] != ']')
		return 0;
	seg->idx = strtoul(p + i + 1, NULL, 10);
	return i + len + 2;
}

/* Whether prog is a simple path; if so its steps go to x->seg. */
static void
plan_path(struct jx *x, const char *prog)
{
	const char *p = prog + strspn(prog, " \t\n");
	size_t cap = 0, used;

	if (p[0] == '.' && p[1 + strspn(p + 1, " \t\n")] == '\0') {
		x->simple = 1;		/* "." */
		return;
	}
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n') {
		XGROW(&x->seg, &cap, x->nseg + 1);
		if ((used = step(p, &x->seg[x->nseg])) == 0) {
			free(x->seg[x->nseg].name);
			return;
		}
		x->nseg++;
		p += used;
	}
	x->simple = x->nseg > 0 && p[strspn(p, " \t\n")] == '\0';
}

static void
plan_free(struct jx *x)
{
	for (size_t i = 0; i < x->nseg; i++)
		free(x->seg[i].name);
	free(x->seg);
}

/* A libjq state with prog compiled; NULL if it does not compile (x->err
 * says why). */
static jq_state *
new_state(struct jx *x, const char *prog)
{
	jq_state *jq = jq_init();

	if (jq == NULL)
		die_oom();
	jq_set_error_cb(jq, on_error, &x->err);
	/* Without a library path, `import` asserts inside libjq. */
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	if (!jq_compile(jq, prog))
		jq_teardown(&jq);
	return jq;
}

int
jx_compile(const char *prog, struct jx **out, struct ev_err *e)
{
	struct jx *x = xcalloc(1, sizeof *x);

	x->prog = xstrdup(prog);
	if ((x->jq = new_state(x, prog)) == NULL) {
		err_set(e, EV_USAGE, "%s", x->err.n > 0 ? x->err.p : "invalid jq program");
		jx_free(x);
		return EV_USAGE;
	}
	plan_path(x, prog);
	*out = x;
	return 0;
}

void
jx_free(struct jx *x)
{
	if (x == NULL)
		return;
	jq_teardown(&x->jq);	/* which takes a NULL state */
	free(x->prog);
	buf_free(&x->err);
	plan_free(x);
	free(x);
}

/* An error's message m (consumed) as the reason in e: a string as is
 * without its final line ends, anything else as JSON; never empty. */
static int
set_msg(struct ev_err *e, jv m)
{
	if (jv_get_kind(m) != JV_KIND_STRING)
		m = jv_dump_string(m, 0);
	const char *s = jv_string_value(m);
	int len = jv_string_length_bytes(jv_copy(m));
	while (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == 0)
		err_set(e, EV_DATAERR, "the jq program failed with an empty message");
	else
		err_set(e, EV_DATAERR, "%.*s", len, s);
	jv_free(m);
	return EV_DATAERR;
}

int
jx_parse(const char *json, size_t n, jv *v, struct ev_err *e)
{
	if (n > INT_MAX)
		return err_set(e, EV_DATAERR, "a value over 2 GiB is more than jq can take");
	jv p = jv_parse_sized(json, (int)n);
	if (jv_is_valid(p)) {
		*v = p;
		return 0;
	}
	*v = jv_null();
	if (!jv_invalid_has_msg(jv_copy(p))) {
		jv_free(p);
		return err_set(e, EV_DATAERR, "not JSON");
	}
	/* libjq quotes the whole text after its reason: enough to say where */
	jv m = jv_invalid_get_msg(p);
	const char *s = jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "not JSON";
	const char *cut = strstr(s, " (while parsing '");
	err_set(e, EV_DATAERR, "jq cannot read this value: %.*s", cut != NULL ? (int)(cut - s) :
	    (int)strlen(s), s);
	jv_free(m);
	return EV_DATAERR;
}

/* The program stopped: by `halt` (no more output), or by `halt_error`
 * (an error, its message the value halt_error was given). */
static int
halted(struct jx *x, struct ev_err *e)
{
	jv code = jq_get_exit_code(x->jq);
	int failed = jv_get_kind(code) == JV_KIND_NUMBER && jv_number_value(code) != 0;

	jv_free(code);
	jv m = jq_get_error_message(x->jq);
	if (!failed) {
		jv_free(m);
		return EV_NONE;
	}
	return set_msg(e, m);	/* halt_error's strings end with their own \n */
}

/* Why the program stopped (r: the invalid value jq_next returned). */
static int
ended(struct jx *x, jv r, struct ev_err *e)
{
	if (jv_invalid_has_msg(jv_copy(r)))
		return set_msg(e, jv_invalid_get_msg(r));
	jv_free(r);
	return jq_halted(x->jq) ? halted(x, e) : EV_NONE;
}

/* jq_start and jq_next until the output wanted (see jx_run). */
static int
run(struct jx *x, jv in, int which, jv *out, struct ev_err *e)
{
	jv r, last = jv_invalid();

	jq_start(x->jq, in, 0);
	/* Never jq_next again once it returned invalid: libjq asserts. */
	while (jv_is_valid(r = jq_next(x->jq))) {
		jv_free(last);
		last = r;
		if (which == JX_FIRST) {
			*out = last;
			return 0;
		}
	}
	int rc = ended(x, r, e);
	if (rc == EV_NONE && jv_is_valid(last)) {
		*out = last;
		return 0;
	}
	jv_free(last);
	return rc;
}

/* libjq 1.6 also asserts on values no check can foresee, inside its
 * builtins: `todate` on -1e19, nan or infinite (gmtime fails, then a
 * jv_array_get asserts).  While jx_run is in libjq, SIGABRT jumps back to
 * it instead of ending the process; the state libjq was in is abandoned
 * (leaked: its insides are inconsistent) and the program compiled again. */
static _Thread_local sigjmp_buf *guard;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static struct sigaction guard_prev;	/* what SIGABRT did before */

/* Outside the guard, an abort is what it was before (the default, or a
 * fuzzer's crash report). */
static void
on_abort(int sig)
{
	if (guard != NULL)
		siglongjmp(*guard, 1);
	sigaction(sig, &guard_prev, NULL);
	raise(sig);
}

/* SA_NODEFER: the handler runs with SIGABRT unblocked, so the jump back
 * needs no mask restored, and sigsetjmp need not save one per event (a
 * system call each). */
static void
guard_install(void)
{
	sigact_set(SIGABRT, on_abort, SA_NODEFER, &guard_prev);
}

int
jx_run(struct jx *x, jv in, int which, jv *out, struct ev_err *e)
{
	sigjmp_buf jb;

	*out = jv_null();
	if (!jv_is_valid(in)) {		/* jq_start asserts on it */
		jv_free(in);
		return err_set(e, EV_DATAERR, "not a JSON value");
	}
	pthread_once(&guard_once, guard_install);
	if (sigsetjmp(jb, 0) != 0) {
		sigset_t abrt;
		guard = NULL;
		sigemptyset(&abrt);	/* abort() unblocks it too; a kill may not have */
		sigaddset(&abrt, SIGABRT);
		pthread_sigmask(SIG_UNBLOCK, &abrt, NULL);
		*out = jv_null();
		if ((x->jq = new_state(x, x->prog)) == NULL)
			die_oom();	/* it compiled before: only memory can fail */
		return err_set(e, EV_DATAERR, "libjq failed on this value (an assertion inside libjq)");
	}
	guard = &jb;
	int rc = run(x, in, which, out, e);
	guard = NULL;
	return rc;
}

int
jx_eval(struct jx *x, const char *json, size_t n, int which, jv *out, struct ev_err *e)
{
	jv v;
	int rc = jx_parse(json, n, &v, e);

	if (rc != 0) {
		*out = jv_null();
		return rc;
	}
	return jx_run(x, v, which, out, e);
}

static const char *
kind_name(char c)
{
	return c == '{' ? "an object" : c == '[' ? "an array" : c == '"' ? "a string" :
	    c == 'n' ? "null" : c == 't' || c == 'f' ? "a boolean" : "a number";
}

/* The value at x's simple path in the text p[0..n): its start in *at,
 * or EV_NONE when it is absent or null (jq gives null), or EV_DATAERR
 * where jq would fail (indexing a string, say). */
static int
walk(const struct jx *x, const char *p, size_t n, size_t *at, struct ev_err *e)
{
	size_t i = json_ws(p, n, 0);

	for (size_t s = 0; s < x->nseg; s++) {
		const struct jx_seg *g = &x->seg[s];
		if (p[i] == 'n')
			return EV_NONE;		/* null.a is null */
		if (g->name != NULL && p[i] != '{')
			return err_set(e, EV_DATAERR, "cannot index %s with \"%.*s\"",
			    kind_name(p[i]), (int)(g->len > 64 ? 64 : g->len), g->name);
		if (g->name == NULL && p[i] != '[')
			return err_set(e, EV_DATAERR, "cannot index %s with a number",
			    kind_name(p[i]));
		i = g->name != NULL ? json_find_member(p, n, i, g->name, g->len) :
		    json_find_index(p, n, i, g->idx);
		if (i == (size_t)-1)
			return EV_NONE;
	}
	*at = i;
	return 0;
}

/* A key from the JSON text of a value, exactly. */
static int
key_of_text(const char *v, size_t vn, struct buf *key, struct ev_err *e)
{
	if (v[0] == '{' || v[0] == '[' || v[0] == 'n')
		return err_set(e, EV_DATAERR, "the path yields %s for this event", kind_name(v[0]));
	if (v[0] != '"') {
		buf_add(key, v, vn);	/* a number as written, true, false */
		return 0;
	}
	if (json_unescape(key, v + 1, vn - 2) != 0)
		return err_set(e, EV_DATAERR, "the path yields a string with a lone surrogate "
		    "(\\ud800-\\udfff), which has no UTF-8 form");
	return 0;
}

/* A key from a value libjq gave (consumed). */
static int
key_of_jv(jv v, struct buf *key, struct ev_err *e)
{
	int rc = 0;
	double d;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		buf_add(key, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		buf_adds(key, jv_get_kind(v) == JV_KIND_TRUE ? "true" : "false");
		break;
	case JV_KIND_NUMBER:
		/* jq 1.6 holds numbers as doubles: only these are exact */
		d = jv_number_value(v);
		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			buf_printf(key, "%.0f", d);
		else
			rc = err_set(e, EV_DATAERR, "the program yields a number jq cannot give "
			    "exactly (%.17g): use a path such as .a.b", d);
		break;
	default:
		rc = err_set(e, EV_DATAERR, "the program yields %s for this event",
		    jv_get_kind(v) == JV_KIND_NULL ? "null" :
		    jv_get_kind(v) == JV_KIND_ARRAY ? "an array" : "an object");
	}
	jv_free(v);
	return rc;
}

int
jx_key(struct jx *x, const char *json, size_t n, struct buf *key, struct ev_err *e)
{
	struct json_err je;
	size_t at = 0;
	jv v;
	int rc;

	if (x->simple) {
		if (json_validate(json, n, 0, &je) == 0)
			return err_set(e, EV_DATAERR, "not JSON: %s at column %zu", je.what, je.col);
		if ((rc = walk(x, json, n, &at, e)) == EV_NONE)
			return err_set(e, EV_DATAERR, "the path yields null for this event");
		return rc != 0 ? rc : key_of_text(json + at, json_skip(json, n, at) - at, key, e);
	}
	if ((rc = jx_eval(x, json, n, JX_FIRST, &v, e)) == EV_NONE)
		return err_set(e, EV_DATAERR, "the program yields nothing for this event");
	return rc != 0 ? rc : key_of_jv(v, key, e);
}
