/* fn_rtapi — --runtime-api: Lambda's Runtime API (ref/lambda.md section
 * 1) in front of each worker slot, so an unmodified runtime (a custom
 * `bootstrap`, aws-lambda-ric) is the slot's warm worker.
 *
 * Each slot has one libmicrohttpd server on 127.0.0.1 (a port of the
 * kernel's choosing), run from the runner's poll loop: no thread, its
 * epoll fd in the poll set.  The slot's process is started as a worker
 * is (fn_work.c), in its own group, with AWS_LAMBDA_RUNTIME_API naming
 * its server; its init lasts until it first asks for an event.  A
 * /next with nothing to give is suspended until the runner assigns an
 * invocation; the response or error it posts settles the invocation as
 * a worker's result line would.  A bootstrap that dies, times out or
 * posts an init error is let go like a worker, and the next invocation
 * starts a new one; a /next still held by a dead one is answered 500
 * when a new one starts. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/msg.h"
#include "fn_int.h"
#include "fn_rtproto.h"

struct fn_rt {
	struct fn_runner *r;
	struct MHD_Daemon *d;
	int port, epfd;
	enum fn_rt_phase phase;
	struct fn_inv *cur;		/* assigned to this runtime, or NULL */
	struct MHD_Connection *waiter;	/* a /next held open */
	unsigned gen;			/* which bootstrap this is */
	int parked;			/* suspended connections (at most 2) */
	int doomed;			/* it posted an init error */
	char *arn;
};

/* One request: its body so far (up to the limit) and whose it is. */
struct rt_req {
	struct buf body;
	size_t total;
	unsigned gen;
	int held;	/* a suspended /next */
};

static enum MHD_Result
send_buf(struct MHD_Connection *c, int status, const char *p, size_t n)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(n, (void *)p,
	    MHD_RESPMEM_MUST_COPY);

	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, res);
	MHD_destroy_response(res);
	return ok;
}

/* An answer without an event: {"status":"OK"} or the RIE's error shape. */
static enum MHD_Result
answer(struct MHD_Connection *c, int status, const char *type, const char *msg)
{
	struct buf b = { 0 };

	if (type == NULL)
		buf_adds(&b, "{\"status\":\"OK\"}");
	else
		fn_res_error(&b, type, "%s", msg);
	enum MHD_Result ok = send_buf(c, status, b.p, b.n);
	buf_free(&b);
	return ok;
}

/* The event of the assigned invocation, with the /next headers.  Its
 * init (when it started this runtime) ends here, and its deadline runs
 * from here: the runtime is told it in wall-clock milliseconds. */
static enum MHD_Result
deliver(struct fn_rt *rt, struct MHD_Connection *c)
{
	struct fn_inv *v = rt->cur;
	int64_t now = clock_mono_ms();
	char num[32];

	if (v->initing) {
		v->initing = 0;
		v->init_ms = (double)(now - v->init_start);
		v->start = now;
		v->deadline = now + rt->r->o.timeout_ms;
	}
	struct MHD_Response *res = MHD_create_response_from_buffer(v->n, v->event,
	    MHD_RESPMEM_MUST_COPY);
	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(res, "Lambda-Runtime-Aws-Request-Id", v->id);
	snprintf(num, sizeof num, "%lld", (long long)(clock_now_ms() + (v->deadline - now)));
	MHD_add_response_header(res, "Lambda-Runtime-Deadline-Ms", num);
	MHD_add_response_header(res, "Lambda-Runtime-Invoked-Function-Arn", rt->arn);
	struct buf t = { 0 };
	if (aws_trace_find(v->event, v->n, &t) && t.n <= FN_TRACE_MAX) {
		buf_addc(&t, '\0');
		MHD_add_response_header(res, "Lambda-Runtime-Trace-Id", t.p);
	}
	buf_free(&t);
	enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, res);
	MHD_destroy_response(res);
	rt->phase = FN_RT_BUSY;
	return ok;
}

/* A response, error or init error settles the assigned invocation: its
 * out is the result (or the error object), as a worker's line. */
static void
settle(struct fn_rt *rt, const struct fn_rt_decision *d, struct rt_req *q,
    struct MHD_Connection *c)
{
	struct fn_inv *v = rt->cur;

	if (v == NULL)
		return;	/* an init error with no invocation waiting */
	buf_reset(&v->out);
	v->out_total = q->total;
	if (d->act == FN_RT_DO_RESULT) {
		buf_add(&v->out, q->body.p, q->body.n);
	} else if (d->act != FN_RT_DO_TOO_LARGE) {
		const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Lambda-Runtime-Function-Error-Type");
		fn_rt_error_obj(&v->out, hdr, d->act == FN_RT_DO_INIT_ERROR ? "Runtime.Unknown" :
		    "Unhandled", q->body.p, q->body.n);
		v->out_total = v->out.n;
		v->rt_error = 1;
	}
	v->replied = 1;
	rt->cur = NULL;
	rt->phase = FN_RT_UP;
	if (d->act == FN_RT_DO_INIT_ERROR)
		rt->doomed = 1;
}

