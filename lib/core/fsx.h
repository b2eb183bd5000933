/* fsx — files of a store (a log, a queue) opened safely: never through a
 * symlink planted in the store's directory, temporaries created afresh,
 * the directory itself checked to be the user's alone, and locks that
 * give up after a while, naming who holds them. */
#ifndef EVKIT_FSX_H
#define EVKIT_FSX_H

#include <sys/types.h>

#include "err.h"

/* openat() with O_NOFOLLOW and O_CLOEXEC added: a symlink named name
 * fails with ELOOP instead of being followed (to truncate or overwrite
 * what it points at). */
int fsx_openat(int dirfd, const char *name, int flags, mode_t mode);
/* Closes *fd if it is open (>= 0) and sets it to -1. */
void fsx_close(int *fd);
/* One read from the non-blocking *fd (a child's pipe) through EINTR: the
 * bytes read, or 0 when there is nothing now (EAGAIN) or no more (end or
 * error: *fd is then closed and -1). */
size_t fsx_read_some(int *fd, void *buf, size_t n);

/* Creates the temporary name in dirfd for writing (O_CREAT | O_EXCL |
 * O_NOFOLLOW, mode): a leftover by that name, a file or a planted
 * symlink, is unlinked first, never opened.  The fd, or -1 with errno. */
int fsx_create_tmp(int dirfd, const char *name, int flags, mode_t mode);

/* Checks that the directory open as dirfd (path is for messages) may
 * hold a store: owned by the effective user or by root, and not
 * writable by group or others (who could plant files in it).  0, or
 * EV_NOPERM (EV_IOERR when it cannot be examined) with *e filled. */
int fsx_check_dir(int dirfd, const char *path, struct ev_err *e);
/* The same for the directory that holds the file path. */
int fsx_check_parent(const char *path, struct ev_err *e);

/* flock(fd, how) waiting at most timeout_ms (negative: for ever).  0,
 * or -1 with errno (EWOULDBLOCK: it timed out). */
int fsx_flock(int fd, int how, long timeout_ms);

/* The pid of a process holding a lock on fd's file other than this one
 * (from /proc/locks), or 0 when unknown.  comm (at least 16 bytes) gets
 * its name, or "". */
pid_t fsx_lock_holder(int fd, char *comm, size_t comm_n);

#endif
