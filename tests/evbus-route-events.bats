#!/usr/bin/env bats
# evbus-route's events://REGION/BUS target: PutEvents request bodies as
# tests/lib/events-server.py records them (each one checked against
# botocore's model of PutEvents), batches of 10, the entry shape, trace
# headers, per-entry failures retried then dead-lettered, throttling,
# SigV4 checked by botocore through tests/lib/sigv4-proxy.py, and no
# secret in any output or dead letter.
load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	export EVBUS_RETRY_BASE_MS=1 EVKIT_AWS_BACKOFF_MS=1
	cd "$BATS_TEST_TMPDIR" || return 1
	aws_test_env
	unset AWS_ENDPOINT_URL
}

teardown() {
	events_stop
	sigv4_proxy_stop
}

# events_start [events-server.py options]: sets EVENTS_URL, the client's
# AWS_ENDPOINT_URL_EVENTS, and EVENTS_REC (one request body a line).
events_start() {
	EVENTS_REC=$BATS_TEST_TMPDIR/requests.ndjson
	: > "$EVENTS_REC"
	_srv_start events-server "$SERVERS_PY" "$SERVERS_DIR/events-server.py" \
	    --record "$EVENTS_REC" --count "$BATS_TEST_TMPDIR/count" "$@" || return 1
	EVENTS_PID=$_SRV_PID EVENTS_FD=$_SRV_FD EVENTS_ERR=$_SRV_DIR/stderr
	export EVENTS_URL="http://127.0.0.1:$_SRV_PORT"
	export AWS_ENDPOINT_URL_EVENTS=$EVENTS_URL
}

events_stop() {
	_srv_stop "${EVENTS_PID:-}" "${EVENTS_FD:-}"
	unset EVENTS_PID EVENTS_FD
}

# The entries the server took, one JSON object a line.
entries() {
	jq -c '.Entries[]' "$EVENTS_REC"
}

rule1() {
	printf '{"rules":[{"name":"%s","pattern":{"t":["x"]},"targets":[%s]}]}\n' "$2" "$3" > "$1"
}

no_invalid() {
	run cat "$EVENTS_ERR"
	refute_output --partial invalid
}

@test "events: an EventBridge-shaped event keeps its source, detail-type, detail, resources and time" {
	events_start
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/orders"}'
	printf '%s\n' '{"t":"x","version":"0","id":"1","source":"com.example.shop","detail-type":"OrderPlaced","time":"2026-11-23T12:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::b"],"detail":{ "id" : 7, "n": 1.50 }}' |
	    evbus-route -r r.json
	no_invalid
	run cat "$EVENTS_REC"
	assert_output '{"Entries":[{"Source":"com.example.shop","DetailType":"OrderPlaced","Detail":"{\"id\":7,\"n\":1.50}","Resources":["arn:aws:s3:::b"],"Time":1795435200,"EventBusName":"orders"}]}'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/count")" 1
}

@test "events: any other event is the Detail of Source evkit, DetailType the rule's name, on the default bus" {
	events_start
	rule1 r.json welcome '{"id":"eb","uri":"events://eu-west-1"}'
	printf '%s\n' '{"t":"x","user":"ann"}' '{"t":"x","source":"s","detail-type":"d","detail":"not an object"}' |
	    evbus-route -r r.json
	no_invalid
	run entries
	assert_line -n 0 '{"Source":"evkit","DetailType":"welcome","Detail":"{\"t\":\"x\",\"user\":\"ann\"}","EventBusName":"default"}'
	assert_line -n 1 '{"Source":"evkit","DetailType":"welcome","Detail":"{\"t\":\"x\",\"source\":\"s\",\"detail-type\":\"d\",\"detail\":\"not an object\"}","EventBusName":"default"}'
}

