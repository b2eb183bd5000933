/* fintr — the intrinsic functions of ASL's JSONPath language
 * (States.Format ... States.UUID), parsed and run on libjq values.
 *
 * Path arguments ("$.a", "$$.Execution.Id", "$var") are resolved by the
 * caller's function get, so this file knows nothing of scopes.  Ownership
 * as in fpath.h. */
#ifndef EVKIT_FINTR_H
#define EVKIT_FINTR_H

#include <jv.h>

#include "ferr.h"

/* Resolves one path argument: 0 and *out (a new reference), or -1 with f. */
typedef int (*fintr_get_fn)(void *arg, const char *path, jv *out, struct ferr *f);

/* Whether s is meant as an intrinsic call (starts with "States."). */
int fintr_is(const char *s);

/* Definition time: NULL, or why s is not a valid call (unknown function,
 * bad syntax, nesting deeper than 10), naming the character ("... (at
 * character N)"), in a buffer of the thread's that the next call reuses.  As AWS, a wrong number of arguments or a literal of
 * the wrong type is not refused here: the call fails when it runs. */
const char *fintr_check(const char *s);

/* Runs the call s.  0 and *out, or -1 with f: States.Runtime (as AWS
 * reports every failure of an intrinsic; States.IntrinsicFailure is only
 * reserved) with the cause "There was an error while evaluating the
 * intrinsic function: CALL. Invalid arguments in States.X", or what get
 * failed with.  The caller adds the state's part ("An error occurred
 * while executing the state ..."). */
int fintr_eval(const char *s, fintr_get_fn get, void *arg, jv *out, struct ferr *f);

#endif
