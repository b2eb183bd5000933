/* evq-ctl — create, configure, inspect, purge, redrive and delete queues. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/out.h"
#include "queue/queue.h"

static const char help[] =
"usage: evq-ctl [-q] COMMAND [OPTIONS] [QUEUE] [ARGS...]\n"
"Manage queues.  Each command takes only its own options (and -q, -h),\n"
"before or after its QUEUE.  Commands:\n"
"\n"
"  create QUEUE [--fifo] [--content-dedup] [--visibility S] [--delay S]\n"
"         [--retention S] [--wait S] [--max-message-bytes N]\n"
"         [--max-receives N --dlq QUEUE] [--replicas N]\n"
"                      create QUEUE (no change if it exists alike; other\n"
"                      attributes are a conflict: change them with set);\n"
"                      --replicas: a nats:// queue's stream replicas (1-5)\n"
"  set QUEUE NAME=VALUE...\n"
"                      set attributes by their SQS names (VisibilityTimeout,\n"
"                      DelaySeconds, MessageRetentionPeriod, MaximumMessageSize,\n"
"                      ReceiveMessageWaitTimeSeconds, RedrivePolicy,\n"
"                      ContentBasedDeduplication)\n"
"  stat QUEUE          print counts and attributes as JSON\n"
"  list [URI]          print the queues under $EVKIT_HOME (or, given\n"
"                      sqs://REGION/ACCOUNT/[PREFIX], a URL ending in\n"
"                      /ACCOUNT/[PREFIX] or nats://SERVERS/[PREFIX], the\n"
"                      remote queues), one JSON per line\n"
"  purge QUEUE         delete every message, visible or in flight\n"
"  redrive DLQ [--to QUEUE]\n"
"                      move dead letters back to their source queue (or QUEUE,\n"
"                      never DLQ itself)\n"
"  delete QUEUE        delete the queue and its messages\n"
"\n"
"A QUEUE may be a queue URL or sqs://REGION/ACCOUNT/NAME on Amazon SQS (or a\n"
"server speaking its protocol); every command then takes\n"
"      --endpoint-url URL  send the requests to URL\n"
"or nats://[USER:PASS@]HOST:PORT[,HOST:PORT...]/NAME on NATS JetStream\n"
"(credentials also from NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS).\n"
"\n"
"  -q, --quiet         no warnings\n"
"      --line-buffered flush output after every line\n"
"  -h, --help          this help\n"
"      --version       print the version\n"
"\n"
"Exit status: 0 done, 2 usage or invalid attribute, 3 the queue exists with\n"
"other attributes, 65 not a queue (or refused by the server), 66 no such\n"
"queue, 69 server unreachable, 74 I/O error, 75 lock timeout or throttled,\n"
"77 credentials missing or refused.\n";

enum {
	OPT_FIFO = CLI_FIRST_FREE, OPT_CONTENT_DEDUP, OPT_VISIBILITY, OPT_DELAY,
	OPT_RETENTION, OPT_WAIT, OPT_MAX_BYTES, OPT_MAX_RECEIVES, OPT_DLQ, OPT_TO, OPT_ENDPOINT,
	OPT_REPLICAS,
};

#define ENDPOINT_OPT { "endpoint-url", required_argument, NULL, OPT_ENDPOINT }

/* Each subcommand takes only its own options (and -h, -q). */
static const struct option global_opts[] = { CLI_BASIC_OPTS, { NULL, 0, NULL, 0 } };
static const struct option queue_opts[] = { CLI_BASIC_OPTS, ENDPOINT_OPT, { NULL, 0, NULL, 0 } };
static const struct option create_opts[] = {
	CLI_BASIC_OPTS,
	{ "fifo", no_argument, NULL, OPT_FIFO },
	{ "content-dedup", no_argument, NULL, OPT_CONTENT_DEDUP },
	{ "visibility", required_argument, NULL, OPT_VISIBILITY },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "max-message-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "max-receives", required_argument, NULL, OPT_MAX_RECEIVES },
	{ "dlq", required_argument, NULL, OPT_DLQ },
	{ "replicas", required_argument, NULL, OPT_REPLICAS },
	ENDPOINT_OPT,
	{ NULL, 0, NULL, 0 },
};
static const struct option redrive_opts[] = {
	CLI_BASIC_OPTS,
	{ "to", required_argument, NULL, OPT_TO },
	ENDPOINT_OPT,
	{ NULL, 0, NULL, 0 },
};

struct ctl {
	struct q_attrs a;
	int set_fifo;
	const char *dlq, *to;
	struct q_open_opts oo;
};

/* An option that sets an attribute, in the range the attribute table
 * gives (durations in whole seconds, as SQS keeps them). */
static long long
attr_opt(const char *opt, const char *attr, const char *arg)
{
	const struct q_attr_def *d = q_attr_def(attr);

	if (d->kind == QA_SECONDS)
		return cli_duration_ms(opt, arg, d->min * 1000, d->max * 1000) / 1000 * 1000;
	return cli_num(opt, arg, d->min, d->max);
}

