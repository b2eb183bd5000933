/* Unit tests of the queue library: its error contract (a status and a
 * reason, never an exit), the attribute table, FIFO ids kept as their
 * exact bytes, and tags kept in the queue's file (SQS's limits). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

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

static void
tag_add(const char *key, const char *value, void *ctx)
{
	struct buf *b = ctx;

	buf_printf(b, "%s=%s;", key, value);
}

/* The queue's tags as "k=v;k=v;", reopened from its file. */
static const char *
tags_of(const char *name, struct buf *b)
{
	struct queue *q;
	struct ev_err e;

	buf_reset(b);
	if (q_open(name, Q_OPEN, NULL, &q, &e) != 0)
		return "(open failed)";
	if (q_tags(q, tag_add, b, &e) != 0)
		buf_adds(b, "(failed)");
	buf_addc(b, '\0');
	q_close(q);
	return b->p;
}

static void
test_tags(void)
{
	struct queue *q;
	struct ev_err e;
	struct buf b = { 0 };
	char key[130], value[258], many[52][8];
	struct q_tag t[52];

	CHECK(q_open("tagged", Q_CREATE, NULL, &q, &e) == 0);
	CHECK_STR(tags_of("tagged", &b), "");
	CHECK(q_tag(q, (struct q_tag[]){ { "team", "a" }, { "env", "ci" }, { "empty", "" } }, 3,
	    &e) == 0);
	CHECK(q_tag(q, (struct q_tag[]){ { "team", "b" } }, 1, &e) == 0);
	CHECK_STR(tags_of("tagged", &b), "empty=;env=ci;team=b;");
	CHECK(q_untag(q, (const char *[]){ "env", "nosuch" }, 2, &e) == 0);
	CHECK_STR(tags_of("tagged", &b), "empty=;team=b;");
	/* The limits, in characters: a 128-character key of 2-byte letters
	 * is a good one, 129 is not; nothing of a refused call is kept. */
	memset(key, 'k', 129);
	key[129] = '\0';
	CHECK(q_tag(q, (struct q_tag[]){ { "ok", "1" }, { key, "v" } }, 2, &e) == EV_USAGE);
	CHECK_STR(e.msg, "Tag keys must be between 1 and 128 characters in length.");
	CHECK(q_tag(q, (struct q_tag[]){ { "", "v" } }, 1, &e) == EV_USAGE);
	CHECK(q_untag(q, (const char *[]){ "" }, 1, &e) == EV_USAGE);
	memset(value, 'v', 257);
	value[257] = '\0';
	CHECK(q_tag(q, (struct q_tag[]){ { "big", value } }, 1, &e) == EV_USAGE);
	CHECK_STR(e.msg, "Tag values must be between 0 and 256 characters in length.");
	value[256] = '\0';
	for (size_t i = 0; i < 64; i++)
		memcpy(key + 2 * i, "\xc3\xa9", 2);
	key[128] = '\0';
	CHECK(q_tag(q, (struct q_tag[]){ { key, value } }, 1, &e) == 0);
	tags_of("tagged", &b);
	CHECK(strlen(b.p) > 3 && strcmp(b.p + strlen(b.p) - 3, "vv;") == 0);
	/* 50 in all: 3 there, 47 more fit, one more does not. */
	for (size_t i = 0; i < 48; i++) {
		snprintf(many[i], sizeof many[i], "m%zu", i);
		t[i] = (struct q_tag){ many[i], "x" };
	}
	CHECK(q_tag(q, t, 48, &e) == EV_USAGE);
	CHECK_STR(e.msg, "Too many tags added for queue tagged.");
	CHECK(q_tag(q, t, 47, &e) == 0);
	CHECK(q_tag(q, (struct q_tag[]){ { "m0", "replaced" } }, 1, &e) == 0);
	CHECK(q_tag(q, (struct q_tag[]){ { "one-more", "x" } }, 1, &e) == EV_USAGE);
	q_close(q);
	buf_free(&b);
}

/* A queue file made before tags (no table tag) opens, lists no tags, and
 * takes them. */
static void
test_tags_old_file(void)
{
	struct queue *q;
	struct ev_err e;
	struct buf b = { 0 };
	sqlite3 *db;

	CHECK(q_open("old", Q_CREATE, NULL, &q, &e) == 0);
	CHECK(sqlite3_open(q_path(q), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DROP TABLE tag", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	q_close(q);
	CHECK_STR(tags_of("old", &b), "");
	CHECK(q_open("old", Q_OPEN, NULL, &q, &e) == 0);
	CHECK(q_untag(q, (const char *[]){ "a" }, 1, &e) == 0);
	CHECK(q_tag(q, (struct q_tag[]){ { "a", "1" } }, 1, &e) == 0);
	q_close(q);
	CHECK_STR(tags_of("old", &b), "a=1;");
	buf_free(&b);
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
	test_tags();
	test_tags_old_file();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		unit_failed++;
	return unit_failed != 0;
}
