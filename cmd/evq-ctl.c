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
"usage: evq-ctl COMMAND [OPTIONS] [QUEUE] [ARGS...]\n"
"Manage queues.  Commands:\n"
"\n"
"  create QUEUE [--fifo] [--content-dedup] [--visibility S] [--delay S]\n"
"         [--retention S] [--wait S] [--max-message-bytes N]\n"
"         [--max-receives N --dlq QUEUE]\n"
"                      create QUEUE (no change if it exists alike)\n"
"  set QUEUE NAME=VALUE...\n"
"                      set attributes by their SQS names (VisibilityTimeout,\n"
"                      DelaySeconds, MessageRetentionPeriod, MaximumMessageSize,\n"
"                      ReceiveMessageWaitTimeSeconds, RedrivePolicy,\n"
"                      ContentBasedDeduplication)\n"
"  stat QUEUE          print counts and attributes as JSON\n"
"  list                print the queues under $EVKIT_HOME, one JSON per line\n"
"  purge QUEUE         delete every message, visible or in flight\n"
"  redrive DLQ [--to QUEUE]\n"
"                      move dead letters back to their source queue (or QUEUE)\n"
"  delete QUEUE        delete the queue and its messages\n"
"\n"
"  -q, --quiet         no warnings\n"
"      --line-buffered flush output after every line\n"
"  -h, --help          this help\n"
"      --version       print the version\n"
"\n"
"Exit status: 0 done, 2 usage or invalid attribute, 3 the queue exists with\n"
"other attributes, 65 not a queue, 66 no such queue, 74 I/O error, 75 lock\n"
"timeout.\n";

enum {
	OPT_FIFO = CLI_FIRST_FREE, OPT_CONTENT_DEDUP, OPT_VISIBILITY, OPT_DELAY,
	OPT_RETENTION, OPT_WAIT, OPT_MAX_BYTES, OPT_MAX_RECEIVES, OPT_DLQ, OPT_TO,
};

static const struct option longopts[] = {
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
	{ "to", required_argument, NULL, OPT_TO },
	{ NULL, 0, NULL, 0 },
};

struct ctl {
	struct q_attrs a;
	int set_fifo;
	const char *dlq, *to;
};

static void
parse_options(int argc, char **argv, struct ctl *c)
{
	int o;

	c->a.visibility_ms = 30000;
	c->a.retention_ms = 345600000;
	c->a.max_bytes = 1048576;
	while ((o = cli_getopt(argc, argv, "hq", longopts)) != -1) {
		switch (o) {
		case OPT_FIFO: c->a.fifo = 1; c->set_fifo = 1; break;
		case OPT_CONTENT_DEDUP: c->a.content_dedup = 1; break;
		case OPT_VISIBILITY: c->a.visibility_ms = cli_duration_ms("--visibility", optarg, 0, 43200000) / 1000 * 1000; break;
		case OPT_DELAY: c->a.delay_ms = cli_duration_ms("--delay", optarg, 0, 900000) / 1000 * 1000; break;
		case OPT_RETENTION: c->a.retention_ms = cli_duration_ms("--retention", optarg, 60000, 1209600000) / 1000 * 1000; break;
		case OPT_WAIT: c->a.wait_ms = cli_duration_ms("--wait", optarg, 0, 20000) / 1000 * 1000; break;
		case OPT_MAX_BYTES: c->a.max_bytes = (long)cli_num("--max-message-bytes", optarg, 1024, 1048576); break;
		case OPT_MAX_RECEIVES: c->a.max_receives = (int)cli_num("--max-receives", optarg, 1, 1000); break;
		case OPT_DLQ: c->dlq = optarg; break;
		case OPT_TO: c->to = optarg; break;
		default:
			if (!cli_common_opt(o, optarg))
				cli_usage_error("unknown option");
		}
	}
}

static void
need_args(int argc, int want, const char *cmd)
{
	if (argc < want)
		cli_usage_error("%s: missing QUEUE", cmd);
}

static void
set_or_die(struct queue *q, const char *name, const char *value)
{
	const char *why;

	if (q_set(q, name, value, &why) != 0)
		msg_die(EV_USAGE, "%s: invalid %s '%s': %s", q_name(q), name, value, why);
}

static int
same_attrs(const struct q_attrs *x, const struct q_attrs *y)
{
	return x->visibility_ms == y->visibility_ms && x->delay_ms == y->delay_ms &&
	    x->retention_ms == y->retention_ms && x->wait_ms == y->wait_ms &&
	    x->max_bytes == y->max_bytes && x->fifo == y->fifo &&
	    x->content_dedup == y->content_dedup && x->max_receives == y->max_receives;
}

static int
cmd_create(const char *arg, struct ctl *c)
{
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
	struct q_attrs want = c->a, init = c->a;
	init.max_receives = 0;	/* the policy goes in below, once the DLQ is checked */
	struct queue *q = q_open(arg, Q_CREATE, &init);
	if (c->dlq != NULL) {
		struct buf rp = { 0 };
		buf_adds(&rp, "{\"deadLetterTarget\":");
		json_add_string(&rp, c->dlq, strlen(c->dlq));
		buf_printf(&rp, ",\"maxReceiveCount\":%d}", c->a.max_receives);
		if (q_attrs(q)->max_receives == 0)
			set_or_die(q, "RedrivePolicy", rp.p);
		buf_free(&rp);
	}
	int same = same_attrs(q_attrs(q), &want);
	q_close(q);
	if (!same)
		msg_die(EV_CONFLICT, "create: queue '%s' already exists with other attributes", arg);
	return EV_OK;
}

