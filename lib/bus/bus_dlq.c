/* bus_dlq — how each delivery ends.  A failure goes to the target's dead
 * letter with what EventBridge's dead letters carry (RULE_ARN,
 * TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
 * RETRY_ATTEMPTS) and, from an exec: target, the tail of its stderr
 * (STDERR_TAIL); and every failure goes to the fail hook, so that the
 * command reports it.  Nothing is dropped silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_int.h"
#include "core/alloc.h"
#include "core/msg.h"
#include "dlq/dlq.h"

void
bus_item_tail(struct bus_item *it, const char *p, size_t n)
{
	free(it->tail);
	it->tail = n > 0 ? xmemdup(p, n) : NULL;
	it->tailn = n;
}

static void
settled(struct tgt_run *r, struct bus_item *it, enum bus_outcome o)
{
	free(it->tail);
	it->tail = NULL;
	it->tailn = 0;
	if (r->hooks->settled != NULL)
		r->hooks->settled(r->hooks->ctx, r->t, it->tag, o);
}

void
bus_done(struct tgt_run *r, struct bus_item *it)
{
	r->count.delivered++;
	if (r->hooks->settled != NULL) {
		pthread_mutex_lock(&bus_stdout_mu);
		settled(r, it, BUS_DELIVERED);
		pthread_mutex_unlock(&bus_stdout_mu);
	} else {
		settled(r, it, BUS_DELIVERED);
	}
}

/* The letter: the event as it was read, the rest as attributes. */
static int
to_dead_letter(struct tgt_run *r, const struct bus_item *it, const char *exhausted,
    struct ev_err *e)
{
	struct dlq_attr a[8];
	char retries[16], tail[BUS_TAIL + 1];
	int n = 0;

	snprintf(retries, sizeof retries, "%d", it->retries);
	a[n++] = (struct dlq_attr){ "RULE_ARN", r->t->rule->arn, 0 };
	a[n++] = (struct dlq_attr){ "TARGET_ARN", r->t->uri, 0 };
	a[n++] = (struct dlq_attr){ "TARGET_ID", r->t->id, 0 };
	a[n++] = (struct dlq_attr){ "ERROR_CODE", it->code, 0 };
	a[n++] = (struct dlq_attr){ "ERROR_MESSAGE", it->why, 0 };
	if (exhausted != NULL)
		a[n++] = (struct dlq_attr){ "EXHAUSTED_RETRY_CONDITION", exhausted, 0 };
	a[n++] = (struct dlq_attr){ "RETRY_ATTEMPTS", retries, 1 };
	if (it->tailn > 0) {
		/* A NUL in the child's output would end the attribute early:
		 * what follows it is still there, as a space. */
		for (size_t i = 0; i < it->tailn; i++)
			tail[i] = it->tail[i] != '\0' ? it->tail[i] : ' ';
		tail[it->tailn] = '\0';
		a[n++] = (struct dlq_attr){ "STDERR_TAIL", tail, 0 };
	}
	return dlq_put(r->dl, it->event, it->en, a, n, e);
}

void
bus_settle(struct tgt_run *r, struct bus_item *it, const char *exhausted)
{
	struct ev_err e = { 0 };
	enum bus_outcome o = BUS_UNDELIVERED;

	if (it->kind == BUS_FAILED) {
		it->code = "TRANSFORMATION_ERROR";
		snprintf(it->why, sizeof it->why, "%.*s", (int)it->n, it->payload);
	}
	r->count.failed++;
	if (r->dl != NULL && to_dead_letter(r, it, exhausted, &e) == 0) {
		r->count.dead_lettered++;
		o = BUS_DEAD_LETTERED;
	} else if (r->dl != NULL) {
		r->count.dl_failed++;
	} else {
		r->count.undelivered++;
		if (strcmp(it->code, "IO_ERROR") == 0)
			r->count.io_failed++;
	}
	struct bus_fail f = { r->t, it->code, it->why, exhausted, it->retries, it->tail,
	    it->tailn, o == BUS_DEAD_LETTERED ? r->t->dead_letter : NULL,
	    r->dl != NULL && o != BUS_DEAD_LETTERED ? e.msg : NULL, it->event, it->en,
	    it->errnum };
	pthread_mutex_lock(&bus_stdout_mu);
	if (r->hooks->fail != NULL)
		r->hooks->fail(r->hooks->ctx, &f);
	settled(r, it, o);
	pthread_mutex_unlock(&bus_stdout_mu);
}
