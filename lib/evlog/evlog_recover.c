/* evlog_recover.c — what a writer does under the lock before it appends:
 * finish half-done seals, bring the index up to the end of the log, and
 * cut a torn tail (Kafka's recovery: truncate at the first bad record of
 * the active segment, but only when nothing valid follows it — a bad
 * record with good ones after it is damage, and damage is never cut). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/clock.h"
#include "evlog_int.h"
#include "core/fsx.h"
#include "core/msg.h"

/* 1 if some complete line after the current one in s is a valid record. */
static int
valid_after(struct elog_src *s)
{
	const char *p, *why;
	size_t n;
	struct elog_rec r;
	int k;

	while ((k = elog_src_line(s, &p, &n)) == 1)
		if (elog_decode(p, n, &r, &why) == 0)
			return 1;
	return 0;
}

static int
cut_tail(struct elog *l, struct elog_src *s, uint64_t at, struct ev_err *e)
{
	int fd = fsx_openat(l->dirfd, s->name, O_WRONLY, 0);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) != 0 || ftruncate(fd, (off_t)at) != 0 ||
	    fdatasync(fd) != 0) {
		int rc = err_sys(e, EV_IOERR, "%s/%s: cannot cut the torn tail",
		    l->dir, s->name);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	elog_warn(l, "%s/%s: cut %llu torn bytes at offset %llu", l->dir, s->name,
	    (unsigned long long)(st.st_size - (off_t)at), (unsigned long long)at);
	return 0;
}

/* Indexes the records of seg from byte from on; pos follows them. */
static int
scan_seg(struct elog *l, const struct elog_seg *seg, uint64_t from, int last,
    struct elog_pos *pos, struct ev_err *e)
{
	struct elog_src s;
	struct elog_rec r;
	const char *p, *why = "unterminated record";
	size_t n;
	char tm[25] = "";
	int k, rc = elog_src_open(l, &s, seg, from, e);

	while (rc == 0 && (k = elog_src_line(&s, &p, &n)) != 0) {
		uint64_t at = s.off - (k == 1 ? n + 1 : 0);
		int whole = k == 1 && elog_decode(p, n, &r, &why) == 0;
		if (whole) {
			if (r.seq == pos->seq + 1) {
				if ((rc = elog_idx_add(l, &r, e)) != 0)
					break;
				pos->seq = r.seq;
				pos->seg = seg->first;
				pos->off = s.off;
				memcpy(tm, r.time, 24);
				continue;
			}
			why = "seq out of order";
		}
		if (k < 0) {
			rc = err_set(e, EV_DATAERR, "%s/%s: unreadable (corrupt gzip data?)",
			    l->dir, s.name);
		} else if (whole && r.seq > pos->seq + 1) {
			/* A whole record is never torn: the records between are gone. */
			rc = err_set(e, EV_DATAERR, "%s: records %llu-%llu are missing (before "
			    "%s; see evlog-read --verify)", l->dir, (unsigned long long)pos->seq + 1,
			    (unsigned long long)r.seq - 1, s.name);
		} else if (!whole && last && !s.sealed && (k == 2 || !valid_after(&s))) {
			rc = cut_tail(l, &s, at, e);
		} else {
			rc = err_set(e, EV_DATAERR, "%s/%s: damaged record at offset %llu: %s "
			    "(see evlog-read --verify)", l->dir, s.name,
			    (unsigned long long)at, why);
		}
		break;
	}
	elog_src_close(&s);
	if (tm[0] != '\0')
		clock_parse_rfc3339(tm, &pos->time_ms);
	return rc;
}

/* Where the index stands in segs: the first segment to scan and the
 * offset in it; resets the index when it does not fit the log. */
static int
start_point(struct elog *l, const struct elog_seg *segs, size_t n, size_t *i,
    uint64_t *off, struct ev_err *e)
{
	const struct elog_pos *p = elog_idx_pos(l);
	struct stat st;
	char name[40];

	*off = 0;
	if (p->seq == 0) {
		*i = 0;
		return 0;
	}
	for (*i = 0; *i < n && segs[*i].first != p->seg; (*i)++)
		;
	if (*i + 1 < n || (*i + 1 == n && segs[*i].gz)) {
		(*i)++;		/* a sealed segment is indexed to its end */
		return 0;
	}
	if (*i + 1 == n) {
		elog_seg_name(name, segs[*i].first, 0);
		if (fstatat(l->dirfd, name, &st, 0) == 0 && (uint64_t)st.st_size >= p->off) {
			*off = p->off;
			return 0;
		}
	}
	*i = 0;		/* the index is ahead of the log or lost: rebuild */
	return elog_idx_reset(l, e);
}

static int
open_active(struct elog *l, const struct elog_seg *last, struct ev_err *e)
{
	char name[40];
	struct stat st;

	if (l->segfd >= 0)
		close(l->segfd);
	l->segfd = -1;
	if (last == NULL || last->gz)
		return 0;	/* the next append starts a segment */
	elog_seg_name(name, last->first, 0);
	l->segfd = fsx_openat(l->dirfd, name, O_RDWR | O_APPEND, 0);
	if (l->segfd < 0 || fstat(l->segfd, &st) != 0)
		return elog_fail_open(l, e, "open", name);
	l->segfirst = last->first;
	l->segsize = (uint64_t)st.st_size;
	return 0;
}

int
elog_recover(struct elog *l, struct ev_err *e)
{
	struct elog_seg *segs = NULL;
	size_t n, i;
	uint64_t off;
	char name[40];
	int rc = elog_idx_open(l, e);

	if (rc == 0)
		rc = elog_list(l, &segs, &n, 1, e);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (segs[i].gz && segs[i].plain) {
			/* The .gz was synced before its rename: the plain one is spare. */
			elog_seg_name(name, segs[i].first, 0);
			unlinkat(l->dirfd, name, 0);
			segs[i].plain = 0;
		}
	}
	rc = start_point(l, segs, n, &i, &off, e);
	/* A log starts at seq 1: a first segment that starts later is a gap. */
	struct elog_pos pos = *elog_idx_pos(l);
	for (; rc == 0 && i < n; i++, off = 0)
		rc = scan_seg(l, &segs[i], off, i + 1 == n, &pos, e);
	if (rc == 0)
		elog_idx_set_pos(l, &pos);
	/* Seals cut short, or left by a writer that did not wait for them:
	 * the sealing thread does them (it needs no writer lock). */
	for (i = 0; rc == 0 && i + 1 < n; i++)
		if (segs[i].plain)
			elog_seal_later(l, segs[i].first, 0);
	if (rc == 0)
		rc = open_active(l, n > 0 ? &segs[n - 1] : NULL, e);
	free(segs);
	return rc;
}
