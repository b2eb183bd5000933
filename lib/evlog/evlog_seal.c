/* evlog_seal.c — sealing a full segment: gzip to a temporary file, fsync,
 * rename, fsync the directory, unlink the plain file.
 *
 * A seal reads an immutable file and publishes by an atomic rename, so it
 * needs no writer lock; each writing handle has one thread that seals the
 * segments it rotates out (after the lock is released) and those its
 * recovery finds unsealed, in order, so that appenders never wait for
 * gzip (~0.2 s per 64 MiB).  Sealers exclude each other with a flock on
 * the plain segment itself: whoever fails to take it leaves the segment
 * to the one that holds it.  A seal stopped half-way, or killed with its
 * process, leaves the plain segment whole and a temp file that the next
 * writer removes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/fsx.h"
#include "core/msg.h"

/* ZBUF: gzip's buffers.  WAIT_BYTES: how much of its own seal a closing
 * handle still waits for (about 20 ms of gzip).  BEHIND: how many seals
 * may wait behind the running one before a rotation waits. */
enum { ZBUF = 1 << 17, WAIT_BYTES = 4 << 20, BEHIND = 4, NFAILED = 8 };

/* What a sealing thread is told and tells: stop (the handle is closing
 * and this seal is not worth waiting for) and how many bytes are left. */
struct progress {
	atomic_int stop;
	atomic_ullong left;
};

/* gzip of one file into another (level 1: 6.5x on event NDJSON at
 * ~150 MB/s, storage.md 9): raw deflate between a header and a trailer
 * of our own, so that the CRC-32 is evlog_crc.c's, not zlib's slower
 * one.  The header is the one zlib writes at level 1 (no name, no time,
 * XFL 4 "fastest", OS 3 "Unix").  -1 with errno ECANCELED when told to
 * stop. */
static int
gzip_fd(int in, int out, struct progress *pr)
{
	static const unsigned char head[10] = { 037, 0213, 8, 0, 0, 0, 0, 0, 4, 3 };
	z_stream z;
	unsigned char *ib = malloc(ZBUF), *ob = malloc(ZBUF), tail[8];
	uint32_t crc = 0, isize = 0;
	int rc, flush;

	memset(&z, 0, sizeof z);
	if (ib == NULL || ob == NULL ||
	    deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(ib);
		free(ob);
		return -1;
	}
	rc = write_fully(out, head, sizeof head);
	for (flush = Z_NO_FLUSH; rc == 0 && flush != Z_FINISH; ) {
		ssize_t got = read(in, ib, ZBUF);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (atomic_load(&pr->stop)) {
			errno = ECANCELED;
			rc = -1;
			break;
		}
		crc = elog_crc32_update(crc, ib, (size_t)got);
		isize += (uint32_t)got;
		atomic_fetch_sub(&pr->left, (unsigned long long)got);
		flush = got == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ib;
		z.avail_in = (uInt)got;
		do {
			z.next_out = ob;
			z.avail_out = ZBUF;
			deflate(&z, flush);
			rc = write_fully(out, ob, ZBUF - z.avail_out);
		} while (z.avail_out == 0 && rc == 0);
	}
	for (int i = 0; i < 4; i++) {
		tail[i] = (unsigned char)(crc >> (8 * i));
		tail[4 + i] = (unsigned char)(isize >> (8 * i));
	}
	if (rc == 0)
		rc = write_fully(out, tail, sizeof tail);
	int e = errno;
	deflateEnd(&z);
	free(ib);
	free(ob);
	errno = e;
	return rc;
}

/* The sealer's lock: the plain segment, opened and flocked.  -1 with
 * errno EWOULDBLOCK when another sealer has it, ENOENT when it is gone. */
