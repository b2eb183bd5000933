/* nats — NATS JetStream through Debian's libnats (cnats 3.4), for the
 * queue and log modules; uses core only.
 *
 * A resource is named `nats://[USER:PASS@]HOST:PORT[,HOST:PORT…]/NAME
 * [?replicas=N]`.  nats_connect() opens one connection to that server list
 * (with reconnects to any server of it, and to the servers a cluster
 * announces) and its JetStream context.  Credentials: the URI's, else
 * NATS_USER / NATS_PASSWORD, else NATS_TOKEN, else a creds file in
 * NATS_CREDS; none of them ever reaches a message.
 *
 * Every call keeps the error contract (core/err.h): 0, or a SPEC status
 * with *e filled: 2 a bad URI (saying why), 69 no server reachable (at
 * once: a down server is not retried at connect), 77 authentication or
 * permission refused, 75 a timeout (the server or cluster is busy or
 * between leaders), 66 no such stream, 65 a message the server refuses.
 *
 * Publishing with confirmation (nats_pub_*): messages go out
 * asynchronously, at most NATS_PUB_PENDING unconfirmed at a time; each one
 * is reported (nats_pub_fn) only once the stream acknowledged it, and one
 * whose acknowledgement failed or never came (a server died, the client
 * reconnected) is published again, the same Nats-Msg-Id making the
 * server drop it if it had it after all.  A message is never reported
 * stored when it was not. */
#ifndef EVKIT_NATS_H
#define EVKIT_NATS_H

#include <stddef.h>
#include <stdint.h>
/* cnats's header: the Makefile's -iquote lib keeps this file from
 * answering for it. */
#include <nats/nats.h>

struct ev_err;

struct nats_uri {
	char **servers;			/* "nats://HOST:PORT" each, no credentials */
	int nservers;
	char *user, *pass;		/* from the URI (percent-decoded) or NULL */
	char *name;			/* NAME ("" when the URI has none) */
	int replicas;			/* ?replicas=N, 0 when not given */
	char *shown;			/* the URI without its password, for messages */
};

/* 1 when s names a NATS resource (nats://). */
int nats_is_uri(const char *s);
/* Parses s into *u (free with nats_uri_free); a bad URI: 2, saying why.
 * With need_name the NAME must be there. */
int nats_uri_parse(const char *s, int need_name, struct nats_uri *u, struct ev_err *e);
void nats_uri_free(struct nats_uri *u);

struct nats_conn;
/* Connects to u's servers and opens the JetStream context. */
int nats_connect(const struct nats_uri *u, struct nats_conn **cp, struct ev_err *e);
/* Waits for what is unconfirmed (nats_pub_flush) only if asked; closes. */
void nats_close(struct nats_conn *c);
natsConnection *nats_nc(struct nats_conn *c);
jsCtx *nats_js(struct nats_conn *c);
/* "nats://HOST:PORT,…" as the user gave it, without the password. */
const char *nats_shown(const struct nats_conn *c);

/* Fills *e for a failed cnats call (status s, JetStream error jerr or 0):
 * the SPEC status for it, the reason "WHAT: the server's text"; returns
 * the status.  A stream-not-found is 66. */
int nats_fail(struct ev_err *e, natsStatus s, jsErrCode jerr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Publishing with confirmation. */
enum { NATS_PUB_PENDING = 512 };
struct nats_ack {
	void *tag;			/* as given to nats_pub_add */
	uint64_t seq;			/* the stream sequence */
	int duplicate;			/* the stream had this Nats-Msg-Id already */
};
typedef void (*nats_pub_fn)(void *ctx, const struct nats_ack *a);
/* Queues m (its Nats-Msg-Id header set: the retry depends on it; the call
 * takes m) under tag.  When NATS_PUB_PENDING are unconfirmed it first
 * confirms them (nats_pub_flush). */
int nats_pub_add(struct nats_conn *c, natsMsg *m, void *tag, nats_pub_fn fn, void *ctx,
    struct ev_err *e);
/* Waits until every queued message is confirmed, publishing again what
 * failed (a few times, then the error), and calls fn for each in the
 * order they were added.  On failure the ones not confirmed are dropped
 * unreported. */
int nats_pub_flush(struct nats_conn *c, nats_pub_fn fn, void *ctx, struct ev_err *e);
/* How many messages wait for confirmation. */
size_t nats_pub_pending(const struct nats_conn *c);
/* Drops what waits, unreported (a rollback: the server may still store
 * some of it). */
void nats_pub_drop(struct nats_conn *c);

/* One synchronous publish with options (a FIFO send, an append with an
 * expected sequence), retried on a timeout under the same Nats-Msg-Id;
 * the call takes m. */
int nats_pub_sync(struct nats_conn *c, natsMsg *m, jsPubOptions *po, struct nats_ack *a,
    struct ev_err *e);

#endif
