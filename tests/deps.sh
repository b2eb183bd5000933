#!/bin/sh
# Makes sure the Debian packages evkit builds and tests with are present.
# As root it installs what is missing; otherwise it prints the apt-get line.
# Then it installs the tests' npm packages (fauxqs, the AWS SDK for the
# bench, the cloudevents SDK of the HTTP receiver, aws-lambda-ric, the nats
# client of the JetStream tests and bench) into tests/node_modules when
# missing or older than the lock file, and builds aws-lambda-ric's native
# part unless --no-ric.
cd "$(dirname "$0")" || exit 70
# awscli, python3-botocore, curl, iproute2 (ss): the SQS tests' independent
# clients and checks (tests/lib/servers.bash); openssl: the http tests'
# self-signed certificate; nginx: the HTTP sink and forward proxy of the
# tests and bench (tests/lib/nginx-sink.sh runs it as the user, never the
# system's service); libmicrohttpd: fnrun --runtime-api's and --listen's
# servers; wrk: --listen's load test and bench; nats-server and
# libnats-dev: the JetStream backend's server (tests/lib/nats-server.sh)
# and client library.
pkgs="gcc make pkg-config libjq-dev libsqlite3-dev zlib1g-dev libcurl4-openssl-dev libmicrohttpd-dev jq sqlite3
      bats bats-support bats-assert bats-file bash-completion mandoc zsh fish python3
      awscli python3-botocore curl iproute2 openssl nginx wrk cmake autoconf automake libtool g++
      nats-server libnats-dev"
# Node.js runs fauxqs.  A machine with its own Node keeps it: nodesource's
# nodejs provides npm and conflicts with Debian's.  Debian 12's Node 18.20
# runs fauxqs 1.9.2 and the SDK, though both declare Node >= 20 (npm warns).
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
[ -n "$EVKIT_EXTRA_PKGS" ] && pkgs="$pkgs $EVKIT_EXTRA_PKGS"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
	    missing="$missing $p"
done
if [ -n "$missing" ] && [ "$(id -u)" -eq 0 ]; then
	echo "evkit: installing missing packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/dev/null ||
	    { echo "evkit: apt-get install failed:$missing" >&2; exit 1; }
elif [ -n "$missing" ]; then
	echo "evkit: missing packages; run: sudo apt-get install -y$missing" >&2
	exit 1
fi

# npm ci: exactly the lock's versions, no install scripts; then
# aws-lambda-ric's native part (its bundled curl and aws-lambda-cpp: a few
# minutes, once) when it is not built, for the fnrun --runtime-api tests
# (--no-ric: not now; make demo needs none).
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
	echo "evkit: npm ci in tests/ (fauxqs, @aws-sdk/client-sqs, client-eventbridge, client-lambda, client-sfn, cloudevents, aws-lambda-ric, nats)" >&2
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null ||
	    { echo "evkit: npm ci failed in tests/" >&2; exit 1; }
fi
if [ "${1:-}" != --no-ric ] && [ ! -f node_modules/aws-lambda-ric/dist/rapid-client.node ]; then
	echo "evkit: building aws-lambda-ric's native part in tests/ (a few minutes, once)" >&2
	npm rebuild aws-lambda-ric --foreground-scripts --loglevel=error >/dev/null ||
	    { echo "evkit: npm rebuild aws-lambda-ric failed in tests/" >&2; exit 1; }
fi
