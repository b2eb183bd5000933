/* bus internals shared by bus.c (FIFOs, threads, retries), bus_send.c
 * (one attempt at each kind of target) and bus_dlq.c (dead letters). */
#ifndef EVKIT_BUS_INT_H
#define EVKIT_BUS_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "bus.h"

/* A target's FIFO holds BUS_FIFO batches of up to BUS_BATCH deliveries or
 * BUS_BATCH_BYTES (or whatever was read when the input went idle).  Small
 * enough to stay below malloc's mmap threshold, so that batches reuse
 * memory instead of faulting fresh pages in. */
enum { BUS_FIFO = 8, BUS_BATCH = 256, BUS_BATCH_BYTES = 64 << 10 };

/* One delivery.  payload and event point into its batch's data. */
struct bus_item {
	int kind;		/* SHAPE_JSON, SHAPE_TEXT or BUS_FAILED */
	char *payload, *event;
	size_t n, en;
	size_t poff, eoff;	/* offsets in data while the batch fills */
	size_t sent;		/* file: bytes of the line already written */
	int64_t read_ms, read_mono;
	int retries;		/* attempts made after the first */
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
	size_t head, count;
	int closed;
	struct bus_batch *filling;	/* the reader's, not yet handed over */
	struct bus_batch *spare[BUS_FIFO];	/* delivered, kept for reuse */
	size_t nspare;
	/* The target's resources, opened before any event. */
	int fd;			/* file: */
	struct queue *q;	/* queue: */
	struct elog *log;	/* log: */
	struct elog_batch *lb;
	int dl_fd;		/* dead letter file:, or -1 */
	struct queue *dl_q;	/* dead letter queue:, or NULL */
	/* What went wrong, for bus_close. */
	long undelivered, dl_failed;
};

/* bus_send.c: one attempt at items[0..n) (their state ITEM_PENDING),
 * leaving each ITEM_DONE, ITEM_RETRY or ITEM_FINAL with code and why. */
void bus_send_batch(struct tgt_run *r, struct bus_item **items, size_t n);
/* exec: targets, with their own scheduling of children and retries. */
void bus_exec(struct tgt_run *r, struct bus_item **items, size_t n);
void bus_item_fail(struct bus_item *it, int final, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* bus_dlq.c: an item that failed for good (exhausted names the retry
 * condition that ran out, or NULL for a non-retriable failure). */
void bus_settle(struct tgt_run *r, struct bus_item *it, const char *exhausted);
void bus_dlq_open(struct tgt_run *r);
void bus_dlq_close(struct tgt_run *r);

/* bus.c: a mutex for stdout, shared by every stdout: target. */
extern pthread_mutex_t bus_stdout_mu;

#endif
