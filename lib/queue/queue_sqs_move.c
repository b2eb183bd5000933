/* queue_sqs_move — `evq-ctl redrive` on a remote dead-letter queue:
 * StartMessageMoveTask, or where the server answers InvalidAction
 * (fauxqs) a move by hand that neither loses nor duplicates in a run:
 * each message is received (leased for MOVE_LEASE_S), sent to its
 * destination (any queue q_open takes, local or remote), and deleted
 * from the dead-letter queue only after the send succeeded.
 *
 * A crash between the send and the delete leaves the message in both
 * queues: its lease runs out, it is visible again in the dead-letter
 * queue, and a second redrive sends it again — a duplicate, never a loss
 * (into a FIFO queue the second send carries the same deduplication id,
 * the source's MessageId, so within SQS's 5 minutes it is dropped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue_int.h"

enum { MOVE_LEASE_S = 60 };

struct mover {
	struct queue *q, *d;
	char *d_ref;		/* what d was opened from */
	const char *dest;
	long moved, kept;
};

/* "arn:aws:sqs:REGION:ACCOUNT:NAME" → "sqs://REGION/ACCOUNT/NAME". */
static char *
arn_uri(const char *arn)
{
	char region[64], account[64], name[256];

	if (sscanf(arn, "arn:aws:sqs:%63[^:]:%63[^:]:%255s", region, account, name) != 3)
		return NULL;
	size_t n = strlen(region) + strlen(account) + strlen(name) + 16;
	char *s = xmalloc(n);
	snprintf(s, n, "sqs://%s/%s/%s", region, account, name);
	return s;
}

/* The queue m goes to, opened (cached in mv->d); 1 if it names none. */
static int
target(struct mover *mv, const struct aws_sqs_msg *m, struct ev_err *e)
{
	struct buf b = { 0 };
	char *ref = NULL;

	if (mv->dest != NULL)
		ref = xstrdup(mv->dest);
	else if (qsqs_jstr(m->attrs, m->attrs ? strlen(m->attrs) : 0, "DeadLetterQueueSourceArn", &b))
		ref = arn_uri(b.p);
	buf_free(&b);
	if (ref == NULL)
		return 1;
	if (mv->d != NULL && strcmp(ref, mv->d_ref) == 0) {
		free(ref);
		return 0;
	}
	q_close(mv->d);
	free(mv->d_ref);
	mv->d = NULL;
	mv->d_ref = ref;
	struct q_open_opts o = { .endpoint_url = mv->q->rs->endpoint_url };
	int rc = q_open_with(ref, Q_OPEN, NULL, &o, &mv->d, e);
	if (rc == 0 && strcmp(q_arn(mv->d), mv->q->arn) == 0 && q_is_remote(mv->d))
		rc = err_set(e, EV_USAGE, "queue '%s': cannot redrive a queue into itself",
		    mv->q->name);
	return rc;
}

/* Sends m to mv->d, then deletes it from the dead-letter queue. */
static int
move_one(struct mover *mv, const struct aws_sqs_msg *m, struct ev_err *e)
{
	struct buf group = { 0 }, dedup = { 0 }, la = { 0 };
	size_t an = m->attrs != NULL ? strlen(m->attrs) : 0;
	struct q_sent sent;
	int fifo = q_attrs(mv->d)->fifo, rc = 0;

	if (fifo && !qsqs_jstr(m->attrs, an, "MessageGroupId", &group))
		buf_adds(&group, "redrive");
	if (fifo && !qsqs_jstr(m->attrs, an, "MessageDeduplicationId", &dedup))
		buf_adds(&dedup, m->id);
	if (m->msg_attrs != NULL)
		rc = aws_sqs_attrs_to_lambda(m->msg_attrs, &la, e);
	struct q_out o = { .body = m->body, .len = m->len, .delay_ms = -1,
	    .group = fifo ? group.p : NULL, .dedup = fifo ? dedup.p : NULL,
	    .attrs = m->msg_attrs != NULL ? la.p : NULL, .attrs_md5 = m->msg_attrs_md5 };
	if (rc == 0 && (rc = q_send_begin(mv->d, e)) == 0 &&
	    (rc = q_send_add(mv->d, &o, &sent, e)) == 0)
		rc = q_send_commit(mv->d, e);
	if (rc == 0 && sent.refused != NULL)
		rc = err_set(e, EV_DATAERR, "queue '%s': %s", q_name(mv->d), sent.refused);
	if (rc != 0)
		q_send_rollback(mv->d);
	struct aws_sqs_ack k = { .receipt = m->receipt };
	if (rc == 0)
		rc = aws_sqs_delete(mv->q->rs->s, &k, 1, e);
	buf_free(&group);
	buf_free(&dedup);
	buf_free(&la);
	return rc;
}

static int
move_by_hand(struct mover *mv, struct ev_err *e)
{
	struct aws_sqs_recv r = { .max = AWS_SQS_BATCH, .visibility_s = MOVE_LEASE_S, .wait_s = 0 };
	struct aws_sqs_msg *m;
	size_t n;
	int rc;

	/* What is kept stays leased for MOVE_LEASE_S: the loop ends when a
	 * receive finds nothing else. */
	while ((rc = aws_sqs_receive(mv->q->rs->s, &r, &m, &n, e)) == 0 && n > 0) {
		for (size_t i = 0; i < n && rc == 0; i++) {
			int t = target(mv, &m[i], e);
			if (t == 1)
				mv->kept++;
			else if ((rc = t) == 0 && (rc = move_one(mv, &m[i], e)) == 0)
				mv->moved++;
		}
		aws_sqs_msgs_free(m, n);
		if (rc != 0)
			break;
	}
	return rc;
}

int
qsqs_redrive(struct queue *q, const char *dest, long *moved, long *kept, struct ev_err *e)
{
	struct mover mv = { .q = q, .dest = dest };
	struct buf arn = { 0 }, task = { 0 };
	struct aws_uri u;
	struct q_stat st;
	int rc = 0;

	*moved = *kept = 0;
	if (dest == NULL || aws_is_uri(dest)) {
		if (dest != NULL && (rc = aws_uri_parse(dest, &u, e)) == 0) {
			buf_printf(&arn, "arn:aws:sqs:%s:%s:%s", u.region[0] ? u.region :
			    aws_sqs_region(q->rs->s), u.account, u.name);
			aws_uri_free(&u);
		}
		if (rc == 0 && dest != NULL && strcmp(arn.p, q->arn) == 0)
			rc = err_set(e, EV_USAGE, "queue '%s': cannot redrive a queue into itself",
			    q->name);
		if (rc == EV_USAGE) {
			buf_free(&arn);
			return rc;
		}
		if (rc == 0)
			rc = qsqs_stat(q, &st, e);
		if (rc == 0 && (rc = aws_sqs_move(q->rs->s, dest != NULL ? arn.p : NULL, 0, &task,
		    e)) == 0)
			*moved = st.visible;
	}
	buf_free(&arn);
	buf_free(&task);
	if (dest == NULL || aws_is_uri(dest)) {
		if (rc != EV_DATAERR || strstr(e->msg, "InvalidAction") == NULL)
			return rc;
	}
	rc = move_by_hand(&mv, e);
	q_close(mv.d);
	free(mv.d_ref);
	*moved = mv.moved;
	*kept = mv.kept;
	return rc != 0 ? err_wrap(e, "queue '%s': redrive", q->name) : 0;
}
