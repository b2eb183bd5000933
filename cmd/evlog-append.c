/* evlog-append — append NDJSON events to an event log (SPEC.md 4).
 * Events are gathered into batches (16384 events or 4 MiB, or whatever
 * has arrived when the input would block) and each batch is one write
 * and one fdatasync under the log's lock.  With --expect-version the
 * whole input is one batch, so that the check covers all of it. */
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/jx.h"
#include "evlog/evlog.h"
#include "core/msg.h"
#include "core/names.h"
#include "core/ndjson.h"
#include "core/out.h"

static const char help[] =
"usage: evlog-append [-pq] [-s NAME | --stream-from PATH] [--expect-version N|none|any]\n"
"                    [--fsync always|batch|never] [--segment-bytes N] [--lock-timeout S]\n"
"                    LOG [FILE ...]\n"
"Appends each input event (a JSON object a line) to the event log LOG.\n"
"LOG may be nats://[USER:PASS@]HOST:PORT[,HOST:PORT...]/NAME[?replicas=N], a\n"
"log on NATS JetStream (made by the first append, with N replicas).\n"
"  -s, --stream NAME         the stream of every event (default: default)\n"
"      --stream-from PATH    the stream from each event, a jq path (.subject)\n"
"      --expect-version V    append only if the stream is at version V (none: new)\n"
"  -p, --print               print each stored record\n"
"      --fsync MODE          always, batch (default) or never (local logs)\n"
"      --segment-bytes N     rotate segments at N bytes (default 64 MiB)\n"
"      --lock-timeout S      give up (exit 75) when another process holds the\n"
"                            log's lock for S seconds (default 10; ms, s, m, h)\n"
"      --errors FILE         record bad lines in FILE and go on\n"
"      --max-line-bytes N    longest input line (default 1 MiB)\n"
"      --line-buffered       flush each printed record\n"
"  -q, --quiet               no warnings\n"
"  -h, --help                this help\n"
"      --version             print the version\n";

/* An fdatasync has a fixed cost (a journal commit): 1 MiB batches spent
 * more time syncing than working.  Past 4 MiB a batch no longer stays in
 * the cache while it is copied, encoded and written. */
enum { BATCH_EVENTS = 1 << 14, BATCH_BYTES = 4 << 20 };
enum { OPT_STREAM_FROM = CLI_FIRST_FREE, OPT_EXPECT, OPT_FSYNC, OPT_SEGMENT, OPT_LOCK_TIMEOUT };

