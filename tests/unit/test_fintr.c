/* Unit tests of ASL's intrinsic functions (lib/flow/fintr) and of the
 * digests of States.Hash (lib/flow/fhash).  Expected values are the
 * developer guide's examples and what AWS was observed to answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jx.h"
#include "flow/fhash.h"
#include "flow/fintr.h"
#include "unit.h"

static jv input, ctx, vars;
static int gets;	/* how many paths were resolved */

/* $.a.b, $$.a.b and $name.a.b over plain object members. */
static int
resolve(void *arg, const char *path, jv *out, struct ferr *f)
{
	jv v;
	const char *p;

	(void)arg;
	gets++;
	if (strncmp(path, "$$", 2) == 0) {
		v = jv_copy(ctx);
		p = path + 2;
	} else if (path[1] != '.' && path[1] != '\0') {
		size_t n = strcspn(path + 1, ".");
		v = jv_object_get(jv_copy(vars), jv_string_sized(path + 1, (int)n));
		p = path + 1 + n;
	} else {
		v = jv_copy(input);
		p = path + 1;
	}
	while (*p == '.' && jv_is_valid(v)) {
		size_t n = strcspn(p + 1, ".");
		v = jv_get_kind(v) == JV_KIND_OBJECT ?
		    jv_object_get(v, jv_string_sized(p + 1, (int)n)) : (jv_free(v), jv_invalid());
		p += 1 + n;
	}
	if (!jv_is_valid(v) || *p != '\0') {
		jv_free(v);
		jv s = jv_dump_string(jv_copy(input), 0);
		ferr_set(f, "States.Runtime", "The JsonPath argument for the field '%s' could not"
		    " be found in the input '%s'", path, jv_string_value(s));
		jv_free(s);
		return -1;
	}
	*out = v;
	return 0;
}

static jv
parse(const char *json)
{
	struct ev_err e;
	jv v;

	if (jx_parse(json, strlen(json), &v, &e) != 0) {
		printf("# bad test input %s: %s\n", json, e.msg);
		v = jv_null();
	}
	return v;
}

static void
set_input(const char *json)
{
	jv_free(input);
	input = parse(json);
}

/* "OK <compact JSON>" or "<Error>: <Cause>". */
static const char *
ev(const char *call)
{
	static struct buf b;
	struct ferr f;
	jv out;

	buf_reset(&b);
	if (fintr_eval(call, resolve, NULL, &out, &f) == 0) {
		jv s = jv_dump_string(out, 0);
		buf_printf(&b, "OK %s", jv_string_value(s));
		jv_free(s);
	} else {
		buf_printf(&b, "%s: %s", f.error, f.cause);
	}
	return b.p;
}

/* The cause AWS gives for call, failing in its function name. */
static const char *
invalid(const char *call, const char *name)
{
	static struct buf b;

	buf_reset(&b);
	buf_printf(&b, "States.Runtime: There was an error while evaluating the intrinsic"
	    " function: %s. Invalid arguments in %s", call, name);
	return b.p;
}

#define INVALID(call, name) CHECK_STR(ev(call), invalid(call, name))

