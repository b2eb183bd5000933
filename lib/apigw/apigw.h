/* apigw — a local API Gateway HTTP API (fnrun --listen; SPEC 6a).
 *
 * Each HTTP request becomes a Lambda proxy event in payload format 2.0
 * and is invoked through fn's runner, whatever the handler kind: the
 * runner's on_done callback, with the request as its tag, is the one
 * seam between the two.  The function's result is mapped back to the
 * HTTP response as API Gateway does for 2.0.  The server is libmicrohttpd
 * without a thread of its own, driven from the runner's loop in the
 * caller's thread. */
#ifndef EVKIT_APIGW_H
#define EVKIT_APIGW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "fn/fn.h"

/* API Gateway's request payload limit (and Lambda's). */
enum { APIGW_MAX_BODY = 6 * 1024 * 1024 };

/* One request, as the server read it: the strings NUL-terminated. */
struct apigw_req {
	const char *method, *protocol;	/* "GET", "HTTP/1.1" */
	const char *path;		/* as sent, before '?' */
	const char *query;		/* as sent, after '?'; "" for none */
	const char *const *headers;	/* name, value, name, value ... */
	size_t nheaders;
	const char *source_ip;
	const char *request_id;
	int64_t time_ms;		/* when it came, epoch ms */
	const char *body;		/* NULL: none */
	size_t body_n;
};

/* Appends the payload format 2.0 event of rq to out (compact JSON). */
void apigw_event(const struct apigw_req *rq, struct buf *out);

/* An HTTP response: headers as "name\0value\0" pairs. */
struct apigw_resp {
	int status;
	struct buf headers;
	size_t nheaders;
	struct buf body;
};

/* Maps a function's result (compact JSON, as the runner gives it) to the
 * response as API Gateway does for 2.0: an object with statusCode gives
 * its status, headers, multiValueHeaders, cookies (Set-Cookie) and body
 * (base64 decoded when isBase64Encoded); any other JSON is a 200
 * application/json response of that JSON, a string's characters as is.
 * Returns 0, or -1 when the result is malformed (the caller answers
 * 502).  r is reset first; free it with apigw_resp_free. */
int apigw_response(const char *res, size_t n, struct apigw_resp *r);
/* Sets r to the error response API Gateway gives: {"message":msg}. */
void apigw_resp_error(struct apigw_resp *r, int status, const char *msg);
void apigw_resp_free(struct apigw_resp *r);

struct apigw_opts {
	const char *listen;	/* [ADDR:]PORT */
	FILE *access_log;	/* one JSON line per request */
	/* Called once listening, with the URL (the port chosen for 0). */
	void (*on_listen)(void *ctx, const char *url);
	void *ctx;
};

/* Checks [ADDR:]PORT: NULL, or why it is refused (a usage error). */
const char *apigw_addr_check(const char *spec);
/* Binds and listens on spec ([ADDR:]PORT, ADDR 127.0.0.1 when left out):
 * 0 with the socket in *fd and "http://IP:PORT" in url (the port chosen
 * for 0), or 2 (a bad address) or 69 (cannot listen) with e.  Shared by
 * every libmicrohttpd server of evkit (fnrun --listen, evkit-serve). */
int apigw_listen(const char *spec, int *fd, char *url, size_t urln, struct ev_err *e);
/* The client's address of a libmicrohttpd connection, "-" if unknown. */
struct MHD_Connection;
void apigw_source_ip(struct MHD_Connection *c, char *ip, size_t n);

/* Serves HTTP on o->listen, invoking the runner made from fo (its
 * on_done and output are taken over) for each request, until a stop
 * request (sig_stop): then it stops accepting, lets the invocations
 * running finish and answers them, answers those not started 503, and
 * returns.  Returns 0; 2 (a bad address), 69 (cannot listen: the
 * address is in use, or not ours) with e; or fn_open's or
 * fn_finish's error status.  A handler's failure is a 502 answer, not a
 * failure of the run. */
int apigw_serve(const struct apigw_opts *o, struct fn_opts *fo, struct ev_err *e);

#endif
