/* svc_lambda — evkit-serve's Lambda service, shared by its files:
 * functions and invocations (svc_lambda.c), SQS event source mappings
 * (svc_lambda_esm.c), asynchronous invocations' retries and destinations
 * (svc_lambda_async.c). */
#ifndef EVKIT_SVC_LAMBDA_H
#define EVKIT_SVC_LAMBDA_H

#include <stddef.h>
#include <stdint.h>

#include "svc.h"

struct lesm;
struct lesm_batch;

/* One invocation: of a call (c), an Event, or a mapping's batch. */
struct linv {
	struct lfn *f;
	struct serve_call *c;	/* RequestResponse, until answered or gone */
	int async;
	struct lesm_batch *batch;	/* a mapping's, or NULL */
	char *event;		/* while queued here */
	size_t n;
	/* An Event's: its payload (kept for retries and the destination
	 * record), tries so far, when it came (monotonic) and when its retry
	 * is due, its request id. */
	char *payload;
	size_t pn;
	int tries;
	int64_t born_ms, due_ms;
	char rid[37];
	struct linv *next;
};

/* A function's event invoke config (PutFunctionEventInvokeConfig). */
struct lcfg {
	int retries, max_age;		/* MaximumRetryAttempts, MaximumEventAgeInSeconds */
	char *on_success, *on_failure;	/* destination ARNs, or NULL */
	int64_t modified_ms;
};

struct lfn {
	char *name;
	const char *uri;
	char **argv;
	struct fn_runner *r;
	struct linv *head, *tail;	/* waiting for room in r */
	int inflight;
	struct lcfg *cfg;		/* or NULL: Lambda's defaults */
};

struct lam {
	struct serve *srv;
	struct lfn *fns;
	int nfns;
	const char *region;
	int finished;
	struct lesm *esms;
	struct linv *retries;		/* Events waiting for their retry */
	int64_t delay_ms;		/* before the first retry (the second: twice) */
};

/* svc_lambda.c */
struct lfn *lam_find_fn(struct lam *l, const char *name, size_t k);
/* A REST-JSON error: status, x-amzn-ErrorType and {"__type","message"}. */
void lam_error(struct serve_call *c, int status, const char *type, const char *msg);
/* Whether f's runner can take one more invocation now. */
int lam_room(struct lfn *f);
/* Submits v (its event taken) to f's runner, which has room. */
void lam_submit(struct lfn *f, struct linv *v, const char *event, size_t n);

/* Queues v (its event set) for f's runner. */
void lam_enqueue(struct lam *l, struct lfn *f, struct linv *v);

/* svc_lambda_async.c: /2019-09-25/functions/NAME/event-invoke-config[/list]. */
void lam_async_call(struct lam *l, struct serve_call *c, const struct serve_req *rq,
    struct lfn *f, const char *rest);
/* An Event's end: a retry scheduled (v kept) or its destination told
 * (v freed). */
void lam_async_done(struct lam *l, struct linv *v, int failed, const char *res, size_t n);
/* Queues the retries that are due; the next due time, or -1. */
int64_t lam_async_tick(struct lam *l, int64_t now_ms);
void lam_async_free(struct lam *l);
void lam_inv_free(struct linv *v);

/* svc_lambda_esm.c: /2015-03-31/event-source-mappings[/UUID]. */
void lam_esm_call(struct lam *l, struct serve_call *c, const struct serve_req *rq,
    const char *rest);
/* Receives and invokes what the enabled mappings may; the next time to
 * look, or -1. */
int64_t lam_esm_tick(struct lam *l, int64_t now_ms);
/* A batch's end (res NULL: a stop dropped it unrun). */
void lam_esm_done(struct lam *l, struct lesm_batch *b, int failed, const char *res, size_t n);
void lam_esm_free(struct lam *l);

#endif
