/* fn_proc — handler processes: spawn one per invocation in its own
 * process group, feed the event, collect stdout, reap with rusage, and
 * kill whole groups so nothing a handler started outlives it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "fn_int.h"
#include "core/msg.h"
#include "core/proc.h"
#include "core/sigact.h"

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
 * non-blocking self-pipe, so an exit is seen at once, and makes us the
 * subreaper of every handler's descendants: what escapes a handler's
 * group (setsid) and outlives its parent comes back to us, to be killed
 * (fn_proc_orphans) instead of living on under init. */
int
fn_proc_setup(struct ev_err *e)
{
	if (wake[0] < 0 && pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return err_sys(e, EV_SOFTWARE, "pipe");
#ifdef __linux__
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
	sigact_set(SIGCHLD, on_chld, SA_RESTART | SA_NOCLDSTOP, NULL);
	return 0;
}

/* The read end of the wake-up pipe, for poll. */
int
fn_proc_wake_fd(void)
{
	return wake[0];
}

/* The keeper's socket, readable when a handler has ended; -1 when there
 * is none. */
int
fn_proc_keeper_fd(const struct fn_runner *r)
{
#ifdef __linux__
	return fn_keeper_fd(r);
#else
	(void)r;
	return -1;
#endif
}

/* Empties the wake-up pipe after poll said it was readable. */
void
fn_proc_drain_wake(void)
{
	char b[64];

	while (read(wake[0], b, sizeof b) > 0)
		;
}

/* The function's environment with entry ("NAME=VALUE") in it, in place
 * of any NAME there was: a vector of r's strings and a copy of entry
 * (free it and vector[0]). */
char **
fn_env_plus(const struct fn_runner *r, const char *entry)
{
	size_t n = 0, k = 1, name = strcspn(entry, "=") + 1;

	while (r->env.v[n] != NULL)
		n++;
	char **v = xcalloc(n + 2, sizeof *v);
	v[0] = xstrdup(entry);
	for (size_t i = 0; i < n; i++)
		if (strncmp(r->env.v[i], entry, name) != 0)
			v[k++] = r->env.v[i];
	return v;
}

/* Spawns the handler command with pipes on its stdin and stdout (both
 * non-blocking on our side).  Returns 0, or the spawn's error with both
 * fds -1. */
/* Starts r's command with fd0 and fd1 as its stdin and stdout, and
 * entry ("NAME=VALUE", or "") added to its environment.  Returns 0 or an
 * errno. */
int
fn_spawn_fds(const struct fn_runner *r, const char *entry, int fd0, int fd1, pid_t *pid)
{
#ifdef __linux__
	return fn_keeper_spawn(r, entry, fd0, fd1, pid);
#else
	char **env = entry[0] != '\0' ? fn_env_plus(r, entry) : r->env.v;
	int e = proc_spawn_env(r->o.argv, env, 0, fd0, fd1, pid);
	if (env != r->env.v) {
		free(env[0]);
		free(env);
	}
	return e;
#endif
}

int
fn_proc_spawn(const struct fn_runner *r, const char *trace, pid_t *pid, int *in_fd,
    int *out_fd)
{
	int in[2], out[2];

	*in_fd = *out_fd = -1;
	if (pipe2(in, O_CLOEXEC) != 0)
		return errno;
	if (pipe2(out, O_CLOEXEC) != 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		return e;
	}
	char entry[FN_ENV_ENTRY_MAX] = "";
	if (trace != NULL)
		snprintf(entry, sizeof entry, "_X_AMZN_TRACE_ID=%s", trace);
	int e = fn_spawn_fds(r, entry, in[0], out[1], pid);
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
	v->initing = v->init_timed_out = 0;
	v->peak_kib = 0;
	v->in_off = v->out_total = 0;
	buf_reset(&v->out);
	memset(&v->ru, 0, sizeof v->ru);
	v->wk = NULL;
	v->init_ms = -1;
	/* The trace id the event carries is the invocation's (SPEC 6). */
	struct buf t = { 0 };
	int traced = aws_trace_find(v->event, v->n, &t) && t.n <= FN_TRACE_MAX;
	if (traced)
		buf_addc(&t, '\0');
	v->spawn_errno = fn_proc_spawn(r, traced ? t.p : NULL, &v->pid, &v->in_fd, &v->out_fd);
	buf_free(&t);
	if (v->spawn_errno != 0)
		v->exited = 1;
}

/* Writes what fd takes of v's event and its newline.  Returns 0 when
 * all of it went or the pipe is full (v->in_off says which), -1 when the
 * reader is gone (EPIPE): it just gets no more. */
int
fn_feed(int fd, struct fn_inv *v)
{
	while (v->in_off <= v->n) {
		/* the event and its newline in one system call */
		struct iovec iov[2];
		int k = 0;
		if (v->in_off < v->n)
			iov[k++] = (struct iovec){ (char *)v->event + v->in_off, v->n - v->in_off };
		iov[k++] = (struct iovec){ "\n", 1 };
		ssize_t w = writev(fd, iov, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0)
			return -1;
		v->in_off += (size_t)w;
	}
	return 0;
}

/* Writes what the pipe takes of the event and its newline, then closes
 * the handler's stdin. */
void
fn_proc_write(struct fn_inv *v)
{
	if (v->wk != NULL) {
		fn_work_write(v);
		return;
	}
	if (v->in_fd >= 0 && fn_feed(v->in_fd, v) == 0 && v->in_off <= v->n)
		return;
	fsx_close(&v->in_fd);
}

/* Reads what the handler wrote; past FN_MAX_RESULT the bytes are counted
 * and dropped so the handler never blocks on a full pipe. */
void
fn_proc_read(struct fn_inv *v)
{
	char tmp[65536];
	size_t got;

	if (v->wk != NULL) {
		fn_work_read(v);
		return;
	}
	while ((got = fsx_read_some(&v->out_fd, tmp, sizeof tmp)) > 0) {
		if (v->out_total + got <= FN_MAX_RESULT)
			buf_add(&v->out, tmp, got);
		v->out_total += got;
	}
}

/* The next child of ours that has ended, reaped: its group is killed
 * while the leader is still a zombie, so the group id cannot have been
 * reused and children it left behind die with it.  Returns 0 when none. */
static int
reap_child(pid_t *pid, int *status, struct rusage *ru)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
		return 0;
	*pid = si.si_pid;
	kill(-*pid, SIGKILL);
	while (wait4(*pid, status, 0, ru) < 0 && errno == EINTR)
		;
	return 1;
}

