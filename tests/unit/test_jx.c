/* Unit tests of the libjq wrapper (core/jx) and the raw-text JSON walker
 * it reads simple paths with (core/json_walk). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/jx.h"
#include "unit.h"

/* The key prog selects in json, or "ERR: reason". */
static const char *
key(const char *prog, const char *json)
{
	static struct buf b;
	struct ev_err e;
	struct jx *x;

	buf_reset(&b);
	if (jx_compile(prog, &x, &e) != 0) {
		buf_printf(&b, "COMPILE: %s", e.msg);
	} else {
		if (jx_key(x, json, strlen(json), &b, &e) != 0) {
			buf_reset(&b);
			buf_printf(&b, "ERR: %s", e.msg);
		}
		jx_free(x);
	}
	buf_addc(&b, '\0');
	return b.p;
}

static void
test_simple_paths(void)
{
	const char *ev = "{\"a\": {\"b c\": [10, 12345678901234567890.50], \"d\": \"x\\u0000y\"},"
	    " \"a\\u0062\": true, \"n\": -0.0, \"dup\": 1, \"dup\": \"last\"}";

	CHECK_STR(key(".a[\"b c\"][1]", ev), "12345678901234567890.50");
	CHECK_STR(key(".a.\"b c\"[0]", ev), "10");
	CHECK_STR(key(".[\"a\"][\"b c\"][1]", ev), "12345678901234567890.50");
	CHECK_STR(key(" .ab ", ev), "true");	/* an escaped key is its characters */
	CHECK_STR(key(".n", ev), "-0.0");
	CHECK_STR(key(".dup", ev), "last");	/* the last duplicate wins, as in jq */
	CHECK_STR(key(".a.zz", ev), "ERR: the path yields null for this event");
	CHECK_STR(key(".a[\"b c\"][5]", ev), "ERR: the path yields null for this event");
	CHECK_STR(key(".a", ev), "ERR: the path yields an object for this event");
	CHECK_STR(key(".a.d.e", ev), "ERR: cannot index a string with \"e\"");
	CHECK_STR(key(".a[0]", ev), "ERR: cannot index an object with a number");
	CHECK_STR(key(".x.y", "{\"x\":null}"), "ERR: the path yields null for this event");
	CHECK_STR(key(".[1]", "[1,\"two\"]"), "two");
	CHECK_STR(key(".a", "{\"a\":\"\\udc00\"}"),
	    "ERR: the path yields a string with a lone surrogate (\\ud800-\\udfff), which has no UTF-8 form");
	CHECK_STR(key(".a", "{\"a\":1"), "ERR: not JSON: unexpected end of input at column 7");

	/* a string's NUL is part of the key */
	struct buf b = { 0 };
	struct ev_err e;
	struct jx *x;
	CHECK(jx_compile(".a.d", &x, &e) == 0);
	CHECK(jx_key(x, ev, strlen(ev), &b, &e) == 0 && b.n == 3 && memcmp(b.p, "x\0y", 3) == 0);
	jx_free(x);
	buf_free(&b);
}

static void
test_programs(void)
{
	CHECK_STR(key(".a | .b", "{\"a\":{\"b\":\"s\"}}"), "s");
	CHECK_STR(key(".a?", "{\"a\":9007199254740991}"), "9007199254740991");
	CHECK_STR(key("(.a)", "{\"a\":12345678901234567890}"),
	    "ERR: the program yields a number jq cannot give exactly (1.2345678901234567e+19): "
	    "use a path such as .a.b");
	CHECK_STR(key(".a | tostring", "{\"a\":[1]}"), "[1]");
	CHECK_STR(key("empty", "{}"), "ERR: the program yields nothing for this event");
	CHECK_STR(key("error(\"no\")", "{}"), "ERR: no");
	CHECK_STR(key(".a // 1", "{\"a\":\"\\ud800\"}"),
	    "ERR: jq cannot read this value: Invalid \\uXXXX\\uXXXX surrogate pair escape at line 1, column 13");
	CHECK_STR(key("import \"m\" as m; .", "{}"), "COMPILE: module not found: m");
	CHECK_STR(key(".[", "{}"), "COMPILE: syntax error, unexpected $end (Unix shell quoting issues?) at <top-level>, line 1:\n.[");
}

static void
test_run(void)
{
	struct ev_err e;
	struct jx *x;
	jv out;

	CHECK(jx_compile(".[]", &x, &e) == 0);
	CHECK(jx_eval(x, "[1,2,3]", 7, JX_FIRST, &out, &e) == 0 && jv_number_value(out) == 1);
	jv_free(out);
	CHECK(jx_eval(x, "[1,2,3]", 7, JX_LAST, &out, &e) == 0 && jv_number_value(out) == 3);
	jv_free(out);
	CHECK(jx_eval(x, "[]", 2, JX_LAST, &out, &e) == EV_NONE && jv_get_kind(out) == JV_KIND_NULL);
	CHECK(jx_eval(x, "5", 1, JX_FIRST, &out, &e) == EV_DATAERR);
	CHECK_STR(e.msg, "Cannot iterate over number (5)");
	/* the state is sound after an error */
	CHECK(jx_eval(x, "[4]", 3, JX_FIRST, &out, &e) == 0 && jv_number_value(out) == 4);
	jv_free(out);
	CHECK(jx_run(x, jv_invalid(), JX_FIRST, &out, &e) == EV_DATAERR);
	jx_free(x);

	CHECK(jx_compile("\"bye\\n\" | halt_error(1)", &x, &e) == 0);
	CHECK(jx_eval(x, "{}", 2, JX_FIRST, &out, &e) == EV_DATAERR);
	CHECK_STR(e.msg, "bye");
	jx_free(x);
}

static void
test_compact(void)
{
	struct buf b = { 0 };
	const char *in = "{ \"a b\" : [ 1.50 ,\n\t\"x \\\" y\" ] ,\r\n \"c\":{} }";

	json_compact(&b, in, strlen(in));
	buf_addc(&b, '\0');
	CHECK_STR(b.p, "{\"a b\":[1.50,\"x \\\" y\"],\"c\":{}}");
	buf_free(&b);
}

int
main(void)
{
	test_simple_paths();
	test_programs();
	test_run();
	test_compact();
	return UNIT_DONE();
}
