/* bus_exec — exec: targets.  One child per delivery, the payload on its
 * stdin (never in its arguments, never through a shell), its stdout sent
 * to our stderr so that stdout stays NDJSON, its stderr passed on to ours
 * and its tail kept for the failure report.  Up to concurrency children
 * run at once, started in input order; a failed one is retried in its
 * slot after the backoff, so with concurrency 1 the order is strict.
 *
 * The payload is written through a non-blocking pipe as the child reads
 * it, so a child that never reads cannot block the router past its
 * timeout or a stop request.  We keep the pipe's read end open too: once
 * the child has exited, the bytes still in the pipe say whether it read
 * the whole payload, and a child that did not has failed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus_int.h"
#include "core/fsx.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/sig.h"
#include "shape.h"

struct slot {
	struct bus_item *it;	/* NULL: free */
	pid_t pid;		/* running child, or 0 while backing off */
	int64_t not_before;	/* monotonic ms of the next attempt */
	int64_t deadline;	/* monotonic ms when a running child is killed */
	int in;			/* the payload pipe's write end, -1 once written */
	int in_rd;		/* its read end, kept to see what was left unread */
	int err;		/* the child's stderr, -1 at its end */
	size_t off;		/* payload bytes written */
	struct buf tail;	/* the last BUS_TAIL bytes of its stderr */
};

static size_t
payload_len(const struct bus_item *it)
{
	return it->n + (it->kind == SHAPE_JSON);	/* the line end after JSON */
}

static void
close_all(struct slot *s)
{
	fsx_close(&s->in);
	fsx_close(&s->in_rd);
	fsx_close(&s->err);
}

