/* http — delivery of payloads to one HTTP endpoint (SPEC 6a, evbus-route
 * http:// and https:// targets), as EventBridge API destinations do.
 *
 * One struct http per target: one curl multi handle driving up to
 * `concurrency` kept-alive connections, a token bucket holding the rate,
 * and the connection's auth.  http_send() makes one attempt at each of a
 * set of requests and sorts every outcome into a retry class:
 *   HTTP_OK     2xx;
 *   HTTP_RETRY  connection errors, timeouts, 429, 5xx (the caller backs
 *               off and sends again);
 *   HTTP_FINAL  any other status, 3xx included (redirects are never
 *               followed: the failure names the Location).
 * TLS is verified against the system CAs (CURL_CA_BUNDLE and
 * SSL_CERT_FILE honoured) unless the target says insecure; proxies come
 * from libcurl's usual environment variables.  Secrets are handed in
 * already read (rules_load reads them from the environment) and are
 * never put in an error message.  Errors follow lib/core/err.h. */
#ifndef EVKIT_HTTP_H
#define EVKIT_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum http_auth { HTTP_AUTH_NONE, HTTP_AUTH_BASIC, HTTP_AUTH_API_KEY, HTTP_AUTH_OAUTH };
enum http_ce { HTTP_CE_NONE, HTTP_CE_BINARY, HTTP_CE_STRUCTURED };

enum {
	HTTP_DEFAULT_CONCURRENCY = 8,
	HTTP_DEFAULT_RATE = 300,	/* InvocationRateLimitPerSecond */
	HTTP_DEFAULT_TIMEOUT_MS = 5000,
	HTTP_RATE_NONE = -1,	/* rate: no limit (fnrun --url paces itself) */
};

struct http_conf {
	const char *url;	/* http:// or https://, query parameters added */
	const char *method;	/* "POST" unless the target says */
	const char *const *headers;	/* "Name: value", NULL-terminated, or NULL */
	int concurrency;
	int rate;		/* requests a second */
	int64_t timeout_ms;
	int insecure;		/* skip TLS verification (an explicit opt-out) */
	enum http_ce cloudevents;
	enum http_auth auth;
	const char *user;	/* basic: username; api_key: the header's name;
				 * oauth: client_id */
	const char *secret;	/* password, key value or client secret */
	const char *token_url, *scope;	/* oauth */
};

/* One request of an attempt: the body (the shaped payload, JSON), the
 * event's trace id or NULL, and for cloudevents its attributes. */
struct http_req {
	const char *body;
	size_t n;
	const char *trace;	/* X-Amzn-Trace-Id form (Root=1-…-…;…), or NULL */
	const char *ce_id, *ce_source, *ce_type, *ce_time;	/* NULL if absent */
	/* A CloudEvent read as input: its other attributes (subject,
	 * extensions), names and values NUL-terminated in turn, nce pairs. */
	const char *ce_ext;
	size_t nce;
	/* The outcome, set by http_send. */
	enum { HTTP_OK, HTTP_RETRY, HTTP_FINAL } outcome;
	long status;		/* the HTTP status, 0 when none came */
	const char *code;	/* ERROR_CODE */
	char why[200];		/* ERROR_MESSAGE: status and a body excerpt */
	int reauth;		/* http's: sent again after a 401 under OAuth */
	/* Where the response body goes whole (a function's result), up to
	 * resp_max bytes, resp_total counting all of it; NULL: an excerpt
	 * in why only. */
	struct buf *resp;
	size_t resp_max, resp_total;
	int done;		/* http_start's: the outcome is set */
};

struct http;

/* 0 and *out, or EV_USAGE / EV_SOFTWARE with e. */
int http_open(const struct http_conf *c, struct http **out, struct ev_err *e);
/* One attempt at each of rq[0..n), at most concurrency at once and no
 * faster than the rate; returns when every one has its outcome. */
void http_send(struct http *h, struct http_req *rq, size_t n);
/* The same one request at a time, for a caller with its own poll loop
 * (fnrun --url): http_start begins rq when a connection is free (1; 0
 * when all are busy), with no rate and no OAuth; http_wait waits up to
 * wait_ms for h's transfers and for fds[0..n) (their revents set as
 * poll(2) sets them), moves the transfers on and sets done on each
 * request that ended.  It returns how many of fds are ready. */
int http_start(struct http *h, struct http_req *rq);
int http_wait(struct http *h, struct pollfd *fds, nfds_t n, int wait_ms);
/* Ends http_start's rq now, as a timeout (done, code "TIMEOUT"): its
 * caller's own deadline passed.  Nothing when rq is not running. */
void http_cancel(struct http *h, struct http_req *rq);
/* url with the query parameters kv[0..2n) (name, value, name, ...;
 * escaped here) appended: a new string; or NULL and *why when url is not
 * an http:// or https:// URL with a host (and a port after any ':'). */
char *http_url_join(const char *url, const char *const *kv, size_t n, const char **why);
/* NULL when url is such a URL, else why not. */
const char *http_url_check(const char *url);
/* Connections made so far (for tests and --explain's peers). */
long http_connections(const struct http *h);
void http_close(struct http *h);

#endif