static void
test_guide_examples(void)
{
	set_input("{\"name\":\"Arnav\",\"template\":\"Hello, my name is {}.\"}");
	CHECK_STR(ev("States.Format('Hello, my name is {}.', $.name)"),
	    "OK \"Hello, my name is Arnav.\"");
	CHECK_STR(ev("States.Format($.template, $.name)"), "OK \"Hello, my name is Arnav.\"");
	set_input("{\"firstName\":\"John\",\"lastName\":\"Doe\"}");
	CHECK_STR(ev("States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)"),
	    "OK \"Welcome to John Doe's playlist.\"");
	set_input("{\"escapedJsonString\":\"{\\\"foo\\\": \\\"bar\\\"}\"}");
	CHECK_STR(ev("States.StringToJson($.escapedJsonString)"), "OK {\"foo\":\"bar\"}");
	set_input("{\"unescapedJson\":{\"foo\":\"bar\"}}");
	CHECK_STR(ev("States.JsonToString($.unescapedJson)"), "OK \"{\\\"foo\\\":\\\"bar\\\"}\"");
	set_input("{\"Id\":123456}");
	CHECK_STR(ev("States.Array($.Id)"), "OK [123456]");
	set_input("{\"inputArray\":[1,2,3,4,5,6,7,8,9],\"lookingFor\":5,\"index\":5}");
	CHECK_STR(ev("States.ArrayPartition($.inputArray,4)"), "OK [[1,2,3,4],[5,6,7,8],[9]]");
	CHECK_STR(ev("States.ArrayContains($.inputArray, $.lookingFor)"), "OK true");
	CHECK_STR(ev("States.ArrayRange(1, 9, 2)"), "OK [1,3,5,7,9]");
	CHECK_STR(ev("States.ArrayGetItem($.inputArray, $.index)"), "OK 6");
	CHECK_STR(ev("States.ArrayLength($.inputArray)"), "OK 9");
	set_input("{\"inputArray\":[1,2,3,3,3,3,3,3,4]}");
	CHECK_STR(ev("States.ArrayUnique($.inputArray)"), "OK [1,2,3,4]");
	set_input("{\"input\":\"Data to encode\",\"base64\":\"RGF0YSB0byBlbmNvZGU=\"}");
	CHECK_STR(ev("States.Base64Encode($.input)"), "OK \"RGF0YSB0byBlbmNvZGU=\"");
	CHECK_STR(ev("States.Base64Decode($.base64)"), "OK \"Data to encode\"");
	set_input("{\"Data\":\"input data\",\"Algorithm\":\"SHA-1\"}");
	CHECK_STR(ev("States.Hash($.Data, $.Algorithm)"),
	    "OK \"aaff4a450a104cd177d28d18d74485e8cae074b7\"");
	set_input("{\"json1\":{\"a\":{\"a1\":1,\"a2\":2},\"b\":2},"
	    "\"json2\":{\"a\":{\"a3\":1,\"a4\":2},\"c\":3}}");
	CHECK_STR(ev("States.JsonMerge($.json1, $.json2, false)"),
	    "OK {\"a\":{\"a3\":1,\"a4\":2},\"b\":2,\"c\":3}");
	set_input("{\"value1\":111,\"step\":-1}");
	CHECK_STR(ev("States.MathAdd($.value1, $.step)"), "OK 110");
	set_input("{\"inputString\":\"1,2,3,4,5\",\"splitter\":\",\","
	    "\"s2\":\"This.is+a,test=string\",\"d2\":\".+,=\"}");
	CHECK_STR(ev("States.StringSplit($.inputString, $.splitter)"),
	    "OK [\"1\",\"2\",\"3\",\"4\",\"5\"]");
	CHECK_STR(ev("States.StringSplit($.s2, $.d2)"),
	    "OK [\"This\",\"is\",\"a\",\"test\",\"string\"]");
	/* the guide's nesting of nine calls in one field */
	set_input("{\"ImageRecipe\":{\"Arn\":\"arn:aws:imagebuilder:us-east-1:1:image-recipe/r/1.2.3\"}}");
	CHECK_STR(ev("States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit("
	    "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), "
	    "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
	    "$.ImageRecipe.Arn, '/'), 2), '.'), 1), States.ArrayGetItem(States.StringSplit("
	    "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 2))"),
	    "OK \"1.2.3\"");
}

static void
test_format(void)
{
	set_input("{\"a\":\"x\",\"b\":2,\"c\":true,\"n\":null,\"f\":3.5,\"arr\":[1,\"s\",[]],"
	    "\"obj\":{\"Arg1\":1,\"Arg2\":[]},\"sm\":{\"Id\":\"arn:x\",\"Name\":\"m\",\"N\":null},\"t\":\"This value is \\\\{{}\\\\}\"}");
	CHECK_STR(ev("States.Format('{} {} {}', $.a, $.b, $.c)"), "OK \"x 2 true\"");
	CHECK_STR(ev("States.Format('{}|{}', $.n, $.f)"), "OK \"null|3.5\"");
	CHECK_STR(ev("States.Format('no placeholders')"), "OK \"no placeholders\"");
	CHECK_STR(ev("States.Format('  {}  ', $.a)"), "OK \"  x  \"");
	/* arrays and objects as Java writes them (AWS, recorded by LocalStack's
	 * test_format_2 and test_context_json_path) */
	CHECK_STR(ev("States.Format('{} {}', $.arr, $.obj)"), "OK \"[1, s, []] {Arg1=1, Arg2=[]}\"");
	CHECK_STR(ev("States.Format('fst={} and snd={}.', $.sm.Id, $.sm)"),
	    "OK \"fst=arn:x and snd={Id=arn:x, Name=m, N=null}.\"");
	/* the reserved characters, escaped */
	CHECK_STR(ev("States.Format('Name: \\'{}\\', \\{\\} \\\\', $.a)"),
	    "OK \"Name: 'x', {} \\\\\"");
	CHECK_STR(ev("States.Format($.t, 'Foo')"), "OK \"This value is {Foo}\"");
	CHECK_STR(ev("States.Format('arn:{}:{}', $.a, States.JsonToString($.obj))"),
	    "OK \"arn:x:{\\\"Arg1\\\":1,\\\"Arg2\\\":[]}\"");
	/* placeholders and arguments must pair up; a brace alone is no template */
	INVALID("States.Format('{} {}', $.a)", "States.Format");
	INVALID("States.Format('{}', $.a, $.b)", "States.Format");
	INVALID("States.Format('Hello {', $.a)", "States.Format");
	INVALID("States.Format('Hello {{}}', $.a)", "States.Format");
	INVALID("States.Format('}')", "States.Format");
	INVALID("States.Format('\\{}', $.a)", "States.Format");
	INVALID("States.Format($.b, $.a)", "States.Format");
	INVALID("States.Format()", "States.Format");
}

