/* aws_int.h — the aws module's insides: configuration, transport, retry,
 * error and response parsing, shared by its files and its tests. */
#ifndef EVKIT_AWS_INT_H
#define EVKIT_AWS_INT_H

#include <pthread.h>
#include <stdint.h>

#include "aws.h"

struct curl_slist;

struct aws_conf {
	enum aws_svc svc;
	char *region, *endpoint;
	/* The secrets, in one mapping of their own: never dumped, wiped. */
	char *sec;
	size_t seccap, secused;
	const char *akid, *secret, *token;	/* into sec; token may be NULL */
	int64_t expires_ms;			/* credential_process Expiration, 0: none */
	/* Credentials from a credential_process that expire are fetched
	 * again before they do, under lock; gen counts the fetches so that
	 * each thread's client takes the new ones.  Old mappings are kept
	 * (wiped at free): another thread may still be reading them. */
	char *process, *profile;
	pthread_mutex_t lock;
	unsigned gen;
	char **retired;
	size_t nretired, capretired;
};

/* ---- aws_conf.c ---- */
/* The value of key in [section] of the INI file at path into *out:
 * 1 found, 0 not in the section, -2 no such section, -1 no such file.  Indented lines (nested
 * settings) belong to the key above them and are skipped. */
int aws_ini_get(const char *path, const char *section, const char *key, struct buf *out);
/* Fetches credential_process credentials again when they expire within
 * 5 minutes (a no-op for others): 0, or 77 with e set. */
int aws_conf_refresh(struct aws_conf *c, struct ev_err *e);
/* Parses credential_process output (Version 1) into the conf's secrets. */
int aws_conf_process_json(struct aws_conf *c, const char *p, size_t n, struct ev_err *e);

/* ---- aws_retry.c: AWS's standard retry mode ---- */
enum { AWS_R_NO, AWS_R_THROTTLE, AWS_R_TRANSIENT, AWS_R_TIMEOUT };
struct aws_retry {
	int max_attempts;		/* 3, or AWS_MAX_ATTEMPTS */
	int64_t base_ms;		/* 100 (EVKIT_AWS_BACKOFF_MS for tests) */
	int64_t throttle_base_ms;	/* 500 */
	int64_t cap_ms;			/* 20 s */
	int tokens;			/* the retry quota: 500 */
	uint64_t (*rnd)(void);		/* rand64, or a test's */
};
void aws_retry_init(struct aws_retry *r);
/* The wait before retry number retry (1-based) of a failure of kind:
 * a random time in [0, min(base * 2^(retry-1), cap)]. */
int64_t aws_retry_delay(const struct aws_retry *r, int kind, int retry);
/* Takes the quota a retry of kind costs (5, 10 for a timeout or no
 * connection): its cost, or 0 when the quota is spent (no retry). */
int aws_retry_take(struct aws_retry *r, int kind);
/* After a success: the cost of the retry that led to it comes back, or 1
 * when there was none (up to 500). */
void aws_retry_ok(struct aws_retry *r, int cost);

/* ---- aws_err.c ---- */
struct aws_error {
	long http;			/* HTTP status, 0: no response */
	char code[128];			/* __type without its "prefix#" */
	char query[128];		/* x-amzn-query-error's code, or "" */
	char msg[512];
	int sender;			/* x-amzn-query-error says Sender */
};
/* Fills *ae from an error response (body p[0..n), the query-error header
 * value or NULL). */
void aws_err_parse(long http, const char *query_hdr, const char *p, size_t n,
    struct aws_error *ae);
/* Which retry a code (or an HTTP status) calls for. */
int aws_err_kind(const struct aws_error *ae);
int aws_code_kind(const char *code);
/* Copies s[0..n) into dst of size cap, cut at a UTF-8 boundary. */
void aws_copy(char *dst, size_t cap, const char *s, size_t n);
/* The SPEC status of a final error, and e set to "op: CODE: message". */
int aws_err_status(const struct aws_error *ae);
int aws_err_set(struct ev_err *e, const char *op, const struct aws_error *ae);

/* ---- aws_json.c: reading responses over core/json_walk ---- */
/* The string member key of the object at p[obj] unescaped into *out:
 * 1, 0 when absent or null, -1 when not a string. */
