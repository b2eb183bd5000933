/* fexec_int — executions and their frames, shared by fexec*.c. */
#ifndef EVKIT_FEXEC_INT_H
#define EVKIT_FEXEC_INT_H

#include "core/buf.h"
#include "evlog/evlog.h"
#include "flow.h"
#include "flow_int.h"

/* What a frame does when it next runs. */
enum { R_ENTER, R_RETRY, R_TASK_OK, R_TASK_FAIL, R_WAIT_DONE, R_KIDS_DONE };
/* What a step of a state came to. */
enum { S_CONT, S_SUSPEND, S_END };

/* One pending wait (a task or a timer): the frame forgets it when it is
 * cancelled, so a late end finds f == NULL and is dropped. */
struct ticket {
	struct frame *f;
	struct fexec *x;	/* an execution's TimeoutSeconds */
	int resume;
};

struct frame {
	struct fexec *x;
	const struct fmachine *m;
	struct frame *parent;
	int index;		/* in the parent's branches or items */
	int state, resume, queued, ended, retry_count;
	int resumed;		/* --resume: entered_ms is the recorded entry's */
	jv assigned;		/* what the state's Assign set, for its StateExited */
	jv input;		/* the state's raw input */
	jv eff;			/* the effective input of a Wait, Parallel or Map */
	jv vars;
	jv ctx;			/* the context object, jv_invalid() until asked */
	jv res;			/* a task's result */
	int64_t entered_ms;
	int *attempts;		/* per retrier of the state */
	struct ticket *tk;
	struct rframe *plan;	/* --resume: what the log says of its Map or Parallel */
	/* Parallel and Map */
	struct frame **kids;
	int nkids, started, finished, failed, running, fail_set, kids_ended;
	int max_conc;
	double tol_count, tol_pct;
	jv items, results;
	struct frame *next_ready;
	struct ferr err;	/* last: a frame is cleared up to it (4 KiB) */
};

enum { X_RUNNING, X_SUCCEEDED, X_FAILED, X_TIMED_OUT, X_ABORTED };

struct fexec {
	struct flow *fl;
	char name[128];
	char *arn;
	jv input, output, ctx_exec;
	int64_t start_ms, stop_ms;
	int status, evid;	/* evid: the last history event's id */
	struct frame *root;
	struct ticket *timeout;
	struct fexec *next;
	struct ferr err;	/* last: an execution is cleared up to it */
};

struct tmr {
	int64_t at;
	struct ticket *tk;
};

struct flow {
	struct flow_opts o;
	struct fdef *def;
	struct fres *res;
	struct fexec *head, *tail;
	int running, ntasks, any_failed;
	long seq;
	struct frame *ready, *ready_tail;
	struct tmr *heap;
	int nheap;
	size_t cheap;
	char *sm_arn, *sm_name, *exec_prefix, *role_arn;
	char *held;		/* --name: the first input, until a second comes */
	size_t held_n;
	struct elog *hist;	/* --history */
	struct elog_batch *hbatch;
	char hist_err[256];
	struct ev_err fatal;	/* the history could not be written */
	int fatal_rc;
	struct buf line;	/* an output line's text */
	struct buf text;	/* a task's input text */
};

/* fexec.c */
void fx_queue(struct frame *f);
void fx_timer(struct flow *fl, int64_t delay_ms, struct ticket *tk);
struct ticket *fx_ticket(struct frame *f, int resume);
struct frame *fx_frame(struct fexec *x, const struct fmachine *m, struct frame *parent,
    int index, jv input, jv vars);
void fx_free_frame(struct frame *f);
void fx_end(struct frame *f, int ok, jv out, const struct ferr *e);
void fx_run_once(struct flow *fl, int block);
void fx_abort(struct fexec *x, const struct ferr *e);
void fx_task_done(void *ctx, void *tag, int ok, const char *res, size_t n,
    const struct ferr *fe);

/* flow.c */
jv fx_exec_ctx(struct fexec *x);
struct fexec *fx_exec_new(struct flow *fl, const char *arn, int64_t start_ms, jv input);
struct frame *fx_exec_go(struct fexec *x, int state, jv input, jv vars);

/* fhist.c, fhist_resume.c */
int fx_hist_open(struct flow *fl, const char *path, struct ev_err *e);
void fx_hist(struct fexec *x, const char *type, jv details);
/* Records an event only with --history: its details are not even built
 * without. */
#define FX_HISTORY(fl) ((fl)->hist != NULL || (fl)->o.on_event != NULL)
#define FX_HIST(x, type, details) do { \
	if (FX_HISTORY((x)->fl)) \
		fx_hist((x), (type), (details)); \
} while (0)
/* An event of frame f (its evkitFrame says which, for --resume). */
void fx_hist_f(const struct frame *f, const char *type, jv details);
#define FX_HIST_F(f, type, details) do { \
	if (FX_HISTORY((f)->x->fl)) \
		fx_hist_f((f), (type), (details)); \
} while (0)
jv fx_text(jv v);
void fx_details_key(const char *type, char *out, size_t n);
jv fx_res_details(const char *resource);
int fx_hist_flush(struct flow *fl, struct ev_err *e);
void fx_hist_close(struct flow *fl);

/* --resume: a frame's recorded Map or Parallel.  fx_plan_kids puts
 * back the kids of f (its items or branches just made again): finished
 * ones' results, running ones from their last state; 1 when all had
 * finished, 0 when some run, -1 when the plan does not fit (f starts
 * afresh). */
int fx_plan_kids(struct frame *f);
void fx_plan_free(struct rframe *rf);

/* fexec_state.c */
void fx_kid_start(struct frame *f, int i);
int fx_step_one(struct frame *f);
jv fx_error_value(const struct ferr *e);
void fx_kid_done(struct frame *p, int idx, int ok, jv out, const struct ferr *e);

#endif