/* Takes a request's body, up to Lambda's limit (the rest is counted). */
static enum MHD_Result
take_body(struct rt_req *q, const char *data, size_t *n)
{
	if (q->body.n + *n <= FN_MAX_RESULT)
		buf_add(&q->body, data, *n);
	q->total += *n;
	*n = 0;
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *n, void **ctx)
{
	struct fn_rt *rt = cls;
	struct rt_req *q = *ctx;
	char id[FN_RT_ID_MAX + 1];
	struct fn_rt_decision d;

	(void)version;
	if (q == NULL) {
		q = xcalloc(1, sizeof *q);
		q->gen = rt->gen;
		*ctx = q;
		return MHD_YES;
	}
	if (*n > 0)
		return take_body(q, data, n);
	if (q->held)
		rt->parked--;
	q->held = 0;
	if (q->gen != rt->gen)	/* from a bootstrap that is gone */
		return answer(c, 500, "Runtime.ContainerError", "the runtime was reset");
	enum fn_rt_call call = fn_rt_route(method, url, id);
	fn_rt_decide(rt->phase, rt->cur != NULL, rt->cur != NULL ? rt->cur->id : NULL, call, id,
	    q->total > FN_MAX_RESULT, &d);
	if (d.act == FN_RT_DO_WAIT && rt->waiter != NULL)
		return answer(c, 403, "InvalidStateTransition", "a /next is already waiting");
	if (call == FN_RT_NEXT && rt->phase == FN_RT_INIT)
		rt->phase = FN_RT_UP;
	switch (d.act) {
	case FN_RT_DO_WAIT:
		rt->waiter = c;
		q->held = 1;
		rt->parked++;
		MHD_suspend_connection(c);
		return MHD_YES;
	case FN_RT_DO_DELIVER:
		return deliver(rt, c);
	case FN_RT_DO_ANSWER:
		return answer(c, d.status, d.type, d.msg);
	default:
		settle(rt, &d, q, c);
		return answer(c, d.status, d.type, d.msg);
	}
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode why)
{
	struct fn_rt *rt = cls;
	struct rt_req *q = *ctx;

	(void)why;
	if (q == NULL)
		return;
	if (q->held && rt->waiter == c)
		rt->waiter = NULL;
	if (q->held)
		rt->parked--;
	buf_free(&q->body);
	free(q);
	*ctx = NULL;
}

/* Answers a held /next again (it is looked at anew by on_request). */
static void
wake_waiter(struct fn_rt *rt)
{
	if (rt->waiter != NULL) {
		MHD_resume_connection(rt->waiter);
		rt->waiter = NULL;
	}
}

/* BOOTSTRAP must be there and runnable before any event: a name
 * without '/' is looked for in PATH, as the spawn will. */
static int
check_bootstrap(const char *cmd, struct ev_err *e)
{
	struct stat st;
	const char *path = getenv("PATH");
	int found = 0;

	if (strchr(cmd, '/') != NULL) {
		found = stat(cmd, &st) == 0;
	} else {
		struct buf b = { 0 };
		for (const char *p = path != NULL ? path : "/usr/bin:/bin"; !found && p != NULL;) {
			const char *end = strchr(p, ':');
			size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
			buf_reset(&b);
			buf_printf(&b, "%.*s/%s", (int)len, len > 0 ? p : ".", cmd);
			found = stat(b.p, &st) == 0 && access(b.p, X_OK) == 0;
			p = end != NULL ? end + 1 : NULL;
		}
		if (found)
			cmd = NULL;
		buf_free(&b);
	}
	if (!found)
		return err_set(e, EV_NOINPUT, "--runtime-api: '%s': no such file", cmd);
	if (cmd != NULL && (S_ISDIR(st.st_mode) || access(cmd, X_OK) != 0))
		return err_set(e, EV_USAGE, "--runtime-api: '%s': not an executable file", cmd);
	return 0;
}

/* The function's ARN, named as its environment names it. */
static char *
function_arn(const struct fn_runner *r)
{
	const char *name = NULL;

	for (size_t i = 0; r->env.v[i] != NULL; i++)
		if (strncmp(r->env.v[i], "AWS_LAMBDA_FUNCTION_NAME=", 25) == 0)
			name = r->env.v[i] + 25;
	return arn_make("lambda", NULL, "function:", name != NULL ? name : "function");
}

