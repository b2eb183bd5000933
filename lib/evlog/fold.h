/* fold — reduce events with a jq program compiled once (evlog-read
 * --fold): the program sees the state as . and $state, the event as
 * $event, and its last output is the new state (none: null), as in jq's
 * reduce. */
#ifndef EVKIT_FOLD_H
#define EVKIT_FOLD_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct fold;

/* Compiles prog and parses init (JSON text): 0 and *out, or EV_USAGE
 * with *e (and *out NULL) if either is invalid. */
int fold_new(const char *prog, const char *init, struct fold **out, struct ev_err *e);
/* Folds one event (JSON text): 0, or EV_DATAERR with *e naming where the
 * failing event was, "FILE:LINE: --fold: what" (an event may be folded
 * later, with others: the error may name an earlier one). */
int fold_step(struct fold *f, const char *event, size_t n, const char *file,
    unsigned long line, struct ev_err *e);
/* The current state as JSON text in *out (replacing what was there):
 * 0, or EV_DATAERR as fold_step(). */
int fold_state(struct fold *f, struct buf *out, struct ev_err *e);
void fold_free(struct fold *f);

#endif
