#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "out.h"

enum { OUT_CAP = 1 << 16 };

static char *buf;
static size_t len, cap, flushed;
static int line_mode, failed;
static void (*on_failure)(int err);

void
out_on_failure(void (*fn)(int err))
{
	on_failure = fn;
}

/* A flush out_line needs: a failure goes to the command's handler. */
static void
flush_now(void)
{
	if (out_flush() != 0 && on_failure != NULL)
		on_failure(errno);
}

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
	buf = xrealloc(buf, ncap);
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
		flush_now();
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



