# Test servers for evkit's SQS paths, for bats files (after test_helper):
#
#   fauxqs_start / fauxqs_stop         fauxqs 1.9.2 on 127.0.0.1, a free port
#   fauxqs_call / fauxqs_create_queue  quick set-up calls with curl
#   sigv4_proxy_start / sigv4_proxy_stop  checks SigV4 with botocore, then
#                                      forwards to fauxqs
#   fauxqs_start_checked / fauxqs_stop_checked  both, clients on the proxy
#   throttle_start ARGS / throttle_stop  a misbehaving endpoint
#   aws_cli ARGS                       Debian's AWS CLI, JSON 1.0 for SQS
#   receiver_start ARGS / receiver_stop  an HTTP receiver parsing CloudEvents
#                                      with the npm SDK (http-receiver.mjs)
#   receiver_script JSON / receiver_requests [JQ] / receiver_reset
#   nginx_sink_start ARGS / nginx_sink_stop  Debian's nginx answering 204
#   nats_start / nats_stop             nats-server -js on 127.0.0.1, free ports
#   nats_cluster_start N / nats_cluster_stop  an N-node JetStream cluster;
#   nats_node_kill I / nats_node_restart I    kill -9 of a node, and back
#   nats_monitor PATH [NODE]           a monitoring endpoint's JSON
#
# Each can run from setup_file/teardown_file (one server for the file) or
# from a test.  A server stops when its stop function runs, when the shell
# that started it exits (it watches that process) or when it gets SIGTERM:
# a run killed with -9 leaves nothing listening.  Readiness is polled, never
# waited for by a fixed sleep.
#
# fauxqs keys a queue by the URL CreateQueue returned,
# http://sqs.us-east-1.localhost:PORT/000000000000/NAME, PORT being the port
# of the Host the CreateQueue request was sent to (fauxqs's or the proxy's):
# use that URL as returned, and send requests to the endpoint.

SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVERS_PY=/usr/bin/python3	# Debian's: the pyenv one on PATH lacks botocore
SERVERS_AWS=/usr/bin/aws
SERVERS_WAIT=${SERVERS_WAIT:-60}	# seconds a server may take to listen

# _srv_start NAME CMD...: starts CMD with its stdin on a pipe this shell
# holds open, and waits for the port it prints.  Sets _SRV_PORT, _SRV_PID,
# _SRV_FD and _SRV_DIR (stdin pipe, port, stderr).
_srv_start() {
	local name=$1 i=0 fd parent=$BASHPID	# this shell's, not the child's
	shift
	_SRV_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/$name.XXXXXX") || return 1
	mkfifo "$_SRV_DIR/stdin" || return 1
	# 3>&-: bats waits for every holder of its fd 3 before it ends.
	"$@" --parent "$parent" <"$_SRV_DIR/stdin" >"$_SRV_DIR/port" \
	    2>"$_SRV_DIR/stderr" 3>&- &
	_SRV_PID=$!
	exec {fd}>"$_SRV_DIR/stdin"
	_SRV_FD=$fd
	while ! grep -q '^[0-9][0-9]*$' "$_SRV_DIR/port" 2>/dev/null; do
		if ! kill -0 "$_SRV_PID" 2>/dev/null || [ "$i" -ge $((SERVERS_WAIT * 20)) ]; then
			echo "$name did not start: $(cat "$_SRV_DIR/stderr")" >&2
			_srv_stop "$_SRV_PID" "$_SRV_FD"
			return 1
		fi
		i=$((i + 1))
		sleep 0.05
	done
	_SRV_PORT=$(cat "$_SRV_DIR/port")
}

# _srv_export PREFIX: exports PREFIX_PORT, PREFIX_PID, PREFIX_FD and
# PREFIX_URL (http://127.0.0.1:PORT) of the server _srv_start started.
_srv_export() {
	export "$1_PORT=$_SRV_PORT" "$1_PID=$_SRV_PID" "$1_FD=$_SRV_FD"
	export "$1_URL=http://127.0.0.1:$_SRV_PORT"
}

# _srv_stop_as PREFIX: stops the server _srv_export named PREFIX.
_srv_stop_as() {
	local pid=$1_PID fd=$1_FD
	_srv_stop "${!pid:-}" "${!fd:-}"
	unset "$1_PID" "$1_FD"
}

# _srv_stop PID FD: closes the server's stdin, sends SIGTERM, and waits
# until the process is gone (SIGKILL after 10 s).
_srv_stop() {
	local pid=$1 fd=$2 i=0
	[ -n "$fd" ] && exec {fd}>&-
	[ -n "$pid" ] || return 0
	# It may be gone already: end of file on its stdin stops it too.
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -eq 200 ] && kill -KILL "$pid" 2>/dev/null
		[ "$i" -ge 400 ] && return 1
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true	# not ours when stopped from a subshell
	return 0
}

