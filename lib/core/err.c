#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
err_vset(struct ev_err *e, int code, const char *fmt, va_list ap)
{
	if (e != NULL) {
		e->code = code;
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	}
	return code;
}

int
err_set(struct ev_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int
err_sys(struct ev_err *e, int code, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	if (e != NULL) {
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	}
	errno = saved;
	return code;
}

int
err_wrap(struct ev_err *e, const char *fmt, ...)
{
	char old[sizeof e->msg];
	size_t n;
	va_list ap;

	if (e == NULL)
		return 0;
	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	/* A reason cut short is better than none: the message is bounded. */
	if (n + 2 < sizeof e->msg) {
		memcpy(e->msg + n, ": ", 2);
		n += 2;
		memcpy(e->msg + n, old, strnlen(old, sizeof e->msg - n - 1));
		e->msg[n + strnlen(old, sizeof e->msg - n - 1)] = '\0';
	}
	return e->code;
}

void
err_clear(struct ev_err *e)
{
	if (e != NULL) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}
