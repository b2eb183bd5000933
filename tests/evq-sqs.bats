#!/usr/bin/env bats
# evq-* on SQS beyond the shared behaviour suite (tests/lib/queue-suite.bash):
# an independent client (the AWS CLI) on both sides, the trace header,
# --endpoint-url, the 1 MiB limits, kill -9 of a sender, and the failure
# paths of SPEC 6 (69 unreachable, 66 no queue, 77 credentials, 75
# throttled), against fauxqs 1.9.2 and the test servers of lib/servers.

load test_helper
load lib/servers

setup_file() {
	fauxqs_start
}

teardown_file() {
	fauxqs_stop
}

teardown() {
	throttle_stop
	sigv4_proxy_stop
}

# new_queue NAME [ATTRIBUTES_JSON]: creates it with curl; prints its sqs:// URI.
new_queue() {
	fauxqs_create_queue "$1-t$BATS_TEST_NUMBER" "${2:-{\}}" >/dev/null || return 1
	echo "sqs://us-east-1/000000000000/$1-t$BATS_TEST_NUMBER"
}

# url_of URI: the QueueUrl fauxqs knows the queue by.
url_of() {
	echo "http://sqs.us-east-1.localhost:$FAUXQS_PORT/000000000000/${1##*/}"
}

@test "the AWS CLI reads what evq-send wrote: body, MD5s and message attributes" {
	q=$(new_queue cliread)
	run --separate-stderr evq-send -p -a s=v1 -a n:Number=7 -a b:Binary=AAEC/w== "$q" <<<'{"order":42,"note":"héllo"}'
	assert_success
	sent=$output
	run aws_cli sqs receive-message --queue-url "$(url_of "$q")" --message-attribute-names All \
	    --attribute-names All --wait-time-seconds 1
	assert_success
	m=$(jq -c '.Messages[0]' <<<"$output")
	assert_equal "$(jq -r .Body <<<"$m")" '{"order":42,"note":"héllo"}'
	assert_equal "$(jq -r .MessageId <<<"$m")" "$(jq -r .MessageId <<<"$sent")"
	assert_equal "$(jq -r .MD5OfBody <<<"$m")" "$(jq -r .MD5OfMessageBody <<<"$sent")"
	assert_equal "$(jq -r .MD5OfMessageAttributes <<<"$m")" "$(jq -r .MD5OfMessageAttributes <<<"$sent")"
	assert_equal "$(jq -cS .MessageAttributes <<<"$m")" \
	    '{"b":{"BinaryValue":"AAEC/w==","DataType":"Binary"},"n":{"DataType":"Number","StringValue":"7"},"s":{"DataType":"String","StringValue":"v1"}}'
}

# fauxqs 1.9.2 drops MessageSystemAttributes (AWSTraceHeader) on send, so
# the trace header is checked in the request evq-send makes (below), and
# evq-recv passes the server's system attributes on as they come.
@test "evq-recv reads what the AWS CLI wrote: body and attributes" {
	q=$(new_queue cliwrite)
	run aws_cli sqs send-message --queue-url "$(url_of "$q")" --message-body '{"k":"v"}' \
	    --message-attributes '{"s":{"DataType":"String","StringValue":"x"}}' \
	    --message-system-attributes '{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}'
	assert_success
	id=$(jq -r .MessageId <<<"$output")
	run evq-recv -e "$q"
	assert_success
	assert_equal "$(jq -r .messageId <<<"$output")" "$id"
	assert_equal "$(jq -r .body <<<"$output")" '{"k":"v"}'
	assert_equal "$(jq -c '.messageAttributes.s | {dataType, stringValue}' <<<"$output")" \
	    '{"dataType":"String","stringValue":"x"}'
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount <<<"$output")" 1
	assert_equal "$(jq -r .eventSourceARN <<<"$output")" "arn:aws:sqs:us-east-1:000000000000:${q##*/}"
}

@test "evq-send carries the trace id it runs under (_X_AMZN_TRACE_ID) as AWSTraceHeader" {
	q=$(new_queue trace)
	# The throttle server passing everything on, recording the requests.
	throttle_start --first 0 --upstream "$FAUXQS_URL" --bodies "$BATS_TEST_TMPDIR/bodies"
	AWS_ENDPOINT_URL=$THROTTLE_URL \
	_X_AMZN_TRACE_ID='Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' \
	    evq-send "$q" <<<'{"t":1}'
	run sed -n 's/^AmazonSQS.SendMessageBatch //p' "$BATS_TEST_TMPDIR/bodies"
	assert_success
	assert_equal "$(jq -r '.Entries[0].MessageSystemAttributes.AWSTraceHeader.StringValue' <<<"$output")" \
	    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'
	assert_equal "$(jq -r '.Entries[0].MessageBody' <<<"$output")" '{"t":1}'
}

