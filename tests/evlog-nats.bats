#!/usr/bin/env bats
# evlog-append and evlog-read on NATS JetStream (SPEC 6, issue 16): the
# local log's behaviour tests that apply, on nats://127.0.0.1:PORT/NAME
# (one nats-server for the file, a log per test), what is stored checked
# with the npm nats client (tests/lib/nats-js.mjs), and a 3-node cluster
# losing the node the appender is connected to.

load test_helper
load lib/servers

setup_file() {
	[ -f "$BATS_TEST_DIRNAME/node_modules/nats/package.json" ] ||
	    { echo "the npm nats client is missing: run 'npm ci --prefix tests'" >&2; return 1; }
	nats_start
}

teardown_file() {
	nats_stop
}

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	L=${NATS_URL}log$BATS_TEST_NUMBER
}

teardown() {
	nats_cluster_stop
	[ -z "${STRAY_PIDS:-}" ] || kill $STRAY_PIDS 2>/dev/null || true
}

natsjs() {
	node "$TOP/tests/lib/nats-js.mjs" "127.0.0.1:$NATS_PORT" "$@"
}

@test "records have the local log's shape, stored verbatim: a local log of them verifies" {
	printf '{"id":"a","n":1}\n{"n":2}\n' | evlog-append -s s1 "$L"
	evlog-append --stream-from .k "$L" <<<'{"id":"b","k":"x y.z","n":3}'
	run evlog-read "$L"
	assert_success
	echo "$output" > recs
	assert_equal "$(jq -c '[.seq, .stream, .version, .id, .event.n]' recs | paste -sd' ')" \
	    '[1,"s1",1,"a",1] [2,"s1",2,'"$(jq '.id' <(sed -n 2p recs))"',2] [3,"x y.z",1,"b",3]'
	assert_equal "$(jq -c 'keys_unsorted' recs | sort -u)" '["seq","stream","version","time","id","event","crc"]'
	# The local backend checks the same bytes: CRCs, seq and versions.
	mkdir local
	cp recs local/00000000000000000001.ndjson
	run evlog-read --verify ./local
	assert_success
	assert_output '{"records":3,"damaged":0}'
	# What the server holds, read by another client: one message a record,
	# on the log's stream and a subject per stream.
	natsjs read "evlog_log$BATS_TEST_NUMBER" > stored
	assert_equal "$(jq -r .data stored)" "$(cat recs)"
	assert_equal "$(jq -r .subject stored | paste -sd' ')" \
	    "evlog.log$BATS_TEST_NUMBER.s1 evlog.log$BATS_TEST_NUMBER.s1 evlog.log$BATS_TEST_NUMBER.x%20y%2Ez"
	assert_equal "$(jq -r '.headers["Nats-Msg-Id"] | length' stored | sort -u)" 64
	run evlog-read --verify "$L"
	assert_success
	assert_output '{"records":3,"damaged":0}'
}

@test "-p prints each stored record; --events the bare events" {
	run evlog-append -p -s s "$L" <<<'{"id":"x","v":1}'
	assert_success
	assert_equal "$(jq -c '[.seq, .version, .event]' <<<"$output")" '[1,1,{"id":"x","v":1}]'
	run evlog-read --events "$L"
	assert_output '{"id":"x","v":1}'
}

@test "--expect-version: N, none, any; a conflict appends nothing and exits 3 with the SPEC message" {
	printf '{"n":1}\n{"n":2}\n' | evlog-append -s acct "$L"
	run evlog-append -s acct --expect-version 1 "$L" <<<'{"n":3}'
	assert_equal "$status" 3
	assert_output 'evlog-append: conflict: stream "acct" is at version 2, expected 1'
	run evlog-append -s acct --expect-version none "$L" <<<'{"n":3}'
	assert_equal "$status" 3
	assert_output 'evlog-append: conflict: stream "acct" is at version 2, expected none'
	run evlog-append -s acct --expect-version 2 -p "$L" <<<$'{"n":3}\n{"n":4}'
	assert_success
	assert_equal "$(jq -c '[.seq, .version]' <<<"$output" | paste -sd' ')" '[3,3] [4,4]'
	run evlog-append -s new --expect-version none -p "$L" <<<'{"n":5}'
	assert_success
	assert_equal "$(jq -c '[.seq, .version]' <<<"$output")" '[5,1]'
	run evlog-append -s new --expect-version none "$L" <<<'{"n":6}'
	assert_equal "$status" 3
	assert_equal "$(evlog-read "$L" | wc -l)" 5
}