static const struct option opts[] = {
	CLI_BASIC_OPTS, CLI_INPUT_OPTS,
	{ "stream", required_argument, NULL, 's' },
	{ "stream-from", required_argument, NULL, OPT_STREAM_FROM },
	{ "expect-version", required_argument, NULL, OPT_EXPECT },
	{ "print", no_argument, NULL, 'p' },
	{ "fsync", required_argument, NULL, OPT_FSYNC },
	{ "segment-bytes", required_argument, NULL, OPT_SEGMENT },
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static struct {
	const char *stream, *stream_from;
	long long expect;
	int print;
	struct elog_opts lo;
} o = { "default", NULL, ELOG_EXPECT_ANY, 0, { .create = 1, .fsync = ELOG_FSYNC_BATCH } };

static struct elog *log_;
static struct elog_batch *batch;
static struct elog_result res;
static struct jx *stream_path;
static struct buf stream_name;

static void
parse(int argc, char **argv)
{
	int c;

	while ((c = cli_getopt(argc, argv, "hqps:", opts)) != -1) {
		switch (c) {
		case 's':
			o.stream = optarg;
			break;
		case OPT_STREAM_FROM:
			o.stream_from = optarg;
			break;
		case OPT_EXPECT:
			if (strcmp(optarg, "any") == 0)
				o.expect = ELOG_EXPECT_ANY;
			else if (strcmp(optarg, "none") == 0)
				o.expect = ELOG_EXPECT_NONE;
			else
				o.expect = cli_num("--expect-version", optarg, 0, 1LL << 53);
			break;
		case 'p':
			o.print = 1;
			break;
		case OPT_FSYNC:
			if (strcmp(optarg, "always") == 0)
				o.lo.fsync = ELOG_FSYNC_ALWAYS;
			else if (strcmp(optarg, "batch") == 0)
				o.lo.fsync = ELOG_FSYNC_BATCH;
			else if (strcmp(optarg, "never") == 0)
				o.lo.fsync = ELOG_FSYNC_NEVER;
			else
				cli_usage_error("--fsync: '%s' is not always, batch or never", optarg);
			break;
		case OPT_SEGMENT:
			o.lo.segment_bytes = (uint64_t)cli_num("--segment-bytes", optarg, 1, 1LL << 40);
			break;
		case OPT_LOCK_TIMEOUT:
			o.lo.lock_timeout_ms = (long)cli_duration_ms("--lock-timeout", optarg, 1,
			    86400000);
			break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (o.stream_from != NULL && strcmp(o.stream, "default") != 0)
		cli_usage_error("--stream and --stream-from exclude each other");
	if (optind >= argc)
		cli_usage_error("missing LOG");
}

/* Waits for the batch written last to be committed, then prints it. */
static void
settle(void)
{
	struct ev_err e;

	if (elog_append_finish(log_, &e) != 0)
		msg_die_err(&e);	/* printed before at_die() */
	if (o.print && res.records.n > 0) {
		out_write(res.records.p, res.records.n);
		msg_flush_or_die();
	}
	buf_reset(&res.records);
}

/* Writes the batch; its commit is left to settle(), after the next batch
 * has been read, so that reading and the disk work at the same time. */
static void
commit(void)
{
	settle();
	struct ev_err e;

	if (elog_append_start(log_, batch, o.expect, &res, &e) != 0)
		msg_die_err(&e);
	elog_batch_clear(batch);
}

/* The library's warnings (a torn tail cut), under -q's control. */
static void
warn(const char *m)
{
	msg_warn("%s", m);
}

/* On the way out by msg_die(): let a seal in progress finish. */
static void
at_die(void)
{
	elog_close(log_);
	log_ = NULL;
}

static void
idle(void *ctx)
{
	(void)ctx;
	if (elog_batch_count(batch) > 0)
		commit();
	settle();	/* never hold the lock while the input waits */
}

/* Adds line l to the batch; 0, or the status to stop with if the line
 * was bad and not recorded by --errors. */
static int
add(const struct ndj_line *l, int kind)
{
	const char *why = "line longer than --max-line-bytes";
	const char *st = o.stream;
	size_t sn = strlen(st);
	char reason[1100];
	struct ev_err e;

	if (kind != NDJ_LINE)
		return cli_reject(l, why);
	if (o.stream_from != NULL) {
		/* the stream name is the value's exact text (jx_key) */
		buf_reset(&stream_name);
		if (jx_key(stream_path, l->p, l->n, &stream_name, &e) != 0) {
			snprintf(reason, sizeof reason, "--stream-from %.40s: %s", o.stream_from, e.msg);
			return cli_reject(l, reason);
		}
		st = stream_name.p;
		sn = stream_name.n;
	}
	return elog_batch_add(batch, st, sn, l->p, l->n, &why) ? cli_reject(l, why) : 0;
}

int
main(int argc, char **argv)
{
	struct ndj_line line;
	int kind;

	cli_init(argv, help);
	parse(argc, argv);
	out_init(cli.line_buffered);
	char *path = cli_name(argv[optind], "log", "", 0);
	struct ev_err oe;
	o.lo.warn = warn;
	if (elog_open(path, &o.lo, &log_, &oe) != 0)
		msg_die_err(&oe);
	msg_at_die(at_die);
	struct ev_err e;
	if (o.stream_from != NULL && jx_compile(o.stream_from, &stream_path, &e) != 0)
		cli_usage_error("--stream-from: invalid path '%s': %s", o.stream_from, e.msg);
	batch = elog_batch_new();
	struct ndj_reader *r = ndj_open(argv + optind + 1, argc - optind - 1, &cli.input);
	if (o.expect == ELOG_EXPECT_ANY)
		ndj_set_idle(r, idle, NULL);
	while ((kind = ndj_next(r, &line)) != NDJ_EOF) {
		int bad = kind == NDJ_ERROR ? cli_input_error(r, &line) : add(&line, kind);
		if (bad != 0) {
			commit();	/* everything before the bad line */
			settle();
			elog_close(log_);
			msg_close_or_die();
			exit(bad);
		}
		if (o.expect == ELOG_EXPECT_ANY && (elog_batch_count(batch) >= BATCH_EVENTS ||
		    elog_batch_bytes(batch) >= BATCH_BYTES))
			commit();
	}
	commit();
	settle();
	int rc = ndj_status(r);
	ndj_close(r);
	elog_batch_free(batch);
	elog_result_free(&res);
	elog_close(log_);
	jx_free(stream_path);
	buf_free(&stream_name);
	free(path);
	msg_close_or_die();
	return rc;
}
