/* test_input.c — the command-line scan (cli_getopt) and the input reader
 * (ndjson): options after operands, "--", CRLF against max_line, errors at
 * a position. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/msg.h"
#include "core/ndjson.h"
#include "unit.h"

static const struct option opts[] = {
	{ "print", no_argument, NULL, 'p' },
	{ "name", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

/* Scans argv with cli_getopt; the options seen, as "p n=ARG " text, into
 * seen. */
static void
scan(int argc, char **argv, const char *shorts, char *seen, size_t len)
{
	int c;

	*seen = '\0';
	optind = 0;
	opterr = 0;
	while ((c = cli_getopt(argc, argv, shorts, opts)) != -1) {
		size_t n = strlen(seen);
		if (c == 'n')
			snprintf(seen + n, len - n, "n=%s ", optarg);
		else
			snprintf(seen + n, len - n, "%c ", c);
	}
}

static void
test_getopt(void)
{
	char seen[128];
	char *a[] = { "cmd", "q", "file", "-p", "-n", "x", "--", "-p", NULL };
	scan(8, a, "pn:", seen, sizeof seen);
	CHECK_STR(seen, "p n=x ");
	CHECK(optind == 5);
	CHECK_STR(a[optind], "q");
	CHECK_STR(a[optind + 1], "file");
	CHECK(cli_dashdash == 7);
	CHECK_STR(a[7], "-p");

	char *b[] = { "cmd", "f1", "--name=v", "-", "f2", NULL };
	scan(5, b, "pn:", seen, sizeof seen);
	CHECK_STR(seen, "n=v ");
	CHECK(optind == 2 && cli_dashdash == -1);
	CHECK_STR(b[2], "f1");
	CHECK_STR(b[3], "-");
	CHECK_STR(b[4], "f2");

	/* an option's argument "--" is no end of options */
	char *c[] = { "cmd", "-n", "--", "-p", "op", NULL };
	scan(5, c, "pn:", seen, sizeof seen);
	CHECK_STR(seen, "n=-- p ");
	CHECK(optind == 4 && cli_dashdash == -1);

	/* '+': stop at the first operand (a command word) */
	char *d[] = { "cmd", "-p", "sub", "-n", "x", NULL };
	scan(5, d, "+pn:", seen, sizeof seen);
	CHECK_STR(seen, "p ");
	CHECK(optind == 2);
	CHECK_STR(d[optind], "sub");
}

static char dir[] = "/tmp/evkit-unit-XXXXXX";

static char *
put(const char *name, const void *p, size_t n)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	return path;
}

static void
test_crlf(void)
{
	struct ndj_conf conf = { .max_line = 7 };
	struct ndj_line l;
	char *f[] = { put("crlf", "{\"a\":1}\r\n{\"a\":12}\r\n", 19) };
	struct ndj_reader *r = ndj_open(f, 1, &conf);

	CHECK(ndj_next(r, &l) == NDJ_LINE && l.n == 7 && memcmp(l.p, "{\"a\":1}", 7) == 0);
	CHECK(ndj_next(r, &l) == NDJ_TOOLONG && l.lineno == 2);
	CHECK(ndj_next(r, &l) == NDJ_EOF);
	ndj_close(r);
}

/* A gzip member of two lines, then garbage. */
static const unsigned char bad_gz[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56,
	0xca, 0x53, 0xb2, 0x32, 0xac, 0xe5, 0xaa, 0x06, 0xd1, 0x46, 0xb5, 0x5c,
	0x00, 0x45, 0xc6, 0x98, 0xbe, 0x10, 0x00, 0x00, 0x00,
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 'g', 'a',
	'r', 'b', 'a', 'g', 'e',
};

static void
test_errors(void)
{
	struct ndj_line l;
	char gz[256], sub[256];

	snprintf(gz, sizeof gz, "%s", put("bad.gz", bad_gz, sizeof bad_gz));
	snprintf(sub, sizeof sub, "%s/sub", dir);
	mkdir(sub, 0700);
	char *f[] = { gz, sub, gz };
	struct ndj_reader *r = ndj_open(f, 3, NULL);

	CHECK(ndj_next(r, &l) == NDJ_LINE && l.lineno == 1 && memcmp(l.p, "{\"n\":1}", 7) == 0);
	CHECK(ndj_next(r, &l) == NDJ_LINE && l.lineno == 2);
	CHECK(ndj_next(r, &l) == NDJ_ERROR && l.lineno == 3 && strcmp(l.file, gz) == 0);
	CHECK(ndj_error(r)->code == EV_DATAERR);
	CHECK_STR(ndj_error(r)->msg, "corrupt gzip data");
	CHECK(ndj_next(r, &l) == NDJ_ERROR && l.lineno == 0 && ndj_error(r)->code == EV_NOINPUT);
	CHECK(strstr(ndj_error(r)->msg, "Is a directory") != NULL);
	CHECK(ndj_next(r, &l) == NDJ_LINE && l.lineno == 1);
	CHECK(ndj_status(r) == EV_NOINPUT);
	ndj_close(r);
	rmdir(sub);
}

static void
test_reject(void)
{
	char path[256];
	struct ndj_conf conf = { 0 };
	struct ndj_line l = { "x", 1, "in", 4 };
	struct ev_err e;

	CHECK(ndj_reject(&conf, &l, "bad", &e) == EV_DATAERR);
	CHECK_STR(e.msg, "in:4: bad");
	snprintf(path, sizeof path, "%s/errors", dir);
	conf.errors = path;
	CHECK(ndj_reject(&conf, &l, "bad", &e) == 0 && conf.rejected == 1);
	char buf[256] = { 0 };
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0);
	close(fd);
	CHECK(buf[strlen(buf) - 1] == '\n');
	buf[strlen(buf) - 1] = '\0';
	CHECK_STR(buf, "{\"error\":\"bad\",\"file\":\"in\",\"line\":4,\"input\":\"x\"}");
	unlink(path);
	conf = (struct ndj_conf){ .errors = "/nonexistent/dir/errors" };
	CHECK(ndj_reject(&conf, &l, "bad", &e) == EV_IOERR);
	CHECK(strstr(e.msg, "cannot open '/nonexistent/dir/errors'") != NULL);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 70;
	test_getopt();
	test_crlf();
	test_errors();
	test_reject();
	unlink(put("crlf", "", 0));
	unlink(put("bad.gz", "", 0));
	rmdir(dir);
	return UNIT_DONE();
}
