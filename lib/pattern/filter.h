/* filter — evbus-route's filter mode: the input lines that match any
 * pattern of a set (or, inverted, none), printed as they came or counted.
 *
 * The rest of a large mapped file is cut into pieces that several threads
 * scan at once.  What they select is written in input order, and the first
 * bad line stops everything after it, exactly as when one thread reads. */
#ifndef EVKIT_FILTER_H
#define EVKIT_FILTER_H

#include "core/err.h"
#include "core/ndjson.h"
#include "pattern.h"

enum { FILTER_MAX_JOBS = 64 };

/* What the command decided from its command line. */
struct filter_cfg {
	int invert;		/* select the lines that match no pattern */
	int count;		/* count them, write nothing */
	int keep_going;		/* a bad line is reported and skipped (--errors) */
	size_t max_line;	/* the reader's cap, named when a line is over it */
	/* Reports a bad line (ndj_reject): 1 when the run is to stop there. */
	int (*reject)(const struct ndj_line *l, const char *why);
};

/* sets[0] holds the patterns; sets[1..nsets) are NULL until a scanning
 * thread needs its own copy, which copy() makes (nsets 1: no threads).
 * *selected gets the number of lines selected.  Returns 0; EV_DATAERR
 * when reject() stopped the run at a bad line (everything before it is
 * written; *e names the line); EV_IOERR when writing stdout failed, *e
 * saying why and errno left as the write failed (EPIPE: the reader has
 * gone, which a filter takes quietly). */
int filter_run(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    struct ndj_reader *rd, const struct filter_cfg *cfg, unsigned long *selected,
    struct ev_err *e);

/* Threads worth starting: the processors this process may run on, at most
 * max. */
int filter_default_jobs(int max);

#endif
