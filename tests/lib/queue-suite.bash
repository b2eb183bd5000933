# The queue behaviour suite, written once and run on every backend:
#   tests/evq-suite-local.bats       BACKEND=local  (SQLite under $EVKIT_HOME)
#   tests/evq-suite-sqs.bats         BACKEND=sqs    (fauxqs 1.9.2, sqs:// URIs)
#   tests/evq-suite-sqs-checked.bats BACKEND=sqs    through the SigV4 proxy
#                                    (botocore checks every signature, with
#                                    a session token)
#   tests/evq-suite-serve.bats       BACKEND=serve  (evkit-serve, sqs:// URIs)
#   tests/evq-suite-nats.bats        BACKEND=nats   (nats-server -js,
#                                    nats:// URIs)
# Each thin .bats file names one @test per qs_* body below.  A body uses
# only evq-* commands (and qs_* helpers), so what differs between backends
# shows as a test that fails on one of them.
#
# Differences that are fauxqs's, not evkit's (shared/ref/sqs-servers.md C),
# and how the suite copes:
# - fauxqs has no StartMessageMoveTask (InvalidAction): `evq-ctl redrive`
#   moves by hand there (receive, send, then delete); and it does not set
#   DeadLetterQueueSourceArn on dead letters, so a redrive without --to
#   finds no source: the suite redrives with --to.
# - DeleteMessageBatch with a stale receipt handle reports success on
#   fauxqs (AWS: ReceiptHandleIsInvalid): the suite does not assert the
#   stale-handle warning remotely.
# Differences that are SQS's own (documented in evq-recv(1), REMOTE):
# - --peek is refused on a remote queue (2): SQS reads only by receiving;
# - a released message's receive stays counted.
# Differences that are JetStream's (evq-recv(1), REMOTE): a released
# message's delivery stays counted, as on SQS; a message given back (a nak)
# counts as in flight in stat until it is delivered again, so qs_pipe_head
# checks there that it is still in the queue, not that it is visible.  No
# body is skipped.

# qs_setup_file: starts the backend for the file.
qs_setup_file() {
	case $BACKEND in
	local) ;;
	sqs)
		if [ "${QS_CHECKED:-0}" = 1 ]; then
			fauxqs_start_checked
		else
			fauxqs_start
		fi
		;;
	nats) nats_start ;;
	serve) evkit_serve_start ;;
	*) echo "BACKEND must be local, sqs, serve or nats" >&2; return 1 ;;
	esac
}

qs_teardown_file() {
	[ "$BACKEND" = nats ] && { nats_stop; return 0; }
	[ "$BACKEND" = serve ] && { evkit_serve_stop; return; }
	[ "$BACKEND" = sqs ] || return 0
	if [ "${QS_CHECKED:-0}" = 1 ]; then
		# Every request the suite made was signed right.
		! grep -q '^refused' "$SIGV4_PROXY_LOG" || { cat "$SIGV4_PROXY_LOG" >&2; return 1; }
		grep -q '^ok' "$SIGV4_PROXY_LOG" || { echo "no request reached the proxy" >&2; return 1; }
		fauxqs_stop_checked
	else
		fauxqs_stop
	fi
}

# qs_q NAME: the QUEUE argument for a queue named NAME in this test (a
# FIFO queue's NAME ends in .fifo).
qs_q() {
	local n=$1 sfx=
	case $n in *.fifo) n=${n%.fifo}; sfx=.fifo ;; esac
	if [ "$BACKEND" = local ]; then
		echo "$n$sfx"
	elif [ "$BACKEND" = nats ]; then
		echo "$NATS_URL$n-t$BATS_TEST_NUMBER$sfx"
	else
		echo "sqs://us-east-1/000000000000/$n-t$BATS_TEST_NUMBER$sfx"
	fi
}

# qs_new NAME [CREATE OPTIONS]: creates the queue, prints its QUEUE.
qs_new() {
	local q
	q=$(qs_q "$1")
	shift
	evq-ctl create "$q" "$@" >&2 || return 1
	echo "$q"
}

# qs_stat Q FIELD: one number from evq-ctl stat.
qs_stat() {
	evq-ctl stat "$1" | jq -r ".$2"
}

# qs_left Q: messages visible or in flight.
qs_left() {
	evq-ctl stat "$1" | jq -r '.ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible'
}

