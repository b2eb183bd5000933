/* evbus-route — EventBridge event patterns over NDJSON (SPEC.md 3).
 * Filter mode: print the events that match any -p pattern. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "msg.h"
#include "ndjson.h"
#include "out.h"
#include "pattern.h"

static const char help[] =
    "usage: evbus-route [-cqv] -p PATTERN [-p PATTERN]... [FILE...]\n"
    "Print the events (NDJSON lines) that match an EventBridge event pattern.\n"
    "\n"
    "  -p, --pattern=PATTERN   an event pattern: JSON text, or @FILE to read it\n"
    "                          from FILE; repeat -p to match any of them\n"
    "  -v, --invert-match      print the events that match no pattern\n"
    "  -c, --count             print only the number of events selected\n"
    "  -q, --quiet             no warnings\n"
    "      --line-buffered     write each event as soon as it is selected\n"
    "      --errors=FILE       record bad input lines in FILE and go on\n"
    "      --max-line-bytes=N  longest input line (default 1048576)\n"
    "  -h, --help              this help\n"
    "      --version           print the version\n"
    "\n"
    "Exit status: 0 some event selected, 1 none, 2 usage error or invalid\n"
    "pattern, 65 bad input line, 66 input file missing or unreadable.\n";

static const struct option opts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "invert-match", no_argument, NULL, 'v' },
	{ "count", no_argument, NULL, 'c' },
	{ "rules", required_argument, NULL, 'r' },
	CLI_BASIC_OPTS,
	CLI_INPUT_OPTS,
	{ NULL, 0, NULL, 0 }
};

/* The text of a pattern file; the file is what the user named, so a
 * missing one is 66 like any missing input. */
static char *
slurp(const char *path, size_t *n)
{
	struct buf b = { 0 };
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		msg_die_sys(EV_NOINPUT, "cannot open pattern file '%s'", path);
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			msg_die_sys(EV_NOINPUT, "cannot read pattern file '%s'", path);
		if (got == 0)
			break;
		buf_add(&b, chunk, (size_t)got);
	}
	close(fd);
	*n = b.n;
	return b.p != NULL ? buf_detach(&b) : strdup("");
}

static void
add_pattern(struct pat_set *set, const char *arg)
{
	char *why, label[32];
	const char *where = arg + 1;
	size_t n;

	if (arg[0] == '@') {
		char *text = slurp(arg + 1, &n);
		int r = pat_add(set, text, n, &why);
		free(text);
		if (r >= 0)
			return;
	} else {
		if (pat_add(set, arg, strlen(arg), &why) >= 0)
			return;
		snprintf(label, sizeof label, "-p %zu", pat_count(set) + 1);
		where = label;
	}
	msg_error("%s: invalid event pattern %s", where, why);
	free(why);
	exit(EV_USAGE);
}

/* A bad line: stop (65) unless --errors records it. */
static void
bad_line(const struct ndj_line *l, const char *why)
{
	if (ndj_reject(l, why)) {
		out_close_or_die();
		exit(EV_DATAERR);
	}
}

static unsigned long
route(struct pat_set *set, struct ndj_reader *rd, int invert, int count)
{
	struct ndj_line l;
	struct pat_err err;
	unsigned long selected = 0;
	char why[128];
	int r;

	while ((r = ndj_next(rd, &l)) != NDJ_EOF) {
		if (r == NDJ_TOOLONG) {
			snprintf(why, sizeof why, "line longer than %zu bytes", cli.max_line_bytes);
			bad_line(&l, why);
			continue;
		}
		int m = pat_match(set, l.p, l.n, 0, &err);
		if (m < 0) {
			snprintf(why, sizeof why, "%s at column %zu", err.what, err.col);
			bad_line(&l, why);
			continue;
		}
		if ((m > 0) == invert)
			continue;
		selected++;
		if (!count)
			out_line(l.p, l.n);
	}
	return selected;
}

int
main(int argc, char **argv)
{
	struct pat_set *set;
	int c, invert = 0, count = 0;

	cli_init(argv, help);
	set = pat_new();
	while ((c = getopt_long(argc, argv, "cp:qr:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			count = 1;
			break;
		case 'p':
			add_pattern(set, optarg);
			break;
		case 'r':
			cli_usage_error("-r (rules mode) is not implemented yet; use -p");
		case 'v':
			invert = 1;
			break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (pat_count(set) == 0)
		cli_usage_error("no pattern given (use -p PATTERN)");
	out_init(cli.line_buffered);
	struct ndj_reader *rd = ndj_open(argv + optind, argc - optind, cli.max_line_bytes);
	unsigned long selected = route(set, rd, invert, count);
	if (count)
		out_printf("%lu\n", selected);
	out_close_or_die();
	int status = ndj_status(rd);
	ndj_close(rd);
	pat_free(set);
	if (status != EV_OK)
		return status;
	return selected > 0 ? EV_OK : EV_NONE;
}
