#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "out.h"
#include "sigact.h"

const char *msg_prog = "evkit";
int msg_quiet;
static void (*die_hook)(void);

void
msg_verror(const char *fmt, va_list ap)
{
	/* Whatever the command already wrote goes out before the complaint. */
	out_flush();
	fprintf(stderr, "%s: ", msg_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	if (msg_quiet)
		return;
	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
}

/* "prog: fmt: strerror(e)" on stderr. */
static void vreport_sys(int e, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
vreport_sys(int e, const char *fmt, va_list ap)
{
	out_flush();
	fprintf(stderr, "%s: ", msg_prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
}

void
msg_warn_sys(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	if (msg_quiet)
		return;
	va_start(ap, fmt);
	vreport_sys(e, fmt, ap);
	va_end(ap);
}

void
msg_at_die(void (*fn)(void))
{
	die_hook = fn;
}

static noreturn void
die_exit(int code)
{
	void (*fn)(void) = die_hook;

	die_hook = NULL;
	if (fn != NULL)
		fn();
	msg_close_or_die();
	exit(code);
}

noreturn void
msg_die_quietly(void)
{
	void (*fn)(void) = die_hook;

	die_hook = NULL;
	if (fn != NULL)
		fn();
	msg_epipe();
}

void
msg_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
	die_exit(code);
}

void
msg_die_sys(int code, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vreport_sys(e, fmt, ap);
	va_end(ap);
	die_exit(code);
}

void
msg_die_err(const struct ev_err *e)
{
	msg_die(e->code != 0 ? e->code : EV_SOFTWARE, "%s", e->msg);
}

void
msg_flush_failed(int err)
{
	if (err == EPIPE)
		msg_die_quietly();
	errno = err;
	msg_die_sys(EV_IOERR, "write error");
}

void
msg_flush_or_die(void)
{
	if (out_flush() != 0)
		msg_flush_failed(errno);
}

void
msg_close_or_die(void)
{
	static int closing;

	if (closing)
		return;
	closing = 1;
	if (out_flush() != 0 && errno != EPIPE) {
		fprintf(stderr, "%s: write error: %s\n", msg_prog, strerror(errno));
		_exit(EV_IOERR);
	}
	if (close(STDOUT_FILENO) != 0 && errno != EBADF && errno != EINTR) {
		fprintf(stderr, "%s: write error: %s\n", msg_prog, strerror(errno));
		_exit(EV_IOERR);
	}
}

noreturn void
msg_epipe(void)
{
	sigact_die(SIGPIPE);
	_exit(141);
}
