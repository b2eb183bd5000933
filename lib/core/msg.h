/* msg — error reporting and exit statuses shared by every evkit command. */
#ifndef EVKIT_MSG_H
#define EVKIT_MSG_H

#include <stdarg.h>
#include <stdnoreturn.h>

#include "err.h"

/* Exit statuses: SPEC.md section 1.  Every man page lists them. */
enum {
	EV_OK = 0,
	EV_NONE = 1,		/* nothing to do / no match, as grep */
	EV_USAGE = 2,
	EV_CONFLICT = 3,	/* optimistic-concurrency check failed */
	EV_DATAERR = 65,
	EV_NOINPUT = 66,
	EV_UNAVAILABLE = 69,
	EV_SOFTWARE = 70,
	EV_IOERR = 74,
	EV_TEMPFAIL = 75,
	EV_NOPERM = 77,		/* credentials missing, refused or expired */
};

extern const char *msg_prog;	/* set by cli_init() */
extern int msg_quiet;		/* -q: silences warnings, never errors */

/* "prog: fmt" on stderr; the _sys forms append ": strerror(errno)". */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
noreturn void msg_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void msg_die_sys(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports a library error (err.h) and exits with its status. */
noreturn void msg_die_err(const struct ev_err *e);

/* The command side of core/out: out_flush(), or die, quietly by SIGPIPE
 * on EPIPE (after the msg_at_die hook), else with exit 74; and the final
 * flush and close of stdout (gnulib close_stdout), dying 74 on error. */
void msg_flush_or_die(void);
noreturn void msg_flush_failed(int err);
/* Ends the process the way a filter whose reader left does: by SIGPIPE. */
noreturn void msg_epipe(void);
void msg_close_or_die(void);

/* The reader of stdout left (EPIPE): run the hook, then die by SIGPIPE. */
noreturn void msg_die_quietly(void);

/* Runs before msg_die() exits: commands register one to release resources
 * (roll back a transaction, release leased messages). */
void msg_at_die(void (*fn)(void));

#endif
