#!/usr/bin/env bats
# Remote queues in the bus and in fnrun, against fauxqs 1.9.2 on 127.0.0.1
# (tests/lib/servers.bash): evbus-route queue: targets and dead letters on
# a queue URL, read back with the AWS CLI; a throttled or unreachable SQS
# target retried, then dead-lettered; the event's trace id carried as
# AWSTraceHeader; fnrun --queue URL as Lambda's SQS event source mapping.
load test_helper
load lib/servers

setup_file() {
	fauxqs_start
}

teardown_file() {
	fauxqs_stop
}

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	export EVBUS_RETRY_BASE_MS=1 EVKIT_AWS_BACKOFF_MS=1
	export AWS_ENDPOINT_URL=$FAUXQS_URL
	cd "$BATS_TEST_TMPDIR" || return 1
	Q=$(fauxqs_create_queue "q$BATS_TEST_NUMBER")
	DLQ=$(fauxqs_create_queue "dlq$BATS_TEST_NUMBER")
}

teardown() {
	throttle_stop
}

rule1() {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[%s]}]}\n' "$2" > "$1"
}

# Every message of queue $1 (up to 100), as the AWS CLI receives them, one
# JSON object a line: [Body, MessageAttributes as name=value...].
drain() {
	local i
	for i in $(seq 1 10); do
		aws_cli sqs receive-message --queue-url "$1" --max-number-of-messages 10 \
		    --message-attribute-names All --visibility-timeout 60 |
		    jq -c '.Messages[]? | {body: .Body, attrs: ((.MessageAttributes // {}) |
		        with_entries(.value |= .StringValue))}'
	done
}

@test "sqs: a queue: target on a queue URL sends every matched event, in order" {
	rule1 r.json "{\"id\":\"q\",\"uri\":\"queue:$Q\"}"
	for i in $(seq 1 25); do printf '{"t":"x","i":%d}\n{"t":"y"}\n' "$i"; done > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	drain "$Q" > got
	run sh -c "jq -r '.body | fromjson | .i' got | sort -n | tr '\n' ' '"
	assert_output "$(seq 1 25 | tr '\n' ' ')"
}

@test "sqs: a dead_letter on a queue URL gets the event and EventBridge's attributes, never a secret" {
	rule1 r.json "{\"id\":\"e\",\"uri\":\"exec:false\",\"retry\":{\"attempts\":1},\"dead_letter\":\"queue:$DLQ\"}"
	printf '{"t":"x","i":7}\n' > in
	run --separate-stderr evbus-route -r r.json in
	assert_success
	run drain "$DLQ"
	assert_equal "${#lines[@]}" 1
	run jq -c '[(.body | fromjson | .i), (.attrs.RULE_ARN | test(":rule/r$")), .attrs.TARGET_ID, .attrs.RETRY_ATTEMPTS, .attrs.EXHAUSTED_RETRY_CONDITION]' <<< "$output"
	assert_output '[7,true,"e","1","MaximumRetryAttempts"]'
	run drain "$DLQ"
	refute_output --partial "$AWS_SECRET_ACCESS_KEY"
}

@test "sqs: a throttling SQS target is retried, then dead-lettered (THROTTLING); one that recovers delivers" {
	throttle_start --mode throttling --first -1 --only SendMessageBatch --upstream "$FAUXQS_URL"
	rule1 r.json "{\"id\":\"q\",\"uri\":\"queue:$Q\",\"retry\":{\"attempts\":2},\"dead_letter\":\"file:dl\"}"
	printf '{"t":"x","i":1}\n' > in
	AWS_ENDPOINT_URL=$THROTTLE_URL run --separate-stderr evbus-route -r r.json in
	assert_success
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS, .event.i]' dl
	assert_output '["THROTTLING",2,1]'
	throttle_stop
	throttle_start --mode throttling --first 4 --only SendMessageBatch --upstream "$FAUXQS_URL"
	rm -f dl
	AWS_ENDPOINT_URL=$THROTTLE_URL run --separate-stderr evbus-route -r r.json in
	assert_success
	assert_equal "$(cat dl)" ''
	run drain "$Q"
	assert_output --partial '"body":"{\"t\":\"x\",\"i\":1}"'
}

@test "sqs: an SQS target that answers 503 is retried, then exits 69 without a dead letter" {
	throttle_start --mode unavailable --first -1 --only SendMessageBatch --upstream "$FAUXQS_URL"
	rule1 r.json "{\"id\":\"q\",\"uri\":\"queue:$Q\",\"retry\":{\"attempts\":1}}"
	printf '{"t":"x","i":1}\n' > in
	AWS_ENDPOINT_URL=$THROTTLE_URL run --separate-stderr evbus-route -r r.json in
	assert_failure 69
	assert_regex "$stderr" 'SERVICE_UNAVAILABLE'
	# The client's 3 attempts, for each of the bus's 2.
	assert_equal "$(cat "$THROTTLE_COUNT")" 6
}

