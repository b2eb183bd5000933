/* fold — reduce events with a jq program compiled once (evlog-read
 * --fold): the program sees the state as . and $state, the event as
 * $event, and its last output is the new state (none: null), as in jq's
 * reduce. */
#ifndef EVKIT_FOLD_H
#define EVKIT_FOLD_H

#include <stddef.h>

struct fold;

/* Compiles prog and parses init (JSON text); a usage error (exit 2) if
 * either is invalid. */
struct fold *fold_new(const char *prog, const char *init);
/* Folds one event (JSON text).  A jq error dies with exit 65, naming
 * where it was as "FILE:LINE". */
void fold_step(struct fold *f, const char *event, size_t n, const char *file,
    unsigned long line);
/* Prints the current state as one line on stdout (out.h). */
void fold_print(struct fold *f);
void fold_free(struct fold *f);

#endif
