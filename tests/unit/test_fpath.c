/* Unit tests of ASL's JSONPath (lib/flow/fpath*): paths as Jayway
 * JsonPath evaluates them for Step Functions, ResultPath's merge, payload
 * templates and Choice rules, with the causes AWS gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jx.h"
#include "flow/fpath.h"
#include "unit.h"

static const char *const BOOKS = "{\"store\": {\"book\": ["
    "{\"category\": \"reference\", \"author\": \"Nigel Rees\", \"title\": \"Sayings of the Century\", \"price\": 8.95},"
    "{\"category\": \"fiction\", \"author\": \"Evelyn Waugh\", \"title\": \"Sword of Honour\", \"price\": 12.99},"
    "{\"category\": \"fiction\", \"author\": \"Herman Melville\", \"title\": \"Moby Dick\", \"isbn\": \"0-553-21311-3\", \"price\": 8.99}],"
    " \"bicycle\": {\"color\": \"red\", \"price\": 19.95}}, \"expensive\": 10}";

static jv
J(const char *s)
{
	struct ev_err e;
	jv v;

	if (jx_parse(s, strlen(s), &v, &e) != 0) {
		printf("Bail out! bad JSON in a test: %s\n", s);
		exit(1);
	}
	return v;
}

static char res[8192];

/* The compact text of v (consumed) into res. */
static const char *
text(jv v)
{
	jv t = jv_dump_string(v, 0);

	snprintf(res, sizeof res, "%s", jv_string_value(t));
	jv_free(t);
	return res;
}

static const char *
fail_text(const struct ferr *f)
{
	snprintf(res, sizeof res, "%s: %s", f->error, f->cause);
	return res;
}

static struct fscope
scope(const char *input)
{
	struct fscope s = {
		J(input),
		J("{\"Execution\": {\"Id\": \"arn:x:1\", \"Input\": {\"k\": 1}}, \"State\": {\"Name\": \"A\"}}"),
		J("{\"count\": 3, \"user\": {\"name\": \"ana\"}}"),
	};
	return s;
}

static void
unscope(struct fscope *s)
{
	jv_free(s->input);
	jv_free(s->ctx);
	jv_free(s->vars);
}

/* The value path selects in input, or "ERROR: cause". */
static const char *
get_field(const char *path, const char *input, const char *field)
{
	struct fscope s = scope(input);
	struct ferr f;
	jv out;
	const char *r = res;

	if (fpath_get(path, &s, field, &out, &f) == 0)
		text(out);
	else
		snprintf(res, sizeof res, "ERROR: %s: %s", f.error, f.cause);
	unscope(&s);
	return r;
}

static const char *
get(const char *path, const char *input)
{
	return get_field(path, input, "InputPath");
}

static void
test_definite(void)
{
	CHECK_STR(get("$", "{\"a\": 1}"), "{\"a\":1}");
	CHECK_STR(get("$.store.bicycle.color", BOOKS), "\"red\"");
	CHECK_STR(get("$['store']['bicycle']['color']", BOOKS), "\"red\"");
	CHECK_STR(get("$[\"store\"][\"bicycle\"].price", BOOKS), "19.95");
	CHECK_STR(get("$.store.book[0].title", BOOKS), "\"Sayings of the Century\"");
	CHECK_STR(get("$.store.book[-1].title", BOOKS), "\"Moby Dick\"");
	CHECK_STR(get("$.store['book'][1]['author']", BOOKS), "\"Evelyn Waugh\"");
	CHECK_STR(get("$.a", "{\"a\": null}"), "null");
	CHECK_STR(get("$.detail-type", "{\"detail-type\": \"x\"}"), "\"x\"");
	CHECK_STR(get("$['a.b']", "{\"a.b\": 2}"), "2");
	CHECK_STR(get("$['it''s']", "{\"its\": 2}"), "ERROR: States.Runtime: Invalid path '$['it''s']' : ']' expected at character 7");
	CHECK_STR(get("$['it\\'s']", "{\"it's\": 2}"), "2");
	/* Several names at the end: an object of those found (Jayway). */
	CHECK_STR(get("$.store.bicycle['color','price']", BOOKS), "{\"color\":\"red\",\"price\":19.95}");
	CHECK_STR(get("$['a', 'zz']", "{\"a\": 1, \"b\": 2}"), "{\"a\":1}");
}

static void
test_indefinite(void)
{
	CHECK_STR(get("$.store.book[*].author", BOOKS),
	    "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\"]");
	CHECK_STR(get("$.store.book[0,2].title", BOOKS), "[\"Sayings of the Century\",\"Moby Dick\"]");
	CHECK_STR(get("$.store.book[1:3].price", BOOKS), "[12.99,8.99]");
	CHECK_STR(get("$.store.book[:2].price", BOOKS), "[8.95,12.99]");
	CHECK_STR(get("$.store.book[-2:].price", BOOKS), "[12.99,8.99]");
	CHECK_STR(get("$.store.book[1:].price", BOOKS), "[12.99,8.99]");
	CHECK_STR(get("$.vals[3:]", "{\"vals\": [0, 10, 20, 30, 40, 50]}"), "[30,40,50]");
	CHECK_STR(get("$..price", BOOKS), "[8.95,12.99,8.99,19.95]");
	CHECK_STR(get("$..author", BOOKS), "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\"]");
	CHECK_STR(get("$.store.*.color", BOOKS), "[\"red\"]");
	CHECK_STR(get("$.a.*", "{\"a\": {\"x\": 1, \"y\": [2]}}"), "[1,[2]]");
	CHECK_STR(get("$.a[*]", "{\"a\": {\"x\": 1, \"y\": 2}}"), "[1,2]");
	CHECK_STR(get("$..[0]", "{\"a\": [1, [2, 3]], \"b\": {\"c\": [4]}}"), "[1,2,4]");
	CHECK_STR(get("$..*", "{\"a\": {\"b\": 1}}"), "[{\"b\":1},1]");
	CHECK_STR(get("$.a[*]", "{\"a\": []}"), "[]");
	CHECK_STR(get("$.a[*].b", "{\"a\": [{\"b\": 1}, {\"c\": 2}, 5]}"), "[1]");
	CHECK_STR(get("$.a[5:9]", "{\"a\": [1]}"), "[]");
}

