#!/usr/bin/env bats
# fnrun --queue: the SQS event source mapping over an evq queue — leased
# batches, delete on success, batchItemFailures, leases and the redrive
# policy, drain and --follow, and nothing lost when fnrun is killed.
load test_helper

# "VISIBLE IN-FLIGHT" of queue $1.
counts() {
	evq-ctl stat "$1" | jq -r '"\(.ApproximateNumberOfMessages) \(.ApproximateNumberOfMessagesNotVisible)"'
}

# A handler that reports the messages whose body is in "$FAIL" (words) as
# batchItemFailures.
FAILS='jq -c --arg f " $FAIL " "{batchItemFailures: [.Records[] | select(.body as \$b | \$f | contains(\" \" + \$b + \" \")) | {itemIdentifier: .messageId}]}"'

@test "--queue drains the queue in leased batches of --batch and deletes them" {
	evq-ctl create jobs
	seq 1 25 | evq-send jobs
	run fnrun --queue jobs -b 10 --jq '[.Records | length, (map(.body | tonumber) | add)]'
	assert_success
	assert_output "$(printf '[10,55]\n[10,155]\n[5,115]')"
	assert_equal "$(counts jobs)" "0 0"
}

@test "--queue: the records have Lambda's SQS shape; 10 per batch by default" {
	evq-ctl create jobs
	seq 1 12 | evq-send jobs
	run fnrun --queue jobs --jq '.Records | [length, (.[0] | keys_unsorted), .[0].eventSource, .[0].attributes.ApproximateReceiveCount]'
	assert_success
	assert_line -n 0 '[10,["messageId","receiptHandle","body","attributes","messageAttributes","md5OfBody","eventSource","eventSourceARN","awsRegion"],"aws:sqs","1"]'
	assert_line -n 1 --partial '[2,'
}

@test "--queue: a failing handler leaves the whole batch to its lease; it comes back counted" {
	evq-ctl create jobs --visibility 1
	seq 1 3 | evq-send jobs
	run --separate-stderr fnrun -t 1 --queue jobs -- sh -c 'cat > /dev/null; exit 1'
	assert_failure 1
	assert_equal "$(counts jobs)" "0 3"
	wait_for '[ "$(counts jobs)" = "3 0" ]'
	run fnrun --queue jobs --jq '[.Records[].attributes.ApproximateReceiveCount]'
	assert_success
	assert_output '["2","2","2"]'
	assert_equal "$(counts jobs)" "0 0"
}

@test "--queue: batchItemFailures leave exactly those; the redrive policy dead-letters them in one run" {
	evq-ctl create dead
	evq-ctl create jobs --visibility 1 --max-receives 2 --dlq dead
	seq 1 5 | evq-send jobs
	export FAIL="2 4"
	run --separate-stderr fnrun -t 1 --queue jobs -E FAIL -- sh -c "tee -a seen | $FAILS"
	assert_failure 1
	# First receive: all five, two failed; their leases ran out, the second
	# receive got the same two, counted twice; the third moved them.
	assert_equal "$(jq -c '.batchItemFailures | length' <<< "$output" | tr '\n' ' ')" "2 2 "
	run jq -c '[.Records[] | [.body, .attributes.ApproximateReceiveCount]]' seen
	assert_line -n 1 '[["2","2"],["4","2"]]'
	assert_equal "${#lines[@]}" 2
	assert_equal "$(counts jobs)" "0 0"
	run evq-recv dead
	assert_output "$(printf '2\n4')"
}

@test "--queue: a poison message reaches the dead-letter queue in one run" {
	evq-ctl create dead
	evq-ctl create jobs --visibility 1 --max-receives 2 --dlq dead
	echo '"poison"' | evq-send jobs
	run --separate-stderr fnrun -t 1 --queue jobs -- sh -c 'cat >> seen; exit 1'
	assert_failure 1
	assert_equal "$(wc -l < seen)" 2
	assert_equal "$(counts jobs)" "0 0"
	run evq-recv dead
	assert_output '"poison"'
}

@test "--queue: an itemIdentifier not in the batch fails the whole batch, as Lambda" {
	evq-ctl create jobs
	seq 1 3 | evq-send jobs
	run --separate-stderr fnrun --queue jobs -- sh -c 'cat > /dev/null; echo "{\"batchItemFailures\":[{\"itemIdentifier\":\"no-such-id\"}]}"'
	assert_failure 1
	[[ $stderr == *"invalid batchItemFailures"* ]]
	assert_equal "$(counts jobs)" "0 3"
	evq-ctl purge jobs
	seq 1 2 | evq-send jobs
	run --separate-stderr fnrun --queue jobs -- sh -c 'cat > /dev/null; echo "{\"batchItemFailures\":[{\"itemId\":\"x\"}]}"'
	assert_failure 1
	assert_equal "$(counts jobs)" "0 2"
	evq-ctl purge jobs
	seq 1 2 | evq-send jobs
	run fnrun --queue jobs -- sh -c 'cat > /dev/null; echo "{\"batchItemFailures\":[]}"'
	assert_success
	assert_equal "$(counts jobs)" "0 0"
}

@test "--queue: messages leased elsewhere or delayed do not keep it running" {
	evq-ctl create jobs
	echo '"a"' | evq-send jobs
	evq-recv -l 60 jobs > /dev/null
	echo '"b"' | evq-send -d 60 jobs
	run timeout 5 fnrun --queue jobs -- cat
	assert_success
	assert_output ""
}

@test "--queue --follow: picks up messages sent later, stops on SIGTERM" {
	evq-ctl create jobs
	echo 1 | evq-send jobs
	fnrun --follow --line-buffered --queue jobs --jq '[.Records[].body]' > out 3>&- &
	pid=$!
	wait_for '[ "$(cat out)" = "[\"1\"]" ]'
	echo 2 | evq-send jobs
	wait_for '[ "$(nlines out)" = 2 ]'
	assert_equal "$(sed -n 2p out)" '["2"]'
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	assert_equal "$(counts jobs)" "0 0"
}

@test "--queue: fnrun killed with SIGKILL mid-batch loses nothing" {
	evq-ctl create jobs --visibility 1
	seq 1 3 | evq-send jobs
	fnrun -t 2 --queue jobs -- sh -c 'echo $$ > started; exec sleep 30' > /dev/null 3>&- &
	pid=$!
	wait_for '[ -s started ]'
	kill -KILL "$pid"
	wait "$pid" || true
	kill -KILL "$(cat started)" 2> /dev/null || true
	assert_equal "$(counts jobs)" "0 3"
	wait_for '[ "$(counts jobs)" = "3 0" ]'
	run fnrun --queue jobs --jq '[.Records[].body]'
	assert_output '["1","2","3"]'
	assert_equal "$(counts jobs)" "0 0"
}

@test "--queue: usage errors and a missing queue" {
	run fnrun --follow -- cat
	assert_failure 2
	evq-ctl create jobs
	run fnrun --queue jobs --dlq file:x -- cat
	assert_failure 2
	run fnrun --queue jobs -r 1 -- cat
	assert_failure 2
	run fnrun --queue jobs in -- cat
	assert_failure 2
	evq-ctl create jobs.fifo --fifo
	run fnrun --queue jobs.fifo -b 11 -- cat
	assert_failure 2
	run fnrun --queue nope -- cat
	assert_failure 66
}