# Credentials and region a client needs for fauxqs, and nothing from the
# user's own AWS set-up (files, profile, instance metadata).
aws_test_env() {
	export AWS_ACCESS_KEY_ID=AKIDEVKITTEST0000000
	export AWS_SECRET_ACCESS_KEY=evkit/test+secret/0000000000000000000000
	export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
	export AWS_CONFIG_FILE="${BATS_FILE_TMPDIR:-/nonexistent}/no-aws-config"
	export AWS_SHARED_CREDENTIALS_FILE="${BATS_FILE_TMPDIR:-/nonexistent}/no-aws-credentials"
	export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
	unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
	unset AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_EVENTS
}

# fauxqs_start: sets FAUXQS_PORT, FAUXQS_URL (the endpoint), FAUXQS_PID and
# the client environment (aws_test_env, AWS_ENDPOINT_URL=FAUXQS_URL).
fauxqs_start() {
	if [ ! -f "$SERVERS_DIR/../node_modules/fauxqs/package.json" ]; then
		echo "fauxqs is not installed: run 'npm ci --prefix tests' (make deps does)" >&2
		return 1
	fi
	_srv_start fauxqs node "$SERVERS_DIR/fauxqs.mjs" || return 1
	_srv_export FAUXQS
	aws_test_env
	export AWS_ENDPOINT_URL=$FAUXQS_URL
}

# fauxqs_call ACTION JSON: one SQS JSON 1.0 call to AWS_ENDPOINT_URL with
# curl (signed by libcurl, as evkit's client signs), the answer on stdout;
# fails on an HTTP error.  Quicker than the CLI for a test's set-up.
fauxqs_call() {
	curl -sS --fail-with-body --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:sqs" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    ${AWS_SESSION_TOKEN:+-H "X-Amz-Security-Token: $AWS_SESSION_TOKEN"} \
	    -H 'Content-Type: application/x-amz-json-1.0' -H "X-Amz-Target: AmazonSQS.$1" \
	    -X POST --data-binary "$2" "${AWS_ENDPOINT_URL:?fauxqs_call: no endpoint}/"
}

# fauxqs_create_queue NAME [ATTRIBUTES_JSON]: prints the new queue's URL.
fauxqs_create_queue() {
	fauxqs_call CreateQueue "$(jq -cn --arg n "$1" --argjson a "${2:-{\}}" \
	    '{QueueName: $n, Attributes: $a}')" | jq -er .QueueUrl
}

fauxqs_stop() {
	_srv_stop_as FAUXQS
}

# sigv4_proxy_start [UPSTREAM]: a SigV4-checking proxy in front of UPSTREAM
# (default FAUXQS_URL), holding the credentials exported now (set
# AWS_SESSION_TOKEN to require one).  Sets SIGV4_PROXY_PORT, SIGV4_PROXY_URL,
# SIGV4_PROXY_LOG (one verdict a line: "ok OP ..." / "refused CODE OP ...")
# and SIGV4_PROXY_OUT (a directory: its stdout in port, its stderr in stderr).
sigv4_proxy_start() {
	local up=${1:-${FAUXQS_URL:?sigv4_proxy_start: no upstream (fauxqs_start first)}}
	local log
	log=$(mktemp "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/sigv4-proxy.log.XXXXXX") || return 1
	_srv_start sigv4-proxy "$SERVERS_PY" "$SERVERS_DIR/sigv4-proxy.py" \
	    --upstream "$up" --log "$log" || return 1
	_srv_export SIGV4_PROXY
	export SIGV4_PROXY_LOG=$log
	export SIGV4_PROXY_OUT=$_SRV_DIR	# its stdout (port) and stderr
}

sigv4_proxy_stop() {
	_srv_stop_as SIGV4_PROXY
}

# fauxqs_start_checked / fauxqs_stop_checked: fauxqs behind the SigV4 proxy,
# the client's environment holding a session token the proxy requires and
# AWS_ENDPOINT_URL pointing at the proxy: a suite run this way has every
# request's signature checked by botocore (SIGV4_PROXY_LOG has the verdicts).
fauxqs_start_checked() {
	fauxqs_start || return 1
	export AWS_SESSION_TOKEN='IQoJevkit//test+session/token=='
	sigv4_proxy_start || return 1
	export AWS_ENDPOINT_URL=$SIGV4_PROXY_URL
}

fauxqs_stop_checked() {
	sigv4_proxy_stop
	fauxqs_stop
}

