#!/usr/bin/env bats
# evq-recv: consume, lease/ack/release, peek, waiting, visibility,
# redrive, FIFO order, retention.
load test_helper

send() {
	local q=$1; shift
	printf '%s\n' "$@" | evq-send "$q"
}

@test "consume mode prints and deletes; exit 1 when nothing is there" {
	send q '{"n":1}' '{"n":2}'
	run evq-recv q
	assert_success
	assert_output "$(printf '{"n":1}\n{"n":2}')"
	run evq-recv q
	assert_failure 1
	assert_output ""
}

@test "-n N receives at most N, in order" {
	send q 1 2 3 4 5
	run evq-recv -n 2 q
	assert_output "$(printf '1\n2')"
	run evq-recv -n 10 q
	assert_output "$(printf '3\n4\n5')"
}

@test "a missing queue exits 66 and is not created" {
	run --separate-stderr evq-recv nosuch
	assert_failure 66
	assert_equal "$stderr" "evq-recv: queue 'nosuch' does not exist"
	assert_file_not_exists "$EVKIT_HOME/queues/nosuch.db"
}

@test "--envelope prints the AWS Lambda SQS record shape" {
	send q '{"a":1}'
	evq-recv -e q > env
	run jq -r 'keys_unsorted | join(",")' env
	assert_output "messageId,receiptHandle,body,attributes,messageAttributes,md5OfBody,eventSource,eventSourceARN,awsRegion"
	assert_equal "$(jq -r .body env)" '{"a":1}'
	assert_equal "$(jq -r .eventSource env)" "aws:sqs"
	assert_equal "$(jq -r .eventSourceARN env)" "arn:aws:sqs:us-east-1:000000000000:q"
	assert_equal "$(jq -r .md5OfBody env)" "bb6cb5c68df4652941caf652a366f2d8"
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount env)" 1
	run jq -e '.attributes | (.SentTimestamp|test("^[0-9]{13}$")) and (.ApproximateFirstReceiveTimestamp|test("^[0-9]{13}$"))' env
	assert_success
}

@test "AWS_REGION names the region in ARNs" {
	send q 1
	AWS_REGION=eu-west-3 evq-recv -e q > env
	assert_equal "$(jq -r .awsRegion env)" eu-west-3
	assert_equal "$(jq -r .eventSourceARN env)" "arn:aws:sqs:eu-west-3:000000000000:q"
}

@test "--lease hides messages until acknowledged; --ack deletes them" {
	send q 1 2
	evq-recv --lease 30 q > leased
	assert_equal "$(nlines leased)" 2
	run evq-recv q
	assert_failure 1
	assert_equal "$(evq-ctl stat q | jq .ApproximateNumberOfMessagesNotVisible)" 2
	run evq-recv --ack q < leased
	assert_success
	assert_equal "$(evq-ctl stat q | jq '.ApproximateNumberOfMessagesNotVisible + .ApproximateNumberOfMessages')" 0
}

@test "--ack takes bare receipt handles, as text or JSON strings" {
	send q 1 2
	evq-recv --lease 30 q > leased
	jq -r .receiptHandle leased | head -1 > h1
	jq .receiptHandle leased | tail -1 > h2
	run evq-recv --ack q h1 h2
	assert_success
	run evq-recv --peek q
	assert_failure 1
}

@test "--release makes leased messages visible at once" {
	send q 1
	evq-recv --lease 300 q > leased
	evq-recv --release q < leased
	run evq-recv -e q
	assert_success
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount <<< "$output")" 2
}

@test "a lease that expired returns the message, with a higher receive count" {
	send q '{"n":1}'
	evq-recv --lease 1 q > first
	sleep 1.2
	evq-recv --lease 30 q > second
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount second)" 2
	assert_equal "$(jq -r .messageId first)" "$(jq -r .messageId second)"
	[ "$(jq -r .receiptHandle first)" != "$(jq -r .receiptHandle second)" ]
}

@test "a receipt handle from an expired lease can no longer delete the message" {
	send q '{"n":1}'
	evq-recv --lease 1 q > first
	sleep 1.2
	run --separate-stderr evq-recv --ack q < first
	assert_failure 1
	assert_equal "$stderr" "evq-recv: receipt handle $(jq -r .receiptHandle first): lease expired or message already gone"
	run evq-recv q
	assert_output '{"n":1}'
}

