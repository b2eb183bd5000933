/* Fuzzes the record decoder and the recovery scanner: the input is
 * written as the active segment of a fresh log, then a writer opens it
 * (recovery: decode every line, cut a torn tail or refuse damage), and a
 * reader and --verify walk what is left.  Checks: recovery never leaves
 * a record that does not decode, and what survives is gap-free. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog/evlog.h"
#include "core/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void
noreport(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
}

static void
decode_all(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *why;
	struct elog_rec r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (elog_decode(p, n, &r, &why) == 0) {
			if (r.event < p || r.event + r.event_n > p + n || r.stream_n < 2 ||
			    r.id_n < 2 || r.seq == 0 || r.version == 0)
				abort();
		}
		p += n + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	struct elog *l;
	struct elog_opts o = { 1, ELOG_FSYNC_NEVER, 0 };

	msg_quiet = 1;
	decode_all(data, size);
	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/fuzz-evlog-%d", (int)getpid());
		mkdir(dir, 0700);
	}
	snprintf(path, sizeof path, "%s/00000000000000000001.ndjson", dir);
	unlink(path);
	snprintf(path + strlen(dir), sizeof path - strlen(dir), "/index");
	unlink(path);
	snprintf(path, sizeof path, "%s/00000000000000000001.ndjson", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	struct ev_err e;
	if (elog_open(dir, &o, &l, &e) != 0)
		abort();
	struct elog_batch *b = elog_batch_new();
	struct elog_result res = { 0 };
	const char *why;
	elog_batch_add(b, "s", 1, "{\"n\":1}", 7, &why);
	int rc = elog_append(l, b, ELOG_EXPECT_ANY, &res, &e);
	if (rc == 0) {
		/* Recovered: everything left must be sound and readable. */
		uint64_t records;
		if (elog_verify(l, noreport, NULL, &records, &e) < 0)
			abort();
		struct elog_reader *rd;
		struct elog_rec r;
		uint64_t n = 0;
		if (elog_reader_open(l, 1, &rd, &e) != 0)
			abort();
		while (elog_reader_next(rd, &r, &e) == 1)
			n++;
		if (n != records || r.seq != res.last_seq)
			abort();
		elog_reader_close(rd);
	} else if (rc != EV_DATAERR) {
		abort();
	}
	elog_result_free(&res);
	elog_batch_free(b);
	elog_close(l);
	return 0;
}