@test "--expect-version over several streams: one at another version, and nothing of the input is stored" {
	printf '{"c":"old"}\n' | evlog-append --stream-from .c "$L"
	run evlog-append --stream-from .c --expect-version none "$L" <<<$'{"c":"new"}\n{"c":"old"}'
	assert_equal "$status" 3
	assert_output 'evlog-append: conflict: stream "old" is at version 1, expected none'
	run evlog-read -e "$L"
	assert_output '{"c":"old"}'
}

@test "an id already in its stream is not appended again, in a later run or the same input" {
	printf '{"id":"e1"}\n{"id":"e2"}\n' | evlog-append -s s "$L"
	run evlog-append -p -s s "$L" <<<$'{"id":"e2"}\n{"id":"e3"}\n{"id":"e3"}\n{"id":"e1"}'
	assert_success
	assert_equal "$(jq -c '[.seq, .id, .version]' <<<"$output")" '[3,"e3",3]'
	# The same id in another stream is another event.
	run evlog-append -p -s t "$L" <<<'{"id":"e1"}'
	assert_equal "$(jq -c '[.seq, .stream, .version]' <<<"$output")" '[4,"t",1]'
	run evlog-read -e "$L"
	assert_equal "$(jq -r .id <<<"$output" | paste -sd' ')" 'e1 e2 e3 e1'
	run evlog-read --verify "$L"
	assert_output '{"records":4,"damaged":0}'
}

@test "--stream, --from, --from-version, --since, --until; nothing matched: exit 1" {
	for i in 1 2 3 4 5 6; do echo "{\"n\":$i,\"s\":\"s$((i % 2))\"}"; done |
	    evlog-append --stream-from .s "$L"
	run evlog-read -e --stream s1 "$L"
	assert_equal "$(jq -r .n <<<"$output" | paste -sd' ')" '1 3 5'
	run evlog-read -e --from 4 "$L"
	assert_equal "$(jq -r .n <<<"$output" | paste -sd' ')" '4 5 6'
	run evlog-read -e --stream s0 --from-version 2 "$L"
	assert_equal "$(jq -r .n <<<"$output" | paste -sd' ')" '4 6'
	run evlog-read --stream nosuch "$L"
	assert_equal "$status" 1
	t=$(evlog-read "$L" | jq -r 'select(.seq == 6) | .time')
	wait_for "[ \"\$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)\" \> '$t' ]" 10
	printf '{"n":7,"s":"s1"}\n' | evlog-append --stream-from .s "$L"
	run evlog-read -e --until "$t" "$L"
	assert_equal "$(jq -r .n <<<"$output" | paste -sd' ')" '1 2 3 4 5 6'
	run evlog-read -e --since "$(evlog-read "$L" | jq -r 'select(.seq == 7) | .time')" "$L"
	assert_equal "$(jq -r .n <<<"$output")" 7
}

@test "--fold reduces the events, unchanged; -f --fold prints each new state" {
	printf '{"n":5}\n{"n":6}\n' | evlog-append "$L"
	run evlog-read --fold '. + $event.n' --init 0 "$L"
	assert_success
	assert_output 11
	evlog-read -f --fold '. + $event.n' --init 0 --line-buffered "$L" > out &
	pid=$!
	STRAY_PIDS=$pid
	wait_for '[ -s out ]' 20
	printf '{"n":7}\n' | evlog-append "$L"
	wait_for '[ "$(wc -l < out)" -ge 2 ]' 20
	kill "$pid"
	wait "$pid" || true
	run cat out
	assert_output $'11\n18'
}

@test "-f follows new records from other appenders (an ordered consumer)" {
	printf '{"n":1}\n' | evlog-append "$L"
	evlog-read -f -e --line-buffered "$L" > out &
	pid=$!
	STRAY_PIDS=$pid
	wait_for '[ -s out ]' 20
	for i in 2 3 4; do printf '{"n":%d}\n' "$i" | evlog-append "$L"; done
	wait_for '[ "$(wc -l < out)" -ge 4 ]' 20
	kill "$pid"
	wait "$pid" || true
	assert_equal "$(jq -r .n out | paste -sd' ')" '1 2 3 4'
}

