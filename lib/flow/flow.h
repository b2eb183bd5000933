/* flow — fnflow's engine: a Step Functions state machine (Amazon States
 * Language, JSONPath) loaded, validated, and run once per execution
 * input, several executions at once, all in one thread (SPEC 6b).
 *
 * Tasks run through fres; Wait states and Retry delays are timers;
 * Parallel branches and Map iterations are frames interleaved with the
 * executions', not threads. */
#ifndef EVKIT_FLOW_H
#define EVKIT_FLOW_H

#include <stddef.h>

#include "core/err.h"
#include "fres.h"

struct flow_opts {
	const char *machine;	/* the definition's file name, for messages */
	const char *arn;	/* the state machine's ARN; NULL: from machine's base name */
	int express;		/* --type EXPRESS */
	const char *name;	/* --name, or NULL for UUIDs */
	double time_scale;	/* multiplies Wait and Retry intervals (0: 1) */
	int jobs;		/* executions at once */
	int envelope;		/* print DescribeExecution's envelope */
	const char *history;	/* --history: the event log's directory, or NULL */
	struct fres_opts res;	/* the Task resources (done and ctx are flow's) */
	/* An execution's line, in input order; failed when it did not
	 * succeed (then why is "Error: Cause"). */
	void (*emit)(void *ctx, const char *line, size_t n, int failed, const char *why);
	void *ctx;
	/* A server's (evkit-serve): each execution's line as it ends, not in
	 * input order; and every history event given to on_event (the
	 * execution's ARN, the event's JSON) besides or instead of --history. */
	int any_order;
	void (*on_event)(void *ctx, const char *arn, const char *ev, size_t n);
};

struct flow;

/* Checks an --state-machine-arn: NULL, or why it is not one. */
const char *flow_arn_check(const char *arn);

/* Loads and validates the definition def[0..n) (exit 2 with e naming
 * the JSON path, as ValidateStateMachineDefinition words it), opens the
 * resources.  0 and *out, or the status. */
int flow_open(const struct flow_opts *o, const char *def, size_t n, struct flow **out,
    struct ev_err *e);

/* Starts an execution with input[0..n) (valid JSON), after waiting, if
 * -j executions run, for one to end.  0, or EV_DATAERR with e when the
 * input cannot be an execution's (over 256 KiB, or more than libjq takes). */
int flow_submit(struct flow *fl, const char *input, size_t n, struct ev_err *e);

/* --resume: starts again every execution of the history that has no
 * end event.  0, or the status with e. */
int flow_resume(struct flow *fl, struct ev_err *e);

/* Runs every execution to its end, or until a stop signal (sig_stop):
 * then those still running are dropped.  Returns 0 when all succeeded, 1
 * when any did not, or the status with e when the history could not be
 * written (flow_submit then returns it too). */
int flow_finish(struct flow *fl, struct ev_err *e);

void flow_close(struct flow *fl);

/* A server's seam: executions run a step at a time from its own loop.
 * flow_start starts one now, named name (whatever jobs says): 0, or
 * EV_DATAERR with e for an input that cannot be an execution's.
 * flow_step runs what is ready and what is due, tasks' ends included,
 * without waiting, emits what ended, and returns when to step again
 * (monotonic ms), or -1 when nothing runs.  flow_abort ends the running
 * execution arn ABORTED (StopExecution): 0, or -1 when none runs. */
int flow_start(struct flow *fl, const char *input, size_t n, const char *name,
    struct ev_err *e);
int64_t flow_step(struct flow *fl);
int flow_abort(struct flow *fl, const char *arn, const char *error, const char *cause);
/* The ARN of its executions up to the name ("arn:...:execution:SM:"). */
const char *flow_exec_prefix(const struct flow *fl);

/* Definition checks alone (for the fuzz target): 0, or 2 with e. */
int flow_check(const char *def, size_t n, struct ev_err *e);

#endif
