/* Unit tests of the parsed paths and compiled templates lib/flow keeps
 * per thread (fpath_cache.c, ftmpl.c): a read gives what a fresh parse
 * would, past the caches' bounds, for templates made, changed and freed
 * one after another (one may take the place of a freed one), and after
 * fpath_cache_clear. */
#include <stdio.h>
#include <string.h>

#include "core/jx.h"
#include "flow/fpath.h"
#include "unit.h"

static jv
J(const char *s)
{
	return jv_parse(s);
}

/* The compact text of v (consumed) equals want. */
static int
is(jv v, const char *want)
{
	jv t = jx_dump_string(v);
	int ok = strcmp(jv_string_value(t), want) == 0;

	if (!ok)
		printf("# got %s, want %s\n", jv_string_value(t), want);
	jv_free(t);
	return ok;
}

static void
test_many_paths(void)
{
	jv in = jv_object();
	struct fscope s = { .ctx = jv_null(), .vars = jv_null() };
	struct ferr f;
	int ok = 1;
	char path[32], key[32];

	for (int i = 0; i < 3000; i++) {	/* past the path cache's bound */
		snprintf(key, sizeof key, "k%d", i);
		in = jv_object_set(in, jv_string(key), jv_number(i));
	}
	s.input = in;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3000 && ok; i++) {
			jv out;
			snprintf(path, sizeof path, "$.k%d", i);
			ok = fpath_get(path, &s, "InputPath", &out, &f) == 0 &&
			    jv_number_value(out) == i;
			jv_free(out);
		}
	}
	CHECK(ok);
	jv out;
	CHECK(fpath_get("$.k1[", &s, "InputPath", &out, &f) == -1);
	CHECK(strstr(f.cause, "Invalid path '$.k1['") != NULL);
	CHECK(fpath_set(in, "$.k5.x", jv_number(1), &out, &f) == -1);
	CHECK_STR(f.error, "States.ReferencePathConflict");
	jv_free(in);
}

static void
test_templates_one_after_another(void)
{
	jv in = J("{\"a\": 1, \"b\": {\"c\": [2, 3]}}");
	struct fscope s = { .input = in, .ctx = jv_null(), .vars = jv_null() };
	struct ferr f;
	int ok = 1;

	for (int i = 0; i < 600 && ok; i++) {	/* past the template cache's bound */
		char t[128], want[64];
		jv out;
		snprintf(t, sizeof t, "{\"n%d\": %d, \"v.$\": \"%s\"}", i, i,
		    i % 2 ? "$.a" : "$.b.c[1]");
		snprintf(want, sizeof want, "{\"n%d\":%d,\"v\":%d}", i, i, i % 2 ? 1 : 3);
		jv tv = J(t);
		ok = ftmpl_apply(tv, &s, "Parameters", &out, &f) == 0 && is(out, want);
		jv_free(tv);	/* the next may take its address */
	}
	CHECK(ok);

	jv t1 = J("{\"x.$\": \"$.a\", \"k\": {\"y.$\": \"$.b\"}}"), out;
	CHECK(ftmpl_apply(t1, &s, "Parameters", &out, &f) == 0);
	CHECK(is(out, "{\"x\":1,\"k\":{\"y\":{\"c\":[2,3]}}}"));
	jv t2 = jv_object_set(jv_copy(t1), jv_string("z.$"), jv_string("$.b.c"));
	CHECK(ftmpl_apply(t2, &s, "Parameters", &out, &f) == 0);
	CHECK(is(out, "{\"x\":1,\"k\":{\"y\":{\"c\":[2,3]}},\"z\":[2,3]}"));
	CHECK(ftmpl_apply(t1, &s, "Parameters", &out, &f) == 0);	/* t1 as it was */
	CHECK(is(out, "{\"x\":1,\"k\":{\"y\":{\"c\":[2,3]}}}"));
	fpath_cache_clear();
	CHECK(ftmpl_apply(t2, &s, "Parameters", &out, &f) == 0);
	CHECK(is(out, "{\"x\":1,\"k\":{\"y\":{\"c\":[2,3]}},\"z\":[2,3]}"));
	jv bad = J("{\"m.$\": \"$.nope\"}");
	CHECK(ftmpl_apply(bad, &s, "Parameters", &out, &f) == -1);
	CHECK(strstr(f.cause, "The JSONPath '$.nope' specified for the field 'm.$'") != NULL);
	jv_free(bad);
	jv_free(t1);
	jv_free(t2);
	jv_free(in);
	fpath_cache_clear();
}

int
main(void)
{
	test_many_paths();
	test_templates_one_after_another();
	fpath_cache_clear();
	return UNIT_DONE();
}
