/* Unit tests of jx_dump (lib/core/jx_dump.c): its text is byte for byte libjq's
 * jv_dump_string(v, 0), on values that take every path of the writer
 * (escapes, UTF-8, integers and not, nesting past the fallback depth). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jx.h"
#include "unit.h"

static int
same_as_libjq(jv v)
{
	struct buf b = { 0 };
	jv want = jv_dump_string(jv_copy(v), 0);

	jx_dump(v, &b);
	int ok = b.p != NULL && (size_t)jv_string_length_bytes(jv_copy(want)) == b.n &&
	    memcmp(b.p, jv_string_value(want), b.n) == 0;
	if (!ok)
		printf("# jx_dump: %s\n# libjq: %s\n", b.p ? b.p : "(null)", jv_string_value(want));
	jv got = jx_dump_string(jv_copy(v));
	ok = ok && jv_equal(got, jv_copy(want));
	jv_free(want);
	jv_free(v);
	buf_free(&b);
	return ok;
}

static void
test_scalars(void)
{
	static const double nums[] = { 0, 1, -1, 7, 12345, -98765, 0.5, -0.25, 0.1, 1e-7,
	    3.14159, 999999999999999, -999999999999999, 1e15, 1e16, 1e17, 123456789012345678.0,
	    1e300, -1e-300, 9007199254740993.0, 2.5e-5 };

	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		CHECK(same_as_libjq(jv_number(nums[i])));
	CHECK(same_as_libjq(jv_number(-0.0)));
	CHECK(same_as_libjq(jv_number(NAN)));
	CHECK(same_as_libjq(jv_number(INFINITY)));
	CHECK(same_as_libjq(jv_number(-INFINITY)));
	CHECK(same_as_libjq(jv_null()));
	CHECK(same_as_libjq(jv_true()));
	CHECK(same_as_libjq(jv_false()));
}

static void
test_strings(void)
{
	char all[160];

	for (int c = 1; c < 160; c++)	/* every control, printable ASCII, DEL */
		all[c - 1] = (char)(c < 128 ? c : 'a');
	all[159] = '\0';
	CHECK(same_as_libjq(jv_string(all)));
	CHECK(same_as_libjq(jv_string_sized("a\0b", 3)));
	CHECK(same_as_libjq(jv_string("")));
	CHECK(same_as_libjq(jv_string("quote \" backslash \\ slash / tab \t")));
	CHECK(same_as_libjq(jv_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8")));
	CHECK(same_as_libjq(jv_string("\x7f\x1f\x01")));
}

static void
test_nested(void)
{
	jv o = JV_OBJECT(jv_string("id"), jv_number(3), jv_string("k\"ey\n"), jv_string("v"),
	    jv_string("a"), JV_ARRAY(jv_number(1), jv_object(), jv_array(), jv_null(),
	    JV_OBJECT(jv_string("x"), jv_number(0.5))));
	CHECK(same_as_libjq(o));
	o = jv_object_set(jv_object(), jv_string("z"), jv_number(1));
	o = jv_object_set(o, jv_string("a"), jv_number(2));
	o = jv_object_delete(o, jv_string("z"));
	o = jv_object_set(o, jv_string("m"), jv_number(3));
	CHECK(same_as_libjq(o));	/* members in libjq's own order */

	jv deep = jv_number(1);
	for (int i = 0; i < 300; i++)	/* past jx_dump's depth: libjq's text whole */
		deep = i % 2 ? JV_ARRAY(deep) : JV_OBJECT(jv_string("d"), deep);
	CHECK(same_as_libjq(deep));
}

int
main(void)
{
	test_scalars();
	test_strings();
	test_nested();
	return UNIT_DONE();
}
