/* Unit tests of input shaping: JSONPath lookups in raw text, and the
 * input_template rules EventBridge documents. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "bus/jpath.h"
#include "bus/shape.h"
#include "unit.h"

static const char ev[] =
    "{\"version\":\"0\",\"id\":\"e-1\",\"detail-type\":\"Instance\",\"source\":\"my.app\","
    " \"detail\": {\"instance\": \"i-0123\", \"state\": \"RUNNING\", \"n\": 7,"
    " \"tags\": [\"a\", {\"k\": \"v\"}], \"q\": \"say \\\"hi\\\"\\n\", \"obj\": {\"x\": \"y\"},"
    " \"dup\": 1, \"dup\": 2}}";

static const struct shape_ctx ctx = {
	"my-rule", "arn:aws:events:local:000000000000:rule/my-rule", "2026-11-23T12:00:00.123Z"
};

/* The payload sh makes of ev, as a static string; kind in *kind. */
static const char *
run(struct shape *sh, const char *event, int *kind)
{
	static struct buf out;
	char *why = NULL;

	buf_reset(&out);
	buf_addc(&out, '\0');
	out.n = 0;
	*kind = shape_apply(sh, event, strlen(event), &ctx, &out, &why);
	free(why);
	return out.p;
}

static const char *
path(const char *p)
{
	static char got[256];
	struct jpath jp;
	const char *why, *v;
	size_t vn;

	if (jpath_parse(p, &jp, &why) < 0)
		return "(invalid)";
	int found = jpath_find(&jp, ev, strlen(ev), &v, &vn);
	jpath_free(&jp);
	if (!found)
		return "(absent)";
	snprintf(got, sizeof got, "%.*s", (int)vn, v);
	return got;
}

static void
test_jpath(void)
{
	CHECK_STR(path("$.detail.instance"), "\"i-0123\"");
	CHECK_STR(path("$.detail-type"), "\"Instance\"");
	CHECK_STR(path("$.detail.tags[1].k"), "\"v\"");
	CHECK_STR(path("$.detail.tags[2]"), "(absent)");
	CHECK_STR(path("$.detail.dup"), "2");
	CHECK_STR(path("$.nope.x"), "(absent)");
	CHECK_STR(path("$.detail.n.x"), "(absent)");
	CHECK_STR(path("detail"), "(invalid)");
	CHECK_STR(path("$..a"), "(invalid)");
	CHECK_STR(path("$['a']"), "(invalid)");
	CHECK_STR(path("$.a[x]"), "(invalid)");
	CHECK(strncmp(path("$"), "{\"version\"", 10) == 0);

	struct buf b = { 0 };
	json_unescape(&b, "a\\\"b\\u00e9\\ud83d\\ude00\\n", 24);
	CHECK_STR(b.p, "a\"b\xc3\xa9\xf0\x9f\x98\x80\n");
	buf_free(&b);
}

static struct shape *
xform(const char *map, const char *tmpl, char **why)
{
	jv m = jv_parse(map);
	struct shape *sh = shape_transformer(m, tmpl, why);
	jv_free(m);
	return sh;
}

static void
test_template(void)
{
	const char *map = "{\"instance\":\"$.detail.instance\",\"state\":\"$.detail.state\","
	    "\"n\":\"$.detail.n\",\"q\":\"$.detail.q\",\"obj\":\"$.detail.obj\",\"gone\":\"$.x.y\"}";
	char *why = NULL;
	int kind;
	struct shape *sh;

	/* JSON context keeps quotes; inside a string the raw value goes in */
	sh = xform(map, "{\"myInstance\": <instance>,\n \"myStatus\": \"<instance> is in state \\\"<state>\\\"\"}", &why);
	CHECK(sh != NULL);
	CHECK_STR(run(sh, ev, &kind), "{\"myInstance\":\"i-0123\",\"myStatus\":\"i-0123 is in state \\\"RUNNING\\\"\"}");
	CHECK(kind == SHAPE_JSON);
	shape_free(sh);

	/* not JSON: plain text, values as text */
	sh = xform(map, "<instance> is in state \"<state>\", n=<n>, q=<q>", &why);
	CHECK_STR(run(sh, ev, &kind), "i-0123 is in state \"RUNNING\", n=7, q=say \"hi\"\n");
	CHECK(kind == SHAPE_TEXT);
	shape_free(sh);

	/* missing paths: null as a value, nothing in a string */
	sh = xform(map, "{\"a\": <gone>, \"b\": \"[<gone>]\", \"o\": \"<obj>\", \"v\": <obj>}", &why);
	CHECK_STR(run(sh, ev, &kind), "{\"a\":null,\"b\":\"[]\",\"o\":\"{\\\"x\\\": \\\"y\\\"}\",\"v\":{\"x\": \"y\"}}");
	shape_free(sh);

	/* reserved placeholders */
	sh = xform("null", "{\"r\": <aws.events.rule-name>, \"t\": \"at <aws.events.event.ingestion-time>\","
	    " \"e\": <aws.events.event>}", &why);
	CHECK(sh != NULL);
	CHECK_STR(run(sh, ev, &kind), "{\"r\":\"my-rule\",\"t\":\"at 2026-11-23T12:00:00.123Z\","
	    "\"e\":{\"version\":\"0\",\"id\":\"e-1\",\"detail-type\":\"Instance\",\"source\":\"my.app\"}}");
	shape_free(sh);
	sh = xform("{}", "[<aws.events.event.json>, \"<aws.events.rule-arn>\"]", &why);
	CHECK(strncmp(run(sh, "{\"a\": 1} ", &kind), "[{\"a\": 1},\"arn:aws:events:local:", 32) == 0);
	shape_free(sh);

	/* an unknown <name> is plain text */
	sh = xform("{}", "a <b> c", &why);
	CHECK_STR(run(sh, ev, &kind), "a <b> c");
	shape_free(sh);
}

