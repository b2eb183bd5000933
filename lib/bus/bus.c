/* bus — per-target threads, bounded FIFOs and the retry loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus_int.h"
#include "core/alloc.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/names.h"
#include "core/sig.h"
#include "aws/aws.h"
#include "dlq/dlq.h"
#include "evlog/evlog.h"
#include "http/http.h"
#include "queue/queue.h"
#include "shape.h"

pthread_mutex_t bus_stdout_mu = PTHREAD_MUTEX_INITIALIZER;

struct bus {
	struct tgt_run *runs;
	size_t nruns;
	struct bus_hooks hooks;
};

int64_t
bus_backoff(const struct tgt_run *r, int retry)
{
	return backoff_ms(r->backoff_base, BUS_BACKOFF_CAP_MS, retry);
}

const char *
bus_exhausted(const struct tgt_run *r, const struct bus_item *it, int64_t wait)
{
	if (it->retries >= r->t->attempts)
		return "MaximumRetryAttempts";
	if (clock_mono_ms() + wait - it->read_mono > r->t->max_age_ms)
		return "MaximumEventAgeInSeconds";
	return NULL;
}

/* Sleeps ms, or less when a stop is asked (then no more retries). */
static void
sleep_ms(int64_t ms)
{
	int64_t end = clock_mono_ms() + ms;

	for (int64_t now; !sig_stop && (now = clock_mono_ms()) < end;) {
		int64_t step = end - now < 100 ? end - now : 100;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Retries what the last attempt left ITEM_RETRY until it goes through or
 * the target's retry policy runs out; settles every item. */
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
			if (left[i]->state == ITEM_DONE)
				bus_done(r, left[i]);
			else if (left[i]->state == ITEM_FINAL)
				bus_settle(r, left[i], NULL);
			else
				left[k++] = left[i];
		}
		if ((nl = k) == 0)
			break;
		int64_t wait = bus_backoff(r, retry);
		const char *out = bus_exhausted(r, left[0], wait);
		if (out != NULL || sig_stop) {
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
		r->busy = 0;
		if (r->queued == 0)
			pthread_cond_broadcast(&r->idle);
		while (r->queued == 0 && !r->closed)
			pthread_cond_wait(&r->more, &r->mu);
		struct bus_batch *bt = NULL;
		if (r->queued > 0) {
			bt = r->ring[r->head];
			r->head = (r->head + 1) % BUS_FIFO;
			r->queued--;
			r->busy = 1;
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

int
bus_open_log(const char *arg, struct elog **out, struct elog_batch **batch, struct ev_err *e)
{
	struct elog_opts o = { .create = 1, .fsync = ELOG_FSYNC_BATCH };
	char *dir;
	int rc = name_resolve(arg, "log", "", 0, &dir, e);

	*out = NULL;
	if (rc != 0)
		return rc;
	rc = elog_open(dir, &o, out, e);

	free(dir);
	if (rc != EV_OK)
		return rc;	/* *out is NULL */
	*batch = elog_batch_new();
	return 0;
}

/* The target's own resource and its dead letter; queues and logs are
 * created when missing, as evq-send and evlog-append do. */
static int
open_target(struct tgt_run *r, int inherit_env, struct ev_err *e)
{
	const struct target *t = r->t;
	int rc = 0;

	r->fd = -1;
	switch (t->kind) {
	case TGT_EXEC:
		proc_env_init(&r->env, inherit_env);
		for (char **v = t->env; v != NULL && *v != NULL; v++)
			proc_env_put(&r->env, *v);
		break;
	case TGT_FILE:
		r->fd = open(t->arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (r->fd < 0)
			rc = err_sys(e, EV_IOERR, "cannot open '%s'", t->arg);
		break;
	case TGT_QUEUE:
		rc = q_open(t->arg, Q_CREATE, NULL, &r->q, e);
		break;
	case TGT_LOG:
		rc = bus_open_log(t->arg, &r->log, &r->lb, e);
		break;
	case TGT_EVENTS:
		rc = aws_events_open(t->arg, NULL, &r->ev, e);
		break;
	case TGT_HTTP:
		rc = http_open(t->http, &r->http, e);
		break;
	default:
		break;
	}
	if (rc == 0 && t->dead_letter != NULL)
		rc = dlq_open(t->dead_letter, &r->dl, e);
	if (rc != 0)
		err_wrap(e, "rule '%s' target '%s'", t->rule->name, t->id);
	return rc;
}

/* Closes what open_target opened; the first failure goes to r->err. */
static void
close_target(struct tgt_run *r)
{
	struct ev_err e = { 0 };

	if (r->fd >= 0 && close(r->fd) != 0 && r->err.code == 0)
		err_sys(&r->err, EV_IOERR, "rule '%s' target '%s': close '%s'",
		    r->t->rule->name, r->t->id, r->t->arg);
	if (r->q != NULL)
		q_close(r->q);
	if (r->log != NULL)
		elog_close(r->log);
	if (r->lb != NULL)
		elog_batch_free(r->lb);
	aws_events_close(r->ev);
	http_close(r->http);
	if (dlq_close(r->dl, &e) != 0 && r->err.code == 0)
		r->err = e;
	while (r->nspare > 0)
		batch_free(r->spare[--r->nspare]);
	proc_env_free(&r->env);
}

static void
free_runs(struct bus *b, size_t opened)
{
	for (size_t i = 0; i < opened; i++)
		close_target(&b->runs[i]);
	free(b->runs);
	free(b);
}

static void
start_threads(struct bus *b)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < b->nruns; i++) {
		struct tgt_run *r = &b->runs[i];
		pthread_mutex_init(&r->mu, NULL);
		pthread_cond_init(&r->more, NULL);
		pthread_cond_init(&r->room, NULL);
		pthread_cond_init(&r->idle, NULL);
		if (pthread_create(&r->th, NULL, worker, r) != 0)
			die_oom();	/* no thread: out of memory, as EAGAIN is */
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int
bus_open(struct rules *rs, const struct bus_hooks *h, struct bus **out, struct ev_err *e)
{
	static const struct bus_hooks none;
	struct bus *b = xcalloc(1, sizeof *b);
	int64_t base = backoff_base("EVBUS_RETRY_BASE_MS", BUS_BACKOFF_MS);
	size_t n = 0;

	*out = NULL;
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i].enabled)
			n += (size_t)rs->rules[i].ntargets;
	b->runs = xcalloc(n + 1, sizeof *b->runs);
	b->hooks = h != NULL ? *h : none;
	for (int i = 0; i < rs->nrules; i++) {
		if (!rs->rules[i].enabled)
			continue;
		for (int j = 0; j < rs->rules[i].ntargets; j++) {
			struct tgt_run *r = &b->runs[b->nruns];
			rs->rules[i].targets[j].slot = b->nruns;
			r->t = &rs->rules[i].targets[j];
			r->hooks = &b->hooks;
			r->backoff_base = base;
			int rc = open_target(r, rs->inherit_env, e);
			if (rc != 0) {
				free_runs(b, b->nruns);
				return rc;
			}
			b->nruns++;
		}
	}
	start_threads(b);
	*out = b;
	return 0;
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
	while (r->queued == BUS_FIFO)
		pthread_cond_wait(&r->room, &r->mu);
	r->ring[(r->head + r->queued) % BUS_FIFO] = bt;
	r->queued++;
	pthread_cond_signal(&r->more);
	pthread_mutex_unlock(&r->mu);
}

/* r's batch being filled, a spare one or a new one. */
static struct bus_batch *
filling(struct tgt_run *r)
{
	struct bus_batch *bt = r->filling;

	if (bt != NULL)
		return bt;
	pthread_mutex_lock(&r->mu);
	if (r->nspare > 0)
		bt = r->spare[--r->nspare];
	pthread_mutex_unlock(&r->mu);
	if (bt == NULL) {
		bt = xcalloc(1, sizeof *bt);
		buf_grow(&bt->data, BUS_BATCH_BYTES + 4096);
	}
	return r->filling = bt;
}

void
bus_push(struct bus *b, const struct target *t, int kind, const char *p, size_t n,
    const char *ev, size_t en, int64_t read_ms, uint64_t tag)
{
	struct tgt_run *r = &b->runs[t->slot];
	struct bus_batch *bt = filling(r);

	XGROW(&bt->items, &bt->cap, bt->n + 1);
	struct bus_item *it = &bt->items[bt->n++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->n = n;
	it->en = en;
	it->tag = tag;
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

void
bus_sync(struct bus *b)
{
	bus_flush(b);
	for (size_t i = 0; i < b->nruns; i++) {
		struct tgt_run *r = &b->runs[i];
		pthread_mutex_lock(&r->mu);
		while (r->queued > 0 || r->busy)
			pthread_cond_wait(&r->idle, &r->mu);
		pthread_mutex_unlock(&r->mu);
	}
}

/* Adds r's tally to the bus's status and reports it. */
static int
tally(struct bus *b, struct tgt_run *r, int status, struct ev_err *e)
{
	const struct bus_count *c = &r->count;

	if (c->failed > 0 && b->hooks.summary != NULL)
		b->hooks.summary(b->hooks.ctx, r->t, c);
	if (r->err.code != 0 && (status == 0 || status == EV_UNAVAILABLE)) {
		*e = r->err;
		return r->err.code;
	}
	if (c->dl_failed > 0 || c->io_failed > 0)
		return status == 0 || status == EV_UNAVAILABLE ? EV_IOERR : status;
	if (c->undelivered > 0 && status == 0)
		return EV_UNAVAILABLE;
	return status;
}

int
bus_close(struct bus *b, struct ev_err *e)
{
	int status = 0;

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
		status = tally(b, r, status, e);
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->more);
		pthread_cond_destroy(&r->room);
		pthread_cond_destroy(&r->idle);
	}
	free(b->runs);
	free(b);
	return status;
}
