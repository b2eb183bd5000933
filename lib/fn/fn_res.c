/* fn_res — what an invocation comes to, in Lambda's shapes: the result
 * or {"errorMessage","errorType"}, the --envelope line, the --report line
 * and the --dlq record. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jv.h>

#include "core/arn.h"
#include "core/clock.h"
#include "dlq/dlq.h"
#include "fn_int.h"
#include "core/json.h"
#include "core/jx.h"
#include "core/msg.h"
#include "queue/queue.h"

/* Replaces b with {"errorMessage":…,"errorType":type}. */
void
fn_res_error(struct buf *b, const char *type, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	buf_reset(b);
	buf_adds(b, "{\"errorMessage\":");
	json_add_string(b, m, strlen(m));
	buf_adds(b, ",\"errorType\":");
	json_add_string(b, type, strlen(type));
	buf_addc(b, '}');
}

/* Sets b to the JSON value jv (consumed), compact. */
static void
set_jv(struct buf *b, jv v)
{
	buf_reset(b);
	jx_dump(v, b);
	jv_free(v);
}

/* A handler's stdout as a result: JSON as is (made compact when it spans
 * lines, never through libjq, which aborts on nesting deeper than 256),
 * empty or white space is null, any other text a JSON string. */
static void
shape_stdout(struct buf *res, const char *p, size_t n)
{
	struct json_err e;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	buf_reset(res);
	if (n == 0) {
		buf_adds(res, "null");
	} else if (json_validate(p, n, 0, &e) == 0) {
		json_add_string(res, p, n);
	} else if (memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL) {
		json_compact(res, p, n);	/* as written: libjq would round numbers */
	} else {
		buf_add(res, p, n);
	}
}

/* Whether p[0..n) is one JSON object naming an error (SPEC 5's typed
 * errors): errorType, or for the older shape errorMessage, a string. */
static int
is_error_object(const char *p, size_t n)
{
	struct json_err je;
	struct buf s = { 0 };
	size_t i = json_ws(p, n, 0);

	if (json_validate(p, n, 0, &je) != '{')
		return 0;
	int yes = json_string_at(p, n, json_find_member(p, n, i, "errorType", 9), &s) ||
	    json_string_at(p, n, json_find_member(p, n, i, "errorMessage", 12), &s);
	buf_free(&s);
	return yes;
}

/* A failed handler may say why on stdout in Lambda's own error shape, as
 * a runtime reports a thrown exception: all of its stdout, or its last
 * line after lines of log. */
