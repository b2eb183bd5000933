/* proc — child processes for handlers and targets: each in its own
 * process group, every signal back to its default, nothing blocked, and
 * (Linux) killed by the kernel when the thread that spawned it ends, so
 * a SIGKILLed evkit command leaves no children behind.  Reap a child
 * before its spawning thread exits. */
#ifndef EVKIT_PROC_H
#define EVKIT_PROC_H

#include <sys/types.h>

/* Spawns argv (searched in PATH) with fd0 as its stdin and fd1 as its
 * stdout (-1: inherit ours).  Returns 0 and *pid, or posix_spawnp's
 * error (ENOENT, EACCES …). */
int proc_spawn(char *const *argv, int fd0, int fd1, pid_t *pid);
/* The same with fd2 as its stderr (-1: inherit ours). */
int proc_spawn3(char *const *argv, int fd0, int fd1, int fd2, pid_t *pid);

#endif