@test "--endpoint-url reaches the server without AWS_ENDPOINT_URL, and wins over it" {
	q=$(new_queue endpoint)
	ep=$AWS_ENDPOINT_URL
	export AWS_ENDPOINT_URL=http://127.0.0.1:1
	echo '{"e":1}' | evq-send --endpoint-url "$ep" "$q"
	run evq-ctl stat --endpoint-url "$ep" "$q"
	assert_success
	assert_equal "$(jq -r .ApproximateNumberOfMessages <<<"$output")" 1
	unset AWS_ENDPOINT_URL
	run evq-recv --endpoint-url "$ep" "$q"
	assert_success
	assert_output '{"e":1}'
}

@test "a body over 1 MiB is 65 and nothing of it is sent" {
	q=$(new_queue big)
	head -c 1048600 /dev/zero | tr '\0' 'a' | sed 's/.*/"&"/' >big
	run evq-send --max-line-bytes 2000000 "$q" big
	assert_failure 65
	assert_output --partial 'MaximumMessageSize'
	run evq-ctl stat "$q"
	assert_equal "$(jq -r .ApproximateNumberOfMessages <<<"$output")" 0
}

@test "a batch whose total passes 1 MiB is split into requests, and all of it is sent" {
	q=$(new_queue split)
	sigv4_proxy_start
	export AWS_ENDPOINT_URL=$SIGV4_PROXY_URL
	for i in 1 2 3 4 5 6 7 8 9 10; do
		printf '"%s%s"\n' "$i" "$(head -c 250000 /dev/zero | tr '\0' 'x')"
	done >in
	run --separate-stderr evq-send -p "$q" in
	assert_success
	assert_equal "${#lines[@]}" 10
	# 10 messages of 250 kB: at least three SendMessageBatch requests.
	[ "$(grep -c '^ok AmazonSQS.SendMessageBatch ' "$SIGV4_PROXY_LOG")" -ge 3 ]
	evq-recv "$q" | cut -c1-3 | sort >got
	cut -c1-3 in | sort >want
	diff want got
}

@test "kill -9 of evq-send mid-stream: every MessageId it printed is on the server" {
	q=$(new_queue kill9)
	mkfifo feed
	( i=0; while [ ! -e stop ]; do i=$((i + 1)); echo "{\"i\":$i}"; done >feed ) 3>&- &
	feeder=$!
	evq-send -p --line-buffered "$q" <feed >ids 3>&- &
	pid=$!
	wait_for '[ "$(nlines ids 2>/dev/null)" -ge 50 ]' 120
	kill -9 "$pid"
	wait "$pid" || true
	touch stop
	wait "$feeder" || true
	# Whole lines only: the last one may be cut by the kill.
	grep '}$' ids | jq -r .MessageId | sort >printed
	[ "$(nlines printed)" -ge 50 ]
	evq-recv -e "$q" | jq -r .messageId | sort >onserver
	run comm -23 printed onserver
	assert_output ''
}

@test "a URI never becomes a local path: evq-send http://... with the server down creates no file" {
	unset AWS_ENDPOINT_URL
	run evq-send http://127.0.0.1:1/000000000000/jobs <<<'{"a":1}'
	assert_failure 69
	[ -z "$(find . -mindepth 1)" ]
	[ ! -e "$EVKIT_HOME/queues" ]
}

@test "server down: 69, quickly, for each command" {
	export AWS_ENDPOINT_URL=http://127.0.0.1:1
	start=$SECONDS
	run evq-send sqs://us-east-1/000000000000/down <<<'{"a":1}'
	assert_failure 69
	run evq-recv sqs://us-east-1/000000000000/down
	assert_failure 69
	run evq-ctl stat sqs://us-east-1/000000000000/down
	assert_failure 69
	[ $((SECONDS - start)) -lt 30 ]
}

@test "no such queue: 66 from evq-send, evq-recv and evq-ctl" {
	run evq-send sqs://us-east-1/000000000000/nosuch <<<'{"a":1}'
	assert_failure 66
	assert_output --partial 'nosuch'
	run evq-recv --lease 10 sqs://us-east-1/000000000000/nosuch
	assert_failure 66
	run evq-ctl purge sqs://us-east-1/000000000000/nosuch
	assert_failure 66
}

