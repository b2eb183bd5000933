/* Unit tests of the shared library's pure parts. */
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/names.h"
#include "unit.h"

static int
valid(const char *s)
{
	struct json_err e;

	return json_validate(s, strlen(s), 0, &e) != 0;
}

static void
test_json(void)
{
	CHECK(valid("{}"));
	CHECK(valid(" [1, 2.5e-3, -0, \"x\", true, false, null, {\"a\":[]}] "));
	CHECK(valid("\"\\u00e9\\n\""));
	CHECK(valid("\"caf\xc3\xa9\""));
	CHECK(valid("123"));
	CHECK(!valid(""));
	CHECK(!valid("{"));
	CHECK(!valid("{\"a\"}"));
	CHECK(!valid("{\"a\":1,}"));
	CHECK(!valid("[1,]"));
	CHECK(!valid("01"));
	CHECK(!valid("1."));
	CHECK(!valid("-"));
	CHECK(!valid("tru"));
	CHECK(!valid("{} {}"));
	CHECK(!valid("\"a\tb\""));
	CHECK(!valid("\"\\x\""));
	CHECK(!valid("\"\\u12g4\""));
	CHECK(!valid("\"\xc3\""));		/* truncated sequence */
	CHECK(!valid("\"\xc0\xaf\""));		/* overlong */
	CHECK(!valid("\"\xed\xa0\x80\""));	/* surrogate */
	CHECK(!valid("\"\xf4\x90\x80\x80\""));	/* past U+10FFFF */
	CHECK(!valid("{'a':1}"));

	struct json_err e;
	CHECK(json_validate("{\"a\":x}", 7, 0, &e) == 0 && e.col == 6);
	CHECK(json_validate("[1,2", 4, 0, &e) == 0 && strcmp(e.what, "unexpected end of input") == 0);

	/* Whether a valid value has white space between its tokens. */
	int sp = -1;
	const char *compact = "{\"a b\":[1,\"c\\\" d\",{\"e\":null}]}";
	CHECK(json_validate_spaced(compact, strlen(compact), 0, &e, &sp) == '{' && sp == 0);
	CHECK(json_validate_spaced("{\"a\": 1}", 8, 0, &e, &sp) == '{' && sp == 1);
	CHECK(json_validate_spaced("[1,\n2]", 6, 0, &e, &sp) == '[' && sp == 1);
	CHECK(json_validate_spaced(" 7", 2, 0, &e, &sp) == '0' && sp == 1);
	/* a long key, past the one-look fast path */
	const char *longkey = "{\"abcdefghijklmnopqrstuvwxyz\":\"\\u00e9\"}";
	CHECK(json_validate_spaced(longkey, strlen(longkey), 0, &e, &sp) == '{' && sp == 0);

	/* Deep nesting: up to the limit is fine, one more is refused. */
	size_t deep = JSON_MAX_DEPTH;
	char *s = malloc(2 * deep + 2);
	memset(s, '[', deep);
	memset(s + deep, ']', deep);
	CHECK(json_validate(s, 2 * deep, 0, &e) == '[');
	s[deep] = '[';
	s[2 * deep] = ']';
	CHECK(json_validate(s, 2 * deep + 1, 0, &e) == 0);
	free(s);

	/* Strings are skimmed 16 bytes a step: a byte that needs a look is
	 * seen at any position, and reported at its own column. */
	int seen = 1;
	for (size_t at = 0; at < 40; at++) {
		static const char *ins[] = { "\t", "\x01", "\xff", "\x7f", "\\n", "\xc3\xa9", "\\" };
		for (size_t k = 0; k < sizeof ins / sizeof *ins; k++) {
			char str[64];
			memset(str, 'a', sizeof str);
			str[0] = '"';
			size_t n = strlen(ins[k]);
			memcpy(str + 1 + at, ins[k], n);
			str[50] = '"';
			int ok = json_validate(str, 51, 0, &e) == '"';
			int want = k >= 3 && k <= 5;
			seen &= ok == want && (ok || e.col == at + 2);
		}
	}
	CHECK(seen);
	CHECK(json_validate("\"\xef\xbf\xbf\"", 5, 0, &e) == '"');
	CHECK(json_validate("\"\xef\xbf\xbf\"", 5, JSON_SQS_CHARS, &e) == 0);
	CHECK(utf8_check("a\tb", 3, JSON_SQS_CHARS) == 0);
	CHECK(utf8_check("a\x01" "b", 3, JSON_SQS_CHARS) == 2);
	CHECK(utf8_check("ab\xff", 3, 0) == 3);

	struct buf b = { 0 };
	json_add_string(&b, "a\"b\\\n\x01\xff", 7);
	CHECK_STR(b.p, "\"a\\\"b\\\\\\n\\u0001\xef\xbf\xbd\"");
	buf_free(&b);
}