qs_send_consume() {
	q=$(qs_new jobs)
	printf '{"n":1}\n{"n":2,"s":"h\\u00e9llo"}\n[3]\n' >in
	run evq-send "$q" in
	assert_success
	run evq-recv "$q"
	assert_success
	diff <(sort in) <(sort <<<"$output")
	assert_equal "$(qs_left "$q")" 0
	run evq-recv "$q"
	assert_failure 1
	assert_output ''
}

qs_print_ids() {
	q=$(qs_new ids)
	printf '{"n":%d}\n' 1 2 3 4 5 6 7 8 9 10 11 12 >in
	run --separate-stderr evq-send -p "$q" in
	assert_success
	assert_equal "${#lines[@]}" 12
	for i in 1 5 12; do
		l=${lines[$((i - 1))]}
		assert_equal "$(jq -r .MD5OfMessageBody <<<"$l")" \
		    "$(printf '{"n":%d}' "$i" | md5sum | cut -d' ' -f1)"
	done
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .MessageId | sort -u | wc -l)" -eq 12 ]
	# The ids printed are the ones the receiver gets.
	evq-recv -e "$q" | jq -r .messageId | sort >got
	printf '%s\n' "${lines[@]}" | jq -r .MessageId | sort >sent
	diff sent got
}

qs_lease_ack() {
	q=$(qs_new lease)
	printf '{"n":%d}\n' 1 2 3 | evq-send "$q"
	evq-recv --lease 60 "$q" >env
	assert_equal "$(nlines env)" 3
	run jq -r '[.eventSource, .awsRegion, (.eventSourceARN | test("^arn:aws:sqs:us-east-1:[0-9]{12}:")),
	    .attributes.ApproximateReceiveCount, (.receiptHandle | length > 0)] | @tsv' env
	assert_line --index 0 "$(printf 'aws:sqs\tus-east-1\ttrue\t1\ttrue')"
	l=$(head -n 1 env)
	assert_equal "$(jq -r .md5OfBody <<<"$l")" "$(jq -j .body <<<"$l" | md5sum | cut -d' ' -f1)"
	run evq-recv "$q"
	assert_failure 1		# all three are leased
	run evq-recv --ack "$q" env
	assert_success
	assert_equal "$(qs_left "$q")" 0
}

qs_release() {
	q=$(qs_new rel)
	printf '{"n":%d}\n' 1 2 | evq-send "$q"
	evq-recv --lease 300 "$q" >env
	assert_equal "$(nlines env)" 2
	run evq-recv --release "$q" <env
	assert_success
	run evq-recv "$q"
	assert_success
	assert_equal "${#lines[@]}" 2
}

qs_max() {
	q=$(qs_new max)
	printf '{"n":%d}\n' 1 2 3 4 5 | evq-send "$q"
	run evq-recv -n 2 "$q"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "$(qs_left "$q")" 3
	run evq-recv -n 30 "$q"
	assert_equal "${#lines[@]}" 3
}

qs_wait() {
	q=$(qs_new wait)
	run evq-recv --wait 1 "$q"
	assert_failure 1
	# The receiver is waiting (or about to) when the message is sent.
	evq-recv --wait 60 "$q" >out 3>&- &
	pid=$!
	echo '{"late":true}' | evq-send "$q"
	wait "$pid"
	assert_equal "$(cat out)" '{"late":true}'
}

qs_follow() {
	q=$(qs_new follow)
	evq-recv -f "$q" >out 3>&- &
	pid=$!
	echo '{"a":1}' | evq-send "$q"
	wait_for '[ "$(nlines out 2>/dev/null)" = 1 ]' 60
	echo '{"a":2}' | evq-send "$q"
	wait_for '[ "$(nlines out 2>/dev/null)" = 2 ]' 60
	kill "$pid"
	wait "$pid" || true
	assert_equal "$(cat out)" "$(printf '{"a":1}\n{"a":2}')"
	assert_equal "$(qs_left "$q")" 0
}

qs_attributes() {
	q=$(qs_new attrs)
	echo '{"x":1}' | evq-send -a s=v1 -a n:Number=7 -a b:Binary=AAEC/w== "$q"
	run evq-recv -e "$q"
	assert_success
	# Lambda's shape exactly, the same on every backend.
	assert_equal "$(jq -cS .messageAttributes <<<"$output")" \
	    '{"b":{"binaryListValues":[],"binaryValue":"AAEC/w==","dataType":"Binary","stringListValues":[]},"n":{"binaryListValues":[],"dataType":"Number","stringListValues":[],"stringValue":"7"},"s":{"binaryListValues":[],"dataType":"String","stringListValues":[],"stringValue":"v1"}}'
	[ "$(jq -r .md5OfMessageAttributes <<<"$output")" != null ]
}

