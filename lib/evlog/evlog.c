/* evlog.c — opening a log, its lock, its segments, and reading lines
 * from one segment. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/fsx.h"
#include "core/msg.h"
#include "core/names.h"

void
elog_warn(struct elog *l, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (l->o.warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	l->o.warn(msg);
}


/* The directory and its lock file; 0, or a status with *e. */
static int
open_dir(struct elog *l, const char *dir, struct ev_err *e)
{
	int create = l->o.create;

	if (create && name_mkdirs(dir) != 0)
		return err_sys(e, EV_IOERR, "cannot create '%s'", dir);
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return err_sys(e, errno == ENOENT ? EV_NOINPUT : EV_IOERR,
		    "cannot open log '%s'", dir);
	int rc = create ? fsx_check_dir(l->dirfd, dir, e) : 0;
	if (rc != 0)
		return rc;
	l->lockfd = fsx_openat(l->dirfd, "lock", create ? O_RDWR | O_CREAT : O_RDONLY, 0600);
	if (l->lockfd < 0 && (create || errno != ENOENT))
		return elog_fail_open(l, e, "open", "lock");
	return 0;
}

int
elog_dir_open(const char *dir, const struct elog_opts *o, struct elog **out, struct ev_err *e)
{
	struct elog *l = xcalloc(1, sizeof *l);

	l->ops = &elog_dir_ops;
	l->dir = xstrdup(dir);
	l->o = *o;
	if (l->o.segment_bytes == 0)
		l->o.segment_bytes = ELOG_SEGMENT_BYTES;
	if (l->o.lock_timeout_ms == 0)
		l->o.lock_timeout_ms = ELOG_LOCK_TIMEOUT_MS;
	l->dirfd = l->lockfd = l->segfd = -1;
	l->writer = o->create;
	int rc = open_dir(l, dir, e);
	if (rc != 0) {
		elog_dir_close(l);
		l = NULL;
	}
	*out = l;
	return rc;
}

