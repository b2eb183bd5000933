#!/usr/bin/env bats
# The NATS servers the JetStream tests and benches stand on
# (tests/lib/servers.bash: nats_start, nats_cluster_start...), proven with
# an independent client only (the npm nats client, tests/lib/nats-js.mjs,
# and the monitoring endpoints), so they are known good before evkit's own
# client talks to them.

load test_helper
load lib/servers

natsjs() {
	node "$TOP/tests/lib/nats-js.mjs" "$@"
}

# Is anything listening on port $1?
listening() {
	ss -ltnH "( sport = :$1 )" | grep -q .
}

setup_file() {
	[ -f "$BATS_TEST_DIRNAME/node_modules/nats/package.json" ] ||
	    { echo "the npm nats client is missing: run 'npm ci --prefix tests'" >&2; return 1; }
}

# A test that fails half-way still stops what it started.
teardown() {
	nats_stop
	nats_cluster_stop
	[ -z "${STRAY_PIDS:-}" ] || kill $STRAY_PIDS 2>/dev/null || true
}

@test "nats_start: nats-server 2.9.10 with JetStream on 127.0.0.1 only, its store private" {
	nats_start
	[[ $NATS_URL == "nats://127.0.0.1:$NATS_PORT/" ]]
	run nats_monitor /varz
	assert_success
	assert_equal "$(jq -r .version <<<"$output")" 2.9.10
	assert_equal "$(jq -r .host <<<"$output")" 127.0.0.1
	ss -ltnH "( sport = :$NATS_PORT )" | awk '{ print $4 }' > listen
	assert_equal "$(cat listen)" "127.0.0.1:$NATS_PORT"
	run nats_monitor /jsz
	assert_success
	assert_equal "$(jq -r .config.store_dir <<<"$output")" "$NATS_DIR/store/jetstream"
	run natsjs "127.0.0.1:$NATS_PORT" add-stream T 't.>'
	assert_success
	run natsjs "127.0.0.1:$NATS_PORT" pub t.a 3
	assert_success
	assert_equal "$(jq -c '[.stream, .seq]' <<<"$output")" '["T",3]'
}

@test "nats_stop ends the server; a restart on the same store keeps every message" {
	nats_start --port "$(_free_ports 1)"
	natsjs "127.0.0.1:$NATS_PORT" add-stream K 'k' >/dev/null
	natsjs "127.0.0.1:$NATS_PORT" pub k 5 >/dev/null
	local port=$NATS_PORT pid=$NATS_PID dir=$NATS_DIR
	nats_stop
	! kill -0 "$pid" 2>/dev/null
	! listening "$port"
	nats_start --dir "$dir" --port "$port"
	run natsjs "127.0.0.1:$NATS_PORT" info K
	assert_success
	assert_equal "$(jq .state.messages <<<"$output")" 5
}

@test "a server whose starting shell is killed with -9 stops by itself" {
	out=$BATS_TEST_TMPDIR/started
	# The sleeper inherits the server's stdin pipe and outlives the shell:
	# what stops it is its watch on the shell that started it.
	BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR bash -c '
		. "$1/tests/lib/servers.bash"
		nats_start || exit 1
		sleep 600 3>&- &
		echo "$NATS_PID $NATS_PORT $!" > "$2.tmp"
		mv "$2.tmp" "$2"
		exec sleep 600' _ "$TOP" "$out" 3>&- &
	pid=$!
	wait_for '[ -s "$out" ]' 60
	read -r npid port sleeper < "$out"
	STRAY_PIDS="$sleeper $pid"
	kill -0 "$npid"
	listening "$port"
	kill -9 "$pid"
	wait_for "! kill -0 $npid 2>/dev/null && ! listening $port" 30
}

@test "nats_cluster_start 3: one cluster of n1..n3 with a meta leader every node agrees on" {
	nats_cluster_start 3
	[[ $NATS_CLUSTER_URL == "nats://127.0.0.1:$NATS_NODE1_PORT,127.0.0.1:$NATS_NODE2_PORT,127.0.0.1:$NATS_NODE3_PORT/" ]]
	local i leader=
	for i in 1 2 3; do
		run nats_monitor /varz "$i"
		assert_success
		assert_equal "$(jq -r .server_name <<<"$output")" "n$i"
		assert_equal "$(jq -r .cluster.name <<<"$output")" evkit
		run nats_monitor /routez "$i"
		assert_equal "$(jq .num_routes <<<"$output")" 2
		run nats_monitor /jsz "$i"
		[ -z "$leader" ] && leader=$(jq -r .meta_cluster.leader <<<"$output")
		assert_equal "$(jq -r .meta_cluster.leader <<<"$output")" "$leader"
	done
}

@test "cluster: a stream of 3 replicas survives kill -9 of a node, and the node catches up" {
	nats_cluster_start 3
	local all="127.0.0.1:$NATS_NODE1_PORT,127.0.0.1:$NATS_NODE2_PORT,127.0.0.1:$NATS_NODE3_PORT"
	run natsjs "$all" add-stream R 'r.>' 3
	assert_success
	assert_equal "$(jq '.config.num_replicas' <<<"$output")" 3
	assert_equal "$(jq '.cluster.replicas | length' <<<"$output")" 2
	natsjs "$all" pub r.x 100 >/dev/null
	# Kill the node that leads the stream: the worst case.
	local leader
	leader=$(natsjs "$all" info R | jq -r .cluster.leader)
	leader=${leader#n}
	nats_node_kill "$leader"
	! kill -0 "$(eval echo "\$NATS_NODE${leader}_PID")" 2>/dev/null
	local up= i
	for i in 1 2 3; do [ "$i" = "$leader" ] || up="$up${up:+,}127.0.0.1:$(eval echo "\$NATS_NODE${i}_PORT")"; done
	# A new leader is elected among the two left; publish and read there.
	wait_for "natsjs '$up' pub r.x 1 >/dev/null 2>&1" 60
	# A loaded machine may time a request out while the two settle.
	wait_for "natsjs '$up' info R > info 2>/dev/null" 60
	assert_equal "$(jq .state.messages info)" 101
	wait_for "natsjs '$up' read R > stored 2>/dev/null" 60
	jq -r .seq stored > seqs
	assert_equal "$(nlines seqs)" 101
	assert_equal "$(sort -n seqs | uniq | wc -l)" 101
	# Back on its store, the killed node has every message again.
	nats_node_restart "$leader"
	local mon
	mon=$(eval echo "\$NATS_NODE${leader}_MONITOR_URL")
	wait_for "curl -sf '$mon/jsz?streams=1' | jq -e '.account_details[0].stream_detail[] | select(.name == \"R\") | .state.messages == 101' >/dev/null" 60
}

@test "nats_start --user/--pass: the server refuses a client without them" {
	nats_start --user evk --pass s3cret
	run natsjs "127.0.0.1:$NATS_PORT" info X
	assert_failure
	assert_output --partial 'Authorization'
	export NATS_USER=evk NATS_PASS=s3cret
	run natsjs "127.0.0.1:$NATS_PORT" add-stream X x
	assert_success
	run natsjs "127.0.0.1:$NATS_PORT" pub x
	assert_success
}
