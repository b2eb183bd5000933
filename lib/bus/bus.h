/* bus — delivery of shaped events to the targets of evbus-route rules.
 *
 * Each target has a thread and a bounded FIFO of batches: the reader
 * fills a batch per target and hands it over when it is full or the input
 * goes idle, and blocks when a FIFO is full, so memory stays bounded and one slow target
 * holds the others back by at most a FIFO's worth.  A target's thread
 * delivers in input order, in batches (file, queue, log) or one child per
 * event (exec, up to its concurrency, started in order), retries failures
 * with exponential backoff and full jitter (core/backoff.h), and sends
 * what still fails to the target's dead letter (dlq/dlq.h).  Nothing here
 * prints or exits: every failure goes to the caller's hooks, every
 * status comes back with a struct ev_err. */
#ifndef EVKIT_BUS_H
#define EVKIT_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "rules.h"

struct bus;

/* A delivery that failed for good, as the failure hook sees it. */
struct bus_fail {
	const struct target *t;
	const char *code, *why;	/* ERROR_CODE, ERROR_MESSAGE */
	const char *exhausted;	/* the retry condition that ran out, or NULL */
	int retries;
	const char *tail;	/* exec: the child's stderr tail, tailn bytes */
	size_t tailn;
	const char *dead_letter;	/* where the event went, or NULL: not delivered */
	const char *dl_error;	/* the dead letter failed too: why (event lost) */
	const char *event;
	size_t en;
	int errnum;		/* IO_ERROR: the errno (EPIPE: stdout closed), or 0 */
};

/* A target's tally, for the summary at the end. */
struct bus_count {
	long delivered, failed;	/* failed: for good, after the retries */
	long dead_lettered;	/* of those, in the dead letter */
	long undelivered;	/* of those, reported only (no dead letter) */
	long dl_failed;		/* of those, lost: the dead letter failed */
	long io_failed;		/* undelivered for an I/O error (ENOSPC …) */
};

/* How a delivery ended, for the settled hook. */
enum bus_outcome { BUS_DELIVERED, BUS_DEAD_LETTERED, BUS_UNDELIVERED };

/* The caller's say: every hook may be NULL.  fail and settled run in a
 * target's thread, one call at a time (the bus serialises them with its
 * stdout); summary runs in bus_close's caller for each target with a
 * failure. */
struct bus_hooks {
	void (*fail)(void *ctx, const struct bus_fail *f);
	void (*settled)(void *ctx, const struct target *t, uint64_t tag, enum bus_outcome o);
	void (*summary)(void *ctx, const struct target *t, const struct bus_count *c);
	/* bus_redrive: a dead letter (its MessageId) left where it is. */
	void (*note)(void *ctx, const char *id, const char *why);
	void *ctx;
};

/* What a delivery carries (SHAPE_JSON / SHAPE_TEXT of shape.h), or
 * BUS_FAILED: the payload is the reason shaping failed (straight to the
 * dead letter). */
enum { BUS_FAILED = -1 };

/* Opens every target of the enabled rules (files, queues, logs, dead
 * letters) and starts the threads: 0 and *out, or the status (74, 75 …)
 * with e when a target cannot be opened (before any event).  Signals
 * are blocked in the threads: only the caller's thread sees them.  A stop
 * request (sig_stop) makes exec: targets kill their children and settle
 * what is left as failed (to the dead letter) instead of waiting. */
int bus_open(struct rules *rs, const struct bus_hooks *h, struct bus **out, struct ev_err *e);

/* Hands every partly filled batch to its target: the reader calls it
 * before it waits for input, so nothing read waits for more to come. */
void bus_flush(struct bus *b);

/* Flushes, then waits until every target has settled all it was given. */
void bus_sync(struct bus *b);

/* Shapes the event ev[0..n) for target t alone and pushes it, tagged
 * (the tag comes back to the settled hook): a redrive.  Returns 0 when
 * there was nothing to push (a jq program with no output). */
int bus_route_to(struct bus *b, const struct target *t, const char *ev, size_t n,
    int64_t read_ms, uint64_t tag);