qs_fifo() {
	q=$(qs_new orders.fifo --fifo)
	printf '{"n":%d}\n' 1 2 3 >in
	run --separate-stderr evq-send -p -g g1 --dedup-from .n "$q" in
	assert_success
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .SequenceNumber | grep -c '^[0-9]\+$')" -eq 3 ]
	# The same dedup ids within 5 minutes: dropped.
	evq-send -g g1 --dedup-from .n "$q" in
	run evq-recv "$q"
	assert_success
	assert_output "$(cat in)"
	run evq-send "$q" in
	assert_failure 2		# FIFO without a group id
}

qs_set_stat() {
	q=$(qs_new setq --visibility 40)
	assert_equal "$(qs_stat "$q" VisibilityTimeout)" 40
	run evq-ctl set "$q" VisibilityTimeout=50 DelaySeconds=2
	assert_success
	assert_equal "$(qs_stat "$q" VisibilityTimeout)" 50
	assert_equal "$(qs_stat "$q" DelaySeconds)" 2
	run evq-ctl set "$q" VisibilityTimeout=99999
	assert_failure 2
	run evq-ctl create "$q" --visibility 10
	assert_failure 3
}

qs_purge_delete() {
	q=$(qs_new gone)
	printf '{"n":%d}\n' 1 2 3 | evq-send "$q"
	run evq-ctl purge "$q"
	assert_success
	assert_equal "$(qs_left "$q")" 0
	run evq-ctl delete "$q"
	assert_success
	run evq-ctl stat "$q"
	assert_failure 66
	run evq-recv "$q"
	assert_failure 66
}

qs_redrive() {
	dlq=$(qs_new dead)
	q=$(qs_new src --max-receives 1 --dlq "$dlq")
	# Each with its own attribute: a move keeps every message's own.
	echo '{"n":1}' | evq-send -a k=one "$q"
	echo '{"n":2}' | evq-send -a k=two "$q"
	evq-recv --lease 0 "$q" >/dev/null
	# A later receive finds them over maxReceiveCount: dead letters.
	wait_for 'evq-recv --lease 0 "$q" >/dev/null; [ "$(qs_left "$dlq")" = 2 ]' 30
	run evq-ctl redrive "$dlq" --to "$q"
	assert_success
	assert_equal "$(qs_left "$dlq")" 0
	run evq-recv --lease 60 "$q"
	assert_equal "$(jq -r .body <<<"$output" | sort | tr -d '\n')" '{"n":1}{"n":2}'
	assert_equal "$(jq -r '"\(.body) \(.messageAttributes.k.stringValue)"' <<<"$output" | sort |
	    tr '\n' ' ')" '{"n":1} one {"n":2} two '
	run evq-ctl redrive "$dlq" --to "$dlq"
	assert_failure 2
}

qs_missing() {
	q=$(qs_q nosuch)
	run evq-recv "$q"
	assert_failure 66
	run evq-ctl stat "$q"
	assert_failure 66
}

qs_list() {
	qs_new lista >/dev/null
	qs_new listb >/dev/null
	if [ "$BACKEND" = local ]; then
		run evq-ctl list
	elif [ "$BACKEND" = nats ]; then
		run evq-ctl list "${NATS_URL}list"
	else
		run evq-ctl list "sqs://us-east-1/000000000000/list"
	fi
	assert_success
	assert_equal "$(jq -r .QueueName <<<"$output" | grep -c '^list[ab]')" 2
}

qs_pipe_head() {
	q=$(qs_new pipe)
	printf '{"n":%d}\n' 1 2 3 4 5 | evq-send "$q"
	run bash -c "evq-recv '$q' | head -n 1"
	assert_success
	assert_equal "${#lines[@]}" 1
	# What the reader left unread is visible again at once.  JetStream
	# counts a nak'ed message as ack-pending until it is delivered again,
	# so stat cannot show it visible there: only that it is still there.
	if [ "$BACKEND" = nats ]; then
		assert_equal "$(qs_left "$q")" 4
	else
		assert_equal "$(qs_stat "$q" ApproximateNumberOfMessages)" 4
	fi
	run evq-recv "$q"
	assert_equal "${#lines[@]}" 4
}
