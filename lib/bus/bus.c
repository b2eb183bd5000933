/* bus — per-target threads, bounded FIFOs and the retry loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus_int.h"
#include "core/clock.h"
#include "evlog/evlog.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/names.h"
#include "queue/queue.h"
#include "shape.h"

pthread_mutex_t bus_stdout_mu = PTHREAD_MUTEX_INITIALIZER;

struct bus {
	struct tgt_run *runs;
	size_t nruns;
};

static int64_t base_ms = -1;

/* Read once, before the threads start. */
static void
backoff_init(void)
{
	const char *e = getenv("EVBUS_RETRY_BASE_MS");

	base_ms = 1000;
	if (e != NULL && *e != '\0')
		base_ms = strtoll(e, NULL, 10);
	if (base_ms < 0)
		base_ms = 0;
}

int64_t
bus_backoff_ms(int retry)
{
	if (base_ms < 0)
		backoff_init();
	int64_t cap = base_ms;
	for (int i = 0; i < retry && cap < 60000; i++)
		cap *= 2;
	if (cap > 60000)
		cap = 60000;
	return cap > 0 ? (int64_t)(rand64() % (uint64_t)(cap + 1)) : 0;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Retries what the last attempt left ITEM_RETRY until it goes through or
 * the target's retry policy runs out; settles every failure. */
static void
deliver(struct tgt_run *r, struct bus_item **items, size_t n)
{
	struct bus_item *left[BUS_BATCH];
	size_t nl = 0;

	for (size_t i = 0; i < n; i++) {
		if (items[i]->kind == BUS_FAILED)
			bus_settle(r, items[i], NULL);
		else
			left[nl++] = items[i];
	}
	for (int retry = 0; nl > 0; retry++) {
		bus_send_batch(r, left, nl);
		size_t k = 0;
		for (size_t i = 0; i < nl; i++) {
			if (left[i]->state == ITEM_FINAL)
				bus_settle(r, left[i], NULL);
			else if (left[i]->state == ITEM_RETRY)
				left[k++] = left[i];
		}
		nl = k;
		if (nl == 0)
			break;
		int64_t wait = bus_backoff_ms(retry);
		const char *out = NULL;
		if (retry >= r->t->attempts)
			out = "MaximumRetryAttempts";
		else if (clock_mono_ms() + wait - left[0]->read_mono > r->t->max_age_ms)
			out = "MaximumEventAgeInSeconds";
		if (out != NULL) {
			for (size_t i = 0; i < nl; i++)
				bus_settle(r, left[i], out);
			break;
		}
		sleep_ms(wait);
		for (size_t i = 0; i < nl; i++) {
			left[i]->retries++;
			left[i]->state = ITEM_PENDING;
		}
	}
}

static void
batch_free(struct bus_batch *bt)
{
	buf_free(&bt->data);
	free(bt->items);
	free(bt);
}

static void *
worker(void *arg)
{
	struct tgt_run *r = arg;
	struct bus_item *items[BUS_BATCH];

	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->count == 0 && !r->closed)
			pthread_cond_wait(&r->more, &r->mu);
		struct bus_batch *bt = NULL;
		if (r->count > 0) {
			bt = r->ring[r->head];
			r->head = (r->head + 1) % BUS_FIFO;
			r->count--;
			pthread_cond_signal(&r->room);
		}
		pthread_mutex_unlock(&r->mu);
		if (bt == NULL)
			return NULL;
		for (size_t i = 0; i < bt->n; i++)
			items[i] = &bt->items[i];
		if (r->t->kind == TGT_EXEC)
			bus_exec(r, items, bt->n);
		else
			deliver(r, items, bt->n);
		/* Kept for the reader: a fresh megabyte each time would cost
		 * more in page faults than the delivery itself. */
		bt->n = 0;
		buf_reset(&bt->data);
		pthread_mutex_lock(&r->mu);
		if (r->nspare < BUS_FIFO) {
			r->spare[r->nspare++] = bt;
			bt = NULL;
		}
		pthread_mutex_unlock(&r->mu);
		if (bt != NULL)
			batch_free(bt);
	}
}

/* The target's own resource; queues and logs are created when missing,
 * as evq-send and evlog-append do. */