@test "an old handle cannot delete after the message was received again" {
	send q '{"n":1}'
	evq-recv --lease 1 q > first
	sleep 1.2
	evq-recv --lease 30 q > second
	run evq-recv --ack q < first
	assert_failure 1
	run evq-recv --ack q < second
	assert_success
}

@test "bad --ack lines are bad input (65); --errors goes on" {
	send q 1
	evq-recv --lease 30 q > leased
	run --separate-stderr evq-recv --ack q <<< 'not-a-handle'
	assert_failure 65
	assert_equal "$stderr" "evq-recv: <stdin>:1: not a receipt handle"
	{ echo '{"x":1}'; cat leased; } | evq-recv --ack --errors bad q
	assert_equal "$(jq -r .error bad)" "no receiptHandle in this object"
	run evq-recv --peek q
	assert_failure 1
}

@test "--peek prints without changing anything" {
	send q 1 2
	run evq-recv --peek q
	assert_output "$(printf '1\n2')"
	run evq-recv --peek -n 1 q
	assert_output 1
	run evq-recv q
	assert_output "$(printf '1\n2')"
}

@test "--wait returns as soon as a message is sent (long polling)" {
	evq-ctl create q
	( sleep 0.5; send q '{"late":1}' ) 3>&- &
	start=$(date +%s%N)
	run evq-recv --wait 60 q
	end=$(date +%s%N)
	assert_success
	assert_output '{"late":1}'
	ms=$(( (end - start) / 1000000 ))
	[ "$ms" -lt 20000 ] || { echo "took ${ms}ms"; false; }
	wait
}

@test "--wait wakes on a send, long before its time is up" {
	evq-ctl create q
	evq-recv --wait 60 q > got 3>&- &
	pid=$!
	sleep 0.5
	# timed from the commit, not from the start of a (sanitized, loaded)
	# evq-send process
	send q '{"n":1}'
	t0=$(date +%s%N)
	wait_for '[ -s got ]' 30
	t1=$(date +%s%N)
	wait "$pid"
	ms=$(( (t1 - t0) / 1000000 ))
	# About 100 ms on a quiet machine; the bound only tells a wake-up from
	# the 60 s timeout on a loaded one.
	[ "$ms" -lt 20000 ] || { echo "woke after ${ms}ms"; false; }
}

@test "--wait gives up after the time with exit 1" {
	evq-ctl create q
	start=$(date +%s%N)
	run evq-recv --wait 0.5 q
	assert_failure 1
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$ms" -ge 450 ] && [ "$ms" -lt 20000 ]
}

@test "the queue's ReceiveMessageWaitTimeSeconds is the default wait" {
	evq-ctl create q --wait 1
	start=$(date +%s%N)
	run evq-recv q
	assert_failure 1
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$ms" -ge 900 ]
}

@test "a delayed message wakes a waiting receiver when it becomes visible" {
	send q 0
	evq-recv q
	echo '{"d":1}' | evq-send --delay 1 q
	run evq-recv --wait 5 q
	assert_output '{"d":1}'
}

@test "--follow keeps receiving until killed, and SIGTERM ends it cleanly" {
	evq-ctl create q
	evq-recv -f --line-buffered q > got 3>&- &
	pid=$!
	send q 1
	wait_for '[ "$(nlines got)" -ge 1 ]'
	send q 2
	wait_for '[ "$(nlines got)" -ge 2 ]'
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	assert_equal "$(cat got)" "$(printf '1\n2')"
	assert_equal "$(evq-ctl stat q | jq '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible')" 0
}

@test "'evq-recv q | head -n 1' leaves the unwritten rest in the queue, visible" {
	seq 1 100000 | evq-send q
	evq-recv q | head -n 1 > first
	assert_equal "$(cat first)" 1
	# What reached the pipe before head left (at most a pipe buffer and
	# head's read-ahead) is gone; the rest is back at once, uncounted.
	rest=$(evq-ctl stat q | jq .ApproximateNumberOfMessages)
	[ "$rest" -ge 70000 ] && [ "$rest" -le 99999 ]
	assert_equal "$(evq-ctl stat q | jq .ApproximateNumberOfMessagesNotVisible)" 0
	assert_equal "$(evq-recv -e -n 1 q | jq -r .attributes.ApproximateReceiveCount)" 1
}

