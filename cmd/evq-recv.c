/* evq-recv — receive messages from a queue: consume (print, then delete),
 * lease (print envelopes; ack later), peek, or acknowledge. */
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/cli.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/ndjson.h"
#include "core/out.h"
#include "queue/queue.h"
#include "core/sig.h"

static const char help[] =
"usage: evq-recv [OPTIONS] QUEUE\n"
"       evq-recv --ack|--release QUEUE [FILE...]\n"
"Receive messages from QUEUE.  By default print each body, byte for byte as\n"
"sent, and delete each message once its line is written (on a pipe or\n"
"socket: once the reader has read it; what it leaves unread goes back).\n"
"QUEUE may be a queue URL or sqs://REGION/ACCOUNT/NAME on Amazon SQS (or a\n"
"server speaking its protocol): receives of up to 10 messages, waits as long\n"
"polls of at most 20 s, repeated; --peek is refused there.  QUEUE may be\n"
"nats://[USER:PASS@]HOST:PORT[,HOST:PORT...]/NAME on NATS JetStream: one\n"
"durable consumer shared by every receiver, receipt handles its ack subjects.\n"
"\n"
"  -n, --max N              at most N messages (default: all visible now)\n"
"  -w, --wait S             wait up to S seconds for a first message\n"
"                           (default: the queue's ReceiveMessageWaitTimeSeconds)\n"
"  -f, --follow             keep receiving as messages arrive, until killed\n"
"                           or the reader of a pipe leaves\n"
"  -e, --envelope           print AWS Lambda SQS event records\n"
"  -l, --lease S            at-least-once: lease for S seconds and print\n"
"                           envelopes; acknowledge with --ack\n"
"      --peek               print without changing anything\n"
"      --ack                delete the messages whose envelopes or receipt\n"
"                           handles are read from FILEs or stdin\n"
"      --release            make them visible again at once\n"
"      --endpoint-url URL   send a remote queue's requests to URL\n"
"      --line-buffered      flush output after every line\n"
"      --errors FILE        with --ack/--release: record bad lines and go on\n"
"      --max-line-bytes N   with --ack/--release: longest line (default 1048576)\n"
"  -q, --quiet              no warnings\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"Exit status: 0 at least one message printed (or every handle acknowledged),\n"
"1 none, 2 usage, 65 bad handle line, 66 no such queue, 69 server unreachable,\n"
"74 I/O error, 75 lock timeout or throttled, 77 credentials missing or refused.\n";

enum { OPT_PEEK = CLI_FIRST_FREE, OPT_ACK, OPT_RELEASE, OPT_ENDPOINT };

static const struct option longopts[] = {
	CLI_BASIC_OPTS, CLI_INPUT_OPTS,
	{ "max", required_argument, NULL, 'n' },
	{ "wait", required_argument, NULL, 'w' },
	{ "follow", no_argument, NULL, 'f' },
	{ "envelope", no_argument, NULL, 'e' },
	{ "lease", required_argument, NULL, 'l' },
	{ "peek", no_argument, NULL, OPT_PEEK },
	{ "ack", no_argument, NULL, OPT_ACK },
	{ "release", no_argument, NULL, OPT_RELEASE },
	{ "endpoint-url", required_argument, NULL, OPT_ENDPOINT },
	{ NULL, 0, NULL, 0 },
};

enum { BATCH = 5000, WINDOW_MAX = 256 << 10, HANDLE_MAX = 2048 };

struct receiver {
	struct queue *q;
	int reader;		/* stdout is a pipe (1) or socket (2): see pipe_batch */
	size_t window;		/* bytes written ahead of the reader */
	int64_t renew;		/* when to renew the batch's lease (monotonic ms) */
	long max;		/* -1: all */
	int64_t wait_ms;	/* -1: the queue's */
	int follow, envelope, peek;
	int64_t lease_ms;	/* -1: consume mode */
	struct q_msg *batch;
	size_t *ends;
	struct buf env;
	long printed;
	int64_t after;		/* last rowid this run received */
	char **handles;		/* --ack on a remote queue: the batch's handles */
};

static void
format_msg(struct receiver *r, const struct q_msg *m)
{
	if (r->envelope) {
		buf_reset(&r->env);
		q_envelope(r->q, m, &r->env);
		out_write(r->env.p, r->env.n);
	} else {
		out_write(m->body, m->len);
	}
	out_write("\n", 1);
}

/* Writes the batch; returns how many lines reached stdout whole.  *err
 * is 0, or the errno of a failed write. */
