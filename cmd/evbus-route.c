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
#include "core/json.h"
#include "pattern/filter.h"
#include "core/msg.h"
#include "core/ndjson.h"
#include "core/out.h"
#include "pattern/pattern.h"
#include "bus/rules.h"
#include "core/sig.h"

static const char help[] =
    "usage: evbus-route [-cqv] [-j N] -p PATTERN [-p PATTERN]... [FILE...]\n"
    "       evbus-route [-q] -r RULES [--explain] [--archive=LOG] [--inherit-env]\n"
    "                   [FILE...]\n"
    "       evbus-route [-q] -r RULES [--inherit-env] --redrive=DLQ\n"
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
    "                          instead of delivering, and on stderr each http\n"
    "                          target's method, URL, auth kind and rate\n"
    "      --archive=LOG       rules mode: append every event to the event log\n"
    "                          LOG before routing it\n"
    "      --redrive=DLQ       rules mode: send each dead letter in the queue DLQ\n"
    "                          back to the rule and target it failed on, and\n"
    "                          delete it once delivered\n"
    "      --inherit-env       rules mode: exec: targets get our whole environment,\n"
    "                          not only PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER,\n"
    "                          LOGNAME, SHELL, TERM, EVKIT_HOME, XDG_DATA_HOME\n"
    "                          and their \"env\" list\n"
    "  -q, --quiet             no warnings (a failed delivery that reached its\n"
    "                          dead letter is a warning)\n"
    "      --line-buffered     write each event as soon as it is selected\n"
    "      --errors=FILE       record bad input lines in FILE and go on\n"
    "      --max-line-bytes=N  longest input line (default 1048576)\n"
    "  -h, --help              this help\n"
    "      --version           print the version\n"
    "\n"
    "Exit status: 0 some event selected (rules mode: every delivery made or\n"
    "dead-lettered, matched or not), 1 none selected (--redrive: no dead letter),\n"
    "2 usage error or invalid pattern or rules file, 65 bad input line\n"
    "(--redrive: a dead letter naming no rule and target of RULES), 66 input\n"
    "file missing or unreadable, 69 a delivery failed with no dead letter,\n"
    "74 I/O error (a file: or log: target's included), 77 no AWS credentials\n"
    "for an events:// target or remote queue.\n";

enum { OPT_EXPLAIN = CLI_FIRST_FREE, OPT_ARCHIVE, OPT_REDRIVE, OPT_INHERIT_ENV };

static const struct option opts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "invert-match", no_argument, NULL, 'v' },
	{ "count", no_argument, NULL, 'c' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "rules", required_argument, NULL, 'r' },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
	{ "redrive", required_argument, NULL, OPT_REDRIVE },
	{ "inherit-env", no_argument, NULL, OPT_INHERIT_ENV },
	CLI_BASIC_OPTS,
	CLI_INPUT_OPTS,
	{ NULL, 0, NULL, 0 }
};

static void
add_pattern(struct pat_set *set, const char *arg)
{
	struct ev_err e = { 0 };

	if (bus_filter_add(set, arg, &e) != 0)
		msg_die_err(&e);
}

/* Rules mode: the pipe from lines to deliveries, and whether stdin is
 * read (then a quiet stdin is watched for stop requests). */
static struct {
	struct bus_pipe *pipe;
	int from_stdin;
} rm;

