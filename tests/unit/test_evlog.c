/* Unit tests of the event log's pure parts: the record codec, the
 * member walker, and what a batch makes of an event. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "evlog/evlog_int.h"
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
	/* seq and version: 1 to 2^64-1, no leading zero, no overflow */
	buf_reset(&b);
	elog_encode(&b, UINT64_MAX, "\"s\"", 3, 1, "2026-11-23T12:00:00.123Z", "\"e\"", 3,
	    "{}", 2);
	CHECK(elog_decode(b.p, b.n - 1, &r, &why) == 0 && r.seq == UINT64_MAX);
	const char *bad[] = { "18446744073709551616", "99999999999999999999",
	    "184467440737095516150", "0", "01" };
	int rejected = 1;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct buf t = { 0 };
		buf_printf(&t, "{\"seq\":%s%s", bad[i], b.p + 7 + 20);
		rejected &= elog_decode_crc(t.p, t.n - 1, &r, &why, 0) != 0;
		buf_free(&t);
	}
	CHECK(rejected);
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

/* gzip bytes of text (zlib's gzip writer), with the optional header
 * fields when full is set. */
static void
gzip_bytes(struct buf *out, const struct buf *text, int full)
{
	z_stream z;
	gz_header h;
	unsigned char extra[3] = { 'x', 'y', 'z' };
	static unsigned char o[1 << 16];

	memset(&z, 0, sizeof z);
	memset(&h, 0, sizeof h);
	deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (full) {
		h.extra = extra;
		h.extra_len = 3;
		h.name = (unsigned char *)"seg.ndjson";
		h.comment = (unsigned char *)"a comment";
		h.hcrc = 1;
		deflateSetHeader(&z, &h);
	}
	z.next_in = (unsigned char *)text->p;
	z.avail_in = (uInt)text->n;
	int zr;
	do {
		z.next_out = o;
		z.avail_out = sizeof o;
		zr = deflate(&z, Z_FINISH);
		buf_add(out, o, sizeof o - z.avail_out);
	} while (zr == Z_OK);
	deflateEnd(&z);
}

/* Reads file bytes gz with gzread() (ref) and with elog_gz (got); the
 * status of each: 0 read to the end, -1 an error, 1 not taken (elog_gz
 * leaves files it cannot start to gzread()).  Blocks but the last must
 * end with a newline. */
static int
read_both(const struct buf *gz, struct buf *ref, struct buf *got, int *whole_lines)
{
	char path[] = "/tmp/test_evlog.XXXXXX", tmp[1 << 16];
	int fd = mkstemp(path), rs = 0, gs;
	const char *p;
	size_t n;

	unlink(path);
	buf_write_fd(gz, fd);
	lseek(fd, 0, SEEK_SET);
	gzFile f = gzdopen(dup(fd), "rb");
	for (int k; (k = gzread(f, tmp, sizeof tmp)) != 0; buf_add(ref, tmp, (size_t)k))
		if (k < 0) {
			rs = -1;
			break;
		}
	int zerr;
	gzerror(f, &zerr);
	if (zerr != Z_OK)
		rs = -1;
	gzclose(f);
	lseek(fd, 0, SEEK_SET);
	struct elog_gz *g = elog_gz_open(fd);
	*whole_lines = 1;
	if (g == NULL) {
		gs = 1;
	} else {
		while ((gs = elog_gz_next(g, &p, &n)) == 1) {
			if (got->n > 0 && got->p[got->n - 1] != '\n')
				*whole_lines = 0;
			buf_add(got, p, n);
		}
		elog_gz_close(g);
	}
	close(fd);
	return rs == gs ? 0 : gs == 1 ? 2 : 1;
}

/* The threaded gzip reader is exactly as strict as gzread(): the same
 * bytes or the same failure, for intact, multi-member, trailing-garbage,
 * damaged and truncated files. */
static void
test_gz(void)
{
	struct buf text = { 0 }, gz = { 0 }, two = { 0 }, v = { 0 }, ref = { 0 }, got = { 0 };
	int whole, same = 1, lines = 1, taken = 1;

	for (int i = 0; i < 60000; i++)
		buf_printf(&text, "{\"seq\":%d,\"pad\":\"%.*s\"}\n", i, i % 61,
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	for (int i = 0; i < (3 << 19); i++)	/* a line longer than a block */
		buf_addc(&text, (char)('a' + i % 26));
	buf_adds(&text, "\nunterminated");
	gzip_bytes(&gz, &text, 0);
	CHECK(read_both(&gz, &ref, &got, &whole) == 0 && got.n == text.n &&
	    memcmp(got.p, text.p, text.n) == 0 && whole);

	/* every header field, two members, trailing bytes */
	struct buf small = { 0 };
	buf_adds(&small, "{\"a\":1}\n{\"a\":2}\n");
	gzip_bytes(&two, &small, 1);
	gzip_bytes(&two, &small, 0);
	const char *tails[] = { "", "junk", "\037", "\037\213", "\037\213\010" };
	for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
		buf_reset(&v);
		buf_add(&v, two.p, two.n);
		buf_adds(&v, tails[t]);
		buf_reset(&ref);
		buf_reset(&got);
		if (read_both(&v, &ref, &got, &whole) != 0 || ref.n != got.n ||
		    memcmp(ref.p, got.p, ref.n) != 0)
			same = 0;
	}
	CHECK(same && got.n == 2 * small.n);

	/* every truncation, and a flipped bit at every byte of the small file */
	for (size_t cut = 0; cut < two.n; cut++) {
		buf_reset(&v);
		buf_add(&v, two.p, cut);
		buf_reset(&ref);
		buf_reset(&got);
		int k = read_both(&v, &ref, &got, &whole);
		same &= k != 1;
		taken &= cut < 38 || k != 2;	/* 38: the first header's length */
		lines &= whole;
	}
	for (size_t at = 0; at < two.n; at++) {
		for (int bit = 0; bit < 8; bit += 3) {
			buf_reset(&v);
			buf_add(&v, two.p, two.n);
			v.p[at] ^= (char)(1 << bit);
			buf_reset(&ref);
			buf_reset(&got);
			same &= read_both(&v, &ref, &got, &whole) != 1;
		}
	}
	CHECK(same);
	CHECK(taken);
	CHECK(lines);
	/* a file that is not gzip is left to gzread() */
	buf_reset(&v);
	buf_add(&v, small.p, small.n);
	CHECK(read_both(&v, &ref, &got, &whole) == 2);
	buf_free(&text);
	buf_free(&gz);
	buf_free(&two);
	buf_free(&small);
	buf_free(&v);
	buf_free(&ref);
	buf_free(&got);
}

int
main(void)
{
	test_codec();
	test_members();
	test_batch();
	test_keys();
	test_crc();
	test_gz();
	return UNIT_DONE();
}