static void
test_json(void)
{
	set_input("{\"s\":\"[1, {\\\"a\\\": null}]\",\"bad\":\"{\",\"num\":5,\"o\":{\"k\":[1,2.5,\"x\"]}}");
	CHECK_STR(ev("States.StringToJson($.s)"), "OK [1,{\"a\":null}]");
	CHECK_STR(ev("States.StringToJson('\"x\"')"), "OK \"x\"");
	INVALID("States.StringToJson($.bad)", "States.StringToJson");
	INVALID("States.StringToJson($.num)", "States.StringToJson");
	CHECK_STR(ev("States.StringToJson('')"), "OK null");	/* as AWS */
	CHECK_STR(ev("States.StringToJson(' ')"), "OK null");
	INVALID("States.StringToJson('1 2')", "States.StringToJson");
	CHECK_STR(ev("States.JsonToString($.o)"), "OK \"{\\\"k\\\":[1,2.5,\\\"x\\\"]}\"");
	CHECK_STR(ev("States.JsonToString($.num)"), "OK \"5\"");
	CHECK_STR(ev("States.StringToJson(States.JsonToString($.o))"), "OK {\"k\":[1,2.5,\"x\"]}");
	INVALID("States.JsonToString($.o, $.o)", "States.JsonToString");
	set_input("{\"a\":{\"x\":1,\"y\":{\"z\":1}},\"b\":{\"y\":{\"w\":2}},\"s\":\"str\"}");
	CHECK_STR(ev("States.JsonMerge($.a, $.b, false)"), "OK {\"x\":1,\"y\":{\"w\":2}}");
	INVALID("States.JsonMerge($.a, $.b, true)", "States.JsonMerge");	/* no deep merge */
	INVALID("States.JsonMerge($.a, $.s, false)", "States.JsonMerge");
	INVALID("States.JsonMerge($.a, $.b)", "States.JsonMerge");
	INVALID("States.JsonMerge($.a, $.b, 'false')", "States.JsonMerge");
}