static void
test_filters(void)
{
	CHECK_STR(get("$.store.book[?(@.price < 10)].title", BOOKS),
	    "[\"Sayings of the Century\",\"Moby Dick\"]");
	CHECK_STR(get("$..book[?(@.isbn)].title", BOOKS), "[\"Moby Dick\"]");
	CHECK_STR(get("$.store.book[?(@.category == 'fiction' && @.price > 10)].title", BOOKS),
	    "[\"Sword of Honour\"]");
	CHECK_STR(get("$.store.book[?(@.price > 12 || @.author == \"Nigel Rees\")].price", BOOKS),
	    "[8.95,12.99]");
	CHECK_STR(get("$.store.book[?(@.price > $.expensive)].title", BOOKS), "[\"Sword of Honour\"]");
	CHECK_STR(get("$.store.book[?(@.price >= 12.99)].price", BOOKS), "[12.99]");
	CHECK_STR(get("$.store.book[?(@.price <= 8.95)].price", BOOKS), "[8.95]");
	CHECK_STR(get("$.store.book[?(@.category != 'fiction')].price", BOOKS), "[8.95]");
	CHECK_STR(get("$.store.book[?(!@.isbn)].price", BOOKS), "[8.95,12.99]");
	CHECK_STR(get("$.store.book[?(@.price > 100)]", BOOKS), "[]");
	CHECK_STR(get("$.a[?(@.ok == true)].n", "{\"a\": [{\"ok\": true, \"n\": 1}, {\"ok\": false, \"n\": 2}, {\"ok\": \"true\", \"n\": 3}]}"), "[1]");
	CHECK_STR(get("$.a[?(@.v == null)].n", "{\"a\": [{\"v\": null, \"n\": 1}, {\"n\": 2}]}"), "[1]");
	CHECK_STR(get("$.a[?(@ > 1)]", "{\"a\": [1, 2, 3, \"4\"]}"), "[2,3]");
	CHECK_STR(get("$.a[?((@.x == 1 || @.x == 2) && !(@.y))].x",
	    "{\"a\": [{\"x\": 1}, {\"x\": 2, \"y\": 0}, {\"x\": 3}]}"), "[1]");
	CHECK_STR(get("$.a[?(@ < '\xef\xbd\x9e')]", "{\"a\": [\"\\ud83d\\ude00\", \"\\uffff\", \"b\\u0000c\"]}"),
	    "[\"\xf0\x9f\x98\x80\",\"b\\u0000c\"]");
	/* $..[?()] tests each object once. */
	CHECK_STR(get("$..[?(@.price < 9)].price", BOOKS), "[8.95,8.99]");
}

static void
test_scopes(void)
{
	CHECK_STR(get("$$.Execution.Id", "{}"), "\"arn:x:1\"");
	CHECK_STR(get("$$.Execution.Input.k", "{}"), "1");
	CHECK_STR(get("$$", "{}"), "{\"Execution\":{\"Id\":\"arn:x:1\",\"Input\":{\"k\":1}},\"State\":{\"Name\":\"A\"}}");
	CHECK_STR(get("$count", "{}"), "3");
	CHECK_STR(get("$user.name", "{}"), "\"ana\"");
	CHECK_STR(get("$user['name']", "{}"), "\"ana\"");
	CHECK_STR(get("$nobody", "{}"),
	    "ERROR: States.Runtime: Invalid path '$nobody' : The variable '$nobody' is not defined");
}

static void
test_no_match(void)
{
	/* As AWS words them (Jayway's texts after "Invalid path '...' : "). */
	CHECK_STR(get("$.Payload", "{\"a\": 1}"),
	    "ERROR: States.Runtime: Invalid path '$.Payload' : No results for path: $['Payload']");
	CHECK_STR(get("$.x.y", "{\"a\": 1}"),
	    "ERROR: States.Runtime: Invalid path '$.x.y' : Missing property in path $['x']");
	CHECK_STR(get("$.store.book[7]", BOOKS),
	    "ERROR: States.Runtime: Invalid path '$.store.book[7]' : No results for path: $['store']['book'][7]");
	CHECK_STR(get("$.a.b", "{\"a\": 5}"),
	    "ERROR: States.Runtime: Invalid path '$.a.b' : Expected to find an object with property ['b'] in path $['a'] but found 'number'");
	CHECK_STR(get("$.a[0]", "{\"a\": {\"b\": 1}}"),
	    "ERROR: States.Runtime: Invalid path '$.a[0]' : Filter: [0] can only be applied to arrays. Current context is: {\"b\":1}");
	CHECK_STR(get("$.a[0]", "{\"a\": null}"),
	    "ERROR: States.Runtime: Invalid path '$.a[0]' : The path $['a'] is null");
	CHECK_STR(get("$.x[*]", "{\"a\": 1}"),
	    "ERROR: States.Runtime: Invalid path '$.x[*]' : Missing property in path $['x']");
	/* A template member's cause names the member and the input. */
	CHECK_STR(get_field("$.nope.deep", "{\"other\": 1}", "missing.$"),
	    "ERROR: States.Runtime: The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in the input '{\"other\":1}'");
	CHECK_STR(get_field("$.JobName", "{}", "JobName.$"),
	    "ERROR: States.Runtime: The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'");
}