/* The last line of an exec: target's stderr tail, for a one-line report. */
static void
last_line(const struct bus_fail *f, struct buf *b)
{
	size_t end = f->tailn;

	while (end > 0 && (f->tail[end - 1] == '\n' || f->tail[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start > 0 && f->tail[start - 1] != '\n')
		start--;
	if (end > start + 200)
		start = end - 200;
	buf_reset(b);
	if (end > start) {
		buf_adds(b, "; stderr: ");
		json_add_string(b, f->tail + start, end - start);
	}
}

/* A delivery failed for good: a warning when the dead letter took it,
 * an error when it did not. */
static void
on_fail(void *ctx, const struct bus_fail *f)
{
	const char *rule = f->t->rule->name, *id = f->t->id;
	struct buf tail = { 0 };
	char why[64] = "";

	(void)ctx;
	if (f->errnum == EPIPE && f->t->kind == TGT_STDOUT)
		msg_epipe();	/* our reader left: end quietly, as a filter */
	last_line(f, &tail);
	if (f->exhausted != NULL)
		snprintf(why, sizeof why, " (%s)", f->exhausted);
	if (f->dead_letter != NULL)
		msg_warn("rule '%s' target '%s': %s: %s%s%s; sent to dead letter '%s'", rule, id,
		    f->code, f->why, why, tail.p != NULL ? tail.p : "", f->dead_letter);
	else if (f->dl_error != NULL)
		msg_error("rule '%s' target '%s': %s: %s%s; %s; event lost: %.*s", rule, id,
		    f->code, f->why, why, f->dl_error, (int)(f->en < 200 ? f->en : 200), f->event);
	else
		msg_error("rule '%s' target '%s': delivery failed%s: %s: %s%s", rule, id, why,
		    f->code, f->why, tail.p != NULL ? tail.p : "");
	buf_free(&tail);
}

/* At the end, for each target that had failures. */
static void
on_summary(void *ctx, const struct target *t, const struct bus_count *c)
{
	(void)ctx;
	if (c->undelivered > 0 || c->dl_failed > 0)
		msg_error("rule '%s' target '%s': %ld of %ld deliveries failed: %ld dead-lettered, "
		    "%ld not delivered, %ld lost", t->rule->name, t->id, c->failed,
		    c->failed + c->delivered, c->dead_lettered, c->undelivered, c->dl_failed);
	else
		msg_warn("rule '%s' target '%s': %ld of %ld deliveries failed, all sent to dead "
		    "letter '%s'", t->rule->name, t->id, c->failed, c->failed + c->delivered,
		    t->dead_letter);
}

static void
on_note(void *ctx, const char *id, const char *why)
{
	(void)ctx;
	msg_error("--redrive: message %s left in the dead letter: %s", id, why);
}

static const struct bus_hooks hooks = { on_fail, NULL, on_summary, on_note, NULL };

/* Ends the pipe (commit, deliver, close): its status. */
static int
close_pipe(void)
{
	struct ev_err e = { 0 };
	int st = bus_pipe_close(rm.pipe, &e);

	if (st != 0 && e.msg[0] != '\0')
		msg_error("%s", e.msg);
	return st;
}

/* ndj idle hook: commit the archive batch and hand the batches over,
 * then wait for input in steps of 100 ms so that a stop request is seen
 * while stdin is quiet. */
static void
idle(void *ctx)
{
	struct ev_err e = { 0 };

	(void)ctx;
	if (bus_pipe_idle(rm.pipe, &e) != 0)
		msg_die_err(&e);
	while (rm.from_stdin && !sig_stop) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		int r = poll(&pfd, 1, 100);
		if (r > 0 || (r < 0 && errno != EINTR))
			return;
	}
	if (sig_stop) {
		int st = close_pipe();
		sig_reraise();
		exit(st);
	}
}

/* Reads every line into the pipe: EV_OK, or the status of a bad line that
 * --errors did not take or of input that cannot be read on (reported). */
static int
read_lines(struct ndj_reader *rd)
{
	struct ndj_line l;
	struct ev_err e = { 0 };
	int r, rc;

	while (!sig_stop && (r = ndj_next(rd, &l)) != NDJ_EOF) {
		if (r == NDJ_ERROR) {
			if ((rc = cli_input_error(rd, &l)) != 0)
				return rc;
			continue;
		}
		if (r == NDJ_TOOLONG)
			rc = err_set(&e, EV_DATAERR, "line longer than %zu bytes", l.n);
		else if ((rc = bus_pipe_line(rm.pipe, l.p, l.n, &e)) == 0)
			continue;
		if (rc != EV_DATAERR)
			msg_die_err(&e);
		if ((rc = cli_reject(&l, e.msg)) != 0)	/* no --errors: stop here */
			return rc;
	}
	return EV_OK;
}

/* --explain: what each http target would be sent to and how, on
 * stderr (stdout keeps one line per event). */
static void
describe_targets(const struct rules *rs)
{
	struct buf b = { 0 };

	for (int i = 0; i < rs->nrules; i++)
		for (int j = 0; j < rs->rules[i].ntargets; j++)
			if (rules_describe(&rs->rules[i].targets[j], &b))
				msg_warn("rule '%s' target '%s': %s", rs->rules[i].name,
				    rs->rules[i].targets[j].id, b.p);
	buf_free(&b);
}

static int
rules_mode(struct rules *rs, const struct bus_pipe_opts *o, char **files, int nfiles)
{
	struct ev_err e = { 0 };

	out_init(cli.line_buffered);
	if (o->explain)
		describe_targets(rs);
	if (bus_pipe_open(rs, o, &rm.pipe, &e) != 0)
		msg_die_err(&e);
	sig_catch_stop();
	rm.from_stdin = nfiles == 0;
	for (int i = 0; i < nfiles; i++)
		rm.from_stdin |= strcmp(files[i], "-") == 0;
	struct ndj_reader *rd = ndj_open(files, nfiles, &cli.input);
	ndj_set_idle(rd, idle, NULL);
	int status = read_lines(rd);
	int delivered = close_pipe();
	sig_reraise();
	msg_close_or_die();
	if (status == EV_OK)
		status = ndj_status(rd);
	ndj_close(rd);
	return delivered != EV_OK ? delivered : status;
}

/* --redrive DLQ: the dead letters back to their rules' targets. */
static int
redrive_mode(struct rules *rs, const char *dlq)
{
	struct bus_redrive_stat st;
	struct ev_err e = { 0 };

	out_init(cli.line_buffered);
	int rc = bus_redrive(rs, dlq, &hooks, &st, &e);
	if (rc != 0 && e.msg[0] != '\0')
		msg_error("%s", e.msg);
	msg_warn("--redrive: %ld dead letter(s) delivered from '%s', %ld failed again, %ld left",
	    st.redriven, dlq, st.failed, st.skipped);
	msg_close_or_die();
	if (rc != 0)
		return rc;
	if (st.skipped > 0)
		return EV_DATAERR;
	return st.redriven + st.failed > 0 ? EV_OK : EV_NONE;
}

static int
rules_main(const char *path, const struct bus_pipe_opts *o, const char *redrive,
    int inherit_env, char **files, int nfiles)
{
	struct rules *rs;
	struct ev_err e = { 0 };

	if (rules_load(path, &rs, &e) != 0)
		msg_die_err(&e);
	rs->inherit_env = inherit_env;
	int st = redrive != NULL ? redrive_mode(rs, redrive) : rules_mode(rs, o, files, nfiles);
	rules_free(rs);
	return st;
}

/* Filter mode: the events that match any pattern of set (or none, with
 * invert), or their count; jobs threads scan a large file. */
static int
filter_mode(struct pat_set *set, int jobs, int invert, int count, char **files, int nfiles)
{
	struct pat_set *sets[FILTER_MAX_JOBS] = { set };

	if (jobs == 0)
		jobs = filter_default_jobs(8);
	out_init(cli.line_buffered);
	struct ndj_reader *rd = ndj_open(files, nfiles, &cli.input);
	struct filter_cfg cfg = { invert, count, cli.input.errors != NULL, cli_reject,
	    cli_input_error };
	struct ev_err e = { 0 };
	unsigned long selected;
	int rc = filter_run(sets, jobs, bus_filter_copy, rd, &cfg, &selected, &e);
	if (rc == EV_IOERR && errno == EPIPE)
		msg_die_quietly();
	if (count && rc == 0)
		out_printf("%lu\n", selected);
	msg_close_or_die();	/* what came before a bad line */
	if (rc != 0 && e.msg[0] == '\0')
		exit(rc);	/* cli_reject() or cli_input_error() has said why */
	if (rc != 0)
		msg_die_err(&e);
	int status = ndj_status(rd);
	ndj_close(rd);
	for (int j = 0; j < jobs; j++)
		if (sets[j] != NULL)
			pat_free(sets[j]);
	bus_filter_free();
	if (status != EV_OK)
		return status;
	return selected > 0 ? EV_OK : EV_NONE;
}

int
main(int argc, char **argv)
{
	struct pat_set *set;
	const char *rules = NULL, *redrive = NULL;
	struct bus_pipe_opts o = { .hooks = &hooks };
	int c, invert = 0, count = 0, jobs = 0, inherit_env = 0;

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
			o.explain = 1;
			break;
		case OPT_ARCHIVE:
			o.archive = optarg;
			break;
		case OPT_REDRIVE:
			redrive = optarg;
			break;
		case OPT_INHERIT_ENV:
			inherit_env = 1;
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
		if (redrive != NULL && (o.explain || o.archive != NULL || optind < argc))
			cli_usage_error("--redrive reads no input: not with --explain, --archive "
			    "or FILE");
		pat_free(set);
		return rules_main(rules, &o, redrive, inherit_env, argv + optind, argc - optind);
	}
	if (o.explain || o.archive != NULL || redrive != NULL || inherit_env)
		cli_usage_error("--explain, --archive, --redrive and --inherit-env need -r RULES");
	if (pat_count(set) == 0)
		cli_usage_error("no pattern given (use -p PATTERN)");
	return filter_mode(set, jobs, invert, count, argv + optind, argc - optind);
}