int aws_json_str(const char *p, size_t n, size_t obj, const char *key, struct buf *out);
/* The member's value span [*v, *vend): 1, or 0 when absent. */
int aws_json_get(const char *p, size_t n, size_t obj, const char *key, size_t *v, size_t *vend);
/* Steps through the array at p[*at] (start at its '['): the next
 * element's span and 1, or 0 at its end or where it is not an array. */
int aws_json_elem(const char *p, size_t n, size_t *at, size_t *v, size_t *vend);
/* A boolean member: 1 true, 0 false or absent. */
int aws_json_true(const char *p, size_t n, size_t obj, const char *key);

/* ---- aws_http.c ---- */
/* One attempt: a 2xx body into *out (0), or *ae filled (a response's
 * error, or http 0 with code "ConnectionError" / "Timeout"). */
int aws_http_post(struct aws_client *c, const char *op, const char *body, size_t n,
    int wait_s, struct buf *out, struct aws_error *ae);
struct aws_retry *aws_client_retry(struct aws_client *c);
/* Sleeps ms, or less when a stop is asked (core/sig): then -1. */
int aws_nap(int64_t ms);

/* ---- aws_attrs.c ---- */
/* The bytes message attributes count toward the 1 MiB limit. */
int aws_sqs_attrs_size(const char *json, size_t n, size_t *size, struct ev_err *e);

/* ---- aws_batch.c ---- */
enum { AWS_WHY = 512 };		/* the why[] of aws_sqs_out and aws_sqs_ack */
/* A batch operation, described once (a static table per operation):
 * each element of the caller's array has an int status (-1 pending on
 * entry) and a char why[AWS_WHY] at those offsets; size gives its
 * payload bytes (NULL: none); entry appends its members after "Id"
 * (with a leading comma), or as the object's first members when
 * positional (PutEvents: no Id, answers in order); done reads a
 * successful entry: 0, or a status with why filled.  arr and n are
 * the batch at hand (aws_batch_run fills them in a copy). */
struct aws_batch {
	const char *op;
	int positional;
	void *arr;
	size_t n, stride, status_off, why_off;
	size_t (*size)(void *arr, size_t i);
	void (*entry)(struct buf *b, void *arr, size_t i);
	int (*done)(void *arr, size_t i, const char *p, size_t n, size_t obj);
};
/* Runs op over arr[0..n).  url NULL: no QueueUrl in the request. */
int aws_batch_run(struct aws_client *c, const char *url, const struct aws_batch *op,
    void *arr, size_t n, struct ev_err *e);
/* Reads one response to the request of entries idx[0..k) (pending):
 * each gets its fate; kind[] (b->n of them) says how a retryable one
 * failed (status -2). */
void aws_batch_read(const struct aws_batch *b, const char *p, size_t n, const size_t *idx,
    size_t k, int *kind);
/* Reads p[0..n) as the answer to a request of arr[0..k) (k <= 10, all
 * pending), for the fuzz target: 0, or the first entry's failure (75
 * for one the answer leaves pending or retryable), e saying
 * "OP: entry N: why". */
int aws_batch_parse(const struct aws_batch *op, void *arr, size_t k, const char *p, size_t n,
    struct ev_err *e);

/* ---- aws_sqs.c ---- */
/* The strings joined, up to a NULL (aws_json.c). */
char *aws_cat(const char *s, ...) __attribute__((sentinel));
struct aws_client *aws_sqs_client(struct aws_sqs *q);
const char *aws_sqs_name(struct aws_sqs *q);
/* The handle's request buffer, emptied, for the next aws_sqs_call. */
struct buf *aws_sqs_req(struct aws_sqs *q);
int aws_sqs_call(struct aws_sqs *q, const char *op, int wait_s, struct ev_err *e);
const struct buf *aws_sqs_resp(struct aws_sqs *q);
void aws_sqs_set_url(struct aws_sqs *q, char *url);
/* Response parsing, apart for the fuzz target. */
/* A SendMessageBatch answer for o[0..k) (Ids "0".."k-1"), read as
 * aws_sqs_send reads it: 0, or the first failed entry's status. */
int aws_sqs_parse_send(const char *p, size_t n, struct aws_sqs_out *o, size_t k,
    struct ev_err *e);
/* A PutEvents answer for en[0..k), read as aws_events_put reads it. */
int aws_events_parse_put(const char *p, size_t n, struct aws_events_entry *en, size_t k,
    struct ev_err *e);
int aws_sqs_parse_recv(const char *p, size_t n, struct aws_sqs_msg **m, size_t *count,
    struct ev_err *e);

#endif