static void
test_check(void)
{
	static const char *const good[] = {
		"$", "$.a", "$.a.b[0]", "$['a']", "$[\"a\"]", "$.a[-1]", "$.a[*]", "$.a.*", "$.a[0,1]",
		"$.a[1:3]", "$.a[:2]", "$.a[-2:]", "$..a", "$..[0]", "$..*", "$.a[?(@.b > 1)]",
		"$.a[?(@.b == 'x' && @.c != \"y\" || @.d <= -1.5e2)]", "$.a[?(@.b)]", "$$.Execution.Id",
		"$$", "$var", "$var.a[0]", "$['a','b']", "$.a[ 0 , 1 ]",
	};
	static const char *const bad[] = {
		"", "a.b", "$.", "$[", "$..", "$...a", "$.a(", "$.length()", "$['a'", "$[?(@.a >)]",
		"$['a','b'].c", "$.a[?(@.b)", "$.a[x]", "$.a b", "$[?(1)]", "@.a", "$.a]",
		"$.a[?(@.b == 'x)]", "$.a[1:2:3]",
	};

	for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
		const char *why = fpath_check(good[k], FPATH_PATH);
		if (why != NULL)
			printf("# %s: %s\n", good[k], why);
		CHECK(why == NULL);
	}
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		if (fpath_check(bad[k], FPATH_PATH) == NULL)
			printf("# accepted: %s\n", bad[k]);
		CHECK(fpath_check(bad[k], FPATH_PATH) != NULL);
	}
	CHECK_STR(fpath_check("$.a(", FPATH_PATH), "a function call (not supported) at character 4");
	CHECK_STR(fpath_check("$['a', 'b'].v", FPATH_PATH),
	    "Multi properties can only be used as path leafs at character 1");
	CHECK(fpath_check("$", FPATH_REFERENCE) == NULL);
	CHECK(fpath_check("$.a.b", FPATH_REFERENCE) == NULL);
	CHECK(fpath_check("$['a'][0].b", FPATH_REFERENCE) == NULL);
	CHECK(fpath_check("$.a[*]", FPATH_REFERENCE) != NULL);
	CHECK(fpath_check("$..a", FPATH_REFERENCE) != NULL);
	CHECK(fpath_check("$.a[-1]", FPATH_REFERENCE) != NULL);
	CHECK(fpath_check("$.a[0,1]", FPATH_REFERENCE) != NULL);
	CHECK(fpath_check("$.a[?(@.b)]", FPATH_REFERENCE) != NULL);
	/* ItemsPath, SecondsPath ... may read the context object and variables. */
	CHECK(fpath_check("$$.Execution.Input.items", FPATH_REFERENCE) == NULL);
	CHECK(fpath_check("$items[0]", FPATH_REFERENCE) == NULL);
	CHECK(fpath_check("$['a','b']", FPATH_REFERENCE) != NULL);
}

static const char *
set(const char *input, const char *path, const char *value)
{
	jv in = J(input), v = J(value), out;
	struct ferr f;
	const char *r = fpath_set(in, path, v, &out, &f) == 0 ? text(out) : fail_text(&f);

	jv_free(in);
	jv_free(v);
	return r;
}

