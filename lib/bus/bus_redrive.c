/* bus_redrive — dead letters back to where they failed: each message of
 * a queue: dead letter goes to the one rule and target its RULE_ARN and
 * TARGET_ID attributes name, and only there; it leaves the queue once
 * that delivery succeeded or reached the target's dead letter again, and
 * stays (visible at once) otherwise. */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "bus_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "queue/queue.h"

/* Messages leased at once, and for how long: a redrive killed midway
 * leaves them invisible that long, then they are dead letters again; a
 * delivery that outlasts it may be redriven twice (at least once, as
 * SQS). */
enum { REDRIVE_BATCH = 64 };
static const int64_t REDRIVE_LEASE_MS = 15 * 60 * 1000LL;

struct redrive {
	const struct bus_hooks *user;
	unsigned char outcome[REDRIVE_BATCH];	/* enum bus_outcome, or 255: none yet */
};

static void
on_fail(void *ctx, const struct bus_fail *f)
{
	struct redrive *rd = ctx;

	if (rd->user->fail != NULL)
		rd->user->fail(rd->user->ctx, f);
}

static void
on_settled(void *ctx, const struct target *t, uint64_t tag, enum bus_outcome o)
{
	struct redrive *rd = ctx;

	(void)t;
	rd->outcome[tag] = (unsigned char)o;
}

static void
on_summary(void *ctx, const struct target *t, const struct bus_count *c)
{
	struct redrive *rd = ctx;

	if (rd->user->summary != NULL)
		rd->user->summary(rd->user->ctx, t, c);
}

/* The string value of message attribute name in the messageAttributes
 * JSON a (malloc'd), or NULL. */
static char *
attr(const char *a, const char *name)
{
	if (a == NULL)
		return NULL;
	jv v = jv_parse(a);
	jv s = jv_getpath(v, JV_ARRAY(jv_string(name), jv_string("stringValue")));
	char *r = jv_get_kind(s) == JV_KIND_STRING ? xstrdup(jv_string_value(s)) : NULL;

	jv_free(s);
	return r;
}

static const struct rule *
find_rule(const struct rules *rs, const char *arn)
{
	for (int i = 0; i < rs->nrules; i++)
		if (strcmp(rs->rules[i].arn, arn) == 0)
			return &rs->rules[i];
	return NULL;
}

/* The enabled rule's target a dead letter names, or NULL with *why. */
static const struct target *
find_target(const struct rules *rs, const struct q_msg *m, const char **why)
{
	char *arn = attr(m->attrs, "RULE_ARN"), *id = attr(m->attrs, "TARGET_ID");
	const struct rule *r = arn != NULL ? find_rule(rs, arn) : NULL;
	const struct target *t = NULL;

	if (arn == NULL || id == NULL)
		*why = "no RULE_ARN and TARGET_ID attributes: not a bus dead letter";
	else if (r == NULL)
		*why = "its rule is not in the rules file";
	else if (!r->enabled)
		*why = "its rule is DISABLED";
	for (int j = 0; r != NULL && r->enabled && id != NULL && j < r->ntargets; j++)
		if (strcmp(r->targets[j].id, id) == 0)
			t = &r->targets[j];
	if (t == NULL && r != NULL && r->enabled && id != NULL)
		*why = "its target is not in the rule";
	free(arn);
	free(id);
	return t;
}

/* The rowid of the last message visible now: the redrive stops there, so
 * that what fails again into this same queue is not taken up again. */
static int
last_rowid(struct queue *q, int64_t *last, struct ev_err *e)
{
	struct q_msg m[REDRIVE_BATCH];
	size_t n;
	int rc;

	*last = 0;
	while ((rc = q_peek(q, *last, REDRIVE_BATCH, m, &n, e)) == 0 && n > 0)
		*last = m[n - 1].rowid;
	return rc;
}

/* One leased batch: route, wait, then delete or release each message. */
static int
redrive_batch(struct bus *b, const struct rules *rs, struct redrive *rd, struct queue *q,
    struct q_msg *m, size_t n, struct bus_redrive_stat *st, struct ev_err *e)
{
	const char *why = NULL;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct target *t = find_target(rs, &m[i], &why);
		rd->outcome[i] = 255;
		if (t == NULL) {
			st->skipped++;
			if (rd->user->note != NULL)
				rd->user->note(rd->user->ctx, m[i].id, why);
		} else if (!bus_route_to(b, t, m[i].body, m[i].len, m[i].sent_ms, i)) {
			rd->outcome[i] = BUS_DELIVERED;
		}
	}
	bus_sync(b);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (rd->outcome[i] == BUS_DELIVERED || rd->outcome[i] == BUS_DEAD_LETTERED) {
			st->redriven += rd->outcome[i] == BUS_DELIVERED;
			st->failed += rd->outcome[i] == BUS_DEAD_LETTERED;
			rc = q_delete(q, &m[i], 1, NULL, NULL, e);
		} else {
			st->failed += rd->outcome[i] != 255;
			rc = q_release(q, &m[i], 1, 0, 1, NULL, NULL, e);
		}
	}
	return rc;
}

int
bus_redrive(struct rules *rs, const char *dlq, const struct bus_hooks *h,
    struct bus_redrive_stat *st, struct ev_err *e)
{
	static const struct bus_hooks none;
	struct redrive rd = { h != NULL ? h : &none, { 0 } };
	struct bus_hooks mine = { on_fail, on_settled, on_summary, NULL, &rd };
	struct q_msg m[REDRIVE_BATCH];
	struct queue *q;
	struct bus *b;
	int64_t after = 0, last;
	size_t n;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = q_open(dlq, Q_OPEN, NULL, &q, e)) != 0)
		return rc;
	if ((rc = last_rowid(q, &last, e)) != 0 || (rc = bus_open(rs, &mine, &b, e)) != 0) {
		q_close(q);
		return rc;
	}
	while (rc == 0 && after < last &&
	    (rc = q_receive(q, after, REDRIVE_BATCH, REDRIVE_LEASE_MS, m, &n, e)) == 0 && n > 0) {
		size_t k = 0;
		while (k < n && m[k].rowid <= last)
			k++;
		if (k < n)	/* newer than the redrive: not ours */
			rc = q_release(q, m + k, n - k, 0, 1, NULL, NULL, e);
		after = m[n - 1].rowid;
		if (rc == 0)
			rc = redrive_batch(b, rs, &rd, q, m, k, st, e);
	}
	struct ev_err ce;
	int crc = bus_close(b, rc == 0 ? e : &ce);
	q_close(q);
	return rc != 0 ? rc : crc;
}
