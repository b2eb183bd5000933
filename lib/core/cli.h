/* cli — option conventions shared by every command: --help, --version,
 * -q, --line-buffered, --errors FILE, --max-line-bytes N; number and
 * duration parsing; usage errors (exit 2). */
#ifndef EVKIT_CLI_H
#define EVKIT_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdnoreturn.h>

#include "ndjson.h"

struct cli_common {
	int line_buffered;
	struct ndj_conf input;	/* --errors FILE, --max-line-bytes N (default 1 MiB) */
};
extern struct cli_common cli;

/* Long-only option codes, above any short option letter. */
enum {
	CLI_VERSION = 0x100, CLI_LINE_BUFFERED, CLI_ERRORS, CLI_MAX_LINE,
	CLI_FIRST_FREE = 0x120,		/* commands number their own from here */
};

#define CLI_BASIC_OPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, CLI_VERSION }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "line-buffered", no_argument, NULL, CLI_LINE_BUFFERED }
#define CLI_INPUT_OPTS \
	{ "errors", required_argument, NULL, CLI_ERRORS }, \
	{ "max-line-bytes", required_argument, NULL, CLI_MAX_LINE }

/* Names the program, sets umask 077 (files 0600, directories 0700) and
 * SIGPIPE to ignored (EPIPE is handled where it happens).  help is the
 * whole --help text; its first line is the usage line. */
void cli_init(char **argv, const char *help);

/* Handles a common option; returns 0 if c is not one (the caller then
 * treats it as unknown).  '?' and ':' from getopt are usage errors. */
int cli_common_opt(int c, const char *arg);

/* getopt_long(3) the same way in every command, GNU style: options may
 * come after operands ("evq-send q file -p"), and "--" ends them.  Call
 * it in a loop as getopt_long; when it returns -1, argv[optind..argc) are
 * the operands in their order, and argv[cli_dashdash..argc) those that
 * came after "--" (cli_dashdash is -1 when there was none), for a command
 * that takes "FILE... -- CMD ARGS" (fnrun).  A leading '+' in
 * shortopts stops at the first operand instead (evq-ctl's COMMAND).  To
 * parse another vector, pass it (or set optind to 0). */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
extern int cli_dashdash;

/* Input as SPEC.md 1 says, with cli.input.  A bad line: printed as
 * "prog: FILE:LINE: why" and its status returned (the command commits what
 * came before it and exits with it), or recorded with --errors (0: go
 * on).  cli_input_error() does the same for an NDJ_ERROR at l, except
 * that a missing FILE is warned about and skipped (0). */
int cli_reject(const struct ndj_line *l, const char *why);
int cli_input_error(const struct ndj_reader *r, const struct ndj_line *l);

/* name_resolve() for an operand: the path, or a usage error. */
char *cli_name(const char *arg, const char *kind, const char *suffix, int allow_fifo);

noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whole number in [min, max], or a usage error naming opt. */
long long cli_num(const char *opt, const char *arg, long long min, long long max);
/* Duration: a number with an optional ms, s (default), m or h suffix;
 * returns milliseconds in [min_ms, max_ms], or a usage error. */
long long cli_duration_ms(const char *opt, const char *arg, long long min_ms, long long max_ms);

#endif
