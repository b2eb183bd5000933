/* evlog — the append-only event log (SPEC.md 4, man evlog(5)).
 *
 * A log is a directory: segments NNNNNNNNNNNNNNNNNNNN.ndjson named by the
 * seq of their first record (20 digits), sealed ones gzip-compressed
 * (.ndjson.gz); "lock", the flock(2) target that serialises writers; and
 * "index", a cache of stream heads and event ids that is rebuilt from the
 * segments whenever it is missing, damaged, behind or from another boot.
 * Each record is one line:
 *
 *   {"seq":N,"stream":S,"version":V,"time":T,"id":I,"event":E,"crc":"xxxxxxxx"}
 *
 * where crc is the zlib CRC-32 of every byte before ',"crc":'.
 *
 * Functions that can fail return 0 or an exit status of msg.h and fill
 * a struct ev_err (core/err.h); they never exit and never print, so a
 * router can retry; warnings go to o.warn. */
#ifndef EVKIT_EVLOG_H
#define EVKIT_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum elog_fsync { ELOG_FSYNC_BATCH, ELOG_FSYNC_ALWAYS, ELOG_FSYNC_NEVER };

enum {
	ELOG_EXPECT_ANY = -1,		/* --expect-version any */
	ELOG_EXPECT_NONE = -2,		/* the stream must not exist yet */
	ELOG_SEGMENT_BYTES = 64 << 20,
	ELOG_CRC_TAIL = 18,		/* strlen(",\"crc\":\"xxxxxxxx\"}") */
	ELOG_LOCK_TIMEOUT_MS = 10000,	/* as a queue's busy timeout */
};

struct elog;

struct elog_opts {
	int create;			/* make the directory if missing */
	enum elog_fsync fsync;
	uint64_t segment_bytes;		/* 0: ELOG_SEGMENT_BYTES */
	long lock_timeout_ms;		/* 0: ELOG_LOCK_TIMEOUT_MS; < 0: for ever */
	void (*warn)(const char *msg);	/* a torn tail cut, an index dropped; NULL: none */
};

/* Opens the log in directory dir (mkdir -p, mode 0700, with o->create;
 * a writer refuses a directory others could plant files in, and every
 * file of the log is opened without following a symlink).  Returns 0
 * and *out, or EV_NOINPUT (missing), EV_IOERR, EV_NOPERM with *e filled
 * and *out NULL. */
int elog_open(const char *dir, const struct elog_opts *o, struct elog **out,
    struct ev_err *e);
void elog_close(struct elog *l);
const char *elog_dir(const struct elog *l);

/* A decoded record: pointers into the line, valid as long as it is.
 * stream and id are JSON string literals (quotes included); time is the
 * 24-character RFC 3339 text. */
struct elog_rec {
	uint64_t seq, version;
	const char *line, *stream, *time, *id, *event;
	size_t line_n, stream_n, id_n, event_n;
};

/* Decodes one line (without its '\n') and checks its CRC.  0, or -1 with
 * *why set to a static reason.  It does not validate the event's JSON. */
int elog_decode(const char *line, size_t n, struct elog_rec *r, const char **why);

/* A batch of events waiting to be appended. */
struct elog_batch;
struct elog_batch *elog_batch_new(void);
void elog_batch_free(struct elog_batch *b);
void elog_batch_clear(struct elog_batch *b);
size_t elog_batch_count(const struct elog_batch *b);
size_t elog_batch_bytes(const struct elog_batch *b);
/* Adds one event (JSON text, any white space) for stream (raw text,
 * stream_n bytes).  The event must be a JSON object; its "id" member,
 * when a non-empty string, is its id, else a UUID v7 is made.  Returns 0,
 * or -1 with *why set (the input line is bad; nothing was added). */
int elog_batch_add(struct elog_batch *b, const char *stream, size_t stream_n,
    const char *event, size_t n, const char **why);

/* Walks the top-level members of a compact JSON object (an event as the
 * log stores it): *it starts at 0; 1 with the key (quotes included) and
 * the value, or 0 at the end. */
int elog_json_member(const char *obj, size_t n, size_t *it, const char **k, size_t *kn,
    const char **v, size_t *vn);

struct elog_result {
	size_t appended, skipped;	/* skipped: ids already in their stream */
	uint64_t first_seq, last_seq;	/* 0 when nothing was appended */
	struct buf records;		/* the lines written, each ending '\n' */
};

/* Appends the batch as one write, under the writer lock: recovers a torn
 * tail first, skips events whose id is already in their stream (or
 * earlier in the batch), checks expect (a version, ELOG_EXPECT_NONE or
 * ELOG_EXPECT_ANY) against every stream of the batch, assigns gap-free
 * seq and versions, rotates and seals the segment when it is full, and
 * syncs as opts.fsync says.  0 on success (res filled; res->records is
 * reused by the next call); EV_CONFLICT with nothing written; EV_IOERR,
 * EV_TEMPFAIL, EV_DATAERR (damaged log) with nothing committed. */
int elog_append(struct elog *l, struct elog_batch *b, long long expect,
    struct elog_result *res, struct ev_err *e);
/* The same in two steps, so that the disk writes one batch while the
 * caller reads the next: _start() writes the batch and, with
 * ELOG_FSYNC_BATCH, returns still holding the lock; _finish() syncs and
 * unlocks (it does nothing when nothing is pending).  The batch is
 * committed, and res may be printed, only once _finish() returns 0;
 * EV_IOERR there means it was not (it is cut off again).  Nothing else
 * may be done with the log in between; elog_close() finishes. */
int elog_append_start(struct elog *l, struct elog_batch *b, long long expect,
    struct elog_result *res, struct ev_err *e);
int elog_append_finish(struct elog *l, struct ev_err *e);
void elog_result_free(struct elog_result *res);

/* Reading.  A reader walks the records from a seq on, up to the end that
 * was committed when it last looked (sampled under a shared lock, so it
 * never sees a batch that is still being written). */
struct elog_reader;
/* Opens a reader at the first record with seq >= from (1: everything);
 * on failure *out is NULL. */
int elog_reader_open(struct elog *l, uint64_t from, struct elog_reader **out,
    struct ev_err *e);
/* 1 and *r (valid until the next call), 0 at the committed end, or an
 * exit status with *e (EV_DATAERR: a damaged record, or records missing
 * where a segment is gone; EV_TEMPFAIL: the lock timed out). */
int elog_reader_next(struct elog_reader *rd, struct elog_rec *r, struct ev_err *e);
/* Waits up to timeout_ms for the log to change (inotify, or a short
 * sleep where inotify is unavailable); then elog_reader_next() again. */
void elog_reader_wait(struct elog_reader *rd, int timeout_ms);
/* "SEGMENT:LINE" of the last record returned, for messages. */
const char *elog_reader_where(struct elog_reader *rd);
/* The same in parts, without formatting: the segment's file name (valid
 * until the reader moves to the next segment) and the line number. */
const char *elog_reader_segment(const struct elog_reader *rd);
unsigned long elog_reader_line(const struct elog_reader *rd);
void elog_reader_close(struct elog_reader *rd);

/* Checks every segment: CRCs, the JSON of every event, seq gap-free and
 * matching segment names, every stream's versions gap-free.  Each damage
 * is passed to report(ctx, "SEGMENT:LINE: what").  Returns the number of
 * damages found, or -1 with *e when the log cannot be read; *records
 * gets the number of good records.  A torn tail is a warning (o.warn). */
long elog_verify(struct elog *l, void (*report)(void *, const char *), void *ctx,
    uint64_t *records, struct ev_err *e);

#endif