static void
test_arrays(void)
{
	set_input("{\"arr\":[10,20,30],\"empty\":[],\"obj\":{\"a\":1},\"pair\":{\"b\":2,\"a\":1},"
	    "\"dups\":[null,null,1,\"1\",1.0,\"01\",{\"a\":1,\"b\":2},{\"b\":2,\"a\":1},[1,2],[1,2]]}");
	CHECK_STR(ev("States.Array()"), "OK []");
	CHECK_STR(ev("States.Array('a', 1, -2.5e1, true, false, null, $.obj, States.Array())"),
	    "OK [\"a\",1,-25,true,false,null,{\"a\":1},[]]");
	CHECK_STR(ev("States.ArrayPartition($.arr, 1)"), "OK [[10],[20],[30]]");
	CHECK_STR(ev("States.ArrayPartition($.arr, 5)"), "OK [[10,20,30]]");
	CHECK_STR(ev("States.ArrayPartition($.empty, 2)"), "OK []");
	CHECK_STR(ev("States.ArrayPartition($.arr, 2.6)"), "OK [[10,20],[30]]");	/* truncated */
	INVALID("States.ArrayPartition($.arr, 0)", "States.ArrayPartition");
	INVALID("States.ArrayPartition($.arr, 0.49)", "States.ArrayPartition");
	INVALID("States.ArrayPartition($.arr, -1)", "States.ArrayPartition");
	INVALID("States.ArrayPartition($.obj, 1)", "States.ArrayPartition");
	INVALID("States.ArrayPartition($.arr, '2')", "States.ArrayPartition");
	CHECK_STR(ev("States.ArrayContains($.dups, $.pair)"), "OK true");
	CHECK_STR(ev("States.ArrayContains($.dups, $.obj)"), "OK false");
	CHECK_STR(ev("States.ArrayContains($.dups, States.StringToJson('\\{\"a\":1,\"b\":2\\}'))"),
	    "OK true");
	CHECK_STR(ev("States.ArrayContains($.dups, 'x')"), "OK false");
	CHECK_STR(ev("States.ArrayContains($.dups, States.Array(1, 2))"), "OK true");
	INVALID("States.ArrayContains($.obj, 1)", "States.ArrayContains");
	CHECK_STR(ev("States.ArrayGetItem($.arr, 0)"), "OK 10");
	CHECK_STR(ev("States.ArrayGetItem($.arr, 1.2)"), "OK 20");	/* truncated */
	CHECK_STR(ev("States.ArrayGetItem($.empty, 999)"), "OK null");	/* as AWS */
	CHECK_STR(ev("States.ArrayGetItem(States.Array('x', 'y', 'z'), 1)"), "OK \"y\"");
	INVALID("States.ArrayGetItem($.arr, 3)", "States.ArrayGetItem");
	INVALID("States.ArrayGetItem($.arr, -1)", "States.ArrayGetItem");
	INVALID("States.ArrayGetItem($.arr, '1')", "States.ArrayGetItem");
	INVALID("States.ArrayGetItem('not-array', 0)", "States.ArrayGetItem");
	INVALID("States.ArrayGetItem($.arr)", "States.ArrayGetItem");
	CHECK_STR(ev("States.ArrayLength($.empty)"), "OK 0");
	INVALID("States.ArrayLength($.obj)", "States.ArrayLength");
	CHECK_STR(ev("States.ArrayUnique($.dups)"),
	    "OK [null,1,\"1\",\"01\",{\"a\":1,\"b\":2},[1,2]]");
	CHECK_STR(ev("States.ArrayUnique($.empty)"), "OK []");
	INVALID("States.ArrayUnique('not-array')", "States.ArrayUnique");
	INVALID("States.ArrayUnique()", "States.ArrayUnique");
}

static void
test_array_range(void)
{
	set_input("{\"base\":0}");
	CHECK_STR(ev("States.ArrayRange(-2, 2, 2)"), "OK [-2,0,2]");
	CHECK_STR(ev("States.ArrayRange(3, 3, -1)"), "OK [3]");
	CHECK_STR(ev("States.ArrayRange(5, 1, -2)"), "OK [5,3,1]");
	CHECK_STR(ev("States.ArrayRange(5, 1, 1)"), "OK []");
	CHECK_STR(ev("States.ArrayRange(1.6, 1.4, 1)"), "OK [1]");	/* truncated, as AWS */
	CHECK_STR(ev("States.ArrayRange(5.4, -0.6, -2.4)"), "OK [5,3,1]");
	CHECK_STR(ev("States.ArrayRange(States.MathAdd($.base, 1), States.MathAdd($.base, 5), 2)"),
	    "OK [1,3,5]");
	/* at most 1000 elements */
	CHECK_STR(ev("States.ArrayLength(States.ArrayRange(1, 1000, 1))"), "OK 1000");
	CHECK_STR(ev("States.ArrayLength(States.ArrayRange(1000, 1, -1))"), "OK 1000");
	INVALID("States.ArrayRange(1, 1001, 1)", "States.ArrayRange");
	INVALID("States.ArrayRange(1001, 1, -1)", "States.ArrayRange");
	INVALID("States.ArrayRange(-2147483648, 2147483647, 1)", "States.ArrayRange");
	INVALID("States.ArrayRange(1, 10, 0)", "States.ArrayRange");
	INVALID("States.ArrayRange(1, 10, 0.49)", "States.ArrayRange");
	INVALID("States.ArrayRange('a', 5, 1)", "States.ArrayRange");
	INVALID("States.ArrayRange(1, 5)", "States.ArrayRange");
	INVALID("States.ArrayRange(1, 5, 1, 99)", "States.ArrayRange");
	INVALID("States.ArrayRange(1, 3000000000, 1)", "States.ArrayRange");
}

