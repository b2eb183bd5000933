/* fnrun — Lambda-style functions for pipelines: invoke a handler for
 * each NDJSON event, write one result line per event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/apigw.h"
#include "core/alloc.h"
#include "core/cli.h"
#include "fn/fn.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/ndjson.h"
#include "core/out.h"
#include "core/sig.h"

static const char help[] =
"usage: fnrun [OPTIONS] [FILE...] -- CMD [ARG...]\n"
"       fnrun [OPTIONS] --worker [FILE...] -- CMD [ARG...]\n"
"       fnrun [OPTIONS] --runtime-api [--handler H] [FILE...] -- BOOTSTRAP\n"
"       fnrun [OPTIONS] --jq PROGRAM [FILE...]\n"
"       fnrun [OPTIONS] --url URL [FILE...]\n"
"       fnrun [OPTIONS] --queue QUEUE [--follow] -- CMD [ARG...]\n"
"       fnrun [OPTIONS] --listen [ADDR:]PORT -- CMD [ARG...]\n"
"Invoke a function for each event (one JSON value per line) of the FILEs or\n"
"stdin and print one result line per event.  CMD runs once per event, in its\n"
"own process group, with the event on stdin; its stdout is the result (JSON\n"
"as is, empty is null, other text a JSON string); its stderr is its log.\n"
"With --worker, CMD starts once per -j slot and stays: it reads one event\n"
"line and writes one result line per invocation.  With --queue, the events\n"
"are batches of a queue's messages, as Lambda's SQS trigger makes them.\n"
"With --runtime-api, CMD is a Lambda runtime (BOOTSTRAP) started once per -j\n"
"slot and served Lambda's Runtime API (AWS_LAMBDA_RUNTIME_API).\n"
"\n"
"  -j, --jobs N             run up to N invocations at once (default 1,\n"
"                           at most 256)\n"
"  -u, --unordered          print results as they finish, not in input order\n"
"  -t, --timeout S          kill a handler after S seconds (default 3)\n"
"  -m, --memory MB          kill a handler whose processes use more than MB\n"
"                           resident memory (128 to 10240; default: no\n"
"                           limit, 128 reported)\n"
"  -b, --batch N            invoke with {\"Records\":[...]} of up to N events\n"
"                           (1 to 10000; a batch also ends when input pauses)\n"
"      --queue QUEUE        take events from an evq queue, as Lambda's SQS\n"
"                           trigger: leased batches of --batch (default 10),\n"
"                           deleted on success but for batchItemFailures;\n"
"                           exits when the queue is drained\n"
"  -f, --follow             with --queue: keep waiting for messages\n"
"      --listen [ADDR:]PORT serve HTTP as API Gateway's HTTP API (payload\n"
"                           format 2.0) on ADDR (default 127.0.0.1), one\n"
"                           invocation per request; an access log line per\n"
"                           request on stderr (or --report)\n"
"      --endpoint-url URL   send a remote --queue's requests to URL\n"
"  -r, --retries N          retry a failed invocation N times (default 0),\n"
"                           after 100 ms, 200 ms, 400 ms ...\n"
"      --dlq URI            send events that failed finally, with their error,\n"
"                           to file:PATH or queue:QUEUE\n"
"  -e, --envelope           print {\"requestId\",\"status\",\"result\"|\"error\",...}\n"
"      --report FILE        append one line per invocation: requestId, status,\n"
"                           durationMs, billedDurationMs, memorySizeMB,\n"
"                           maxMemoryUsedMB, initDurationMs (worker and\n"
"                           runtime starts)\n"
"  -n, --name NAME          the function name (AWS_LAMBDA_FUNCTION_NAME)\n"
"  -E, --env NAME[=VALUE]   give the function NAME (ours when no VALUE);\n"
"                           besides it sees only Lambda's variables and\n"
"                           PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER,\n"
"                           LOGNAME, SHELL, TERM\n"
"      --inherit-env        give the function all of our environment\n"
"      --worker             run CMD as warm workers, one line in, one out\n"
"      --init-timeout S     time a worker has to start, until it first reads\n"
"                           its stdin or a runtime first asks for an event\n"
"                           (default 10; initDurationMs)\n"
"      --max-invocations N  restart a worker after N invocations\n"
"      --runtime-api        run CMD as a Lambda runtime (a custom bootstrap,\n"
"                           aws-lambda-ric): one per -j slot, each with its\n"
"                           own Runtime API on 127.0.0.1\n"
"      --handler H          the function's handler (_HANDLER; default CMD)\n"
"      --jq PROGRAM         run a jq program in-process instead of CMD\n"
"      --url URL            POST each event to an HTTP function instead of\n"
"                           CMD: a 2xx body is the result, any other answer\n"
"                           an error naming the status; -j connections kept\n"
"                           alive, -t the request timeout\n"
"      --line-buffered      flush output after every line\n"
"      --errors FILE        record bad input lines in FILE and go on\n"
"      --max-line-bytes N   longest input line (default 1048576)\n"
"  -q, --quiet              no warnings\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"Exit status: 0 every event succeeded or went to --dlq (--queue: every batch\n"
"was deleted whole), 1 some failed, 2 usage, 65 bad input line, 66 missing\n"
"input file or queue, 74 I/O error.\n";

enum {
	OPT_DLQ = CLI_FIRST_FREE, OPT_REPORT, OPT_JQ, OPT_WORKER, OPT_MAXINV, OPT_QUEUE,
	OPT_INHERIT_ENV, OPT_INIT_TIMEOUT, OPT_ENDPOINT, OPT_URL, OPT_RUNTIME_API, OPT_HANDLER,
	OPT_LISTEN,
};

static const char *queue, *listen_at;
static int follow;
static struct fn_runner *runner;

static const struct option longopts[] = {
	CLI_BASIC_OPTS, CLI_INPUT_OPTS,
	{ "jobs", required_argument, NULL, 'j' },
	{ "unordered", no_argument, NULL, 'u' },
	{ "timeout", required_argument, NULL, 't' },
	{ "retries", required_argument, NULL, 'r' },
	{ "dlq", required_argument, NULL, OPT_DLQ },
	{ "envelope", no_argument, NULL, 'e' },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "name", required_argument, NULL, 'n' },
	{ "env", required_argument, NULL, 'E' },
	{ "jq", required_argument, NULL, OPT_JQ },
	{ "worker", no_argument, NULL, OPT_WORKER },
	{ "max-invocations", required_argument, NULL, OPT_MAXINV },
	{ "memory", required_argument, NULL, 'm' },
	{ "batch", required_argument, NULL, 'b' },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "endpoint-url", required_argument, NULL, OPT_ENDPOINT },
	{ "follow", no_argument, NULL, 'f' },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "inherit-env", no_argument, NULL, OPT_INHERIT_ENV },
	{ "init-timeout", required_argument, NULL, OPT_INIT_TIMEOUT },
	{ "url", required_argument, NULL, OPT_URL },
	{ "runtime-api", no_argument, NULL, OPT_RUNTIME_API },
	{ "handler", required_argument, NULL, OPT_HANDLER },
	{ NULL, 0, NULL, 0 },
};

static void
parse(int argc, char **argv, struct fn_opts *o, int *nfiles)
{
	int c;
	const char *why;

	while ((c = cli_getopt(argc, argv, "hqj:ut:r:en:E:m:b:f", longopts)) != -1) {
		switch (c) {
		case 'j': o->jobs = (int)cli_num("--jobs", optarg, 1, 256); break;
		case 'u': o->unordered = 1; break;
		case 't': o->timeout_ms = cli_duration_ms("--timeout", optarg, 1, 86400000); break;
		case 'r': o->retries = (int)cli_num("--retries", optarg, 0, 100); break;
		case OPT_DLQ: o->dlq = optarg; break;
		case 'e': o->envelope = 1; break;
		case OPT_REPORT: o->report = optarg; break;
		case 'n': o->name = optarg; break;
		case 'E':
			if ((why = fn_env_check(optarg)) != NULL)
				cli_usage_error("--env '%s': %s", optarg, why);
			o->env = xreallocarray(o->env, (size_t)o->nenv + 1, sizeof *o->env);
			o->env[o->nenv++] = optarg;
			break;
		case OPT_INHERIT_ENV: o->inherit_env = 1; break;
		case OPT_INIT_TIMEOUT:
			o->init_timeout_ms = cli_duration_ms("--init-timeout", optarg, 1, 86400000);
			break;
		case OPT_JQ: o->jq = optarg; break;
		case OPT_URL: o->url = optarg; break;
		case OPT_WORKER: o->worker = 1; break;
		case OPT_RUNTIME_API: o->runtime_api = 1; break;
		case OPT_HANDLER: o->handler = optarg; break;
		case 'm': o->memory_mb = (int)cli_num("--memory", optarg, 128, 10240); break;
		case 'b': o->batch = (int)cli_num("--batch", optarg, 1, 10000); break;
		case OPT_QUEUE: queue = optarg; break;
		case OPT_ENDPOINT: o->endpoint_url = optarg; break;
		case 'f': follow = 1; break;
		case OPT_LISTEN:
			if ((why = apigw_addr_check(optarg)) != NULL)
				cli_usage_error("--listen '%s': %s", optarg, why);
			listen_at = optarg;
			break;
		case OPT_MAXINV:
			o->max_inv = (int)cli_num("--max-invocations", optarg, 1, 1000000000);
			break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	/* FILEs, then "--" and the handler command, whose options are its own */
	*nfiles = (cli_dashdash >= 0 ? cli_dashdash : argc) - optind;
	if (cli_dashdash >= 0)
		o->argv = argv + cli_dashdash;
	if (o->argv != NULL && o->argv[0] == NULL)
		cli_usage_error("missing CMD after '--'");
	if ((o->argv != NULL) + (o->jq != NULL) + (o->url != NULL) != 1)
		cli_usage_error(o->argv != NULL || o->jq != NULL || o->url != NULL ?
		    "'-- CMD', --jq and --url exclude each other" :
		    "missing '-- CMD', --jq PROGRAM or --url URL");
	if (o->worker && o->argv == NULL)
		cli_usage_error("--worker needs '-- CMD'");
	if (o->runtime_api && (o->argv == NULL || o->worker))
		cli_usage_error(o->worker ? "--runtime-api and --worker exclude each other" :
		    "--runtime-api needs '-- BOOTSTRAP'");
	if (o->max_inv > 0 && !o->worker)
		cli_usage_error("--max-invocations needs --worker");
	if (follow && queue == NULL)
		cli_usage_error("--follow needs --queue");
	if (listen_at != NULL && (queue != NULL || *nfiles > 0 || o->batch > 0))
		cli_usage_error("--listen takes no FILE, --queue or --batch");
	if (queue != NULL && *nfiles > 0)
		cli_usage_error("--queue takes no FILE");
	/* The mapping retries through leases and dead-letters through the
	 * queue's redrive policy, as Lambda's does. */
	if (queue != NULL && (o->dlq != NULL || o->retries > 0))
		cli_usage_error("--queue: failures go back to the queue (its redrive policy), "
		    "not to --dlq or --retries");
}