@test "concurrent appenders: seq gap-free, every stream's versions gap-free, nothing lost or twice" {
	for p in 1 2 3 4; do
		seq 1 300 | awk -v p="$p" '{ printf "{\"id\":\"p%d-%d\",\"s\":\"s%d\"}\n", p, $1, $1 % 3 }' > "in$p"
	done
	pids=
	for p in 1 2 3 4; do
		evlog-append --stream-from .s "$L" "in$p" & pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	evlog-read "$L" > recs
	assert_equal "$(wc -l < recs)" 1200
	assert_equal "$(jq -s '[.[].seq] == [range(1; 1201)]' recs)" true
	assert_equal "$(jq -s 'group_by(.stream) | map([.[].version] == [range(1; length + 1)]) | all' recs)" true
	assert_equal "$(jq -r .id recs | sort -u | wc -l)" 1200
	run evlog-read --verify "$L"
	assert_output '{"records":1200,"damaged":0}'
}

@test "bad input: the lines before it are stored, exit 65 naming the line" {
	run evlog-append -s s "$L" <<<$'{"n":1}\n{"n":\n{"n":3}'
	assert_equal "$status" 65
	assert_output --partial 'evlog-append: <stdin>:2:'
	run evlog-read -e "$L"
	assert_output '{"n":1}'
}

@test "a restarted server keeps every record (file storage)" {
	# This test's own server, on a port no client takes as its source port.
	nats_start --port "$(_free_ports 1)"
	L=${NATS_URL}kept
	seq 1 50 | sed 's/.*/{"n":&}/' | evlog-append "$L"
	local port=$NATS_PORT dir=$NATS_DIR
	nats_stop
	nats_start --dir "$dir" --port "$port"
	run evlog-read --verify "$L"
	assert_success
	assert_output '{"records":50,"damaged":0}'
	nats_stop
}

@test "no server: exit 69 at once; a bad URI: 2; wrong credentials: 77; no such log: 66" {
	port=$(_free_ports 1)
	start=$(date +%s)
	run evlog-append "nats://127.0.0.1:$port/x" <<<'{}'
	assert_equal "$status" 69
	[ $(( $(date +%s) - start )) -lt 10 ]
	run evlog-read "nats://127.0.0.1:$port/x"
	assert_equal "$status" 69
	run evlog-append "nats://127.0.0.1/x" <<<'{}'
	assert_equal "$status" 2
	run evlog-append "${NATS_URL}a.b" <<<'{}'
	assert_equal "$status" 2
	run evlog-read "${NATS_URL}nosuch$BATS_TEST_NUMBER"
	assert_equal "$status" 66
	assert_output --partial 'no such log'
	[ ! -e 'nats:' ]
	nats_start --user evk --pass s3cret	# this test's own
	run evlog-append "nats://evk:wrong@127.0.0.1:$NATS_PORT/x" <<<'{}'
	assert_equal "$status" 77
	refute_output --partial wrong
	run evlog-append -p "nats://evk:s3cret@127.0.0.1:$NATS_PORT/x" <<<'{"n":1}'
	assert_success
	nats_stop
}

# The node evlog-append is connected to (its name in /connz), by number.
connected_node() {
	local i
	for i in 1 2 3; do
		nats_monitor "/connz" "$i" 2>/dev/null |
		    jq -e '.connections[]? | select(.name == "evlog-append")' >/dev/null 2>&1 &&
		    { echo "$i"; return 0; }
	done
	return 1
}

