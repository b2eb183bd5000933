#!/usr/bin/env bats
# Durability and concurrency claims of the queue, shown with real
# processes: several producers and consumers at once, kill -9 in the
# middle of work, a full disk.
load test_helper

@test "4 producers and 4 consumers at once: every message exactly once, no lock errors" {
	evq-ctl create q
	for c in 1 2 3 4; do
		evq-recv -f q > "out.$c" 2> "err.c$c" 3>&- &
		echo $! >> consumers
	done
	for p in 1 2 3 4; do
		seq 1 5000 | sed "s/.*/{\"p\":$p,\"n\":&}/" > "in.$p"
		evq-send -b 500 q "in.$p" 2> "err.p$p" 3>&- &
		echo $! >> producers
	done
	for pid in $(cat producers); do wait "$pid"; done
	wait_for '[ "$(evq-ctl stat q | jq ".ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible")" -eq 0 ]' 60
	kill -TERM $(cat consumers)
	for pid in $(cat consumers); do wait "$pid" || true; done
	cat out.* > all
	assert_equal "$(nlines all)" 20000
	assert_equal "$(sort all | uniq -d | wc -l)" 0
	assert_equal "$(sort -u all | wc -l)" 20000
	# Each consumer got a share, and nobody saw "database is locked".
	assert_equal "$(cat err.*)" ""
	for c in 1 2 3 4; do [ -s "out.$c" ] || echo "consumer $c got nothing (allowed)"; done
}

@test "concurrent FIFO consumers keep each group in order" {
	evq-ctl create f.fifo --content-dedup
	for g in A B C D; do seq 1 500 | sed "s/.*/{\"g\":\"$g\",\"n\":&}/"; done > in
	evq-send --group-from .g f.fifo in
	for c in 1 2 3; do
		evq-recv -f -n 1000000 f.fifo > "out.$c" 2> "err.$c" 3>&- &
		echo $! >> consumers
	done
	wait_for '[ "$(evq-ctl stat f.fifo | jq ".ApproximateNumberOfMessages + .ApproximateNumberOfMessagesNotVisible")" -eq 0 ]' 60
	kill -TERM $(cat consumers)
	for pid in $(cat consumers); do wait "$pid" || true; done
	assert_equal "$(cat out.* | wc -l)" 2000
	assert_equal "$(cat err.*)" ""
	# Within each consumer's output, each group's numbers only go up.
	for c in 1 2 3; do
		run jq -s 'group_by(.g) | map([.[].n] | . == sort) | all' "out.$c"
		assert_output true
	done
}

@test "kill -9 of a producer loses no message whose MessageId was printed" {
	seq 1 300000 | sed 's/.*/{"n":&,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}/' > in
	evq-send -p -b 1000 q in > ids 3>&- &
	pid=$!
	wait_for '[ "$(wc -l < ids)" -ge 20000 ]' 30
	kill -9 "$pid"
	wait "$pid" || true
	# Only whole lines count as printed.
	[ -z "$(tail -c1 ids)" ] || sed -i '$d' ids
	printed=$(nlines ids)
	[ "$printed" -ge 20000 ]
	evq-recv -e q | jq -r .messageId | sort > got
	jq -r .MessageId ids | sort > want
	assert_equal "$(comm -23 want got | wc -l)" 0
	assert_equal "$(uniq -d got | wc -l)" 0
}

@test "kill -9 of a consumer loses no message it had not yet written" {
	evq-ctl create q --visibility 1
	seq 1 50000 | evq-send q
	mkfifo pipe
	evq-recv q > pipe 3>&- &
	pid=$!
	exec 6<pipe
	# The pipe fills and evq-recv blocks mid-batch, holding leases.
	sleep 1
	kill -9 "$pid"
	wait "$pid" || true
	cat <&6 > out
	exec 6<&-
	[ -z "$(tail -c1 out)" ] || sed -i '$d' out
	[ "$(nlines out)" -gt 0 ]
	sleep 1.2
	evq-recv q > rest
	# Every message was either written out or is back in the queue.
	assert_equal "$(sort -u out rest | wc -l)" 50000
}

@test "kill -9 in the middle of a send leaves a consistent queue" {
	# A file (always readable, so never an early commit) too long to finish
	# before the kill.
	seq 1 4000000 > in
	evq-send -b 100 q in 3>&- &
	pid=$!
	# Polled by the WAL's size, not by evq-ctl and jq: on a loaded machine
	# those are slow enough for the whole send to end first.
	wal=$EVKIT_HOME/queues/q.db-wal
	wait_for '[ "$(stat -c %s "$wal" 2>/dev/null || echo 0)" -gt 400000 ]' 30
	kill -9 "$pid"
	wait "$pid" || true
	assert_equal "$(sqlite3 "$EVKIT_HOME/queues/q.db" 'pragma integrity_check')" ok
	n=$(evq-ctl stat q | jq .ApproximateNumberOfMessages)
	# Committed batches are whole, and the queue takes new messages.
	assert_equal "$((n % 100))" 0
	evq-recv q > got
	assert_equal "$(head -1 got)" 1
	assert_equal "$(tail -1 got)" "$n"
	echo '"after"' | evq-send q
	run evq-recv q
	assert_output '"after"'
}

