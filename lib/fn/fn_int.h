/* fn internals: one invocation slot, and the parts of the runner that
 * fn.c (scheduling), fn_proc.c (handler processes) and fn_res.c (result,
 * report and dead-letter shapes) share. */
#ifndef EVKIT_FN_INT_H
#define EVKIT_FN_INT_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "core/fsx.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/proc.h"
#include "fn.h"

/* Lambda's synchronous response limit. */
enum { FN_MAX_RESULT = 6 * 1024 * 1024 };

enum fn_state { FN_FREE, FN_READY, FN_RUNNING, FN_DONE };

struct fn_inv {
	enum fn_state state;
	uint64_t seq;		/* input order */
	char *event;
	size_t n;
	char id[37];		/* requestId, kept across retries */
	int attempt;		/* 1-based */
	int64_t not_before;	/* retry back-off, monotonic ms */
	pid_t pid;		/* a running handler, which leads its group */
	int in_fd, out_fd;	/* -1 once closed */
	size_t in_off;		/* bytes of event + "\n" written */
	int exited, status, timed_out, spawn_errno;
	int oom;		/* --memory: killed for passing the limit */
	long peak_kib;		/* --memory: the largest tree RSS sampled */
	struct rusage ru;
	int64_t start, deadline;
	struct fn_worker *wk;	/* --worker: the worker serving it, or NULL */
	int replied;		/* --worker: its result line has come */
	double init_ms;		/* --worker: it started the worker; else -1 */
	int initing;		/* --worker: the worker has not read yet */
	int init_timed_out;	/* --worker: it did not within --init-timeout */
	int rt_error;		/* --runtime-api: out holds the error it posted */
	int64_t init_start;
	size_t *rec;		/* --batch: offset, length of each record */
	size_t nrec;
	void *tag;		/* fn_submit's, for on_done */
	struct buf out;		/* its stdout, up to FN_MAX_RESULT */
	size_t out_total;
	/* The outcome. */
	int failed, skip;	/* skip: dropped by a stop request */
	struct buf res;		/* result, or error object, as compact JSON */
	double dur_ms;
	long max_mb;
};

/* A warm worker (--worker): started once, fed one event line and read
 * one result line per invocation, until it dies, times out or is
 * recycled.  pid 0: not running (started on demand). */
struct fn_worker {
	pid_t pid;		/* as fn_inv's */
	int in_fd, out_fd;
	int gone;		/* reaped while it served v */
	int uses;
	struct fn_inv *v;	/* the invocation it serves, or NULL */
	struct buf rb;		/* stdout not yet taken as a result */
};

struct fn_runner {
	struct fn_opts o;
	struct fn_inv *inv;
	size_t ninv;
	uint64_t next_seq, emit_seq;
	int running;
	struct jx *jx;
	FILE *report;
	struct dlq *dlq;	/* --dlq, or NULL */
	long failed;		/* failures that did not reach a --dlq */
	struct buf line;
	struct pollfd *pfd;	/* poll set, sized for every pipe */
	struct fn_inv **owners;
	unsigned long dropped;	/* events a stop request left unrun */
	struct fn_worker *wk;	/* --worker, --runtime-api: jobs of them, else NULL */
	struct fn_rt *rt;	/* --runtime-api: each worker's Runtime API, else NULL */
	nfds_t nfixed;		/* poll set entries before the handlers' pipes */
	struct buf batch;	/* --batch: {"Records":[ gathered so far */
	size_t *brec;		/* their offsets and lengths in batch */
	size_t nbrec;
	struct proc_env env;	/* what handlers get */
	struct ev_err err;	/* what ended the run (err.code), else 0 */
	struct fn_url *url;	/* --url, else NULL */
	struct fn_runner *next_open;	/* the other open runners (fn.c) */
};

/* How often limited handlers are sampled (--memory). */
enum { FN_MEM_TICK_MS = 10 };

/* fn_proc.c */
int fn_proc_setup(struct ev_err *e);
int fn_feed(int fd, struct fn_inv *v);
void fn_proc_orphans(struct fn_runner *r, int final);
int fn_proc_wake_fd(void);
int fn_proc_keeper_fd(const struct fn_runner *r);
void fn_proc_drain_wake(void);
void fn_proc_start(struct fn_runner *r, struct fn_inv *v);
void fn_proc_write(struct fn_inv *v);
void fn_proc_read(struct fn_inv *v);
struct fn_inv *fn_proc_reap(struct fn_runner *r);
void fn_proc_kill(struct fn_inv *v);
void fn_proc_kill_all(struct fn_runner *r);
void fn_proc_kill_group(pid_t pid);
void fn_proc_shutdown(struct fn_runner *r);
/* A group was killed: look for orphans for a while. */
void fn_proc_killed(void);
/* Calls fn for each child of pid (of each of its threads), as /proc lists
 * them; returns the sum of what fn returned (0 where /proc cannot tell). */
