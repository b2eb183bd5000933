/* ndjson — the one input reader: FILE arguments in order, or stdin; gzip
 * read transparently; CRLF accepted; blank lines skipped; lines capped at
 * max_line bytes so one bad producer cannot exhaust memory.
 *
 * The reader never prints and never exits (err.h): what goes wrong comes
 * back as NDJ_ERROR at a position, so a command commits the lines before
 * it, as it does before a bad line, and then decides. */
#ifndef EVKIT_NDJSON_H
#define EVKIT_NDJSON_H

#include <stddef.h>

#include "err.h"

enum { NDJ_MAX_LINE = 1 << 20 };	/* default --max-line-bytes (SPEC.md 1) */

/* What the command line says about input (--max-line-bytes, --errors),
 * handed by the command to the reader and to ndj_reject().  All zero is
 * the default: 1 MiB lines, a bad line stops the command. */
struct ndj_conf {
	size_t max_line;	/* longest line, its CR not counted; 0: NDJ_MAX_LINE */
	const char *errors;	/* record bad lines here and go on ("-": stderr) */
	/* kept by ndj_reject() */
	int errors_fd;		/* 0: not open yet, else the fd + 1 */
	unsigned long rejected;	/* lines recorded in errors */
};

struct ndj_reader;

struct ndj_line {
	const char *p;		/* the line, without its line end; valid until the next call */
	size_t n;
	const char *file;	/* "<stdin>" for stdin */
	unsigned long lineno;	/* 1-based, counting blank lines too */
};

enum { NDJ_EOF = 0, NDJ_LINE = 1, NDJ_TOOLONG = 2, NDJ_ERROR = 3 };

/* files[0..nfiles) are paths, "-" is stdin; no files means stdin.  conf
 * (may be NULL for the defaults) must outlive the reader. */
struct ndj_reader *ndj_open(char *const *files, int nfiles, struct ndj_conf *conf);

/* Next line: NDJ_LINE; NDJ_TOOLONG (l->p holds the first max_line bytes,
 * the rest of the line is skipped); NDJ_EOF; or NDJ_ERROR: the input
 * cannot be read on, and ndj_error() says why with a SPEC status.  When
 * l->lineno > 0 the reason is about the line l->file:l->lineno, the first
 * not read whole, and is reported as a bad line is; when it is 0 the
 * reason names the file.  The statuses:
 *   EV_NOINPUT  a FILE is missing, unreadable or a directory: warn and go
 *               on (ndj_status() says 66 at the end);
 *   EV_DATAERR  corrupt or truncated gzip data: a bad line;
 *   EV_IOERR    a read error, or a mapped file that shrank.
 * Every line before the error was returned.  Called again, the reader
 * goes on with the next FILE. */
int ndj_next(struct ndj_reader *r, struct ndj_line *l);
/* The reason and status of the last NDJ_ERROR. */
const struct ev_err *ndj_error(const struct ndj_reader *r);

/* fn(ctx) is called before any read that would block: a command commits
 * what it has before waiting for a slow producer. */
void ndj_set_idle(struct ndj_reader *r, void (*fn)(void *), void *ctx);

/* The settings the reader was opened with. */
struct ndj_conf *ndj_conf(const struct ndj_reader *r);

/* Whole lines lying in memory, cut as ndj_next() cuts them. */
struct ndj_cursor {
	const char *p, *end;	/* each line ends in '\n' */
	const char *file;
	unsigned long lineno;	/* of the last line cut */
	size_t max_line;
	struct ndj_conf *conf;	/* the reader's */
};
int ndj_cursor_next(struct ndj_cursor *c, struct ndj_line *l);

/* When the current file is mapped (a large regular file, not gzip): the
 * whole lines of its unread rest, as a cursor, and 1; the reader goes on
 * after them.  0 otherwise.  Once the caller has cut them it tells the
 * reader the last line number, for the lines that follow. */
int ndj_take_mapped(struct ndj_reader *r, struct ndj_cursor *c);
void ndj_taken(struct ndj_reader *r, unsigned long lineno);

/* EV_OK, or EV_NOINPUT if some input file could not be opened. */
int ndj_status(const struct ndj_reader *r);
void ndj_close(struct ndj_reader *r);

/* A bad input line (why says what is wrong with it).  Without
 * conf->errors: returns EV_DATAERR with "FILE:LINE: why" in *e (the
 * caller commits what came before and exits 65).  With it: appends
 * {"error","file","line","input"} to that file (or stderr for "-") and
 * returns 0; EV_IOERR if it cannot.  Also EV_IOERR if the line read as
 * zeros because its mapped file shrank. */
int ndj_reject(struct ndj_conf *conf, const struct ndj_line *l, const char *why,
    struct ev_err *e);

#endif