@test "sqs: an SQS target that cannot be reached when the rules are opened is exit 69 before any event" {
	port=$("$SERVERS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	rule1 r.json "{\"id\":\"q\",\"uri\":\"queue:$Q\"}"
	AWS_ENDPOINT_URL=http://127.0.0.1:$port run --separate-stderr evbus-route -r r.json < /dev/null
	assert_failure 69
	assert_regex "$stderr" "rule 'r' target 'q': .*Couldn't connect"
}

@test "sqs: the event's trace id goes to SQS as AWSTraceHeader" {
	throttle_start --first 0 --upstream "$FAUXQS_URL" --bodies bodies
	rule1 r.json "{\"id\":\"q\",\"uri\":\"queue:$Q\"}"
	printf '%s\n' '{"t":"x","attributes":{"AWSTraceHeader":"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}' '{"t":"x"}' > in
	AWS_ENDPOINT_URL=$THROTTLE_URL run --separate-stderr evbus-route -r r.json in
	assert_success
	# fauxqs 1.9.2 does not give AWSTraceHeader back: the request shows it.
	run sh -c "sed -n 's/^AmazonSQS.SendMessageBatch //p' bodies | jq -c '.Entries[] | .MessageSystemAttributes.AWSTraceHeader.StringValue // \"none\"'"
	assert_output $'"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"\n"none"'
}

@test "sqs: fnrun --queue URL invokes with batches of SQS records and deletes what succeeded" {
	for i in $(seq 1 12); do printf '{"i":%d}\n' "$i"; done | evq-send "$Q"
	printf '#!/bin/sh\njq -c "[.Records[] | (.body | fromjson | .i)]"\n' > h.sh
	chmod +x h.sh
	run --separate-stderr fnrun --batch 5 --queue "$Q" -- ./h.sh
	assert_success
	run sh -c "printf '%s\n' '$output' | jq -c '.[]' | sort -n | tr '\n' ' '"
	assert_output "$(seq 1 12 | tr '\n' ' ')"
	run aws_cli sqs get-queue-attributes --queue-url "$Q" --attribute-names All
	assert_equal "$(jq -r '.Attributes.ApproximateNumberOfMessages' <<< "$output")" 0
	assert_equal "$(jq -r '.Attributes.ApproximateNumberOfMessagesNotVisible' <<< "$output")" 0
}

@test "sqs: fnrun --queue URL leaves batchItemFailures to the visibility timeout, deletes the rest" {
	# A lease of 15 s (the queue's visibility timeout): long enough to see
	# the failed message in flight on a loaded machine, short enough to
	# see it come back.
	aws_cli sqs set-queue-attributes --queue-url "$Q" --attributes VisibilityTimeout=15
	for i in 1 2 3; do printf '{"i":%d}\n' "$i"; done | evq-send "$Q"
	# Fails the message whose body is {"i":2}.
	printf '%s\n' '#!/bin/sh' \
	    'jq -c "{batchItemFailures: [.Records[] | select((.body | fromjson | .i) == 2) | {itemIdentifier: .messageId}]}"' > h.sh
	chmod +x h.sh
	run --separate-stderr fnrun --batch 10 --queue "$Q" -- ./h.sh
	assert_failure 1	# a batch item failed, as with a local queue
	run aws_cli sqs get-queue-attributes --queue-url "$Q" --attribute-names All
	assert_equal "$(jq -r '.Attributes.ApproximateNumberOfMessages' <<< "$output")" 0
	assert_equal "$(jq -r '.Attributes.ApproximateNumberOfMessagesNotVisible' <<< "$output")" 1
	# It comes back when its lease ends, received a second time (the CLI
	# prints nothing when nothing came).
	wait_for "aws_cli sqs receive-message --queue-url '$Q' --attribute-names All --wait-time-seconds 5 > got && grep -q Body got" 60
	run jq -c '.Messages[0] | [.Body, .Attributes.ApproximateReceiveCount]' got
	assert_output '["{\"i\":2}","2"]'
}

@test "sqs: fnrun --endpoint-url sends a remote --queue's requests there" {
	printf '{"i":1}\n' | evq-send "$Q"
	throttle_start --first 0 --upstream "$FAUXQS_URL" --bodies bodies
	printf '#!/bin/sh\ncat > /dev/null\necho ok\n' > h.sh
	chmod +x h.sh
	run --separate-stderr fnrun --endpoint-url "$THROTTLE_URL" --queue "$Q" -- ./h.sh
	assert_success
	assert_output '"ok"'
	# The receive and the DeleteMessageBatch of its receipt handle went
	# through the endpoint given.
	run sh -c "sed -n 's/^AmazonSQS.DeleteMessageBatch //p' bodies | jq -c '.Entries[0] | keys'"
	assert_output '["Id","ReceiptHandle"]'
}
