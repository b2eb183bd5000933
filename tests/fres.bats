#!/usr/bin/env bats
# fnflow's Task resources (lib/flow/fres) through the unit program's
# driver mode (tests/unit/test_fres.c: `test_fres run RESOURCE INPUT
# [NAME=URI...]`): sqs:sendMessage to a local queue read back with
# evq-recv and to SQS (fauxqs), events:putEvents to events:// (the
# PutEvents recorder) and through a rules file.  The unit program itself
# covers every function scheme, errors and timeouts.
load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	# The unit program of the build last made (bin/ is that flavour's).
	FRES=$(ls -t "$TOP"/build/*/unit/test_fres 2>/dev/null | head -n 1)
	[ -x "$FRES" ] || { echo "no build/*/unit/test_fres: make units" >&2; return 1; }
}

teardown() {
	fauxqs_stop
	events_stop
}

events_start() {
	EVENTS_REC=$BATS_TEST_TMPDIR/requests.ndjson
	: > "$EVENTS_REC"
	_srv_start events-server "$SERVERS_PY" "$SERVERS_DIR/events-server.py" \
	    --record "$EVENTS_REC" --count "$BATS_TEST_TMPDIR/count" || return 1
	EVENTS_PID=$_SRV_PID EVENTS_FD=$_SRV_FD
	export AWS_ENDPOINT_URL_EVENTS="http://127.0.0.1:$_SRV_PORT"
}

events_stop() {
	_srv_stop "${EVENTS_PID:-}" "${EVENTS_FD:-}"
	unset EVENTS_PID EVENTS_FD
}

@test "sqs:sendMessage: to a local queue, as SendMessage answers, and evq-recv gets it" {
	evq-ctl create jobs
	run --separate-stderr "$FRES" run arn:aws:states:::sqs:sendMessage \
	    '{"QueueUrl":"jobs","MessageBody":{"order":7},"MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}}}'
	assert_success
	md5=$(printf '%s' '{"order":7}' | md5sum | cut -d' ' -f1)
	assert_equal "$(jq -r .MD5OfMessageBody <<<"$output")" "$md5"
	assert_equal "$(jq -r '.SdkHttpMetadata.HttpStatusCode' <<<"$output")" 200
	id=$(jq -r .MessageId <<<"$output")
	run evq-recv -e -n 1 jobs
	assert_success
	assert_equal "$(jq -r .messageId <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" '{"order":7}'
	assert_equal "$(jq -r .messageAttributes.k.stringValue <<<"$output")" v
}

@test "sqs:sendMessage: a queue that does not exist fails the task with SQS.QueueDoesNotExistException" {
	run --separate-stderr "$FRES" run arn:aws:states:::sqs:sendMessage '{"QueueUrl":"nosuch","MessageBody":"x"}'
	assert_failure 1
	assert_equal "$(jq -r .Error <<<"$output")" SQS.QueueDoesNotExistException
	assert_regex "$(jq -r .Cause <<<"$output")" 'Error Code: AWS.SimpleQueueService.NonExistentQueue'
}

@test "sqs:sendMessage: to SQS (fauxqs) by its queue URL" {
	fauxqs_start
	url=$(fauxqs_create_queue fres-q)
	run --separate-stderr "$FRES" run arn:aws:states:::sqs:sendMessage \
	    "$(jq -cn --arg u "$url" '{QueueUrl:$u,MessageBody:"hello"}')"
	assert_success
	id=$(jq -r .MessageId <<<"$output")
	assert_regex "$id" '^[0-9a-f-]{36}$'
	assert_equal "$(jq -r .MD5OfMessageBody <<<"$output")" "$(printf hello | md5sum | cut -d' ' -f1)"
	run evq-recv -e -n 1 "$url"
	assert_success
	assert_equal "$(jq -r .messageId <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" hello
}

@test "events:putEvents: an events:// EventBusName goes to EventBridge's PutEvents" {
	aws_test_env
	unset AWS_ENDPOINT_URL
	events_start
	run --separate-stderr "$FRES" run arn:aws:states:::events:putEvents \
	    '{"Entries":[{"Detail":{"id":7},"DetailType":"OrderPlaced","Source":"shop","EventBusName":"events://us-east-1/orders"}]}'
	assert_success
	assert_equal "$(jq -r .FailedEntryCount <<<"$output")" 0
	assert_equal "$(jq -r '.Entries | length' <<<"$output")" 1
	run jq -c '.Entries[]' "$EVENTS_REC"
	assert_output '{"Source":"shop","DetailType":"OrderPlaced","Detail":"{\"id\":7}","EventBusName":"orders"}'
}

@test "events:putEvents: the state machine's ARN is appended to the entry's Resources" {
	aws_test_env
	unset AWS_ENDPOINT_URL
	events_start
	FRES_SM_ARN=arn:aws:states:us-east-1:000000000000:stateMachine:m run --separate-stderr "$FRES" run \
	    arn:aws:states:::events:putEvents \
	    '{"Entries":[{"Detail":{},"DetailType":"d","Source":"s","Resources":["arn:aws:s3:::b"],"EventBusName":"events://us-east-1/orders"}]}'
	assert_success
	run jq -c '.Entries[].Resources' "$EVENTS_REC"
	assert_output '["arn:aws:s3:::b","arn:aws:states:us-east-1:000000000000:stateMachine:m"]'
}

@test "events:putEvents: routed through --rules to a matching rule's target" {
	printf '%s\n' '{"rules":[{"name":"r","pattern":{"detail-type":["OrderPlaced"]},"targets":[{"id":"q","uri":"queue:orders"}]}]}' > rules.json
	evq-ctl create orders
	FRES_RULES=rules.json run --separate-stderr "$FRES" run arn:aws:states:::events:putEvents \
	    '{"Entries":[{"Detail":{"id":7},"DetailType":"OrderPlaced","Source":"shop"},{"Detail":{},"DetailType":"Other","Source":"shop"}]}'
	assert_success
	id=$(jq -r '.Entries[0].EventId' <<<"$output")
	run evq-recv -e -n 5 orders
	assert_success
	assert_equal "${#lines[@]}" 1
	ev=$(jq -r .body <<<"$output")
	assert_equal "$(jq -r .id <<<"$ev")" "$id"
	assert_equal "$(jq -c '[.source,."detail-type",.detail]' <<<"$ev")" '["shop","OrderPlaced",{"id":7}]'
}

@test "functions: lambda:invoke of an exec: function bound by NAME=URI" {
	printf 'read l; printf "{\\"in\\":%%s}\\n" "$l"\n' > h.sh
	run --separate-stderr "$FRES" run arn:aws:states:::lambda:invoke \
	    '{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:h","Payload":[1,2]}' "h=exec:sh h.sh"
	assert_success
	assert_equal "$(jq -c '[.Payload,.StatusCode,.ExecutedVersion]' <<<"$output")" '[{"in":[1,2]},200,"$LATEST"]'
}