/* Ends the run: results out, stdout closed, then the error or the
 * signal that stopped us. */
static int
end(int status, int run, const struct ev_err *e)
{
	msg_close_or_die();
	if (run == EV_USAGE)
		cli_usage_error("%s", e->msg);
	if (run > EV_NONE)
		msg_die_err(e);
	sig_reraise();
	return status == EV_OK ? run : status;
}

/* The reader's idle hook: a stop request while waiting for input, or a
 * failed run (the --dlq cannot be written), ends here rather than in a
 * read that would block. */
static void
idle(void *ctx)
{
	struct ev_err e;

	if (fn_idle(ctx) != 0) {
		int run = fn_finish(ctx, &e);
		exit(end(EV_OK, run, &e));
	}
}

static void
listening(void *ctx, const char *url)
{
	(void)ctx;
	/* Even with -q: for port 0 it is the one way to learn the port. */
	fprintf(stderr, "%s: listening on %s\n", msg_prog, url);
}

/* --listen: the access log goes to stderr, or to --report instead of
 * the invocations' lines. */
static int
listen_run(struct fn_opts *o, struct ev_err *e)
{
	struct apigw_opts ao = { .listen = listen_at, .access_log = stderr, .on_listen = listening };

	if (o->report != NULL && (ao.access_log = fopen(o->report, "ae")) == NULL)
		return err_sys(e, EV_IOERR, "--report '%s'", o->report);
	o->report = NULL;
	int rc = apigw_serve(&ao, o, e);
	if (ao.access_log != stderr && fclose(ao.access_log) != 0 && rc == 0)
		rc = err_sys(e, EV_IOERR, "--report");
	return rc;
}

