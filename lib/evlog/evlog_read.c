/* evlog_read.c — walking the records, following the log, verifying it.
 *
 * A reader goes from segment to segment by name: the segment after the
 * one it finished is the one named by the next seq.  The end it reads to
 * is sampled under a shared lock; writers hold the exclusive lock from
 * their write to their fdatasync, so that end is always a committed
 * batch boundary. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"

struct dir_reader {
	struct elog *l;
	struct elog_src src;
	int have_src;
	uint64_t cur;		/* the first seq of the segment being read */
	uint64_t next, from;
	int ifd;		/* inotify, or -1 */
	struct stat seen;	/* the active segment when last sampled */
};

/* Finds the segment that starts at first: 1 and *seg, or 0. */
static int
seg_at(struct elog *l, uint64_t first, struct elog_seg *seg)
{
	if (first == 0)
		return 0;
	char name[40];
	struct stat st;

	/* The plain file first: a seal renames the .gz in before it unlinks
	 * the plain one, so one of the two is always seen. */
	seg->first = first;
	elog_seg_name(name, first, 0);
	seg->plain = fstatat(l->dirfd, name, &st, 0) == 0;
	elog_seg_name(name, first, 1);
	seg->gz = fstatat(l->dirfd, name, &st, 0) == 0;
	return seg->gz || seg->plain;
}

/* Records next up to the first segment after it are gone (SPEC 4: seq
 * has no gaps): an error for every reader, not the end of the log. */
static int
gap(struct elog *l, uint64_t next, uint64_t after, struct ev_err *e)
{
	char name[40];

	elog_seg_name(name, next, 0);
	if (after == next + 1)
		return err_set(e, EV_DATAERR, "%s: record %llu is missing (segment %s gone)",
		    l->dir, (unsigned long long)next, name);
	return err_set(e, EV_DATAERR, "%s: records %llu-%llu are missing (segment %s gone)",
	    l->dir, (unsigned long long)next, (unsigned long long)(after - 1), name);
}

/* No segment starts at next: 0 if none starts after it either (the end
 * of the log), else the gap.  Called under the shared lock, so no writer
 * is between creating a segment and filling it. */
static int
check_gap(struct elog *l, uint64_t next, struct ev_err *e)
{
	struct elog_seg *segs;
	size_t n, i;
	int rc = elog_list(l, &segs, &n, 0, e);

	if (rc != 0)
		return rc;
	for (i = 0; i < n && segs[i].first <= next; i++)
		;
	if (i < n)
		rc = gap(l, next, segs[i].first, e);
	free(segs);
	return rc;
}

int
elog_dir_reader_open(struct elog *l, uint64_t from, void **out, struct ev_err *e)
{
	struct dir_reader *rd = xcalloc(1, sizeof *rd);
	struct elog_seg *segs;
	size_t n, i;
	int rc;

	*out = NULL;
	rd->l = l;
	rd->from = from > 0 ? from : 1;
	rd->ifd = -1;
	rd->src.fd = -1;
	if ((rc = elog_list(l, &segs, &n, 0, e)) != 0) {
		free(rd);
		return rc;
	}
	/* The last segment that starts at or before from. */
	for (i = 0; i + 1 < n && segs[i + 1].first <= rd->from; i++)
		;
	rd->next = n > 0 ? segs[i].first : 1;
	/* A log starts at seq 1: a first segment that starts later, and
	 * is needed, means the records before it are gone. */
	if (n > 0 && segs[0].first > 1 && rd->from < segs[0].first)
		rc = gap(l, 1, segs[0].first, e);
	free(segs);
	if (rc != 0)
		free(rd);
	else
		*out = rd;
	return rc;
}

void
elog_dir_reader_close(void *p)
{
	struct dir_reader *rd = p;

	if (rd == NULL)
		return;
	if (rd->have_src)
		elog_src_close(&rd->src);
	if (rd->ifd >= 0)
		close(rd->ifd);
	free(rd);
}

const char *
elog_dir_reader_segment(const void *p)
{
	const struct dir_reader *rd = p;

	return rd->src.name;
}

unsigned long
elog_dir_reader_line(const void *p)
{
	const struct dir_reader *rd = p;

	return rd->src.lineno;
}

/* Forgets buffered bytes past the last line returned, so the next read
 * sees the file as it is now (a writer may have cut a torn tail). */
static void
rewind_src(struct elog_src *s, uint64_t at, unsigned long lineno)
{
	if (s->sealed)
		return;
	lseek(s->fd, (off_t)at, SEEK_SET);
	s->off = at;
	s->pos = s->len = 0;
	s->lineno = lineno;
}

/* The seq that a segment after the current one would start at; 0 if
 * nothing of the current one was read yet (a writer that died just after
 * starting a segment leaves it with a torn first record: it is not
 * followed by anything). */
