/* evq-send — send each input line to a queue as one message. */
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/jx.h"
#include "core/msg.h"
#include "core/ndjson.h"
#include "core/out.h"
#include "queue/queue.h"

static const char help[] =
"usage: evq-send [OPTIONS] QUEUE [FILE...]\n"
"Send each NDJSON line of the FILEs (or stdin) to QUEUE as one message.\n"
"QUEUE is created (a standard queue, or FIFO for a .fifo name) if missing.\n"
"QUEUE may be a queue URL or sqs://REGION/ACCOUNT/NAME on Amazon SQS (or a\n"
"server speaking its protocol): sent in batches of 10 (at most 1 MiB per\n"
"request), never created (use evq-ctl create).  QUEUE may be\n"
"nats://[USER:PASS@]HOST:PORT[,HOST:PORT...]/NAME on NATS JetStream: each\n"
"message confirmed by the stream (or published again), never created either.\n"
"\n"
"  -d, --delay S            make the messages visible after S seconds (0-900)\n"
"  -a, --attr NAME[:TYPE]=VALUE\n"
"                           a message attribute (String, Number or Binary\n"
"                           in base64; repeatable, at most 10)\n"
"  -g, --group-id ID        FIFO message group id\n"
"  -G, --group-from PATH    take the group id from each message (jq path,\n"
"                           e.g. .detail.orderId)\n"
"  -D, --dedup-id ID        FIFO deduplication id\n"
"      --dedup-from PATH    take the deduplication id from each message\n"
"  -p, --print-ids          print {\"MessageId\",\"MD5OfMessageBody\",...} per\n"
"                           message once it is committed\n"
"  -r, --raw                a line is any UTF-8 text, not necessarily JSON\n"
"  -b, --batch N            commit every N messages (default 10000)\n"
"      --endpoint-url URL   send a remote queue's requests to URL\n"
"      --errors FILE        record bad lines in FILE and go on\n"
"      --max-line-bytes N   longest line accepted (default 1048576)\n"
"      --line-buffered      flush output after every line\n"
"  -q, --quiet              no warnings\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"Exit status: 0 all sent, 2 usage, 65 bad input (the lines before it are\n"
"committed), 66 missing input file or no such queue, 69 server unreachable,\n"
"74 I/O error or full disk, 75 lock timeout or throttled, 77 credentials\n"
"missing or refused.\n";

enum { OPT_DEDUP_FROM = CLI_FIRST_FREE, OPT_ENDPOINT };

static const struct option longopts[] = {
	CLI_BASIC_OPTS, CLI_INPUT_OPTS,
	{ "delay", required_argument, NULL, 'd' },
	{ "attr", required_argument, NULL, 'a' },
	{ "group-id", required_argument, NULL, 'g' },
	{ "group-from", required_argument, NULL, 'G' },
	{ "dedup-id", required_argument, NULL, 'D' },
	{ "dedup-from", required_argument, NULL, OPT_DEDUP_FROM },
	{ "print-ids", no_argument, NULL, 'p' },
	{ "raw", no_argument, NULL, 'r' },
	{ "batch", required_argument, NULL, 'b' },
	{ "endpoint-url", required_argument, NULL, OPT_ENDPOINT },
	{ NULL, 0, NULL, 0 },
};

struct sender {
	struct queue *q;
	int64_t delay_ms;
	char *attrs, attrs_md5[33];
	long attrs_size;
	const char *group_id, *dedup_id;
	struct jx *group_from, *dedup_from;
	int print_ids, raw;
	long batch, in_batch;
	struct buf ids;		/* --print-ids lines waiting for the commit */
};

/* A failure of the queue: what a remote queue acknowledged is printed
 * already (out holds only sent messages' lines), so it goes out first. */
static noreturn void
die_sending(const struct ev_err *e)
{
	(void)out_flush();
	msg_die_err(e);
}

/* Commits the batch, then tells what was committed. */
static void
commit(void *ctx)
{
	struct sender *s = ctx;
	struct ev_err e;

	if (q_send_commit(s->q, &e) != 0)
		die_sending(&e);
	s->in_batch = 0;
	if (s->ids.n > 0) {
		out_write(s->ids.p, s->ids.n);
		buf_reset(&s->ids);
	}
	msg_flush_or_die();
}

static void
note_id(struct sender *s, const struct q_sent *sent, const char *body, size_t len)
{
	char md5[33];

	if (sent->id[0] == '\0')
		return;		/* a remote queue's: on_sent tells, once sent */
	digest_hex_of(DIGEST_MD5, body, len, md5);
	buf_printf(&s->ids, "{\"MessageId\":\"%s\",\"MD5OfMessageBody\":\"%s\"", sent->id, md5);
	if (s->attrs != NULL)
		buf_printf(&s->ids, ",\"MD5OfMessageAttributes\":\"%s\"", s->attrs_md5);
	if (sent->seq[0] != '\0')
		buf_printf(&s->ids, ",\"SequenceNumber\":\"%s\"", sent->seq);
	buf_adds(&s->ids, "}\n");
}

/* A remote queue acknowledged a message: its line goes out now, as the
 * server has it whatever happens next. */
static void
on_sent(void *ctx, const struct q_sent *sent, const char *body, size_t len)
{
	struct sender *s = ctx;

	note_id(s, sent, body, len);
	out_write(s->ids.p, s->ids.n);
	buf_reset(&s->ids);
}

/* The id the path x selects in l, exactly (jx_key: it may hold a NUL),
 * malloc'd, its length in *len; or NULL with the reason in why_buf. */
static char *
key_from(struct jx *x, const char *opt, const struct ndj_line *l, size_t *len,
    char *why_buf, size_t why_len)
{
	struct buf k = { 0 };
	struct ev_err e;

	if (jx_key(x, l->p, l->n, &k, &e) != 0) {
		snprintf(why_buf, why_len, "%s: %.200s", opt, e.msg);
		buf_free(&k);
		return NULL;
	}
	*len = k.n;
	return buf_detach(&k);
}

/* Sends one line; returns the reason it is bad, or NULL. */
static const char *
send_line(struct sender *s, const struct ndj_line *l, char *why_buf, size_t why_len)
{
	const struct q_attrs *a = q_attrs(s->q);
	struct json_err e;
	char *group = NULL, *dedup = NULL;
	size_t group_len = 0, dedup_len = 0;

	if (s->raw) {
		size_t col = utf8_check(l->p, l->n, JSON_SQS_CHARS);
		if (col != 0)
			return snprintf(why_buf, why_len, "invalid UTF-8 or a character SQS refuses at column %zu", col), why_buf;
	} else if (json_validate(l->p, l->n, JSON_SQS_CHARS, &e) == 0) {
		return snprintf(why_buf, why_len, "invalid JSON: %s at column %zu", e.what, e.col), why_buf;
	}
	if ((long)l->n + (s->attrs_size > 0 ? s->attrs_size : 0) > a->max_bytes)
		return snprintf(why_buf, why_len, "message of %zu bytes is over the queue's MaximumMessageSize (%ld)",
		    l->n + (size_t)(s->attrs_size > 0 ? s->attrs_size : 0), a->max_bytes), why_buf;
	if (s->group_from != NULL && (group = key_from(s->group_from, "--group-from", l,
	    &group_len, why_buf, why_len)) == NULL)
		return why_buf;
	if (s->dedup_from != NULL && (dedup = key_from(s->dedup_from, "--dedup-from", l,
	    &dedup_len, why_buf, why_len)) == NULL) {
		free(group);
		return why_buf;
	}
	/* Ids are their exact bytes (group_len, dedup_len 0: up to a NUL). */
	struct q_out m = { .body = l->p, .len = l->n, .group = group ? group : s->group_id,
	    .dedup = dedup ? dedup : s->dedup_id, .delay_ms = s->delay_ms, .attrs = s->attrs,
	    .attrs_md5 = s->attrs_md5, .group_len = group ? group_len : 0,
	    .dedup_len = dedup ? dedup_len : 0 };
	struct q_sent sent;
	struct ev_err err;
	int rc = q_send_add(s->q, &m, &sent, &err);
	free(group);
	free(dedup);
	if (rc != 0)
		die_sending(&err);
	if (sent.refused != NULL)
		return sent.refused;
	if (s->print_ids)
		note_id(s, &sent, l->p, l->n);
	if (++s->in_batch >= s->batch)
		commit(s);
	return NULL;
}

static struct jx *
compile_path(const char *opt, const char *prog)
{
	struct ev_err e;
	struct jx *x;

	if (jx_compile(prog, &x, &e) != 0)
		cli_usage_error("%s: invalid jq path '%s': %s", opt, prog, e.msg);
	return x;
}

static void
check_fifo_options(struct sender *s)
{
	const struct q_attrs *a = q_attrs(s->q);

	if (!a->fifo) {
		if (s->dedup_id != NULL || s->dedup_from != NULL)
			cli_usage_error("queue '%s' is not FIFO: deduplication ids apply to FIFO queues", q_name(s->q));
		return;
	}
	if (s->group_id == NULL && s->group_from == NULL)
		cli_usage_error("queue '%s' is FIFO: give --group-id or --group-from", q_name(s->q));
	if (s->dedup_id == NULL && s->dedup_from == NULL && !a->content_dedup)
		cli_usage_error("queue '%s' is FIFO without ContentBasedDeduplication: give --dedup-id or --dedup-from",
		    q_name(s->q));
	if (s->delay_ms >= 0)
		cli_usage_error("queue '%s' is FIFO: FIFO queues take no per-message --delay", q_name(s->q));
}

int
main(int argc, char **argv)
{
	struct sender s = { .delay_ms = -1, .batch = 10000 };
	struct q_open_opts oo = { 0 };
	char *attr_specs[16];
	int nattrs = 0, c;
	const char *why;
	struct ev_err err;

	cli_init(argv, help);
	while ((c = cli_getopt(argc, argv, "hqd:a:g:G:D:prb:", longopts)) != -1) {
		switch (c) {
		case 'd': s.delay_ms = cli_duration_ms("--delay", optarg, 0, 900000); break;
		case 'a':
			if (nattrs >= 11)
				cli_usage_error("--attr: at most 10 message attributes");
			attr_specs[nattrs++] = optarg;
			break;
		case 'g': s.group_id = optarg; break;
		case 'G': s.group_from = compile_path("--group-from", optarg); break;
		case 'D': s.dedup_id = optarg; break;
		case OPT_DEDUP_FROM: s.dedup_from = compile_path("--dedup-from", optarg); break;
		case 'p': s.print_ids = 1; break;
		case 'r': s.raw = 1; break;
		case 'b': s.batch = (long)cli_num("--batch", optarg, 1, 1000000); break;
		case OPT_ENDPOINT: oo.endpoint_url = optarg; break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (optind >= argc)
		cli_usage_error("missing QUEUE");
	if (nattrs > 0 && q_attrs_render(attr_specs, nattrs, &s.attrs, s.attrs_md5, &s.attrs_size, &err) != 0)
		cli_usage_error("--attr: %s", err.msg);
	if (q_open_with(argv[optind], Q_CREATE, NULL, &oo, &s.q, &err) != 0)
		msg_die_err(&err);
	if (s.print_ids)
		q_send_on_sent(s.q, on_sent, &s);
	check_fifo_options(&s);
	out_init(cli.line_buffered);

	struct ndj_reader *r = ndj_open(argv + optind + 1, argc - optind - 1, &cli.input);
	struct ndj_line l;
	char why_buf[256];
	int kind, status = EV_OK;
	ndj_set_idle(r, commit, &s);
	while ((kind = ndj_next(r, &l)) != NDJ_EOF) {
		if (kind == NDJ_ERROR) {
			if ((status = cli_input_error(r, &l)) != 0)
				break;
			continue;
		}
		why = kind == NDJ_TOOLONG ? "line longer than --max-line-bytes" :
		    send_line(&s, &l, why_buf, sizeof why_buf);
		if (why != NULL && (status = cli_reject(&l, why)) != 0)
			break;
	}
	commit(&s);
	if (status == EV_OK)
		status = ndj_status(r);
	ndj_close(r);
	q_close(s.q);
	jx_free(s.group_from);
	jx_free(s.dedup_from);
	free(s.attrs);
	buf_free(&s.ids);
	msg_close_or_die();
	return status;
}