static void
open_target(struct tgt_run *r)
{
	const struct target *t = r->t;

	r->fd = r->dl_fd = -1;
	switch (t->kind) {
	case TGT_FILE:
		r->fd = open(t->arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (r->fd < 0)
			msg_die_sys(EV_IOERR, "rule %s, target %s: cannot open '%s'",
			    t->rule->name, t->id, t->arg);
		break;
	case TGT_QUEUE: {
		struct ev_err e;
		if (q_open(t->arg, Q_CREATE, NULL, &r->q, &e) != 0)
			msg_die(e.code, "rule %s, target %s: %s", t->rule->name, t->id, e.msg);
		break;
	}
	case TGT_LOG: {
		struct elog_opts o = { .create = 1, .fsync = ELOG_FSYNC_BATCH };
		char *dir;
		struct ev_err e;
		if (name_resolve(t->arg, "log", "", 0, &dir, &e) != 0)
			msg_die_err(&e);
		int rc = elog_open(dir, &o, &r->log);
		free(dir);
		if (rc != EV_OK)
			msg_die(rc, "rule %s, target %s: %s", t->rule->name, t->id,
			    elog_error(r->log));
		r->lb = elog_batch_new();
		break;
	}
	default:
		break;
	}
	bus_dlq_open(r);
}

static void
close_target(struct tgt_run *r)
{
	if (r->fd >= 0 && close(r->fd) != 0) {
		msg_warn_sys("rule %s, target %s: close", r->t->rule->name, r->t->id);
		r->dl_failed++;
	}
	if (r->q != NULL)
		q_close(r->q);
	if (r->log != NULL)
		elog_close(r->log);
	if (r->lb != NULL)
		elog_batch_free(r->lb);
	bus_dlq_close(r);
	while (r->nspare > 0)
		batch_free(r->spare[--r->nspare]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->more);
	pthread_cond_destroy(&r->room);
}

struct bus *
bus_open(struct rules *rs)
{
	struct bus *b = calloc(1, sizeof *b);
	size_t n = 0;

	if (b == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i].enabled)
			n += (size_t)rs->rules[i].ntargets;
	b->runs = calloc(n + 1, sizeof *b->runs);
	if (b->runs == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	for (int i = 0; i < rs->nrules; i++) {
		if (!rs->rules[i].enabled)
			continue;
		for (int j = 0; j < rs->rules[i].ntargets; j++) {
			struct tgt_run *r = &b->runs[b->nruns];
			rs->rules[i].targets[j].slot = b->nruns;
			r->t = &rs->rules[i].targets[j];
			b->nruns++;
			open_target(r);
		}
	}
	backoff_init();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < b->nruns; i++) {
		struct tgt_run *r = &b->runs[i];
		pthread_mutex_init(&r->mu, NULL);
		pthread_cond_init(&r->more, NULL);
		pthread_cond_init(&r->room, NULL);
		if (pthread_create(&r->th, NULL, worker, r) != 0)
			msg_die(EV_SOFTWARE, "cannot start a delivery thread");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return b;
}

/* Hands r's filling batch to its thread, waiting while the FIFO is full. */
static void
hand_over(struct tgt_run *r)
{
	struct bus_batch *bt = r->filling;

	if (bt == NULL)
		return;
	r->filling = NULL;
	for (size_t i = 0; i < bt->n; i++) {
		bt->items[i].payload = bt->data.p + bt->items[i].poff;
		bt->items[i].event = bt->data.p + bt->items[i].eoff;
	}
	pthread_mutex_lock(&r->mu);
	while (r->count == BUS_FIFO)
		pthread_cond_wait(&r->room, &r->mu);
	r->ring[(r->head + r->count) % BUS_FIFO] = bt;
	r->count++;
	pthread_cond_signal(&r->more);
	pthread_mutex_unlock(&r->mu);
}

void
bus_push(struct bus *b, const struct target *t, int kind, const char *p, size_t n,
    const char *ev, size_t en, int64_t read_ms)
{
	struct tgt_run *r = &b->runs[t->slot];
	struct bus_batch *bt = r->filling;

	if (bt == NULL) {
		pthread_mutex_lock(&r->mu);
		if (r->nspare > 0)
			bt = r->spare[--r->nspare];
		pthread_mutex_unlock(&r->mu);
		if (bt == NULL) {
			if ((bt = calloc(1, sizeof *bt)) == NULL)
				msg_die(EV_SOFTWARE, "out of memory");
			buf_grow(&bt->data, BUS_BATCH_BYTES + 4096);
		}
		r->filling = bt;
	}
	if (bt->n == bt->cap) {
		bt->cap = bt->cap == 0 ? BUS_BATCH : bt->cap * 2;
		if ((bt->items = realloc(bt->items, bt->cap * sizeof *bt->items)) == NULL)
			msg_die(EV_SOFTWARE, "out of memory");
	}
	struct bus_item *it = &bt->items[bt->n++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->n = n;
	it->en = en;
	it->poff = bt->data.n;
	if (kind == SHAPE_TEXT && (t->kind == TGT_STDOUT || t->kind == TGT_FILE ||
	    t->kind == TGT_LOG)) {
		/* Line targets stay NDJSON: text goes as a JSON string. */
		json_add_string(&bt->data, p, n);
		it->kind = SHAPE_JSON;
		it->n = bt->data.n - it->poff;
	} else {
		buf_add(&bt->data, p, n);
	}
	buf_addc(&bt->data, '\n');
	it->eoff = it->poff;
	if (ev != p) {
		it->eoff = bt->data.n;
		buf_add(&bt->data, ev, en);
		buf_addc(&bt->data, '\0');
	}
	it->read_ms = read_ms;
	it->read_mono = clock_mono_ms();
	if (bt->n == BUS_BATCH || bt->data.n >= BUS_BATCH_BYTES)
		hand_over(r);
}

void
bus_flush(struct bus *b)
{
	for (size_t i = 0; i < b->nruns; i++)
		hand_over(&b->runs[i]);
}

int
bus_close(struct bus *b)
{
	long undelivered = 0, dl_failed = 0;

	bus_flush(b);
	for (size_t i = 0; i < b->nruns; i++) {
		struct tgt_run *r = &b->runs[i];
		pthread_mutex_lock(&r->mu);
		r->closed = 1;
		pthread_cond_signal(&r->more);
		pthread_mutex_unlock(&r->mu);
	}
	for (size_t i = 0; i < b->nruns; i++) {
		struct tgt_run *r = &b->runs[i];
		pthread_join(r->th, NULL);
		close_target(r);
		undelivered += r->undelivered;
		dl_failed += r->dl_failed;
	}
	free(b->runs);
	free(b);
	if (dl_failed > 0)
		return EV_IOERR;
	return undelivered > 0 ? EV_UNAVAILABLE : EV_OK;
}
