/* test_fres — fnflow's Task resources (lib/flow/fres) with real
 * handlers: jq:, exec: (a script file), worker:, url: (a tiny HTTP
 * server forked here), runtime: (tests/lib/rt-bootstrap.sh), typed
 * errors, TimeoutSeconds, lambda:invoke's wrapper, sqs:sendMessage to a
 * local queue and events:putEvents through a rules file. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jv.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jx.h"
#include "core/sig.h"
#include "flow/fres.h"
#include "queue/queue.h"
#include "unit.h"

struct outc {
	int got, ok;
	char res[65536];
	struct ferr f;
};

static void
on_done(void *ctx, void *tag, int ok, const char *res, size_t n, const struct ferr *f)
{
	struct outc *o = tag;

	(void)ctx;
	o->got++;
	o->ok = ok;
	if (ok)
		snprintf(o->res, sizeof o->res, "%.*s", (int)n, res);
	else
		o->f = *f;
}

static const char *
exec_arn(void *ctx, void *tag)
{
	(void)ctx;
	(void)tag;
	return "arn:aws:states:us-east-1:000000000000:execution:m:x1";
}

/* Starts one task and pumps until it ends (at most 60 s). */
static void
run1(struct fres *r, const char *res, const char *in, int64_t tmo, struct outc *o)
{
	memset(o, 0, sizeof *o);
	if (fres_start(r, res, in, strlen(in), tmo, o, &o->f) != 0) {
		o->got = -1;
		return;
	}
	int64_t until = clock_mono_ms() + 60000;
	while (o->got == 0 && clock_mono_ms() < until)
		fres_pump(r, 1000);
}

/* o's result's member k, compact (or "" when there is none). */
static const char *
field(const char *json, const char *k)
{
	static char b[4096];
	struct ev_err e;
	jv v;

	b[0] = '\0';
	if (jx_parse(json, strlen(json), &v, &e) != 0 || jv_get_kind(v) != JV_KIND_OBJECT)
		return b;
	jv m = jv_dump_string(jv_object_get(v, jv_string(k)), 0);
	snprintf(b, sizeof b, "%s", jv_string_value(m));
	jv_free(m);
	return b;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* A tiny HTTP function: answers every POST with {"echo":BODY}, a
 * process per connection; a body with "slow" in it waits 30 s first. */
static pid_t
http_server(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t al = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	bind(s, (struct sockaddr *)&a, sizeof a);
	listen(s, 16);
	getsockname(s, (struct sockaddr *)&a, &al);
	*port = ntohs(a.sin_port);
	pid_t p = fork();
	if (p != 0) {
		close(s);
		return p;
	}
	signal(SIGCHLD, SIG_IGN);	/* its children reap themselves */
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0 || fork() != 0) {
			close(c);
			continue;
		}
		char req[65536], out[70000];
		size_t n = 0;
		ssize_t got;
		char *body = NULL;
		while (n < sizeof req - 1 && (got = read(c, req + n, sizeof req - 1 - n)) > 0) {
			n += (size_t)got;
			req[n] = '\0';
			char *h = strstr(req, "\r\n\r\n"), *cl = strcasestr(req, "content-length:");
			if (h != NULL && cl != NULL && n >= (size_t)(h + 4 - req) + strtoul(cl + 15, NULL, 10)) {
				body = h + 4;
				break;
			}
		}
		if (body != NULL && strstr(body, "slow") != NULL)
			sleep(30);
		int bn = snprintf(out + 200, sizeof out - 200, "{\"echo\":%s}", body ? body : "null");
		int hn = snprintf(out, 200, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: %d\r\nConnection: close\r\n\r\n", bn);
		memmove(out + hn, out + 200, (size_t)bn);
		(void)!write(c, out, (size_t)(hn + bn));
		_exit(0);
	}
}

static void
test_checks(struct fres *r)
{
	CHECK(fres_check(r, "up") == NULL);
	CHECK(fres_check(r, "arn:aws:lambda:us-east-1:123456789012:function:up") == NULL);
	CHECK(fres_check(r, "arn:aws:lambda:us-east-1:123456789012:function:up:prod") == NULL);
	CHECK(fres_check(r, "arn:aws:states:::lambda:invoke") == NULL);
	CHECK(fres_check(r, "arn:aws:states:::sqs:sendMessage") == NULL);
	CHECK(fres_check(r, "arn:aws:states:::events:putEvents") == NULL);
	const char *why = fres_check(r, "nope");
	CHECK(why != NULL && strstr(why, "--function nope=URI") != NULL);
	why = fres_check(r, "arn:aws:states:::lambda:invoke.waitForTaskToken");
	CHECK(why != NULL && strstr(why, "waitForTaskToken") != NULL);
	CHECK(fres_check(r, "arn:aws:states:::dynamodb:putItem") != NULL);
	CHECK(fres_check(r, "arn:aws:sns:us-east-1:1:topic") != NULL);
}