static int
refused(const char *map, const char *tmpl, const char *want)
{
	char *why = NULL;
	struct shape *sh = xform(map, tmpl, &why);
	int ok = sh == NULL && why != NULL && strstr(why, want) != NULL;

	if (!ok)
		printf("# %s / %s: %s\n", map, tmpl, why ? why : "(accepted)");
	shape_free(sh);
	free(why);
	return ok;
}

static void
test_refused(void)
{
	CHECK(refused("{\"a\":\"$.x\"}", "{<a>: 1}", "object key"));
	CHECK(refused("{\"a\":\"$.x\"}", "{\"x\": <a>", "valid JSON"));
	CHECK(refused("{\"a\":\"x\"}", "<a>", "input_paths_map.a: a JSONPath starts"));
	CHECK(refused("{\"a b\":\"$.x\"}", "<a b>", "a name is 1 to 256"));
	CHECK(refused("{\"a\":1}", "<a>", "must be a string"));
	CHECK(refused("[]", "x", "must be an object"));
	CHECK(refused("{}", "", "1 to 8192"));
	CHECK(refused("{}", "\"<aws.events.event>\"", "can only stand as a JSON value"));
	CHECK(refused("{}", "x <aws.events.event.json>", "can only stand as a JSON value"));

	char map[4096] = "{";
	for (int i = 0; i <= 100; i++)
		snprintf(map + strlen(map), sizeof map - strlen(map), "%s\"v%d\":\"$.a\"", i ? "," : "", i);
	strcat(map, "}");
	CHECK(refused(map, "x", "at most 100"));
}

static void
test_path_and_jq(void)
{
	char *why = NULL;
	int kind;
	struct shape *sh = shape_path("$.detail.tags", &why);

	CHECK_STR(run(sh, ev, &kind), "[\"a\", {\"k\": \"v\"}]");
	CHECK_STR(run(sh, "{\"x\":1}", &kind), "null");
	shape_free(sh);
	CHECK(shape_path("detail", &why) == NULL && strstr(why, "input_path:") != NULL);
	free(why);

	sh = shape_jq("{id, t: .\"detail-type\"}", &why);
	CHECK_STR(run(sh, ev, &kind), "{\"id\":\"e-1\",\"t\":\"Instance\"}");
	CHECK(kind == SHAPE_JSON);
	shape_free(sh);
	sh = shape_jq("select(.id == \"other\")", &why);
	run(sh, ev, &kind);
	CHECK(kind == SHAPE_SKIP);
	shape_free(sh);
	sh = shape_jq(".id + 1", &why);
	why = NULL;
	struct buf out = { 0 };
	CHECK(shape_apply(sh, ev, strlen(ev), &ctx, &out, &why) == -1 && why != NULL);
	free(why);
	buf_free(&out);
	shape_free(sh);
	CHECK(shape_jq("{", &why) == NULL && strncmp(why, "jq: ", 4) == 0);
	free(why);

	CHECK_STR(run(NULL, ev, &kind), ev);
}

int
main(void)
{
	test_jpath();
	test_template();
	test_refused();
	test_path_and_jq();
	return UNIT_DONE();
}
