/* proc — posix_spawn with the attributes every evkit child gets. */
#include <signal.h>
#include <spawn.h>

#include "proc.h"

extern char **environ;

/* A new process group (so a whole handler can be killed at once), every
 * signal back to its default (we ignore SIGPIPE and catch others, and
 * ignored dispositions survive exec) and nothing blocked (threads that
 * spawn may block signals). */
static void
spawn_attr(posix_spawnattr_t *a)
{
	sigset_t all, none;

	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	posix_spawnattr_init(a);
	posix_spawnattr_setflags(a, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(a, 0);
	posix_spawnattr_setsigdefault(a, &all);
	posix_spawnattr_setsigmask(a, &none);
}

int
proc_spawn(char *const *argv, int fd0, int fd1, pid_t *pid)
{
	posix_spawnattr_t a;
	posix_spawn_file_actions_t fa;

	spawn_attr(&a);
	posix_spawn_file_actions_init(&fa);
	if (fd0 >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd0, 0);
	if (fd1 >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd1, 1);
	int e = posix_spawnp(pid, argv[0], &fa, &a, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	return e;
}