static void
test_encoding(void)
{
	struct buf big = { 0 };

	set_input("{\"u\":\"\\u2713 \\u3053\\ud83d\\ude80\",\"obj\":{},\"nul\":\"abc\\u0000def\","
	    "\"z\":\"YW\\u0000Jj\"}");
	CHECK_STR(ev("States.Base64Encode($.u)"), "OK \"4pyTIOOBk/CfmoA=\"");
	CHECK_STR(ev("States.Base64Decode('4pyTIOOBk/CfmoA=')"), "OK \"\u2713 \u3053\U0001F680\"");
	CHECK_STR(ev("States.Base64Encode('')"), "OK \"\"");
	CHECK_STR(ev("States.Base64Decode('')"), "OK \"\"");
	CHECK_STR(ev("States.Base64Decode('YWJjAGRlZg==')"), "OK \"abc\\u0000def\"");
	CHECK_STR(ev("States.Base64Encode($.nul)"), "OK \"YWJjAGRlZg==\"");
	CHECK_STR(ev("States.Base64Decode(States.Base64Encode($.u))"),
	    "OK \"\u2713 \u3053\U0001F680\"");
	/* AWS decodes leniently: foreign characters skipped, '=' ends it */
	CHECK_STR(ev("States.Base64Decode(' YWJjZA== ')"), "OK \"abcd\"");
	CHECK_STR(ev("States.Base64Decode('YWJjZA')"), "OK \"abcd\"");
	CHECK_STR(ev("States.Base64Decode('aGk=aGk=')"), "OK \"hi\"");
	CHECK_STR(ev("States.Base64Decode($.z)"), "OK \"abc\"");	/* NUL: one more foreign character */
	INVALID("States.Base64Encode(123)", "States.Base64Encode");
	INVALID("States.Base64Decode($.obj)", "States.Base64Decode");
	INVALID("States.Base64Decode()", "States.Base64Decode");
	INVALID("States.Base64Decode('aGVsbG8=', 'extra')", "States.Base64Decode");
	/* at most 10,000 characters in */
	for (int i = 0; i < 10000; i++)
		buf_addc(&big, 'A');
	struct buf in = { 0 };
	buf_printf(&in, "{\"s\":\"%s\",\"t\":\"%sA\",\"w\":\"%.*s\\u00e9\"}", big.p, big.p,
	    9999, big.p);
	set_input(in.p);
	CHECK(strncmp(ev("States.Base64Encode($.s)"), "OK \"QUFB", 8) == 0);
	CHECK(strncmp(ev("States.Base64Decode($.s)"), "OK \"", 4) == 0);
	CHECK(strncmp(ev("States.Base64Encode($.w)"), "OK \"", 4) == 0);	/* characters, not bytes */
	INVALID("States.Base64Encode($.t)", "States.Base64Encode");
	INVALID("States.Base64Decode($.t)", "States.Base64Decode");
	buf_free(&big);
	buf_free(&in);
}