@test "no credentials: 77, naming the places looked in" {
	q=$(new_queue nocreds)
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	run evq-send "$q" <<<'{"a":1}'
	assert_failure 77
	assert_output --partial AWS_ACCESS_KEY_ID
	assert_output --partial "$AWS_SHARED_CREDENTIALS_FILE"
	run evq-recv "$q"
	assert_failure 77
}

@test "a wrong secret: 77 through the SigV4 proxy, and the secret is nowhere in the output" {
	q=$(new_queue wrongsecret)
	sigv4_proxy_start
	export AWS_ENDPOINT_URL=$SIGV4_PROXY_URL
	export AWS_SECRET_ACCESS_KEY='wrong/Secret+Key0000000000000000000000xyz'
	for cmd in "evq-send $q" "evq-recv $q" "evq-ctl stat $q"; do
		run $cmd <<<'{"a":1}'
		assert_failure 77
		refute_output --partial 'wrong/Secret'
		refute_output --partial 'Key0000000000000000000000xyz'
	done
	grep -q '^refused' "$SIGV4_PROXY_LOG"
}

@test "a throttling server: retried, then 75; throttled twice, then through" {
	throttle_start --mode throttling --first -1
	export AWS_ENDPOINT_URL=$THROTTLE_URL
	run evq-send sqs://us-east-1/000000000000/t <<<'{"a":1}'
	assert_failure 75
	[ "$(cat "$THROTTLE_COUNT")" -ge 3 ]
	throttle_stop
	export AWS_ENDPOINT_URL=$FAUXQS_URL
	q=$(new_queue throttled)
	throttle_start --mode unavailable --first 2 --upstream "$FAUXQS_URL"
	export AWS_ENDPOINT_URL=$THROTTLE_URL
	run evq-send "$q" <<<'{"a":1}'
	assert_success
	[ "$(cat "$THROTTLE_COUNT")" -ge 3 ]
}

@test "--peek is refused on a remote queue (2), and nothing is received" {
	q=$(new_queue peek)
	echo '{"p":1}' | evq-send "$q"
	run evq-recv --peek "$q"
	assert_failure 2
	assert_output --partial 'remote queue'
	run evq-recv "$q"
	assert_output '{"p":1}'
}

@test "every place that takes a QUEUE takes a remote one: fnrun --queue, a bus queue: target" {
	q=$(new_queue fnq)
	printf '{"n":%d}\n' 1 2 3 4 5 | evq-send "$q"
	run --separate-stderr fnrun --queue "$q" -- sh -c 'jq -c "[.Records[].eventSourceARN] | unique"'
	assert_success
	assert_output "[\"arn:aws:sqs:us-east-1:000000000000:${q##*/}\"]"
	run evq-ctl stat "$q"
	assert_equal "$(jq -r '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible' <<<"$output")" 0
	t=$(new_queue bust)
	printf '{"rules":[{"name":"r","pattern":{"source":["x"]},"targets":[{"id":"q","uri":"queue:%s"}]}]}\n' "$t" >r.json
	echo '{"source":"x","detail-type":"d","detail":{"a":1}}' | evbus-route -r r.json >/dev/null
	run evq-recv "$t"
	assert_success
	assert_output '{"source":"x","detail-type":"d","detail":{"a":1}}'
}

@test "--wait past 20 s is long polls of at most 20 s, repeated" {
	q=$(new_queue longwait)
	throttle_start --first 0 --upstream "$FAUXQS_URL" --bodies "$BATS_TEST_TMPDIR/bodies"
	run env AWS_ENDPOINT_URL="$THROTTLE_URL" evq-recv --wait 21 "$q"
	assert_failure 1
	run sed -n 's/^AmazonSQS.ReceiveMessage //p' "$BATS_TEST_TMPDIR/bodies"
	# Every poll within SQS's 20 s, and more than one long one.
	[ "$(jq -s 'map(.WaitTimeSeconds // 0) | max' <<<"$output")" -le 20 ]
	[ "$(jq -s 'map(select((.WaitTimeSeconds // 0) > 0)) | length' <<<"$output")" -ge 2 ]
	[ "$(jq -s 'map(.WaitTimeSeconds // 0) | add' <<<"$output")" -ge 21 ]
}