static int
lock_plain(int dirfd, const char *plain)
{
	int fd = fsx_openat(dirfd, plain, O_RDONLY, 0);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Seals segment first.  0 when sealed (by us or already), 1 when another
 * sealer is at it, -1 with errno (ECANCELED: told to stop; the plain
 * segment is then as it was).  Prints nothing: it runs in a thread. */
static int
seal(int dirfd, uint64_t first, struct progress *pr)
{
	char plain[40], gz[40], tmp[64];
	struct stat st;

	elog_seg_name(plain, first, 0);
	elog_seg_name(gz, first, 1);
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", gz, (int)getpid());
	int in = lock_plain(dirfd, plain);
	if (in < 0)
		return errno == ENOENT ? 0 : errno == EWOULDBLOCK ? 1 : -1;
	if (fstatat(dirfd, gz, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		unlinkat(dirfd, plain, 0);	/* sealed already: the plain one is spare */
		close(in);
		return 0;
	}
	int out = fsx_create_tmp(dirfd, tmp, O_WRONLY, 0600);
	int rc = out < 0 || gzip_fd(in, out, pr) != 0 || fsync(out) != 0 ? -1 : 0;
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
elog_seal_stale_tmp(struct elog *l, const char *tmp, uint64_t first)
{
	char plain[40];

	elog_seg_name(plain, first, 0);
	int fd = lock_plain(l->dirfd, plain);
	if (fd < 0 && errno == EWOULDBLOCK)
		return 0;	/* a sealer is writing it */
	/* unlinked under the lock, so that no sealer takes the name between */
	unlinkat(l->dirfd, tmp, 0);
	if (fd >= 0)
		close(fd);
	return 1;
}

/* The segments a handle has to seal, in order, and the thread sealing
 * them.  own: rotated out by this handle; else found unsealed by its
 * recovery (left by a writer that exited or died first). */
struct elog_sealer {
	pthread_mutex_t mu;
	pthread_cond_t taken;	/* a job left the queue */
	pthread_t th;
	int started, running;
	struct job { uint64_t first; int own; } *q, cur;
	size_t n, cap;
	uint64_t failed[NFAILED];	/* not tried again by this handle (a full disk) */
	size_t nfailed;
	struct progress pr;	/* of cur */
};

/* The size of the plain segment first; 0 if it is gone. */
static uint64_t
plain_size(struct elog *l, uint64_t first)
{
	char name[40];
	struct stat st;

	elog_seg_name(name, first, 0);
	return fstatat(l->dirfd, name, &st, 0) == 0 ? (uint64_t)st.st_size : 0;
}

/* Seals the queued segments, until there are none. */
static void
drain(struct elog *l)
{
	struct elog_sealer *sq = l->sq;

	pthread_mutex_lock(&sq->mu);
	while (sq->n > 0) {
		sq->cur = sq->q[0];
		memmove(sq->q, sq->q + 1, --sq->n * sizeof *sq->q);
		pthread_cond_broadcast(&sq->taken);
		atomic_store(&sq->pr.stop, 0);
		atomic_store(&sq->pr.left, plain_size(l, sq->cur.first));
		pthread_mutex_unlock(&sq->mu);
		/* A failure leaves it to the next writer, not to this one's
		 * next batch: its recovery finds the segment unsealed each time. */
		int failed = seal(l->dirfd, sq->cur.first, &sq->pr) < 0 && errno != ECANCELED;
		pthread_mutex_lock(&sq->mu);
		if (failed)
			sq->failed[sq->nfailed++ % NFAILED] = sq->cur.first;
		sq->cur.first = 0;
	}
	sq->running = 0;
	pthread_mutex_unlock(&sq->mu);
}

static void *
sealer(void *arg)
{
	/* Behind the appending thread when they compete for a core: an
	 * append waits for nothing a seal does. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), getpriority(PRIO_PROCESS, 0) + 5);
	drain(arg);
	return NULL;
}

/* 1 if first is being sealed, waits to be, or failed to be. */
static int
queued(const struct elog_sealer *sq, uint64_t first)
{
	if (sq->cur.first == first)
		return 1;
	for (size_t i = 0; i < sq->nfailed && i < NFAILED; i++)
		if (sq->failed[i] == first)
			return 1;
	for (size_t i = 0; i < sq->n; i++)
		if (sq->q[i].first == first)
			return 1;
	return 0;
}

void
elog_seal_later(struct elog *l, uint64_t first, int own)
{
	struct elog_sealer *sq = l->sq;

	if (sq == NULL) {
		sq = l->sq = xcalloc(1, sizeof *sq);
		pthread_mutex_init(&sq->mu, NULL);
		pthread_cond_init(&sq->taken, NULL);
	}
	pthread_mutex_lock(&sq->mu);
	if (!queued(sq, first)) {
		XGROW(&sq->q, &sq->cap, sq->n + 1);
		sq->q[sq->n++] = (struct job){ first, own };
	}
	int here = 0;
	if (!sq->running && sq->n > 0) {
		if (sq->started)
			pthread_join(sq->th, NULL);	/* it has finished its last */
		sq->started = sq->running = pthread_create(&sq->th, NULL, sealer, l) == 0;
		here = !sq->started;
	}
	/* A writer faster than gzip (a bulk append on a busy machine) waits
	 * here, when a seal is running and BEHIND more wait: a bound on the
	 * plain segments it can leave (at exit) to the next writer. */
	while (own && sq->running && sq->n > BEHIND)
		pthread_cond_wait(&sq->taken, &sq->mu);
	pthread_mutex_unlock(&sq->mu);
	if (here)
		drain(l);	/* no thread: seal here and now */
}

void
elog_seal_wait(struct elog *l)
{
	struct elog_sealer *sq = l->sq;
	size_t i, k;

	if (sq == NULL)
		return;
	/* A seal of our own with much left to do is not waited for: the
	 * segment stays plain, which readers read as well, and the next
	 * writer's recovery seals it (and waits for that one).  So a big
	 * append does not end with a gzip of up to a whole segment, and no
	 * segment is passed on more than once. */
	pthread_mutex_lock(&sq->mu);
	for (i = k = 0; i < sq->n; i++)
		if (!sq->q[i].own || plain_size(l, sq->q[i].first) <= WAIT_BYTES)
			sq->q[k++] = sq->q[i];
	sq->n = k;
	if (sq->cur.own && atomic_load(&sq->pr.left) > WAIT_BYTES)
		atomic_store(&sq->pr.stop, 1);
	pthread_mutex_unlock(&sq->mu);
	if (sq->started)
		pthread_join(sq->th, NULL);
	pthread_mutex_destroy(&sq->mu);
	pthread_cond_destroy(&sq->taken);
	free(sq->q);
	free(sq);
	l->sq = NULL;
}
