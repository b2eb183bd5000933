/* fn_keeper — the one process between fnrun and its handlers (Linux).
 *
 * A handler may start processes that leave its process group (setsid)
 * and outlive their parents.  While the handler lives they must stay in
 * its tree (--memory counts them); when it ends they must die; and if
 * fnrun is killed by SIGKILL they must not go to init and live on.  So
 * each handler is made the subreaper of its own descendants (the
 * setting survives its exec): what they orphan stays below it.  The
 * handlers are started by a keeper, a fork of fnrun made at the first
 * spawn, that is their parent and the subreaper of what they leave when
 * they end.  It reaps each handler, kills its group while it is a
 * zombie, then kills whatever came back to it; and when fnrun dies
 * (PR_SET_PDEATHSIG, or end of file on its socket) it kills everything
 * below it and goes.
 *
 * fnrun asks over a socket pair: SPAWN, with the handler's stdin and
 * stdout attached (SCM_RIGHTS), answered by SPAWNED and the handler's
 * pid; KILL, a running handler's group.  The keeper tells of each
 * handler's end (EXITED) with its wait status and rusage.
 *
 * One keeper, not a process per invocation between fnrun and the
 * handler: a fork per event cost a third of process mode's throughput. */
#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/sigact.h"
#include "fn_int.h"

enum keep_op { KEEP_SPAWN = 1, KEEP_KILL, KEEP_SPAWNED, KEEP_EXITED };

struct keep_msg {
	int op;
	int err;		/* SPAWNED: 0, or the spawn's errno */
	pid_t pid;		/* the handler */
	int status;		/* EXITED: its wait status and rusage */
	struct rusage ru;
	char entry[FN_ENV_ENTRY_MAX];	/* SPAWN: NAME=VALUE to add, or "" */
};

/* fnrun's side: a keeper per runner (a caller may open several, each
 * with its own command), with its socket and the EXITED messages that
 * came while a SPAWNED was awaited. */
struct kp {
	const struct fn_runner *r;
	int sock;
	pid_t pid;
	struct keep_msg *pend;
	size_t npend, cappend;
};
static struct kp *kps;
static size_t nkps, capkps;

/* r's keeper, made (not started: sock -1) when make. */
static struct kp *
kp_of(const struct fn_runner *r, int make)
{
	for (size_t i = 0; i < nkps; i++)
		if (kps[i].r == r)
			return &kps[i];
	if (!make)
		return NULL;
	XGROW(&kps, &capkps, nkps + 1);
	kps[nkps] = (struct kp){ .r = r, .sock = -1 };
	return &kps[nkps++];
}

/* The keeper's side: the handlers running. */
static pid_t *live;
static size_t nlive, caplive;

static int
is_live(pid_t p)
{
	for (size_t i = 0; i < nlive; i++)
		if (live[i] == p)
			return 1;
	return 0;
}

static void
unlive(pid_t p)
{
	for (size_t i = 0; i < nlive; i++)
		if (live[i] == p) {
			live[i] = live[--nlive];
			return;
		}
}

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

	for (;;) {
		/* Most handlers leave nothing: no need to read /proc then. */
		if (waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD)
			return;
		depth = 0;
		fn_each_child((long)getpid(), kill_below, &depth);
		if (waitpid(-1, &st, 0) < 0 && errno != EINTR)
			return;	/* ECHILD: none left */
	}
}

