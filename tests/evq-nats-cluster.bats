#!/usr/bin/env bats
# Queues on a 3-node JetStream cluster (tests/lib/servers.bash:
# nats_cluster_start) with streams of 3 replicas: kill -9 of the node
# evq-send is connected to in the middle of a 40,000-message `evq-send -p`;
# every printed MessageId is then received from the other nodes, none twice
# in consume mode; a restarted cluster keeps every message (file storage).
load test_helper
load lib/servers

# The cluster is the test's own: a node a test kills must be its child.
teardown() {
	nats_cluster_stop
}

# The node (1..3) a client named $1 is connected to, or nothing.
node_of() {
	local i
	for i in 1 2 3; do
		nats_monitor "/connz?limit=1024" "$i" 2>/dev/null |
		    jq -e --arg n "$1" '[.connections[]? | select(.name == $n)] | length > 0' \
		    >/dev/null 2>&1 && { echo "$i"; return 0; }
	done
	return 1
}

@test "cluster: kill -9 of evq-send's node mid-stream: every printed id received from the others, none twice" {
	nats_cluster_start 3
	q="${NATS_CLUSTER_URL}jobs"
	run evq-ctl create "$q" --replicas 3
	assert_success
	seq 1 40000 | sed 's/.*/{"n":&}/' >in
	evq-send -p "$q" in >ids 2>err 3>&- &
	pid=$!
	wait_for '[ "$(nlines ids 2>/dev/null)" -ge 5000 ]' 120
	node=$(node_of evq-send)
	[ -n "$node" ]
	nats_node_kill "$node"
	# It goes on through another node; whatever it could not have
	# confirmed it did not print.
	wait "$pid" || { cat err >&2; false; }
	jq -r .MessageId ids | sort >printed
	assert_equal "$(sort -u printed | wc -l)" "$(nlines printed)"
	assert_equal "$(nlines printed)" 40000
	evq-recv -e "$q" >got 2>err || { cat err >&2; false; }
	jq -r .messageId got | sort >received
	[ -z "$(comm -23 printed received)" ]
	[ -z "$(uniq -d received)" ]
	nats_node_restart "$node"
}

@test "nats-server killed -9 and started again on its store: every acknowledged message is there" {
	nats_start
	run evq-ctl create "${NATS_URL}keep"
	assert_success
	seq 1 3000 | sed 's/.*/{"n":&}/' | evq-send -p "${NATS_URL}keep" | jq -r .MessageId | sort >printed
	assert_equal "$(nlines printed)" 3000
	dir=$NATS_DIR
	kill -KILL "$NATS_PID"
	nats_stop || true
	nats_start --dir "$dir"
	evq-recv -e "${NATS_URL}keep" | jq -r .messageId | sort >received
	diff printed received
	nats_stop
}
