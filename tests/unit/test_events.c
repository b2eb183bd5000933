/* test_events — EventBridge's side of lib/aws: events:// URIs, entry
 * sizes, reading PutEvents answers, and the trace id of an event. */
#include <stdlib.h>
#include <string.h>

#include "aws/aws_int.h"
#include "core/msg.h"
#include "unit.h"

static void
test_uri(void)
{
	struct ev_err e;
	char *r = NULL, *b = NULL;

	CHECK(aws_events_uri_parse("events://us-east-1/orders", &r, &b, &e) == 0);
	CHECK_STR(r, "us-east-1");
	CHECK_STR(b, "orders");
	free(r);
	free(b);
	CHECK(aws_events_uri_parse("events://eu-west-1", &r, &b, &e) == 0);
	CHECK_STR(b, "default");
	free(r);
	free(b);
	CHECK(aws_events_uri_parse("events://eu-west-1/", &r, &b, &e) == 0);
	CHECK_STR(b, "default");
	free(r);
	free(b);
	CHECK(aws_events_uri_parse("events://us-east-1/arn:aws:events:us-east-1:123456789012:"
	    "event-bus/my.bus", &r, &b, &e) == 0);
	CHECK_STR(b, "arn:aws:events:us-east-1:123456789012:event-bus/my.bus");
	free(r);
	free(b);
	CHECK(aws_events_uri_parse("events:///b", &r, &b, &e) == EV_USAGE);
	CHECK(aws_events_uri_parse("events://US/b", &r, &b, &e) == EV_USAGE);
	CHECK(aws_events_uri_parse("events://us-east-1/a b", &r, &b, &e) == EV_USAGE);
	CHECK(aws_events_uri_parse("events://us-east-1/arn:aws:sqs:x:1:q/n", &r, &b, &e) ==
	    EV_USAGE);
	CHECK(aws_events_uri_parse("sqs://us-east-1/1/q", &r, &b, &e) == EV_USAGE);
}

static void
test_size(void)
{
	struct aws_events_entry en = { .source = "abc", .detail_type = "de", .detail = "{}",
	    .detail_len = 2, .time_ms = -1 };

	CHECK(aws_events_size(&en) == 7);
	en.time_ms = 0;
	CHECK(aws_events_size(&en) == 21);
	en.resources = "[\"arn:1\",\"xy\"]";
	CHECK(aws_events_size(&en) == 28);
}

static void
test_read(void)
{
	struct aws_events_entry en[4];
	size_t idx[3] = { 0, 2, 3 };
	int kind[4] = { 0 };
	const char *ans = "{\"FailedEntryCount\":2,\"Entries\":[{\"EventId\":\"e-1\"},"
	    "{\"ErrorCode\":\"ThrottlingException\",\"ErrorMessage\":\"slow\"},"
	    "{\"ErrorCode\":\"MalformedDetail\",\"ErrorMessage\":\"Detail is malformed.\"}]}";

	for (int i = 0; i < 4; i++)
		en[i].status = -1;
	en[1].status = 0;
	aws_events_read(en, ans, strlen(ans), idx, 3, kind);
	CHECK(en[0].status == 0);
	CHECK_STR(en[0].id, "e-1");
	CHECK(en[1].status == 0);
	CHECK(en[2].status == -2 && kind[2] == AWS_R_THROTTLE);
	CHECK(en[3].status == EV_DATAERR);
	CHECK_STR(en[3].why, "MalformedDetail: Detail is malformed.");

	/* An answer that is short, or not JSON: 70 for what it leaves out. */
	en[0].status = en[2].status = -1;
	ans = "{\"Entries\":[{\"EventId\":\"x\"}]}";
	aws_events_read(en, ans, strlen(ans), idx, 2, kind);
	CHECK(en[0].status == 0 && en[2].status == EV_SOFTWARE);
	en[0].status = -1;
	aws_events_read(en, "{\"Entries\":[", 12, idx, 1, kind);
	CHECK(en[0].status == EV_SOFTWARE);
	CHECK_STR(en[0].why, "the server's answer is not JSON");
	en[0].status = -1;
	ans = "{\"Entries\":[{\"ErrorCode\":\"NotAuthorizedForSourceException\"}]}";
	aws_events_read(en, ans, strlen(ans), idx, 1, kind);
	CHECK(en[0].status == EV_NOPERM);
}

static int
trace(const char *ev, const char *want)
{
	struct buf b = { 0 };
	int found = aws_trace_find(ev, strlen(ev), &b);
	int ok = want == NULL ? !found : found && b.n == strlen(want) &&
	    memcmp(b.p, want, b.n) == 0;

	buf_free(&b);
	return ok;
}

static void
test_trace(void)
{
	CHECK(trace("{\"attributes\":{\"AWSTraceHeader\":\"Root=1-5759e988-bd862e3fe1be46a9"
	    "94272793;Sampled=1\"}}", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"));
	CHECK(trace("{\"headers\":{\"X-AMZN-Trace-Id\":\"Self=1-a;Root=1-b-c\"}}",
	    "Self=1-a;Root=1-b-c"));
	CHECK(trace("{\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\"}",
	    "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=0"));
	CHECK(trace("{\"traceparent\":\"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\"}",
	    NULL));
	CHECK(trace("{\"attributes\":{\"AWSTraceHeader\":\"Parent=1\"}}", NULL));
	CHECK(trace("{\"attributes\":{\"AWSTraceHeader\":\"Root=1-a\\n\"}}", NULL));
	CHECK(trace("{\"attributes\":{\"AWSTraceHeader\":7}}", NULL));
	CHECK(trace("{\"Records\":[{\"attributes\":{\"AWSTraceHeader\":\"Root=1-a-b\"}},{}]}",
	    "Root=1-a-b"));
	CHECK(trace("{\"Records\":[]}", NULL));
	CHECK(trace("[1]", NULL));
	CHECK(trace("{}", NULL));
	CHECK(trace("", NULL));
}

int
main(void)
{
	test_uri();
	test_size();
	test_read();
	test_trace();
	return UNIT_DONE();
}
