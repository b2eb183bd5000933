#!/usr/bin/env bats
# evkit-serve's Lambda asynchronous invocation, driven by the AWS CLI:
# event invoke configs (put/get/update/delete/list-function-event-invoke-
# config(s)), the retries of a failed Event (EVKIT_SERVE_ASYNC_DELAY_MS
# scales Lambda's 1 and 2 minutes) and the records its destinations get,
# read back with evq-recv.

load test_helper
load lib/servers

ARN=arn:aws:lambda:us-east-1:000000000000:function
QARN=arn:aws:sqs:us-east-1:000000000000

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	# Each run appends its payload to tries (the path is in the script:
	# the function's environment is Lambda's allow-list).
	TRIES="$BATS_TEST_TMPDIR/tries"
	cat > "$BATS_TEST_TMPDIR/h.sh" <<EOF
#!/bin/sh
ev=\$(cat)
printf '%s\n' "\$ev" >> "$TRIES"
case "\$ev" in
*RetriesExhausted*) ;;
*fail*) echo '{"errorType":"OrderError","errorMessage":"no such order"}'; exit 1 ;;
esac
printf '{"got":%s}\n' "\$ev"
EOF
	chmod +x "$BATS_TEST_TMPDIR/h.sh"
	mkdir -p "$EVKIT_HOME"
	evq-ctl create ok
	evq-ctl create failed
	EVKIT_SERVE_ASYNC_DELAY_MS=200 SERVE_ARGS="-F f=exec:$BATS_TEST_TMPDIR/h.sh" \
	    evkit_serve_start "$EVKIT_HOME"
}

teardown() {
	evkit_serve_stop
}

lam() {	# lam ARGS: aws lambda on the server
	aws_cli lambda "$@"
}

event() {	# event PAYLOAD: an asynchronous invocation of f
	lam invoke --function-name f --invocation-type Event --cli-binary-format raw-in-base64-out \
	    --payload "$1" out.json
}

tries() {
	if [ -f "$TRIES" ]; then wc -l < "$TRIES"; else echo 0; fi
}

@test "async: the event invoke config is put, read, updated, listed and deleted as Lambda does" {
	run lam get-function-event-invoke-config --function-name f
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
	assert_output --partial "The function $ARN:f:\$LATEST doesn't have an EventInvokeConfig"
	run lam put-function-event-invoke-config --function-name f --maximum-retry-attempts 1 \
	    --destination-config "OnFailure={Destination=$QARN:failed}"
	assert_success
	assert_equal "$(jq -c '[.FunctionArn, .MaximumRetryAttempts, .DestinationConfig]' <<<"$output")" \
	    "[\"$ARN:f:\$LATEST\",1,{\"OnSuccess\":{},\"OnFailure\":{\"Destination\":\"$QARN:failed\"}}]"
	run lam update-function-event-invoke-config --function-name f --maximum-event-age-in-seconds 600 \
	    --destination-config "OnSuccess={Destination=$QARN:ok}"
	assert_success
	assert_equal "$(jq -c '[.MaximumRetryAttempts, .MaximumEventAgeInSeconds, .DestinationConfig]' <<<"$output")" \
	    "[1,600,{\"OnSuccess\":{\"Destination\":\"$QARN:ok\"},\"OnFailure\":{\"Destination\":\"$QARN:failed\"}}]"
	run lam get-function-event-invoke-config --function-name "$ARN:f"
	assert_success
	assert_equal "$(jq .MaximumEventAgeInSeconds <<<"$output")" 600
	run lam list-function-event-invoke-configs --function-name f
	assert_success
	assert_equal "$(jq '.FunctionEventInvokeConfigs | length' <<<"$output")" 1
	run lam delete-function-event-invoke-config --function-name f
	assert_success
	run lam list-function-event-invoke-configs --function-name f
	assert_equal "$(jq -c '.FunctionEventInvokeConfigs' <<<"$output")" '[]'
	run lam update-function-event-invoke-config --function-name f --maximum-retry-attempts 0
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
}

@test "async: an unknown destination (queue, function, bus, service) is refused with InvalidParameterValueException" {
	for d in "$QARN:nosuch" "$ARN:nosuch" arn:aws:events:us-east-1:000000000000:event-bus/nosuch \
	    arn:aws:sns:us-east-1:000000000000:topic; do
		run lam put-function-event-invoke-config --function-name f \
		    --destination-config "OnFailure={Destination=$d}"
		assert_failure
		assert_output --partial "(InvalidParameterValueException)"
		assert_output --partial "The destination ARN $d is invalid."
	done
	run lam get-function-event-invoke-config --function-name f
	assert_output --partial "(ResourceNotFoundException)"
	run curl -s -w ' %{http_code}' -X PUT -d '{"MaximumRetryAttempts":3}' \
	    "$SERVE_URL/2019-09-25/functions/f/event-invoke-config"
	assert_equal "${output##* }" 400
	assert_equal "$(jq -r .__type <<<"${output% *}")" ValidationException
	run lam put-function-event-invoke-config --function-name nope --maximum-retry-attempts 0
	assert_output --partial "(ResourceNotFoundException)"
}