# throttle_start [throttle-server.py options]: sets THROTTLE_PORT,
# THROTTLE_URL and THROTTLE_COUNT (a file: requests seen so far).
throttle_start() {
	local count
	count=$(mktemp "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/throttle.count.XXXXXX") || return 1
	_srv_start throttle "$SERVERS_PY" "$SERVERS_DIR/throttle-server.py" \
	    --count "$count" "$@" || return 1
	_srv_export THROTTLE
	export THROTTLE_COUNT=$count
}

throttle_stop() {
	_srv_stop_as THROTTLE
}

# aws_cli ARGS: /usr/bin/aws on AWS_CLI_ENDPOINT (default AWS_ENDPOINT_URL),
# JSON output.  Debian's CLI speaks SQS's query protocol; the JSON 1.0 model
# made by sqs-json-model.py (once per file) makes it speak what fauxqs does.
aws_cli() {
	local models="${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/aws-models"
	if [ ! -f "$models/sqs/2012-11-05/service-2.json" ]; then
		"$SERVERS_PY" "$SERVERS_DIR/sqs-json-model.py" "$models" || return 1
	fi
	AWS_DATA_PATH=$models "$SERVERS_AWS" \
	    --endpoint-url "${AWS_CLI_ENDPOINT:-${AWS_ENDPOINT_URL:?aws_cli: no endpoint}}" \
	    --output json "$@"
}

# receiver_start [http-receiver.mjs options]: a Node receiver recording
# every request (tests/lib/http-receiver.mjs says what and how it answers).
# Sets RECEIVER_PORT, RECEIVER_URL and RECEIVER_LOG (one JSON line a request).
receiver_start() {
	local log
	if [ ! -f "$SERVERS_DIR/../node_modules/cloudevents/package.json" ]; then
		echo "cloudevents is not installed: run 'npm ci --prefix tests' (make deps does)" >&2
		return 1
	fi
	log=$(mktemp "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/receiver.log.XXXXXX") || return 1
	_srv_start http-receiver node "$SERVERS_DIR/http-receiver.mjs" --log "$log" "$@" ||
	    return 1
	_srv_export RECEIVER
	export RECEIVER_LOG=$log
}

receiver_stop() {
	_srv_stop_as RECEIVER
}

# receiver_script JSON: replaces the receiver's script (and its counters).
receiver_script() {
	curl -sS --fail -X POST -H 'Content-Type: application/json' \
	    --data-binary "$1" "${RECEIVER_URL:?receiver_script: no receiver}/_control/script"
}

# receiver_expire_tokens: every OAuth token issued so far is expired.
receiver_expire_tokens() {
	curl -sS --fail -X POST "${RECEIVER_URL:?no receiver}/_control/expire-tokens"
}

# receiver_requests [JQ_FILTER]: the recorded requests, one compact JSON (a
# string: raw) a line, through JQ_FILTER (default: as recorded).
receiver_requests() {
	jq -rc "${1:-.}" "${RECEIVER_LOG:?receiver_requests: no receiver}"
}

# receiver_reset: forgets the recorded requests and the script.
receiver_reset() {
	: > "${RECEIVER_LOG:?receiver_reset: no receiver}"
	receiver_script '{}'
}

# nginx_sink_start [nginx-sink.sh options]: nginx answering 204 to anything
# (tests/lib/nginx-sink.sh).  Sets NGINX_SINK_PORT, NGINX_SINK_URL and
# NGINX_SINK_DIR (its prefix: nginx.pid, error.log).
nginx_sink_start() {
	local dir
	dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/nginx.XXXXXX") || return 1
	_srv_start nginx-sink bash "$SERVERS_DIR/nginx-sink.sh" --dir "$dir" "$@" || return 1
	_srv_export NGINX_SINK
	export NGINX_SINK_DIR=$dir
}

nginx_sink_stop() {
	_srv_stop_as NGINX_SINK
}

# nginx_sink_counts: "CONNECTIONS REQUESTS" nginx accepted so far (the
# request asking counts too).
nginx_sink_counts() {
	curl -sS --fail "${NGINX_SINK_URL:?nginx_sink_counts: no sink}/_status" |
	    awk 'NR == 3 { print $1, $3 }'
}

