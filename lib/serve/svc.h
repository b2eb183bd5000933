/* svc — how a service plugs into evkit-serve's server (serve.h).
 *
 * A service is matched by the request's X-Amz-Target prefix
 * ("AmazonSQS.", "AWSEvents.", "AWSStepFunctions.") or by a REST path
 * prefix ("/2015-03-31/functions/" for Lambda).  Its call() gets each
 * whole request and answers it now (serve_reply / serve_json /
 * serve_error before returning) or later: a call that returns without
 * answering leaves its connection suspended, and any later moment of the
 * same loop (the service's tick, a watched descriptor's callback, another
 * call) answers it through the same functions; the server then resumes
 * it.  Nothing here is thread-safe: everything runs in the loop's thread.
 *
 * Deferred work needs no thread: a service's tick() runs every loop
 * turn it asked for (its returned deadline) and whenever serve_kick()
 * asked; serve_watch() adds a descriptor to the loop's poll. */
#ifndef EVKIT_SERVE_SVC_H
#define EVKIT_SERVE_SVC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct serve;		/* the server */
struct serve_call;	/* one request, until answered */

/* A request as the server read it (the struct lives for call() only;
 * its strings, NUL-terminated, until the call is answered). */
struct serve_req {
	const char *method;		/* "POST" */
	const char *path;		/* decoded, without the query */
	const char *query;		/* as sent, after '?'; "" for none */
	const char *target;		/* X-Amz-Target, or "" */
	const char *op;			/* target past the service's prefix, or the
					 * path past its path prefix */
	const char *content_type;	/* or "" */
	const char *body;		/* "" when none; NUL after body_n */
	size_t body_n;
	const char *base_url;		/* "http://HOST:PORT" the client reached
					 * (its Host header, else the listen URL) */
	const char *request_id;		/* the x-amzn-RequestId answered */
};

struct serve_svc {
	const char *name;		/* "sqs": the access log's service */
	const char *target_prefix;	/* "AmazonSQS.", or NULL */
	const char *path_prefix;	/* "/2015-03-31/functions/", or NULL */
	const char *json_type;		/* "application/x-amz-json-1.0" */
	/* Once, before listening: the service's state into *state.  0 or a
	 * SPEC status with e (the command prints it and exits). */
	int (*init)(struct serve *s, void **state, struct ev_err *e);
	/* One request: answer now or later (see above). */
	void (*call)(void *state, struct serve_call *c, const struct serve_req *rq);
	/* Deferred work: called each loop turn after a serve_kick() and once
	 * the last deadline it returned (monotonic ms) has come; returns the
	 * next one, or -1 for none.  NULL: no timer. */
	int64_t (*tick)(void *state, int64_t now_ms);
	/* A stop: answer everything still waiting (the server answers 503
	 * whatever is left after it).  NULL: nothing waits. */
	void (*stop)(void *state);
	void (*fini)(void *state);
};

/* ---- answering (a call is answered once; it is freed after) ---- */

/* An answer: status, Content-Type (NULL: the service's json_type) and body. */
void serve_reply(struct serve_call *c, int status, const char *ctype, const char *body,
    size_t n);
/* A 200 answer of the JSON in b (the service's json_type). */
void serve_json(struct serve_call *c, const struct buf *b);
/* Adds a response header to the answer to come (before serve_reply). */
void serve_header(struct serve_call *c, const char *name, const char *value);
/* AWS's JSON error: status, {"__type":type,"message":msg} and, when
 * query_code is not NULL, "x-amzn-query-error: QUERY_CODE;Sender" (or
 * ";Receiver" for a 5xx), which the SDKs of the query protocol's
 * services (SQS) read the code from. */
void serve_error(struct serve_call *c, int status, const char *type, const char *query_code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A request header of a call (any case), or NULL. */
const char *serve_req_header(struct serve_call *c, const char *name);
/* 1 once the call is answered. */
int serve_answered(const struct serve_call *c);
/* A service's note for the access log line ("QueueName=x"), kept short. */
void serve_log_note(struct serve_call *c, const char *note);
/* fn is called (once) if the call ends unanswered (the server stops
 * before the service's stop hook answered it): the service drops its
 * reference; the call is freed when fn returns. */
void serve_on_gone(struct serve_call *c, void (*fn)(void *ctx, struct serve_call *c),
    void *ctx);

/* ---- the loop ---- */

/* Runs the service's tick at the next loop turn. */
void serve_kick(struct serve *s, const struct serve_svc *svc);
/* Polls fd (epoll events ev) in the loop: fn(ctx, fd, revents) when ready;
 * 0, or 70 with e.  serve_unwatch before closing it. */
int serve_watch(struct serve *s, int fd, unsigned ev,
    void (*fn)(void *ctx, int fd, unsigned revents), void *ctx, struct ev_err *e);
void serve_unwatch(struct serve *s, int fd);
/* The URL the server listens on ("http://127.0.0.1:4566"). */
const char *serve_url(const struct serve *s);
/* 1 once a stop was asked. */
int serve_stopping(const struct serve *s);

#endif