static int
stdout_error(struct buf *res, const struct buf *out)
{
	const char *p = out->p;
	size_t n = out->n;

	if (n == 0)
		return 0;
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (!is_error_object(p, n)) {
		const char *nl = memrchr(p, '\n', n);
		if (nl == NULL || !is_error_object(nl + 1, n - (size_t)(nl + 1 - p)))
			return 0;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	buf_reset(res);
	json_compact(res, p, n);	/* as written: libjq would round numbers */
	return 1;
}

/* Lambda's runtime supervisor is written in Go and says how a runtime
 * died as Go does: "signal: killed", "signal: segmentation fault (core
 * dumped)" — C's signal names, lower-cased. */
static void
signal_error(struct buf *b, int status)
{
	char name[64];

	snprintf(name, sizeof name, "%s", strsignal(WTERMSIG(status)));
	if (name[0] >= 'A' && name[0] <= 'Z')
		name[0] = (char)(name[0] - 'A' + 'a');
	fn_res_error(b, "Runtime.ExitError", "Runtime exited with error: signal: %s%s", name,
	    WCOREDUMP(status) ? " (core dumped)" : "");
}

static void
process_error(struct fn_runner *r, struct fn_inv *v)
{
	if (v->spawn_errno != 0)
		fn_res_error(&v->res, "Runtime.InvalidEntrypoint", "cannot run '%s': %s",
		    r->o.argv[0], strerror(v->spawn_errno));
	else if (v->init_timed_out)
		fn_res_error(&v->res, "Runtime.InitError", "Init timed out after %.2f seconds",
		    (double)r->o.init_timeout_ms / 1000);
	else if (v->timed_out)
		fn_res_error(&v->res, "Runtime.Timeout", "Task timed out after %.2f seconds",
		    (double)r->o.timeout_ms / 1000);
	else if (WIFSIGNALED(v->status))
		signal_error(&v->res, v->status);	/* a --memory kill is SIGKILL */
	else if (WEXITSTATUS(v->status) != 0) {
		if (!stdout_error(&v->res, &v->out))
			fn_res_error(&v->res, "Runtime.ExitError",
			    "Runtime exited with error: exit status %d", WEXITSTATUS(v->status));
	}
	else if (v->wk != NULL && !v->replied)
		fn_res_error(&v->res, "Runtime.ExitError", "Runtime exited without providing a reason");
	else if (v->out_total > FN_MAX_RESULT)
		fn_res_error(&v->res, "Function.ResponseSizeTooLarge",
		    "Response payload size (%zu bytes) exceeded maximum allowed payload size (%d bytes).",
		    v->out_total, FN_MAX_RESULT);
	else if (v->wk == NULL || (r->rt != NULL && !v->rt_error) || !stdout_error(&v->res, &v->out))
		return;	/* a worker says it failed by a Lambda error object; a runtime, by posting one */
	v->failed = 1;
}

/* Settles a finished handler process: its result or error into v->res,
 * duration and peak memory (wait4's ru_maxrss, KiB) for the report. */
void
fn_res_process(struct fn_runner *r, struct fn_inv *v)
{
	v->dur_ms = (double)(clock_mono_ms() - v->start);
	/* wait4 counts the handler and the children it reaped; the samples
	 * (--memory) also see the children still running. */
	long kib = v->ru.ru_maxrss > v->peak_kib ? v->ru.ru_maxrss : v->peak_kib;
	v->max_mb = (kib + 1023) / 1024;
	v->failed = 0;
	process_error(r, v);
	if (!v->failed)
		shape_stdout(&v->res, v->out.p != NULL ? v->out.p : "", v->out.n);
}

/* Runs the --jq program on v's event in-process: its first output is
 * the result (none is null); a jq error is the function's error. */
void
fn_res_jq(struct fn_runner *r, struct fn_inv *v)
{
	struct timespec t0, t1;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct ev_err e;
	jv out;
	int rc = jx_eval(r->jx, v->event, v->n, JX_FIRST, &out, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	v->dur_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	getrusage(RUSAGE_SELF, &ru);
	v->max_mb = (ru.ru_maxrss + 1023) / 1024;
	v->failed = rc != 0 && rc != EV_NONE;
	if (v->failed)
		fn_res_error(&v->res, "JqError", "%s", e.msg);
	else
		set_jv(&v->res, out);	/* none is null */
}

static const char *
status_word(const struct fn_inv *v)
{
	return !v->failed ? "success" : v->timed_out ? "timeout" : "error";
}

/* One --report line for one attempt, in Lambda's REPORT terms. */
void
fn_res_report(struct fn_runner *r, const struct fn_inv *v)
{
	if (r->report == NULL)
		return;
	long billed = (long)v->dur_ms + ((double)(long)v->dur_ms < v->dur_ms);
	fprintf(r->report, "{\"requestId\":\"%s\",\"status\":\"%s\",\"attempt\":%d,"
	    "\"durationMs\":%.2f,\"billedDurationMs\":%ld,\"memorySizeMB\":%d,"
	    "\"maxMemoryUsedMB\":%ld", v->id, status_word(v), v->attempt, v->dur_ms,
	    billed < 1 ? 1 : billed, r->o.memory_mb > 0 ? r->o.memory_mb : 128, v->max_mb);
	/* Only the invocation that started a worker paid for the start. */
	if (r->wk != NULL && v->init_ms >= 0)
		fprintf(r->report, ",\"initDurationMs\":%.2f", v->init_ms);
	fputs("}\n", r->report);
}

/* The output line for v: the bare result (or error object), or with
 * --envelope {"requestId","status","result"|"error","attempts"}. */
void
fn_res_line(struct fn_runner *r, const struct fn_inv *v, struct buf *b)
{
	buf_reset(b);
	if (!r->o.envelope) {
		buf_add(b, v->res.p, v->res.n);
		return;
	}
	buf_printf(b, "{\"requestId\":\"%s\",\"status\":\"%s\",\"%s\":", v->id, status_word(v),
	    v->failed ? "error" : "result");
	buf_add(b, v->res.p, v->res.n);
	buf_printf(b, ",\"attempts\":%d}", v->attempt);
}

/* The dead-letter record, shaped as Lambda's on-failure destination
 * record: the original event as requestPayload, the error as
 * responsePayload. */
static void
dlq_record(const struct fn_runner *r, const struct fn_inv *v, const char *payload, size_t n,
    struct buf *b)
{
	char ts[25];
	char *arn = arn_make("lambda", proc_env_get(&r->env, "AWS_REGION"), "function:",
	    proc_env_get(&r->env, "AWS_LAMBDA_FUNCTION_NAME"));

	clock_rfc3339(clock_now_ms(), ts);
	buf_printf(b, "{\"version\":\"1.0\",\"timestamp\":\"%s\",\"requestContext\":"
	    "{\"requestId\":\"%s\",\"functionArn\":", ts, v->id);
	json_add_string(b, arn, strlen(arn));
	free(arn);
	buf_printf(b, ",\"condition\":\"RetriesExhausted\",\"approximateInvokeCount\":%d},"
	    "\"requestPayload\":", v->attempt);
	buf_add(b, payload, n);
	buf_adds(b, ",\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\","
	    "\"functionError\":\"Unhandled\"},\"responsePayload\":");
	buf_add(b, v->res.p, v->res.n);
	buf_addc(b, '}');
}

/* Returns 0, or the error's status with r->err set. */
static int
dlq_send(struct fn_runner *r, const struct fn_inv *v, const char *payload, size_t n)
{
	struct buf b = { 0 };
	struct ev_err e;
	int rc = 0;

	dlq_record(r, v, payload, n, &b);
	if ((rc = dlq_put(r->dlq, b.p, b.n, NULL, 0, &e)) != 0) {
		r->err = e;
		err_wrap(&r->err, "--dlq");
	}
	buf_free(&b);
	return rc;
}

/* Sends v's failure to the --dlq target: the event, or each event of a
 * batch (--batch) with the batch's error.  An I/O failure there ends the
 * run (r->err, exit 74), since the event would otherwise be lost
 * silently; it counts as a failure.  Returns 0 or that status. */
int
fn_res_dlq(struct fn_runner *r, const struct fn_inv *v)
{
	if (r->err.code != 0)
		return r->err.code;	/* the --dlq already failed */
	if (v->rec == NULL)
		return dlq_send(r, v, v->event, v->n);
	for (size_t i = 0; i < v->nrec; i++)
		if (dlq_send(r, v, v->event + v->rec[i * 2], v->rec[i * 2 + 1]) != 0)
			return r->err.code;
	return 0;
}

/* Flushes and closes the --report file; 0, or -1 with errno. */
int
fn_res_report_close(struct fn_runner *r)
{
	int rc = 0;

	if (r->report == NULL)
		return 0;
	if (fflush(r->report) != 0 || ferror(r->report))
		rc = -1;
	int saved = errno;
	if (fclose(r->report) != 0 && rc == 0)
		rc = -1;
	else if (rc != 0)
		errno = saved;
	r->report = NULL;
	return rc;
}

void
fn_res_text(struct buf *res, const char *p, size_t n)
{
	shape_stdout(res, p, n);
}
