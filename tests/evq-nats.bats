#!/usr/bin/env bats
# Queues on NATS JetStream beyond the shared suite (evq-suite-nats.bats):
# URIs and what fails how (bad URI 2, no server 69 at once, refused
# credentials 77, never printed), --replicas, delays, per-message leases,
# peek, dead letters under concurrent receivers, and kill -9 of senders
# and consumers with several real processes: every printed MessageId is
# stored, nothing is lost, nothing is consumed twice.
load test_helper
load lib/servers

setup_file() {
	nats_start
}

teardown_file() {
	nats_stop
}

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	unset NATS_USER NATS_PASSWORD NATS_TOKEN NATS_CREDS
	Q="${NATS_URL}q$BATS_TEST_NUMBER"
}

left() {
	evq-ctl stat "$1" | jq -r '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible'
}

@test "nats: a bad URI is a usage error (2) that says why, in every command" {
	for u in nats://127.0.0.1/q "nats://127.0.0.1:0/q" "${NATS_URL%/}" "${NATS_URL}a b" \
	    "${NATS_URL}q?replicas=9" "nats://hunter2@127.0.0.1:4222/q"; do
		run --separate-stderr evq-send "$u" <<<'{}'
		assert_failure 2
		[[ $stderr == *"$u"* || $stderr == *"***"* ]]
		[[ $stderr != *hunter2* ]]
		run evq-recv "$u"
		assert_failure 2
		run evq-ctl stat "$u"
		assert_failure 2
	done
	run --separate-stderr evq-ctl create "${NATS_URL}q" --replicas 0
	assert_failure 2
	run --separate-stderr evq-ctl create q --replicas 1
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "evq-ctl: create: --replicas applies to nats:// queues only"
}

@test "nats: no server listening: 69 at once, naming the servers" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	start=$(date +%s%N)
	run --separate-stderr evq-send "nats://127.0.0.1:$port/q" <<<'{}'
	assert_failure 69
	assert_equal "$stderr" "evq-send: nats://127.0.0.1:$port: cannot connect: No server available for connection"
	# Not retried: well under the seconds a reconnect loop would take.
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ]
	run evq-recv --wait 1 "nats://127.0.0.1:$port,127.0.0.1:$port/q"
	assert_failure 69
}

@test "nats: refused credentials are 77 and never printed; URI and NATS_USER/NATS_PASSWORD work" {
	local url=$NATS_URL pid=$NATS_WRAP_PID fd=$NATS_FD npid=$NATS_PID
	nats_start --user evq --pass 'pw-s3cret'
	auth=${NATS_URL#nats://}
	run --separate-stderr evq-ctl create "nats://evq:wrong-s3cret@${auth}q"
	assert_failure 77
	[[ $stderr == *"nats://evq:***@"* ]]
	[[ $stderr != *s3cret* ]]
	run evq-ctl create "nats://${auth}q"
	assert_failure 77
	run evq-ctl create "nats://evq:pw-s3cret@${auth}q"
	assert_success
	NATS_USER=evq NATS_PASSWORD=pw-s3cret evq-send "nats://${auth}q" <<<'{"a":1}'
	run env NATS_USER=evq NATS_PASSWORD=nope evq-recv "nats://${auth}q"
	assert_failure 77
	run env NATS_USER=evq NATS_PASSWORD=pw-s3cret evq-recv "nats://${auth}q"
	assert_success
	assert_output '{"a":1}'
	nats_stop
	export NATS_URL=$url NATS_WRAP_PID=$pid NATS_FD=$fd NATS_PID=$npid
}

@test "nats: create --replicas 1 makes a file-stored stream of 1 replica; create again alike is 0" {
	run evq-ctl create "$Q" --replicas 1 --visibility 45
	assert_success
	run evq-ctl create "$Q" --visibility 45
	assert_success
	run evq-ctl create "$Q" --visibility 46
	assert_failure 3
	stream=$(curl -s "$NATS_MONITOR_URL/jsz?streams=1&config=1" |
	    jq -c --arg s "evq-q$BATS_TEST_NUMBER" '.account_details[].stream_detail[] | select(.name == $s) |
	    [.config.num_replicas, .config.storage, .config.retention]')
	assert_equal "$stream" '[1,"file","workqueue"]'
	assert_equal "$(evq-ctl stat "$Q" | jq .VisibilityTimeout)" 45
}

@test "nats: --delay keeps a message out of sight until its time; then it is received once" {
	evq-ctl create "$Q"
	echo '{"late":1}' | evq-send --delay 3 "$Q"
	echo '{"now":1}' | evq-send "$Q"
	run evq-recv "$Q"
	assert_success
	assert_output '{"now":1}'
	wait_for '[ "$(evq-recv "$Q")" = "{\"late\":1}" ]' 60
	assert_equal "$(left "$Q")" 0
}

@test "nats: --lease S: the message comes back after S with its receive count up; --release at once" {
	evq-ctl create "$Q" --visibility 600
	echo '{"n":1}' | evq-send "$Q"
	run evq-recv --lease 1 "$Q"
	assert_success
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount <<<"$output")" 1
	run evq-recv "$Q"
	assert_failure 1		# leased
	wait_for 'evq-recv --lease 600 "$Q" >env 2>/dev/null' 60
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount env)" 2
	run evq-recv --release "$Q" <env
	assert_success
	run evq-recv -e "$Q"
	assert_success
	assert_equal "$(jq -r .attributes.ApproximateReceiveCount <<<"$output")" 3
	assert_equal "$(left "$Q")" 0
}

