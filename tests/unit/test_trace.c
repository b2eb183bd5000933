/* test_trace — the trace id an event carries (aws_trace_find, SPEC 6). */
#include <string.h>

#include "aws/aws.h"
#include "unit.h"

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
	test_trace();
	return UNIT_DONE();
}
