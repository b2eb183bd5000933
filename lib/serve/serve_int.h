/* serve_int — the server's state, shared by serve.c (the loop) and
 * serve_call.c (a request's life). */
#ifndef EVKIT_SERVE_INT_H
#define EVKIT_SERVE_INT_H

#include <stdint.h>
#include <stdio.h>

#include <microhttpd.h>

#include "core/buf.h"
#include "serve.h"
#include "svc.h"

enum cstate { C_READING, C_TOOBIG, C_CALLING, C_WAITING, C_DONE, C_ANSWERED };

struct serve_call {
	struct serve *s;
	struct MHD_Connection *conn;
	enum cstate state;
	int calls;			/* of the access handler */
	int svc;			/* index of the service, -1 none */
	char *uri;			/* as sent */
	char id[37];
	int64_t t_ms, t_us;
	struct buf body;
	struct buf rhdrs;		/* response headers: "name\0value\0"... */
	size_t nrhdrs;
	int status;
	const char *ctype;
	struct buf out;
	char note[160];
	char op[64];
	char base[300];		/* serve_req's base_url */
	void (*gone)(void *ctx, struct serve_call *c);
	void *gone_ctx;
	struct serve_call *prev, *next;	/* among the waiting */
};

struct serve_watch {
	int fd;
	void (*fn)(void *ctx, int fd, unsigned revents);
	void *ctx;
	struct serve_watch *next;
};

struct serve {
	const struct serve_opts *o;
	struct MHD_Daemon *d;
	void **state;			/* per service */
	int64_t *deadline;		/* per service, -1 none */
	unsigned char *kicked;		/* per service */
	int any_kicked;
	struct serve_call *waiting;	/* suspended, unanswered */
	long active;			/* requests begun, not completed */
	int stopping;
	int wake, ep, woken;
	struct serve_watch *watches, *dead;
	char url[300];
	struct buf logged;		/* access log lines of a turn */
	struct buf reported;		/* --report lines of a turn */
	const char *akid, *secret;	/* --check-signatures */
};

/* serve_call.c: libmicrohttpd's callbacks. */
void *serve_on_begin(void *cls, const char *uri, struct MHD_Connection *c);
void serve_on_completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode why);
enum MHD_Result serve_on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *n, void **ctx);

/* serve.c: answers what waits, as at a stop (serve_local_call's end). */
void serve_local_stop(struct serve *s);
/* serve.c: a call's answer is ready; resumes it when it waits. */
void serve_ready_call(struct serve_call *c);
void serve_log_call(struct serve_call *c, const char *method);
/* serve_sig.c: 0 when the request's SigV4 signature verifies with these
 * keys; 1 no signature, 2 another access key, 3 a wrong signature. */
int serve_sig_check(struct serve_call *c, const char *method, const char *akid,
    const char *secret);

#endif
