#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "msg.h"
#include "out.h"

struct cli_common cli = { 0, NULL, 1 << 20 };
static const char *help_text;

void
cli_init(char **argv, const char *help)
{
	const char *slash = strrchr(argv[0], '/');
	struct sigaction sa;

	msg_prog = slash != NULL ? slash + 1 : argv[0];
	help_text = help;
	umask(077);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
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
		out_close_or_die();
		exit(EV_OK);
	case CLI_VERSION:
		out_init(0);
		out_printf("%s (evkit) %s\n", msg_prog, EVKIT_VERSION);
		out_close_or_die();
		exit(EV_OK);
	case 'q':
		msg_quiet = 1;
		return 1;
	case CLI_LINE_BUFFERED:
		cli.line_buffered = 1;
		return 1;
	case CLI_ERRORS:
		cli.errors_path = arg;
		return 1;
	case CLI_MAX_LINE:
		cli.max_line_bytes = (size_t)cli_num("--max-line-bytes", arg, 1, 1LL << 30);
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