static void
test_set(void)
{
	/* The developer guide's ResultPath examples. */
	const char *in = "{\"comment\": \"This is a test\", \"details\": \"Default example\", \"who\": \"Step Functions\"}";
	CHECK_STR(set(in, "$", "\"Hello, Step Functions!\""), "\"Hello, Step Functions!\"");
	CHECK_STR(set(in, "$.taskresult", "\"Hello, Step Functions!\""),
	    "{\"comment\":\"This is a test\",\"details\":\"Default example\",\"who\":\"Step Functions\",\"taskresult\":\"Hello, Step Functions!\"}");
	CHECK_STR(set(in, "$.strings.lambdaresult", "\"Hello, Step Functions!\""),
	    "{\"comment\":\"This is a test\",\"details\":\"Default example\",\"who\":\"Step Functions\",\"strings\":{\"lambdaresult\":\"Hello, Step Functions!\"}}");
	CHECK_STR(set("{\"master\": {\"detail\": [1, 2, 3]}}", "$.master.detail", "[4]"),
	    "{\"master\":{\"detail\":[4]}}");
	CHECK_STR(set("{\"x\": 1, \"a\": {\"y\": 2}, \"z\": 3}", "$.a.r", "true"),
	    "{\"x\":1,\"a\":{\"y\":2,\"r\":true},\"z\":3}");
	CHECK_STR(set("{\"a\": [1, {\"b\": 2}]}", "$.a[1].c", "3"), "{\"a\":[1,{\"b\":2,\"c\":3}]}");
	CHECK_STR(set("{\"a\": [1, 2]}", "$['a'][0]", "9"), "{\"a\":[9,2]}");
	CHECK_STR(set("{}", "$.a.b.c", "{}"), "{\"a\":{\"b\":{\"c\":{}}}}");
	/* Into a value that is not an object: AWS's error and cause. */
	CHECK_STR(set("\"input1\"", "$.someTaskResult", "1"),
	    "States.ReferencePathConflict: Unable to apply ReferencePath $.someTaskResult to input \"input1\"");
	CHECK_STR(set("{\"a\": 5}", "$.a.b", "1"),
	    "States.ReferencePathConflict: Unable to apply ReferencePath $.a.b to input {\"a\":5}");
	CHECK_STR(set("{\"a\": [1]}", "$.a[3]", "1"),
	    "States.ReferencePathConflict: Unable to apply ReferencePath $.a[3] to input {\"a\":[1]}");
	CHECK_STR(set("{}", "$$.Execution", "1"),
	    "States.Runtime: Invalid path '$$.Execution' : a ResultPath puts the result into the input: it starts with '$.' or '$['");
	CHECK_STR(set("{}", "$v.a", "1"),
	    "States.Runtime: Invalid path '$v.a' : a ResultPath puts the result into the input: it starts with '$.' or '$['");
	CHECK_STR(set("{}", "$.a[*]", "1"),
	    "States.Runtime: Invalid path '$.a[*]' : a reference path has only names and indexes after '$' ($.a, $['a'], $.a[0])");

	/* The input is borrowed: the caller's value stays as it was. */
	jv a = J("{\"k\": {\"v\": 1}}"), v = J("2"), out;
	struct ferr f;
	CHECK(fpath_set(a, "$.k.w", v, &out, &f) == 0);
	CHECK_STR(text(jv_copy(a)), "{\"k\":{\"v\":1}}");
	CHECK_STR(text(out), "{\"k\":{\"v\":1,\"w\":2}}");
	jv_free(a);
	jv_free(v);
}

static const char *
tmpl(const char *t, const char *input)
{
	struct fscope s = scope(input);
	jv tv = J(t), out;
	struct ferr f;
	const char *r = ftmpl_apply(tv, &s, "Parameters", &out, &f) == 0 ? text(out) : fail_text(&f);

	jv_free(tv);
	unscope(&s);
	return r;
}

static const char *
tmpl_check(const char *t)
{
	static char where[256];
	jv tv = J(t);
	const char *why = ftmpl_check(tv, "/States/A/Parameters", where, sizeof where);

	jv_free(tv);
	if (why == NULL)
		return "OK";
	snprintf(res, sizeof res, "%s at %s", why, where);
	return res;
}

