/* fnflow — AWS Step Functions state machines for pipelines: run one
 * execution per NDJSON input line, print its output (SPEC 6b). */
#include <errno.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/cli.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/ndjson.h"
#include "core/out.h"
#include "core/sig.h"
#include "flow/flow.h"

static const char help[] =
"usage: fnflow [OPTIONS] MACHINE.json [FILE...]\n"
"       fnflow [OPTIONS] --history LOG --resume MACHINE.json\n"
"Run the AWS Step Functions state machine MACHINE.json (Amazon States\n"
"Language, JSONPath) once per input line of the FILEs or stdin, the line\n"
"being the execution's input, and print each execution's output, in input\n"
"order; a failed execution prints {\"Error\",\"Cause\"}.  Task resources are\n"
"functions bound with --function, run as fnrun runs them.\n"
"\n"
"  -j, --jobs N             run up to N executions at once (default 1,\n"
"                           at most 4096)\n"
"  -e, --envelope           print {\"executionArn\",\"stateMachineArn\",\"name\",\n"
"                           \"status\",\"output\"|\"error\",\"cause\",\"startDate\",\n"
"                           \"stopDate\"} as DescribeExecution gives them\n"
"  -f, --function NAME=URI  bind the function NAME (a Lambda ARN's last part,\n"
"                           or a Resource of its own) to exec:COMMAND,\n"
"                           worker:COMMAND, jq:PROGRAM, url:URL or\n"
"                           runtime:BOOTSTRAP (repeatable)\n"
"      --rules FILE         route events:putEvents through evbus-route's\n"
"                           rules FILE\n"
"      --endpoint-url URL   send remote queues' and buses' requests to URL\n"
"      --state-machine-arn ARN\n"
"                           the machine's ARN (default arn:aws:states:\n"
"                           us-east-1:000000000000:stateMachine:BASENAME)\n"
"      --type TYPE          STANDARD (default) or EXPRESS: the execution ARNs'\n"
"                           form\n"
"  -n, --name NAME          the execution name (default a UUID; with several\n"
"                           input lines NAME-N for the Nth)\n"
"      --time-scale F       multiply every Wait and Retry interval by F (for\n"
"                           tests; default 1)\n"
"      --history LOG        append every execution's history events (as\n"
"                           GetExecutionHistory gives them) to the event log\n"
"                           LOG, one stream per execution ARN\n"
"      --resume             with --history: finish the executions of LOG that\n"
"                           have not ended (a crash, kill -9) from their last\n"
"                           state, reading no input; a task whose success was\n"
"                           recorded is not run again\n"
"      --line-buffered      flush output after every line\n"
"      --errors FILE        record bad input lines in FILE and go on\n"
"      --max-line-bytes N   longest input line (default 1048576)\n"
"  -q, --quiet              no warnings (failed executions are warned of)\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"Exit status: 0 every execution succeeded, 1 some failed, 2 usage or an\n"
"invalid definition (named by its JSON path), 65 bad input line, 66 missing\n"
"input file, 74 I/O error.\n";

enum {
	OPT_RULES = CLI_FIRST_FREE, OPT_ENDPOINT, OPT_ARN, OPT_TYPE, OPT_SCALE, OPT_HISTORY,
	OPT_RESUME,
};

static int resume;
static struct flow_opts opts = { .jobs = 1 };

static const struct option longopts[] = {
	CLI_BASIC_OPTS, CLI_INPUT_OPTS,
	{ "jobs", required_argument, NULL, 'j' },
	{ "envelope", no_argument, NULL, 'e' },
	{ "function", required_argument, NULL, 'f' },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "endpoint-url", required_argument, NULL, OPT_ENDPOINT },
	{ "state-machine-arn", required_argument, NULL, OPT_ARN },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "name", required_argument, NULL, 'n' },
	{ "time-scale", required_argument, NULL, OPT_SCALE },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ NULL, 0, NULL, 0 },
};

static double
scale(const char *arg)
{
	char *end;
	double d = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(d > 0 && d <= 1e6))
		cli_usage_error("--time-scale '%s': not a number above 0", arg);
	return d;
}

