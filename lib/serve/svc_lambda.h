/* svc_lambda — evkit-serve's Lambda service, shared by its files:
 * functions and invocations (svc_lambda.c), SQS event source mappings
 * (svc_lambda_esm.c). */
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
	struct linv *next;
};

struct lfn {
	char *name;
	const char *uri;
	char **argv;
	struct fn_runner *r;
	struct linv *head, *tail;	/* waiting for room in r */
	int inflight;
};

struct lam {
	struct serve *srv;
	struct lfn *fns;
	int nfns;
	const char *region;
	int finished;
	struct lesm *esms;
};

/* svc_lambda.c */
struct lfn *lam_find_fn(struct lam *l, const char *name, size_t k);
/* A REST-JSON error: status, x-amzn-ErrorType and {"__type","message"}. */
void lam_error(struct serve_call *c, int status, const char *type, const char *msg);
/* Whether f's runner can take one more invocation now. */
int lam_room(struct lfn *f);
/* Submits v (its event taken) to f's runner, which has room. */
void lam_submit(struct lfn *f, struct linv *v, const char *event, size_t n);

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
