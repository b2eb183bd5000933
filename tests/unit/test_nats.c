/* Unit tests of the nats module's URIs: servers, credentials (never in a
 * message), names, ?replicas=N, and the reasons bad ones are refused. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/msg.h"
#include "nats/nats.h"
#include "unit.h"

static void
test_good(void)
{
	struct nats_uri u;
	struct ev_err e = { 0 };

	CHECK(nats_is_uri("nats://127.0.0.1:4222/jobs"));
	CHECK(!nats_is_uri("sqs://us-east-1/1/jobs"));
	CHECK(nats_uri_parse("nats://127.0.0.1:4222/jobs", 1, &u, &e) == 0);
	CHECK(u.nservers == 1);
	CHECK_STR(u.servers[0], "nats://127.0.0.1:4222");
	CHECK_STR(u.name, "jobs");
	CHECK(u.user == NULL && u.replicas == 0);
	nats_uri_free(&u);

	CHECK(nats_uri_parse("nats://bob:s%40cret@a:1,b.example:4223,[::1]:4/o.fifo?replicas=3",
	    1, &u, &e) == 0);
	CHECK(u.nservers == 3);
	CHECK_STR(u.servers[1], "nats://b.example:4223");
	CHECK_STR(u.servers[2], "nats://[::1]:4");
	CHECK_STR(u.user, "bob");
	CHECK_STR(u.pass, "s@cret");
	CHECK_STR(u.name, "o.fifo");
	CHECK(u.replicas == 3);
	CHECK(strstr(u.shown, "cret") == NULL);
	CHECK_STR(u.shown, "nats://bob:***@a:1,b.example:4223,[::1]:4/o.fifo?replicas=3");
	nats_uri_free(&u);

	CHECK(nats_uri_parse("nats://h:1/", 0, &u, &e) == 0);
	CHECK_STR(u.name, "");
	nats_uri_free(&u);
}

static void
bad(const char *uri, int need_name, const char *why)
{
	struct nats_uri u;
	struct ev_err e = { 0 };

	int rc = nats_uri_parse(uri, need_name, &u, &e);
	CHECK(rc == EV_USAGE);
	CHECK(strstr(e.msg, why) != NULL);
	CHECK(strstr(e.msg, "hunter2") == NULL);
	if (rc == 0)
		nats_uri_free(&u);
}

int
main(void)
{
	msg_prog = "test_nats";
	test_good();
	bad("nats://h/jobs", 1, "is not HOST:PORT");
	bad("nats://h:0/jobs", 1, "is not HOST:PORT");
	bad("nats://h:99999/jobs", 1, "is not HOST:PORT");
	bad("nats://h:1,/jobs", 1, "is not HOST:PORT");
	bad("nats:///jobs", 1, "no HOST:PORT");
	bad("nats://u:hunter2@/jobs", 1, "no HOST:PORT");
	bad("nats://hunter2@h:1/jobs", 1, "USER:PASS@");
	bad("nats://h:1", 1, "no NAME");
	bad("nats://h:1/a b", 1, "is not a name");
	bad("nats://h:1/a?replicas=9", 1, "replicas must be 1 to 5");
	bad("nats://h:1/a?x=1", 1, "unknown parameter");
	bad("nats://u:hunter2%zz@h:1/a", 1, "%-escape");
	return UNIT_DONE();
}