@test "nats: --ack refuses a handle of another queue (it names an ack subject, never a free subject)" {
	evq-ctl create "$Q"
	evq-ctl create "${Q}b"
	echo '{"n":1}' | evq-send "$Q"
	evq-recv --lease 600 "$Q" >env
	run --separate-stderr evq-recv --ack "${Q}b" <env
	assert_equal "$(left "$Q")" 1
	run evq-recv --ack "$Q" <<<'"foo.bar"'
	assert_equal "$(left "$Q")" 1
	run evq-recv --ack "$Q" <env
	assert_success
	assert_equal "$(left "$Q")" 0
}

@test "nats: --peek prints what is stored and changes nothing" {
	evq-ctl create "$Q"
	printf '{"n":%d}\n' 1 2 3 | evq-send "$Q"
	run evq-recv --peek "$Q"
	assert_success
	assert_output "$(printf '{"n":%d}\n' 1 2 3)"
	run evq-recv --peek -n 1 "$Q"
	assert_output '{"n":1}'
	assert_equal "$(left "$Q")" 3
	run evq-recv "$Q"
	assert_equal "${#lines[@]}" 3
}

@test "nats: FIFO: -e records carry group, dedup id and sequence; one message in flight at a time" {
	evq-ctl create "${Q}.fifo" --fifo --content-dedup
	printf '{"n":%d}\n' 1 2 3 | evq-send -g g1 "${Q}.fifo"
	run evq-recv --lease 60 -n 3 "${Q}.fifo"
	assert_success
	assert_equal "${#lines[@]}" 1	# the next waits for this one
	assert_equal "$(jq -r '[.body, .attributes.MessageGroupId, (.attributes.SequenceNumber | length),
	    (.attributes.MessageDeduplicationId | length)] | @tsv' <<<"$output")" "$(printf '{"n":1}\tg1\t20\t64')"
	evq-recv --ack "${Q}.fifo" <<<"$output"
	run evq-recv "${Q}.fifo"
	assert_output "$(printf '{"n":%d}\n' 2 3)"
}

@test "nats: dead letters with 3 concurrent receivers: each poison message in the DLQ once, none left" {
	evq-ctl create "${Q}dlq"
	evq-ctl create "$Q" --max-receives 1 --dlq "q${BATS_TEST_NUMBER}dlq"
	seq 1 30 | sed 's/.*/{"n":&}/' | evq-send -p "$Q" | jq -r .MessageId | sort >sent
	for i in 1 2 3; do
		( for _ in $(seq 1 200); do
			evq-recv --lease 0 "$Q" >/dev/null 2>&1
			[ "$(left "$Q")" = 0 ] && break
		done ) 3>&- &
	done
	wait
	assert_equal "$(left "$Q")" 0
	evq-recv -e "${Q}dlq" >dead
	jq -r .messageId dead | sort >got
	diff sent got
	assert_equal "$(jq -r .attributes.DeadLetterQueueSourceArn dead | sort -u)" \
	    "arn:aws:sqs:us-east-1:000000000000:q$BATS_TEST_NUMBER"
}

