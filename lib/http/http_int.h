/* http internals shared by http.c (the multi handle and its slots) and
 * http_aux.c (trace headers, CloudEvents, the OAuth token). */
#ifndef EVKIT_HTTP_INT_H
#define EVKIT_HTTP_INT_H

#include <curl/curl.h>

#include "core/buf.h"
#include "http.h"

struct slot;

struct http {
	struct http_conf c;
	CURLM *multi;
	struct slot *slots;
	int nslots, inflight;
	struct buf *body;	/* per slot: a structured CloudEvent's body */
	double interval_us, next_us;	/* the token bucket */
	long connects;
	struct curl_waitfd *wfd;	/* http_wait's copy of the caller's fds */
	size_t nwfd;
	char *token;		/* oauth: the bearer token, or NULL */
	int64_t token_until;	/* monotonic ms it is good until */
};

void http_easy_common(const struct http *h, CURL *ez);
void http_reap(struct http *h);

/* The W3C traceparent for an X-Ray trace header: 1, or 0 when it has no
 * well-formed Root. */
int http_traceparent(const char *xray, char out[64]);
/* The ce-* headers of binary mode appended to l. */
struct curl_slist *http_ce_headers(struct curl_slist *l, const struct http_req *rq);
/* The structured mode's JSON envelope of rq into b, NUL-terminated. */
void http_ce_structured(struct buf *b, const struct http_req *rq);

/* A valid token in h->token (fetched when missing or expired): 0, or -1
 * with rq's outcome set to the fetch's failure. */
int http_oauth_token(struct http *h, struct http_req *rq);
void http_oauth_drop(struct http *h);

#endif