/* Writes what the pipe takes now; closes it once the payload is in. */
static void
feed(struct slot *s)
{
	size_t n = payload_len(s->it);

	while (s->in >= 0 && s->off < n) {
		ssize_t w = write(s->in, s->it->payload + s->off, n - s->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return;		/* EAGAIN: when poll says */
		s->off += (size_t)w;
	}
	fsx_close(&s->in);
}

/* Passes the child's stderr on and keeps its last BUS_TAIL bytes. */
static void
drain_err(struct slot *s)
{
	char b[4096];
	size_t n;

	while ((n = fsx_read_some(&s->err, b, sizeof b)) > 0) {
		ssize_t w = write(STDERR_FILENO, b, n);
		(void)w;	/* our stderr gone: the tail still has it */
		buf_add(&s->tail, b, n);
		if (s->tail.n > BUS_TAIL) {
			memmove(s->tail.p, s->tail.p + s->tail.n - BUS_TAIL, BUS_TAIL);
			s->tail.n = BUS_TAIL;
		}
	}
}

/* Starts the child for s->it.  A command that cannot be run fails for
 * good: retrying will not make it appear. */
static void
start(struct tgt_run *r, struct slot *s)
{
	int in[2], err[2];

	s->off = 0;
	buf_reset(&s->tail);
	if (pipe2(in, O_CLOEXEC) != 0 || (pipe2(err, O_CLOEXEC) != 0 && (close(in[0]),
	    close(in[1]), 1))) {
		bus_item_fail(s->it, 0, "IO_ERROR", "pipe: %s", strerror(errno));
		return;
	}
	struct proc_spec ps = { r->t->argv, r->env.v, 0, { in[0], STDERR_FILENO, err[1] } };
	int e = proc_spawn_spec(&ps, &s->pid);
	s->deadline = r->t->timeout_ms > 0 ? clock_mono_ms() + r->t->timeout_ms : 0;
	close(err[1]);
	s->in = in[1];
	s->in_rd = in[0];
	s->err = err[0];
	if (e != 0) {
		close_all(s);
		s->pid = 0;
		bus_item_fail(s->it, 1, e == ENOENT ? "NO_RESOURCE" : e == EACCES ?
		    "NO_PERMISSIONS" : "TARGET_ERROR", "%s: %s", r->t->argv[0], strerror(e));
		return;
	}
	fcntl(s->in, F_SETFL, O_NONBLOCK);
	fcntl(s->err, F_SETFL, O_NONBLOCK);
	feed(s);
}

static void
kill_child(struct slot *s)
{
	kill(-s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	drain_err(s);
	close_all(s);
}

/* Past its timeout: the child's whole process group goes, as fnrun's
 * handlers do, and the delivery failed (retriably: the next try may be
 * quicker). */
static void
timed_out(const struct tgt_run *r, struct slot *s)
{
	kill_child(s);
	bus_item_fail(s->it, 0, "TIMEOUT", "timed out after %lld seconds",
	    (long long)(r->t->timeout_ms / 1000));
}

/* The outcome of an exited child: exit 0 having read the whole payload
 * is a delivery, anything else a failure. */
static void
ended(struct slot *s, int status)
{
	size_t n = payload_len(s->it);
	int left = 0;

	s->pid = 0;
	if (s->in_rd >= 0 && ioctl(s->in_rd, FIONREAD, &left) != 0)
		left = 0;
	size_t unread = n - s->off + (size_t)(left > 0 ? left : 0);
	drain_err(s);
	close_all(s);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && unread == 0)
		s->it->state = ITEM_DONE;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		bus_item_fail(s->it, 0, "TARGET_ERROR", "exited without reading the whole "
		    "payload (%zu of %zu bytes)", n - unread, n);
	else if (WIFEXITED(status))
		bus_item_fail(s->it, 0, "TARGET_ERROR", "exit status %d", WEXITSTATUS(status));
	else
		bus_item_fail(s->it, 0, "TARGET_ERROR", "killed by signal %d", WTERMSIG(status));
}

/* After an attempt: done, settled, or scheduled again after a backoff.
 * Returns 1 when the slot is free again. */
static int
after(struct tgt_run *r, struct slot *s)
{
	struct bus_item *it = s->it;
	const char *out;

	if (it->state == ITEM_DONE) {
		bus_done(r, it);
		s->it = NULL;
		return 1;
	}
	bus_item_tail(it, s->tail.p, s->tail.n);
	if (it->state == ITEM_FINAL) {
		bus_settle(r, it, NULL);
		s->it = NULL;
		return 1;
	}
	int64_t wait = bus_backoff(r, it->retries);
	if ((out = bus_exhausted(r, it, wait)) != NULL) {
		bus_settle(r, it, out);
		s->it = NULL;
		return 1;
	}
	it->retries++;
	it->state = ITEM_PENDING;
	s->not_before = clock_mono_ms() + wait;
	return 0;
}

/* A stop was asked (SIGINT, SIGTERM): what runs is killed and fails for
 * good, so that it reaches the dead letter instead of holding us. */
static void
interrupt(struct slot *s)
{
	if (s->pid > 0)
		kill_child(s);
	bus_item_fail(s->it, 1, "TARGET_ERROR", "interrupted by signal %d", (int)sig_stop);
}

/* One running slot: feed it, read its stderr, reap it or time it out.
 * Returns 1 while it still runs. */
static int
poke(struct tgt_run *r, struct slot *s)
{
	int status;

	if (s->in >= 0)
		feed(s);
	if (s->err >= 0)
		drain_err(s);
	pid_t p = waitpid(s->pid, &status, WNOHANG);
	if (p == s->pid) {
		ended(s, status);
		return 0;
	}
	if (s->deadline > 0 && clock_mono_ms() >= s->deadline) {
		timed_out(r, s);
		return 0;
	}
	return 1;
}

/* One pass over the slots: feed and reap children, start the retries
 * that are due.  Returns how many slots are still busy. */
static int
step(struct tgt_run *r, struct slot *slots, int n)
{
	int busy = 0;

	for (int i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		if (s->it == NULL)
			continue;
		if (sig_stop)
			interrupt(s);
		else if (s->pid > 0 && poke(r, s)) {
			busy++;
			continue;
		} else if (s->pid == 0 && s->it->state == ITEM_PENDING) {
			if (clock_mono_ms() < s->not_before) {
				busy++;
				continue;
			}
			start(r, s);
			if (s->pid > 0) {
				busy++;
				continue;
			}
		}
		busy += !after(r, s);
	}
	return busy;
}

/* Waits up to ms for a pipe of a running child to be ready. */
static void
wait_pipes(const struct slot *slots, int n, struct pollfd *pfd, int ms)
{
	nfds_t k = 0;

	for (int i = 0; i < n; i++) {
		if (slots[i].it == NULL || slots[i].pid <= 0)
			continue;
		if (slots[i].in >= 0)
			pfd[k++] = (struct pollfd){ slots[i].in, POLLOUT, 0 };
		if (slots[i].err >= 0)
			pfd[k++] = (struct pollfd){ slots[i].err, POLLIN, 0 };
	}
	(void)poll(pfd, k, ms);
}

void
bus_exec(struct tgt_run *r, struct bus_item **items, size_t n)
{
	int ns = r->t->concurrency, wait = 1;
	struct slot *slots = xcalloc((size_t)ns, sizeof *slots);
	struct pollfd *pfd = xcalloc((size_t)ns * 2, sizeof *pfd);
	size_t next = 0;

	for (int i = 0; i < ns; i++)
		slots[i].in = slots[i].in_rd = slots[i].err = -1;
	for (;;) {
		for (int i = 0; i < ns && next < n; i++) {
			struct slot *s = &slots[i];
			if (s->it != NULL)
				continue;
			s->it = items[next++];
			if (s->it->kind == BUS_FAILED || sig_stop) {
				if (s->it->kind != BUS_FAILED)
					interrupt(s);
				bus_settle(r, s->it, NULL);
				s->it = NULL;
				i--;
				continue;
			}
			s->not_before = 0;
			start(r, s);
			if (s->pid == 0 && after(r, s))
				i--;	/* the slot is free again */
		}
		int busy = step(r, slots, ns);
		if (busy == 0 && next == n)
			break;
		if (busy == ns || next == n) {
			wait_pipes(slots, ns, pfd, wait);
			wait = wait < 8 ? wait * 2 : 8;
		} else {
			wait = 1;
		}
	}
	for (int i = 0; i < ns; i++)
		buf_free(&slots[i].tail);
	free(pfd);
	free(slots);
}
