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
	/* Report a bad line, or the reader's NDJ_ERROR at l (the command's
	 * cli_reject and cli_input_error): 0 to go on, else the status that
	 * ends the run, the reason already given. */
	int (*reject)(const struct ndj_line *l, const char *why);
	int (*input_error)(const struct ndj_reader *r, const struct ndj_line *l);
};

/* sets[0] holds the patterns; sets[1..nsets) are NULL until a scanning
 * thread needs its own copy, which copy() makes (nsets 1: no threads).
 * *selected gets the number of lines selected.  Returns 0; the status of
 * reject() or input_error() when one stopped the run (everything before
 * the line is written; e->msg is empty: the callback gave the reason);
 * EV_IOERR when writing stdout failed, *e
 * saying why and errno left as the write failed (EPIPE: the reader has
 * gone, which a filter takes quietly). */
int filter_run(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    struct ndj_reader *rd, const struct filter_cfg *cfg, unsigned long *selected,
    struct ev_err *e);

/* Threads worth starting: the processors this process may run on, at most
 * max. */
int filter_default_jobs(int max);

#endif
