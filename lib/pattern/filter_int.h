/* filter_int.h — what filter.c and filter_par.c share. */
#ifndef EVKIT_FILTER_INT_H
#define EVKIT_FILTER_INT_H

#include "core/ndjson.h"
#include "pattern.h"

/* Pieces of about PIECE bytes for the threads; a rest of fewer than
 * 4 * PIECE bytes is not worth them.  WHY: room for a reason. */
enum { PIECE = 1 << 20, WHY = 128 };

/* Line l (r as from the reader): 1 selected, 0 not, -1 a bad line (why
 * says what is wrong). */
int filter_judge(struct pat_set *set, const struct ndj_line *l, int r,
    const struct filter_cfg *cfg, char *why);

/* A bad line handed to cfg->reject(): 0 to go on, else its status (the
 * reason given by the callback, e->msg left empty). */
int filter_reject(const struct filter_cfg *cfg, const struct ndj_line *l, const char *why,
    struct ev_err *e);

/* The lines of cursor c judged and written in this thread; *sel counts
 * those selected.  0, or filter_run()'s statuses. */
int filter_run_cursor(struct pat_set *set, struct ndj_cursor *c, const struct filter_cfg *cfg,
    unsigned long *sel, struct ev_err *e);

/* The whole lines of c, scanned by up to nsets threads, what they select
 * written in order; *line is the number of the last line before them,
 * and after them on return.  A thread's set NULL in sets is made by
 * copy() first.  *sel counts those selected; 0, or filter_run()'s
 * statuses. */
int filter_par(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    const struct ndj_cursor *c, const struct filter_cfg *cfg, unsigned long *line,
    unsigned long *sel, struct ev_err *e);

#endif