/* Routes one event ev[0..n), read at read_ms, for which pat_match() on
 * rs->set with all = 1 returned nhits: shapes it for every target of
 * every rule it matched and pushes the payloads. */
void bus_route(struct bus *b, const struct rules *rs, size_t nhits, const char *ev, size_t n,
    int64_t read_ms);

/* The rules the last pat_match() matched, in the order of the rules file:
 * fills out[0..) and returns how many (at most pat_count(rs->set)). */
size_t bus_matched(const struct rules *rs, size_t nhits, const struct rule **out);

/* Delivers everything queued, stops the threads, closes the targets,
 * calls the summary hook, frees b.  Returns EV_OK when every delivery
 * succeeded or reached a dead letter, EV_IOERR when a dead letter could
 * not be written, a target could not be closed (e says which) or a
 * delivery failed for an I/O error with no dead letter, EV_UNAVAILABLE
 * when some other failed with no dead letter (each one reported through
 * the fail hook). */
int bus_close(struct bus *b, struct ev_err *e);

/* The retry backoff's base in ms: $EVBUS_RETRY_BASE_MS, else 1000.
 * Retry n (0-based) waits a random time up to base * 2^n, at most 60 s. */
enum { BUS_BACKOFF_MS = 1000, BUS_BACKOFF_CAP_MS = 60000 };

/* Filter mode's -p patterns (bus_filter.c).  bus_filter_add compiles
 * arg (JSON text, or @FILE) into set and keeps its text: 0, or 66 (the
 * file cannot be read) or 2 (invalid; e names "-p N" or the file and the
 * JSON path at fault).  bus_filter_copy compiles them all again into a
 * new set, for one more scanning thread (filter_run's copy). */
int bus_filter_add(struct pat_set *set, const char *arg, struct ev_err *e);
struct pat_set *bus_filter_copy(void);
void bus_filter_free(void);

/* What bus_redrive did. */
struct bus_redrive_stat {
	long redriven;		/* delivered, and deleted from the dead letter */
	long failed;		/* failed again (dead-lettered anew, or left) */
	long skipped;		/* naming no enabled rule and target: left */
};

/* Sends each message of the queue dlq (a queue: dead letter, as bus_dlq
 * writes them) back to the one rule and target its RULE_ARN and
 * TARGET_ID attributes name, with that target's shaping, retries and
 * dead letter; deletes it from dlq once delivered or dead-lettered anew,
 * leaves it visible otherwise.  Messages that arrive meanwhile are left
 * alone.  Returns bus_close()'s status, with e. */
int bus_redrive(struct rules *rs, const char *dlq, const struct bus_hooks *h,
    struct bus_redrive_stat *st, struct ev_err *e);

/* Rules mode, from input lines to deliveries (bus_pipe.c): each event is
 * matched, appended to the archive log when one is named and routed
 * once the log has it, or explained (--explain: {"event","rules"} lines
 * on stdout) instead of delivered. */
struct bus_pipe;
struct bus_pipe_opts {
	const char *archive;		/* --archive LOG, or NULL */
	int explain;
	const struct bus_hooks *hooks;
};
/* 0 and *out, or the status with e (the archive or a target cannot be
 * opened).  rs must outlive the pipe. */
int bus_pipe_open(struct rules *rs, const struct bus_pipe_opts *o, struct bus_pipe **out,
    struct ev_err *e);
/* One input line: 0, EV_DATAERR with e (what is wrong, "at column N")
 * when it is not a JSON object (nothing of it was taken), or the archive's
 * failure status. */
int bus_pipe_line(struct bus_pipe *p, const char *ev, size_t n, struct ev_err *e);
/* Before the input waits: commits the archive batch and hands every
 * partly filled batch to its target. */
int bus_pipe_idle(struct bus_pipe *p, struct ev_err *e);
/* Commits and delivers everything, closes and frees p: the archive's
 * failure status, else bus_close()'s. */
int bus_pipe_close(struct bus_pipe *p, struct ev_err *e);

#endif
