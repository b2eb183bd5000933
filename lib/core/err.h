/* err — the one error contract of lib/.
 *
 * A library function that can fail returns 0 on success, or a SPEC exit
 * status (EV_DATAERR, EV_TEMPFAIL, … from msg.h) after filling *e with that
 * status and the reason, worded as a command prints it after "prog: "
 * (lower-case, no final full stop, user strings quoted).  Library code
 * never prints an error, never exits and never reads the command line:
 * only commands decide to report (msg_die_err) or to go on, and a router
 * can retry or dead-letter what failed.  Running out of memory is the one
 * exception: the alloc helpers abort, as git's xmalloc dies. */
#ifndef EVKIT_ERR_H
#define EVKIT_ERR_H

#include <stdarg.h>

struct ev_err {
	int code;		/* 0, or the SPEC exit status */
	char msg[1024];
};

/* Sets *e (which may be NULL) and returns code, so a caller can write
 * "return err_set(e, EV_IOERR, "cannot open '%s'", path);". */
int err_set(struct ev_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with ": strerror(errno)" appended (errno read on entry). */
int err_sys(struct ev_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_vset(struct ev_err *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Prefixes the reason already in *e with "fmt: " (context from a caller). */
int err_wrap(struct ev_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void err_clear(struct ev_err *e);

#endif
