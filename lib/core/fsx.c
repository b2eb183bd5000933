/* fsx.c — safe opens, checked directories, locks with a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "fsx.h"
#include "msg.h"

int
fsx_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

int
fsx_create_tmp(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd = fsx_openat(dirfd, name, flags | O_CREAT | O_EXCL, mode);

	/* A leftover of a writer that died, or something planted: either
	 * way, not ours to open.  O_EXCL refuses a symlink even when it
	 * dangles. */
	if (fd < 0 && errno == EEXIST && unlinkat(dirfd, name, 0) == 0)
		fd = fsx_openat(dirfd, name, flags | O_CREAT | O_EXCL, mode);
	return fd;
}

int
fsx_check_dir(int dirfd, const char *path, struct ev_err *e)
{
	struct stat st;

	if (fstat(dirfd, &st) != 0)
		return err_sys(e, EV_IOERR, "cannot examine '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, EV_IOERR, "'%s' is not a directory", path);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return err_set(e, EV_NOPERM, "'%s' belongs to uid %u, not to you or root: "
		    "refusing to use it", path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, EV_NOPERM, "'%s' is writable by %s (mode %04o): refusing to "
		    "use it (chmod go-w)", path, st.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

int
fsx_check_parent(const char *path, struct ev_err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") :
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		rc = err_sys(e, errno == ENOENT ? EV_NOINPUT : EV_IOERR, "cannot open '%s'", dir);
	else
		rc = fsx_check_dir(fd, dir, e);
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* A blocking flock in a thread of its own, on a second open file
 * description of the lock file, so that the caller can stop waiting: the
 * kernel wakes a blocked flock when the lock is released, which polling
 * would not match under steady contention.  A waiter given up on releases
 * the lock as soon as it gets it. */
struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd, how, done, abandoned, err;
};

static void
waiter_free(struct waiter *w)
{
	close(w->fd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void *
waiter_run(void *arg)
{
	struct waiter *w = arg;
	int rc;

	while ((rc = flock(w->fd, w->how)) != 0 && errno == EINTR)
		;
	pthread_mutex_lock(&w->mu);
	int gone = w->abandoned;
	w->done = 1;
	w->err = rc == 0 ? 0 : errno;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (gone)
		waiter_free(w);		/* closing fd releases the lock */
	return NULL;
}

/* Where threads or /proc are missing: try, nap, try again. */
static int
poll_lock(int fd, int how, long timeout_ms)
{
	int64_t end = clock_mono_ms() + timeout_ms;
	useconds_t nap = 1000;

	for (;;) {
		if (flock(fd, how | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (clock_mono_ms() >= end) {
			errno = EWOULDBLOCK;
			return -1;
		}
		usleep(nap);
		if (nap < 50000)
			nap *= 2;
	}
}

/* Waits for w until the monotonic deadline; 1 if it is done. */
static int
waiter_wait(struct waiter *w, long timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!w->done && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
		;
	return w->done;
}

static int
thread_lock(int fd, int how, long timeout_ms)
{
	char self[40];
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t th;

	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	int fd2 = open(self, O_RDONLY | O_CLOEXEC);	/* the same file, a new description */
	if (fd2 < 0)
		return poll_lock(fd, how, timeout_ms);
	struct waiter *w = xcalloc(1, sizeof *w);
	w->fd = fd2;
	w->how = how;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	int started = pthread_create(&th, &ta, waiter_run, w) == 0;
	pthread_attr_destroy(&ta);
	if (!started) {
		waiter_free(w);
		return poll_lock(fd, how, timeout_ms);
	}
	pthread_mutex_lock(&w->mu);
	if (!waiter_wait(w, timeout_ms)) {
		w->abandoned = 1;	/* the thread frees it */
		pthread_mutex_unlock(&w->mu);
		errno = EWOULDBLOCK;
		return -1;
	}
	pthread_mutex_unlock(&w->mu);
	int err = w->err, rc = 0;
	/* fd takes over the description that holds the lock. */
	if (err == 0 && dup3(w->fd, fd, O_CLOEXEC) < 0)
		err = errno;
	waiter_free(w);
	if (err != 0) {
		errno = err;
		rc = -1;
	}
	return rc;
}

int
fsx_flock(int fd, int how, long timeout_ms)
{
	if (flock(fd, how | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	if (timeout_ms < 0) {
		while (flock(fd, how) != 0)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	if (timeout_ms == 0) {
		errno = EWOULDBLOCK;
		return -1;
	}
	return thread_lock(fd, how, timeout_ms);
}

static void
read_comm(pid_t pid, char *comm, size_t n)
{
	char path[40];

	comm[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(comm, (int)n, f) != NULL)
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

pid_t
fsx_lock_holder(int fd, char *comm, size_t comm_n)
{
	struct stat st;
	char line[256], kind[16];
	unsigned maj, min;
	unsigned long ino;
	int pid;
	pid_t found = 0;

	comm[0] = '\0';
	FILE *f = fstat(fd, &st) == 0 ? fopen("/proc/locks", "re") : NULL;
	if (f == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof line, f) != NULL) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; waiters
		 * are listed as "1: -> FLOCK ...". */
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &pid, &maj, &min,
		    &ino) != 5)
			continue;
		if (pid > 0 && pid != getpid() && ino == st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev))
			found = pid;
	}
	fclose(f);
	if (found != 0)
		read_comm(found, comm, comm_n);
	return found;
}

void
fsx_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

size_t
fsx_read_some(int *fd, void *buf, size_t n)
{
	while (*fd >= 0) {
		ssize_t got = read(*fd, buf, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return 0;
		if (got > 0)
			return (size_t)got;
		fsx_close(fd);
	}
	return 0;
}
