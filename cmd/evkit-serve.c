/* evkit-serve — AWS's wire protocols over the local engines: point an
 * AWS SDK or the AWS CLI at it (AWS_ENDPOINT_URL) and it works on the
 * queues (and buses, functions) under $EVKIT_HOME that the commands see. */
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/cli.h"
#include "core/msg.h"
#include "core/sig.h"
#include "serve/serve.h"

static const char help[] =
"usage: evkit-serve [--listen [ADDR:]PORT] [--rules FILE] [--function NAME=URI ...]\n"
"                   [--machine NAME=FILE ...] [--report FILE] [--check-signatures]\n"
"\n"
"Serves AWS's APIs on the local engines, so an AWS SDK or the AWS CLI\n"
"pointed at it (AWS_ENDPOINT_URL=http://127.0.0.1:4566) works on the\n"
"queues under $EVKIT_HOME that evq-send, evq-recv and evq-ctl see:\n"
"  SQS (AWS JSON 1.0, X-Amz-Target AmazonSQS.*): CreateQueue, GetQueueUrl,\n"
"  ListQueues, GetQueueAttributes, SetQueueAttributes, SendMessage(Batch),\n"
"  ReceiveMessage (long polls), DeleteMessage(Batch),\n"
"  ChangeMessageVisibility(Batch), PurgeQueue, DeleteQueue,\n"
"  StartMessageMoveTask, TagQueue, UntagQueue, ListQueueTags.\n"
"QueueUrls are http://HOST:PORT/000000000000/NAME.\n"
"  EventBridge (AWS JSON 1.1, X-Amz-Target AWSEvents.*): PutEvents (routed\n"
"  as evbus-route -r routes), PutRule, DescribeRule, ListRules, EnableRule,\n"
"  DisableRule, DeleteRule, PutTargets, RemoveTargets, ListTargetsByRule,\n"
"  TestEventPattern, CreateEventBus, ListEventBuses, DescribeEventBus,\n"
"  DeleteEventBus.  A bus is a rules file, $EVKIT_HOME/buses/BUS.json,\n"
"  that evbus-route -r reads.\n"
"  Lambda (REST-JSON, /2015-03-31/functions/): Invoke (RequestResponse,\n"
"  Event, DryRun), ListFunctions, GetFunction, for the functions bound\n"
"  with --function; SQS event source mappings (Create/Get/List/Update/\n"
"  DeleteEventSourceMapping), run as fnrun --queue runs one; an Event\n"
"  is retried and told to its destinations as Lambda does, per the\n"
"  Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s) config\n"
"  (/2019-09-25/; EVKIT_SERVE_ASYNC_DELAY_MS: the first retry's delay,\n"
"  default 60000).\n"
"  Step Functions (AWS JSON 1.0, X-Amz-Target AWSStepFunctions.*):\n"
"  CreateStateMachine (checked as fnflow checks it), DescribeStateMachine,\n"
"  ListStateMachines, DeleteStateMachine, StartExecution,\n"
"  StartSyncExecution (EXPRESS), DescribeExecution, GetExecutionHistory,\n"
"  StopExecution, ListExecutions, run by fnflow's engine; Task resources:\n"
"  the --function bindings, sqs:sendMessage, events:putEvents (--rules).\n"
"  Machines are kept in $EVKIT_HOME/statemachines; executions in memory.\n"
"\n"
"  -l, --listen [ADDR:]PORT  where to listen (default 127.0.0.1:4566; port 0:\n"
"                           one chosen, printed on stderr)\n"
"      --rules FILE         the default event bus's rules file (default\n"
"                           $EVKIT_HOME/buses/default.json)\n"
"  -F, --function NAME=URI  bind Lambda function NAME (repeatable): URI is\n"
"                           exec:COMMAND, worker:COMMAND, jq:PROGRAM, url:URL or\n"
"                           runtime:BOOTSTRAP, as fnflow binds them\n"
"  -m, --machine NAME=FILE  create (or replace) STANDARD state machine NAME\n"
"                           from the definition in FILE (repeatable)\n"
"      --report FILE        append one line per request: requestId, startMs,\n"
"                           service, operation, status, us (microseconds)\n"
"      --check-signatures   refuse requests whose SigV4 signature does not\n"
"                           verify against AWS_ACCESS_KEY_ID and\n"
"                           AWS_SECRET_ACCESS_KEY (default: accepted unchecked)\n"
"  -q, --quiet              no access log (one JSON line per request on stderr)\n"
"      --line-buffered      accepted, as by every command (the access log is\n"
"                           written each loop turn anyway)\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"SIGTERM or SIGINT stops it: no new request is taken, waiting long polls\n"
"are answered, and it exits 0.\n"
"Exit status: 0 stopped, 2 usage (an invalid --machine definition too), 66 a\n"
"--machine FILE unreadable, 69 cannot listen, 74 --report cannot be\n"
"written, 77 --check-signatures without credentials.\n";

enum { OPT_REPORT = CLI_FIRST_FREE, OPT_CHECK_SIG, OPT_RULES };

static const struct option opts[] = {
	CLI_BASIC_OPTS,
	{ "listen", required_argument, NULL, 'l' },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "check-signatures", no_argument, NULL, OPT_CHECK_SIG },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "function", required_argument, NULL, 'F' },
	{ "machine", required_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

static void
listening(void *ctx, const char *url)
{
	(void)ctx;
	/* Even with -q: for port 0 it is the one way to learn the port. */
	fprintf(stderr, "%s: listening on %s\n", msg_prog, url);
}

int
main(int argc, char **argv)
{
	static const struct serve_svc *const svcs[] = { &serve_sqs, &serve_events, &serve_lambda,
		&serve_sfn };
	struct serve_opts o = { .access_log = stderr, .on_listen = listening, .svcs = svcs,
		.nsvcs = sizeof svcs / sizeof *svcs };
	const char *rules = NULL;
	char **fns = xcalloc((size_t)argc + 1, sizeof *fns);
	char **machines = xcalloc((size_t)argc + 1, sizeof *machines);
	int nfns = 0, nmachines = 0;
	const char *report = NULL;
	struct ev_err e;
	int c;

	cli_init(argv, help);
	while ((c = cli_getopt(argc, argv, "F:hl:m:q", opts)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'q': o.access_log = NULL; break;
		case OPT_REPORT: report = optarg; break;
		case OPT_CHECK_SIG: o.check_signatures = 1; break;
		case OPT_RULES: rules = optarg; break;
		case 'F': fns[nfns++] = optarg; break;
		case 'm': machines[nmachines++] = optarg; break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected operand '%s'", argv[optind]);
	if (report != NULL && (o.report = fopen(report, "ae")) == NULL)
		msg_die_sys(EV_IOERR, "--report '%s'", report);
	serve_events_setup(rules, stderr);
	serve_lambda_setup(fns, nfns);
	serve_sfn_setup(fns, nfns, machines, nmachines, rules);
	sig_catch_stop();
	int rc = serve_run(&o, &e);
	if (o.report != NULL && fclose(o.report) != 0 && rc == 0)
		msg_die_sys(EV_IOERR, "--report '%s'", report);
	free(fns);
	free(machines);
	if (rc != 0)
		msg_die_err(&e);
	return 0;
}