@test "'evq-recv q | head -n 1' of 1000 messages leaves 999: a line counts once the reader read it" {
	seq 1 1000 | evq-send q
	evq-recv q | head -n 1 > first
	assert_equal "$(cat first)" 1
	assert_equal "$(evq-ctl stat q | jq -c '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]')" '[999,0]'
	# Put back at once and uncounted, in order.
	run evq-recv -e -n 1 q
	assert_equal "$(jq -c '[.body, .attributes.ApproximateReceiveCount]' <<< "$output")" '["2","1"]'
}

@test "evq-recv -f: a reader that takes one line and leaves loses nothing, and the follower exits" {
	seq 1 1000 | evq-send q
	run timeout 60 bash -c 'evq-recv -f q | while read -r l; do echo "$l"; break; done'
	assert_success
	assert_output 1
	assert_equal "$(evq-ctl stat q | jq -c '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]')" '[999,0]'
	# Waiting on an empty queue, it notices its reader left (no further send).
	evq-ctl create empty
	run timeout 60 bash -c 'evq-recv -f empty | (sleep 0.2; exit 0); echo "rc=${PIPESTATUS[0]}"'
	assert_output rc=141
	run timeout 60 bash -c 'evq-recv --wait 50 empty | true; echo "rc=${PIPESTATUS[0]}"'
	assert_output rc=141
}

@test "on a socket too, what the reader did not read goes back" {
	command -v python3 > /dev/null || skip "python3 runs the socket reader"
	seq 1 1000 | evq-send q
	run timeout 60 python3 -c '
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(["evq-recv", "q"], stdout=a.fileno())
a.close()
line = b""
while not line.endswith(b"\n"):
	line += b.recv(1)
b.close()
print(line.decode().strip(), p.wait())'
	assert_output '1 -13'
	# A socket's close throws its unread bytes away, so the line being
	# read when the reader left may come back (never lost): 999 or 1000.
	left=$(evq-ctl stat q | jq '.ApproximateNumberOfMessages')
	[ "$left" -ge 999 ] && [ "$left" -le 1000 ]
	assert_equal "$(evq-ctl stat q | jq .ApproximateNumberOfMessagesNotVisible)" 0
}

@test "a slow reader gets every message, and each is deleted once read" {
	seq 1 3000 | evq-send q
	evq-recv q | { sleep 0.5; cat; } > all
	assert_equal "$(nlines all)" 3000
	assert_equal "$(cat all)" "$(seq 1 3000)"
	assert_equal "$(evq-ctl stat q | jq -c '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]')" '[0,0]'
}

@test "a reader slower than the VisibilityTimeout: the lease is renewed while it reads" {
	evq-ctl create v --visibility 1
	seq 1 5 | evq-send v
	evq-recv v 2> err | { sleep 6; cat; } > got &
	wait_for '[ "$(evq-ctl stat v | jq .ApproximateNumberOfMessagesNotVisible)" = 5 ]' 30
	sleep 3		# three timeouts later, another receiver still finds nothing
	run evq-recv v
	assert_failure 1
	wait
	assert_equal "$(cat got)" "$(seq 1 5)"
	assert_equal "$(cat err)" ""
	assert_equal "$(evq-ctl stat v | jq -c '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]')" '[0,0]'
}

@test "redrive: past maxReceiveCount a message moves to the DLQ, atomically, with its id" {
	evq-ctl create dlq
	evq-ctl create work --visibility 1 --max-receives 2 --dlq dlq
	send work '{"poison":1}'
	evq-recv --lease 1 work > r1
	sleep 1.1
	evq-recv --lease 1 work > r2
	sleep 1.1
	run evq-recv --lease 1 work
	assert_failure 1
	assert_equal "$(evq-ctl stat work | jq '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible')" 0
	evq-recv -e dlq > dead
	assert_equal "$(jq -r .messageId dead)" "$(jq -r .messageId r1)"
	assert_equal "$(jq -r .body dead)" '{"poison":1}'
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount dead)" 4
	assert_equal "$(jq -r .attributes.DeadLetterQueueSourceArn dead)" "arn:aws:sqs:us-east-1:000000000000:work"
	assert_equal "$(jq -r .attributes.SentTimestamp dead)" "$(jq -r .attributes.SentTimestamp r1)"
}

