/* evbus-route — EventBridge event patterns over NDJSON (SPEC.md 3).
 * Filter mode: print the events that match any -p pattern.  Rules mode
 * (-r): deliver each event to the targets of the rules it matches. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "bus/bus.h"
#include "core/cli.h"
#include "core/clock.h"
#include "evlog/evlog.h"
#include "pattern/filter.h"
#include "core/msg.h"
#include "core/names.h"
#include "core/ndjson.h"
#include "core/out.h"
#include "pattern/pattern.h"
#include "bus/rules.h"
#include "core/sig.h"

static const char help[] =
    "usage: evbus-route [-cqv] [-j N] -p PATTERN [-p PATTERN]... [FILE...]\n"
    "       evbus-route [-q] -r RULES [--explain] [--archive=LOG] [FILE...]\n"
    "Print the events (NDJSON lines) that match an EventBridge event pattern,\n"
    "or deliver them to the targets of the rules they match.\n"
    "\n"
    "  -p, --pattern=PATTERN   an event pattern: JSON text, or @FILE to read it\n"
    "                          from FILE; repeat -p to match any of them\n"
    "  -v, --invert-match      print the events that match no pattern\n"
    "  -c, --count             print only the number of events selected\n"
    "  -j, --jobs=N            scan a large file with N threads (default: one\n"
    "                          per processor, at most 8; output keeps its order)\n"
    "  -r, --rules=RULES       rules mode: deliver each event to the targets of\n"
    "                          the rules in the file RULES that it matches\n"
    "      --explain           rules mode: print {\"event\",\"rules\"} per event\n"
    "                          instead of delivering\n"
    "      --archive=LOG       rules mode: append every event to the event log\n"
    "                          LOG before routing it\n"
    "  -q, --quiet             no warnings\n"
    "      --line-buffered     write each event as soon as it is selected\n"
    "      --errors=FILE       record bad input lines in FILE and go on\n"
    "      --max-line-bytes=N  longest input line (default 1048576)\n"
    "  -h, --help              this help\n"
    "      --version           print the version\n"
    "\n"
    "Exit status: 0 some event selected (rules mode: every delivery made or\n"
    "dead-lettered, matched or not), 1 none selected, 2 usage error or invalid\n"
    "pattern or rules file, 65 bad input line, 66 input file missing or\n"
    "unreadable, 69 a delivery failed with no dead letter, 74 I/O error.\n";

enum { OPT_EXPLAIN = CLI_FIRST_FREE, OPT_ARCHIVE };

static const struct option opts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "invert-match", no_argument, NULL, 'v' },
	{ "count", no_argument, NULL, 'c' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "rules", required_argument, NULL, 'r' },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
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
	int e = buf_read_file(&b, path);

	if (e != 0) {
		errno = e;
		msg_die_sys(EV_NOINPUT, "cannot read pattern file '%s'", path);
	}
	*n = b.n;
	return buf_detach(&b);
}

/* The -p patterns, each checked when given; filter mode compiles them
 * once more for every scanning thread. */
static struct {
	char **text;
	size_t *len;
	int n;
} pats;