static void
test_templates(void)
{
	/* The States Language specification's example. */
	CHECK_STR(tmpl("{\"flagged\": true, \"parts\": {\"first.$\": \"$.vals[0]\", \"last3.$\": \"$.vals[3:]\"}}",
	    "{\"flagged\": 7, \"vals\": [0, 10, 20, 30, 40, 50]}"),
	    "{\"flagged\":true,\"parts\":{\"first\":0,\"last3\":[30,40,50]}}");
	CHECK_STR(tmpl("{\"id.$\": \"$$.Execution.Id\", \"n.$\": \"$count\", \"who.$\": \"$user.name\","
	    " \"list\": [{\"x.$\": \"$.a\"}, 1, \"s\", [{\"y.$\": \"$\"}]], \"plain\": \"$.a\", \"nul\": null}",
	    "{\"a\": 5}"),
	    "{\"id\":\"arn:x:1\",\"n\":3,\"who\":\"ana\",\"list\":[{\"x\":5},1,\"s\",[{\"y\":{\"a\":5}}]],\"plain\":\"$.a\",\"nul\":null}");
	CHECK_STR(tmpl("{\"all.$\": \"$.a[*].b\"}", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}"), "{\"all\":[1,2]}");
	CHECK_STR(tmpl("{}", "{\"a\": 1}"), "{}");
	CHECK_STR(tmpl("{\"missing.$\": \"$.nope.deep\"}", "{\"other\": 1}"),
	    "States.Runtime: The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in the input '{\"other\":1}'");
	CHECK_STR(tmpl("{\"a\": {\"b\": [{\"c.$\": \"$.x\"}]}}", "{}"),
	    "States.Runtime: The JSONPath '$.x' specified for the field 'c.$' could not be found in the input '{}'");

	/* Intrinsic functions, their path arguments read as the member's. */
	CHECK_STR(tmpl("{\"greeting.$\": \"States.Format('Hello, {}! ({})', $.name, $$.State.Name)\","
	    " \"list.$\": \"States.Array($.n, $count, 'x')\", \"in\": {\"j.$\": \"States.JsonToString($.o)\"}}",
	    "{\"name\": \"Ana\", \"n\": 1, \"o\": {\"k\": [1]}}"),
	    "{\"greeting\":\"Hello, Ana! (A)\",\"list\":[1,3,\"x\"],\"in\":{\"j\":\"{\\\"k\\\":[1]}\"}}");
	CHECK_STR(tmpl("{\"v.$\": \"States.ArrayLength($.a[*].b)\"}", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}"),
	    "{\"v\":2}");
	CHECK_STR(tmpl("{\"v.$\": \"States.Format('{}', $.nope)\"}", "{\"a\": 1}"),
	    "States.Runtime: The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input '{\"a\":1}'");
	CHECK(strncmp(tmpl_check("{\"v.$\": \"States.Nope(1)\"}"), "OK", 2) != 0);
	CHECK(strstr(tmpl_check("{\"x\": {\"v.$\": \"States.Format('{}'\"}}"), " at /States/A/Parameters/x/v.$") != NULL);
	CHECK_STR(tmpl_check("{\"v.$\": \"States.Format('{} {}', $.a, $$.Execution.Id)\"}"), "OK");

	CHECK_STR(tmpl_check("{\"a\": 1, \"b.$\": \"$.x\", \"c\": {\"d.$\": \"$$.Execution.Id\"}, \"e\": [{\"f.$\": \"$v\"}]}"), "OK");
	CHECK_STR(tmpl_check("{\"a.$\": 5}"),
	    "The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call at /States/A/Parameters/a.$");
	CHECK_STR(tmpl_check("{\"n\": {\"m\": [1, {\"b.$\": \"bad\"}]}}"),
	    "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call at /States/A/Parameters/n/m/1/b.$");
	CHECK_STR(tmpl_check("{\"a/b~\": {\"x.$\": \"$.a[\"}}"),
	    "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call at /States/A/Parameters/a~1b~0/x.$");
}

static const char *
choice(const char *rule, const char *input)
{
	struct fscope s = scope(input);
	jv r = J(rule);
	struct ferr f;
	int m = -1;
	const char *out = fchoice_eval(r, &s, &m, &f) == 0 ? (m ? "T" : "F") : fail_text(&f);

	jv_free(r);
	unscope(&s);
	return out;
}

static const char *
choice_check(const char *rule)
{
	static char where[256];
	jv r = J(rule);
	const char *why = fchoice_check(r, "/States/C/Choices/0", where, sizeof where);

	jv_free(r);
	if (why == NULL)
		return "OK";
	snprintf(res, sizeof res, "%s at %s", why, where);
	return res;
}

#define V(op, val) "{\"Variable\": \"$.v\", \"" op "\": " val "}"

static void
test_choice_strings(void)
{
	const char *in = "{\"v\": \"b\", \"w\": \"c\", \"n\": 1}";

	CHECK_STR(choice(V("StringEquals", "\"b\""), in), "T");
	CHECK_STR(choice(V("StringEquals", "\"B\""), in), "F");
	CHECK_STR(choice(V("StringEquals", "\"1\""), "{\"v\": 1}"), "F");	/* wrong type */
	CHECK_STR(choice(V("StringLessThan", "\"c\""), in), "T");
	CHECK_STR(choice(V("StringLessThan", "\"b\""), in), "F");
	CHECK_STR(choice(V("StringGreaterThan", "\"a\""), in), "T");
	CHECK_STR(choice(V("StringGreaterThan", "\"b\""), in), "F");
	CHECK_STR(choice(V("StringLessThanEquals", "\"b\""), in), "T");
	CHECK_STR(choice(V("StringLessThanEquals", "\"a\""), in), "F");
	CHECK_STR(choice(V("StringGreaterThanEquals", "\"b\""), in), "T");
	CHECK_STR(choice(V("StringGreaterThanEquals", "\"bb\""), in), "F");
	CHECK_STR(choice(V("StringLessThan", "\"bb\""), in), "T");
	/* Java's order (UTF-16 units): U+1F600 before U+FF5E, U+00E9 after "z". */
	CHECK_STR(choice(V("StringLessThan", "\"\\uff5e\""), "{\"v\": \"\\ud83d\\ude00\"}"), "T");
	CHECK_STR(choice(V("StringGreaterThan", "\"\\ud83d\\ude00\""), "{\"v\": \"\\uff5e\"}"), "T");
	CHECK_STR(choice(V("StringGreaterThan", "\"z\""), "{\"v\": \"\\u00e9\"}"), "T");
	CHECK_STR(choice(V("StringLessThan", "\"a\\u00e9\\u00e9\""), "{\"v\": \"a\\u00e9\\u00e8\"}"), "T");
	CHECK_STR(choice(V("StringLessThan", "\"a\\u00e9\\u00e9\""), "{\"v\": \"a\\u00e9\\u00e8z\"}"), "T");
	CHECK_STR(choice(V("StringLessThan", "\"a\\u00e9\\u00e9\""), "{\"v\": \"a\\u00e9\"}"), "T");
	CHECK_STR(choice(V("StringEquals", "\"\\ud83d\\ude00\""), "{\"v\": \"\\ud83d\\ude00\"}"), "T");
	CHECK_STR(choice(V("StringLessThan", "\"\\ud83d\\ude01\""), "{\"v\": \"\\ud83d\\ude00\"}"), "T");
	CHECK_STR(choice(V("StringEqualsPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("StringLessThanPath", "\"$.w\""), in), "T");
	CHECK_STR(choice(V("StringGreaterThanPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("StringLessThanEqualsPath", "\"$.v\""), in), "T");
	CHECK_STR(choice(V("StringGreaterThanEqualsPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("StringEqualsPath", "\"$.n\""), in), "F");	/* operand's type */
	CHECK_STR(choice(V("StringEqualsPath", "\"$.zz\""), in),
	    "States.Runtime: Invalid path '$.zz': The choice state's condition path references an invalid value.");
	/* StringMatches: * any run, \* a star, \\ a backslash. */
	CHECK_STR(choice(V("StringMatches", "\"log-*.txt\""), "{\"v\": \"log-2024-01.txt\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"log-*.txt\""), "{\"v\": \"log-2024.csv\"}"), "F");
	CHECK_STR(choice(V("StringMatches", "\"*\""), "{\"v\": \"\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"a*b*c\""), "{\"v\": \"axxbyyc\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"a*b*c\""), "{\"v\": \"axxbyy\"}"), "F");
	CHECK_STR(choice(V("StringMatches", "\"a\\\\*\""), "{\"v\": \"a*\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"a\\\\*\""), "{\"v\": \"ab\"}"), "F");
	CHECK_STR(choice(V("StringMatches", "\"a\\\\\\\\b\""), "{\"v\": \"a\\\\b\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"*\""), "{\"v\": 5}"), "F");
	CHECK_STR(choice(V("StringMatches", "\"a*\""), "{\"v\": \"a\\u0000b\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"a\""), "{\"v\": \"a\\u0000b\"}"), "F");
	CHECK_STR(choice(V("StringMatches", "\"*.log\""), "{\"v\": \"x.log.log\"}"), "T");
	CHECK_STR(choice(V("StringMatches", "\"a\\\\\""), "{\"v\": \"a\\\\\"}"), "T");
}

