/* serve — evkit-serve's HTTP server: AWS's wire protocols over the local
 * engines (SQS over lib/queue, and whatever else plugs in through
 * svc.h).  libmicrohttpd without a thread of its own: one loop in the
 * caller's thread polls the connections, the services' descriptors and
 * their timers, so a request that waits (a long poll, an invocation) is a
 * suspended connection, never a thread. */
#ifndef EVKIT_SERVE_H
#define EVKIT_SERVE_H

#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

struct serve_svc;

/* The largest request body taken (a bigger one is answered 413 with
 * AWS's error shape, its body read and dropped). */
enum { SERVE_MAX_BODY = 6 * 1024 * 1024 + 65536 };

#define SERVE_DEFAULT_LISTEN "127.0.0.1:4566"

struct serve_opts {
	const char *listen;		/* [ADDR:]PORT; NULL: SERVE_DEFAULT_LISTEN */
	FILE *access_log;		/* one JSON line per request, or NULL */
	FILE *report;			/* --report: one timing line per request, or NULL */
	int check_signatures;		/* verify SigV4 against the environment's keys */
	/* The services, tried in order for each request. */
	const struct serve_svc *const *svcs;
	size_t nsvcs;
	/* Called once listening, with the URL (the port chosen for 0). */
	void (*on_listen)(void *ctx, const char *url);
	void *ctx;
};

/* Serves until a stop request (core/sig's sig_stop): then it stops
 * accepting, answers what waits (each service's stop hook first), and
 * returns.  0; 2 (a bad address, a service's bad setting) or 69 (cannot
 * listen) with e; a service's init status with e. */
int serve_run(const struct serve_opts *o, struct ev_err *e);

/* Requests without HTTP, for the fuzz target and tests: a server whose
 * services are initialised but which listens nowhere; serve_local_call
 * runs one request (X-Amz-Target target, body) to its answer (a call
 * that would wait is answered as at a stop) and returns its status, the
 * body in *out (reset first). */
struct serve;
int serve_local_new(const struct serve_opts *o, struct serve **sp, struct ev_err *e);
int serve_local_call(struct serve *s, const char *target, const char *body, size_t n,
    struct buf *out);
void serve_local_free(struct serve *s);

/* The services evkit-serve mounts (each in its own file). */
extern const struct serve_svc serve_sqs;
extern const struct serve_svc serve_events;	/* svc_events*.c */

/* --rules FILE: the default event bus's rules file (NULL: under
 * $EVKIT_HOME, as every bus's); log: where deliveries that failed are
 * told (a JSON line each), or NULL. */
void serve_events_setup(const char *rules, FILE *log);
extern const struct serve_svc serve_lambda;	/* svc_lambda.c */
/* --function NAME=URI ...: the functions Lambda's service binds (kept,
 * not copied). */
void serve_lambda_setup(char **functions, int n);
extern const struct serve_svc serve_sfn;	/* svc_sfn.c */
/* Step Functions: the same --function bindings, --machine NAME=FILE ...
 * (kept, not copied) and --rules FILE (NULL: the default bus's). */
void serve_sfn_setup(char **functions, int nfunctions, char **machines, int nmachines,
    const char *rules);

#endif