int
main(int argc, char **argv)
{
	struct fn_opts o = { .jobs = 1, .timeout_ms = 3000, .input_fd = -1 };
	struct ndj_line l;
	struct ev_err e;
	int nfiles, kind, rc, status = EV_OK;

	cli_init(argv, help);
	parse(argc, argv, &o, &nfiles);
	/* Without FILEs the input is stdin, the one pipe fn_idle() can watch. */
	if (nfiles == 0)
		o.input_fd = 0;
	sig_catch_stop();
	out_init(cli.line_buffered);
	if (listen_at != NULL) {
		rc = listen_run(&o, &e);
		free(o.env);
		msg_close_or_die();
		if (rc != 0)
			end(EV_OK, rc, &e);
		return 0;	/* a stop request drained it: done */
	}
	if (queue != NULL) {
		rc = fn_esm_run(&o, queue, follow, &e);
		free(o.env);
		return end(EV_OK, rc, &e);
	}
	if ((rc = fn_open(&o, &runner, &e)) != 0)
		end(EV_OK, rc, &e);
	struct ndj_reader *in = ndj_open(argv + optind, nfiles, &cli.input);
	ndj_set_idle(in, idle, runner);
	while (!sig_stop && (kind = ndj_next(in, &l)) != NDJ_EOF) {
		struct json_err je;
		if (kind == NDJ_ERROR) {
			if ((status = cli_input_error(in, &l)) != 0)
				break;
			continue;
		}
		const char *why = kind == NDJ_TOOLONG ? "line longer than --max-line-bytes" : NULL;
		if (why == NULL && json_validate(l.p, l.n, 0, &je) == 0)
			why = je.what;
		if (why == NULL) {
			if (fn_submit(runner, l.p, l.n, NULL) != 0)
				break;
		} else if ((status = cli_reject(&l, why)) != 0) {
			break;
		}
	}
	int run = fn_finish(runner, &e);
	if (status == EV_OK)
		status = ndj_status(in);
	ndj_close(in);
	free(o.env);
	return end(status, run, &e);
}
