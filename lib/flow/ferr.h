/* ferr — a runtime error of a Step Functions execution: the error name
 * and the cause, as a Fail state, a Catch's ResultPath or
 * DescribeExecution give them ({"Error": ..., "Cause": ...}). */
#ifndef EVKIT_FERR_H
#define EVKIT_FERR_H

#include <stddef.h>

struct ferr {
	char error[256];	/* "States.Runtime", "States.TaskFailed", a handler's type */
	char cause[4096];	/* truncated to fit, never split inside a UTF-8 sequence */
};

/* Sets f to error and the formatted cause; returns -1, so that
 * "return ferr_set(f, "States.Runtime", "...", ...);" ends a failing call. */
int ferr_set(struct ferr *f, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
