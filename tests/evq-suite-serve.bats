#!/usr/bin/env bats
# The queue behaviour suite on evkit-serve (sqs:// URIs to its SQS API):
# what passes against fauxqs passes against it too.
# The bodies are tests/lib/queue-suite.bash's, shared by every backend.

load test_helper
load lib/servers
load lib/queue-suite

setup_file() {
	export BACKEND=serve
	qs_setup_file
}

teardown_file() {
	qs_teardown_file
}

@test "serve: send, then consume: every body byte for byte, then nothing left (exit 1)" {
	qs_send_consume
}

@test "serve: -p prints each message's MessageId and MD5OfMessageBody, the ids the receiver gets" {
	qs_print_ids
}

@test "serve: --lease prints Lambda SQS records (ARN, region, MD5, receive count); --ack deletes them" {
	qs_lease_ack
}

@test "serve: --release makes leased messages visible again" {
	qs_release
}

@test "serve: -n takes at most N, the rest stay" {
	qs_max
}

@test "serve: --wait: none within it exits 1; a message sent meanwhile is received" {
	qs_wait
}

@test "serve: -f receives messages as they arrive and deletes them" {
	qs_follow
}

@test "serve: message attributes of every type come out in Lambda's shape" {
	qs_attributes
}

@test "serve: FIFO: group and dedup ids, SequenceNumber, duplicates dropped, order kept" {
	qs_fifo
}

@test "serve: evq-ctl set and stat; a range error is 2; create with other attributes is 3" {
	qs_set_stat
}

@test "serve: evq-ctl purge empties, delete removes (then 66)" {
	qs_purge_delete
}

@test "serve: dead letters after maxReceiveCount; evq-ctl redrive --to moves them back; into itself is 2" {
	qs_redrive
}

@test "serve: a queue that does not exist is 66" {
	qs_missing
}

@test "serve: evq-ctl list shows the queues" {
	qs_list
}

@test "serve: evq-recv | head -n 1 deletes the one line read; the rest are visible again at once" {
	qs_pipe_head
}