static uint64_t
later(const struct dir_reader *rd)
{
	return rd->have_src && rd->cur == rd->next ? 0 : rd->next;
}

/* At the end of what is readable now: look again under the shared lock.
 * 1 if there is more to read, 0 if not, or an exit status. */
static int
refresh(struct dir_reader *rd, struct ev_err *e)
{
	struct elog_seg seg;
	struct stat st;
	int rc, more = 0;

	if ((rc = elog_lock(rd->l, LOCK_SH, e)) != 0)
		return rc;
	/* More in this segment: it grew, or changed (a torn tail was cut and
	 * a batch written in its place). */
	if (rd->have_src && !rd->src.sealed && fstat(rd->src.fd, &st) == 0 &&
	    (uint64_t)st.st_size > rd->src.off && (st.st_size != rd->seen.st_size ||
	    st.st_mtim.tv_sec != rd->seen.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != rd->seen.st_mtim.tv_nsec)) {
		rd->src.limit = (uint64_t)st.st_size;
		rd->seen = st;
		more = 1;
	} else if (seg_at(rd->l, later(rd), &seg)) {
		if (rd->have_src)
			elog_src_close(&rd->src);
		rd->have_src = 0;
		rd->cur = seg.first;
		rc = elog_src_open(rd->l, &rd->src, &seg, 0, e);
		if (rc == 0 && !rd->src.sealed && fstat(rd->src.fd, &st) == 0) {
			rd->src.limit = (uint64_t)st.st_size;
			rd->seen = st;
		}
		rd->have_src = rc == 0;
		more = rc == 0;
	} else if (later(rd) != 0) {
		rc = check_gap(rd->l, later(rd), e);
	}
	elog_unlock(rd->l);
	return rc != 0 ? rc : more;
}

/* A record that does not decode: the torn tail of a writer that died
 * (nothing valid after it in the last segment: stop there, a writer will
 * cut it), or damage. */
static int
bad_record(struct dir_reader *rd, uint64_t at, unsigned long lineno, const char *why,
    struct ev_err *e)
{
	struct elog_src *s = &rd->src;
	struct elog_seg seg;
	const char *p, *w;
	size_t n;
	struct elog_rec r;
	int valid = 0;

	if (!s->sealed && !seg_at(rd->l, later(rd), &seg)) {
		while (!valid && elog_src_line(s, &p, &n) == 1)
			valid = elog_decode(p, n, &r, &w) == 0;
		rewind_src(s, at, lineno);
		if (!valid)
			return 0;
	}
	return err_set(e, EV_DATAERR, "%s/%s:%lu: damaged record: %s "
	    "(see evlog-read --verify)", rd->l->dir, s->name, lineno + 1, why);
}

int
elog_dir_reader_next(void *p_, struct elog_rec *r, struct ev_err *e)
{
	struct dir_reader *rd = p_;
	const char *p, *why;
	size_t n;

	for (;;) {
		int k = rd->have_src ? elog_src_line(&rd->src, &p, &n) : 0;
		if (k == 1) {
			int bad = elog_decode_crc(p, n, r, &why, !rd->src.sealed) != 0;
			if (!bad && r->seq != rd->next) {
				bad = 1;
				why = "seq out of order";
			}
			if (bad)
				return bad_record(rd, rd->src.off - n - 1, rd->src.lineno - 1, why, e);
			rd->next = r->seq + 1;
			if (r->seq >= rd->from)
				return 1;
			continue;
		}
		if (k < 0)
			return err_set(e, EV_DATAERR, "%s/%s:%lu: unreadable (corrupt gzip "
			    "data?)", rd->l->dir, rd->src.name, rd->src.lineno + 1);
		if (rd->have_src)
			rewind_src(&rd->src, rd->src.off, rd->src.lineno);
		int more = refresh(rd, e);
		if (more != 1)
			return more;
	}
}

void
elog_dir_reader_wait(void *p, int timeout_ms)
{
	struct dir_reader *rd = p;
	char evbuf[4096];

	if (rd->ifd == -1) {
		/* EVKIT_NO_INOTIFY: the polling fallback, for tests. */
		rd->ifd = getenv("EVKIT_NO_INOTIFY") != NULL ? -1 :
		    inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (rd->ifd >= 0 && inotify_add_watch(rd->ifd, rd->l->dir, IN_MODIFY |
		    IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
			close(rd->ifd);
			rd->ifd = -1;
		}
		if (rd->ifd >= 0)
			return;		/* look once more: a change may predate the watch */
		rd->ifd = -2;
	}
	if (rd->ifd < 0) {
		usleep((useconds_t)(timeout_ms < 50 ? timeout_ms : 50) * 1000);
		return;
	}
	struct pollfd pfd = { rd->ifd, POLLIN, 0 };
	if (poll(&pfd, 1, timeout_ms) > 0)
		while (read(rd->ifd, evbuf, sizeof evbuf) > 0)
			;
}
