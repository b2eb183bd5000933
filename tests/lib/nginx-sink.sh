#!/bin/bash
# Debian's nginx as a throughput sink for the HTTP benches and tests: any
# request to any path but /_status gets "204 No Content"; /_status is
# nginx's stub_status (accepted connections and requests so far, from which
# a client's connection reuse is counted).  It runs as the current user in
# a temporary prefix: no root, no system configuration, no log but its
# error log.
#
# Usage: tests/lib/nginx-sink.sh [--port N] [--workers N] [--dir DIR]
#        [--proxy] [--parent PID]
#
# Prints the port (a free one by default) on stdout once nginx answers on
# 127.0.0.1, then serves until its stdin reaches end of file, SIGTERM/
# SIGINT/SIGHUP arrives, process PID (--parent) is gone or nginx dies.
# --dir keeps the prefix (nginx.conf, nginx.pid, error.log) in DIR: the
# caller reads the master's pid there, to count the server's CPU time.
# --workers: worker processes (default 1).
# --proxy: a forward HTTP proxy instead of the sink: a request for an
# absolute URL (as a client sends it to a proxy) is passed on to the
# host its Host header names, with "X-Evkit-Proxy: nginx" added, and
# logged in DIR/access.log (the request line and the status, e.g.
# "POST http://127.0.0.1:8080/x HTTP/1.1 200").  nginx does not do
# CONNECT: an https:// request through it fails (logged, 400).
port=0 workers=1 dir= parent=0 proxy=0
while [ $# -gt 0 ]; do
	case $1 in
	--port) port=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--proxy) proxy=1; shift ;;
	--parent) parent=$2; shift 2 ;;
	*) echo "nginx-sink.sh: unknown argument: $1" >&2; exit 64 ;;
	esac
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx-sink.sh: nginx is not installed (tests/deps.sh installs it)" >&2; exit 69; }
keep=1
if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/nginx-sink.XXXXXX") || exit 73
	keep=0
fi
mkdir -p "$dir" || exit 73
dir=$(cd "$dir" && pwd)
npid=

cleanup() {
	if [ -n "$npid" ]; then
		kill -TERM "$npid" 2>/dev/null
		wait "$npid" 2>/dev/null
	fi
	[ "$keep" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' TERM INT HUP

# A free port: nginx cannot be told to take any, so the kernel picks one
# for a socket that is then closed; another process may take it first, so
# a refused start is tried again with a new one.
free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{
	    console.log(s.address().port);s.close()})'
}

write_conf() {
	local user= log='access_log off;' root='return 204;'
	if [ "$proxy" = 1 ]; then
		log="log_format evkit '\$request \$status';
	access_log $dir/access.log evkit;"
		# An IP literal in the Host needs no resolver.
		root='proxy_pass http://$http_host$request_uri;
			proxy_set_header X-Evkit-Proxy nginx;'
	fi
	# A master run as root would hand its workers to "nobody".
	[ "$(id -u)" -eq 0 ] && user="user $(id -un) $(id -gn);"
	cat > "$dir/nginx.conf" <<EOF
$user
daemon off;
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
	$log
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	keepalive_requests 10000000;
	keepalive_timeout 60s;
	client_body_buffer_size 1m;
	server {
		listen 127.0.0.1:$1 reuseport backlog=4096;
		location = /_status { stub_status; }
		location / { $root }
	}
}
EOF
}

try=0
while :; do
	p=$port
	[ "$p" = 0 ] && p=$(free_port)
	write_conf "$p"
	"$nginx" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" </dev/null >/dev/null 2>&1 &
	npid=$!
	i=0
	while kill -0 "$npid" 2>/dev/null; do
		curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/_status" && break
		i=$((i + 1))
		[ "$i" -ge 600 ] && break
		sleep 0.05
	done
	if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/_status"; then
		break
	fi
	kill -TERM "$npid" 2>/dev/null
	wait "$npid" 2>/dev/null
	npid=
	try=$((try + 1))
	if [ "$port" != 0 ] || [ "$try" -ge 5 ]; then
		echo "nginx-sink.sh: nginx did not start: $(tail -3 "$dir/error.log" 2>/dev/null)" >&2
		exit 69
	fi
done
echo "$p"

# Serve until stdin ends, the parent or nginx is gone, or a signal comes.
while :; do
	if read -r -t 0.5 _; then
		continue
	elif [ $? -le 128 ]; then
		exit 0	# end of file
	fi
	kill -0 "$npid" 2>/dev/null || { echo "nginx-sink.sh: nginx died" >&2; exit 70; }
	if [ "$parent" -gt 0 ] && ! kill -0 "$parent" 2>/dev/null; then
		exit 0
	fi
done