static void
test_choice_numbers(void)
{
	const char *in = "{\"v\": 2, \"w\": 3.5, \"s\": \"2\"}";

	CHECK_STR(choice(V("NumericEquals", "2"), in), "T");
	CHECK_STR(choice(V("NumericEquals", "2.0"), in), "T");
	CHECK_STR(choice(V("NumericEquals", "3"), in), "F");
	CHECK_STR(choice(V("NumericEquals", "2"), "{\"v\": \"2\"}"), "F");
	CHECK_STR(choice(V("NumericLessThan", "3"), in), "T");
	CHECK_STR(choice(V("NumericLessThan", "2"), in), "F");
	CHECK_STR(choice(V("NumericGreaterThan", "1.5"), in), "T");
	CHECK_STR(choice(V("NumericGreaterThan", "2"), in), "F");
	CHECK_STR(choice(V("NumericLessThanEquals", "2"), in), "T");
	CHECK_STR(choice(V("NumericLessThanEquals", "-1"), in), "F");
	CHECK_STR(choice(V("NumericGreaterThanEquals", "2"), in), "T");
	CHECK_STR(choice(V("NumericGreaterThanEquals", "2.01"), in), "F");
	CHECK_STR(choice(V("NumericEqualsPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("NumericLessThanPath", "\"$.w\""), in), "T");
	CHECK_STR(choice(V("NumericGreaterThanPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("NumericLessThanEqualsPath", "\"$.v\""), in), "T");
	CHECK_STR(choice(V("NumericGreaterThanEqualsPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("NumericEqualsPath", "\"$.s\""), in), "F");
	CHECK_STR(choice(V("NumericGreaterThan", "1"), "{\"v\": true}"), "F");
	CHECK_STR(choice(V("BooleanEquals", "true"), "{\"v\": true}"), "T");
	CHECK_STR(choice(V("BooleanEquals", "false"), "{\"v\": true}"), "F");
	CHECK_STR(choice(V("BooleanEquals", "false"), "{\"v\": \"false\"}"), "F");
	CHECK_STR(choice(V("BooleanEqualsPath", "\"$.w\""), "{\"v\": false, \"w\": false}"), "T");
	CHECK_STR(choice(V("BooleanEqualsPath", "\"$.w\""), "{\"v\": false, \"w\": true}"), "F");
	CHECK_STR(choice(V("BooleanEqualsPath", "\"$.w\""), "{\"v\": false, \"w\": 0}"), "F");
}