static void
tell(int sock, const struct keep_msg *m)
{
	while (send(sock, m, sizeof *m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* fn_each_child: kills a child of the keeper that is neither a running
 * handler nor in one's group, with all below it: what an ended handler
 * left. */
static long
kill_stray(long child, void *unused)
{
	pid_t g = getpgid((pid_t)child);
	int depth = 0;

	(void)unused;
	if (is_live((pid_t)child) || (g > 0 && is_live(g)))
		return 0;
	return kill_below(child, &depth);
}

/* Whether we have a child that is no running handler, as /proc lists
 * our children (one read: the keeper has one thread); 1 when it cannot
 * tell.  Most handlers leave nothing, and this is done at every end. */
static int
has_strays(void)
{
	char path[64], b[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof b - 1)
		return 1;
	b[n] = '\0';
	for (char *p = b, *end; *p != '\0'; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (!is_live((pid_t)pid))
			return 1;
	}
	return 0;
}

/* Reaps every child that has ended.  A handler's group is killed while
 * it is still a zombie, so the group id cannot have been reused, and its
 * end is told; then what it left, which came back to us, dies too. */
static void
reap(int sock)
{
	size_t reaped = 0;

	for (;;) {
		siginfo_t si;
		struct keep_msg m = { .op = KEEP_EXITED };
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
			break;
		m.pid = si.si_pid;
		int handler = is_live(m.pid);
		kill(-m.pid, SIGKILL);
		while (wait4(m.pid, &m.status, 0, &m.ru) < 0 && errno == EINTR)
			;
		reaped++;
		if (handler) {
			unlive(m.pid);
			tell(sock, &m);
		}
	}
	if (reaped > 0 && has_strays())
		fn_each_child((long)getpid(), kill_stray, NULL);
}

/* fnrun is gone: everything below us dies, and so do we. */
static noreturn void
end(void)
{
	nlive = 0;
	kill_all();
	_exit(0);
}

/* Receives one request; a SPAWN's two descriptors go to fd[]. */
static ssize_t
take(int sock, struct keep_msg *m, int fd[2])
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { m, sizeof *m };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof cbuf };
	ssize_t n;

	fd[0] = fd[1] = -1;
	while ((n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	struct cmsghdr *c = CMSG_FIRSTHDR(&h);
	if (n > 0 && c != NULL && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
		memcpy(fd, CMSG_DATA(c), 2 * sizeof(int));
	return n;
}

/* Starts a handler with fd0 and fd1 as its stdin and stdout, in its own
 * group and the subreaper of its descendants, and says so. */
static void
spawn(const struct fn_runner *r, const char *entry, int sock, int fd0, int fd1)
{
	struct keep_msg m = { .op = KEEP_SPAWNED, .err = EINVAL };

	char **env = entry[0] != '\0' ? fn_env_plus(r, entry) : r->env.v;

	if (fd0 >= 0)
		m.err = proc_spawn_env(r->o.argv, env, PROC_SUBREAPER, fd0, fd1, &m.pid);
	if (env != r->env.v) {
		free(env[0]);
		free(env);
	}
	if (m.err == 0) {
		XGROW(&live, &caplive, nlive + 1);
		live[nlive++] = m.pid;
	}
	tell(sock, &m);
}

static void
serve(const struct fn_runner *r, int sock)
{
	struct keep_msg m;
	int fd[2];

	if (take(sock, &m, fd) <= 0)
		end();
	if (m.op == KEEP_KILL && is_live(m.pid))
		kill(-m.pid, SIGKILL);
	else if (m.op == KEEP_SPAWN) {
		m.entry[sizeof m.entry - 1] = '\0';
		spawn(r, m.entry, sock, fd[0], fd[1]);
	}
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* The keeper's descriptors: the socket as 3, stderr as it is (handlers
 * inherit it), /dev/null on 0 and 1, and nothing else of fnrun's: a
 * handler's pipe held here would keep it from seeing end of file. */
static int
keeper_fds(int sock)
{
	int null;

	if (dup2(sock, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) != 0 ||
	    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0)
		return -1;
	close_range(4, ~0U, 0);
	return 0;
}

/* The keeper itself, in the child of fork() with every signal blocked
 * (they come through a signalfd).  Never returns. */
static noreturn void
keeper(const struct fn_runner *r, int sock, pid_t parent)
{
	struct rlimit nocore = { 0, 0 };
	sigset_t set;

	sigact_set(SIGCHLD, SIG_DFL, 0, NULL);	/* not fnrun's wake-up */
	setrlimit(RLIMIT_CORE, &nocore);	/* only a handler may dump core */
	if (setpgid(0, 0) != 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent || keeper_fds(sock) != 0)
		_exit(127);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		_exit(127);
	for (;;) {
		struct pollfd p[2] = { { 3, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents && read(sfd, &si, sizeof si) == (ssize_t)sizeof si &&
		    si.ssi_signo == SIGTERM && getppid() != parent)
			end();	/* a stray SIGTERM while fnrun lives is ignored */
		reap(3);
		if (p[0].revents)
			serve(r, 3);
	}
}

static int
start(struct kp *k)
{
	int sv[2];
	sigset_t all, old;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return errno;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t parent = getpid(), p = fork();
	if (p == 0)
		keeper(k->r, sv[1], parent);
	int e = p < 0 ? errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (e != 0) {
		close(sv[0]);
		return e;
	}
	k->sock = sv[0];
	k->pid = p;
	return 0;
}

static void
keep_pend(struct kp *k, const struct keep_msg *m)
{
	XGROW(&k->pend, &k->cappend, k->npend + 1);
	k->pend[k->npend++] = *m;
}

/* The next SPAWNED (block) or EXITED (not block) message, waiting for
 * one when block; 0 when there is none, -1 when the keeper is gone.  An
 * EXITED that comes while a SPAWNED is awaited is kept for later. */
static int
next(struct kp *k, struct keep_msg *m, int block)
{
	ssize_t n;

	for (;;) {
		while ((n = recv(k->sock, m, sizeof *m, block ? 0 : MSG_DONTWAIT)) < 0 &&
		    errno == EINTR)
			;
		if (n != (ssize_t)sizeof *m)
			return n < 0 && errno == EAGAIN ? 0 : -1;
		if (block && m->op == KEEP_EXITED)
			keep_pend(k, m);
		else
			return 1;
	}
}

/* The keeper died (killed by hand, say): what it told before it went is
 * kept; its handlers die with it (their PR_SET_PDEATHSIG) and come back
 * to fnrun, the subreaper, to be reaped there; the next spawn starts
 * another keeper. */
static void
lost(struct kp *k)
{
	struct keep_msg m;

	while (next(k, &m, 0) > 0)
		keep_pend(k, &m);
	close(k->sock);
	k->sock = -1;
	while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Sends a SPAWN and takes its SPAWNED; -1 when the keeper is gone. */
static int
ask_spawn(struct kp *k, const char *entry, int fd0, int fd1, pid_t *pid)
{
	struct keep_msg m = { .op = KEEP_SPAWN };

	if (entry != NULL)
		snprintf(m.entry, sizeof m.entry, "%s", entry);
	int fd[2] = { fd0, fd1 }, got;
	char cbuf[CMSG_SPACE(sizeof fd)];
	struct iovec iov = { &m, sizeof m };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof cbuf };

	memset(cbuf, 0, sizeof cbuf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&h);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fd);
	memcpy(CMSG_DATA(c), fd, sizeof fd);
	while (sendmsg(k->sock, &h, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	/* One spawn at a time: the SPAWNED that comes is this one's. */
	while ((got = next(k, &m, 1)) > 0 && m.op != KEEP_SPAWNED)
		;
	if (got <= 0)
		return -1;
	*pid = m.pid;
	return m.err;
}

int
fn_keeper_spawn(const struct fn_runner *r, const char *entry, int fd0, int fd1, pid_t *pid)
{
	struct kp *k = kp_of(r, 1);
	int e = -1;

	for (int tries = 0; e < 0 && tries < 2; tries++) {
		if (k->sock < 0 && (e = start(k)) != 0)
			return e;
		if ((e = ask_spawn(k, entry, fd0, fd1, pid)) < 0)
			lost(k);
	}
	return e < 0 ? EPIPE : e;
}

int
fn_keeper_fd(const struct fn_runner *r)
{
	struct kp *k = kp_of(r, 0);

	return k != NULL ? k->sock : -1;
}

/* Every keeper is asked: only the one whose handler pid is kills it. */
int
fn_keeper_kill(pid_t pid)
{
	struct keep_msg m = { .op = KEEP_KILL, .pid = pid };
	int any = -1;

	for (size_t i = 0; i < nkps; i++)
		if (kps[i].sock >= 0) {
			tell(kps[i].sock, &m);
			any = 0;
		}
	return any;
}

int
fn_keeper_known(const struct fn_runner *r)
{
	return kp_of(r, 0) != NULL;
}

int
fn_keeper_is(pid_t pid)
{
	for (size_t i = 0; i < nkps; i++)
		if (kps[i].sock >= 0 && kps[i].pid == pid)
			return 1;
	return 0;
}

int
fn_keeper_exit(const struct fn_runner *r, pid_t *pid, int *status, struct rusage *ru)
{
	struct kp *k = kp_of(r, 0);
	struct keep_msg m;
	int got = 0;

	if (k == NULL)
		return -1;
	if (k->npend == 0 && k->sock >= 0 && (got = next(k, &m, 0)) < 0)
		lost(k);
	if (got <= 0) {
		if (k->npend == 0)
			return k->sock >= 0 ? -1 : 0;
		m = k->pend[0];
		memmove(k->pend, k->pend + 1, --k->npend * sizeof *k->pend);
	}
	*pid = m.pid;
	*status = m.status;
	*ru = m.ru;
	return 1;
}

int
fn_keeper_pending(const struct fn_runner *r)
{
	struct kp *k = kp_of(r, 0);

	return k != NULL && k->npend > 0;
}

/* The entry stays (sock -1): what the keeper left comes back to us, and
 * is reaped here from now on (fn_proc_orphans). */
void
fn_keeper_stop(const struct fn_runner *r)
{
	struct kp *k = kp_of(r, 0);

	if (k == NULL)
		return;
	if (k->sock >= 0) {
		close(k->sock);
		k->sock = -1;
		while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(k->pend);
	k->pend = NULL;
	k->npend = k->cappend = 0;
}

/* r is freed: its entry goes (another runner may get its address). */
void
fn_keeper_forget(const struct fn_runner *r)
{
	struct kp *k = kp_of(r, 0);

	if (k == NULL)
		return;
	fn_keeper_stop(r);
	*k = kps[--nkps];
	if (nkps == 0) {
		free(kps);
		kps = NULL;
		capkps = 0;
	}
}
#endif
