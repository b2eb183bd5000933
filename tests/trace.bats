#!/usr/bin/env bats
# Trace context (SPEC 6) in lib/fn: the trace id an event carries reaches
# the function as _X_AMZN_TRACE_ID.  The bus side (TraceHeader on
# PutEvents) is in evbus-route-events.bats.
load test_helper

trace_handler() {
	printf '#!/bin/sh\ncat > /dev/null\nprintf "\\"%%s\\"\\n" "${_X_AMZN_TRACE_ID-unset}"\n' > h.sh
	chmod +x h.sh
}

@test "fnrun: an event's AWSTraceHeader, X-Amzn-Trace-Id or traceparent is the handler's _X_AMZN_TRACE_ID" {
	trace_handler
	{
		printf '%s\n' '{"attributes":{"AWSTraceHeader":"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}'
		printf '%s\n' '{"headers":{"X-Amzn-Trace-Id":"Root=1-67891233-abcdef012345678912345678"}}'
		printf '%s\n' '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'
		printf '%s\n' '{"n":1}'
	} > in
	run --separate-stderr fnrun -- ./h.sh < in
	assert_success
	assert_output "$(printf '%s\n' '"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"' \
	    '"Root=1-67891233-abcdef012345678912345678"' \
	    '"Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1"' '"unset"')"
}

@test "fnrun --inherit-env: the event's trace id wins over fnrun's own; without one, fnrun's passes" {
	trace_handler
	printf '%s\n' '{"attributes":{"AWSTraceHeader":"Root=1-a-b"}}' '{"n":1}' > in
	_X_AMZN_TRACE_ID='Root=1-outer-1' run --separate-stderr fnrun --inherit-env -- ./h.sh < in
	assert_success
	assert_output $'"Root=1-a-b"\n"Root=1-outer-1"'
}

@test "fnrun --batch: the first record's trace id is the invocation's" {
	trace_handler
	printf '%s\n' '{"attributes":{"AWSTraceHeader":"Root=1-first-1"}}' \
	    '{"attributes":{"AWSTraceHeader":"Root=1-second-2"}}' > in
	run --separate-stderr fnrun --batch 2 -- ./h.sh < in
	assert_success
	assert_output '"Root=1-first-1"'
}
