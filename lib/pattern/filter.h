/* filter — evbus-route's filter mode: the input lines that match any
 * pattern of a set (or, inverted, none), printed as they came or counted.
 *
 * The rest of a large mapped file is cut into pieces that several threads
 * scan at once.  What they select is written in input order, and the first
 * bad line stops everything after it, exactly as when one thread reads. */
#ifndef EVKIT_FILTER_H
#define EVKIT_FILTER_H

#include "core/ndjson.h"
#include "pattern.h"

enum { FILTER_MAX_JOBS = 64 };

/* sets[0] holds the patterns; sets[1..nsets) are NULL until a scanning
 * thread needs its own copy, which copy() makes (nsets 1: no threads).
 * Returns the number of lines selected.  A bad line without --errors is
 * reported, what came before it is written, and the process exits 65. */
unsigned long filter_run(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    struct ndj_reader *rd, int invert, int count);

/* Threads worth starting: the processors this process may run on, at most
 * max. */
int filter_default_jobs(int max);

#endif