static void
ctl_opt(struct ctl *c, int o, const char *arg)
{
	switch (o) {
	case OPT_FIFO: c->a.fifo = 1; c->set_fifo = 1; break;
	case OPT_CONTENT_DEDUP: c->a.content_dedup = 1; break;
	case OPT_VISIBILITY: c->a.visibility_ms = attr_opt("--visibility", "VisibilityTimeout", arg); break;
	case OPT_DELAY: c->a.delay_ms = attr_opt("--delay", "DelaySeconds", arg); break;
	case OPT_RETENTION: c->a.retention_ms = attr_opt("--retention", "MessageRetentionPeriod", arg); break;
	case OPT_WAIT: c->a.wait_ms = attr_opt("--wait", "ReceiveMessageWaitTimeSeconds", arg); break;
	case OPT_MAX_BYTES: c->a.max_bytes = (long)attr_opt("--max-message-bytes", "MaximumMessageSize", arg); break;
	case OPT_MAX_RECEIVES: c->a.max_receives = (int)attr_opt("--max-receives", "maxReceiveCount", arg); break;
	case OPT_DLQ: c->dlq = arg; break;
	case OPT_TO: c->to = arg; break;
	case OPT_ENDPOINT: c->oo.endpoint_url = arg; break;
	case OPT_REPLICAS: c->oo.replicas = (int)cli_num("--replicas", arg, 1, 5); break;
	default:
		if (!cli_common_opt(o, arg))
			cli_usage_error("unknown option");
	}
}

static void
die_if(int rc, const struct ev_err *e)
{
	if (rc != 0)
		msg_die_err(e);
}

static struct queue *
open_queue(const struct ctl *c, const char *arg, int flags, const struct q_attrs *init)
{
	struct queue *q;
	struct ev_err e;

	die_if(q_open_with(arg, flags, init, &c->oo, &q, &e), &e);
	return q;
}

static void
set_or_die(struct queue *q, const char *name, const char *value)
{
	struct ev_err e;

	die_if(q_set(q, name, value, &e), &e);
}

static int
cmd_create(struct ctl *c, char **args)
{
	const char *arg = args[0];
	size_t n = strlen(arg);
	int fifo_name = n > 5 && strcmp(arg + n - 5, ".fifo") == 0;

	if (!c->set_fifo && fifo_name)
		c->a.fifo = 1;
	if (c->a.fifo != fifo_name && !strchr(arg, '/') && arg[0] != '.')
		cli_usage_error("create: a FIFO queue's name ends in '.fifo', and only a FIFO queue's");
	if (c->a.content_dedup && !c->a.fifo)
		cli_usage_error("create: --content-dedup applies to FIFO queues only");
	if ((c->a.max_receives > 0) != (c->dlq != NULL))
		cli_usage_error("create: --max-receives and --dlq go together");
	if (c->oo.replicas > 0 && strncmp(arg, "nats://", 7) != 0)
		cli_usage_error("create: --replicas applies to nats:// queues only");
	struct q_attrs want = c->a, init = c->a;
	init.max_receives = 0;	/* the policy goes in below, once the DLQ is checked */
	struct queue *q = open_queue(c, arg, Q_CREATE, &init);
	if (c->dlq != NULL && q_attrs(q)->max_receives == 0) {
		struct buf rp = { 0 };
		buf_adds(&rp, "{\"deadLetterTarget\":");
		json_add_string(&rp, c->dlq, strlen(c->dlq));
		buf_printf(&rp, ",\"maxReceiveCount\":%d}", c->a.max_receives);
		set_or_die(q, "RedrivePolicy", rp.p);
		buf_free(&rp);
	}
	int same = q_attrs_same(q_attrs(q), &want);
	q_close(q);
	if (!same)
		msg_die(EV_CONFLICT, "create: queue '%s' already exists with other attributes "
		    "(change them with 'evq-ctl set')", arg);
	return EV_OK;
}

static int
cmd_set(struct ctl *c, char **args)
{
	struct queue *q = open_queue(c, args[0], Q_OPEN, NULL);

	(void)c;
	for (int i = 1; args[i] != NULL; i++) {
		char *eq = strchr(args[i], '=');
		if (eq == NULL)
			cli_usage_error("set: '%s' is not NAME=VALUE", args[i]);
		*eq = '\0';
		set_or_die(q, args[i], eq + 1);
	}
	q_close(q);
	return EV_OK;
}

static int
cmd_stat(struct ctl *c, char **args)
{
	struct queue *q = open_queue(c, args[0], Q_OPEN, NULL);
	struct q_stat st = { 0 };
	struct buf b = { 0 };
	struct ev_err e;

	die_if(q_stat(q, &st, &e), &e);
	q_stat_json(q, &st, &b);
	out_line(b.p, b.n);
	buf_free(&b);
	q_close(q);
	return EV_OK;
}

