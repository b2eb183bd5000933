#!/bin/bash
# Debian's nats-server (2.9.10) with JetStream for the tests and benches: on
# 127.0.0.1 only, its store, log and ports file in a private directory, as
# the current user.
#
# Usage: tests/lib/nats-server.sh --dir DIR [--port N] [--http-port N]
#        [--name NAME] [--cluster-name C --cluster-port N --routes URLS]
#        [--user U --pass P] [--parent PID]
#
# Ports default to free ones the kernel picks (-1); a node of a cluster is
# given fixed ones, so that it comes back on the same ports when restarted.
# DIR keeps the JetStream store (DIR/store), the log (DIR/log), the ports
# file and nats-server's pid (DIR/nats.pid): a restart on the same DIR finds
# its streams again, and a test can kill -9 the server itself.
#
# Prints the client port on stdout once the server answers with JetStream
# enabled, then serves until its stdin reaches end of file, SIGTERM/SIGINT/
# SIGHUP arrives, process PID (--parent) is gone or nats-server dies.
port=-1 http=-1 dir= parent=0 name= cname= cport= routes= user= pass=
while [ $# -gt 0 ]; do
	case $1 in
	--dir) dir=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--http-port) http=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--cluster-name) cname=$2; shift 2 ;;
	--cluster-port) cport=$2; shift 2 ;;
	--routes) routes=$2; shift 2 ;;
	--user) user=$2; shift 2 ;;
	--pass) pass=$2; shift 2 ;;
	--parent) parent=$2; shift 2 ;;
	*) echo "nats-server.sh: unknown argument: $1" >&2; exit 64 ;;
	esac
done
ns=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$ns" ] || { echo "nats-server.sh: nats-server is not installed (tests/deps.sh installs it)" >&2; exit 69; }
[ -n "$dir" ] || { echo "nats-server.sh: --dir is required" >&2; exit 64; }
mkdir -p "$dir" || exit 73
dir=$(cd "$dir" && pwd)
npid=

# SIGTERM, then SIGKILL after 5 s: a server slow to shut down must not
# outlive its wrapper and keep its port.
cleanup() {
	local i=0
	if [ -n "$npid" ]; then
		kill -TERM "$npid" 2>/dev/null
		while kill -0 "$npid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$npid" 2>/dev/null
		wait "$npid" 2>/dev/null
	fi
	rm -f "$dir/nats.pid"
}
trap cleanup EXIT
trap 'exit 0' TERM INT HUP

args=(-js -a 127.0.0.1 -p "$port" -m "$http" -sd "$dir/store" -l "$dir/log"
    --ports_file_dir "$dir")
[ -n "$name" ] && args+=(--server_name "$name")
[ -n "$cname" ] && args+=(--cluster_name "$cname" --cluster "nats://127.0.0.1:$cport"
    --routes "$routes")
[ -n "$user" ] && args+=(--user "$user" --pass "$pass")
# A ports file of an earlier life of this node would be read as this one's.
rm -f "$dir"/nats-server_*.ports
"$ns" "${args[@]}" </dev/null >/dev/null 2>>"$dir/log" &
npid=$!
echo "$npid" > "$dir/nats.pid"

# Ready: the ports file is written and the monitor says JetStream is on.
pf="$dir/nats-server_$npid.ports" i=0
while :; do
	kill -0 "$npid" 2>/dev/null ||
	    { echo "nats-server.sh: nats-server did not start: $(tail -3 "$dir/log")" >&2; exit 69; }
	if [ -s "$pf" ]; then
		mon=$(jq -r '.monitoring[0] // empty' "$pf" 2>/dev/null)
		[ -n "$mon" ] && curl -sf -o /dev/null --max-time 2 \
		    "$mon/healthz?js-enabled-only=true" && break
	fi
	i=$((i + 1))
	[ "$i" -ge 1200 ] && { echo "nats-server.sh: nats-server not ready after 60 s" >&2; exit 69; }
	sleep 0.05
done
jq -r '.nats[0] | sub(".*:"; "")' "$pf"

# Serve until stdin ends, the parent or nats-server is gone, or a signal.
while :; do
	if read -r -t 0.5 _; then
		continue
	elif [ $? -le 128 ]; then
		exit 0	# end of file
	fi
	kill -0 "$npid" 2>/dev/null || { npid=; exit 0; }	# killed by a test
	if [ "$parent" -gt 0 ] && ! kill -0 "$parent" 2>/dev/null; then
		exit 0
	fi
done