# nats_start [--dir DIR] [nats-server.sh options]: one nats-server with
# JetStream on free loopback ports (tests/lib/nats-server.sh), its store
# private (a new directory, or DIR to start again on an earlier one).  Sets
# NATS_PORT, NATS_URL (nats://127.0.0.1:PORT/: append a queue or log name),
# NATS_PID (nats-server's own pid, for kill -9), NATS_MONITOR_URL and
# NATS_DIR (store, log).
nats_start() {
	local dir
	if [ "${1:-}" = --dir ]; then
		dir=$2
		shift 2
	else
		dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/nats.XXXXXX") || return 1
	fi
	_srv_start nats-server bash "$SERVERS_DIR/nats-server.sh" --dir "$dir" "$@" ||
	    return 1
	export NATS_PORT=$_SRV_PORT NATS_WRAP_PID=$_SRV_PID NATS_FD=$_SRV_FD
	export NATS_URL="nats://127.0.0.1:$_SRV_PORT/" NATS_DIR=$dir
	NATS_PID=$(cat "$dir/nats.pid") || return 1
	NATS_MONITOR_URL=$(jq -r '.monitoring[0]' "$dir/nats-server_$NATS_PID.ports") || return 1
	export NATS_PID NATS_MONITOR_URL
}

nats_stop() {
	_srv_stop "${NATS_WRAP_PID:-}" "${NATS_FD:-}"
	_nats_gone "${NATS_PID:-}"
	unset NATS_WRAP_PID NATS_FD NATS_PID
}

# _nats_gone PID: returns once nats-server PID is gone (SIGKILL if its
# wrapper could not end it), so that its ports are free again.
_nats_gone() {
	[ -n "$1" ] || return 0
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
	return 0
}

# _free_ports N: N distinct free loopback ports, one a line, held open
# together while they are picked.  They are below the kernel's ephemeral
# range, so that a server restarted on its port never finds it taken by
# the source port of some client's connection.
_free_ports() {
	"$SERVERS_PY" -c 'import random, socket, sys
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
held = []
while len(held) < int(sys.argv[1]):
	x = socket.socket()
	try:
		x.bind(("127.0.0.1", random.randrange(10000, max(lo, 10001))))
		held.append(x)
	except OSError:
		x.close()
print("\n".join(str(x.getsockname()[1]) for x in held))' "$1"
}

# nats_cluster_start N: an N-node JetStream cluster "evkit" on 127.0.0.1
# (server names n1..nN, routes to every node, a private store each), ready
# once every node knows the meta leader.  Sets NATS_CLUSTER_URL
# (nats://127.0.0.1:P1,127.0.0.1:P2,.../: append a name), NATS_NODES, and
# for each node I: NATS_NODEi_PORT, NATS_NODEi_PID (nats-server's),
# NATS_NODEi_MONITOR_URL, NATS_NODEi_DIR.  Nodes keep their ports and store
# across nats_node_kill / nats_node_restart.
nats_cluster_start() {
	local n=${1:-3} i ports routes= hosts= base
	base=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/nats-cluster.XXXXXX") || return 1
	mapfile -t ports < <(_free_ports $((3 * n))) || return 1
	for i in $(seq 1 "$n"); do
		routes="$routes${routes:+,}nats://127.0.0.1:${ports[3 * i - 2]}"
		hosts="$hosts${hosts:+,}127.0.0.1:${ports[3 * i - 3]}"
	done
	export NATS_NODES=$n NATS_CLUSTER_ROUTES=$routes NATS_CLUSTER_DIR=$base
	export NATS_CLUSTER_URL="nats://$hosts/"
	for i in $(seq 1 "$n"); do
		export "NATS_NODE${i}_PORT=${ports[3 * i - 3]}"
		export "NATS_NODE${i}_CPORT=${ports[3 * i - 2]}"
		export "NATS_NODE${i}_MPORT=${ports[3 * i - 1]}"
		export "NATS_NODE${i}_DIR=$base/n$i"
		export "NATS_NODE${i}_MONITOR_URL=http://127.0.0.1:${ports[3 * i - 1]}"
		_nats_node_spawn "$i" || return 1
	done
	for i in $(seq 1 "$n"); do
		nats_node_wait "$i" || return 1
	done
}

# _nats_node_spawn I: starts node I of the cluster on its ports and store.
_nats_node_spawn() {
	local i=$1 p c m d
	p=NATS_NODE${1}_PORT c=NATS_NODE${1}_CPORT m=NATS_NODE${1}_MPORT d=NATS_NODE${1}_DIR
	_srv_start "nats-n$i" bash "$SERVERS_DIR/nats-server.sh" --dir "${!d}" \
	    --port "${!p}" --http-port "${!m}" --name "n$i" --cluster-name evkit \
	    --cluster-port "${!c}" --routes "$NATS_CLUSTER_ROUTES" || return 1
	export "NATS_NODE${i}_WRAP_PID=$_SRV_PID" "NATS_NODE${i}_FD=$_SRV_FD"
	export "NATS_NODE${i}_PID=$(cat "${!d}/nats.pid")"
}

