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

struct fn_opts {
	char **argv;		/* process handler: CMD ARGS, or NULL */
	const char *jq;		/* --jq PROGRAM, or NULL */
	int worker;		/* --worker: argv runs as warm workers */
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
	/* Called once per event with its final outcome (result or error
	 * object, compact JSON; NULL when a stop request dropped it unrun)
	 * and fn_submit's tag.  Returns whether it counts as a failure. */
	int (*on_done)(void *ctx, void *tag, int failed, const char *res, size_t n);
	void *done_ctx;
};

struct fn_runner;

/* Checks the options that can fail before any event (the --dlq URI, the
 * jq program, the report file), sets the Lambda environment variables a
 * function sees, and installs the SIGCHLD wake-up.  Usage problems exit 2,
 * files that cannot be opened 74. */
struct fn_runner *fn_open(const struct fn_opts *o);

/* Queues one event (JSON text, copied) and runs the loop until there is
 * room for the next; results are written as they are due.  With --batch
 * the event joins the batch being gathered, which is queued when full,
 * when the input is idle, and at the end.  tag goes to on_done. */
void fn_submit(struct fn_runner *r, const char *event, size_t n, void *tag);

/* Runs the loop for up to wait_ms (less when something ends); returns
 * how many more invocations could start now. */
int fn_pump(struct fn_runner *r, int wait_ms);

/* Whether anything is queued or running. */
int fn_busy(const struct fn_runner *r);

/* ndj_set_idle() hook: keeps invocations going while the input has no
 * line ready, and returns when it has.  A stop request (SIGINT, SIGTERM)
 * while waiting finishes what runs, closes up and re-raises the signal. */
void fn_idle(void *r);

/* Lets every queued and running invocation finish (or time out), writes
 * their results and closes the report and --dlq.  Returns 0 when every
 * event succeeded or went to the --dlq, else 1.  Frees r. */
int fn_finish(struct fn_runner *r);

/* --queue QUEUE: Lambda's SQS event source mapping.  Opens the runner
 * with o (o->batch: messages per invocation, default 10) and invokes it
 * with {"Records":[...]} of leased messages until nothing is visible and
 * nothing runs, or with follow until a stop request.  A batch is deleted
 * when the invocation succeeds, but for the messages its
 * {"batchItemFailures":[...]} names; the rest stay leased.  Returns as
 * fn_finish. */
int fn_esm_run(struct fn_opts *o, const char *queue, int follow);

/* --env K=V: validates the key as Lambda does (a letter, then [A-Za-z0-9_],
 * at least 2 characters, not a reserved name) and exports it.  Returns
 * NULL, or why it is refused. */
const char *fn_env(const char *kv);

#endif