int
fn_rt_open(struct fn_runner *r, struct ev_err *e)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int rc = check_bootstrap(r->o.argv[0], e);

	if (rc != 0)
		return rc;
	r->rt = xcalloc((size_t)r->o.jobs, sizeof *r->rt);
	for (int i = 0; i < r->o.jobs; i++) {
		struct fn_rt *rt = &r->rt[i];
		rt->r = r;
		rt->arn = function_arn(r);
		rt->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
		    on_request, rt, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, rt, MHD_OPTION_END);
		const union MHD_DaemonInfo *pi = rt->d != NULL ?
		    MHD_get_daemon_info(rt->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
		const union MHD_DaemonInfo *ei = rt->d != NULL ?
		    MHD_get_daemon_info(rt->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
		if (pi == NULL || ei == NULL)
			return err_set(e, EV_UNAVAILABLE, "--runtime-api: cannot serve on 127.0.0.1");
		rt->port = pi->port;
		rt->epfd = ei->epoll_fd;
	}
	return 0;
}

/* Starts the slot's bootstrap, its stdout our stderr (a runtime's
 * stdout is its log, as in Lambda), with no stdin. */
int
fn_rt_spawn(struct fn_runner *r, struct fn_worker *w)
{
	struct fn_rt *rt = &r->rt[w - r->wk];
	char entry[64];

	wake_waiter(rt);	/* a dead bootstrap's: answered 500 */
	rt->gen++;
	rt->phase = FN_RT_INIT;
	rt->cur = NULL;
	rt->doomed = 0;
	snprintf(entry, sizeof entry, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", rt->port);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		return errno;
	int err = fn_spawn_fds(r, entry, null, 2, &w->pid);
	close(null);
	w->in_fd = w->out_fd = -1;
	return err;
}

void
fn_rt_assign(struct fn_runner *r, struct fn_worker *w, struct fn_inv *v)
{
	struct fn_rt *rt = &r->rt[w - r->wk];

	rt->cur = v;
	wake_waiter(rt);
}

/* A starting runtime's init is over when it asks (deliver), answers,
 * posts an init error, or dies. */
int
fn_rt_ready(const struct fn_inv *v)
{
	return v->replied || v->exited || v->wk->gone;
}

int
fn_rt_done(struct fn_runner *r, struct fn_worker *w, struct fn_inv *v)
{
	struct fn_rt *rt = &r->rt[w - r->wk];
	int doomed = rt->doomed;

	if (rt->cur == v)
		rt->cur = NULL;
	rt->doomed = 0;
	if (rt->phase == FN_RT_BUSY && !v->replied)
		rt->phase = FN_RT_UP;	/* it is let go anyway: timed out or dead */
	return doomed;
}

nfds_t
fn_rt_poll_set(struct fn_runner *r, struct pollfd *pfd, struct fn_inv **owners, nfds_t n)
{
	for (int i = 0; i < r->o.jobs; i++) {
		pfd[n] = (struct pollfd){ r->rt[i].epfd, POLLIN, 0 };
		owners[n++] = NULL;
	}
	return n;
}

/* t, or less when a server has work pending (MHD's own timeout). */
int
fn_rt_wait_ms(struct fn_runner *r, int t)
{
	MHD_UNSIGNED_LONG_LONG ms;

	for (int i = 0; i < r->o.jobs; i++)
		if (MHD_get_timeout(r->rt[i].d, &ms) == MHD_YES && (t < 0 || ms < (unsigned)t))
			t = (int)ms;
	return t;
}

void
fn_rt_run(struct fn_runner *r)
{
	for (int i = 0; i < r->o.jobs; i++)
		MHD_run(r->rt[i].d);
}

/* Stops every server.  MHD must not stop with a suspended connection,
 * and a resume only raises a flag that MHD_run acts on: so a held /next
 * is resumed and run until none is parked (the new generation answers
 * it 500 and parks nothing more). */
void
fn_rt_close(struct fn_runner *r)
{
	if (r->rt == NULL)
		return;
	for (int i = 0; i < r->o.jobs; i++) {
		struct fn_rt *rt = &r->rt[i];
		if (rt->d != NULL) {
			rt->gen++;
			for (int k = 0; k < 100 && rt->parked > 0; k++) {
				wake_waiter(rt);
				MHD_run(rt->d);
				if (rt->parked > 0)	/* its wake-up may not be in yet */
					(void)poll(&(struct pollfd){ rt->epfd, POLLIN, 0 }, 1, 1);
			}
			MHD_stop_daemon(rt->d);
		}
		free(rt->arn);
	}
	free(r->rt);
	r->rt = NULL;
}