@test "redrive with a missing DLQ keeps the message and warns" {
	evq-ctl create dlq
	evq-ctl create work --visibility 1 --max-receives 1 --dlq dlq
	send work 1
	evq-recv --lease 1 work > /dev/null
	evq-ctl delete dlq
	sleep 1.1
	run --separate-stderr evq-recv work
	assert_failure 1
	assert_equal "$stderr" "evq-recv: queue 'work': dead-letter queue 'dlq' does not exist; 1 message(s) kept"
	assert_equal "$(evq-ctl stat work | jq .ApproximateNumberOfMessages)" 1
}

@test "FIFO: order per group, and nothing of a group while one is in flight" {
	evq-ctl create f.fifo --content-dedup
	printf '{"g":"A","n":1}\n{"g":"A","n":2}\n{"g":"B","n":1}\n{"g":"A","n":3}\n' | evq-send --group-from .g f.fifo
	evq-recv --lease 30 -n 1 f.fifo > a1
	assert_equal "$(jq -r .body a1)" '{"g":"A","n":1}'
	run evq-recv --lease 30 f.fifo
	assert_equal "$(jq -r .body <<< "$output")" '{"g":"B","n":1}'
	run evq-recv --lease 30 f.fifo
	assert_failure 1
	evq-recv --ack f.fifo < a1
	run evq-recv f.fifo
	assert_output "$(printf '{"g":"A","n":2}\n{"g":"A","n":3}')"
}

@test "FIFO: a released head is delivered again before the rest of its group" {
	evq-ctl create f.fifo --content-dedup
	printf '1\n2\n3\n' | evq-send -g g f.fifo
	evq-recv --lease 30 -n 1 f.fifo > h
	evq-recv --release f.fifo < h
	run evq-recv f.fifo
	assert_output "$(printf '1\n2\n3')"
}

@test "FIFO: SequenceNumber increases within a group" {
	evq-ctl create f.fifo --content-dedup
	printf '1\n2\n3\n' | evq-send -g g f.fifo
	run sh -c "evq-recv -e f.fifo | jq -r .attributes.SequenceNumber"
	assert_equal "$output" "$(printf '%s\n' "$output" | sort)"
	assert_equal "$(echo "$output" | sort -u | wc -l)" 3
}

@test "messages past MessageRetentionPeriod are dropped" {
	evq-ctl create q --retention 60
	send q '"old"' '"new"'
	sqlite3 "$EVKIT_HOME/queues/q.db" "update msg set sent_at = sent_at - 61000 where id = 1"
	run evq-recv --peek q
	assert_output '"new"'
	run evq-recv q
	assert_output '"new"'
	assert_equal "$(sqlite3 "$EVKIT_HOME/queues/q.db" 'select count(*) from msg')" 0
}

@test "options that exclude each other are usage errors" {
	evq-ctl create q
	run evq-recv --peek --lease 5 q
	assert_failure 2
	run evq-recv --ack --release q
	assert_failure 2
	run evq-recv --peek -f q
	assert_failure 2
	run evq-recv q extra
	assert_failure 2
	run evq-recv -n 0 q
	assert_failure 2
}

@test "consume mode deletes what it printed on a queue whose VisibilityTimeout is 0" {
	evq-ctl create q --visibility 0
	seq 1 3 | evq-send q
	run --separate-stderr evq-recv q
	assert_success
	assert_output "$(seq 1 3)"
	assert_equal "$stderr" ''
	run evq-recv --peek q
	assert_failure 1
	# a pipe too: the reader's pace decides, as with any timeout
	seq 4 6 | evq-send q
	evq-recv q | cat > got
	assert_equal "$(cat got)" "$(seq 4 6)"
	run evq-recv --peek q
	assert_failure 1
}
