#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "out.h"

enum { OUT_CAP = 1 << 16 };

static char *buf;
static size_t len, cap, flushed;
static int line_mode, failed;

void
out_init(int line_buffered)
{
	line_mode = line_buffered || isatty(STDOUT_FILENO);
}

int
out_line_mode(void)
{
	return line_mode;
}

static void
reserve(size_t n)
{
	if (len + n <= cap)
		return;
	size_t ncap = cap ? cap : OUT_CAP;
	while (ncap < len + n)
		ncap *= 2;
	char *nb = realloc(buf, ncap);
	if (nb == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	buf = nb;
	cap = ncap;
}

void
out_write(const void *p, size_t n)
{
	if (failed)
		return;
	reserve(n);
	memcpy(buf + len, p, n);
	len += n;
}

void
out_line(const char *p, size_t n)
{
	if (failed)
		return;
	reserve(n + 1);
	memcpy(buf + len, p, n);
	buf[len + n] = '\n';
	len += n + 1;
	if (line_mode || len >= OUT_CAP)
		out_flush_or_die();
}

void
out_printf(const char *fmt, ...)
{
	va_list ap;
	char small[512];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		out_write(small, (size_t)n);
		return;
	}
	reserve((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(buf + len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	len += (size_t)n;
}

size_t
out_pending(void)
{
	return len;
}

size_t
out_flushed(void)
{
	return flushed;
}

int
out_flush(void)
{
	flushed = 0;
	if (failed) {
		len = 0;
		errno = EPIPE;
		return -1;
	}
	while (flushed < len) {
		ssize_t w = write(STDOUT_FILENO, buf + flushed, len - flushed);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			failed = 1;
			len = 0;
			errno = e;
			return -1;
		}
		flushed += (size_t)w;
	}
	len = 0;
	return 0;
}

noreturn void
out_epipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	raise(SIGPIPE);
	_exit(141);
}

void
out_flush_or_die(void)
{
	if (out_flush() == 0)
		return;
	if (errno == EPIPE)
		msg_die_quietly();
	msg_die_sys(EV_IOERR, "write error");
}

void
out_close_or_die(void)
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