@test "cluster: kill -9 of the connected node in the middle of evlog-append -p: every printed record readable, seq gap-free" {
	nats_cluster_start 3
	local log=${NATS_CLUSTER_URL}big n=20000
	seq 1 "$n" | awk '{ printf "{\"id\":\"e%d\",\"s\":\"s%d\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", $1, $1 % 7 }' > in
	# The log's stream with 3 replicas, made by its first append.
	evlog-append -p "$log?replicas=3" <<<'{"id":"first","s":"s0"}' > printed
	# Half the input; then the rest is fed while the node is killed: the
	# kill lands in the middle of the run, with records in flight, and
	# what follows goes through another node.
	mkfifo feed
	evlog-append -p --stream-from .s "$log" < feed >> printed 2> err &
	pid=$!
	STRAY_PIDS=$pid
	exec {w}> feed
	head -n $((n / 2)) in >&$w
	wait_for '[ "$(wc -l < printed)" -ge 2000 ] && connected_node >/dev/null' 120
	node=$(connected_node)
	tail -n +$((n / 2 + 1)) in >&$w &
	feeder=$!
	nats_node_kill "$node"
	kill -0 "$pid"	# still running: the kill was in the middle
	wait "$feeder"
	exec {w}>&-
	rc=0
	wait "$pid" || rc=$?
	cat err >&3
	# Every record printed was stored: readable from the nodes left, in
	# order, seq and versions gap-free, none twice.
	evlog-read "$log" > stored
	assert_equal "$(jq -s '[.[].seq] == [range(1; length + 1)]' stored)" true
	assert_equal "$(jq -s 'group_by(.stream) | map([.[].version] == [range(1; length + 1)]) | all' stored)" true
	assert_equal "$(jq -r .id stored | sort | uniq -d | wc -l)" 0
	jq -c . printed | sort > p.sorted
	jq -c . stored | sort > s.sorted
	assert_equal "$(comm -23 p.sorted s.sorted | wc -l)" 0
	assert_equal "$rc" 0
	assert_equal "$(wc -l < printed)" $((n + 1))
	run evlog-read --verify "$log"
	assert_output "{\"records\":$((n + 1)),\"damaged\":0}"
}

@test "a message on the log's subjects that is not a record: appending, reading and --verify name it, exit 65" {
	printf '{"n":1}\n{"n":2}\n' | evlog-append -s s "$L"
	natsjs pub "evlog.log$BATS_TEST_NUMBER.s" >/dev/null	# {"n":1}, no record
	# A stream whose head is damaged is not appended to (a damaged log).
	run evlog-append -s s "$L" <<<'{"n":4}'
	assert_equal "$status" 65
	assert_output --partial "record 3: damaged"
	run evlog-read -e "$L"
	assert_equal "$status" 65
	assert_line --index 0 '{"n":1}'
	assert_output --partial "record 3: damaged"
	run evlog-read --verify "$L"
	assert_equal "$status" 65
	assert_line --partial "evlog_log$BATS_TEST_NUMBER:3:"
	assert_line '{"records":2,"damaged":1}'
}

@test "evbus-route: a log: target on nats:// appends there, one stream per rule" {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"l","uri":"log:%s"}]}]}\n' "$L" > r.json
	printf '{"t":"x","n":1}\n{"t":"y","n":2}\n{"t":"x","n":3}\n' | evbus-route -r r.json
	run evlog-read "$L"
	assert_success
	assert_equal "$(jq -c '[.seq, .stream, .version, .event.n]' <<<"$output" | paste -sd' ')" \
	    '[1,"r",1,1] [2,"r",2,3]'
	[ ! -e 'nats:' ]
}

@test "cluster: evlog-read -f goes on, in order and once, when the node it reads from dies" {
	nats_cluster_start 3
	local log=${NATS_CLUSTER_URL}fol
	seq 1 100 | sed 's/.*/{"n":&}/' | evlog-append "$log?replicas=3"
	evlog-read -f -e --line-buffered "$log" > out 2> err &
	pid=$!
	STRAY_PIDS=$pid
	wait_for '[ "$(wc -l < out)" -ge 100 ]' 60
	node=
	for i in 1 2 3; do
		nats_monitor /connz "$i" | jq -e '.connections[]? | select(.name == "evlog-read")' \
		    >/dev/null 2>&1 && node=$i
	done
	[ -n "$node" ]
	nats_node_kill "$node"
	seq 101 200 | sed 's/.*/{"n":&}/' | evlog-append "$log"
	wait_for '[ "$(wc -l < out)" -ge 200 ]' 90 || { cat err >&3; false; }
	kill "$pid"
	wait "$pid" || true
	assert_equal "$(jq -s '[.[].n] == [range(1; 201)]' out)" true
}