static int
cmd_set(int argc, char **argv)
{
	struct queue *q = q_open(argv[0], Q_OPEN, NULL);

	if (argc < 2)
		cli_usage_error("set: missing NAME=VALUE");
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (eq == NULL)
			cli_usage_error("set: '%s' is not NAME=VALUE", argv[i]);
		*eq = '\0';
		set_or_die(q, argv[i], eq + 1);
	}
	q_close(q);
	return EV_OK;
}

static void
print_stat(struct queue *q)
{
	const struct q_attrs *a = q_attrs(q);
	struct q_stat st = { 0 };
	struct buf b = { 0 };

	q_stat(q, &st);
	buf_adds(&b, "{\"QueueName\":");
	json_add_string(&b, q_name(q), strlen(q_name(q)));
	buf_adds(&b, ",\"QueueArn\":");
	json_add_string(&b, q_arn(q), strlen(q_arn(q)));
	buf_adds(&b, ",\"Path\":");
	json_add_string(&b, q_path(q), strlen(q_path(q)));
	buf_printf(&b, ",\"ApproximateNumberOfMessages\":%ld,\"ApproximateNumberOfMessagesNotVisible\":%ld,"
	    "\"ApproximateNumberOfMessagesDelayed\":%ld,\"VisibilityTimeout\":%lld,\"DelaySeconds\":%lld,"
	    "\"MessageRetentionPeriod\":%lld,\"ReceiveMessageWaitTimeSeconds\":%lld,\"MaximumMessageSize\":%ld,"
	    "\"FifoQueue\":%s", st.visible, st.in_flight, st.delayed,
	    (long long)(a->visibility_ms / 1000), (long long)(a->delay_ms / 1000),
	    (long long)(a->retention_ms / 1000), (long long)(a->wait_ms / 1000), a->max_bytes,
	    a->fifo ? "true" : "false");
	if (a->fifo)
		buf_printf(&b, ",\"ContentBasedDeduplication\":%s", a->content_dedup ? "true" : "false");
	if (a->max_receives > 0) {
		buf_adds(&b, ",\"RedrivePolicy\":{\"deadLetterTarget\":");
		json_add_string(&b, a->dlq, strlen(a->dlq));
		buf_printf(&b, ",\"maxReceiveCount\":%d}", a->max_receives);
	}
	buf_printf(&b, ",\"CreatedTimestamp\":%lld,\"LastModifiedTimestamp\":%lld}",
	    (long long)(a->created_ms / 1000), (long long)(a->modified_ms / 1000));
	out_line(b.p, b.n);
	buf_free(&b);
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

static int
cmd_on_queue(const char *cmd, const char *arg, struct ctl *c)
{
	struct queue *q = q_open(arg, Q_OPEN, NULL);
	long n;

	if (strcmp(cmd, "stat") == 0) {
		print_stat(q);
	} else if (strcmp(cmd, "purge") == 0) {
		n = q_purge(q);
		msg_warn("purged %ld message(s) from '%s'", n, arg);
	} else if (strcmp(cmd, "redrive") == 0) {
		n = q_redrive(q, c->to);
		msg_warn("moved %ld message(s) from '%s'", n, arg);
	} else {	/* delete: opened first, so only a queue is ever removed */
		q_close(q);
		if (q_remove(arg) != 0)
			msg_die_sys(EV_IOERR, "delete: cannot remove queue '%s'", arg);
		return EV_OK;
	}
	q_close(q);
	return EV_OK;
}

int
main(int argc, char **argv)
{
	struct ctl c = { 0 };

	cli_init(argv, help);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "--version") == 0))
		parse_options(argc, argv, &c);
	if (argc < 2)
		cli_usage_error("missing COMMAND");
	const char *cmd = argv[1];
	parse_options(argc - 1, argv + 1, &c);
	char **args = argv + 1 + optind;
	int nargs = argc - 1 - optind;
	out_init(cli.line_buffered);
	int status;
	if (strcmp(cmd, "create") == 0) {
		need_args(nargs, 1, cmd);
		status = cmd_create(args[0], &c);
	} else if (strcmp(cmd, "set") == 0) {
		need_args(nargs, 1, cmd);
		status = cmd_set(nargs, args);
	} else if (strcmp(cmd, "list") == 0) {
		q_list(list_one, NULL);
		status = EV_OK;
	} else if (strcmp(cmd, "stat") == 0 || strcmp(cmd, "purge") == 0 ||
	    strcmp(cmd, "redrive") == 0 || strcmp(cmd, "delete") == 0) {
		need_args(nargs, 1, cmd);
		if (nargs > 1)
			cli_usage_error("%s: unexpected argument '%s'", cmd, args[1]);
		status = cmd_on_queue(cmd, args[0], &c);
	} else {
		cli_usage_error("unknown command '%s'", cmd);
	}
	out_close_or_die();
	return status;
}
