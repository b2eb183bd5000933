/* evlog_append.c — one batch, one write, one fdatasync, under the lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/clock.h"
#include "evlog_int.h"
#include "core/alloc.h"
#include "core/fsx.h"
#include "core/msg.h"

/* A small hash map key -> value for the batch being numbered: the ids it
 * has seen and the heads of its streams, ahead of the index. */
struct bmap {
	struct { uint64_t key, val; } *s;
	uint64_t mask, n;
};

static void
bmap_init(struct bmap *m, size_t n)
{
	size_t cap = 64;

	while (cap < 2 * n + 16)
		cap *= 2;
	m->s = xcalloc(cap, sizeof *m->s);
	m->mask = cap - 1;
	m->n = 0;
}

static int
bmap_full(const struct bmap *m)
{
	return 2 * (m->n + 1) > m->mask + 1;
}

/* Doubles the table (the heads map starts small: most batches have few
 * streams). */
static void
bmap_grow(struct bmap *m)
{
	struct bmap old = *m;

	bmap_init(m, (size_t)(old.mask + 1));
	m->n = old.n;
	for (uint64_t i = 0; i <= old.mask; i++) {
		if (old.s[i].key == 0)
			continue;
		uint64_t j = old.s[i].key & m->mask;
		while (m->s[j].key != 0)
			j = (j + 1) & m->mask;
		m->s[j] = old.s[i];
	}
	free(old.s);
}

/* The slot of key: its own, or the empty one where it belongs. */
static uint64_t
bmap_slot(const struct bmap *m, uint64_t key)
{
	uint64_t j = key & m->mask;

	while (m->s[j].key != 0 && m->s[j].key != key)
		j = (j + 1) & m->mask;
	return j;
}

struct put {
	uint64_t idk, seq;
};

enum { AHEAD = 16 };	/* index lookups in flight (elog_idx_prefetch) */

/* What the index learns from a batch: the ids, then each stream's head. */
struct learnt {
	struct put *puts;
	struct bmap heads;
};

/* Numbers the batch into res->records; puts[] gets what the index will
 * learn once the records are written. */
static int
number(struct elog *l, struct elog_batch *b, long long expect, struct elog_result *res,
    struct learnt *lt, const char time[24], struct ev_err *e)
{
	struct bmap ids, heads;
	struct put *puts = lt->puts;
	const char *st, *id, *ev;
	size_t sn, in, en, nb = elog_batch_count(b);
	uint64_t seq = elog_idx_pos(l)->seq;
	int rc = 0;

	bmap_init(&ids, nb);
	bmap_init(&heads, nb < 64 ? nb : 64);
	/* The id keys first, in puts[i].idk: puts[] fills from the front no
	 * faster than i moves, so the keys ahead of i are still there when
	 * their slots are prefetched. */
	for (size_t i = 0; i < nb; i++) {
		elog_batch_get(b, i, &st, &sn, &id, &in, &ev, &en);
		puts[i].idk = elog_key_id(st, sn, id, in);
	}
	for (size_t i = 0; i < nb; i++) {
		if (i + AHEAD < nb)
			elog_idx_prefetch(l, puts[i + AHEAD].idk);
		uint64_t idk = puts[i].idk;
		elog_batch_get(b, i, &st, &sn, &id, &in, &ev, &en);
		uint64_t hk = elog_key_head(st, sn), j = bmap_slot(&heads, hk);
		if (heads.s[j].key == 0 && bmap_full(&heads)) {
			bmap_grow(&heads);
			j = bmap_slot(&heads, hk);
		}
		if (heads.s[j].key == 0) {
			uint64_t cur = elog_idx_get(l, hk);
			if (expect != ELOG_EXPECT_ANY && cur != (expect == ELOG_EXPECT_NONE ?
			    0 : (uint64_t)expect)) {
				char want[24] = "none";
				if (expect != ELOG_EXPECT_NONE)
					snprintf(want, sizeof want, "%lld", expect);
				rc = err_set(e, EV_CONFLICT, "conflict: stream %.*s is at version "
				    "%llu, expected %s", (int)sn, st, (unsigned long long)cur, want);
				break;
			}
			heads.s[j].key = hk;
			heads.s[j].val = cur;
			heads.n++;
		}
		uint64_t k = bmap_slot(&ids, idk);
		if (ids.s[k].key != 0 || elog_idx_get(l, idk) != 0) {
			res->skipped++;
			continue;
		}
		ids.s[k].key = idk;
		puts[res->appended++] = (struct put){ idk, ++seq };
		elog_encode(&res->records, seq, st, sn, ++heads.s[j].val, time, id, in, ev, en);
	}
	free(ids.s);
	lt->heads = heads;
	return rc;
}

