#!/usr/bin/env bats
# evq-ctl: create, set, stat, list, purge, redrive, delete.
load test_helper

@test "create with attributes; stat shows them in SQS's names" {
	evq-ctl create q --visibility 45 --delay 2 --retention 3600 --wait 5 --max-message-bytes 2048
	run evq-ctl stat q
	assert_success
	run jq -c '[.QueueName, .VisibilityTimeout, .DelaySeconds, .MessageRetentionPeriod,
	    .ReceiveMessageWaitTimeSeconds, .MaximumMessageSize, .FifoQueue, .QueueArn]' <<< "$output"
	assert_output '["q",45,2,3600,5,2048,false,"arn:aws:sqs:us-east-1:000000000000:q"]'
}

@test "create is idempotent with the same attributes, a conflict (3) with others" {
	evq-ctl create q --visibility 10
	run evq-ctl create q --visibility 10
	assert_success
	run --separate-stderr evq-ctl create q --visibility 11
	assert_failure 3
	assert_equal "$stderr" "evq-ctl: create: queue 'q' already exists with other attributes (change them with 'evq-ctl set')"
}

@test "defaults are SQS's: 30 s visibility, 4 days retention, 1 MiB" {
	evq-ctl create q
	run jq -c '[.VisibilityTimeout, .MessageRetentionPeriod, .MaximumMessageSize, .DelaySeconds]' < <(evq-ctl stat q)
	assert_output '[30,345600,1048576,0]'
}

@test "FIFO queues: --fifo needs a .fifo name, and a .fifo name means FIFO" {
	run evq-ctl create plain --fifo
	assert_failure 2
	evq-ctl create j.fifo --content-dedup
	assert_equal "$(evq-ctl stat j.fifo | jq -c '[.FifoQueue, .ContentBasedDeduplication]')" '[true,true]'
	run evq-ctl create q --content-dedup
	assert_failure 2
}

@test "stat counts visible, in-flight and delayed messages" {
	printf '1\n2\n3\n' | evq-send q
	echo 4 | evq-send --delay 60 q
	evq-recv --lease 60 -n 1 q > /dev/null
	run jq -c '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible, .ApproximateNumberOfMessagesDelayed]' < <(evq-ctl stat q)
	assert_output '[2,1,1]'
}

@test "set changes attributes by SQS name and validates ranges" {
	evq-ctl create q
	evq-ctl set q VisibilityTimeout=5 DelaySeconds=1
	assert_equal "$(evq-ctl stat q | jq -c '[.VisibilityTimeout, .DelaySeconds]')" '[5,1]'
	run --separate-stderr evq-ctl set q VisibilityTimeout=43201
	assert_failure 2
	assert_equal "$stderr" "evq-ctl: q: invalid VisibilityTimeout '43201': VisibilityTimeout must be 0 to 43200 seconds"
	run evq-ctl set q Bogus=1
	assert_failure 2
	run evq-ctl set q FifoQueue=true
	assert_failure 2
	run evq-ctl set q novalue
	assert_failure 2
}

@test "RedrivePolicy takes SQS's JSON, with an ARN or a name, and checks the DLQ" {
	evq-ctl create dlq
	evq-ctl create q
	evq-ctl set q 'RedrivePolicy={"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}'
	assert_equal "$(evq-ctl stat q | jq -c .RedrivePolicy)" '{"deadLetterTarget":"dlq","maxReceiveCount":3}'
	run evq-ctl set q 'RedrivePolicy={"deadLetterTarget":"nosuch","maxReceiveCount":3}'
	assert_failure 2
	assert_output --partial "does not exist"
	run evq-ctl set q 'RedrivePolicy={"deadLetterTarget":"q","maxReceiveCount":3}'
	assert_failure 2
	evq-ctl create f.fifo
	run evq-ctl set q 'RedrivePolicy={"deadLetterTarget":"f.fifo","maxReceiveCount":3}'
	assert_failure 2
	run evq-ctl set q 'RedrivePolicy=[1]'
	assert_failure 2
	evq-ctl set q RedrivePolicy=
	assert_equal "$(evq-ctl stat q | jq .RedrivePolicy)" null
}

@test "a path DLQ is stored absolute, so it works from any directory" {
	mkdir sub
	evq-ctl create ./sub/dlq.db
	evq-ctl create ./sub/q.db --visibility 1 --max-receives 1 --dlq ./sub/dlq.db
	echo 1 | evq-send ./sub/q.db
	evq-recv --lease 1 ./sub/q.db > /dev/null
	sleep 1.1
	( cd / && evq-recv "$BATS_TEST_TMPDIR/sub/q.db" ) || true
	run evq-recv ./sub/dlq.db
	assert_output 1
}

@test "list prints every named queue, sorted" {
	evq-ctl create b
	evq-ctl create a
	evq-ctl create c.fifo
	run evq-ctl list
	assert_success
	assert_equal "$(jq -r .QueueName <<< "$output" | paste -sd,)" "a,b,c.fifo"
}

