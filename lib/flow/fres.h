/* fres — the Task resources of fnflow's executions (SPEC 6b): functions
 * bound with --function NAME=URI and run by fn's runner (exec:, worker:,
 * jq:, url:, runtime:), arn:aws:states:::lambda:invoke (the Payload /
 * StatusCode wrapper), arn:aws:states:::sqs:sendMessage and
 * arn:aws:states:::events:putEvents.  lambda:invoke with InvocationType
 * Event ends at once with Lambda's 202 and lets the function run on.
 *
 * Tasks are started and end later: the interpreter starts them, pumps,
 * and hears each end through opts.done, all in one thread.
 *
 * Errors are named as Step Functions names them: a function's typed
 * error (SPEC 5) by its errorType, with the error object as the cause
 * (Runtime.ExitError for a handler that exits non-zero without one); its
 * own timeout (timeout_ms) Lambda.Unknown; a Task's TimeoutSeconds
 * States.Timeout, with no cause; an unknown FunctionName
 * Lambda.ResourceNotFoundException; a queue that does not exist
 * SQS.QueueDoesNotExistException, other SQS failures
 * SQS.AmazonSQSException; a PutEvents entry that failed
 * EventBridge.FailedEntry (the cause: the answer's Entries).  A
 * putEvents entry whose EventBusName is events://REGION/BUS goes to
 * EventBridge; any other is routed through --rules. */
#ifndef EVKIT_FRES_H
#define EVKIT_FRES_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ferr.h"

struct fres_opts {
	char **functions;	/* "NAME=URI", as given to --function */
	int nfunctions;
	const char *rules;	/* --rules FILE for events:putEvents, or NULL */
	const char *endpoint_url;	/* --endpoint-url for remote queues/buses, or NULL */
	/* A server's own base URL ("http://127.0.0.1:4566"), or NULL: a
	 * QueueUrl under it (BASE/ACCOUNT/NAME) is the local queue NAME, never
	 * a request to itself. */
	const char *local_url;
	int jobs;		/* invocations at once per function */
	int64_t timeout_ms;	/* a function's own timeout; 0: 900 s, Lambda's largest */
	/* A task's end: ok with its result (compact JSON), or failed with
	 * f (the handler's typed error per SPEC 5, States.TaskFailed,
	 * States.Timeout ...).  Called from fres_pump only. */
	void (*done)(void *ctx, void *tag, int ok, const char *res, size_t n,
	    const struct ferr *f);
	void *ctx;
	/* events:putEvents appends the execution's ARN (of the task's tag;
	 * this may be NULL, or return NULL) and the state machine's (or NULL)
	 * to each entry's Resources, as Step Functions does. */
	const char *(*execution_arn)(void *ctx, void *tag);
	const char *state_machine_arn;
};

struct fres;

/* Checks and opens every binding (a bad URI, an unknown scheme, a jq
 * program that does not compile: 2 with e) and the --rules file (66
 * unreadable, 2 invalid).  0 and *rp, or the status. */
int fres_open(const struct fres_opts *o, struct fres **rp, struct ev_err *e);

/* Definition time: NULL, or why a Task's Resource cannot be run here (an
 * ARN of no known service, a function with no --function binding). */
const char *fres_check(const struct fres *r, const char *resource);

/* Starts one task of resource with its effective input (compact JSON).
 * timeout_ms: the state's TimeoutSeconds, 0 for none (then it fails with
 * States.Timeout).  0, or -1 with f when it cannot start at all (done is
 * not called then): a resource fres_check refuses.  Every other end,
 * failures at once included (an unknown FunctionName, a queue that does
 * not exist), comes through done from fres_pump. */
int fres_start(struct fres *r, const char *resource, const char *input, size_t n,
    int64_t timeout_ms, void *tag, struct ferr *f);

/* Runs the tasks for up to wait_ms (less when one ends) and calls done
 * for each that ended.  Returns how many tasks are still running. */
int fres_pump(struct fres *r, int wait_ms);

/* Lets every running task end (done is called), then frees r.  On a
 * stop request (sig_stop) tasks not yet started end at once, failed
 * with States.Runtime ("the task was not run: the run was stopped"). */
void fres_close(struct fres *r);

#endif
