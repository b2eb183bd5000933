/* fn_rtproto — the Lambda Runtime API's requests and state, without the
 * HTTP server (fn_rtapi.c serves them with libmicrohttpd): which call a
 * request is, what the environment's state makes of it, and the error
 * object a runtime posts.  Kept apart so a fuzz target drives it. */
#ifndef EVKIT_FN_RTPROTO_H
#define EVKIT_FN_RTPROTO_H

#include <stddef.h>

#include "core/buf.h"

/* The longest request id taken from a path (ours are UUIDs). */
enum { FN_RT_ID_MAX = 63 };

enum fn_rt_call {
	FN_RT_NEXT, FN_RT_RESPONSE, FN_RT_ERROR, FN_RT_INIT_ERROR,
	FN_RT_NOT_FOUND, FN_RT_BAD_METHOD,
};

/* Which call method and url (no query part: MHD takes it off) make; for
 * the response and error calls, id is the request id in the path. */
enum fn_rt_call fn_rt_route(const char *method, const char *url, char id[FN_RT_ID_MAX + 1]);

/* An environment's runtime: started and not yet asking (INIT), between
 * invocations (UP), or holding an event it has not answered (BUSY). */
enum fn_rt_phase { FN_RT_INIT, FN_RT_UP, FN_RT_BUSY };

enum fn_rt_act {
	FN_RT_DO_ANSWER,		/* just the status and error below */
	FN_RT_DO_WAIT,		/* hold the /next until an event comes */
	FN_RT_DO_DELIVER,		/* answer the /next with the event */
	FN_RT_DO_RESULT,		/* the body is the invocation's result */
	FN_RT_DO_FN_ERROR,		/* the body is its error */
	FN_RT_DO_INIT_ERROR,	/* the body is the environment's init error */
	FN_RT_DO_TOO_LARGE,	/* the result passed the limit: it fails */
};

struct fn_rt_decision {
	int status;
	enum fn_rt_act act;
	const char *type, *msg;	/* the error answered with a 4xx, else NULL */
};

/* What call does in phase: assigned says an invocation waits for the
 * runtime (BUSY: it has it, as cur_id); too_large, that the body passed
 * Lambda's 6 MB. */
void fn_rt_decide(enum fn_rt_phase phase, int assigned, const char *cur_id, enum fn_rt_call call,
    const char *id, int too_large, struct fn_rt_decision *d);

/* The error a runtime posted, as Lambda gives it back: the body's
 * errorMessage and errorType (else the header's type, else fallback),
 * and its stackTrace (or the Node client's trace), into b as
 * {"errorMessage","errorType"[,"stackTrace"]}.  A body that is not a
 * JSON object is the message. */
void fn_rt_error_obj(struct buf *b, const char *type_hdr, const char *fallback, const char *body,
    size_t n);

#endif
