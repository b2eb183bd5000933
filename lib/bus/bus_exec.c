/* bus_exec — exec: targets.  One child per delivery, the payload on its
 * stdin (never in its arguments, never through a shell), its stdout sent
 * to our stderr so that stdout stays NDJSON.  Up to concurrency children
 * run at once, started in input order; a failed one is retried in its
 * slot after the backoff, so with concurrency 1 the order is strict. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus_int.h"
#include "core/clock.h"
#include "core/proc.h"
#include "shape.h"

struct slot {
	struct bus_item *it;	/* NULL: free */
	pid_t pid;		/* running child, or 0 while backing off */
	int64_t not_before;	/* monotonic ms of the next attempt */
	int64_t deadline;	/* monotonic ms when a running child is killed */
};

/* Writes the payload (JSON with the line end that follows it in the
 * batch) and closes the pipe; a child that exits without reading it all
 * just gets no more. */
static void
feed(int fd, const struct bus_item *it)
{
	const char *p = it->payload;
	size_t n = it->n + (it->kind == SHAPE_JSON), off = 0;

	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	close(fd);
}

/* Starts the child for s->it.  A command that cannot be run fails for
 * good: retrying will not make it appear. */
static void
start(struct tgt_run *r, struct slot *s)
{
	int in[2];

	if (pipe2(in, O_CLOEXEC) != 0) {
		bus_item_fail(s->it, 0, "IO_ERROR", "pipe: %s", strerror(errno));
		return;
	}
	int e = proc_spawn(r->t->argv, in[0], STDERR_FILENO, &s->pid);
	s->deadline = r->t->timeout_ms > 0 ? clock_mono_ms() + r->t->timeout_ms : 0;
	close(in[0]);
	if (e != 0) {
		close(in[1]);
		s->pid = 0;
		bus_item_fail(s->it, 1, e == ENOENT ? "NO_RESOURCE" : e == EACCES ?
		    "NO_PERMISSIONS" : "TARGET_ERROR", "%s: %s", r->t->argv[0], strerror(e));
		return;
	}
	feed(in[1], s->it);
}

/* Past its timeout: the child's whole process group goes, as fnrun's
 * handlers do, and the delivery failed (retriably: the next try may be
 * quicker). */
static void
timed_out(const struct tgt_run *r, struct slot *s)
{
	kill(-s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	bus_item_fail(s->it, 0, "TIMEOUT", "timed out after %lld seconds",
	    (long long)(r->t->timeout_ms / 1000));
}

/* The outcome of an exited child. */
static void
ended(struct slot *s, int status)
{
	s->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		s->it->state = ITEM_DONE;
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
	const char *out = NULL;

	if (it->state == ITEM_DONE) {
		s->it = NULL;
		return 1;
	}
	if (it->state == ITEM_FINAL) {
		bus_settle(r, it, NULL);
		s->it = NULL;
		return 1;
	}
	int64_t wait = bus_backoff_ms(it->retries);
	if (it->retries >= r->t->attempts)
		out = "MaximumRetryAttempts";
	else if (clock_mono_ms() + wait - it->read_mono > r->t->max_age_ms)
		out = "MaximumEventAgeInSeconds";
	if (out != NULL) {
		bus_settle(r, it, out);
		s->it = NULL;
		return 1;
	}
	it->retries++;
	it->state = ITEM_PENDING;
	s->not_before = clock_mono_ms() + wait;
	return 0;
}

/* One pass over the slots: reap exited children, start the retries that
 * are due.  Returns how many slots are still busy. */
static int
step(struct tgt_run *r, struct slot *slots, int n)
{
	int busy = 0, status;

	for (int i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		if (s->it == NULL)
			continue;
		if (s->pid > 0) {
			pid_t p = waitpid(s->pid, &status, WNOHANG);
			if (p == 0 && s->deadline > 0 && clock_mono_ms() >= s->deadline) {
				timed_out(r, s);
			} else if (p == 0 || (p < 0 && errno == EINTR)) {
				busy++;
				continue;
			} else {
				ended(s, status);
			}
		} else if (s->it->state == ITEM_PENDING) {
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

static void
nap(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

void
bus_exec(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct slot slots[1024];
	int ns = r->t->concurrency, wait = 1;
	size_t next = 0;

	memset(slots, 0, sizeof slots[0] * (size_t)ns);
	for (;;) {
		for (int i = 0; i < ns && next < n; i++) {
			if (slots[i].it != NULL)
				continue;
			struct slot *s = &slots[i];
			s->it = items[next++];
			if (s->it->kind == BUS_FAILED) {
				bus_settle(r, s->it, NULL);
				s->it = NULL;
				continue;
			}
			s->not_before = 0;
			start(r, s);
			if (s->pid == 0 && after(r, s))
				i--;	/* the slot is free again */
		}
		int busy = step(r, slots, ns);
		if (busy == 0 && next == n)
			return;
		if (busy == ns || next == n) {
			nap(wait);
			wait = wait < 8 ? wait * 2 : 8;
		} else {
			wait = 1;
		}
	}
}