int
elog_fail_open(struct elog *l, struct ev_err *e, const char *what, const char *name)
{
	struct stat st;
	int en = errno;

	/* O_NOFOLLOW says ELOOP; O_EXCL says EEXIST, for a symlink too. */
	if (errno == ELOOP || (errno == EEXIST && fstatat(l->dirfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
		return err_set(e, EV_NOPERM, "'%s/%s' is a symbolic link: refusing to follow it",
		    l->dir, name);
	errno = en;
	return err_sys(e, EV_IOERR, "cannot %s '%s/%s'", what, l->dir, name);
}

void
elog_dir_close(struct elog *l)
{
	if (l == NULL)
		return;
	elog_dir_append_finish(l, NULL);
	elog_seal_wait(l);
	elog_idx_close(l);
	if (l->segfd >= 0)
		close(l->segfd);
	if (l->lockfd >= 0)
		close(l->lockfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->dir);
	free(l);
}

/* A lock not had in time is a temporary failure (SPEC 1: 75), naming
 * the process that holds it when /proc tells. */
static int
lock_timeout(struct elog *l, struct ev_err *e)
{
	char comm[32], who[80] = "";
	pid_t pid = fsx_lock_holder(l->lockfd, comm, sizeof comm);
	long ms = l->o.lock_timeout_ms;

	if (pid > 0)
		snprintf(who, sizeof who, ", held by pid %d%s%s%s", (int)pid,
		    comm[0] != '\0' ? " (" : "", comm, comm[0] != '\0' ? ")" : "");
	return err_set(e, EV_TEMPFAIL, "%s: the log is locked%s: gave up after %ld.%03ld s "
	    "(--lock-timeout)", l->dir, who, ms / 1000, ms % 1000);
}

int
elog_lock(struct elog *l, int how, struct ev_err *e)
{
	if (l->lockfd < 0)
		return 0;
	if (fsx_flock(l->lockfd, how, l->o.lock_timeout_ms) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return lock_timeout(l, e);
	return err_sys(e, EV_IOERR, "%s/lock: cannot lock", l->dir);
}

void
elog_unlock(struct elog *l)
{
	if (l->lockfd >= 0)
		flock(l->lockfd, LOCK_UN);
}

int
elog_fsync_dir(struct elog *l, struct ev_err *e)
{
	if (fsync(l->dirfd) != 0)
		return err_sys(e, EV_IOERR, "%s: cannot sync directory", l->dir);
	return 0;
}

void
elog_seg_name(char out[40], uint64_t first, int gz)
{
	snprintf(out, 40, "%020llu.ndjson%s", (unsigned long long)first, gz ? ".gz" : "");
}

static int
cmp_seg(const void *a, const void *b)
{
	const struct elog_seg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Parses a directory entry's name; 0 plain, 1 gz, 2 gz temp, -1 other. */
static int
seg_kind(const char *name, uint64_t *first)
{
	for (int i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	*first = strtoull(name, NULL, 10);
	if (*first == 0)
		return -1;
	if (strcmp(name + 20, ".ndjson") == 0)
		return 0;
	if (strcmp(name + 20, ".ndjson.gz") == 0)
		return 1;
	if (strncmp(name + 20, ".ndjson.gz.tmp", 14) == 0)
		return 2;
	return -1;
}

/* A symlink is never a segment: a .gz one would make a writer drop the
 * plain segment it seems to seal; opening one fails (O_NOFOLLOW). */
static int
is_link(struct elog *l, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_LNK;
	return fstatat(l->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode);
}

int
elog_list(struct elog *l, struct elog_seg **out, size_t *n, int clean, struct ev_err *e)
{
	int fd = openat(l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct elog_seg *s = NULL;
	size_t ns = 0, cap = 0;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return err_sys(e, EV_IOERR, "cannot list '%s'", l->dir);
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t first;
		int k = strlen(de->d_name) >= 27 ? seg_kind(de->d_name, &first) : -1;
		if (k == 2 && clean)
			elog_seal_stale_tmp(l, de->d_name, first);
		if (k < 0 || k == 2 || is_link(l, de))
			continue;
		size_t i;
		for (i = 0; i < ns && s[i].first != first; i++)
			;
		if (i == ns) {
			XGROW(&s, &cap, ns + 1);
			s[ns++] = (struct elog_seg){ first, 0, 0 };
		}
		if (k == 0)
			s[i].plain = 1;
		else
			s[i].gz = 1;
	}
	closedir(d);
	if (ns > 1)
		qsort(s, ns, sizeof *s, cmp_seg);
	*out = s;
	*n = ns;
	return 0;
}

int
elog_src_open(struct elog *l, struct elog_src *s, const struct elog_seg *seg,
    uint64_t from_off, struct ev_err *e)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->limit = UINT64_MAX;
	/* A seal may finish between listing and opening: try the .gz first,
	 * then the plain file, then the .gz again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		int gz = attempt != 1;
		if ((gz && !seg->gz && attempt == 0) || (!gz && !seg->plain && attempt == 1))
			continue;
		elog_seg_name(s->name, seg->first, gz);
		s->fd = fsx_openat(l->dirfd, s->name, O_RDONLY, 0);
		if (s->fd < 0 && errno == ENOENT)
			continue;
		if (s->fd < 0)
			return elog_fail_open(l, e, "open", s->name);
		s->sealed = gz;
		if (gz && from_off == 0)
			s->zt = elog_gz_open(s->fd);
		if (gz && s->zt == NULL) {
			s->gz = gzdopen(s->fd, "rb");
			if (s->gz == NULL)
				die_oom();
			gzbuffer(s->gz, 1 << 17);
		}
		break;
	}
	if (s->fd < 0)
		return err_set(e, EV_IOERR, "%s: segment %llu vanished", l->dir,
		    (unsigned long long)seg->first);
	if (s->zt != NULL)
		return 0;	/* its blocks are the buffer */
	s->cap = 1 << 18;
	s->buf = xmalloc(s->cap);
	if (from_off > 0) {
		if (s->gz != NULL ? gzseek(s->gz, (z_off_t)from_off, SEEK_SET) < 0 :
		    lseek(s->fd, (off_t)from_off, SEEK_SET) < 0)
			return err_sys(e, EV_IOERR, "%s/%s: cannot seek", l->dir, s->name);
		s->off = from_off;
	}
	return 0;
}

/* Reads more bytes after the unread ones; returns how many, 0 at the end,
 * -1 on error. */
static long
src_fill(struct elog_src *s)
{
	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->len - s->pos);
		s->len -= s->pos;
		s->pos = 0;
	}
	if (s->len == s->cap) {
		s->cap *= 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	size_t room = s->cap - s->len;
	uint64_t at = s->off + s->len;	/* file offset of the next byte read */
	if (s->gz == NULL && s->limit != UINT64_MAX) {
		if (at >= s->limit)
			return 0;
		if (room > s->limit - at)
			room = (size_t)(s->limit - at);
	}
	long got;
	if (s->gz != NULL) {
		got = gzread(s->gz, s->buf + s->len, (unsigned)room);
		if (got < 0)
			return -1;
		if (got == 0) {
			int zerr;
			gzerror(s->gz, &zerr);
			if (zerr != Z_OK)	/* Z_BUF_ERROR: truncated */
				return -1;
		}
	} else {
		do
			got = read(s->fd, s->buf + s->len, room);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -1;
	}
	s->len += (size_t)got;
	return got;
}

/* The next block of the inflating thread, once the current one is all
 * read (its blocks end with whole lines, but the last); as src_fill(). */
static long
src_block(struct elog_src *s)
{
	const char *p;
	size_t n;

	int k = elog_gz_next(s->zt, &p, &n);
	if (k <= 0)
		return k;	/* any unread bytes are the unterminated end */
	if (s->pos < s->len)
		return -1;	/* a line across blocks: evlog_gz.c never makes one */
	s->buf = (char *)p;
	s->pos = 0;
	s->len = n;
	return n > 0 ? (long)n : src_block(s);
}

int
elog_src_line(struct elog_src *s, const char **p, size_t *n)
{
	for (;;) {
		char *start = s->buf + s->pos;
		char *nl = s->pos < s->len ? memchr(start, '\n', s->len - s->pos) : NULL;
		if (nl != NULL) {
			*p = start;
			*n = (size_t)(nl - start);
			s->pos += *n + 1;
			s->off += *n + 1;
			s->lineno++;
			return 1;
		}
		long got = s->zt != NULL ? src_block(s) : src_fill(s);
		if (got < 0)
			return -1;
		if (got == 0) {
			if (s->len == s->pos)
				return 0;
			*p = s->buf + s->pos;
			*n = s->len - s->pos;
			return 2;	/* left unread: a writer may yet finish it */
		}
	}
}

void
elog_src_close(struct elog_src *s)
{
	if (s->zt != NULL)
		elog_gz_close(s->zt);	/* before fd: its thread reads it */
	else
		free(s->buf);
	if (s->gz != NULL)
		gzclose(s->gz);	/* closes fd too */
	else if (s->fd >= 0)
		close(s->fd);
	s->zt = NULL;
	s->gz = NULL;
	s->fd = -1;
	s->buf = NULL;
}
