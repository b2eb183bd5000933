#!/usr/bin/env bats
# The queue behaviour suite on NATS JetStream (nats-server -js on 127.0.0.1,
# nats:// URIs).
# The bodies are tests/lib/queue-suite.bash's, shared by every backend.

load test_helper
load lib/servers
load lib/queue-suite

setup_file() {
	export BACKEND=nats
	qs_setup_file
}

teardown_file() {
	qs_teardown_file
}

@test "nats: send, then consume: every body byte for byte, then nothing left (exit 1)" {
	qs_send_consume
}

@test "nats: -p prints each message's MessageId and MD5OfMessageBody, the ids the receiver gets" {
	qs_print_ids
}

@test "nats: --lease prints Lambda SQS records (ARN, region, MD5, receive count); --ack deletes them" {
	qs_lease_ack
}

@test "nats: --release makes leased messages visible again" {
	qs_release
}

@test "nats: -n takes at most N, the rest stay" {
	qs_max
}

@test "nats: --wait: none within it exits 1; a message sent meanwhile is received" {
	qs_wait
}

@test "nats: -f receives messages as they arrive and deletes them" {
	qs_follow
}

@test "nats: message attributes of every type come out in Lambda's shape" {
	qs_attributes
}

@test "nats: FIFO: group and dedup ids, SequenceNumber, duplicates dropped, order kept" {
	qs_fifo
}

@test "nats: evq-ctl set and stat; a range error is 2; create with other attributes is 3" {
	qs_set_stat
}

@test "nats: evq-ctl purge empties, delete removes (then 66)" {
	qs_purge_delete
}

@test "nats: dead letters after maxReceiveCount; evq-ctl redrive --to moves them back; into itself is 2" {
	qs_redrive
}

@test "nats: a queue that does not exist is 66" {
	qs_missing
}

@test "nats: evq-ctl list shows the queues" {
	qs_list
}

@test "nats: evq-recv | head -n 1 deletes the one line read; the rest are visible again at once" {
	qs_pipe_head
}