static void
test_functions(struct fres *r)
{
	struct outc o;

	run1(r, "up", "{\"x\":\"abc\"}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(o.res, "\"ABC\"");
	run1(r, "arn:aws:lambda:us-east-1:123456789012:function:exe", "{\"a\":1}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(o.res, "{\"got\":{\"a\":1}}");
	run1(r, "wk", "7", 0, &o);
	CHECK_STR(o.res, "{\"w\":7}");
	run1(r, "wk", "8", 0, &o);
	CHECK_STR(o.res, "{\"w\":8}");
	run1(r, "web", "{\"h\":1}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(o.res, "{\"echo\":{\"h\":1}}");
	run1(r, "rt", "{\"op\":\"echo\",\"v\":2}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(field(o.res, "v"), "2");
}

static void
test_errors(struct fres *r)
{
	struct outc o;

	/* A handler's typed error (SPEC 5): Error is its errorType, Cause the
	 * error object, as Step Functions gives a Lambda function's. */
	run1(r, "exe", "{\"fail\":1}", 0, &o);
	CHECK(o.got == 1 && !o.ok);
	CHECK_STR(o.f.error, "MyError");
	CHECK_STR(field(o.f.cause, "errorMessage"), "\"boom\"");
	/* A non-zero exit without one: the runtime's error type. */
	run1(r, "exe", "{\"die\":1}", 0, &o);
	CHECK_STR(o.f.error, "Runtime.ExitError");
	CHECK(strstr(o.f.cause, "exit status 3") != NULL);
	run1(r, "up", "{\"x\":1}", 0, &o);
	CHECK_STR(o.f.error, "JqError");
	run1(r, "rt", "{\"op\":\"error\",\"n\":4}", 0, &o);
	CHECK_STR(o.f.error, "MyError");
	CHECK_STR(field(o.f.cause, "errorMessage"), "\"bad: 4\"");
	/* TimeoutSeconds: States.Timeout, at once, and the handler is killed. */
	int64_t t0 = clock_mono_ms();
	run1(r, "exe", "{\"sleep\":1}", 300, &o);
	CHECK(o.got == 1 && !o.ok);
	CHECK_STR(o.f.error, "States.Timeout");
	CHECK(clock_mono_ms() - t0 < 20000);
	run1(r, "wk", "{\"sleep\":1}", 300, &o);
	CHECK_STR(o.f.error, "States.Timeout");
	/* An HTTP function's request is cancelled: no slot stays taken. */
	run1(r, "web", "{\"slow\":1}", 300, &o);
	CHECK_STR(o.f.error, "States.Timeout");
	run1(r, "web", "{\"slow\":2}", 300, &o);
	CHECK_STR(o.f.error, "States.Timeout");
	t0 = clock_mono_ms();
	run1(r, "web", "{\"h\":2}", 0, &o);
	CHECK_STR(o.res, "{\"echo\":{\"h\":2}}");
	CHECK(clock_mono_ms() - t0 < 15000);	/* not after the slow ones' 30 s */
	/* The worker slot is usable again after its worker was killed. */
	run1(r, "wk", "9", 0, &o);
	CHECK_STR(o.res, "{\"w\":9}");
	struct ferr f;
	CHECK(fres_start(r, "nope", "{}", 2, 0, NULL, &f) == -1);
	CHECK_STR(f.error, "States.Runtime");
}

static void
test_invoke(struct fres *r)
{
	struct outc o;

	run1(r, "arn:aws:states:::lambda:invoke",
	    "{\"FunctionName\":\"arn:aws:lambda:us-east-1:123456789012:function:up:$LATEST\","
	    "\"Payload\":{\"x\":\"q\"}}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(field(o.res, "Payload"), "\"Q\"");
	CHECK_STR(field(o.res, "StatusCode"), "200");
	CHECK_STR(field(o.res, "ExecutedVersion"), "\"$LATEST\"");
	CHECK(strstr(o.res, "\"SdkHttpMetadata\":{") != NULL);
	CHECK(strstr(o.res, "\"HttpStatusCode\":200") != NULL);
	CHECK(strstr(o.res, "\"SdkResponseMetadata\":{\"RequestId\":\"") != NULL);
	run1(r, "arn:aws:states:::lambda:invoke", "{\"FunctionName\":\"exe\",\"Payload\":{\"fail\":1}}",
	    0, &o);
	CHECK_STR(o.f.error, "MyError");
	/* InvocationType Event: Lambda's 202 at once; the function runs on,
	 * not counted as a running task. */
	run1(r, "arn:aws:states:::lambda:invoke", "{\"FunctionName\":\"exe\",\"InvocationType\":"
	    "\"Event\",\"Payload\":{\"long\":1}}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(field(o.res, "StatusCode"), "202");
	CHECK_STR(field(o.res, "Payload"), "\"\"");
	CHECK(strstr(o.res, "\"HttpStatusCode\":202") != NULL);
	CHECK(fres_pump(r, 0) == 0);
	run1(r, "arn:aws:states:::lambda:invoke", "{\"FunctionName\":\"ghost\"}", 0, &o);
	CHECK(o.got == 1 && !o.ok);
	CHECK_STR(o.f.error, "Lambda.ResourceNotFoundException");
	CHECK(strstr(o.f.cause, "Function not found: arn:aws:lambda:") != NULL);
}

/* Tasks of several functions at once, served from this one thread. */
static void
test_together(struct fres *r)
{
	struct outc o[5];
	const char *res[5] = { "exe", "wk", "rt", "web", "exe" };
	const char *in[5] = { "{\"nap\":1}", "1", "{\"op\":\"echo\"}", "2", "{\"nap\":1}" };

	memset(o, 0, sizeof o);
	for (int i = 0; i < 5; i++)
		CHECK(fres_start(r, res[i], in[i], strlen(in[i]), 0, &o[i], &o[i].f) == 0);
	int64_t until = clock_mono_ms() + 60000;
	int left = 5;
	while (left > 0 && clock_mono_ms() < until)
		left = fres_pump(r, 1000);
	for (int i = 0; i < 5; i++)
		CHECK(o[i].got == 1 && o[i].ok);
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Waiting on several functions' tasks is a wait, not a spin: a 2 s
 * handler, with a worker and a Runtime API idle beside it, costs this
 * process far less than the 2 s a busy loop would burn. */
static void
test_no_spin(struct fres *r)
{
	struct outc o;
	double c0 = cpu_s();

	run1(r, "exe", "{\"long\":1}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK(cpu_s() - c0 < 1.0);
}

static void
test_sqs(struct fres *r)
{
	struct outc o;
	struct queue *q;
	struct ev_err e;
	char md5[33];

	CHECK(q_open("jobs", Q_CREATE, NULL, &q, &e) == 0);
	run1(r, "arn:aws:states:::sqs:sendMessage", "{\"QueueUrl\":\"jobs\",\"MessageBody\":{\"k\":1},"
	    "\"MessageAttributes\":{\"a\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	digest_hex_of(DIGEST_MD5, "{\"k\":1}", 7, md5);
	char want[40];
	snprintf(want, sizeof want, "\"%s\"", md5);
	CHECK_STR(field(o.res, "MD5OfMessageBody"), want);
	CHECK(strlen(field(o.res, "MD5OfMessageAttributes")) == 34);
	char id[64];
	snprintf(id, sizeof id, "%s", field(o.res, "MessageId"));
	struct q_msg m[2];
	size_t n = 0;
	CHECK(q_receive(q, 0, 2, 30000, m, &n, &e) == 0 && n == 1);
	if (n == 1) {
		char got[64];
		snprintf(got, sizeof got, "\"%s\"", m[0].id);
		CHECK_STR(got, id);
		CHECK(m[0].len == 7 && memcmp(m[0].body, "{\"k\":1}", 7) == 0);
		CHECK(m[0].attrs != NULL && strstr(m[0].attrs, "\"stringValue\":\"v\"") != NULL);
	}
	q_close(q);
	run1(r, "arn:aws:states:::sqs:sendMessage", "{\"QueueUrl\":\"jobs\",\"MessageBody\":\"plain\"}",
	    0, &o);
	CHECK(o.ok);
	run1(r, "arn:aws:states:::sqs:sendMessage", "{\"QueueUrl\":\"nosuch\",\"MessageBody\":\"x\"}",
	    0, &o);
	CHECK(o.got == 1 && !o.ok);
	CHECK_STR(o.f.error, "SQS.QueueDoesNotExistException");
}

static void
test_events(struct fres *r)
{
	struct outc o;

	run1(r, "arn:aws:states:::events:putEvents", "{\"Entries\":[{\"Detail\":{\"order\":5},"
	    "\"DetailType\":\"placed\",\"Source\":\"shop\"},{\"Detail\":\"{\\\"n\\\":1}\","
	    "\"DetailType\":\"other\",\"Source\":\"elsewhere\"}]}", 0, &o);
	CHECK(o.got == 1 && o.ok);
	CHECK_STR(field(o.res, "FailedEntryCount"), "0");
	CHECK(strstr(o.res, "{\"Entries\":[{\"EventId\":\"") == o.res);
	run1(r, "arn:aws:states:::events:putEvents", "{\"Entries\":[{\"Detail\":{},"
	    "\"Source\":\"shop\"}]}", 0, &o);
	CHECK(o.got == 1 && !o.ok);
	CHECK_STR(o.f.error, "EventBridge.FailedEntry");
	CHECK_STR(field(o.f.cause, "FailedEntryCount"), "1");
}

/* What the rules file's target got, once the bus delivered it. */
static void
check_routed(void)
{
	char line[4096] = "";
	FILE *f = fopen("routed.ndjson", "r");

	CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
	CHECK_STR(field(line, "source"), "\"shop\"");
	CHECK_STR(field(line, "detail-type"), "\"placed\"");
	CHECK_STR(field(line, "detail"), "{\"order\":5}");
	/* Step Functions appends the execution's and the machine's ARNs. */
	CHECK_STR(field(line, "resources"), "[\"arn:aws:states:us-east-1:000000000000:execution:m:x1\","
	    "\"arn:aws:states:us-east-1:000000000000:stateMachine:m\"]");
	CHECK(f != NULL && fgets(line, sizeof line, f) == NULL);	/* the other did not match */
	if (f != NULL)
		fclose(f);
}

/* "test_fres run RESOURCE INPUT [NAME=URI...]" (tests/fres.bats): one
 * task, its result or {"Error","Cause"} on stdout; $FRES_RULES is
 * --rules, $FRES_SM_ARN the state machine's ARN.  Exit 0 when it succeeded, 1 when it failed, 2 when fres
 * could not open. */
static int
drive(int argc, char **argv)
{
	struct fres_opts o = { .functions = argv + 3, .nfunctions = argc - 3, .jobs = 1,
		.rules = getenv("FRES_RULES"), .done = on_done,
		.state_machine_arn = getenv("FRES_SM_ARN") };
	struct fres *r;
	struct ev_err e;
	struct outc *out = calloc(1, sizeof *out);

	if (fres_open(&o, &r, &e) != 0) {
		fprintf(stderr, "test_fres: %s\n", e.msg);
		return 2;
	}
	run1(r, argv[1], argv[2], 0, out);
	fres_close(r);
	struct buf b = { 0 };
	if (out->got == 1 && out->ok) {
		buf_adds(&b, out->res);
	} else {
		buf_adds(&b, "{\"Error\":");
		json_add_string(&b, out->f.error, strlen(out->f.error));
		buf_adds(&b, ",\"Cause\":");
		json_add_string(&b, out->f.cause, strlen(out->f.cause));
		buf_addc(&b, '}');
	}
	printf("%.*s\n", (int)b.n, b.p);
	buf_free(&b);
	int rc = out->got == 1 && out->ok ? 0 : 1;
	free(out);
	return rc;
}

int
main(int argc, char **argv)
{
	char top[4096], dir[] = "/tmp/test_fres.XXXXXX", fn[6][4200];
	int port;

	if (argc >= 4 && strcmp(argv[1], "run") == 0)
		return drive(argc - 1, argv + 1);

	signal(SIGPIPE, SIG_IGN);
	CHECK(getcwd(top, sizeof top) != NULL);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chdir(dir) == 0);
	setenv("EVKIT_HOME", dir, 1);
	write_file("h.sh", "read l\n"
	    "case $l in\n"
	    "*fail*) echo '{\"errorType\":\"MyError\",\"errorMessage\":\"boom\",\"trace\":[]}'; exit 1;;\n"
	    "*die*) exit 3;;\n*sleep*) sleep 30;;\n*nap*) sleep 1;;\n*long*) sleep 2;;\nesac\n"
	    "printf '{\"got\":%s}\\n' \"$l\"\n");
	write_file("w.sh", "while read l; do case $l in *sleep*) sleep 30;; esac; "
	    "printf '{\"w\":%s}\\n' \"$l\"; done\n");
	write_file("rules.json", "{\"rules\":[{\"name\":\"r\",\"pattern\":{\"source\":[\"shop\"]},"
	    "\"targets\":[{\"id\":\"f\",\"uri\":\"file:routed.ndjson\"}]}]}");
	pid_t srv = http_server(&port);
	snprintf(fn[0], sizeof fn[0], "up=jq:.x|ascii_upcase");
	snprintf(fn[1], sizeof fn[1], "exe=exec:sh %s/h.sh", dir);
	snprintf(fn[2], sizeof fn[2], "wk=worker:sh '%s/w.sh'", dir);
	snprintf(fn[3], sizeof fn[3], "web=url:http://127.0.0.1:%d/fn", port);
	snprintf(fn[4], sizeof fn[4], "rt=runtime:sh %s/tests/lib/rt-bootstrap.sh", top);
	char *fns[5] = { fn[0], fn[1], fn[2], fn[3], fn[4] };
	struct fres_opts o = { .functions = fns, .nfunctions = 5, .rules = "rules.json", .jobs = 2,
		.done = on_done, .execution_arn = exec_arn,
		.state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m" };
	struct fres *r = NULL;
	struct ev_err e;
	int rc = fres_open(&o, &r, &e);
	CHECK(rc == 0);
	if (rc != 0) {
		printf("# %s\n", e.msg);
		kill(srv, SIGKILL);
		return UNIT_DONE();
	}
	test_checks(r);
	test_functions(r);
	test_errors(r);
	test_invoke(r);
	test_together(r);
	test_no_spin(r);
	test_sqs(r);
	test_events(r);
	int64_t t0 = clock_mono_ms();
	fres_close(r);
	CHECK(clock_mono_ms() - t0 < 15000);	/* no wait for what timed out */
	check_routed();

	/* The function's own timeout (no TimeoutSeconds): Lambda.Unknown, as
	 * the developer guide names a Lambda function's timeout. */
	char *slow[1] = { fn[1] };
	struct fres_opts os = { .functions = slow, .nfunctions = 1, .jobs = 1, .timeout_ms = 300,
		.done = on_done };
	CHECK(fres_open(&os, &r, &e) == 0);
	struct outc out;
	run1(r, "exe", "{\"sleep\":1}", 0, &out);
	CHECK_STR(out.f.error, "Lambda.Unknown");
	CHECK(strstr(out.f.cause, "Task timed out after 0.30 seconds") != NULL);
	fres_close(r);

	/* A stop request: fres_close lets the running task end, tells the
	 * one that never started, each once, and returns. */
	os.timeout_ms = 5000;
	CHECK(fres_open(&os, &r, &e) == 0);
	struct outc sa, sb;
	memset(&sa, 0, sizeof sa);
	memset(&sb, 0, sizeof sb);
	CHECK(fres_start(r, "exe", "{\"nap\":1}", 10, 0, &sa, &sa.f) == 0);
	CHECK(fres_start(r, "exe", "{\"nap\":2}", 10, 0, &sb, &sb.f) == 0);
	sig_stop = SIGTERM;
	fres_close(r);
	sig_stop = 0;
	CHECK(sa.got == 1 && sa.ok);
	CHECK(sb.got == 1 && !sb.ok);
	CHECK(strstr(sb.f.cause, "stopped") != NULL);

	/* A bad binding is refused before anything runs. */
	char *bad[1] = { (char *)"x=ftp:nope" };
	struct fres_opts ob = { .functions = bad, .nfunctions = 1, .jobs = 1, .done = on_done };
	CHECK(fres_open(&ob, &r, &e) == 2 && strstr(e.msg, "unknown scheme") != NULL);
	char *badjq[1] = { (char *)"x=jq:.[" };
	ob.functions = badjq;
	CHECK(fres_open(&ob, &r, &e) == 2);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)!system(cmd);
	return UNIT_DONE();
}