static size_t
write_batch(struct receiver *r, size_t n, int *err)
{
	size_t delivered = 0;

	*err = 0;
	for (size_t i = 0; i < n; i++) {
		format_msg(r, &r->batch[i]);
		r->ends[i] = out_pending();
		if (!out_line_mode() && out_pending() < (1 << 16) && i + 1 < n)
			continue;
		if (out_flush() != 0) {
			*err = errno;
			size_t w = out_flushed();
			while (delivered <= i && r->ends[delivered] <= w)
				delivered++;
			return delivered;
		}
		delivered = i + 1;	/* ends[] of later lines count from here */
	}
	return delivered;
}

/* Bytes written to stdout that its reader has not read: FIONREAD on a
 * pipe's write end, SIOCOUTQ on a socket (which may count more: then
 * fewer messages count as read, never more).  A socket is drained after
 * every write, as its unread bytes vanish when the reader closes it. */
static size_t
unread_bytes(const struct receiver *r)
{
	int n = 0;

	if (ioctl(STDOUT_FILENO, r->reader == 2 ? SIOCOUTQ : FIONREAD, &n) != 0 || n < 0)
		return 0;
	return (size_t)n;
}

/* 1 if the reader of stdout left: events 0, a pipe's write end reports
 * only POLLERR, a socket POLLHUP. */