@test "a full disk: clear error, exit 74, what was committed stays" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	mkdir disk
	mount -t tmpfs -o size=600k,mode=0700 tmpfs disk
	seq 1 100 | evq-send -p ./disk/q.db > ids1
	head -c 700000 /dev/urandom | base64 -w 200 | sed 's/.*/"&"/' > big
	run --separate-stderr evq-send -b 50 ./disk/q.db big
	status_big=$status
	err="$stderr"
	# Reading needs no space: the first 100 are all there, before whatever
	# whole batches of big got in.  (Receiving leases, a write: it fails
	# with the same clear error until space is freed.)
	run evq-recv --peek ./disk/q.db
	got="$output"
	run --separate-stderr evq-recv ./disk/q.db
	recv_status=$status
	recv_err="$stderr"
	umount disk
	assert_equal "$status_big" 74
	assert_regex "$err" "disk full"
	assert_equal "$(echo "$got" | head -100)" "$(seq 1 100)"
	assert_equal "$(( ($(echo "$got" | wc -l) - 100) % 50 ))" 0
	assert_equal "$recv_status" 74
	assert_regex "$recv_err" "disk full"
}

@test "a writer holding the lock for 2 s makes others wait, not fail" {
	seq 1 1000 | evq-send q
	{ echo "begin immediate; update attr set value = value;"; sleep 2; echo "commit;"; } |
	    sqlite3 "$EVKIT_HOME/queues/q.db" 3>&- &
	sleep 0.3
	start=$(date +%s%N)
	run --separate-stderr evq-recv -n 10 q
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(echo "$output" | wc -l)" 10
	[ "$ms" -ge 1000 ] || { echo "did not wait for the lock (${ms}ms)"; false; }
	wait
}

@test "a damaged queue file stops a receiver with 65 where the damage starts" {
	seq 1 20000 | evq-send q
	sqlite3 "$EVKIT_HOME/queues/q.db" 'pragma wal_checkpoint(truncate)' > /dev/null
	# Overwrite the header of a page in the middle: a leaf of messages.
	page=$(sqlite3 "$EVKIT_HOME/queues/q.db" 'pragma page_size')
	count=$(sqlite3 "$EVKIT_HOME/queues/q.db" 'pragma page_count')
	printf '\xde\xad\xbe\xef%.0s' $(seq 1 64) |
	    dd of="$EVKIT_HOME/queues/q.db" bs=1 seek=$((count / 2 * page)) conv=notrunc 2>/dev/null
	evq-recv q > out 2> err && st=0 || st=$?
	assert_equal "$st" 65
	assert_equal "$(cat err)" "evq-recv: queue 'q': database: not an evkit queue (not a database, or damaged)"
	# What it delivered before the damaged page is an in-order prefix.
	n=$(nlines out)
	[ "$n" -lt 20000 ]
	[ "$n" -eq 0 ] || assert_equal "$(cat out)" "$(seq 1 "$n")"
	run evq-ctl stat q
	assert_failure 65
}

@test "receiving large messages keeps memory bounded: consume, --peek and --lease stream" {
	ldd "$TOP/bin/evq-recv" | grep -q libasan && skip "ASan reserves terabytes of address space"
	for i in $(seq 1 300); do printf '"%s"\n' "$(head -c 1000000 /dev/zero | tr '\0' x)"; done > big
	evq-send q big
	# 300 MB of messages through a 400 MB address-space limit, in bounded
	# batches (--peek and --lease once held the whole queue).
	for opts in --peek '--peek -e' '--lease 0' ''; do
		run bash -c "ulimit -v 400000; evq-recv $opts q | wc -l"
		assert_success
		assert_output 300
	done
}

@test "a queue: target held locked is a failed delivery: retried, then dead-lettered (not exit 75)" {
	evq-ctl create busy
	evq-ctl create dlq
	cat > rules.json <<'JSON'
{"rules":[{"name":"r","pattern":{"a":[1]},"targets":[{"id":"t","uri":"queue:busy",
  "retry":{"attempts":1,"max_age":3600},"dead_letter":"queue:dlq"}]}]}
JSON
	# Hold the queue's write lock until told to let go.
	mkfifo ctl
	sqlite3 "$EVKIT_HOME/queues/busy.db" < ctl > held 3>&- &
	exec 4> ctl
	echo "begin immediate; update attr set value = value; select 'locked';" >&4
	wait_for '[ "$(cat held)" = locked ]' 30
	export EVBUS_RETRY_BASE_MS=1
	echo '{"a":1}' | evbus-route -r rules.json 2> err && st=0 || st=$?
	echo "commit;" >&4
	exec 4>&-
	wait
	assert_equal "$st" 0
	run evq-recv -e dlq
	assert_success
	assert_equal "$(jq -r .body <<< "$output")" '{"a":1}'
	assert_equal "$(jq -r '.messageAttributes.ERROR_CODE.stringValue' <<< "$output")" THROTTLING
	assert_equal "$(jq -r '.messageAttributes.RETRY_ATTEMPTS.stringValue' <<< "$output")" 1
	run evq-recv busy
	assert_failure 1
}
