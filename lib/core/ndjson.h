/* ndjson — the one input reader: FILE arguments in order, or stdin; gzip
 * read transparently; CRLF accepted; blank lines skipped; lines capped at
 * max_line bytes so one bad producer cannot exhaust memory. */
#ifndef EVKIT_NDJSON_H
#define EVKIT_NDJSON_H

#include <stddef.h>

struct ndj_reader;

struct ndj_line {
	const char *p;		/* the line, without its line end; valid until the next call */
	size_t n;
	const char *file;	/* "<stdin>" for stdin */
	unsigned long lineno;	/* 1-based, counting blank lines too */
};

enum { NDJ_EOF = 0, NDJ_LINE = 1, NDJ_TOOLONG = 2 };

/* files[0..nfiles) are paths, "-" is stdin; no files means stdin. */
struct ndj_reader *ndj_open(char *const *files, int nfiles, size_t max_line);

/* Next line: NDJ_LINE; NDJ_TOOLONG (l->p holds the first max_line bytes,
 * the rest of the line is skipped); NDJ_EOF.  A missing or unreadable
 * file is reported and skipped (ndj_status() then says 66); a read error
 * in the middle of a file dies with 74. */
int ndj_next(struct ndj_reader *r, struct ndj_line *l);

/* fn(ctx) is called before any read that would block: a command commits
 * what it has before waiting for a slow producer. */
void ndj_set_idle(struct ndj_reader *r, void (*fn)(void *), void *ctx);

/* Whole lines lying in memory, cut as ndj_next() cuts them. */
struct ndj_cursor {
	const char *p, *end;	/* each line ends in '\n' */
	const char *file;
	unsigned long lineno;	/* of the last line cut */
	size_t max_line;
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

/* A bad input line.  Without --errors: "prog: FILE:LINE: why" on stderr,
 * returns 1 (the caller commits what came before and exits 65).  With
 * --errors FILE: appends {"error","file","line","input"} there, returns 0. */
int ndj_reject(const struct ndj_line *l, const char *why);
/* Number of lines ndj_reject() recorded in the --errors file. */
unsigned long ndj_rejected(void);

#endif