static int
reader_gone(int timeout_us)
{
	struct pollfd p = { STDOUT_FILENO, 0, 0 };
	struct timespec ts = { timeout_us / 1000000, (long)(timeout_us % 1000000) * 1000 };

	return ppoll(&p, 1, &ts, NULL) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/* Renews the lease of what the reader has not read yet, every third of
 * the VisibilityTimeout, so no other consumer receives it meanwhile.  A
 * renewal that fails (the queue locked) only risks a second delivery,
 * which settle() reports. */
static void
keep_lease(struct receiver *r, int start)
{
	int64_t every = q_consume_hold_ms(r->q) / 3;
	struct ev_err e;
	int held;

	if (every < 100 || (!start && clock_mono_ms() < r->renew))
		return;
	if (!start)
		(void)q_consume_extend(r->q, &held, &e);
	r->renew = clock_mono_ms() + every;
}

/* Waits until the reader has read everything written, left, or a signal
 * asks to stop; returns the bytes it did not read (0: all read). */
static size_t
drain(struct receiver *r, int *err)
{
	size_t unread;
	int pause = 50;		/* µs, doubling: a fast reader costs little */

	while ((unread = unread_bytes(r)) > 0) {
		if (reader_gone(pause)) {
			/* A pipe keeps what its reader left unread; a socket's
			 * close throws it away, so the count seen last stands. */
			size_t left = unread_bytes(r);
			*err = EPIPE;
			return r->reader == 2 && unread > left ? unread : left;
		}
		if (sig_stop)
			return unread;
		pause = pause < 10000 ? 2 * pause : pause;
		keep_lease(r, 0);
	}
	return 0;
}

/* How many of the first n lines (those written) lie whole within the
 * first sent - unread bytes of the batch. */
static size_t
count_read(const struct receiver *r, size_t n, size_t sent, size_t unread)
{
	size_t k = 0;

	sent = sent > unread ? sent - unread : 0;
	while (k < n && r->ends[k] <= sent)
		k++;
	return k;
}

/* Consume mode on a pipe or socket: a message is delivered once the
 * reader has read its line, not once it is in the pipe.  Writes no more
 * than the window ahead of the reader, waits for it to catch up, and
 * doubles the window each time it does: `evq-recv q | head -n 1` gives
 * head one line to read, a steady reader soon gets the pipe's worth.
 * Returns how many lines the reader read; *err is EPIPE if it left. */
static size_t
pipe_batch(struct receiver *r, size_t n, int *err)
{
	size_t sent = 0, total = 0, i = 0;

	*err = 0;
	keep_lease(r, 1);
	while (i < n && *err == 0 && !sig_stop) {
		do {
			format_msg(r, &r->batch[i]);
			r->ends[i++] = total + out_pending();
		} while (i < n && out_pending() < r->window);
		total += out_pending();
		if (out_flush() != 0) {
			*err = errno;
			if (r->reader == 2)	/* drained before: all but this flush read */
				return count_read(r, i, sent, 0);
			sent += out_flushed();
			return count_read(r, i, sent, unread_bytes(r));
		}
		sent = total;
		if (r->window < WINDOW_MAX || r->reader == 2) {
			size_t unread = drain(r, err);
			if (unread > 0)
				return count_read(r, i, sent, unread);
			r->window *= 2;
		}
	}
	return count_read(r, i, sent, drain(r, err));
}

/* Settles a written batch: consume mode deletes what was delivered;
 * whatever did not reach the reader goes back, its receive not counted. */
static void
settle(struct receiver *r, size_t n, size_t delivered, int err)
{
	struct ev_err e;
	size_t gone;

	if (r->lease_ms < 0) {
		if (q_consume_done(r->q, r->batch, delivered, &gone, &e) != 0)
			msg_die_err(&e);
		if (gone < delivered)
			msg_warn("queue '%s': %zu message(s) outlived their visibility timeout before "
			    "deletion and may be delivered again", q_name(r->q), delivered - gone);
	} else if (delivered < n) {
		if (q_release(r->q, r->batch + delivered, n - delivered, 0, 1, NULL, NULL, &e) != 0)
			msg_die_err(&e);
	}
	r->printed += (long)delivered;
	if (err == EPIPE)
		msg_epipe();
	if (err != 0) {
		errno = err;
		msg_die_sys(EV_IOERR, "write error");
	}
}

static size_t
batch_size(const struct receiver *r)
{
	if (r->max < 0)
		return BATCH;
	long left = r->max - r->printed;
	return left < BATCH ? (size_t)left : BATCH;
}

static void
receive_loop(struct receiver *r)
{
	int64_t wait = r->wait_ms >= 0 ? r->wait_ms : q_attrs(r->q)->wait_ms;
	int64_t deadline = clock_mono_ms() + wait;

	for (;;) {
		size_t want = batch_size(r);
		if (want == 0)
			return;
		sig_reraise();
		size_t n;
		struct ev_err e;
		int rc = r->lease_ms < 0 ?
		    q_consume(r->q, r->after, want, r->envelope ? 0 : Q_BODY_ONLY, r->batch, &n, &e) :
		    q_receive(r->q, r->after, want, r->lease_ms, r->batch, &n, &e);
		if (rc != 0)
			msg_die_err(&e);
		const char *note = q_notice(r->q);
		if (note != NULL)
			msg_warn("%s", note);
		if (n > 0) {
			r->after = r->batch[n - 1].rowid;
			int err;
			size_t delivered = r->reader && r->lease_ms < 0 ? pipe_batch(r, n, &err) :
			    write_batch(r, n, &err);
			settle(r, n, delivered, err);
			continue;
		}
		/* Nothing visible: wait for a first message, or forever with -f. */
		int watch = r->reader ? STDOUT_FILENO : -1;
		if (r->follow) {
			msg_flush_or_die();
			q_wait_fd(r->q, -1, watch);
			r->after = 0;	/* leases that expired meanwhile are due again */
		} else if (r->printed == 0 && clock_mono_ms() < deadline) {
			q_wait_fd(r->q, deadline, watch);
		} else {
			return;
		}
		if (r->reader && reader_gone(0)) {
			sig_reraise();
			msg_epipe();	/* nobody to deliver to: as a write would */
		}
	}
}

static void
peek_loop(struct receiver *r)
{
	int64_t after = 0;
	size_t n;
	struct ev_err e;

	for (;;) {
		if (q_peek(r->q, after, batch_size(r), r->batch, &n, &e) != 0)
			msg_die_err(&e);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			format_msg(r, &r->batch[i]);
		msg_flush_or_die();
		r->printed += (long)n;
		after = r->batch[n - 1].rowid;
	}
}

/* A line of --ack input: an envelope, a JSON string, or a bare handle. */
static const char *
parse_handle_line(struct receiver *r, size_t i, const struct ndj_line *l)
{
	struct q_msg *m = &r->batch[i];
	char hbuf[HANDLE_MAX];
	const char *h = NULL;
	struct json_err e;
	int kind = json_validate(l->p, l->n, 0, &e);

	if (kind == '{' || kind == '"') {
		const char *key = kind == '{' ? strstr(l->p, "\"receiptHandle\"") : l->p;
		if (key == NULL || key >= l->p + l->n)
			return "no receiptHandle in this object";
		const char *q1 = kind == '{' ? strchr(key + 15, '"') : key;
		const char *q2 = q1 != NULL ? memchr(q1 + 1, '"', (size_t)(l->p + l->n - q1 - 1)) : NULL;
		if (q2 == NULL || (size_t)(q2 - q1 - 1) >= sizeof hbuf)
			return "not a receipt handle";
		snprintf(hbuf, sizeof hbuf, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
		h = hbuf;
	} else {
		if (l->n >= sizeof hbuf)
			return "not a receipt handle";
		snprintf(hbuf, sizeof hbuf, "%.*s", (int)l->n, l->p);
		h = hbuf;
	}
	memset(m, 0, sizeof *m);
	if (q_is_remote(r->q)) {	/* an SQS handle is opaque: the server judges it */
		if (*h == '\0')
			return "not a receipt handle";
		free(r->handles[i]);
		m->rhandle = r->handles[i] = xstrdup(h);
		return NULL;
	}
	if (q_parse_handle(h, &m->rowid, &m->receipt) != 0)
		return "not a receipt handle";
	if (strlen(h) >= sizeof m->handle)
		return "not a receipt handle";
	memcpy(m->handle, h, strlen(h) + 1);
	return NULL;
}

static void
flush_acks(struct receiver *r, size_t n, int release, long *stale)
{
	unsigned char ok[BATCH];
	struct ev_err e;
	int rc = release ? q_release(r->q, r->batch, n, 0, 0, ok, NULL, &e) :
	    q_delete(r->q, r->batch, n, ok, NULL, &e);

	if (rc != 0)
		msg_die_err(&e);
	for (size_t i = 0; i < n; i++)
		if (!ok[i]) {
			msg_warn("receipt handle %s: lease expired or message already gone",
			    q_msg_handle(&r->batch[i]));
			(*stale)++;
		}
}

static int
ack_loop(struct receiver *r, char *const *files, int nfiles, int release)
{
	struct ndj_reader *in = ndj_open(files, nfiles, &cli.input);
	struct ndj_line l;
	size_t n = 0;
	long stale = 0;
	int kind, status = EV_OK;

	while ((kind = ndj_next(in, &l)) != NDJ_EOF) {
		if (kind == NDJ_ERROR) {
			if ((status = cli_input_error(in, &l)) != 0)
				break;
			continue;
		}
		const char *why = kind == NDJ_TOOLONG ? "line longer than --max-line-bytes" :
		    parse_handle_line(r, n, &l);
		if (why != NULL) {
			if ((status = cli_reject(&l, why)) != 0)
				break;
			continue;
		}
		if (++n == BATCH) {
			flush_acks(r, n, release, &stale);
			n = 0;
		}
	}
	flush_acks(r, n, release, &stale);
	if (status == EV_OK)
		status = ndj_status(in);
	ndj_close(in);
	return status != EV_OK ? status : stale > 0 ? EV_NONE : EV_OK;
}

int
main(int argc, char **argv)
{
	struct receiver r = { .max = -1, .wait_ms = -1, .lease_ms = -1 };
	struct q_open_opts oo = { 0 };
	int c, ack = 0, release = 0;

	cli_init(argv, help);
	while ((c = cli_getopt(argc, argv, "hqn:w:fel:", longopts)) != -1) {
		switch (c) {
		case 'n': r.max = (long)cli_num("--max", optarg, 1, 1L << 40); break;
		case 'w': r.wait_ms = cli_duration_ms("--wait", optarg, 0, 86400000); break;
		case 'f': r.follow = 1; break;
		case 'e': r.envelope = 1; break;
		case 'l': r.lease_ms = cli_duration_ms("--lease", optarg, 0, 43200000); break;
		case OPT_PEEK: r.peek = 1; break;
		case OPT_ACK: ack = 1; break;
		case OPT_RELEASE: release = 1; break;
		case OPT_ENDPOINT: oo.endpoint_url = optarg; break;
		default:
			if (!cli_common_opt(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (optind >= argc)
		cli_usage_error("missing QUEUE");
	if (ack + release + r.peek + (r.lease_ms >= 0) > 1)
		cli_usage_error("--ack, --release, --peek and --lease exclude each other");
	if (r.peek && r.follow)
		cli_usage_error("--peek and --follow exclude each other");
	if (!ack && !release && optind + 1 < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind + 1]);
	if (r.lease_ms >= 0)
		r.envelope = 1;

	sig_catch_stop();
	struct ev_err e;
	if (q_open_with(argv[optind], Q_OPEN, NULL, &oo, &r.q, &e) != 0)
		msg_die_err(&e);
	struct stat st;
	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		r.reader = S_ISSOCK(st.st_mode) ? 2 : 1;
	r.window = 1;
	r.batch = xcalloc(BATCH, sizeof *r.batch);
	r.ends = xcalloc(BATCH, sizeof *r.ends);
	r.handles = xcalloc(BATCH, sizeof *r.handles);
	out_init(cli.line_buffered);

	int status;
	if (ack || release) {
		status = ack_loop(&r, argv + optind + 1, argc - optind - 1, release);
	} else {
		if (r.peek)
			peek_loop(&r);
		else
			receive_loop(&r);
		status = r.printed > 0 ? EV_OK : EV_NONE;
	}
	q_close(r.q);
	free(r.batch);
	free(r.ends);
	for (size_t i = 0; i < BATCH; i++)
		free(r.handles[i]);
	free(r.handles);
	buf_free(&r.env);
	msg_close_or_die();
	sig_reraise();
	return status;
}
