/* Unit tests of the queue library: its error contract (a status and a
 * reason, never an exit), the attribute table, and FIFO ids kept as their
 * exact bytes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/msg.h"
#include "queue/queue.h"
#include "unit.h"

static void
test_errors(void)
{
	struct queue *q = NULL;
	struct ev_err e;

	CHECK(q_open("nosuch", Q_OPEN, NULL, &q, &e) == EV_NOINPUT);
	CHECK(q == NULL && e.code == EV_NOINPUT);
	CHECK_STR(e.msg, "queue 'nosuch' does not exist");
	CHECK(q_open("plain", Q_CREATE, NULL, &q, &e) == 0 && q != NULL);
	CHECK(q_set(q, "VisibilityTimeout", "43201", &e) == EV_USAGE);
	CHECK_STR(e.msg, "plain: invalid VisibilityTimeout '43201': VisibilityTimeout must be 0 to 43200 seconds");
	CHECK(q_set(q, "Bogus", "1", &e) == EV_USAGE);
	CHECK(q_set(q, "DelaySeconds", "7", &e) == 0 && q_attrs(q)->delay_ms == 7000);
	long moved, kept;
	CHECK(q_redrive(q, "plain", &moved, &kept, &e) == EV_USAGE);
	q_close(q);
}

static void
test_table(void)
{
	struct q_attrs a, b;
	const struct q_attr_def *d = q_attr_def("MessageRetentionPeriod");

	q_attrs_default(&a, 0);
	CHECK(a.visibility_ms == 30000 && a.retention_ms == 345600000 && a.max_bytes == 1048576);
	CHECK(d != NULL && d->min == 60 && d->max == 1209600 && q_attr_get(&a, d) == 345600);
	b = a;
	CHECK(q_attrs_same(&a, &b));
	b.wait_ms = 1000;
	CHECK(!q_attrs_same(&a, &b));
	CHECK(q_attr_def("NoSuchAttribute") == NULL);
}

/* Sends body with dedup and group ids of the given lengths (they hold a
 * NUL); returns whether it went in as a new message. */
static int
send_fifo(struct queue *q, const char *body, const char *group, size_t glen, const char *dedup,
    size_t dlen)
{
	struct q_out m = { .body = body, .len = strlen(body), .group = group, .dedup = dedup,
	    .delay_ms = -1, .group_len = glen, .dedup_len = dlen };
	struct q_sent sent;
	struct ev_err e;

	if (q_send_add(q, &m, &sent, &e) != 0 || sent.refused != NULL || q_send_commit(q, &e) != 0)
		return -1;
	return !sent.duplicate;
}

static void
test_exact_ids(void)
{
	struct queue *q;
	struct ev_err e;
	struct q_msg m[4];
	size_t n;
	struct buf b = { 0 };

	CHECK(q_open("ids.fifo", Q_CREATE, NULL, &q, &e) == 0);
	/* Ids that differ only after a NUL are distinct; the same bytes are
	 * a duplicate within the window. */
	CHECK(send_fifo(q, "1", "g\0x", 3, "a\0b", 3) == 1);
	CHECK(send_fifo(q, "2", "g\0y", 3, "a\0c", 3) == 1);
	CHECK(send_fifo(q, "3", "g\0x", 3, "a\0b", 3) == 0);
	/* Two groups: both heads are deliverable at once. */
	CHECK(q_receive(q, 0, 4, 60000, m, &n, &e) == 0 && n == 2);
	CHECK(n == 2 && m[0].group_len == 3 && memcmp(m[0].group, "g\0x", 3) == 0);
	CHECK(n == 2 && m[1].dedup_len == 3 && memcmp(m[1].dedup, "a\0c", 3) == 0);
	if (n == 2) {
		q_envelope(q, &m[0], &b);
		buf_addc(&b, '\0');
		CHECK(strstr(b.p, "\"MessageGroupId\":\"g\\u0000x\"") != NULL);
		CHECK(strstr(b.p, "\"MessageDeduplicationId\":\"a\\u0000b\"") != NULL);
	}
	buf_free(&b);
	q_close(q);
}

int
main(void)
{
	char dir[] = "/tmp/evkit-unit-queue-XXXXXX";

	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("EVKIT_HOME", dir, 1);
	test_errors();
	test_table();
	test_exact_ids();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		unit_failed++;
	return unit_failed != 0;
}