@test "events: 25 events go in requests of 10, 10 and 5, in input order, each a valid PutEvents request" {
	events_start
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b"}'
	# From a file: the input never goes idle, so one batch of 25 reaches
	# the target (from a pipe, the reader hands over what it has).
	for i in $(seq 1 25); do printf '{"t":"x","i":%d}\n' "$i"; done > in
	evbus-route -r r.json in
	no_invalid
	run jq -c '.Entries | length' "$EVENTS_REC"
	assert_output $'10\n10\n5'
	run sh -c "jq -r '.Entries[].Detail | fromjson | .i' '$EVENTS_REC' | tr '\n' ' '"
	assert_output "$(seq 1 25 | tr '\n' ' ')"
}

@test "events: input shaping applies before the mapping" {
	events_start
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","input_path":"$.detail"}'
	printf '%s\n' '{"t":"x","source":"a","detail-type":"b","detail":{"k":1}}' | evbus-route -r r.json
	run entries
	assert_output '{"Source":"evkit","DetailType":"r","Detail":"{\"k\":1}","EventBusName":"b"}'
}

@test "events: a trace id arriving with the event goes as TraceHeader (AWSTraceHeader, X-Amzn-Trace-Id, traceparent)" {
	events_start
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b"}'
	{
		printf '%s\n' '{"t":"x","attributes":{"AWSTraceHeader":"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}'
		printf '%s\n' '{"t":"x","headers":{"x-amzn-trace-id":"Root=1-67891233-abcdef012345678912345678"}}'
		printf '%s\n' '{"t":"x","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'
		printf '%s\n' '{"t":"x","attributes":{"AWSTraceHeader":"no root here"}}'
	} | evbus-route -r r.json
	no_invalid
	run jq -r '.Entries[] | .TraceHeader // "none"' "$EVENTS_REC"
	assert_output $'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\nRoot=1-67891233-abcdef012345678912345678\nRoot=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1\nnone'
}

@test "events: entries failed with a retryable ErrorCode are sent again, and only they" {
	events_start --fail-first 3
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","dead_letter":"file:dl"}'
	for i in 1 2 3 4 5; do printf '{"t":"x","i":%d}\n' "$i"; done > in
	evbus-route -r r.json in
	no_invalid
	run jq -c '[.Entries[].Detail | fromjson | .i]' "$EVENTS_REC"
	assert_output $'[1,2,3,4,5]\n[1,2,3]'
	assert_equal "$(cat dl)" ''
}

@test "events: an entry EventBridge refuses (MalformedDetail) is dead-lettered at once, the others delivered" {
	events_start --fail-match poison
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","retry":{"attempts":5},"dead_letter":"file:dl"}'
	printf '%s\n' '{"t":"x","i":1}' '{"t":"x","i":2,"p":"poison"}' '{"t":"x","i":3}' > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/count")" 1
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS, .TARGET_ARN, .event.i]' dl
	assert_output '["INVALID_PARAMETER",0,"events://us-east-1/b",2]'
	run jq -r .ERROR_MESSAGE dl
	assert_output --partial MalformedDetail
}

@test "events: throttled entries are retried as the rule says, then dead-lettered (THROTTLING)" {
	events_start --fail-first 1000
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","retry":{"attempts":2},"dead_letter":"file:dl"}'
	printf '%s\n' '{"t":"x","i":1}' '{"t":"x","i":2}' > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	run jq -c '[.ERROR_CODE, .EXHAUSTED_RETRY_CONDITION, .RETRY_ATTEMPTS, .event.i]' dl
	assert_output $'["THROTTLING","MaximumRetryAttempts",2,1]\n["THROTTLING","MaximumRetryAttempts",2,2]'
	# 3 attempts of the bus, each the client's 3 attempts.
	assert_equal "$(cat "$BATS_TEST_TMPDIR/count")" 9
}

@test "events: a throttling server (whole requests) is retried and the events get through" {
	events_start --throttle 2
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","dead_letter":"file:dl"}'
	printf '%s\n' '{"t":"x","i":1}' > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	assert_equal "$(nlines "$EVENTS_REC")" 1
	assert_equal "$(cat dl)" ''
}

