/* evlog-read — print, follow, fold or verify an event log (SPEC.md 4). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/clock.h"
#include "evlog/evlog.h"
#include "evlog/fold.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/names.h"
#include "core/out.h"

static const char help[] =
"usage: evlog-read [-efq] [-s STREAM] [--from SEQ] [--from-version V] [--since TIME]\n"
"                  [--until TIME] [--fold JQ [--init JSON]] [--verify]\n"
"                  [--lock-timeout S] LOG\n"
"Prints the records of the event log LOG, oldest first.\n"
"LOG may be nats://[USER:PASS@]HOST:PORT[,HOST:PORT...]/NAME, a log on NATS\n"
"JetStream.\n"
"  -e, --events              print the bare events, not the records\n"
"  -s, --stream S            only the records of stream S\n"
"      --from SEQ            from the record with seq SEQ on\n"
"      --from-version V      from version V of the stream (needs --stream)\n"
"      --since TIME          only records appended at TIME (RFC 3339) or later\n"
"      --until TIME          stop after the records appended until TIME\n"
"  -f, --follow              wait for new records, like tail -f\n"
"      --fold JQ             reduce the events: JQ sees . and $state (the state)\n"
"                            and $event; prints the final state (with -f, each new one)\n"
"      --init JSON           the initial state for --fold (default null)\n"
"      --verify              check every CRC, seq and version; report damage\n"
"      --lock-timeout S      give up (exit 75) when a writer holds the log's\n"
"                            lock for S seconds (default 10; ms, s, m, h)\n"
"      --line-buffered       flush each line\n"
"  -q, --quiet               no warnings\n"
"  -h, --help                this help\n"
"      --version             print the version\n";

enum { OPT_FROM = CLI_FIRST_FREE, OPT_FROM_VERSION, OPT_SINCE, OPT_UNTIL, OPT_FOLD,
	OPT_INIT, OPT_VERIFY, OPT_LOCK_TIMEOUT };

static const struct option opts[] = {
	CLI_BASIC_OPTS,
	{ "events", no_argument, NULL, 'e' },
	{ "stream", required_argument, NULL, 's' },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "from-version", required_argument, NULL, OPT_FROM_VERSION },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "follow", no_argument, NULL, 'f' },
	{ "fold", required_argument, NULL, OPT_FOLD },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static struct {
	int events, follow, verify;
	struct buf stream;		/* the stream as a JSON string literal */
	uint64_t from, from_version;
	char since[25], until[25];
	const char *fold, *init;
	long lock_timeout_ms;
} o;

/* An RFC 3339 time in the records' own form, so they compare as text. */
static void
time_opt(const char *opt, const char *arg, char out[25])
{
	int64_t ms;

	if (clock_parse_rfc3339(arg, &ms) != 0)
		cli_usage_error("%s: '%s' is not an RFC 3339 time", opt, arg);
	clock_rfc3339(ms, out);
}