/* RFC 4648 section 10's vectors, both ways; a foreign byte refused. */
static void
test_b64(void)
{
	static const char *const v[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
	    { "foo", "Zm9v" }, { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	    { "foobar", "Zm9vYmFy" } };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct buf e = { 0 }, d = { 0 };
		b64_encode(&e, (const unsigned char *)v[i][0], strlen(v[i][0]));
		buf_addc(&e, '\0');
		CHECK_STR(e.p, v[i][1]);
		CHECK(b64_decode(&d, v[i][1], strlen(v[i][1])) == 0);
		buf_addc(&d, '\0');
		CHECK_STR(d.p, v[i][0]);
		buf_free(&e);
		buf_free(&d);
	}
	struct buf d = { 0 };
	CHECK(b64_decode(&d, "Zm9v YmFy", 9) == -1);
	CHECK(b64_decode(&d, "Zm9\0", 4) == -1);
	/* the strict form: whole quads, padding only at the end */
	CHECK(b64_decode(&d, "Zm8", 3) == 0);
	buf_reset(&d);
	CHECK(b64_decode_strict(&d, "Zm8", 3) == -1);
	CHECK(b64_decode_strict(&d, "", 0) == -1);
	CHECK(b64_decode_strict(&d, "Zg=a", 4) == -1);
	CHECK(b64_decode_strict(&d, "Z===", 4) == -1);
	CHECK(b64_decode_strict(&d, "Zg==Zg==", 8) == -1);
	buf_reset(&d);
	CHECK(b64_decode_strict(&d, "Zm8=", 4) == 0 && d.n == 2 && memcmp(d.p, "fo", 2) == 0);
	buf_free(&d);
}

static void
test_digest(void)
{
	char h[65];

	digest_hex_of(DIGEST_MD5, "", 0, h);
	CHECK_STR(h, "d41d8cd98f00b204e9800998ecf8427e");
	digest_hex_of(DIGEST_MD5, "The quick brown fox jumps over the lazy dog", 43, h);
	CHECK_STR(h, "9e107d9d372bb6826bd81d3542a419d6");
	digest_hex_of(DIGEST_SHA256, "abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_hex_of(DIGEST_SHA256, "a1", 2, h);
	CHECK_STR(h, "f55ff16f66f43360266b95db6f8fec01d76031054306ae4a4b380598f6cfd114");
	/* Multi-block input crossing the 56-byte padding edge. */
	char big[1000];
	memset(big, 'a', sizeof big);
	digest_hex_of(DIGEST_MD5, big, sizeof big, h);
	CHECK_STR(h, "cabe45dcc9ae5b66ba86600cca6b8ba8");
	digest_hex_of(DIGEST_SHA256, big, 56, h);
	CHECK_STR(h, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	/* Fed in odd-sized pieces, across block edges. */
	struct digest c;
	digest_init(&c, DIGEST_SHA256);
	for (size_t off = 0; off < sizeof big; off += 7)
		digest_update(&c, big + off, sizeof big - off < 7 ? sizeof big - off : 7);
	digest_hex(&c, h);
	CHECK_STR(h, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

static void
test_clock(void)
{
	char t[25];
	int64_t ms;

	clock_rfc3339(1795435200123LL, t);
	CHECK_STR(t, "2026-11-23T12:00:00.123Z");
	CHECK(clock_parse_rfc3339("2026-11-23T12:00:00.123Z", &ms) == 0 && ms == 1795435200123LL);
	CHECK(clock_parse_rfc3339("2026-11-23T13:00:00+01:00", &ms) == 0 && ms == 1795435200000LL);
	CHECK(clock_parse_rfc3339("2026-11-23", &ms) == -1);
	CHECK(clock_parse_rfc3339("2026-13-01T00:00:00Z", &ms) == -1);

	char u[37], v[37];
	uuid_v4(u);
	uuid_v4(v);
	CHECK(strlen(u) == 36 && u[14] == '4' && strcmp(u, v) != 0);
	uuid_v7(u);
	CHECK(strlen(u) == 36 && u[14] == '7');
}

static void
test_names(void)
{
	CHECK(name_check("orders", 0) == NULL);
	CHECK(name_check("a-b_C9", 0) == NULL);
	CHECK(name_check("jobs.fifo", 1) == NULL);
	CHECK(name_check("jobs.fifo", 0) != NULL);
	CHECK(name_check("", 1) != NULL);
	CHECK(name_check("a b", 1) != NULL);
	char long81[82];
	memset(long81, 'x', 81);
	long81[81] = '\0';
	CHECK(name_check(long81, 1) != NULL);
	long81[80] = '\0';
	CHECK(name_check(long81, 1) == NULL);
	CHECK(name_is_path("./q"));
	CHECK(name_is_path("/tmp/q"));
	CHECK(name_is_path(".hidden"));
	CHECK(!name_is_path("q"));
}

int
main(void)
{
	test_json();
	test_b64();
	test_digest();
	test_clock();
	test_names();
	return UNIT_DONE();
}
