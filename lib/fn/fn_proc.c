/* fn_proc — handler processes: spawn one per invocation in its own
 * process group, feed the event, collect stdout, reap with rusage, and
 * kill whole groups so nothing a handler started outlives it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "fn_int.h"
#include "core/msg.h"
#include "core/proc.h"

static int wake[2] = { -1, -1 };

static void
on_chld(int sig)
{
	int saved = errno;

	(void)sig;
	/* A full pipe already means "look again"; the byte may be lost. */
	(void)!write(wake[1], "c", 1);
	errno = saved;
}

/* Installs the SIGCHLD handler that wakes the poll loop through a
 * non-blocking self-pipe, so an exit is seen at once. */
void
fn_proc_setup(void)
{
	struct sigaction sa;

	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		msg_die_sys(EV_SOFTWARE, "pipe");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

/* The read end of the wake-up pipe, for poll. */
int
fn_proc_wake_fd(void)
{
	return wake[0];
}

/* Empties the wake-up pipe after poll said it was readable. */
void
fn_proc_drain_wake(void)
{
	char b[64];

	while (read(wake[0], b, sizeof b) > 0)
		;
}

/* Spawns the handler command with pipes on its stdin and stdout (both
 * non-blocking on our side).  Returns 0, or the spawn's error with both
 * fds -1. */
int
fn_proc_spawn(const struct fn_runner *r, pid_t *pid, int *in_fd, int *out_fd)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		msg_die_sys(EV_SOFTWARE, "pipe");
	int e = proc_spawn(r->o.argv, in[0], out[1], pid);
	close(in[0]);
	close(out[1]);
	if (e != 0) {
		close(in[1]);
		close(out[0]);
		*in_fd = *out_fd = -1;
		return e;
	}
	*in_fd = in[1];
	*out_fd = out[0];
	fcntl(*in_fd, F_SETFL, O_NONBLOCK);
	fcntl(*out_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Starts the handler for v: the event goes to its stdin through a pipe,
 * never through argv or a shell.  A spawn failure is recorded in
 * v->spawn_errno and the invocation counts as exited. */
void
fn_proc_start(struct fn_runner *r, struct fn_inv *v)
{
	v->start = clock_mono_ms();
	v->deadline = v->start + r->o.timeout_ms;
	v->exited = v->timed_out = v->spawn_errno = v->oom = 0;
	v->peak_kib = 0;
	v->in_off = v->out_total = 0;
	buf_reset(&v->out);
	memset(&v->ru, 0, sizeof v->ru);
	v->wk = NULL;
	v->init_ms = -1;
	v->spawn_errno = fn_proc_spawn(r, &v->pid, &v->in_fd, &v->out_fd);
	if (v->spawn_errno != 0)
		v->exited = 1;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Writes what the pipe takes of the event and its newline.  A handler
 * that closes stdin unread (EPIPE) just gets no more. */
void
fn_proc_write(struct fn_inv *v)
{
	if (v->wk != NULL) {
		fn_work_write(v);
		return;
	}
	while (v->in_fd >= 0 && v->in_off <= v->n) {
		const char *p = v->in_off < v->n ? v->event + v->in_off : "\n";
		size_t len = v->in_off < v->n ? v->n - v->in_off : 1;
		ssize_t w = write(v->in_fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w < 0)
			break;
		v->in_off += (size_t)w;
	}
	close_fd(&v->in_fd);
}

/* Reads what the handler wrote; past FN_MAX_RESULT the bytes are counted
 * and dropped so the handler never blocks on a full pipe. */
void
fn_proc_read(struct fn_inv *v)
{
	char tmp[65536];

	if (v->wk != NULL) {
		fn_work_read(v);
		return;
	}
	while (v->out_fd >= 0) {
		ssize_t got = read(v->out_fd, tmp, sizeof tmp);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0)
			break;
		if (v->out_total + (size_t)got <= FN_MAX_RESULT)
			buf_add(&v->out, tmp, (size_t)got);
		v->out_total += (size_t)got;
	}
	close_fd(&v->out_fd);
}

/* Reaps one exited handler, if any, and returns its invocation.  The
 * group is killed while the leader is still a zombie, so the group id
 * cannot have been reused: children it left behind die with it. */
struct fn_inv *
fn_proc_reap(struct fn_runner *r)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
			return NULL;
		pid_t pid = si.si_pid;
		kill(-pid, SIGKILL);
		struct fn_inv *v = NULL;
		for (size_t i = 0; i < r->ninv; i++)
			if (r->inv[i].state == FN_RUNNING && !r->inv[i].exited && r->inv[i].pid == pid)
				v = &r->inv[i];
		struct rusage ru;
		int st;
		while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
			;
		fn_work_gone(r, pid);
		if (v == NULL)
			continue;
		v->exited = 1;
		v->status = st;
		v->ru = ru;
		close_fd(&v->in_fd);
		return v;
	}
}

/* Kills v's whole process group (SIGKILL: a handler that ignores
 * SIGTERM still goes). */
void
fn_proc_kill(struct fn_inv *v)
{
	if (v->state == FN_RUNNING && !v->exited && v->pid > 0)
		kill(-v->pid, SIGKILL);
}

/* Kills every running group: the last word before dying, so no handler
 * is orphaned by an error exit. */
void
fn_proc_kill_all(struct fn_runner *r)
{
	for (size_t i = 0; i < r->ninv; i++)
		fn_proc_kill(&r->inv[i]);
}