/* The next handler or worker that has ended: told by the keeper, or
 * (no keeper, or one that died: its handlers die with it and come back
 * to us, the subreaper) reaped here.  Returns 0 when none. */
static int
next_exit(const struct fn_runner *r, pid_t *pid, int *status, struct rusage *ru)
{
#ifdef __linux__
	/* While r's keeper runs, or when it never had one (jq, url), no
	 * child of ours is r's: what ends is another's (a second runner's
	 * keeper, a bus exec target's child), never to be reaped here. */
	int got = fn_keeper_exit(r, pid, status, ru);
	if (got != 0)
		return got > 0;
#endif
	return reap_child(pid, status, ru);
}

/* Takes one ended handler, if any, and returns its invocation; a
 * worker's end goes to fn_work_gone. */
struct fn_inv *
fn_proc_reap(struct fn_runner *r)
{
	struct rusage ru;
	int st;
	pid_t pid;

	while (next_exit(r, &pid, &st, &ru)) {
		struct fn_inv *v = NULL;
		for (size_t i = 0; i < r->ninv; i++)
			if (r->inv[i].state == FN_RUNNING && !r->inv[i].exited && r->inv[i].pid == pid)
				v = &r->inv[i];
		fn_work_gone(r, pid);
		if (v == NULL)
			continue;
		v->exited = 1;
		v->status = st;
		v->ru = ru;
		fsx_close(&v->in_fd);
		return v;
	}
	return NULL;
}

/* When the last group killed from here may still send us orphans. */
static int64_t orphans_until;

void
fn_proc_killed(void)
{
	orphans_until = clock_mono_ms() + 3000;
}

