#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "cli.h"
#include "msg.h"
#include "names.h"
#include "out.h"
#include "sigact.h"

struct cli_common cli = { .input = { .max_line = NDJ_MAX_LINE } };
static const char *help_text;
int cli_dashdash;

/* cli_getopt's scan of one vector: getopt_long in POSIX mode ('+') stops
 * at each operand, which is set aside and skipped, so that options may
 * follow operands whatever POSIXLY_CORRECT says, and "--" keeps its place
 * for fnrun (glibc's own permutation moves it before the operands). */
static struct {
	char **argv;
	char *shorts;		/* "+" and the caller's shortopts */
	int *ops, nops;		/* indices of the operands set aside */
	int posix, done;
} scan;

static void
scan_reset(char **argv, const char *shortopts)
{
	free(scan.shorts);
	free(scan.ops);
	memset(&scan, 0, sizeof scan);
	scan.argv = argv;
	scan.posix = shortopts[0] == '+';
	scan.shorts = xmalloc(strlen(shortopts) + 2);
	scan.shorts[0] = '+';
	strcpy(scan.shorts + 1, shortopts + scan.posix);
	optind = 0;	/* glibc: start afresh */
}

/* The scan ended at end (argc, or the index of "--"): the options first,
 * then "--" if there was one, then the operands in order, as getopt_long
 * leaves them; optind is the first operand. */
static void
scan_finish(int argc, char **argv, int end)
{
	char **v = xmalloc((size_t)argc * sizeof *v);
	int n = 1, k = 0, dd = end < argc;

	for (int i = 1; i < end; i++) {
		if (k < scan.nops && scan.ops[k] == i)
			k++;
		else
			v[n++] = argv[i];
	}
	if (dd)
		v[n++] = argv[end];
	optind = n;
	for (k = 0; k < scan.nops; k++)
		v[n++] = argv[scan.ops[k]];
	cli_dashdash = dd ? n : -1;
	for (int i = end + dd; i < argc; i++)
		v[n++] = argv[i];
	memcpy(argv + 1, v + 1, (size_t)(argc - 1) * sizeof *v);
	free(v);
	scan.done = 1;
}

int
cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	if (argv != scan.argv || optind == 0)
		scan_reset(argv, shortopts);
	if (scan.done)
		return -1;
	for (;;) {
		int at = optind > 0 ? optind : 1;
		int c = getopt_long(argc, argv, scan.shorts, longopts, NULL);
		if (c != -1)
			return c;
		if (optind == at + 1 && strcmp(argv[at], "--") == 0) {
			scan_finish(argc, argv, at);
			return -1;
		}
		if (optind >= argc) {
			scan_finish(argc, argv, argc);
			return -1;
		}
		if (scan.posix) {	/* optind stays at the first operand */
			scan.done = 1;
			cli_dashdash = -1;
			return -1;
		}
		/* an operand: set it aside and go on after it */
		if (scan.ops == NULL)
			scan.ops = xmalloc((size_t)argc * sizeof *scan.ops);
		scan.ops[scan.nops++] = optind++;
	}
}

void
cli_init(char **argv, const char *help)
{
	const char *slash = strrchr(argv[0], '/');

	msg_prog = slash != NULL ? slash + 1 : argv[0];
	help_text = help;
	umask(077);
	sigact_set(SIGPIPE, SIG_IGN, 0, NULL);
	out_on_failure(msg_flush_failed);	/* a filter's reader gone: die */
}

void
cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	size_t ulen = strcspn(help_text, "\n");

	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%.*s\nTry '%s --help' for more information.\n",
	    (int)ulen, help_text, msg_prog);
	exit(EV_USAGE);
}

int
cli_common_opt(int c, const char *arg)
{
	switch (c) {
	case 'h':
		out_init(0);
		out_write(help_text, strlen(help_text));
		msg_close_or_die();
		exit(EV_OK);
	case CLI_VERSION:
		out_init(0);
		out_printf("%s (evkit) %s\n", msg_prog, EVKIT_VERSION);
		msg_close_or_die();
		exit(EV_OK);
	case 'q':
		msg_quiet = 1;
		return 1;
	case CLI_LINE_BUFFERED:
		cli.line_buffered = 1;
		return 1;
	case CLI_ERRORS:
		cli.input.errors = arg;
		return 1;
	case CLI_MAX_LINE:
		cli.input.max_line = (size_t)cli_num("--max-line-bytes", arg, 1, 1LL << 30);
		return 1;
	case '?':
	case ':':
		/* getopt already said what was wrong. */
		fprintf(stderr, "%.*s\nTry '%s --help' for more information.\n",
		    (int)strcspn(help_text, "\n"), help_text, msg_prog);
		exit(EV_USAGE);
	default:
		return 0;
	}
}

int
cli_reject(const struct ndj_line *l, const char *why)
{
	struct ev_err e;
	int rc = ndj_reject(&cli.input, l, why, &e);

	if (rc != 0)
		msg_error("%s", e.msg);
	return rc;
}

int
cli_input_error(const struct ndj_reader *r, const struct ndj_line *l)
{
	const struct ev_err *e = ndj_error(r);

	if (e->code == EV_NOINPUT) {
		msg_warn("%s", e->msg);
		return 0;
	}
	if (l->lineno == 0) {
		msg_error("%s", e->msg);
		return e->code;
	}
	if (e->code == EV_DATAERR)
		return cli_reject(l, e->msg);
	msg_error("%s:%lu: %s", l->file, l->lineno, e->msg);
	return e->code;
}

char *
cli_name(const char *arg, const char *kind, const char *suffix, int allow_fifo)
{
	struct ev_err e;
	char *path;

	if (name_resolve(arg, kind, suffix, allow_fifo, &path, &e) != 0)
		cli_usage_error("%s", e.msg);
	return path;
}

long long
cli_num(const char *opt, const char *arg, long long min, long long max)
{
	char *end;

	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0')
		cli_usage_error("%s: '%s' is not a whole number", opt, arg);
	if (v < min || v > max)
		cli_usage_error("%s: %s is out of range (%lld to %lld)", opt, arg, min, max);
	return v;
}

long long
cli_duration_ms(const char *opt, const char *arg, long long min_ms, long long max_ms)
{
	char *end;
	double scale = 1000;

	errno = 0;
	double v = strtod(arg, &end);
	if (errno != 0 || end == arg || !isfinite(v) || v < 0)
		cli_usage_error("%s: '%s' is not a duration", opt, arg);
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else if (strcmp(end, "h") == 0)
		scale = 3600000;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		cli_usage_error("%s: '%s' is not a duration (use ms, s, m or h)", opt, arg);
	double ms = v * scale;
	if (ms < (double)min_ms || ms > (double)max_ms)
		cli_usage_error("%s: %s is out of range (%lld to %lld seconds)", opt, arg,
		    min_ms / 1000, max_ms / 1000);
	return (long long)llround(ms);
}
