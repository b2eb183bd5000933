/* Unit tests of the event log's pure parts: the record codec, the
 * member walker, and what a batch makes of an event. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "evlog_int.h"
#include "unit.h"

static void
test_codec(void)
{
	struct buf b = { 0 };
	struct elog_rec r;
	const char *why;

	elog_encode(&b, 42, "\"s\"", 3, 7, "2026-11-23T12:00:00.123Z", "\"e1\"", 4,
	    "{\"a\":1}", 7);
	CHECK(b.n > 0 && b.p[b.n - 1] == '\n');
	CHECK(elog_decode(b.p, b.n - 1, &r, &why) == 0);
	CHECK(r.seq == 42 && r.version == 7);
	CHECK(r.stream_n == 3 && memcmp(r.stream, "\"s\"", 3) == 0);
	CHECK(r.id_n == 4 && memcmp(r.id, "\"e1\"", 4) == 0);
	CHECK(r.event_n == 7 && memcmp(r.event, "{\"a\":1}", 7) == 0);
	CHECK(memcmp(r.time, "2026-11-23T12:00:00.123Z", 24) == 0);

	/* one flipped bit anywhere is caught */
	int caught = 1;
	for (size_t i = 0; i + 1 < b.n; i++) {
		b.p[i] ^= 0x04;
		if (elog_decode(b.p, b.n - 1, &r, &why) == 0)
			caught = 0;
		b.p[i] ^= 0x04;
	}
	CHECK(caught);
	b.p[3] ^= 1;
	CHECK(elog_decode(b.p, b.n - 1, &r, &why) != 0 && strcmp(why, "crc mismatch") == 0);
	b.p[3] ^= 1;
	/* the CRC alone may not be trusted: a sealed segment skips it */
	CHECK(elog_decode_crc(b.p, b.n - 1, &r, &why, 0) == 0);
	CHECK(elog_decode(b.p, 10, &r, &why) != 0);
	CHECK(elog_decode("", 0, &r, &why) != 0);
	buf_free(&b);
}

static void
test_members(void)
{
	const char *obj = "{\"a\":1,\"b\":{\"c\":[1,\"}\"]},\"id\":\"x\\\"y\"}";
	const char *k, *v;
	size_t it = 0, kn, vn, count = 0;
	char seen[128] = "";

	while (elog_json_member(obj, strlen(obj), &it, &k, &kn, &v, &vn)) {
		strncat(seen, k, kn);
		strcat(seen, "=");
		strncat(seen, v, vn);
		strcat(seen, ";");
		count++;
	}
	CHECK(count == 3);
	CHECK_STR(seen, "\"a\"=1;\"b\"={\"c\":[1,\"}\"]};\"id\"=\"x\\\"y\";");
	it = 0;
	CHECK(elog_json_member("{}", 2, &it, &k, &kn, &v, &vn) == 0);
}

size_t elog_batch_get(const struct elog_batch *b, size_t i, const char **stream,
    size_t *sn, const char **id, size_t *in, const char **event, size_t *en);

static void
test_batch(void)
{
	struct elog_batch *b = elog_batch_new();
	const char *why, *st, *id, *ev;
	size_t sn, in, en;

	const char *ev1 = " { \"id\" : \"e-1\", \"t\" : \"a b\" } ";
	if (elog_batch_add(b, "s\"1", 3, ev1, strlen(ev1), &why) != 0) {
		CHECK(!"elog_batch_add");
		return;
	}
	elog_batch_get(b, 0, &st, &sn, &id, &in, &ev, &en);
	CHECK(sn == 6 && memcmp(st, "\"s\\\"1\"", 6) == 0);
	CHECK(in == 5 && memcmp(id, "\"e-1\"", 5) == 0);
	CHECK(en == 22 && memcmp(ev, "{\"id\":\"e-1\",\"t\":\"a b\"}", 22) == 0);
	/* no id, an empty id, a non-string id: a UUID v7 is made */
	CHECK(elog_batch_add(b, "s", 1, "{\"id\":\"\"}", 9, &why) == 0);
	elog_batch_get(b, 1, &st, &sn, &id, &in, &ev, &en);
	CHECK(in == 38 && id[15] == '7');
	CHECK(elog_batch_add(b, "s", 1, "{\"x\":{\"id\":\"inner\"}}", 20, &why) == 0);
	elog_batch_get(b, 2, &st, &sn, &id, &in, &ev, &en);
	CHECK(in == 38);
	CHECK(elog_batch_add(b, "s", 1, "[1]", 3, &why) != 0);
	CHECK(elog_batch_add(b, "s", 1, "{\"a\":", 5, &why) != 0);
	CHECK(elog_batch_count(b) == 3);
	elog_batch_free(b);
}

static void
test_keys(void)
{
	CHECK(elog_key_head("\"a\"", 3) != elog_key_head("\"b\"", 3));
	CHECK(elog_key_id("\"a\"", 3, "\"x\"", 3) != elog_key_id("\"ax\"", 4, "\"\"", 2));
	CHECK(elog_key_id("\"a\"", 3, "\"x\"", 3) != 0);
}

/* The fast CRC gives zlib's numbers at every length and alignment (the
 * folding path starts at 64 bytes and leaves up to 15 to zlib). */
static void
test_crc(void)
{
	unsigned char buf[1100];
	unsigned x = 12345;
	int same = 1;

	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; off + n <= sizeof buf; n++)
			if (elog_crc32(buf + off, n) != (uint32_t)crc32(0, buf + off, (uInt)n))
				same = 0;
	CHECK(same);
	CHECK(elog_crc32("123456789", 9) == 0xcbf43926);
}

int
main(void)
{
	test_codec();
	test_members();
	test_batch();
	test_keys();
	test_crc();
	return UNIT_DONE();
}
