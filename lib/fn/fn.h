/* fn — Lambda-style invocation of a handler for each event (fnrun).
 *
 * A runner owns a table of invocations: at most `jobs` handler processes
 * run at once, each in its own process group with the event on its stdin
 * and its stdout collected as the result.  One poll loop serves every
 * pipe, a SIGCHLD self-pipe, the deadlines and the retry back-off, so
 * timeouts hold even while the input is idle.  Results come out one line
 * per event, in input order unless unordered. */
#ifndef EVKIT_FN_H
#define EVKIT_FN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct fn_opts {
	char **argv;		/* process handler: CMD ARGS, or NULL */
	const char *jq;		/* --jq PROGRAM, or NULL */
	const char *url;	/* --url URL: an HTTP function, or NULL */
	int worker;		/* --worker: argv runs as warm workers */
	int runtime_api;	/* --runtime-api: argv is a Lambda runtime's bootstrap */
	const char *handler;	/* --handler: _HANDLER; NULL: argv[0] */
	int max_inv;		/* --max-invocations: recycle after; 0 never */
	int jobs;		/* -j, concurrent invocations */
	int unordered, envelope;
	int64_t timeout_ms;
	int retries;
	const char *dlq;	/* "file:PATH" or "queue:QUEUE", or NULL */
	const char *report;	/* --report FILE, or NULL */
	const char *name;	/* --name; NULL: the handler's base name */
	int input_fd;		/* where fn_idle() waits for input (stdin), or -1 */
	int memory_mb;		/* --memory: the limit; 0 none (128 reported) */
	int batch;		/* --batch: events per {"Records":[...]}; 0 none */
	int64_t init_timeout_ms;	/* --init-timeout: a worker's start; 0: 10 s */
	char **env;		/* -E NAME[=VALUE], checked by fn_env_check */
	int nenv;
	int inherit_env;	/* --inherit-env: all of ours, not the allow-list */
	const char *endpoint_url;	/* --endpoint-url: a remote --queue's, or NULL */
	int no_output;		/* results to on_done only, not stdout (--listen) */
	int quiet;		/* no warning per failed event: on_done tells of it */
	/* Called once per event with its final outcome (result or error
	 * object, compact JSON; NULL when a stop request dropped it unrun)
	 * and fn_submit's tag.  Returns whether it counts as a failure. */
	int (*on_done)(void *ctx, void *tag, int failed, const char *res, size_t n);
	void *done_ctx;
};

struct fn_runner;

/* Checks the options that can fail before any event (the --dlq URI, the
 * jq program, the report file), builds the environment a function sees
 * (Lambda's variables, the allow-list of proc.h and -E), makes fnrun the
 * subreaper of everything a handler starts, and installs the SIGCHLD
 * wake-up.  Returns 0 and *rp, or 2 (usage) or 74 (a file) with e. */
int fn_open(const struct fn_opts *o, struct fn_runner **rp, struct ev_err *e);

/* Queues one event (JSON text, copied) and runs the loop until there is
 * room for the next; results are written as they are due.  With --batch
 * the event joins the batch being gathered, which is queued when full,
 * when the input is idle, and at the end.  tag goes to on_done.  Returns
 * 0, or the status of an error that ends the run (the --dlq cannot be
 * written, stdout failed): then stop submitting and call fn_finish. */
int fn_submit(struct fn_runner *r, const char *event, size_t n, void *tag);

/* Runs the loop for up to wait_ms (less when something ends); returns
 * how many more invocations could start now. */
int fn_pump(struct fn_runner *r, int wait_ms);

/* Several runners served from one thread (fnflow's functions): one
 * round of each runner's loop, as fn_pump's, with one wait of up to
 * wait_ms (-1: at most 100 ms) for all of their pipes, exits and
 * deadlines.  Only one --url runner's transfers can be waited for: with
 * more of them busy, rounds last at most 5 ms. */
void fn_pump_group(struct fn_runner *const *rs, int n, int wait_ms);

/* Ends the running invocation fn_submit tagged with tag as its timeout
 * would (its handler killed, a Runtime.Timeout error to on_done), at the
 * next round: the caller's own deadline for it has passed (fnflow's
 * TimeoutSeconds); an HTTP function's request is cancelled. */
void fn_expire(struct fn_runner *r, void *tag);

/* Whether anything is queued or running. */
int fn_busy(const struct fn_runner *r);

/* For an ndj_set_idle() hook: keeps invocations going while the input has
 * no line ready, and returns 0 when it has; non-zero on a stop request
 * (sig_stop) or when the run has failed (fn_submit's errors): then the
 * hook should fn_finish rather than read on. */
int fn_idle(struct fn_runner *r);

/* Lets every queued and running invocation finish (or time out), writes
 * their results, closes the report and --dlq and kills whatever handlers
 * left behind.  Returns 0 when every event succeeded or went to the
 * --dlq, 1 when some failed, or the status of the error that ended the
 * run (with e).  Frees r. */
int fn_finish(struct fn_runner *r, struct ev_err *e);

/* --queue QUEUE: Lambda's SQS event source mapping.  Opens the runner
 * with o (o->batch: messages per invocation, default 10) and invokes it
 * with {"Records":[...]} of leased messages until nothing is visible and
 * nothing runs, or with follow until a stop request.  A batch is deleted
 * when the invocation succeeds, but for the messages its
 * {"batchItemFailures":[...]} names; the rest stay leased.  Returns as
 * fn_finish. */
int fn_esm_run(struct fn_opts *o, const char *queue, int follow, struct ev_err *e);

/* -E NAME[=VALUE]: checks the name as Lambda does (a letter, then
 * [A-Za-z0-9_], at least 2 characters, not a reserved name).  Returns
 * NULL, or why it is refused. */
const char *fn_env_check(const char *spec);

#endif