long fn_each_child(long pid, long (*fn)(long child, void *ctx), void *ctx);
int fn_proc_spawn(const struct fn_runner *r, const char *trace, pid_t *pid, int *in_fd,
    int *out_fd);
/* The function's environment with entry ("NAME=VALUE") in it, in place
 * of any NAME: a vector of r's strings and one of its own (free it and
 * vector[0]). */
char **fn_env_plus(const struct fn_runner *r, const char *entry);
int fn_spawn_fds(const struct fn_runner *r, const char *entry, int fd0, int fd1, pid_t *pid);
/* The largest trace id passed on (X-Ray's TraceHeader limit). */
enum { FN_TRACE_MAX = 500, FN_ENV_ENTRY_MAX = FN_TRACE_MAX + 32 };

/* fn_keeper.c (Linux): the one process that starts handlers (see there).
 * spawn (entry: "NAME=VALUE" to add, or "") returns 0 or an errno; exit returns 1 with the next ended
 * handler; 0 when none and r's handlers may end as our own children (its
 * keeper was lost or stopped: reap them); -1 when none and no child of
 * ours is r's (its keeper runs, or it never had one); kill returns -1 when there is no keeper; fd is
 * r's keeper's socket, readable when it has news (-1: none).  Each
 * runner has its keeper, started by its first spawn. */
int fn_keeper_spawn(const struct fn_runner *r, const char *entry, int fd0, int fd1, pid_t *pid);
int fn_keeper_fd(const struct fn_runner *r);
int fn_keeper_kill(pid_t pid);
int fn_keeper_exit(const struct fn_runner *r, pid_t *pid, int *status, struct rusage *ru);
/* Whether ends told while a spawn was awaited are still to be taken. */
int fn_keeper_pending(const struct fn_runner *r);
void fn_keeper_stop(const struct fn_runner *r);
void fn_keeper_forget(const struct fn_runner *r);
/* Whether r ever started a keeper (spawned a handler). */
int fn_keeper_known(const struct fn_runner *r);
/* Whether pid is a runner's keeper (not an orphan to kill). */
int fn_keeper_is(pid_t pid);

/* fn_mem.c */
void fn_mem_enforce(struct fn_runner *r);

/* fn_work.c */
void fn_work_start(struct fn_runner *r, struct fn_inv *v);
void fn_work_write(struct fn_inv *v);
void fn_work_read(struct fn_inv *v);
void fn_work_gone(struct fn_runner *r, pid_t pid);
int fn_work_done(struct fn_runner *r, struct fn_inv *v);
void fn_work_kill_all(struct fn_runner *r);
void fn_work_stop_all(struct fn_runner *r);
int fn_work_init_check(struct fn_runner *r, struct fn_inv *v, int64_t now);
long fn_work_peak_kib(pid_t pid);

/* fn_rtapi.c (--runtime-api): one Runtime API server per worker slot;
 * the slot's process is the BOOTSTRAP.  See there. */
int fn_rt_open(struct fn_runner *r, struct ev_err *e);
int fn_rt_spawn(struct fn_runner *r, struct fn_worker *w);
void fn_rt_assign(struct fn_runner *r, struct fn_worker *w, struct fn_inv *v);
int fn_rt_ready(const struct fn_inv *v);
int fn_rt_done(struct fn_runner *r, struct fn_worker *w, struct fn_inv *v);
nfds_t fn_rt_poll_set(struct fn_runner *r, struct pollfd *pfd, struct fn_inv **owners, nfds_t n);
int fn_rt_wait_ms(struct fn_runner *r, int t);
void fn_rt_run(struct fn_runner *r);
void fn_rt_close(struct fn_runner *r);

/* fn_url.c (--url) */
int fn_url_check(const struct fn_opts *o, struct ev_err *e);
int fn_url_open(struct fn_runner *r, struct ev_err *e);
void fn_url_close(struct fn_runner *r);
void fn_url_start(struct fn_runner *r, struct fn_inv *v);
int fn_url_wait(struct fn_runner *r, struct pollfd *pfd, nfds_t n, int wait_ms);
int fn_url_done(const struct fn_runner *r, const struct fn_inv *v);
void fn_url_cancel(struct fn_runner *r, struct fn_inv *v);
void fn_url_result(struct fn_runner *r, struct fn_inv *v);

/* fn_res.c */
void fn_res_process(struct fn_runner *r, struct fn_inv *v);
void fn_res_jq(struct fn_runner *r, struct fn_inv *v);
void fn_res_report(struct fn_runner *r, const struct fn_inv *v);
void fn_res_line(struct fn_runner *r, const struct fn_inv *v, struct buf *b);
int fn_res_dlq(struct fn_runner *r, const struct fn_inv *v);
int fn_res_report_close(struct fn_runner *r);
/* Text as a result, as a handler's stdout is read (fn_res_process). */
void fn_res_text(struct buf *res, const char *p, size_t n);
void fn_res_error(struct buf *b, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