static void
test_choice_timestamps(void)
{
	const char *in = "{\"v\": \"2016-08-18T17:33:00Z\", \"w\": \"2016-08-18T19:33:00.5+02:00\"}";

	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T17:33:00Z\""), in), "T");
	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T19:33:00+02:00\""), in), "T");
	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T17:33:00.000Z\""), in), "T");
	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T17:33:01Z\""), in), "F");
	CHECK_STR(choice(V("TimestampLessThan", "\"2016-08-18T17:33:00.001Z\""), in), "T");
	CHECK_STR(choice(V("TimestampLessThan", "\"2016-08-18T17:33:00Z\""), in), "F");
	CHECK_STR(choice(V("TimestampGreaterThan", "\"2015-12-31T23:59:59Z\""), in), "T");
	CHECK_STR(choice(V("TimestampGreaterThan", "\"2016-08-18T12:33:00-05:00\""), in), "F");
	CHECK_STR(choice(V("TimestampLessThanEquals", "\"2016-08-18T17:33:00Z\""), in), "T");
	CHECK_STR(choice(V("TimestampLessThanEquals", "\"2016-08-18T17:32:59Z\""), in), "F");
	CHECK_STR(choice(V("TimestampGreaterThanEquals", "\"2016-08-18T17:33:00Z\""), in), "T");
	CHECK_STR(choice(V("TimestampGreaterThanEquals", "\"2017-01-01T00:00:00Z\""), in), "F");
	CHECK_STR(choice(V("TimestampLessThanPath", "\"$.w\""), in), "T");
	CHECK_STR(choice(V("TimestampEqualsPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("TimestampGreaterThanPath", "\"$.w\""), in), "F");
	CHECK_STR(choice(V("TimestampLessThanEqualsPath", "\"$.v\""), in), "T");
	CHECK_STR(choice(V("TimestampGreaterThanEqualsPath", "\"$.w\""), in), "F");
	/* Not a timestamp (lower-case t or z, no zone, a bad date): false. */
	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T17:33:00Z\""), "{\"v\": \"2016-08-18t17:33:00Z\"}"), "F");
	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T17:33:00Z\""), "{\"v\": \"2016-08-18T17:33:00\"}"), "F");
	CHECK_STR(choice(V("TimestampEquals", "\"2016-08-18T17:33:00Z\""), "{\"v\": 1471541580}"), "F");
	/* Values AWS compares as false (localstack's recorded AWS runs). */
	CHECK_STR(choice(V("TimestampEquals", "\"2012-10-09T19:00:55Z\""), "{\"v\": \"2023-02-24 12:15:56.832957\"}"), "F");
	CHECK_STR(choice(V("TimestampEquals", "\"2012-10-09T19:00:55Z\""), "{\"v\": []}"), "F");
	CHECK_STR(choice(V("TimestampEquals", "\"2012-10-09T19:00:55Z\""), "{\"v\": {\"A\": 0}}"), "F");
	CHECK_STR(choice(V("TimestampEquals", "\"2012-10-09T19:00:55Z\""), "{\"v\": null}"), "F");
	CHECK_STR(choice(V("IsTimestamp", "true"), in), "T");
	CHECK_STR(choice(V("IsTimestamp", "true"), "{\"v\": \"2016-02-30T00:00:00Z\"}"), "F");
	CHECK_STR(choice(V("IsTimestamp", "true"), "{\"v\": \"2016-08-18T17:33:00z\"}"), "F");
	CHECK_STR(choice(V("IsTimestamp", "false"), "{\"v\": \"tomorrow\"}"), "T");
	CHECK_STR(choice(V("IsTimestamp", "true"), "{\"v\": \"2024-02-29T23:59:59.123456789-00:30\"}"), "T");
}

static void
test_choice_is(void)
{
	CHECK_STR(choice(V("IsNull", "true"), "{\"v\": null}"), "T");
	CHECK_STR(choice(V("IsNull", "true"), "{\"v\": 0}"), "F");
	CHECK_STR(choice(V("IsNull", "false"), "{\"v\": 0}"), "T");
	CHECK_STR(choice(V("IsPresent", "true"), "{\"v\": null}"), "T");
	CHECK_STR(choice(V("IsPresent", "true"), "{}"), "F");
	CHECK_STR(choice(V("IsPresent", "false"), "{}"), "T");
	CHECK_STR(choice(V("IsPresent", "false"), "{\"v\": 1}"), "F");
	CHECK_STR(choice(V("IsNumeric", "true"), "{\"v\": 1.5}"), "T");
	CHECK_STR(choice(V("IsNumeric", "true"), "{\"v\": \"1.5\"}"), "F");
	CHECK_STR(choice(V("IsString", "true"), "{\"v\": \"x\"}"), "T");
	CHECK_STR(choice(V("IsString", "true"), "{\"v\": [\"x\"]}"), "F");
	CHECK_STR(choice(V("IsBoolean", "true"), "{\"v\": false}"), "T");
	CHECK_STR(choice(V("IsBoolean", "false"), "{\"v\": false}"), "F");
	CHECK_STR(choice(V("IsBoolean", "true"), "{\"v\": 0}"), "F");
	CHECK_STR(choice(V("IsNull", "true"), "{\"v\": []}"), "F");
	CHECK_STR(choice(V("IsString", "true"), "{\"v\": \"\"}"), "T");
	CHECK_STR(choice(V("IsNumeric", "false"), "{\"v\": {}}"), "T");
	/* A Variable with no value: AWS's States.Runtime cause. */
	CHECK_STR(choice(V("IsNull", "true"), "{}"),
	    "States.Runtime: Invalid path '$.v': The choice state's condition path references an invalid value.");
	CHECK_STR(choice(V("NumericEquals", "1"), "{}"),
	    "States.Runtime: Invalid path '$.v': The choice state's condition path references an invalid value.");
	CHECK_STR(choice("{\"Variable\": \"$$.State.Name\", \"StringEquals\": \"A\"}", "{}"), "T");
	CHECK_STR(choice("{\"Variable\": \"$count\", \"NumericGreaterThan\": 2}", "{}"), "T");
	CHECK_STR(choice("{\"Variable\": \"$.a[*].b\", \"IsPresent\": true}", "{\"a\": []}"), "T");
}