@test "async: a failing Event is tried 1 + MaximumRetryAttempts times, then its record lands in the OnFailure queue" {
	lam put-function-event-invoke-config --function-name f \
	    --destination-config "OnFailure={Destination=$QARN:failed},OnSuccess={Destination=$QARN:ok}" >/dev/null
	run event '{"fail":1}'
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"StatusCode":202}'
	wait_for 'evq-recv --peek failed >/dev/null 2>&1' 20
	assert_equal "$(tries)" 3
	run evq-recv failed
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -c 'del(.timestamp, .requestContext.requestId)' <<<"$output")" \
	    "{\"version\":\"1.0\",\"requestContext\":{\"functionArn\":\"$ARN:f:\$LATEST\",\"condition\":\"RetriesExhausted\",\"approximateInvokeCount\":3},\"requestPayload\":{\"fail\":1},\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"\$LATEST\",\"functionError\":\"Unhandled\"},\"responsePayload\":{\"errorType\":\"OrderError\",\"errorMessage\":\"no such order\"}}"
	[[ $(jq -r .timestamp <<<"$output") =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$ ]]
	[[ $(jq -r .requestContext.requestId <<<"$output") =~ ^[0-9a-f-]{36}$ ]]
	# Nothing more: no fourth try, nothing in the OnSuccess queue.
	sleep 1
	assert_equal "$(tries)" 3
	run evq-recv --peek ok
	assert_equal "$output" ""
}

@test "async: MaximumRetryAttempts 0 tries once; a succeeding Event's record lands in the OnSuccess queue" {
	lam put-function-event-invoke-config --function-name f --maximum-retry-attempts 0 \
	    --destination-config "OnFailure={Destination=$QARN:failed},OnSuccess={Destination=$QARN:ok}" >/dev/null
	event '{"fail":2}' >/dev/null
	wait_for 'evq-recv --peek failed >/dev/null 2>&1' 20
	assert_equal "$(evq-recv failed | jq -c '[.requestContext.approximateInvokeCount, .requestPayload]')" '[1,{"fail":2}]'
	event '{"n":3}' >/dev/null
	wait_for 'evq-recv --peek ok >/dev/null 2>&1' 20
	run evq-recv ok
	assert_equal "$(jq -c 'del(.timestamp, .requestContext.requestId)' <<<"$output")" \
	    "{\"version\":\"1.0\",\"requestContext\":{\"functionArn\":\"$ARN:f:\$LATEST\",\"condition\":\"Success\",\"approximateInvokeCount\":1},\"requestPayload\":{\"n\":3},\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"\$LATEST\"},\"responsePayload\":{\"got\":{\"n\":3}}}"
	sleep 1
	assert_equal "$(tries)" 2
}

@test "async: the record goes to a bound function and to an event bus's rules" {
	lam put-function-event-invoke-config --function-name f --maximum-retry-attempts 0 \
	    --destination-config "OnFailure={Destination=$ARN:f}" >/dev/null
	event '{"fail":4}' >/dev/null
	# f runs again, on the record (which it takes without failing).
	wait_for '[ "$(tries)" -ge 2 ]' 20
	assert_equal "$(sed -n 2p "$TRIES" | jq -c '[.requestContext.condition, .requestPayload]')" '["RetriesExhausted",{"fail":4}]'
	lam delete-function-event-invoke-config --function-name f
	aws_cli events put-rule --name res --event-pattern '{"source":["lambda"]}' >/dev/null
	aws_cli events put-targets --rule res --targets "Id=q,Arn=$QARN:ok" >/dev/null
	lam put-function-event-invoke-config --function-name f \
	    --destination-config "OnSuccess={Destination=arn:aws:events:us-east-1:000000000000:event-bus/default}" >/dev/null
	event '{"n":5}' >/dev/null
	wait_for 'evq-recv --peek ok >/dev/null 2>&1' 20
	run evq-recv ok
	assert_equal "$(jq -c '[.source, ."detail-type", .detail.requestPayload, .detail.responsePayload]' <<<"$output")" \
	    '["lambda","Lambda Function Invocation Result - Success",{"n":5},{"got":{"n":5}}]'
}

@test "async: a retry still waiting when the server stops is dropped, and the server exits 0" {
	evkit_serve_stop
	EVKIT_SERVE_ASYNC_DELAY_MS=600000 SERVE_ARGS="-F f=exec:$BATS_TEST_TMPDIR/h.sh" \
	    evkit_serve_start "$EVKIT_HOME"
	lam put-function-event-invoke-config --function-name f \
	    --destination-config "OnFailure={Destination=$ARN:f}" >/dev/null
	event '{"fail":6}' >/dev/null
	wait_for '[ "$(tries)" -ge 1 ]' 20
	evkit_serve_stop	# fails the test unless it exits 0 (a leak under SANITIZE=1 too)
	assert_equal "$(tries)" 1
}