static void
test_hash(void)
{
	static const struct {
		const char *alg, *hex;
	} hello[] = {
		{ "MD5", "5d41402abc4b2a76b9719d911017c592" },
		{ "SHA-1", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" },
		{ "SHA-256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" },
		{ "SHA-384", "59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f" },
		{ "SHA-512", "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043" },
	};
	char call[96], want[160];

	set_input("{\"s\":\"\\u2713\",\"nul\":\"abc\\u0000def\",\"num\":123}");
	for (size_t i = 0; i < sizeof hello / sizeof hello[0]; i++) {
		snprintf(call, sizeof call, "States.Hash('hello', '%s')", hello[i].alg);
		snprintf(want, sizeof want, "OK \"%s\"", hello[i].hex);
		CHECK_STR(ev(call), want);
	}
	CHECK_STR(ev("States.Hash($.s, 'SHA-256')"),
	    "OK \"1dabba21cdad44541f6b15796f8d22978fc7ea10c46aeceeeeb66c23b3ac7604\"");
	CHECK_STR(ev("States.Hash($.nul, 'MD5')"), "OK \"a5e4d5963ae44c1f4bfb37b1a3d55a3c\"");
	CHECK_STR(ev("States.Hash('', 'SHA-256')"),
	    "OK \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"");
	/* AWS hashes a number as its text */
	CHECK_STR(ev("States.Hash($.num, 'MD5')"), "OK \"202cb962ac59075b964b07152d234b70\"");
	INVALID("States.Hash('data', 'sha-256')", "States.Hash");
	INVALID("States.Hash('data', 'SHA256')", "States.Hash");
	INVALID("States.Hash('data', 'MD-5')", "States.Hash");
	INVALID("States.Hash('data', '')", "States.Hash");
	INVALID("States.Hash('hello', 123)", "States.Hash");
	INVALID("States.Hash('hello')", "States.Hash");
	INVALID("States.Hash()", "States.Hash");

	struct buf big = { 0 }, in = { 0 };
	for (int i = 0; i < 10000; i++)
		buf_addc(&big, 'a');
	buf_printf(&in, "{\"s\":\"%s\",\"t\":\"%sa\"}", big.p, big.p);
	set_input(in.p);
	CHECK(strlen(ev("States.Hash($.s, 'SHA-512')")) == 3 + 128 + 2);
	INVALID("States.Hash($.t, 'SHA-512')", "States.Hash");
	buf_free(&big);
	buf_free(&in);
}

/* The digests over one and two padding blocks, against known values. */
static void
test_digests(void)
{
	static const struct {
		const char *alg;
		size_t n;	/* of 'a's; 0 with "abc" */
		const char *hex;
	} v[] = {
		{ "SHA-1", 0, "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "SHA-1", 111, "ac877859d427d9192054eea8feb3b8a403ef83a5" },
		{ "SHA-1", 1000, "291e9a6c66994949b57ba5e650361e98fc36b1ba" },
		{ "SHA-384", 0, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7" },
		{ "SHA-384", 112, "187d4e07cb306103c69967bf544d0dfbe9042577599c73c330abc0cb64c61236d5ed565ee19119d8c31779a38f791fcd" },
		{ "SHA-512", 0, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
		{ "SHA-512", 111, "fa9121c7b32b9e01733d034cfc78cbf67f926c7ed83e82200ef86818196921760b4beff48404df811b953828274461673c68d04e297b0eb7b2b4d60fc6b566a2" },
		{ "SHA-512", 112, "c01d080efd492776a1c43bd23dd99d0a2e626d481e16782e75d54c2503b5dc32bd05f0f1ba33e568b88fd2d970929b719ecbb152f58f130a407c8830604b70ca" },
		{ "SHA-512", 1000, "67ba5535a46e3f86dbfbed8cbbaf0125c76ed549ff8b0b9e03e0c88cf90fa634fa7b12b47d77b694de488ace8d9a65967dc96df599727d3292a8d9d447709c97" },
		{ "MD5", 1000, "cabe45dcc9ae5b66ba86600cca6b8ba8" },
		{ "SHA-256", 1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3" },
	};
	char a[1000], hex[FHASH_HEX_MAX];

	memset(a, 'a', sizeof a);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		CHECK(fhash_hex(v[i].alg, v[i].n ? a : "abc", v[i].n ? v[i].n : 3, hex) == 0);
		CHECK_STR(hex, v[i].hex);
	}
	CHECK(fhash_hex("SHA-1", "", 0, hex) == 0);
	CHECK_STR(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	CHECK(fhash_hex("SHA-224", "", 0, hex) == -1);
}

static void
test_math(void)
{
	set_input("{\"start\":1,\"end\":999,\"big\":2147483647}");
	/* each argument rounded as Java's Math.round: AWS's sums recorded by
	 * LocalStack's test_math_add */
	CHECK_STR(ev("States.MathAdd(1.49, 1.5)"), "OK 3");
	CHECK_STR(ev("States.MathAdd(1.5, 1.51)"), "OK 4");
	CHECK_STR(ev("States.MathAdd(-1.49, -1.5)"), "OK -2");
	CHECK_STR(ev("States.MathAdd(-1.5, -1.51)"), "OK -3");
	CHECK_STR(ev("States.MathAdd(-9, 3)"), "OK -6");
	CHECK_STR(ev("States.MathAdd(-2147483648, 2147483647)"), "OK -1");
	INVALID("States.MathAdd($.big, 1)", "States.MathAdd");
	INVALID("States.MathAdd(2147483648, 0)", "States.MathAdd");
	INVALID("States.MathAdd('1', 2)", "States.MathAdd");
	INVALID("States.MathAdd(1)", "States.MathAdd");
	for (int i = 0; i < 50; i++) {
		const char *r = ev("States.MathRandom($.start, $.end)");
		int v = strncmp(r, "OK ", 3) == 0 ? atoi(r + 3) : -1;
		CHECK(v >= 1 && v < 999);
		r = ev("States.MathRandom(1.6, 5.4)");	/* truncated: [1, 5) */
		v = strncmp(r, "OK ", 3) == 0 ? atoi(r + 3) : -1;
		CHECK(v >= 1 && v < 5);
	}
	/* a seed picks java.util.Random's sequence */
	CHECK_STR(ev("States.MathRandom(1, 100, 42)"), "OK 63");
	CHECK_STR(ev("States.MathRandom(1, 10, 42)"), "OK 9");
	CHECK_STR(ev("States.MathRandom(0, 16, 7)"), "OK 11");
	CHECK_STR(ev("States.MathRandom(1, 10, -10)"), "OK 1");
	CHECK_STR(ev("States.MathRandom(2147483640, 2147483647, 1)"), "OK 2147483644");
	CHECK(strncmp(ev("States.MathRandom(-2147483648, 2147483647, 5)"), "OK ", 3) == 0);
	INVALID("States.MathRandom(1, 1)", "States.MathRandom");
	INVALID("States.MathRandom(10, 5)", "States.MathRandom");
	INVALID("States.MathRandom(1.4, 1.6)", "States.MathRandom");
	INVALID("States.MathRandom('a', 10)", "States.MathRandom");
	INVALID("States.MathRandom(1, 10, 'seed')", "States.MathRandom");
	INVALID("States.MathRandom(1, 10, null)", "States.MathRandom");
	INVALID("States.MathRandom(1)", "States.MathRandom");
	INVALID("States.MathRandom(1, 10, 5, 99)", "States.MathRandom");
}

static void
test_string_split_uuid(void)
{
	set_input("{\"arn\":\"arn:aws:states:us-east-1:123:execution:m:e\",\"u\":\"a\\u2713b\\u00e9c\"}");
	CHECK_STR(ev("States.ArrayGetItem(States.StringSplit($.arn, ':'), 3)"), "OK \"us-east-1\"");
	CHECK_STR(ev("States.StringSplit('::a::b:', ':')"), "OK [\"a\",\"b\"]");
	CHECK_STR(ev("States.StringSplit('a b', '')"), "OK [\"a b\"]");
	CHECK_STR(ev("States.StringSplit('', ',')"), "OK []");
	CHECK_STR(ev("States.StringSplit($.u, '\u2713')"), "OK [\"a\",\"b\u00e9c\"]");
	CHECK_STR(ev("States.StringSplit($.u, '\u00e9\u2713')"), "OK [\"a\",\"b\",\"c\"]");
	INVALID("States.StringSplit(1, ',')", "States.StringSplit");
	INVALID("States.StringSplit('a')", "States.StringSplit");
	char u[64];
	snprintf(u, sizeof u, "%s", ev("States.UUID()"));
	CHECK(strlen(u) == 3 + 38 && u[3 + 15] == '4');
	CHECK(strcmp(u, ev("States.UUID()")) != 0);
	INVALID("States.UUID(1)", "States.UUID");
}

/* Paths go to the resolver as written; its failure is the call's. */
static void
test_paths(void)
{
	set_input("{\"a\":{\"b\":[1,2]}}");
	jv_free(ctx);
	jv_free(vars);
	ctx = parse("{\"Execution\":{\"Name\":\"run-1\",\"Input\":{\"k\":\"v\"}}}");
	vars = parse("{\"myVar\":{\"x\":\"y\"}}");
	CHECK_STR(ev("States.Array($$.Execution.Name, $myVar.x, $.a.b, $)"),
	    "OK [\"run-1\",\"y\",[1,2],{\"a\":{\"b\":[1,2]}}]");
	CHECK_STR(ev("States.Format('{}', $$.Execution.Input.k)"), "OK \"v\"");
	CHECK_STR(ev("States.Base64Decode($.missing)"), "States.Runtime: The JsonPath argument for"
	    " the field '$.missing' could not be found in the input '{\"a\":{\"b\":[1,2]}}'");
	/* the first failure stops the call: later arguments are not resolved */
	gets = 0;
	CHECK(strncmp(ev("States.Array($.nope, $.a, $.a)"), "States.Runtime: The JsonPath", 28) == 0);
	CHECK(gets == 1);
	/* a path's brackets, filters and quotes are its own */
	gets = 0;
	CHECK(strstr(ev("States.Array($.a['x, y'], 1)"), "'$.a['x, y']'") != NULL);
	CHECK(strstr(ev("States.Array($.a[?(@.b == 1)])"), "'$.a[?(@.b == 1)]'") != NULL);
	CHECK(gets == 2);
}

/* Definition time: syntax and names, as CreateStateMachine checks them;
 * counts and types of arguments fail when the call runs. */
static void
test_check(void)
{
	CHECK(fintr_is("States.Array()"));
	CHECK(!fintr_is("$.a"));
	CHECK(!fintr_is("states.Array()"));
	CHECK(fintr_check("States.Format('{}', States.UUID())") == NULL);
	CHECK(fintr_check("  States.Array()") != NULL);
	CHECK(fintr_check("States.Array( 1 ,'a' , $.x )  ") == NULL);
	CHECK(fintr_check("States.ArrayRange(1, 5)") == NULL);
	CHECK(fintr_check("States.MathAdd('a', 1)") == NULL);
	CHECK_STR(fintr_check("States.Nope(1)"),
	    "'States.Nope' is not an intrinsic function (at character 1)");
	CHECK_STR(fintr_check("States.Array(States.Foo())"),
	    "'States.Foo' is not an intrinsic function (at character 14)");
	CHECK_STR(fintr_check("States.Array('abc"), "the string literal is not closed (at character 18)");
	CHECK_STR(fintr_check("States.Array('a\\nb')"), "an open escape backslash in a string"
	    " literal (only \\', \\{, \\} and \\\\ are escapes) (at character 16)");
	CHECK_STR(fintr_check("States.Array(1 2)"),
	    "expected ',' or ')' after an argument (at character 16)");
	CHECK_STR(fintr_check("States.Array(1,)"), "an argument is not a string, number, boolean,"
	    " null, path or intrinsic function (at character 16)");
	CHECK_STR(fintr_check("States.Array() x"), "unexpected text after the call (at character 16)");
	CHECK_STR(fintr_check("States.Array"), "expected '(' after the function name (at character 13)");
	CHECK_STR(fintr_check("States.Array(01)"),
	    "expected ',' or ')' after an argument (at character 15)");
	CHECK_STR(fintr_check("States.Array(1.)"), "a number has no digits after '.' (at character 16)");
	CHECK_STR(fintr_check("States.Array(truth)"), "an argument is not a string, number,"
	    " boolean, null, path or intrinsic function (at character 14)");
	CHECK_STR(fintr_check("States.Array($.a[0)"), "the path is not closed (at character 19)");
	CHECK_STR(fintr_check("States.Array(1e999)"), "a number is out of range (at character 19)");
	CHECK_STR(fintr_check("$.a"), "an intrinsic function call starts with 'States.'"
	    " (at character 1)");

	/* ten nested calls, as the guide allows; not eleven */
	struct buf b = { 0 };
	for (int i = 0; i < 10; i++)
		buf_adds(&b, "States.Array(");
	for (int i = 0; i < 10; i++)
		buf_addc(&b, ')');
	CHECK(fintr_check(b.p) == NULL);
	CHECK_STR(ev(b.p), "OK [[[[[[[[[[]]]]]]]]]]");
	buf_reset(&b);
	for (int i = 0; i < 11; i++)
		buf_adds(&b, "States.Array(");
	for (int i = 0; i < 11; i++)
		buf_addc(&b, ')');
	CHECK_STR(fintr_check(b.p), "more than 10 intrinsic functions are nested (at character 131)");
	struct buf want = { 0 };
	buf_printf(&want, "States.Runtime: The intrinsic function %s is not valid: more than 10"
	    " intrinsic functions are nested (at character 131)", b.p);
	CHECK_STR(ev(b.p), want.p);
	buf_free(&want);
	buf_free(&b);
}

int
main(void)
{
	input = jv_null();
	ctx = jv_null();
	vars = jv_null();
	test_guide_examples();
	test_format();
	test_json();
	test_arrays();
	test_array_range();
	test_encoding();
	test_hash();
	test_digests();
	test_math();
	test_string_split_uuid();
	test_paths();
	test_check();
	jv_free(input);
	jv_free(ctx);
	jv_free(vars);
	return UNIT_DONE();
}