/* Seals a full active segment and starts the one for seq first. */
static int
rotate(struct elog *l, uint64_t first, struct ev_err *e)
{
	char name[40];

	if (l->segfd >= 0 && l->segsize < l->o.segment_bytes)
		return 0;
	if (l->segfd >= 0) {
		close(l->segfd);
		l->segfd = -1;
		l->seal_next = l->segfirst;	/* once the lock is released */
	}
	elog_seg_name(name, first, 0);
	l->segfd = fsx_openat(l->dirfd, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0600);
	if (l->segfd < 0)
		return elog_fail_open(l, e, "create", name);
	l->segfirst = first;
	l->segsize = 0;
	return l->o.fsync == ELOG_FSYNC_NEVER ? 0 : elog_fsync_dir(l, e);
}

static int
write_all(int fd, const char *p, size_t n, int sync)
{
	if (write_fully(fd, p, n) != 0)
		return -1;
	return sync ? fdatasync(fd) : 0;
}

/* Writes the records; on failure the segment is cut back to where it
 * was, so that nothing half-written is left for a reader to trip on.
 * With --fsync batch the sync is elog_dir_append_finish()'s. */
static int
write_records(struct elog *l, const struct buf *rec, struct ev_err *e)
{
	char name[40];
	int rc = 0;

	if (l->o.fsync == ELOG_FSYNC_ALWAYS) {
		for (size_t off = 0; off < rec->n && rc == 0; ) {
			const char *nl = memchr(rec->p + off, '\n', rec->n - off);
			size_t len = (size_t)(nl - (rec->p + off)) + 1;
			rc = write_all(l->segfd, rec->p + off, len, 1);
			off += len;
		}
	} else {
		rc = write_all(l->segfd, rec->p, rec->n, 0);
	}
	if (rc == 0)
		return 0;
	elog_seg_name(name, l->segfirst, 0);
	rc = err_sys(e, EV_IOERR, "%s/%s: write error", l->dir, name);
	if (ftruncate(l->segfd, (off_t)l->segsize) == 0)
		fdatasync(l->segfd);
	return rc;
}

/* The index is only a cache: when it cannot follow the log, the next
 * writer rebuilds it from the log. */
static void
drop_index(struct elog *l)
{
	unlinkat(l->dirfd, "index", 0);
	elog_idx_close(l);
}

/* The records are written: teach the index.  A failure here (a full
 * disk while it grows) costs only speed. */
static void
learn(struct elog *l, const struct learnt *lt, size_t n, int64_t ms)
{
	struct ev_err e;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i + AHEAD < n)
			elog_idx_prefetch(l, lt->puts[i + AHEAD].idk);
		rc = elog_idx_put(l, lt->puts[i].idk, lt->puts[i].seq, &e);
	}
	for (uint64_t i = 0; i <= lt->heads.mask && rc == 0; i++)
		if (lt->heads.s[i].key != 0)
			rc = elog_idx_put(l, lt->heads.s[i].key, lt->heads.s[i].val, &e);
	if (rc != 0) {
		elog_warn(l, "%s (the index will be rebuilt)", e.msg);
		drop_index(l);
		return;
	}
	struct elog_pos p = { lt->puts[n - 1].seq, l->segfirst, l->segsize, ms };
	elog_idx_set_pos(l, &p);
}

