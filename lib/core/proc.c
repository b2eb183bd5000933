/* proc — the one way evkit starts a child: a new process group (so a
 * whole handler can be killed at once), every signal back to its default
 * (we ignore SIGPIPE and catch others, and ignored dispositions survive
 * exec), nothing blocked (threads that spawn may block signals), and on
 * Linux a SIGKILL from the kernel when evkit dies, even by SIGKILL. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "proc.h"

extern char **environ;

#ifdef __linux__
/* The child side of proc_spawn_spec(): in a vfork child, on our memory,
 * with every signal blocked, so only system calls and the exec.  A
 * failure's errno goes to *err. */
static void
child(const struct proc_spec *s, pid_t parent, volatile int *err)
{
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
	if ((!(s->flags & PROC_SAME_GROUP) && setpgid(0, 0) != 0) ||
	    ((s->flags & PROC_SUBREAPER) && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		*err = errno;
		_exit(127);
	}
	for (int i = 0; i < 3; i++)
		if (s->fd[i] >= 0 && dup2(s->fd[i], i) < 0) {
			*err = errno;
			_exit(127);
		}
	if (getppid() != parent) {
		*err = ESRCH;	/* we died before the prctl took */
		_exit(127);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(s->argv[0], s->argv, s->envp != NULL ? s->envp : environ);
	*err = errno;
	_exit(127);
}

/* posix_spawn cannot ask for PR_SET_PDEATHSIG, so on Linux children are
 * started by vfork (as posix_spawn itself does) and child(). */
int
proc_spawn_spec(const struct proc_spec *s, pid_t *pid)
{
	sigset_t all, old;
	volatile int err = 0;
	pid_t parent = getpid();

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid_t p = vfork();
	if (p == 0)
		child(s, parent, &err);
	int e = p < 0 ? errno : err;
	if (p > 0 && e != 0)
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*pid = p;
	return e;
}
#else
static void
spawn_attr(posix_spawnattr_t *a, int flags)
{
	sigset_t all, none;

	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	posix_spawnattr_init(a);
	posix_spawnattr_setflags(a, (flags & PROC_SAME_GROUP ? 0 : POSIX_SPAWN_SETPGROUP) |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(a, 0);
	posix_spawnattr_setsigdefault(a, &all);
	posix_spawnattr_setsigmask(a, &none);
}

int
proc_spawn_spec(const struct proc_spec *s, pid_t *pid)
{
	posix_spawnattr_t a;
	posix_spawn_file_actions_t fa;

	spawn_attr(&a, s->flags);
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++)
		if (s->fd[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, s->fd[i], i);
	int e = posix_spawnp(pid, s->argv[0], &fa, &a, s->argv, s->envp != NULL ? s->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	return e;
}
#endif

int
proc_spawn_env(char *const *argv, char *const *envp, int flags, int fd0, int fd1, pid_t *pid)
{
	struct proc_spec s = { argv, envp, flags, { fd0, fd1, -1 } };

	return proc_spawn_spec(&s, pid);
}

int
proc_spawn(char *const *argv, int fd0, int fd1, pid_t *pid)
{
	struct proc_spec s = { argv, NULL, 0, { fd0, fd1, -1 } };

	return proc_spawn_spec(&s, pid);
}