@test "nats: kill -9 of senders mid-stream: every printed MessageId is stored; consumers killed -9 lose nothing" {
	evq-ctl create "$Q" --visibility 2
	seq 1 20000 | sed 's/.*/{"n":&}/' >in
	for i in 1 2 3; do
		evq-send -p "$Q" in >"ids$i" 3>&- &
		eval "p$i=\$!"
	done
	wait_for '[ "$(cat ids1 ids2 ids3 2>/dev/null | wc -l)" -ge 3000 ]' 120
	kill -9 "$p1" "$p2" || true
	wait "$p3"
	wait "$p1" "$p2" || true
	cat ids1 ids2 ids3 | jq -r .MessageId | sort -u >printed
	[ "$(wc -l <ids3)" -eq 20000 ]
	# Two consumers, one killed -9 while it holds messages: those come
	# back after the visibility timeout; each printed id is received.
	evq-recv -e -f "$Q" >c1 3>&- &
	c1=$!
	wait_for '[ "$(nlines c1)" -ge 1000 ]' 120
	kill -9 "$c1"
	wait "$c1" || true
	evq-recv -e -f "$Q" >c2 3>&- &
	c2=$!
	wait_for '[ "$(left "$Q")" = 0 ]' 120
	kill "$c2"
	wait "$c2" || true
	cat c1 c2 | jq -r .messageId | sort -u >received
	[ -z "$(comm -23 printed received)" ]
	# Consume mode deletes only what was written: no id twice in c2, and
	# none of c1's lines again (c1's pipe was a file: every line it wrote
	# was delivered).
	[ -z "$(jq -r .messageId c2 | sort | uniq -d)" ]
}

@test "nats: evbus-route queue: targets and dead letters, and fnrun --queue, on nats:// queues" {
	evq-ctl create "$Q"
	evq-ctl create "${Q}dead"
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"q","uri":"queue:%s"},{"id":"e","uri":"exec:false","retry":{"attempts":1},"dead_letter":"queue:%s"}]}]}\n' \
	    "$Q" "${Q}dead" >r.json
	printf '{"t":"x","n":%d}\n' 1 2 3 | EVBUS_RETRY_BASE_MS=1 evbus-route -q --rules r.json
	run evq-recv -e "${Q}dead"
	assert_success
	assert_equal "$(jq -r .body <<<"$output" | jq -c .n | tr -d '\n')" 123
	run fnrun --queue "$Q" -b 10 --jq '[.Records | length, (map(.body | fromjson | .n) | add)]'
	assert_success
	assert_output '[3,6]'
	assert_equal "$(left "$Q")" 0
}

@test "nats: evq-ctl redrive without --to sends each dead letter back to the queue it came from" {
	evq-ctl create "${Q}dlq"
	evq-ctl create "$Q" --max-receives 1 --dlq "q${BATS_TEST_NUMBER}dlq"
	printf '{"n":%d}\n' 1 2 | evq-send -a k=v "$Q"
	evq-recv --lease 0 "$Q" >/dev/null
	run evq-recv --lease 0 "$Q"
	assert_failure 1		# both over maxReceiveCount: moved
	assert_equal "$(left "${Q}dlq")" 2
	run --separate-stderr evq-ctl redrive "${Q}dlq"
	assert_success
	assert_equal "$stderr" "evq-ctl: moved 2 message(s) from '${Q}dlq'"
	run evq-recv -e "$Q"
	assert_equal "$(jq -r '"\(.body) \(.messageAttributes.k.stringValue) \(.attributes.ApproximateReceiveCount)"' <<<"$output" |
	    sort | tr '\n' ' ')" '{"n":1} v 1 {"n":2} v 1 '
	assert_equal "$(left "${Q}dlq")" 0
}