/* Kills the group that pid leads, a handler's or a worker's (SIGKILL: a
 * handler that ignores SIGTERM still goes); through the keeper, which
 * knows whether it still runs, where there is one. */
void
fn_proc_kill_group(pid_t pid)
{
	if (pid <= 0)
		return;
#ifdef __linux__
	if (fn_keeper_kill(pid) == 0)
		return;
#endif
	kill(-pid, SIGKILL);
	fn_proc_killed();
}

void
fn_proc_kill(struct fn_inv *v)
{
	if (v->state == FN_RUNNING && !v->exited)
		fn_proc_kill_group(v->pid);
}

/* Ends every running handler, so none is orphaned by an error exit. */
void
fn_proc_kill_all(struct fn_runner *r)
{
	for (size_t i = 0; i < r->ninv; i++)
		if (r->inv[i].state == FN_RUNNING && !r->inv[i].exited && r->inv[i].wk == NULL)
			fn_proc_kill_group(r->inv[i].pid);
}

/* The end of the run: the keeper kills what is left below it and goes;
 * then what came back to us dies too. */
void
fn_proc_shutdown(struct fn_runner *r)
{
#ifdef __linux__
	fn_keeper_stop(r);
#endif
	fn_proc_orphans(r, 1);
}

/* Whether pid is a handler or worker of r (not an adopted orphan). */
static int
is_ours(const struct fn_runner *r, pid_t pid)
{
	for (size_t i = 0; i < r->ninv; i++)
		if (r->inv[i].state == FN_RUNNING && r->inv[i].pid == pid)
			return 1;
	for (int i = 0; r->wk != NULL && i < r->o.jobs; i++)
		if (r->wk[i].pid == pid)
			return 1;
#ifdef __linux__
	if (fn_keeper_is(pid))
		return 1;	/* another runner's */
#endif
	return 0;
}

long
fn_each_child(long pid, long (*fn)(long child, void *ctx), void *ctx)
{
	char path[96];
	struct dirent *d;
	long child, sum = 0;

	snprintf(path, sizeof path, "/proc/%ld/task", pid);
	DIR *dir = opendir(path);
	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%ld/task/%.20s/children", pid, d->d_name);
		FILE *f = fopen(path, "re");
		while (f != NULL && fscanf(f, "%ld", &child) == 1)
			sum += fn(child, ctx);
		if (f != NULL)
			fclose(f);
	}
	closedir(dir);
	return sum;
}

/* fn_each_child: kills a child that is not a handler or worker of r,
 * with its group; returns 1 when it did. */
static long
kill_stranger(long child, void *ctx)
{
	if (is_ours(ctx, (pid_t)child))
		return 0;
	if (getpgid((pid_t)child) == (pid_t)child)
		kill(-(pid_t)child, SIGKILL);
	kill((pid_t)child, SIGKILL);
	return 1;
}

/* Kills every child of ours that is not a handler or worker: processes
 * a handler started that outlived their parent and were re-parented to
 * us (the subreaper).  fn_proc_reap reaps them.  Returns how many. */
static long
kill_adopted(struct fn_runner *r)
{
	return fn_each_child((long)getpid(), kill_stranger, r);
}

/* Kills what handlers left re-parented to us (the loop reaps them).
 * At the end of a run (final) it also reaps them, and goes on, boundedly,
 * until none is left, since a killed process's own orphans come to us as
 * it dies. */
void
fn_proc_orphans(struct fn_runner *r, int final)
{
	int64_t until = clock_mono_ms() + 5000;

	/* Only a group killed from here (its keeper with it) sends us
	 * orphans; otherwise the keepers take them, and /proc need not be
	 * read on every round. */
	if (!final && clock_mono_ms() >= orphans_until)
		return;
#ifdef __linux__
	/* A runner that never spawned has no orphans: the children we have
	 * are another's (a second runner's, the caller's own). */
	if (!fn_keeper_known(r))
		return;
#endif

	while (kill_adopted(r) > 0 && final && clock_mono_ms() < until) {
		while (fn_proc_reap(r) != NULL)
			;
		usleep(2000);
	}
}
