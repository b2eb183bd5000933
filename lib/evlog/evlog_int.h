/* evlog_int.h — what the evlog_*.c files share and nobody else needs. */
#ifndef EVKIT_EVLOG_INT_H
#define EVKIT_EVLOG_INT_H

#include <stdint.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "evlog.h"

struct elog_idx;
struct elog_nats;

/* A log's backend: a directory of segments (evlog.c and the rest) or a
 * JetStream stream (evlog_nats.c).  elog_open() picks it by the name;
 * the public calls (evlog_ops.c) go through the table.  A reader's state
 * is the backend's own (impl). */
struct elog_ops {
	void (*close)(struct elog *l);
	int (*append_start)(struct elog *l, struct elog_batch *b, long long expect,
	    struct elog_result *res, struct ev_err *e);
	int (*append_finish)(struct elog *l, struct ev_err *e);
	long (*verify)(struct elog *l, void (*report)(void *, const char *), void *ctx,
	    uint64_t *records, struct ev_err *e);
	int (*reader_open)(struct elog *l, uint64_t from, void **impl, struct ev_err *e);
	int (*reader_next)(void *impl, struct elog_rec *r, struct ev_err *e);
	void (*reader_wait)(void *impl, int timeout_ms);
	const char *(*reader_segment)(const void *impl);
	unsigned long (*reader_line)(const void *impl);
	void (*reader_close)(void *impl);
};
extern const struct elog_ops elog_dir_ops, elog_nats_ops;

/* The directory backend's entries. */
int elog_dir_open(const char *dir, const struct elog_opts *o, struct elog **out,
    struct ev_err *e);
void elog_dir_close(struct elog *l);
int elog_dir_append_start(struct elog *l, struct elog_batch *b, long long expect,
    struct elog_result *res, struct ev_err *e);
int elog_dir_append_finish(struct elog *l, struct ev_err *e);
long elog_dir_verify(struct elog *l, void (*report)(void *, const char *), void *ctx,
    uint64_t *records, struct ev_err *e);
int elog_dir_reader_open(struct elog *l, uint64_t from, void **impl, struct ev_err *e);
int elog_dir_reader_next(void *impl, struct elog_rec *r, struct ev_err *e);
void elog_dir_reader_wait(void *impl, int timeout_ms);
const char *elog_dir_reader_segment(const void *impl);
unsigned long elog_dir_reader_line(const void *impl);
void elog_dir_reader_close(void *impl);

/* The JetStream backend (evlog_nats.c): uri is nats://…/NAME. */
int elog_nats_open(const char *uri, const struct elog_opts *o, struct elog **out,
    struct ev_err *e);

struct elog {
	const struct elog_ops *ops;
	struct elog_nats *nats;	/* the JetStream backend's state, or NULL */
	char *dir;		/* the directory, or the URI without its password */
	int dirfd, lockfd;	/* lockfd -1: no lock file (a reader of a log never written) */
	int writer;
	struct elog_opts o;
	struct elog_idx *idx;
	int segfd;		/* the active segment, O_APPEND; -1 when none */
	uint64_t segfirst, segsize;
	int pending;		/* a batch written, its sync and unlock to come */
	uint64_t synced;	/* the active segment's size before it */
	uint64_t seal_next;	/* rotated out under the lock, to seal after it */
	struct elog_sealer *sq;	/* the segments to seal, and their thread */
};

/* "cannot WHAT 'DIR/NAME'" from errno, or EV_NOPERM when name is a
 * symlink (every file of a log is opened without following one). */
int elog_fail_open(struct elog *l, struct ev_err *e, const char *what, const char *name);
/* Passes a warning to the opener's o.warn, if any (the library prints
 * nothing itself). */