/* Starts the writeback of the batch just written, so that the disk works
 * while the caller reads the next batch, and the fdatasync of
 * elog_dir_append_finish() finds little left to do. */
static void
start_writeback(struct elog *l, uint64_t off, uint64_t n)
{
#ifdef SYNC_FILE_RANGE_WRITE
	sync_file_range(l->segfd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
#else
	(void)l;
	(void)off;
	(void)n;
#endif
}

/* Releases the lock and seals what rotate() left to seal. */
static void
release(struct elog *l)
{
	elog_unlock(l);
	if (l->seal_next != 0) {
		elog_seal_later(l, l->seal_next, 1);
		l->seal_next = 0;
	}
}

int
elog_dir_append_start(struct elog *l, struct elog_batch *b, long long expect,
    struct elog_result *res, struct ev_err *e)
{
	char time[25];
	int rc;

	res->appended = res->skipped = 0;
	res->first_seq = res->last_seq = 0;
	buf_reset(&res->records);
	if (l->pending)
		return err_set(e, EV_SOFTWARE, "%s: the last batch is not finished", l->dir);
	if (elog_batch_count(b) == 0)
		return 0;
	if (!l->writer)
		return err_set(e, EV_SOFTWARE, "%s: not opened for writing", l->dir);
	struct learnt lt = { xreallocarray(NULL, elog_batch_count(b), sizeof *lt.puts),
	    { NULL, 0, 0 } };
	if ((rc = elog_lock(l, LOCK_EX, e)) != 0) {
		free(lt.puts);
		return rc;
	}
	rc = elog_recover(l, e);
	/* Times never go backwards along the log, so --until can stop early. */
	int64_t ms = clock_now_ms();
	if (rc == 0 && ms < elog_idx_pos(l)->time_ms)
		ms = elog_idx_pos(l)->time_ms;
	clock_rfc3339(ms, time);
	/* Room for the batch's ids and a head, now, so that the slots that
	 * number() prefetches are those learn() fills.  A failure (a full
	 * disk) is learn()'s to handle. */
	struct ev_err ignored;
	if (rc == 0)
		elog_idx_reserve(l, elog_batch_count(b) + 1, &ignored);
	if (rc == 0)
		rc = number(l, b, expect, res, &lt, time, e);
	if (rc == 0 && res->appended > 0) {
		res->first_seq = lt.puts[0].seq;
		res->last_seq = lt.puts[res->appended - 1].seq;
		rc = rotate(l, res->first_seq, e);
		if (rc == 0)
			rc = write_records(l, &res->records, e);
		if (rc == 0) {
			l->synced = l->segsize;
			l->segsize += res->records.n;
			learn(l, &lt, res->appended, ms);
			l->pending = l->o.fsync == ELOG_FSYNC_BATCH;
			if (l->pending)
				start_writeback(l, l->synced, res->records.n);
		}
	}
	if (rc != 0) {
		res->appended = 0;
		res->first_seq = res->last_seq = 0;
		buf_reset(&res->records);
	}
	if (!l->pending)
		release(l);
	free(lt.puts);
	free(lt.heads.s);
	return rc;
}

int
elog_dir_append_finish(struct elog *l, struct ev_err *e)
{
	char name[40];
	int rc = 0;

	if (!l->pending)
		return 0;
	l->pending = 0;
	if (fdatasync(l->segfd) != 0) {
		/* Not committed: cut it back, and forget what the index learnt. */
		elog_seg_name(name, l->segfirst, 0);
		rc = err_sys(e, EV_IOERR, "%s/%s: write error", l->dir, name);
		if (ftruncate(l->segfd, (off_t)l->synced) == 0)
			fdatasync(l->segfd);
		l->segsize = l->synced;
		drop_index(l);
	}
	release(l);
	return rc;
}