static void
parse(int argc, char **argv)
{
	int c;

	while ((c = cli_getopt(argc, argv, "hqefs:", opts)) != -1) {
		switch (c) {
		case 'e':
			o.events = 1;
			break;
		case 's':
			buf_reset(&o.stream);
			json_add_string(&o.stream, optarg, strlen(optarg));
			break;
		case OPT_FROM:
			o.from = (uint64_t)cli_num("--from", optarg, 1, 1LL << 62);
			break;
		case OPT_FROM_VERSION:
			o.from_version = (uint64_t)cli_num("--from-version", optarg, 1, 1LL << 62);
			break;
		case OPT_SINCE:
			time_opt("--since", optarg, o.since);
			break;
		case OPT_UNTIL:
			time_opt("--until", optarg, o.until);
			break;
		case 'f':
			o.follow = 1;
			break;
		case OPT_FOLD:
			o.fold = optarg;
			break;
		case OPT_INIT:
			o.init = optarg;
			break;
		case OPT_VERIFY:
			o.verify = 1;
			break;
		case OPT_LOCK_TIMEOUT:
			o.lock_timeout_ms = (long)cli_duration_ms("--lock-timeout", optarg, 1,
			    86400000);
			break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (o.from_version > 0 && o.stream.n == 0)
		cli_usage_error("--from-version needs --stream");
	if (o.init != NULL && o.fold == NULL)
		cli_usage_error("--init needs --fold");
	if (optind != argc - 1)
		cli_usage_error(optind >= argc ? "missing LOG" : "too many operands");
}

static void
report(void *ctx, const char *what)
{
	msg_error("%s/%s", (const char *)ctx, what);
}

static void
warn(const char *m)
{
	msg_warn("%s", m);
}

static int
verify(struct elog *l)
{
	uint64_t records;
	struct ev_err e;
	long bad = elog_verify(l, report, (void *)elog_dir(l), &records, &e);

	if (bad < 0)
		msg_die_err(&e);
	out_printf("{\"records\":%llu,\"damaged\":%ld}\n", (unsigned long long)records, bad);
	return bad > 0 ? EV_DATAERR : EV_OK;
}

/* 1 if r passes the filters, 0 if not, -1 if the reading should stop
 * (past --until). */
static int
wanted(const struct elog_rec *r)
{
	if (o.until[0] != '\0' && memcmp(r->time, o.until, 24) > 0)
		return -1;
	if (o.since[0] != '\0' && memcmp(r->time, o.since, 24) < 0)
		return 0;
	if (o.stream.n > 0 && (r->stream_n != o.stream.n ||
	    memcmp(r->stream, o.stream.p, o.stream.n) != 0))
		return 0;
	return r->version >= o.from_version;
}

static struct buf state_text;

static void
print_state(struct fold *f)
{
	struct ev_err e;

	if (fold_state(f, &state_text, &e) != 0)
		msg_die_err(&e);
	out_line(state_text.p, state_text.n);
}

static int
run(struct elog *l, struct fold *f)
{
	struct elog_reader *rd;
	struct elog_rec r;
	unsigned long shown = 0, folded = 0;
	struct ev_err e;
	int k;

	if (elog_reader_open(l, o.from, &rd, &e) != 0)
		msg_die_err(&e);
	for (;;) {
		while ((k = elog_reader_next(rd, &r, &e)) == 1) {
			int w = wanted(&r);
			if (w < 0)
				break;
			if (w == 0)
				continue;
			if (f != NULL) {
				if (fold_step(f, r.event, r.event_n, elog_reader_segment(rd),
				    elog_reader_line(rd), &e) != 0)
					msg_die_err(&e);
				folded++;
			} else if (o.events) {
				out_line(r.event, r.event_n);
			} else {
				out_line(r.line, r.line_n);
			}
			shown++;
		}
		if (k > 1)
			msg_die_err(&e);
		if (f != NULL && (folded > 0 || !o.follow || shown == 0)) {
			print_state(f);
			folded = 0;
			shown++;
		}
		if (!o.follow || k == 1)
			break;		/* k == 1: past --until */
		msg_flush_or_die();
		elog_reader_wait(rd, 100);
	}
	elog_reader_close(rd);
	return shown > 0 ? EV_OK : EV_NONE;
}

int
main(int argc, char **argv)
{
	struct elog *l;
	struct elog_opts lo = { .fsync = ELOG_FSYNC_BATCH, .warn = warn };
	struct ev_err e;
	struct fold *f = NULL;

	cli_init(argv, help);
	parse(argc, argv);
	lo.lock_timeout_ms = o.lock_timeout_ms;
	out_init(cli.line_buffered);
	char *path = cli_name(argv[optind], "log", "", 0);
	int rc = elog_open(path, &lo, &l, &e);
	if (rc != 0)
		msg_die_err(&e);
	if (o.fold != NULL && fold_new(o.fold, o.init != NULL ? o.init : "null", &f, &e) != 0)
		cli_usage_error("%s", e.msg);
	rc = o.verify ? verify(l) : run(l, f);
	fold_free(f);
	buf_free(&state_text);
	elog_close(l);
	buf_free(&o.stream);
	free(path);
	msg_close_or_die();
	return rc;
}
