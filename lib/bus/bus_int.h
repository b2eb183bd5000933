/* bus internals shared by bus.c (FIFOs, threads, retries), bus_send.c
 * (one attempt at each kind of target) and bus_dlq.c (dead letters). */
#ifndef EVKIT_BUS_INT_H
#define EVKIT_BUS_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/proc.h"
#include "bus.h"

/* A target's FIFO holds BUS_FIFO batches of up to BUS_BATCH deliveries or
 * BUS_BATCH_BYTES (or whatever was read when the input went idle).  Small
 * enough to stay below malloc's mmap threshold, so that batches reuse
 * memory instead of faulting fresh pages in. */
enum { BUS_FIFO = 8, BUS_BATCH = 256, BUS_BATCH_BYTES = 64 << 10 };

/* The bytes of an exec: child's stderr kept for its failure report. */
enum { BUS_TAIL = 4096 };

/* One delivery.  payload and event point into its batch's data. */
struct bus_item {
	int kind;		/* SHAPE_JSON, SHAPE_TEXT or BUS_FAILED */
	char *payload, *event;
	size_t n, en;
	size_t poff, eoff;	/* offsets in data while the batch fills */
	size_t sent;		/* file: bytes of the line already written */
	int64_t read_ms, read_mono;
	int retries;		/* attempts made after the first */
	int errnum;		/* IO_ERROR: the errno, or 0 */
	uint64_t tag;		/* the caller's, handed back by the settled hook */
	char *tail;		/* exec: the failed child's stderr tail (malloc'd) */
	size_t tailn;
	/* The outcome of the last attempt. */
	enum { ITEM_PENDING, ITEM_DONE, ITEM_RETRY, ITEM_FINAL } state;
	const char *code;	/* ERROR_CODE */
	char why[200];		/* ERROR_MESSAGE */
};

/* Deliveries handed from the reader to a target's thread at once: one
 * lock and one wake-up per batch, not per event. */
struct bus_batch {
	struct bus_item *items;
	size_t n, cap;
	struct buf data;	/* every payload, each followed by '\n', and
				 * the events that differ from their payload */
};

/* A target at run time. */
struct tgt_run {
	const struct target *t;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	struct bus_batch *ring[BUS_FIFO];
	size_t head, queued;	/* batches in the ring */
	int closed;
	int busy;		/* a batch is out of the ring, being delivered */
	pthread_cond_t idle;	/* the ring is empty and nothing is busy */
	struct bus_batch *filling;	/* the reader's, not yet handed over */
	struct bus_batch *spare[BUS_FIFO];	/* delivered, kept for reuse */
	size_t nspare;
	/* The target's resources, opened before any event. */
	int fd;			/* file: */
	struct queue *q;	/* queue: */
	struct elog *log;	/* log: */
	struct elog_batch *lb;
	struct aws_events *ev;	/* events: */
	struct http *http;	/* http: */
	struct dlq *dl;		/* the dead letter, or NULL */
	struct proc_env env;	/* exec: the command's environment */
	const struct bus_hooks *hooks;
	int64_t backoff_base;	/* ms */
	/* What went wrong, for bus_close (this thread's only until then). */
	struct bus_count count;
	struct ev_err err;	/* the first failure of the target itself */
};

/* bus.c: queues one delivery for t: the payload p[0..n) of kind, the
 * event as read ev[0..en) (for dead letters), when it was read (wall
 * ms) and the caller's tag. */
void bus_push(struct bus *b, const struct target *t, int kind, const char *p, size_t n,
    const char *ev, size_t en, int64_t read_ms, uint64_t tag);

/* bus.c: opens the event log arg (a name or a path), creating it, and a
 * batch for it: 0, or the status with e. */
struct elog;
struct elog_batch;
int bus_open_log(const char *arg, struct elog **out, struct elog_batch **batch,
    struct ev_err *e);

/* bus_events.c: one attempt at an events: target's items (PutEvents). */
void bus_send_events(struct tgt_run *r, struct bus_item **items, size_t n);

/* bus_http.c: one attempt at an http target's items. */
void bus_send_http(struct tgt_run *r, struct bus_item **items, size_t n);

/* bus_send.c: one attempt at items[0..n) (their state ITEM_PENDING),
 * leaving each ITEM_DONE, ITEM_RETRY or ITEM_FINAL with code and why. */
void bus_send_batch(struct tgt_run *r, struct bus_item **items, size_t n);
/* exec: targets, with their own scheduling of children and retries. */
void bus_exec(struct tgt_run *r, struct bus_item **items, size_t n);
void bus_item_fail(struct bus_item *it, int final, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* What a target's status (0 or a SPEC exit status) means for a delivery:
 * done; throttled or unavailable, retried; no permission, no such
 * resource or refused data, final; anything else retried under the code
 * other. */
void bus_item_status(struct bus_item *it, int status, const char *other, const char *why);

/* Keeps the stderr tail p[0..n) of a failed attempt in it. */
void bus_item_tail(struct bus_item *it, const char *p, size_t n);

/* bus_dlq.c: an item that failed for good (exhausted names the retry
 * condition that ran out, or NULL for a non-retriable failure) goes to
 * the dead letter and is reported; bus_done() counts a delivery.  Both
 * call the settled hook. */
void bus_settle(struct tgt_run *r, struct bus_item *it, const char *exhausted);
void bus_done(struct tgt_run *r, struct bus_item *it);

/* bus.c: the retry policy.  The wait before retry n, and whether the
 * item's retries ran out if it waited wait ms more: the condition's name
 * (MaximumRetryAttempts, MaximumEventAgeInSeconds) or NULL. */
int64_t bus_backoff(const struct tgt_run *r, int retry);
const char *bus_exhausted(const struct tgt_run *r, const struct bus_item *it, int64_t wait);

/* bus.c: a mutex for stdout, shared by every stdout: target and the
 * failure hook (whose messages flush stdout first). */
extern pthread_mutex_t bus_stdout_mu;

#endif