static void
list_one(const char *name, const char *path, void *ctx)
{
	struct buf b = { 0 };

	(void)ctx;
	buf_adds(&b, "{\"QueueName\":");
	json_add_string(&b, name, strlen(name));
	buf_adds(&b, ",\"Path\":");
	json_add_string(&b, path, strlen(path));
	buf_addc(&b, '}');
	out_line(b.p, b.n);
	buf_free(&b);
}

static void
list_remote_one(const char *name, const char *url, void *ctx)
{
	struct buf b = { 0 };

	(void)ctx;
	buf_adds(&b, "{\"QueueName\":");
	json_add_string(&b, name, strlen(name));
	buf_adds(&b, ",\"QueueUrl\":");
	json_add_string(&b, url, strlen(url));
	buf_addc(&b, '}');
	out_line(b.p, b.n);
	buf_free(&b);
}

static int
cmd_list(struct ctl *c, char **args)
{
	struct ev_err e;

	if (args[0] != NULL)
		die_if(q_list_remote(args[0], &c->oo, list_remote_one, NULL, &e), &e);
	else
		die_if(q_list(list_one, NULL, &e), &e);
	return EV_OK;
}

static int
cmd_purge(struct ctl *c, char **args)
{
	struct queue *q = open_queue(c, args[0], Q_OPEN, NULL);
	struct ev_err e;
	long n;

	die_if(q_purge(q, &n, &e), &e);
	msg_warn("purged %ld message(s) from '%s'", n, args[0]);
	q_close(q);
	return EV_OK;
}

static int
cmd_redrive(struct ctl *c, char **args)
{
	struct queue *q = open_queue(c, args[0], Q_OPEN, NULL);
	struct ev_err e;
	long moved, kept;

	die_if(q_redrive(q, c->to, &moved, &kept, &e), &e);
	if (kept > 0)
		msg_warn("queue '%s': %ld message(s) without a source queue kept (use --to)", args[0], kept);
	msg_warn("moved %ld message(s) from '%s'", moved, args[0]);
	q_close(q);
	return EV_OK;
}

static int
cmd_delete(struct ctl *c, char **args)
{
	struct ev_err e;

	/* Opened first: only a queue is ever removed. */
	die_if(q_drop(open_queue(c, args[0], Q_OPEN, NULL), &e), &e);
	return EV_OK;
}

/* The subcommands, git-style: name, options, operands (min, max; -1 any). */
static const struct subcmd {
	const char *name;
	const struct option *opts;
	int min, max;
	int (*run)(struct ctl *c, char **args);
	const char *missing;
} cmds[] = {
	{ "create", create_opts, 1, 1, cmd_create, "QUEUE" },
	{ "set", queue_opts, 2, -1, cmd_set, "NAME=VALUE" },
	{ "stat", queue_opts, 1, 1, cmd_stat, "QUEUE" },
	{ "list", queue_opts, 0, 1, cmd_list, "" },
	{ "purge", queue_opts, 1, 1, cmd_purge, "QUEUE" },
	{ "redrive", redrive_opts, 1, 1, cmd_redrive, "QUEUE" },
	{ "delete", queue_opts, 1, 1, cmd_delete, "QUEUE" },
};

static const struct subcmd *
find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	cli_usage_error("unknown command '%s'", name);
}

int
main(int argc, char **argv)
{
	struct ctl c = { 0 };
	int o;

	cli_init(argv, help);
	/* Global options stop at the subcommand ('+'). */
	while ((o = cli_getopt(argc, argv, "+hq", global_opts)) != -1)
		ctl_opt(&c, o, optarg);
	if (optind >= argc)
		cli_usage_error("missing COMMAND");
	const struct subcmd *sc = find_cmd(argv[optind]);
	argc -= optind;
	argv += optind;
	char prog[64];
	snprintf(prog, sizeof prog, "%s %s", msg_prog, sc->name);
	argv[0] = prog;	/* getopt's messages: "evq-ctl stat: unrecognized option" */
	optind = 0;	/* getopt starts over on the subcommand's arguments */
	q_attrs_default(&c.a, 0);
	while ((o = cli_getopt(argc, argv, "hq", sc->opts)) != -1)
		ctl_opt(&c, o, optarg);
	int nargs = argc - optind;
	if (nargs < 1 && sc->min >= 1)
		cli_usage_error("%s: missing QUEUE", sc->name);
	if (nargs < sc->min)
		cli_usage_error("%s: missing %s", sc->name, sc->missing);
	if (sc->max >= 0 && nargs > sc->max)
		cli_usage_error("%s: unexpected argument '%s'", sc->name, argv[optind + sc->max]);
	out_init(cli.line_buffered);
	int status = sc->run(&c, argv + optind);
	msg_close_or_die();
	return status;
}
