/* filter.c — filter mode in the reading thread: lines from the reader one
 * at a time, or the whole lines of a mapped file's rest handed to
 * filter_par.c's threads. */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "core/fmap.h"
#include "core/msg.h"
#include "core/out.h"
#include "filter.h"
#include "filter_int.h"

int
filter_judge(struct pat_set *set, const struct ndj_line *l, int r,
    const struct filter_cfg *cfg, char *why)
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
	return (m > 0) != cfg->invert;
}

/* A status whose reason a callback of the command has already given. */
static int
reported(struct ev_err *e, int status)
{
	if (status != 0) {
		e->code = status;
		e->msg[0] = '\0';
	}
	return status;
}

int
filter_reject(const struct filter_cfg *cfg, const struct ndj_line *l, const char *why,
    struct ev_err *e)
{
	return reported(e, cfg->reject(l, why));
}

/* One line (r from the reader) judged and written in this thread. */
static int
one(struct pat_set *set, const struct ndj_line *l, int r, const struct filter_cfg *cfg,
    unsigned long *sel, struct ev_err *e)
{
	char why[WHY];
	int k = filter_judge(set, l, r, cfg, why);

	if (k < 0)
		return filter_reject(cfg, l, why, e);
	/* a mapped line judged as it was may be zeros now */
	if (k > 0 && fmap_shrunk())
		return err_set(e, EV_IOERR, "%s: the file shrank while it was being read",
		    l->file);
	if (k > 0 && !cfg->count)
		out_line(l->p, l->n);
	*sel += (unsigned long)k;
	return 0;
}

int
filter_run_cursor(struct pat_set *set, struct ndj_cursor *c, const struct filter_cfg *cfg,
    unsigned long *sel, struct ev_err *e)
{
	struct ndj_line l;
	int r, rc = 0;

	while (rc == 0 && (r = ndj_cursor_next(c, &l)) != NDJ_EOF)
		rc = one(set, &l, r, cfg, sel, e);
	return rc;
}

int
filter_run(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    struct ndj_reader *rd, const struct filter_cfg *cfg, unsigned long *selected,
    struct ev_err *e)
{
	struct ndj_line l;
	struct ndj_cursor c;
	int r, rc = 0;

	*selected = 0;
	while (rc == 0) {
		/* threads pay where the rest is big and output may wait */
		if (nsets > 1 && !out_line_mode() && ndj_take_mapped(rd, &c)) {
			unsigned long line = c.lineno;
			if ((size_t)(c.end - c.p) >= 4 * PIECE) {
				rc = filter_par(sets, nsets, copy, &c, cfg, &line, selected, e);
			} else {
				rc = filter_run_cursor(sets[0], &c, cfg, selected, e);
				line = c.lineno;
			}
			ndj_taken(rd, line);
			continue;
		}
		if ((r = ndj_next(rd, &l)) == NDJ_EOF)
			break;
		if (r == NDJ_ERROR)
			rc = reported(e, cfg->input_error(rd, &l));
		else
			rc = one(sets[0], &l, r, cfg, selected, e);
	}
	return rc;
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
