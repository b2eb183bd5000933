#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ferr.h"

/* Drops a UTF-8 sequence that truncation left incomplete at the end of s. */
static void
drop_partial_utf8(char *s)
{
	size_t len = strlen(s), p = len;

	while (p > 0 && ((unsigned char)s[p - 1] & 0xC0) == 0x80)
		p--;
	if (p == 0 || ((unsigned char)s[p - 1] & 0x80) == 0)
		return;		/* ASCII last, or continuations with no lead */
	unsigned char lead = (unsigned char)s[p - 1];
	size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (len - (p - 1) < want)
		s[p - 1] = '\0';
}

int
ferr_set(struct ferr *f, const char *error, const char *fmt, ...)
{
	va_list ap;

	if ((size_t)snprintf(f->error, sizeof f->error, "%s", error) >= sizeof f->error)
		drop_partial_utf8(f->error);
	va_start(ap, fmt);
	int n = vsnprintf(f->cause, sizeof f->cause, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= sizeof f->cause)
		drop_partial_utf8(f->cause);
	return -1;
}