static void
test_choice_logic(void)
{
	const char *in = "{\"v\": 5, \"s\": \"x\"}";

	CHECK_STR(choice("{\"And\": [" V("NumericGreaterThan", "1") "," V("NumericLessThan", "9") "]}", in), "T");
	CHECK_STR(choice("{\"And\": [" V("NumericGreaterThan", "1") "," V("NumericLessThan", "3") "]}", in), "F");
	CHECK_STR(choice("{\"Or\": [" V("NumericEquals", "1") "," V("NumericEquals", "5") "]}", in), "T");
	CHECK_STR(choice("{\"Or\": [" V("NumericEquals", "1") "," V("NumericEquals", "2") "]}", in), "F");
	CHECK_STR(choice("{\"Not\": " V("NumericEquals", "5") "}", in), "F");
	CHECK_STR(choice("{\"Not\": " V("NumericEquals", "4") ", \"Next\": \"B\"}", in), "T");
	CHECK_STR(choice("{\"And\": [{\"Not\": {\"Variable\": \"$.s\", \"IsNull\": true}},"
	    " {\"Or\": [{\"Variable\": \"$.s\", \"StringEquals\": \"x\"}, {\"Variable\": \"$.zz\", \"IsNull\": true}]}]}", in), "T");
	/* And stops at the first false rule, Or at the first true one. */
	CHECK_STR(choice("{\"And\": [" V("NumericEquals", "1") ", {\"Variable\": \"$.zz\", \"IsNull\": true}]}", in), "F");
	CHECK_STR(choice("{\"Or\": [" V("NumericEquals", "5") ", {\"Variable\": \"$.zz\", \"IsNull\": true}]}", in), "T");
	CHECK_STR(choice("{\"And\": [" V("NumericEquals", "5") ", {\"Variable\": \"$.zz\", \"IsNull\": true}]}", in),
	    "States.Runtime: Invalid path '$.zz': The choice state's condition path references an invalid value.");
}

static void
test_choice_check(void)
{
	CHECK_STR(choice_check(V("StringEquals", "\"x\"")), "OK");
	CHECK_STR(choice_check("{\"Variable\": \"$.v\", \"NumericEquals\": 1, \"Next\": \"B\", \"Comment\": \"c\"}"), "OK");
	CHECK_STR(choice_check("{\"And\": [" V("IsPresent", "true") ", {\"Not\": " V("TimestampEquals", "\"2016-08-18T17:33:00Z\"") "}]}"), "OK");
	CHECK_STR(choice_check(V("StringEqualsPath", "\"$$.Execution.Id\"")), "OK");
	CHECK_STR(choice_check("{\"Variable\": \"$.v\"}"),
	    "A Choice rule must have a comparison operator, And, Or or Not at /States/C/Choices/0");
	CHECK_STR(choice_check("{\"Variable\": \"$.v\", \"StringEquals\": \"a\", \"IsNull\": true}"),
	    "A Choice rule has more than one operator: 'StringEquals' and 'IsNull' at /States/C/Choices/0/IsNull");
	CHECK_STR(choice_check("{\"StringEquals\": \"a\"}"),
	    "A Choice rule with 'StringEquals' must have a Variable at /States/C/Choices/0");
	CHECK_STR(choice_check(V("NumericEquals", "\"1\"")),
	    "The value for the field 'NumericEquals' must be a number at /States/C/Choices/0/NumericEquals");
	CHECK_STR(choice_check(V("StringEquals", "1")),
	    "The value for the field 'StringEquals' must be a string at /States/C/Choices/0/StringEquals");
	CHECK_STR(choice_check(V("BooleanEquals", "\"true\"")),
	    "The value for the field 'BooleanEquals' must be a boolean at /States/C/Choices/0/BooleanEquals");
	CHECK_STR(choice_check(V("IsNull", "1")),
	    "The value for the field 'IsNull' must be a boolean at /States/C/Choices/0/IsNull");
	CHECK_STR(choice_check(V("TimestampEquals", "\"yesterday\"")),
	    "The value for the field 'TimestampEquals' must be a valid timestamp (RFC 3339, as 2016-08-18T17:33:00Z): 'yesterday' at /States/C/Choices/0/TimestampEquals");
	CHECK_STR(choice_check(V("NumericEqualsPath", "\"v\"")),
	    "The value for the field 'NumericEqualsPath' must be a valid JSONPath at /States/C/Choices/0/NumericEqualsPath");
	CHECK_STR(choice_check("{\"Variable\": \"x\", \"IsNull\": true}"),
	    "The value for the field 'Variable' must be a valid JSONPath at /States/C/Choices/0/Variable");
	CHECK_STR(choice_check("{\"Variable\": \"$.v\", \"StringEqual\": \"a\"}"),
	    "Field 'StringEqual' is not supported in a Choice rule at /States/C/Choices/0/StringEqual");
	CHECK_STR(choice_check("{\"And\": []}"),
	    "The value for the field 'And' must be a non-empty array of Choice rules at /States/C/Choices/0/And");
	CHECK_STR(choice_check("{\"Or\": [" V("IsNull", "true") ", {\"Variable\": \"$.v\"}]}"),
	    "A Choice rule must have a comparison operator, And, Or or Not at /States/C/Choices/0/Or/1");
	CHECK_STR(choice_check("{\"Not\": [" V("IsNull", "true") "]}"),
	    "The value for the field 'Not' must be a Choice rule (an object) at /States/C/Choices/0/Not");
	CHECK_STR(choice_check("{\"Variable\": \"$.v\", \"Not\": " V("IsNull", "true") "}"),
	    "Field 'Variable' is not supported with 'Not' at /States/C/Choices/0");
	CHECK_STR(choice_check("[1]"), "a Choice rule must be an object at /States/C/Choices/0");
}

int
main(void)
{
	test_definite();
	test_indefinite();
	test_filters();
	test_scopes();
	test_no_match();
	test_check();
	test_set();
	test_templates();
	test_choice_strings();
	test_choice_numbers();
	test_choice_timestamps();
	test_choice_is();
	test_choice_logic();
	test_choice_check();
	return UNIT_DONE();
}