@test "purge deletes visible and in-flight messages" {
	printf '1\n2\n' | evq-send q
	evq-recv --lease 60 -n 1 q > /dev/null
	evq-ctl purge q
	assert_equal "$(evq-ctl stat q | jq '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible')" 0
}

@test "redrive moves dead letters back to their source queue as new messages" {
	evq-ctl create dlq
	evq-ctl create work --visibility 1 --max-receives 1 --dlq dlq
	echo '{"job":1}' | evq-send work
	evq-recv --lease 1 work > first
	sleep 1.1
	run evq-recv work
	assert_failure 1
	assert_equal "$(evq-ctl stat dlq | jq .ApproximateNumberOfMessages)" 1
	evq-ctl redrive dlq
	assert_equal "$(evq-ctl stat dlq | jq .ApproximateNumberOfMessages)" 0
	evq-recv -e work > back
	assert_equal "$(jq -r .body back)" '{"job":1}'
	[ "$(jq -r .messageId back)" != "$(jq -r .messageId first)" ]
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount back)" 1
}

@test "redrive --to sends dead letters to another queue" {
	evq-ctl create dlq
	evq-ctl create other
	evq-ctl create work --visibility 1 --max-receives 1 --dlq dlq
	echo 1 | evq-send work
	evq-recv --lease 1 work > /dev/null
	sleep 1.1
	evq-recv work || true
	evq-ctl redrive dlq --to other
	run evq-recv other
	assert_output 1
}

@test "redrive to a missing queue fails (66) and keeps the dead letters" {
	evq-ctl create dlq
	evq-ctl create work --visibility 1 --max-receives 1 --dlq dlq
	echo 1 | evq-send work
	evq-recv --lease 1 work > /dev/null
	sleep 1.1
	evq-recv work || true
	run evq-ctl redrive dlq --to nosuch
	assert_failure 66
	assert_equal "$(evq-ctl stat dlq | jq .ApproximateNumberOfMessages)" 1
}

@test "delete removes the queue and its files, and only a queue" {
	echo 1 | evq-send q
	evq-ctl delete q
	assert_file_not_exists "$EVKIT_HOME/queues/q.db"
	assert_file_not_exists "$EVKIT_HOME/queues/q.db-wal"
	run evq-ctl stat q
	assert_failure 66
	echo precious > file.db
	run evq-ctl delete ./file.db
	assert_failure 65
	assert_file_exists file.db
}

@test "usage errors" {
	run evq-ctl
	assert_failure 2
	run evq-ctl frobnicate q
	assert_failure 2
	run evq-ctl stat
	assert_failure 2
	run evq-ctl create q --max-receives 3
	assert_failure 2
	run evq-ctl create q --visibility 99999
	assert_failure 2
	run --separate-stderr evq-ctl --help
	assert_success
	assert_line --index 0 "usage: evq-ctl [-q] COMMAND [OPTIONS] [QUEUE] [ARGS...]"
	run evq-ctl --version
	assert_output --regexp '^evq-ctl \(evkit\) '
}

@test "each subcommand takes only its own options; global options go before it" {
	evq-ctl create q
	run --separate-stderr evq-ctl stat q --fifo
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "evq-ctl stat: unrecognized option '--fifo'"
	run evq-ctl purge q --to other
	assert_failure 2
	run evq-ctl create r --to q
	assert_failure 2
	run evq-ctl list extra
	assert_failure 2
	run --separate-stderr evq-ctl -q list
	assert_success
	assert_output --partial '"QueueName":"q"'
	run --separate-stderr evq-ctl -q purge q
	assert_success
	assert_equal "$stderr" ""
	# Options after the operand still work, as before.
	evq-ctl create f.fifo --content-dedup
	assert_equal "$(evq-ctl stat f.fifo | jq .ContentBasedDeduplication)" true
}

@test "redrive into the queue itself is refused (2), not an endless loop" {
	evq-ctl create dlq
	printf '1\n2\n' | evq-send dlq
	run --separate-stderr timeout 20 evq-ctl redrive dlq --to dlq
	assert_failure 2
	assert_equal "$stderr" "evq-ctl: redrive: queue 'dlq' cannot be redriven into itself"
	run timeout 20 evq-ctl redrive dlq --to "$EVKIT_HOME/queues/dlq.db"
	assert_failure 2
	assert_equal "$(evq-ctl stat dlq | jq .ApproximateNumberOfMessages)" 2
}

@test "a closed stdout (EPIPE) ends evq-ctl list quietly" {
	for i in $(seq 1 50); do evq-ctl create "q$i"; done
	run bash -c 'set -o pipefail; evq-ctl list 2>err | head -n 1; echo "rc=${PIPESTATUS[0]}"'
	assert_line --index 0 --partial '"QueueName":"q1"'
	assert_equal "$(cat err 2>/dev/null)" ""
}
