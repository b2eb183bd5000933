/* evlog_seal.c — sealing a full segment: gzip to a temporary file, fsync,
 * rename, fsync the directory, unlink the plain file.
 *
 * A seal reads an immutable file and publishes by an atomic rename, so it
 * needs no writer lock; evlog_append.c runs it in a thread after the lock
 * is released, so that appenders do not wait ~0.4 s per 64 MiB for gzip.
 * Sealers exclude each other with a flock on the plain segment itself:
 * whoever fails to take it leaves the segment to the one that holds it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "evlog_int.h"
#include "msg.h"

enum { ZBUF = 1 << 17 };

/* gzip of one file into another (level 1: 6.5x on event NDJSON at
 * ~150 MB/s, storage.md 9). */
static int
gzip_fd(int in, int out)
{
	z_stream z;
	unsigned char *ib = malloc(ZBUF), *ob = malloc(ZBUF);
	int rc = 0, flush;

	memset(&z, 0, sizeof z);
	if (ib == NULL || ob == NULL ||
	    deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(ib);
		free(ob);
		return -1;
	}
	do {
		ssize_t got = read(in, ib, ZBUF);
		if (got < 0) {
			rc = -1;
			break;
		}
		flush = got == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ib;
		z.avail_in = (uInt)got;
		do {
			z.next_out = ob;
			z.avail_out = ZBUF;
			deflate(&z, flush);
			size_t have = ZBUF - z.avail_out, w = 0;
			while (w < have && rc == 0) {
				ssize_t k = write(out, ob + w, have - w);
				if (k < 0 && errno != EINTR)
					rc = -1;
				else if (k > 0)
					w += (size_t)k;
			}
		} while (z.avail_out == 0 && rc == 0);
	} while (flush != Z_FINISH && rc == 0);
	deflateEnd(&z);
	free(ib);
	free(ob);
	return rc;
}

/* The sealer's lock: the plain segment, opened and flocked.  -1 with
 * errno EWOULDBLOCK when another sealer has it, ENOENT when it is gone. */
static int
lock_plain(int dirfd, const char *plain)
{
	int fd = openat(dirfd, plain, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Seals segment first.  0 when sealed (by us or already), 1 when another
 * sealer is at it, -1 with errno.  Prints nothing: it runs in a thread. */
static int
seal(int dirfd, uint64_t first)
{
	char plain[40], gz[40], tmp[64];
	struct stat st;

	elog_seg_name(plain, first, 0);
	elog_seg_name(gz, first, 1);
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", gz, (int)getpid());
	int in = lock_plain(dirfd, plain);
	if (in < 0)
		return errno == ENOENT ? 0 : errno == EWOULDBLOCK ? 1 : -1;
	if (fstatat(dirfd, gz, &st, 0) == 0) {
		unlinkat(dirfd, plain, 0);	/* sealed already: the plain one is spare */
		close(in);
		return 0;
	}
	int out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = out < 0 || gzip_fd(in, out) != 0 || fsync(out) != 0 ? -1 : 0;
	int e = errno;
	if (out >= 0 && close(out) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && renameat(dirfd, tmp, dirfd, gz) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && fsync(dirfd) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0)
		unlinkat(dirfd, plain, 0);
	else
		unlinkat(dirfd, tmp, 0);
	close(in);
	errno = e;
	return rc;
}

int
elog_seal(struct elog *l, uint64_t first)
{
	char plain[40];

	if (seal(l->dirfd, first) < 0) {
		elog_seg_name(plain, first, 0);
		return elog_fail_sys(l, EV_IOERR, "%s: cannot seal segment %s", l->dir, plain);
	}
	return 0;
}

int
elog_seal_stale_tmp(struct elog *l, const char *tmp, uint64_t first)
{
	char plain[40];

	elog_seg_name(plain, first, 0);
	int fd = lock_plain(l->dirfd, plain);
	if (fd < 0 && errno == EWOULDBLOCK)
		return 0;	/* a sealer is writing it */
	if (fd >= 0)
		close(fd);
	unlinkat(l->dirfd, tmp, 0);
	return 1;
}

static void *
sealer(void *arg)
{
	struct elog *l = arg;

	seal(l->dirfd, l->seal_first);	/* a failure leaves it to the next writer */
	return NULL;
}

void
elog_seal_later(struct elog *l, uint64_t first)
{
	elog_seal_wait(l);
	l->seal_first = first;
	if (pthread_create(&l->sealer, NULL, sealer, l) == 0)
		l->sealing = 1;
	else
		seal(l->dirfd, first);
}

void
elog_seal_wait(struct elog *l)
{
	if (l->sealing) {
		pthread_join(l->sealer, NULL);
		l->sealing = 0;
	}
}