static void
add_pattern(struct pat_set *set, const char *arg)
{
	char *why, label[32], *text;
	const char *where = arg + 1;
	size_t n;

	if (arg[0] == '@') {
		text = slurp(arg + 1, &n);
	} else {
		if ((text = strdup(arg)) == NULL)
			msg_die(EV_SOFTWARE, "out of memory");
		n = strlen(arg);
		snprintf(label, sizeof label, "-p %zu", pat_count(set) + 1);
		where = label;
	}
	if (pat_add(set, text, n, &why) < 0) {
		msg_error("%s: invalid event pattern %s", where, why);
		free(why);
		exit(EV_USAGE);
	}
	pats.text = realloc(pats.text, (size_t)(pats.n + 1) * sizeof *pats.text);
	pats.len = realloc(pats.len, (size_t)(pats.n + 1) * sizeof *pats.len);
	if (pats.text == NULL || pats.len == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	pats.text[pats.n] = text;
	pats.len[pats.n++] = n;
}

/* One more copy of the -p patterns, for a scanning thread. */
static struct pat_set *
copy_set(void)
{
	struct pat_set *set = pat_new();
	char *why;

	for (int i = 0; i < pats.n; i++)
		if (pat_add(set, pats.text[i], pats.len[i], &why) < 0)
			msg_die(EV_SOFTWARE, "pattern %d: %s", i + 1, why);
	return set;
}

/* Rules mode: the loaded rules, the bus, and the events read but not yet
 * committed to the --archive log (they are routed once it has them). */
static struct {
	struct rules *rs;
	struct bus *bus;		/* NULL with --explain */
	struct elog *archive;
	struct elog_batch *ab;
	struct buf held;		/* the held events, each followed by '\0' */
	int64_t *held_ms;
	size_t nheld;
	int from_stdin;
} rm;

enum { ARCHIVE_BATCH = 1024 };

static void
explain(const char *p, size_t n, size_t nhits)
{
	static struct buf b;
	static const struct rule **m;

	if (m == NULL && (m = calloc(pat_count(rm.rs->set) + 1, sizeof *m)) == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	buf_reset(&b);
	buf_adds(&b, "{\"event\":");
	buf_add(&b, p, n);
	buf_adds(&b, ",\"rules\":[");
	bus_matched(rm.rs, nhits, m);
	for (size_t i = 0; i < nhits; i++)
		buf_printf(&b, "%s\"%s\"", i > 0 ? "," : "", m[i]->name);
	buf_adds(&b, "]}");
	out_line(b.p, b.n);
}

/* Explains or routes one event for which pat_match() returned m. */
static void
dispatch(const char *p, size_t n, int m, int64_t ms)
{
	if (rm.bus == NULL)
		explain(p, n, (size_t)m);
	else if (m > 0)
		bus_route(rm.bus, rm.rs, (size_t)m, p, n, ms);
}

/* Commits the held events to the archive, then routes them. */
static void
flush_archive(void)
{
	const char *why;
	struct elog_result res = { 0 };

	if (rm.nheld == 0)
		return;
	elog_batch_clear(rm.ab);
	for (size_t off = 0, i = 0; i < rm.nheld; i++) {
		size_t n = strlen(rm.held.p + off);
		if (elog_batch_add(rm.ab, "default", 7, rm.held.p + off, n, &why) != 0)
			msg_die(EV_SOFTWARE, "--archive: %s", why);
		off += n + 1;
	}
	int rc = elog_append(rm.archive, rm.ab, ELOG_EXPECT_ANY, &res);
	elog_result_free(&res);
	if (rc != EV_OK)
		msg_die(rc, "--archive: %s", elog_error(rm.archive));
	for (size_t off = 0, i = 0; i < rm.nheld; i++) {
		size_t n = strlen(rm.held.p + off);
		struct pat_err err;
		/* Matched again: the hits of a held event are long gone. */
		int m = pat_match(rm.rs->set, rm.held.p + off, n, 1, &err);
		if (m >= 0)
			dispatch(rm.held.p + off, n, m, rm.held_ms[i]);
		off += n + 1;
	}
	buf_reset(&rm.held);
	rm.nheld = 0;
}

static void
take(const struct ndj_line *l, int m, int64_t ms)
{
	if (rm.archive == NULL) {
		dispatch(l->p, l->n, m, ms);
		return;
	}
	buf_add(&rm.held, l->p, l->n);
	buf_addc(&rm.held, '\0');
	rm.held_ms[rm.nheld++] = ms;
	if (rm.nheld == ARCHIVE_BATCH)
		flush_archive();
}

/* ndj idle hook: commit the archive batch, then wait for input in steps
 * of 100 ms so that a stop request is seen while stdin is quiet. */
static void
idle(void *ctx)
{
	(void)ctx;
	flush_archive();
	if (rm.bus != NULL)
		bus_flush(rm.bus);
	while (rm.from_stdin && !sig_stop) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		int r = poll(&pfd, 1, 100);
		if (r > 0 || (r < 0 && errno != EINTR))
			return;
	}
	if (sig_stop) {
		int st = rm.bus != NULL ? bus_close(rm.bus) : EV_OK;
		sig_reraise();
		exit(st);
	}
}

static void
open_archive(const char *arg)
{
	struct elog_opts o = { .create = 1, .fsync = ELOG_FSYNC_BATCH };
	char *dir = cli_name(arg, "log", "", 0);
	int rc = elog_open(dir, &o, &rm.archive);

	free(dir);
	if (rc != EV_OK)
		msg_die(rc, "--archive: %s", elog_error(rm.archive));
	rm.ab = elog_batch_new();
	rm.held_ms = malloc(ARCHIVE_BATCH * sizeof *rm.held_ms);
	if (rm.held_ms == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
}

static int
rules_mode(const char *path, int explaining, const char *archive, char **files, int nfiles)
{
	struct ndj_line l;
	struct pat_err err;
	char why[128];
	int r, status = EV_OK;

	rm.rs = rules_load(path);
	out_init(cli.line_buffered);
	if (archive != NULL)
		open_archive(archive);
	if (!explaining)
		rm.bus = bus_open(rm.rs);
	sig_catch_stop();
	rm.from_stdin = nfiles == 0;
	for (int i = 0; i < nfiles; i++)
		rm.from_stdin |= strcmp(files[i], "-") == 0;
	struct ndj_reader *rd = ndj_open(files, nfiles, &cli.input);
	ndj_set_idle(rd, idle, NULL);
	while (!sig_stop && (r = ndj_next(rd, &l)) != NDJ_EOF) {
		int64_t ms = clock_now_ms();
		int m = -1;
		if (r == NDJ_ERROR) {
			if ((status = cli_input_error(rd, &l)) != 0)
				break;
			continue;
		}
		if (r == NDJ_TOOLONG)
			snprintf(why, sizeof why, "line longer than %zu bytes", l.n);
		else if ((m = pat_match(rm.rs->set, l.p, l.n, 1, &err)) < 0)
			snprintf(why, sizeof why, "%s at column %zu", err.what, err.col);
		else {
			take(&l, m, ms);
			continue;
		}
		if ((status = cli_reject(&l, why)) != 0)	/* no --errors: stop here */
			break;
	}
	flush_archive();
	int delivered = rm.bus != NULL ? bus_close(rm.bus) : EV_OK;
	sig_reraise();
	out_close_or_die();
	if (status == EV_OK)
		status = ndj_status(rd);
	ndj_close(rd);
	if (rm.archive != NULL) {
		elog_batch_free(rm.ab);
		elog_close(rm.archive);
		free(rm.held_ms);
		buf_free(&rm.held);
	}
	rules_free(rm.rs);
	return delivered != EV_OK ? delivered : status;
}

int
main(int argc, char **argv)
{
	struct pat_set *set;
	const char *rules = NULL, *archive = NULL;
	int c, invert = 0, count = 0, explaining = 0, jobs = 0;

	cli_init(argv, help);
	set = pat_new();
	while ((c = cli_getopt(argc, argv, "cj:p:qr:vh", opts)) != -1) {
		switch (c) {
		case 'c':
			count = 1;
			break;
		case 'j':
			jobs = (int)cli_num("--jobs", optarg, 1, FILTER_MAX_JOBS);
			break;
		case 'p':
			add_pattern(set, optarg);
			break;
		case 'r':
			rules = optarg;
			break;
		case OPT_EXPLAIN:
			explaining = 1;
			break;
		case OPT_ARCHIVE:
			archive = optarg;
			break;
		case 'v':
			invert = 1;
			break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (rules != NULL) {
		if (pat_count(set) > 0 || invert || count || jobs)
			cli_usage_error("-p, -v, -c and -j are for filter mode, not with -r");
		pat_free(set);
		return rules_mode(rules, explaining, archive, argv + optind, argc - optind);
	}
	if (explaining || archive != NULL)
		cli_usage_error("--explain and --archive need -r RULES");
	if (pat_count(set) == 0)
		cli_usage_error("no pattern given (use -p PATTERN)");
	struct pat_set *sets[FILTER_MAX_JOBS] = { set };
	if (jobs == 0)
		jobs = filter_default_jobs(8);
	out_init(cli.line_buffered);
	struct ndj_reader *rd = ndj_open(argv + optind, argc - optind, &cli.input);
	unsigned long selected = filter_run(sets, jobs, copy_set, rd, invert, count);
	if (count)
		out_printf("%lu\n", selected);
	out_close_or_die();
	int status = ndj_status(rd);
	ndj_close(rd);
	for (int j = 0; j < jobs; j++)
		if (sets[j] != NULL)
			pat_free(sets[j]);
	for (int i = 0; i < pats.n; i++)
		free(pats.text[i]);
	free(pats.text);
	free(pats.len);
	if (status != EV_OK)
		return status;
	return selected > 0 ? EV_OK : EV_NONE;
}
