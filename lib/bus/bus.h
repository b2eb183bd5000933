/* bus — delivery of shaped events to the targets of evbus-route rules.
 *
 * Each target has a thread and a bounded FIFO of batches: the reader
 * fills a batch per target and hands it over when it is full or the input
 * goes idle, and blocks when a FIFO is full, so memory stays bounded and one slow target
 * holds the others back by at most a FIFO's worth.  A target's thread
 * delivers in input order, in batches (file, queue, log) or one child per
 * event (exec, up to its concurrency, started in order), retries failures
 * with exponential backoff and full jitter, and sends what still fails to
 * the target's dead letter, or reports it. */
#ifndef EVKIT_BUS_H
#define EVKIT_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

struct bus;

/* What a delivery carries (SHAPE_JSON / SHAPE_TEXT of shape.h), or
 * BUS_FAILED: the payload is the reason shaping failed (straight to the
 * dead letter). */
enum { BUS_FAILED = -1 };

/* Opens every target of the enabled rules (files, queues, logs, dead
 * letters: failures die 66/74 before any event) and starts the threads.
 * Signals are blocked in the threads: only the caller's thread sees them. */
struct bus *bus_open(struct rules *rs);

/* Queues one delivery for t: the payload p[0..n) of kind, the event as
 * read ev[0..en) (for dead letters) and when it was read (wall ms). */
void bus_push(struct bus *b, const struct target *t, int kind, const char *p, size_t n,
    const char *ev, size_t en, int64_t read_ms);

/* Hands every partly filled batch to its target: the reader calls it
 * before it waits for input, so nothing read waits for more to come. */
void bus_flush(struct bus *b);

/* Routes one event ev[0..n), read at read_ms, for which pat_match() on
 * rs->set with all = 1 returned nhits: shapes it for every target of
 * every rule it matched and pushes the payloads. */
void bus_route(struct bus *b, const struct rules *rs, size_t nhits, const char *ev, size_t n,
    int64_t read_ms);

/* The rules the last pat_match() matched, in the order of the rules file:
 * fills out[0..) and returns how many (at most pat_count(rs->set)). */
size_t bus_matched(const struct rules *rs, size_t nhits, const struct rule **out);

/* Delivers everything queued, stops the threads and closes the targets.
 * Returns EV_OK when every delivery succeeded or reached a dead letter,
 * EV_UNAVAILABLE when some failed with no dead letter (each reported on
 * stderr), EV_IOERR when a dead letter could not be written. */
int bus_close(struct bus *b);

/* The base of the retry backoff in ms: $EVBUS_RETRY_BASE_MS, else 1000.
 * Retry n (0-based) waits a random time up to base * 2^n, at most 60 s. */
int64_t bus_backoff_ms(int retry);

#endif