# nats_node_wait I [SECONDS]: waits until node I sees a JetStream meta
# leader in a cluster of NATS_NODES (default 60 s).
nats_node_wait() {
	local m=NATS_NODE${1}_MONITOR_URL i=0 end=$((${2:-$SERVERS_WAIT} * 10))
	until curl -sf --max-time 2 "${!m}/jsz" |
	    jq -e --argjson n "$NATS_NODES" \
	    '(.meta_cluster.leader // "" | length > 0)
	    and (.meta_cluster.cluster_size // 0) >= $n' >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge "$end" ] && { echo "nats node $1: no meta leader" >&2; return 1; }
		sleep 0.1
	done
}

# nats_node_kill I: kill -9 of node I's nats-server; returns once it is gone.
nats_node_kill() {
	local pid=NATS_NODE${1}_PID w=NATS_NODE${1}_WRAP_PID fd=NATS_NODE${1}_FD
	kill -KILL "${!pid}" 2>/dev/null || true
	_srv_stop "${!w:-}" "${!fd:-}"
	while kill -0 "${!pid}" 2>/dev/null; do sleep 0.05; done
	unset "NATS_NODE${1}_WRAP_PID" "NATS_NODE${1}_FD"
}

# nats_node_restart I: starts node I again on its ports and store, and waits
# until it sees the meta leader.  It lives as long as the shell that
# restarted it (a test's, when called from a test).
nats_node_restart() {
	_nats_node_spawn "$1" && nats_node_wait "$1"
}

nats_cluster_stop() {
	local i w fd p
	for i in $(seq 1 "${NATS_NODES:-0}"); do
		w=NATS_NODE${i}_WRAP_PID fd=NATS_NODE${i}_FD p=NATS_NODE${i}_PID
		_srv_stop "${!w:-}" "${!fd:-}"
		_nats_gone "${!p:-}"
		unset "NATS_NODE${i}_WRAP_PID" "NATS_NODE${i}_FD"
	done
}

# nats_monitor PATH [NODE]: a monitoring endpoint's JSON (/jsz?streams=1,
# /varz...) of the single server, or of node NODE of the cluster.
nats_monitor() {
	local m=NATS_MONITOR_URL
	[ -n "${2:-}" ] && m=NATS_NODE${2}_MONITOR_URL
	curl -sf --max-time 5 "${!m:?nats_monitor: no server}$1"
}

# evkit_serve_start [HOME]: evkit-serve on 127.0.0.1, a port of its own
# choosing, its queues under HOME (default $BATS_FILE_TMPDIR/serve-home);
# sets SERVE_URL, SERVE_PID, SERVE_HOME, SERVE_LOG (its stderr: the access
# log) and the client environment (aws_test_env, AWS_ENDPOINT_URL).  A
# watcher stops it when this shell is gone (a run killed with -9).
evkit_serve_start() {
	local parent=$BASHPID i=0
	SERVE_HOME=${1:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/serve-home}
	SERVE_LOG=$(mktemp "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/serve.XXXXXX") || return 1
	mkdir -p "$SERVE_HOME"
	EVKIT_HOME=$SERVE_HOME evkit-serve --listen 0 ${SERVE_ARGS:-} 2>"$SERVE_LOG" 3>&- &
	SERVE_PID=$!
	( while kill -0 "$parent" 2>/dev/null && kill -0 "$SERVE_PID" 2>/dev/null; do sleep 1; done
	  kill -TERM "$SERVE_PID" 2>/dev/null ) 3>&- >/dev/null 2>&1 &
	while ! grep -q 'listening on http' "$SERVE_LOG"; do
		if ! kill -0 "$SERVE_PID" 2>/dev/null || [ "$i" -ge $((SERVERS_WAIT * 20)) ]; then
			echo "evkit-serve did not start: $(cat "$SERVE_LOG")" >&2
			return 1
		fi
		i=$((i + 1))
		sleep 0.05
	done
	SERVE_URL=$(sed -n 's/^evkit-serve: listening on //p' "$SERVE_LOG")
	export SERVE_URL SERVE_PID SERVE_HOME SERVE_LOG
	aws_test_env
	export AWS_ENDPOINT_URL=$SERVE_URL
}

# evkit_serve_stop: SIGTERM, and its exit status (0: stopped cleanly).
evkit_serve_stop() {
	[ -n "${SERVE_PID:-}" ] || return 0
	local pid=$SERVE_PID rc=0
	unset SERVE_PID
	kill -TERM "$pid" 2>/dev/null || return 0
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}
