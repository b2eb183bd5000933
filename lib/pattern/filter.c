/* filter.c — filter mode in the reading thread: lines from the reader one
 * at a time, or the whole lines of a mapped file's rest handed to
 * filter_par.c's threads. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "filter.h"
#include "filter_int.h"
#include "core/msg.h"
#include "core/out.h"

int
filter_judge(struct pat_set *set, const struct ndj_line *l, int r, int invert, char *why)
{
	struct pat_err err;

	if (r == NDJ_TOOLONG) {
		snprintf(why, WHY, "line longer than %zu bytes", l->n);
		return -1;
	}
	int m = pat_match(set, l->p, l->n, 0, &err);
	if (m < 0) {
		snprintf(why, WHY, "%s at column %zu", err.what, err.col);
		return -1;
	}
	return (m > 0) != invert;
}

void
filter_reject(struct ndj_conf *conf, const struct ndj_line *l, const char *why)
{
	struct ev_err e;

	if (ndj_reject(conf, l, why, &e) != 0)
		msg_die_err(&e);
}

/* An NDJ_ERROR from the reader, as a command takes it (cli.h). */
static void
input_error(struct ndj_reader *rd, const struct ndj_line *l)
{
	const struct ev_err *e = ndj_error(rd);

	if (e->code == EV_NOINPUT)
		msg_warn("%s", e->msg);
	else if (e->code == EV_DATAERR && l->lineno > 0)
		filter_reject(ndj_conf(rd), l, e->msg);
	else if (l->lineno > 0)
		msg_die(e->code, "%s:%lu: %s", l->file, l->lineno, e->msg);
	else
		msg_die_err(e);
}

/* One line (r from the reader) judged and written in this thread: 1 if
 * it was selected. */
static int
one(struct pat_set *set, struct ndj_conf *conf, const struct ndj_line *l, int r, int invert,
    int count)
{
	char why[WHY];
	int k = filter_judge(set, l, r, invert, why);

	if (k < 0)
		filter_reject(conf, l, why);
	if (k > 0 && !count)
		out_line(l->p, l->n);
	return k > 0;
}

unsigned long
filter_run_cursor(struct pat_set *set, struct ndj_cursor *c, int invert, int count)
{
	struct ndj_line l;
	unsigned long sel = 0;
	int r;

	while ((r = ndj_cursor_next(c, &l)) != NDJ_EOF)
		sel += (unsigned long)one(set, c->conf, &l, r, invert, count);
	return sel;
}

unsigned long
filter_run(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    struct ndj_reader *rd, int invert, int count)
{
	struct ndj_line l;
	struct ndj_cursor c;
	unsigned long sel = 0;
	int r;

	for (;;) {
		/* threads pay where the rest is big and output may wait */
		if (nsets > 1 && !out_line_mode() && ndj_take_mapped(rd, &c)) {
			unsigned long line = c.lineno;
			if ((size_t)(c.end - c.p) >= 4 * PIECE) {
				sel += filter_par(sets, nsets, copy, &c, invert, count, &line);
			} else {
				sel += filter_run_cursor(sets[0], &c, invert, count);
				line = c.lineno;
			}
			ndj_taken(rd, line);
			continue;
		}
		if ((r = ndj_next(rd, &l)) == NDJ_EOF)
			break;
		if (r == NDJ_ERROR)
			input_error(rd, &l);
		else
			sel += (unsigned long)one(sets[0], ndj_conf(rd), &l, r, invert, count);
	}
	return sel;
}

int
filter_default_jobs(int max)
{
	int n = 1;
#ifdef CPU_COUNT
	cpu_set_t cs;
	if (sched_getaffinity(0, sizeof cs, &cs) == 0)
		n = CPU_COUNT(&cs);
#else
	long k = sysconf(_SC_NPROCESSORS_ONLN);
	if (k > 0)
		n = (int)k;
#endif
	return n < 1 ? 1 : n > max ? max : n;
}