static void
parse(int argc, char **argv, struct flow_opts *o)
{
	const char *why;
	int c;

	while ((c = cli_getopt(argc, argv, "hqj:ef:n:", longopts)) != -1) {
		switch (c) {
		case 'j': o->jobs = (int)cli_num("--jobs", optarg, 1, 4096); break;
		case 'e': o->envelope = 1; break;
		case 'f':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				cli_usage_error("--function '%s': not NAME=URI", optarg);
			o->res.functions = xreallocarray(o->res.functions,
			    (size_t)o->res.nfunctions + 1, sizeof *o->res.functions);
			o->res.functions[o->res.nfunctions++] = optarg;
			break;
		case OPT_RULES: o->res.rules = optarg; break;
		case OPT_ENDPOINT: o->res.endpoint_url = optarg; break;
		case OPT_ARN:
			if ((why = flow_arn_check(optarg)) != NULL)
				cli_usage_error("--state-machine-arn '%s': %s", optarg, why);
			o->arn = optarg;
			break;
		case OPT_TYPE:
			if (strcmp(optarg, "STANDARD") != 0 && strcmp(optarg, "EXPRESS") != 0)
				cli_usage_error("--type '%s': not STANDARD or EXPRESS", optarg);
			o->express = strcmp(optarg, "EXPRESS") == 0;
			break;
		case 'n': o->name = optarg; break;
		case OPT_SCALE: o->time_scale = scale(optarg); break;
		case OPT_HISTORY: o->history = cli_name(optarg, "log", "", 0); break;
		case OPT_RESUME: resume = 1; break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (optind >= argc)
		cli_usage_error("missing MACHINE.json");
	o->machine = argv[optind++];
	if (resume && o->history == NULL)
		cli_usage_error("--resume needs --history LOG");
	if (resume && optind < argc)
		cli_usage_error("--resume reads no FILE");
}

static void
emit(void *ctx, const char *line, size_t n, int failed, const char *why)
{
	const struct flow_opts *o = ctx;

	out_line(line, n);
	if (failed && !o->envelope)
		msg_warn("execution failed: %s", why);
}

static struct flow *
open_flow(struct flow_opts *o)
{
	struct buf def = { 0 };
	struct flow *fl;
	struct ev_err e;

	int rc = buf_read_file(&def, o->machine);

	if (rc != 0) {
		errno = rc;
		msg_die_sys(EV_NOINPUT, "%s", o->machine);
	}
	if (flow_open(o, def.p, def.n, &fl, &e) != 0)
		msg_die_err(&e);
	buf_free(&def);
	return fl;
}

/* Runs what was started to its end, and exits. */
static noreturn void
finish(struct flow *fl, int status)
{
	struct ev_err e;
	int failed = flow_finish(fl, &e);

	if (failed > EV_NONE)
		msg_die_err(&e);
	flow_close(fl);
	free(opts.res.functions);
	free((char *)opts.history);
	msg_close_or_die();
	sig_reraise();
	exit(status != EV_OK ? status : failed ? EV_NONE : EV_OK);
}

int
main(int argc, char **argv)
{
	struct ndj_line l;
	struct ev_err e;
	int kind, rc = 0, status = EV_OK;

	cli_init(argv, help);
	opts.emit = emit;
	parse(argc, argv, &opts);
	opts.ctx = &opts;
	opts.res.jobs = opts.jobs;
	sig_catch_stop();
	out_init(cli.line_buffered);
	struct flow *fl = open_flow(&opts);
	if (resume) {
		if ((status = flow_resume(fl, &e)) != 0)
			msg_die_err(&e);
		finish(fl, EV_OK);
	}
	struct ndj_reader *in = ndj_open(argv + optind, argc - optind, &cli.input);
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
		if (why == NULL && (rc = flow_submit(fl, l.p, l.n, &e)) > EV_DATAERR)
			msg_die_err(&e);
		if (why == NULL && rc != 0)
			why = e.msg;
		if (why != NULL && (status = cli_reject(&l, why)) != 0)
			break;
	}
	if (status == EV_OK)
		status = ndj_status(in);
	ndj_close(in);
	finish(fl, status);
}