@test "events: an unreachable endpoint retries, then fails with exit 69 and no dead letter, or dead-letters" {
	port=$("$SERVERS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export AWS_ENDPOINT_URL_EVENTS=http://127.0.0.1:$port
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","retry":{"attempts":1}}'
	printf '%s\n' '{"t":"x","i":1}' > in
	run --separate-stderr evbus-route -r r.json in
	assert_failure 69
	assert_regex "$stderr" 'SERVICE_UNAVAILABLE'
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","retry":{"attempts":1},"dead_letter":"file:dl"}'
	printf '%s\n' '{"t":"x","i":1}' > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS]' dl
	assert_output '["SERVICE_UNAVAILABLE",1]'
}

@test "events: every request is signed for service events, checked by botocore, with a session token" {
	events_start
	export AWS_SESSION_TOKEN='IQoJevkit//test+session/token=='
	sigv4_proxy_start "$EVENTS_URL"
	export AWS_ENDPOINT_URL_EVENTS=$SIGV4_PROXY_URL
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b"}'
	for i in $(seq 1 12); do printf '{"t":"x","i":%d}\n' "$i"; done | evbus-route -r r.json
	run cat "$SIGV4_PROXY_LOG"
	assert_line -n 0 --partial 'ok AWSEvents.PutEvents'
	assert_line -n 1 --partial 'ok AWSEvents.PutEvents'
	refute_output --partial refused
	assert_equal "$(entries | wc -l | tr -d ' ')" 12
}

@test "events: a wrong secret is refused (NO_PERMISSIONS, dead-lettered at once) and the secret is nowhere" {
	events_start
	sigv4_proxy_start "$EVENTS_URL"
	export AWS_ENDPOINT_URL_EVENTS=$SIGV4_PROXY_URL
	export AWS_SECRET_ACCESS_KEY='wrong/Secret+Value0000000000000000000000'
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","retry":{"attempts":3},"dead_letter":"file:dl"}'
	printf '%s\n' '{"t":"x","i":1}' > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS]' dl
	assert_output '["NO_PERMISSIONS",0]'
	run grep -r -F -e "$AWS_SECRET_ACCESS_KEY" -e 'evkit/test+secret' dl "$BATS_TEST_TMPDIR"/*.json
	assert_failure
	assert_equal "$(nlines "$EVENTS_REC")" 0
}

@test "events: no credentials is exit 77 before any event is read" {
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	export AWS_ENDPOINT_URL_EVENTS=http://127.0.0.1:9
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b"}'
	run --separate-stderr evbus-route -r r.json < /dev/null
	assert_failure 77
	assert_regex "$stderr" "rule 'r' target 'eb'"
}

@test "events: an entry over 1 MiB is dead-lettered without being sent; the rest go" {
	events_start
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/b","dead_letter":"file:dl"}'
	{
		printf '{"t":"x","i":1}\n'
		"$SERVERS_PY" -c 'print("{\"t\":\"x\",\"i\":2,\"pad\":\"" + "a" * 1048576 + "\"}")'
		printf '{"t":"x","i":3}\n'
	} > in
	run --separate-stderr evbus-route --max-line-bytes 2000000 -r r.json in
	assert_success
	run jq -sc '[.[].Entries[].Detail | fromjson | .i]' "$EVENTS_REC"
	assert_output '[1,3]'
	run jq -c '[.ERROR_CODE, .event.i]' dl
	assert_output '["INVALID_PARAMETER",2]'
}

@test "events: a bad events URI is a usage error naming the target" {
	rule1 r.json r '{"id":"eb","uri":"events://US_EAST/b"}'
	run --separate-stderr evbus-route -r r.json < /dev/null
	assert_failure 2
	assert_regex "$stderr" 'targets\[0\]\.uri: .*events://REGION/BUS'
	rule1 r.json r '{"id":"eb","uri":"events://us-east-1/bad bus"}'
	run --separate-stderr evbus-route -r r.json < /dev/null
	assert_failure 2
	assert_regex "$stderr" 'not an event bus name'
	rule1 r.json r '{"id":"eb","uri":"sqs://us-east-1/1/q"}'
	run --separate-stderr evbus-route -r r.json < /dev/null
	assert_failure 2
	assert_regex "$stderr" 'use queue:sqs://us-east-1/1/q'
}
