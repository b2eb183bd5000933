/* fn_shim — the keeper between fnrun and a handler (Linux).
 *
 * A handler may start processes that leave its process group (setsid)
 * and outlive it.  While fnrun lives, they come back to it as their
 * parents die (it is their subreaper) and it kills them.  But if fnrun
 * itself is killed by SIGKILL, what is left would go to init and live
 * on.  So each handler runs under a shim, a fork of fnrun that is
 * itself the subreaper of the handler's tree and gets SIGTERM when
 * fnrun dies (PR_SET_PDEATHSIG): it then kills every descendant it
 * has, waits for them, and goes.  When the handler ends, the shim does
 * the same and passes on the handler's wait status and rusage through a
 * pipe (its own would count fnrun's memory, which the fork shares).
 *
 * The shim leads the process group (the handler joins it), so killing
 * the group kills both; what had escaped comes back to fnrun. */
#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fn_int.h"

/* What the shim tells fnrun: first the spawn's outcome, at the end the
 * handler's. */
struct shim_msg {
	int err;		/* 0, or the spawn's errno */
	pid_t hpid;
	int status;
	struct rusage ru;
};

/* fn_each_child: SIGKILLs child and everything below it (depth first,
 * up to 64 deep); returns how many. */
static long
kill_below(long child, void *depth)
{
	long n = 1;
	int d = *(int *)depth + 1;

	if (d < 64)
		n += fn_each_child(child, kill_below, &d);
	kill((pid_t)child, SIGKILL);
	return n;
}

/* Kills everything below us and reaps it, until no child is left (a
 * killed process's orphans come to us as it dies). */
static void
kill_all(void)
{
	int depth, st;
	pid_t p;

	for (;;) {
		/* Most handlers leave nothing: no need to read /proc then. */
		p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == ECHILD)
			return;
		depth = 0;
		fn_each_child((long)getpid(), kill_below, &depth);
		p = waitpid(-1, &st, 0);
		if (p < 0 && errno != EINTR)
			return;	/* ECHILD: none left */
	}
}

/* Moves fd to the lowest free descriptor >= 10, closing fd. */
static int
move_up(int fd)
{
	int n = fcntl(fd, F_DUPFD, 10);

	close(fd);
	return n;
}

/* The shim's descriptors: fd0 and fd1 as its stdin and stdout (for the
 * handler to inherit), st as 3 (close-on-exec), stderr as it is, and
 * nothing else of fnrun's: another handler's pipe held here would keep
 * it from seeing EOF.  Returns 0, or -1. */
static int
shim_fds(int fd0, int fd1, int st)
{
	fd0 = move_up(fd0);
	fd1 = move_up(fd1);
	st = move_up(st);
	if (fd0 < 0 || fd1 < 0 || st < 0 || dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 ||
	    dup2(st, 3) < 0)
		return -1;
	close_range(4, ~0U, 0);
	return fcntl(3, F_SETFD, FD_CLOEXEC);
}

/* Waits, with every signal blocked, until the handler m->hpid ends (its
 * status and rusage into *m; other children are reaped as they come) or
 * a signal says fnrun is gone (then everything dies, and so do we). */
static void
wait_handler(struct shim_msg *m)
{
	sigset_t set;
	siginfo_t si;
	struct rusage ru;
	int s;
	pid_t p;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (m->status = -1; m->status == -1;) {
		int sig = sigwaitinfo(&set, &si);
		if (sig > 0 && sig != SIGCHLD) {
			kill_all();
			_exit(127);
		}
		while ((p = wait4(-1, &s, WNOHANG, &ru)) > 0)
			if (p == m->hpid) {
				m->status = s;
				m->ru = ru;
			}
	}
}

/* The shim itself, in the child of fork() with every signal blocked:
 * stdin fd0, stdout fd1, the message pipe st.  Never returns. */
static void
shim(const struct fn_runner *r, int fd0, int fd1, int st, pid_t parent)
{
	struct shim_msg m = { 0 };
	struct rlimit nocore = { 0, 0 };
	sigset_t none;

	signal(SIGCHLD, SIG_DFL);	/* not fnrun's wake-up; blocked: waited for */
	if (setpgid(0, 0) != 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent ||
	    shim_fds(fd0, fd1, st) != 0)
		_exit(127);
	m.err = proc_spawn_env(r->o.argv, r->env.v, PROC_SAME_GROUP, -1, -1, &m.hpid);
	setrlimit(RLIMIT_CORE, &nocore);	/* only the handler may dump core */
	close(0);
	close(1);
	if (write(3, &m, sizeof m) != (ssize_t)sizeof m || m.err != 0)
		_exit(127);
	wait_handler(&m);
	kill_all();
	(void)!write(3, &m, sizeof m);
	if (WIFSIGNALED(m.status)) {
		signal(WTERMSIG(m.status), SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		raise(WTERMSIG(m.status));
	}
	_exit(WIFEXITED(m.status) ? WEXITSTATUS(m.status) : 127);
}

int
fn_shim_spawn(const struct fn_runner *r, int fd0, int fd1, pid_t *pid, pid_t *hpid, int *st_fd)
{
	struct shim_msg m = { 0 };
	sigset_t all, old;
	int st[2];
	ssize_t got = 0;

	if (pipe2(st, O_CLOEXEC) != 0)
		return errno;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t parent = getpid(), p = fork();
	if (p == 0) {
		close(st[0]);
		shim(r, fd0, fd1, st[1], parent);
	}
	int e = p < 0 ? errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(st[1]);
	while (p > 0 && (got = read(st[0], &m, sizeof m)) < 0 && errno == EINTR)
		;
	if (e == 0 && (got != (ssize_t)sizeof m || m.err != 0)) {
		e = got == (ssize_t)sizeof m ? m.err : EAGAIN;
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (e != 0) {
		close(st[0]);
		return e;
	}
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	*pid = p;
	*hpid = m.hpid;
	*st_fd = st[0];
	return 0;
}

int
fn_shim_status(int st_fd, int *status, struct rusage *ru)
{
	struct shim_msg m;

	if (st_fd < 0 || read(st_fd, &m, sizeof m) != (ssize_t)sizeof m)
		return -1;
	*status = m.status;
	*ru = m.ru;
	return 0;
}
#endif
