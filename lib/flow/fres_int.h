/* fres internals: a task and what fres.c (bindings, the loop) and
 * fres_svc.c (the service integrations) share. */
#ifndef EVKIT_FRES_INT_H
#define EVKIT_FRES_INT_H

#include <stdint.h>

#include "core/buf.h"
#include "fres.h"

enum ft_state {
	FT_PARKED,	/* waiting for a free slot of its binding */
	FT_RUNNING,
	FT_DONE,	/* its end is known, done not yet called */
	FT_ABANDONED,	/* timed out: done was called, fn's end is awaited */
};

struct fbind;

struct ftask {
	struct fres *rs;
	struct fbind *b;	/* the function, or NULL (a service call) */
	void *tag;
	int invoke;		/* lambda:invoke: the result is wrapped */
	int silent;		/* its end was told already (a timeout, an Event
				 * invocation's 202): not told again, not counted */
	enum ft_state state;
	int64_t deadline;	/* monotonic ms, 0: none */
	char *input;		/* FT_PARKED: what to submit */
	size_t n;
	int ok;
	struct buf res;
	struct ferr f;
	struct ftask *next;
};

struct fres_svc;

/* fres.c: a finished task, to be told of at the next fres_pump. */
struct ftask *fres_task_new(struct fres *rs, void *tag);
void fres_task_ok(struct ftask *t, const char *res, size_t n);
void fres_task_fail(struct ftask *t, const struct ferr *f);

/* fres_svc.c */
int fres_svc_open(const struct fres_opts *o, struct fres_svc **sp, struct ev_err *e);
void fres_svc_close(struct fres_svc *s);
/* sqs:sendMessage and events:putEvents, done at once: 0 and the result
 * in out, or -1 with f.  arns: the execution's and the state machine's
 * ARN (or NULL), added to each entry's Resources. */
int fres_sqs_send(struct fres_svc *s, const char *input, size_t n, struct buf *out,
    struct ferr *f);
int fres_events_put(struct fres_svc *s, const char *input, size_t n, const char *const arns[2],
    struct buf *out, struct ferr *f);
/* lambda:invoke: the FunctionName's function name (a new string), the
 * payload to call it with, and whether InvocationType is Event; or -1
 * with f. */
int fres_invoke_args(const char *input, size_t n, char **name, struct buf *payload,
    int *async, struct ferr *f);
/* An Event invocation's answer (StatusCode 202, an empty Payload). */
void fres_invoke_accepted(struct buf *out);
/* The Payload/StatusCode wrapper around a function's result. */
void fres_invoke_wrap(const char *res, size_t n, struct buf *out);
/* A function's error object (SPEC 5) as Step Functions names it. */
void fres_lambda_error(const char *res, size_t n, struct ferr *f);
/* "arn:aws:lambda:REGION:000000000000:function:NAME". */
void fres_lambda_arn(const char *name, char *out, size_t size);

#endif