void elog_warn(struct elog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Segment names: 20-digit first seq, ".ndjson", and ".gz" once sealed. */
void elog_seg_name(char out[40], uint64_t first, int gz);

/* The segments of a log, in order; both flags set while a seal is
 * half-done (the .gz then wins: it is complete before it is renamed in). */
struct elog_seg {
	uint64_t first;
	int plain, gz;
};
/* Lists the segments (malloc'd array, *n entries); unlinks stale
 * .gz.tmp files when clean is set (the caller holds the writer lock). */
int elog_list(struct elog *l, struct elog_seg **out, size_t *n, int clean, struct ev_err *e);

/* A segment opened for reading lines, plain or gzip. */
struct elog_src {
	int fd;
	int sealed;		/* a .gz, read by zt or, failing that, gz */
	struct elog_gz *zt;
	gzFile gz;
	char *buf;		/* with zt: its block, not ours */
	size_t cap, pos, len;
	uint64_t off;		/* file (uncompressed) offset of buf[pos] */
	uint64_t limit;		/* plain: read no further than this */
	unsigned long lineno;	/* of the last line returned */
	int eof;
	char name[40];
};
int elog_src_open(struct elog *l, struct elog_src *s, const struct elog_seg *seg,
    uint64_t from_off, struct ev_err *e);
/* 1: *p, *n is the next line without '\n'; 2: an unterminated tail (at the
 * limit or end of file); 0: the end; -1: a read or gzip error. */
int elog_src_line(struct elog_src *s, const char **p, size_t *n);
void elog_src_close(struct elog_src *s);

/* Locks: flock on the lock file, giving up after o.lock_timeout_ms. */
int elog_lock(struct elog *l, int how, struct ev_err *e);
void elog_unlock(struct elog *l);

/* elog_decode(), with the CRC check only when crc is set: a sealed
 * segment's records are covered by gzip's own CRC-32 of the whole file,
 * checked as it is read, so plain reading of sealed segments skips them
 * (--verify checks every one). */
int elog_decode_crc(const char *line, size_t n, struct elog_rec *r, const char **why,
    int crc);

/* crc32(0, p, n) and crc32(crc, p, n) of zlib, faster (evlog_crc.c). */
uint32_t elog_crc32(const void *p, size_t n);
uint32_t elog_crc32_update(uint32_t crc, const void *p, size_t n);

/* A sealed segment inflated in a thread of its own (evlog_gz.c), as
 * strictly as gzread() does.  elog_gz_open() returns NULL when fd does
 * not start with a gzip header it can read (gzread() then reads it, and
 * reports the damage); it does not own fd.  elog_gz_next() gives the
 * next block of whole lines (the last may end without a newline), valid
 * until the next call: 1, 0 at the end, -1 for bad or truncated data. */
struct elog_gz;
struct elog_gz *elog_gz_open(int fd);
int elog_gz_next(struct elog_gz *g, const char **p, size_t *n);
void elog_gz_close(struct elog_gz *g);

/* Event i of a batch: its stream and id as JSON strings, the event as
 * compact JSON (evlog_batch.c); returns the batch's count. */
size_t elog_batch_get(const struct elog_batch *b, size_t i, const char **stream,
    size_t *sn, const char **id, size_t *in, const char **event, size_t *en);

/* The record encoder. */
void elog_encode(struct buf *b, uint64_t seq, const char *stream, size_t stream_n,
    uint64_t version, const char time[24], const char *id, size_t id_n,
    const char *event, size_t event_n);

/* 64-bit keys for the index: a stream's head, an id within a stream. */
uint64_t elog_key_head(const char *stream, size_t n);
uint64_t elog_key_id(const char *stream, size_t sn, const char *id, size_t in);

/* The index (evlog_idx.c): a file-backed hash table key -> value, and
 * how far into the log it reflects. */
struct elog_pos {
	uint64_t seq;		/* last record indexed; 0: none */
	uint64_t seg, off;	/* its segment and the offset just past it */
	int64_t time_ms;	/* its time */
};
int elog_idx_open(struct elog *l, struct ev_err *e);
void elog_idx_close(struct elog *l);
int elog_idx_reset(struct elog *l, struct ev_err *e);
const struct elog_pos *elog_idx_pos(struct elog *l);
uint64_t elog_idx_get(struct elog *l, uint64_t key);
int elog_idx_put(struct elog *l, uint64_t key, uint64_t val, struct ev_err *e);
/* Makes room for n more keys (one rebuild at most) so that the puts of
 * a batch do not rebuild the table on the way. */
int elog_idx_reserve(struct elog *l, uint64_t n, struct ev_err *e);
/* Starts loading key's slot into the cache: the table is far bigger than
 * the cache, and a batch looks up thousands of scattered keys, so each
 * lookup is issued well before it is needed. */
void elog_idx_prefetch(struct elog *l, uint64_t key);
void elog_idx_set_pos(struct elog *l, const struct elog_pos *p);
/* Adds one decoded record to the index. */
int elog_idx_add(struct elog *l, const struct elog_rec *r, struct ev_err *e);

/* Recovery under the writer lock (evlog_recover.c): brings the index up
 * to the end of the log, cuts a torn tail, finishes half-done seals. */
int elog_recover(struct elog *l, struct ev_err *e);
/* Seals segment first (evlog_seal.c), in a thread of the handle's, in
 * the order asked: gzip to a temp file, fsync, rename, fsync the
 * directory, unlink the plain file.  Skipped when another sealer holds
 * the segment; a failure leaves it to the next writer.  own: rotated out
 * by this handle, else found unsealed by its recovery.  elog_seal_wait()
 * (elog_close() does) waits for them all but its own ones with more than
 * a few MiB still to do: those are stopped and left to the next writer's
 * recovery. */
void elog_seal_later(struct elog *l, uint64_t first, int own);
void elog_seal_wait(struct elog *l);
/* Removes the leftover temp file tmp of segment first, unless a sealer
 * is writing it; 1 if removed. */
int elog_seal_stale_tmp(struct elog *l, const char *tmp, uint64_t first);
int elog_fsync_dir(struct elog *l, struct ev_err *e);

#endif
