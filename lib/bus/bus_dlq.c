/* bus_dlq — deliveries that failed for good: to the target's dead letter
 * with what EventBridge's dead letters carry (RULE_ARN, TARGET_ARN,
 * ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS),
 * or reported on stderr.  Nothing is dropped silently. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_int.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "queue/queue.h"

void
bus_dlq_open(struct tgt_run *r)
{
	const char *dl = r->t->dead_letter;

	r->dl_fd = -1;
	if (dl == NULL)
		return;
	if (strncmp(dl, "file:", 5) == 0) {
		r->dl_fd = open(dl + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (r->dl_fd < 0)
			msg_die_sys(EV_IOERR, "rule %s, target %s: dead letter '%s'",
			    r->t->rule->name, r->t->id, dl + 5);
	} else {
		struct ev_err e;
		if (q_open(dl + 6, Q_CREATE, NULL, &r->dl_q, &e) != 0)
			msg_die(e.code, "rule %s, target %s: dead letter: %s", r->t->rule->name,
			    r->t->id, e.msg);
	}
}

void
bus_dlq_close(struct tgt_run *r)
{
	if (r->dl_fd >= 0 && close(r->dl_fd) != 0) {
		msg_warn_sys("dead letter '%s'", r->t->dead_letter + 5);
		r->dl_failed++;
	}
	if (r->dl_q != NULL)
		q_close(r->dl_q);
}

static void
add_field(struct buf *b, const char *k, const char *v)
{
	buf_printf(b, ",\"%s\":", k);
	json_add_string(b, v, strlen(v));
}

/* file: — one JSON line: the attributes, then the event. */
static int
to_file(struct tgt_run *r, const struct bus_item *it, const char *exhausted)
{
	struct buf b = { 0 };
	char ts[25];
	int rc = 0;

	clock_rfc3339(clock_now_ms(), ts);
	buf_printf(&b, "{\"time\":\"%s\"", ts);
	add_field(&b, "RULE_ARN", r->t->rule->arn);
	add_field(&b, "TARGET_ARN", r->t->uri);
	add_field(&b, "TARGET_ID", r->t->id);
	add_field(&b, "ERROR_CODE", it->code);
	add_field(&b, "ERROR_MESSAGE", it->why);
	if (exhausted != NULL)
		add_field(&b, "EXHAUSTED_RETRY_CONDITION", exhausted);
	buf_printf(&b, ",\"RETRY_ATTEMPTS\":%d,\"event\":", it->retries);
	buf_add(&b, it->event, it->en);
	buf_adds(&b, "}\n");
	rc = buf_write_fd(&b, r->dl_fd);
	buf_free(&b);
	if (rc != 0)
		msg_error("rule %s, target %s: dead letter '%s': %s", r->t->rule->name,
		    r->t->id, r->t->dead_letter + 5, strerror(rc));
	return rc;
}

/* queue: — the event as the body, the rest as message attributes. */
static int
to_queue(struct tgt_run *r, const struct bus_item *it, const char *exhausted)
{
	struct buf a[7] = { { 0 } };
	char *specs[7], *json = NULL, md5[33];
	struct ev_err e;
	long size;
	int n = 0, rc = 0;

	buf_printf(&a[n++], "RULE_ARN=%s", r->t->rule->arn);
	buf_printf(&a[n++], "TARGET_ARN=%s", r->t->uri);
	buf_printf(&a[n++], "TARGET_ID=%s", r->t->id);
	buf_printf(&a[n++], "ERROR_CODE=%s", it->code);
	buf_printf(&a[n++], "ERROR_MESSAGE=%s", it->why[0] != '\0' ? it->why : "-");
	if (exhausted != NULL)
		buf_printf(&a[n++], "EXHAUSTED_RETRY_CONDITION=%s", exhausted);
	buf_printf(&a[n++], "RETRY_ATTEMPTS:Number=%d", it->retries);
	for (int i = 0; i < n; i++)
		specs[i] = a[i].p;
	rc = q_attrs_render(specs, n, &json, md5, &size, &e);
	if (rc == 0) {
		struct q_out m = { .body = it->event, .len = it->en, .delay_ms = -1,
		    .attrs = json, .attrs_md5 = md5 };
		struct q_sent sent;
		rc = q_send_add(r->dl_q, &m, &sent, &e);
		if (rc == 0 && sent.refused != NULL) {
			q_send_rollback(r->dl_q);
			rc = err_set(&e, EV_DATAERR, "%s", sent.refused);
		}
		if (rc == 0)
			rc = q_send_commit(r->dl_q, &e);
	}
	if (rc != 0)
		msg_error("rule %s, target %s: dead letter queue '%s': %s", r->t->rule->name,
		    r->t->id, q_name(r->dl_q), e.msg);
	free(json);
	for (int i = 0; i < n; i++)
		buf_free(&a[i]);
	return rc;
}

void
bus_settle(struct tgt_run *r, struct bus_item *it, const char *exhausted)
{
	if (it->kind == BUS_FAILED) {
		it->code = "TRANSFORMATION_ERROR";
		snprintf(it->why, sizeof it->why, "%.*s", (int)it->n, it->payload);
	}
	if (r->dl_fd >= 0 || r->dl_q != NULL) {
		int rc = r->dl_fd >= 0 ? to_file(r, it, exhausted) : to_queue(r, it, exhausted);
		if (rc == 0)
			return;
		r->dl_failed++;
		msg_error("rule %s, target %s: event lost: %.200s", r->t->rule->name,
		    r->t->id, it->event);
		return;
	}
	r->undelivered++;
	msg_error("rule %s, target %s: delivery failed%s%s%s: %s: %s", r->t->rule->name,
	    r->t->id, exhausted != NULL ? " (" : "", exhausted != NULL ? exhausted : "",
	    exhausted != NULL ? ")" : "", it->code, it->why);
}
