#!/usr/bin/env bats
# evbus-route's http:// and https:// targets (SPEC 6a) against
# tests/lib/http-receiver.mjs on 127.0.0.1, a Node server that parses every
# request with the official npm cloudevents SDK (HTTP.toEvent) and answers
# from a script: one successful delivery per event under retries, the
# attempts each retry class makes, dead-letter records, redirects not
# followed, basic / API-key / OAuth auth checked by the server, the rate
# limit, connections kept alive, trace headers, CloudEvents as the SDK
# parsed them, no secret in any output, bad rules (exit 2 naming the JSON
# path), libcurl's proxy variables (nginx as a forward proxy), and
# back-pressure in front of a slow endpoint.
load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	export EVBUS_RETRY_BASE_MS=1
	# The receivers are on 127.0.0.1: a proxy of the machine's must not
	# stand between (libcurl would use it).
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	unset no_proxy NO_PROXY
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	[ -n "${WRITER_PID:-}" ] && kill -TERM "$WRITER_PID" 2>/dev/null
	[ -n "${ROUTE_PID:-}" ] && kill -KILL "$ROUTE_PID" 2>/dev/null
	receiver_stop
	_srv_stop "${HOOK2_PID:-}" "${HOOK2_FD:-}"
	nginx_sink_stop
}

# proxy_start: Debian's nginx as a forward proxy (nginx-sink.sh --proxy).
# Sets PROXY (its URL) and PLOG (its access log: "REQUEST-LINE STATUS").
proxy_start() {
	nginx_sink_start --proxy || return 1
	PROXY=$NGINX_SINK_URL PLOG=$NGINX_SINK_DIR/access.log
}

# proxied PATTERN: the proxy's log lines for requests matching PATTERN.
proxied() {
	grep -c -- "$1" "$PLOG" || true
}

# hook_start [http-receiver.mjs options]: sets HOOK (the base URL) and REC
# (the receiver's log: one request a line).
hook_start() {
	receiver_start "$@" || return 1
	HOOK=$RECEIVER_URL REC=$RECEIVER_LOG
}

# rule1 FILE TARGET-JSON: one rule matching {"t":"x"} with that target.
rule1() {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[%s]}]}\n' "$2" > "$1"
}

events() {	# events N: N events {"t":"x","n":I}
	for i in $(seq 1 "$1"); do printf '{"t":"x","n":%d}\n' "$i"; done
}

# successes N [LOG]: the 200 answers the receiver gave to event n.
successes() {
	jq -c "select(.n > 0 and .status == 200 and (.body | fromjson | .n) == $1)" \
	    "${2:-$REC}" | wc -l | tr -d ' '
}

# count JQ-CONDITION [LOG]: the recorded requests for which it holds.
count() {
	jq -c "select($1)" "${2:-$REC}" | wc -l | tr -d ' '
}

@test "http: each event is POSTed once as application/json with the target's headers and query" {
	hook_start
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"http_parameters\":{\"header_parameters\":{\"X-Tenant\":\"t1\"},\"query_string_parameters\":{\"a b\":\"c&d\"}}}"
	events 3 | evbus-route -r r.json
	run jq -r '[.method, .path + "?" + .raw_query, .headers["content-type"], .headers["x-tenant"], .body] | join(" ")' "$REC"
	assert_line 'POST /ok?a%20b=c%26d application/json t1 {"t":"x","n":1}'
	run jq -c '.query' "$REC"
	assert_line -n 0 '{"a b":"c&d"}'
	assert_equal "$(nlines "$REC")" 3
	for n in 1 2 3; do assert_equal "$(successes $n)" 1; done
	# No CloudEvents asked for: the SDK finds none.
	assert_equal "$(count '.mode == null and .event == null')" 3
}

@test "http: 500 twice then 200 makes three attempts and one delivery per event" {
	hook_start
	receiver_script '{"by":"body","*":[{"status":500},{"status":500},{"status":200}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/fail\",\"dead_letter\":\"file:dl\"}"
	events 5 | evbus-route -r r.json
	assert_equal "$(nlines "$REC")" 15
	for n in 1 2 3 4 5; do
		assert_equal "$(successes $n)" 1
		assert_equal "$(count "(.body | fromjson | .n) == $n and .status == 500")" 2
	done
	assert_equal "$(cat dl 2>/dev/null | wc -l | tr -d ' ')" 0
}

@test "http: 429 once is retried; 400 goes to the dead letter at once with its status and a body excerpt" {
	hook_start
	receiver_script '{"by":"body","*":[{"status":429},{"status":200}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/fail\"}"
	events 2 | evbus-route -r r.json
	assert_equal "$(nlines "$REC")" 4
	assert_equal "$(count '.status == 429')" 2
	assert_equal "$(successes 1)" 1
	assert_equal "$(successes 2)" 1
	receiver_reset
	receiver_script '{"*":[{"status":400,"body":"the receiver says no:\nbad thing"}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/status/400\",\"dead_letter\":\"file:dl\",\"retry\":{\"attempts\":5}}"
	run --separate-stderr evbus-route -r r.json <<< '{"t":"x","n":1}'
	assert_success
	assert_equal "$(nlines "$REC")" 1
	run jq -r '[.ERROR_CODE, .ERROR_MESSAGE, .RETRY_ATTEMPTS, .EXHAUSTED_RETRY_CONDITION // "none", .TARGET_ARN] | join("|")' dl
	assert_output "INVALID_PARAMETER|POST $HOOK/status/400: HTTP 400: the receiver says no: bad thing|0|none|$HOOK/status/400"
}

@test "http: 503 for good runs out of retries; a timeout and a closed port are retried too" {
	hook_start
	receiver_script '{"*":[{"status":503,"body":"the receiver says no:\nbad thing"}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/status/503\",\"dead_letter\":\"file:dl\",\"retry\":{\"attempts\":3}}"
	evbus-route -r r.json <<< '{"t":"x","n":1}' 2>/dev/null
	assert_equal "$(nlines "$REC")" 4
	run jq -r '[.ERROR_CODE, .RETRY_ATTEMPTS, .EXHAUSTED_RETRY_CONDITION] | join("|")' dl
	assert_output "SERVICE_UNAVAILABLE|3|MaximumRetryAttempts"
	rm dl
	receiver_reset
	receiver_script '{"*":[{"status":200,"delay_ms":3000}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/slow\",\"timeout\":1,\"dead_letter\":\"file:dl\",\"retry\":{\"attempts\":1}}"
	evbus-route -r r.json <<< '{"t":"x","n":1}' 2>/dev/null
	wait_for '[ "$(nlines "$REC")" -ge 2 ]' 10
	run jq -r '[.ERROR_CODE, .RETRY_ATTEMPTS] | join("|")' dl
	assert_output "TIMEOUT|1"
	rm dl
	# A port nothing listens on: the receiver's, once it has stopped.
	receiver_stop
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"dead_letter\":\"file:dl\",\"retry\":{\"attempts\":2}}"
	evbus-route -r r.json <<< '{"t":"x","n":1}' 2>/dev/null
	run jq -r '[.ERROR_CODE, .RETRY_ATTEMPTS] | join("|")' dl
	assert_output "CONNECTION_ERROR|2"
}

@test "http: a redirect is not followed; the failure names the location" {
	hook_start
	receiver_script '{"*":[{"status":302,"location":"/ok"}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/redirect\",\"dead_letter\":\"file:dl\"}"
	evbus-route -r r.json <<< '{"t":"x","n":1}' 2>/dev/null
	assert_equal "$(nlines "$REC")" 1
	run jq -r '.ERROR_MESSAGE' dl
	assert_output --partial "HTTP 302 redirect to $HOOK/ok"
}

@test "http: basic and API-key auth are checked by the server; no secret in any output" {
	# Two receivers: one wants basic auth, the other an API key.
	hook_start --api-key 'X-Api-Key:k3y-s3cr3t'
	HOOK2=$HOOK REC2=$REC HOOK2_PID=$RECEIVER_PID HOOK2_FD=$RECEIVER_FD
	hook_start --basic 'ann:s3cr3t-pass'
	export PW='s3cr3t-pass' KEY='k3y-s3cr3t'
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[%s,%s]}]}\n' \
	    "{\"id\":\"b\",\"uri\":\"$HOOK/basic\",\"connection\":{\"auth\":\"basic\",\"username\":\"ann\",\"password_env\":\"PW\"}}" \
	    "{\"id\":\"k\",\"uri\":\"$HOOK2/apikey\",\"connection\":{\"auth\":\"api_key\",\"header\":\"X-Api-Key\",\"value_env\":\"KEY\"}}" > r.json
	run evbus-route -r r.json <<< '{"t":"x","n":1}'
	assert_success
	run jq -r '[.path, .auth, .status] | join(" ")' "$REC" "$REC2"
	assert_output $'/basic ok 200\n/apikey ok 200'
	# Wrong secrets: 401, dead-lettered, and still never printed.
	export PW=wrong-pass-1 KEY=wrong-key-1
	sed -i 's/"id":"k"/"id":"k","dead_letter":"file:dl"/; s/"id":"b"/"id":"b","dead_letter":"file:dl"/' r.json
	run evbus-route -r r.json <<< '{"t":"x","n":1}'
	assert_success
	refute_output --partial wrong-
	run jq -r '[.path, .auth, .status] | join(" ")' "$REC" "$REC2"
	assert_output $'/basic ok 200\n/basic bad 401\n/apikey ok 200\n/apikey bad 401'
	run jq -r '.ERROR_CODE' dl
	assert_output $'NO_PERMISSIONS\nNO_PERMISSIONS'
	run grep -rl -e wrong-pass-1 -e wrong-key-1 -e s3cr3t . --exclude=r.json
	assert_failure
	run evbus-route -r r.json --explain <<< '{"t":"x"}'
	assert_output --partial "evbus-route: rule 'r' target 'b': POST $HOOK/basic auth basic, rate 300/s, concurrency 8, timeout 5 s"
	assert_output --partial "evbus-route: rule 'r' target 'k': POST $HOOK2/apikey auth api_key, rate 300/s"
	refute_output --partial wrong-
}

@test "http: OAuth client credentials: the token is fetched once, cached, and refreshed on a 401" {
	hook_start --oauth 'cid:k3y-s3cr3t'
	# The first request's token is revoked with a 401: a new one is needed.
	receiver_script '{"#1":{"status":401,"revoke":true}}'
	export CS='k3y-s3cr3t'
	rule1 r.json "{\"id\":\"o\",\"uri\":\"$HOOK/oauth\",\"connection\":{\"auth\":\"oauth_client_credentials\",\"token_url\":\"$HOOK/oauth/token\",\"client_id\":\"cid\",\"client_secret_env\":\"CS\",\"scope\":\"events\"},\"concurrency\":1}"
	events 4 | evbus-route -r r.json
	assert_equal "$(count '.path == "/oauth/token" and .status == 200')" 2
	assert_equal "$(count '.path == "/oauth" and .status == 401')" 1
	for n in 1 2 3 4; do assert_equal "$(successes $n)" 1; done
	# Every delivery carried a live token: the receiver checked it.
	assert_equal "$(count '.path == "/oauth" and .status == 200 and .auth == "ok"')" 4
	run grep -c k3y-s3cr3t "$REC"
	assert_output 2	# in the two token requests only
}

@test "http: rate_per_second 20 holds 60 events to at least 2.5 s" {
	hook_start
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"rate_per_second\":20}"
	events 60 > in
	start=$(date +%s%N)
	evbus-route -r r.json in
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	assert_equal "$(nlines "$REC")" 60
	[ "$ms" -ge 2500 ] || fail "60 events at 20/s took ${ms} ms"
}

@test "http: 300 events go over at most concurrency kept-alive connections" {
	hook_start
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"concurrency\":4,\"rate_per_second\":100000}"
	events 300 > in
	evbus-route -r r.json in
	assert_equal "$(nlines "$REC")" 300
	run sh -c "jq -r .conn '$REC' | sort -u | wc -l"
	[ "$output" -le 4 ] || fail "$output connections"
}

@test "http: an EventBridge event in CloudEvents binary and structured mode, as the SDK parses it; trace headers" {
	hook_start
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"cloudevents\":\"binary\",\"input_path\":\"\$.detail\"}"
	ev='{"t":"x","id":"e-1","source":"shop","detail-type":"OrderPlaced","time":"2026-01-02T03:04:05Z","detail":{"a":1},"traceparent":"00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"}'
	want='{"id":"e-1","time":"2026-01-02T03:04:05.000Z","type":"OrderPlaced","source":"shop","specversion":"1.0","datacontenttype":"application/json","data":{"a":1}}'
	evbus-route -r r.json <<< "$ev"
	want=$(jq -cS . <<< "$want")
	run jq -c '[.mode, .ce_error]' "$REC"
	assert_output '["binary",null]'
	run jq -cS '.event' "$REC"
	assert_output "$want"
	run jq -r '.headers | [.["ce-specversion"], .["ce-time"], .["content-type"], .traceparent, .["x-amzn-trace-id"]] | join(" ")' "$REC"
	assert_output "1.0 2026-01-02T03:04:05Z application/json 00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01 Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	run jq -r .body "$REC"
	assert_output '{"a":1}'
	receiver_reset
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"cloudevents\":\"structured\",\"input_path\":\"\$.detail\"}"
	evbus-route -r r.json <<< "$ev"
	run jq -c '[.mode, .ce_error]' "$REC"
	assert_output '["structured",null]'
	run jq -cS '.event' "$REC"
	assert_output "$want"
	run jq -r '.headers["content-type"]' "$REC"
	assert_output --partial 'application/cloudevents+json'
	run jq -c '.body | fromjson' "$REC"
	assert_output '{"specversion":"1.0","id":"e-1","source":"shop","type":"OrderPlaced","time":"2026-01-02T03:04:05Z","datacontenttype":"application/json","data":{"a":1}}'
}

@test "http: bad rules exit 2 naming the JSON path, before any event" {
	unset NOPE
	local target want
	while IFS='|' read -r target want; do
		rule1 r.json "$target"
		run -2 evbus-route -r r.json < /dev/null
		assert_output --partial "$want"
	done <<'EOF'
{"id":"h","uri":"http://127.0.0.1:9/x","connection":{"auth":"basic","username":"u","password_env":"NOPE"}}|r.json: .rules[0].targets[0].connection.password_env: environment variable NOPE is not set
{"id":"h","uri":"http://127.0.0.1:9/x","bogus":1}|.rules[0].targets[0].bogus: unknown key
{"id":"h","uri":"http://"}|.rules[0].targets[0].uri: 
{"id":"h","uri":"http://127.0.0.1:/x"}|.rules[0].targets[0].uri: 'http://127.0.0.1:/x' is not a valid http:// or https:// URL
{"id":"h","uri":"ftp://h/x"}|.rules[0].targets[0].uri: 
{"id":"h","uri":"http://h/","cloudevents":"json"}|.rules[0].targets[0].cloudevents: want "binary" or "structured"
{"id":"h","uri":"http://h/","connection":{"auth":"digest"}}|.rules[0].targets[0].connection.auth: want
{"id":"h","uri":"file:x","method":"PUT"}|.rules[0].targets[0].method: only http targets take a method
EOF
}

@test "http: TLS is verified (CURL_CA_BUNDLE honoured); insecure is an explicit opt-out" {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	hook_start --tls cert.pem key.pem
	H=${HOOK/http:/https:}
	unset CURL_CA_BUNDLE SSL_CERT_FILE
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$H/ok\",\"dead_letter\":\"file:dl\",\"retry\":{\"attempts\":0}}"
	evbus-route -r r.json <<< '{"t":"x","n":1}' 2>/dev/null
	assert_equal "$(nlines "$REC")" 0
	run jq -r .ERROR_CODE dl
	assert_output CONNECTION_ERROR
	CURL_CA_BUNDLE=$PWD/cert.pem evbus-route -r r.json <<< '{"t":"x","n":2}'
	assert_equal "$(successes 2)" 1
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$H/ok\",\"insecure\":true}"
	evbus-route -r r.json <<< '{"t":"x","n":3}'
	assert_equal "$(successes 3)" 1
	run evbus-route -r r.json --explain <<< '{"t":"x"}'
	assert_output --partial 'insecure (TLS not verified)'
}

@test "http: method PUT sends the body; GET and HEAD send none" {
	hook_start
	for m in PUT GET HEAD; do
		rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"method\":\"$m\",\"timeout\":30}"
		evbus-route -r r.json <<< '{"t":"x","n":1}'
	done
	run jq -r '[.method, .body, .status] | join(" ")' "$REC"
	assert_output $'PUT {"t":"x","n":1} 200\nGET  200\nHEAD  200'
}

@test "http: an OAuth token endpoint that refuses the client dead-letters the events, one fetch per attempt" {
	hook_start --oauth 'cid:k3y-s3cr3t'
	export CS='not-the-secret'
	rule1 r.json "{\"id\":\"o\",\"uri\":\"$HOOK/oauth\",\"connection\":{\"auth\":\"oauth_client_credentials\",\"token_url\":\"$HOOK/oauth/token\",\"client_id\":\"cid\",\"client_secret_env\":\"CS\"},\"dead_letter\":\"file:dl\"}"
	events 5 > in
	run evbus-route -r r.json in
	assert_success
	assert_equal "$(count '.path == "/oauth/token" and .status == 401')" 1
	assert_equal "$(count '.path == "/oauth"')" 0
	run jq -r '[.ERROR_CODE, .ERROR_MESSAGE] | join("|")' dl
	assert_line -n 0 "NO_PERMISSIONS|oauth token $HOOK/oauth/token: the token endpoint refused: HTTP 401"
	assert_equal "$(nlines dl)" 5
	refute_output --partial not-the-secret
}

@test "http: a CloudEvent as input is matched on its attributes and keeps them, extensions included, as the SDK parses it" {
	hook_start
	printf '{"rules":[{"name":"r","pattern":{"type":["com.example.order"]},"targets":[%s,%s]}]}\n' \
	    "{\"id\":\"b\",\"uri\":\"$HOOK/ok?m=b\",\"cloudevents\":\"binary\",\"input_path\":\"\$.data\"}" \
	    "{\"id\":\"s\",\"uri\":\"$HOOK/ok?m=s\",\"cloudevents\":\"structured\",\"input_path\":\"\$.data\"}" > r.json
	evbus-route -r r.json <<< '{"specversion":"1.0","id":"c-1","source":"/shop","type":"com.example.order","time":"2026-01-02T03:04:05Z","subject":"o-9","tenant":"acme","datacontenttype":"application/json","data":{"a":1}}'
	want='{"id":"c-1","time":"2026-01-02T03:04:05.000Z","type":"com.example.order","source":"/shop","specversion":"1.0","datacontenttype":"application/json","subject":"o-9","tenant":"acme","data":{"a":1}}'
	want=$(jq -cS . <<< "$want")
	run jq -cS 'select(.query.m == "b") | [.mode, .ce_error, .event]' "$REC"
	assert_output "[\"binary\",null,$want]"
	run jq -cS 'select(.query.m == "s") | [.mode, .ce_error, .event]' "$REC"
	assert_output "[\"structured\",null,$want]"
	run jq -r 'select(.query.m == "b") | .headers | [.["ce-id"], .["ce-source"], .["ce-type"], .["ce-subject"], .["ce-tenant"]] | join(" ")' "$REC"
	assert_output "c-1 /shop com.example.order o-9 acme"
	run jq -c 'select(.query.m == "s") | .body | fromjson' "$REC"
	assert_output '{"specversion":"1.0","id":"c-1","source":"/shop","type":"com.example.order","time":"2026-01-02T03:04:05Z","subject":"o-9","tenant":"acme","datacontenttype":"application/json","data":{"a":1}}'
}

@test "http: SIGTERM while the rate holds events back: they go to the dead letter, nothing waits for the rate" {
	hook_start
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"rate_per_second\":1,\"dead_letter\":\"file:dl\"}"
	events 30 > in
	evbus-route -r r.json in 2>err & pid=$!
	wait_for '[ "$(nlines "$REC")" -ge 2 ]' 30
	kill -TERM "$pid"
	start=$(date +%s)
	wait "$pid" || true
	[ $(( $(date +%s) - start )) -lt 10 ] || fail "took $(( $(date +%s) - start )) s to stop"
	sent=$(count '.status == 200')
	assert_equal $(( sent + $(nlines dl) )) 30
	run jq -r .ERROR_MESSAGE dl
	assert_line -n 0 'not sent: interrupted by signal 15'
}

@test "http: libcurl's http_proxy is honoured, for 127.0.0.1 too; NO_PROXY=127.0.0.1 goes direct; HTTP_PROXY is not read" {
	hook_start
	proxy_start
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/ok\",\"dead_letter\":\"file:dl\"}"
	# libcurl 7.88.1 (Debian 12) does not bypass localhost by itself: with
	# no NO_PROXY, a request to 127.0.0.1 goes through the proxy.
	http_proxy=$PROXY evbus-route -r r.json <<< '{"t":"x","n":1}'
	assert_equal "$(proxied "^POST $HOOK/ok HTTP/1.1 200\$")" 1
	run jq -r 'select((.body | fromjson | .n) == 1) | [.status, .headers["x-evkit-proxy"]] | join(" ")' "$REC"
	assert_output '200 nginx'
	http_proxy=$PROXY NO_PROXY=127.0.0.1 evbus-route -r r.json <<< '{"t":"x","n":2}'
	http_proxy=$PROXY no_proxy=localhost,127.0.0.1 evbus-route -r r.json <<< '{"t":"x","n":3}'
	# Upper-case HTTP_PROXY is ignored for http:// by libcurl (httpoxy).
	HTTP_PROXY=$PROXY evbus-route -r r.json <<< '{"t":"x","n":4}'
	assert_equal "$(proxied "$HOOK")" 1
	run jq -r '[(.body | fromjson | .n), .status, .headers["x-evkit-proxy"] // "direct"] | join(" ")' "$REC"
	assert_output $'1 200 nginx\n2 200 direct\n3 200 direct\n4 200 direct'
	[ ! -s dl ]
}

@test "https: HTTPS_PROXY is honoured (a CONNECT the proxy refuses); NO_PROXY=127.0.0.1 goes direct" {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	hook_start --tls cert.pem key.pem
	proxy_start
	H=${HOOK/http:/https:}
	export CURL_CA_BUNDLE=$PWD/cert.pem
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$H/ok\",\"dead_letter\":\"file:dl\",\"retry\":{\"attempts\":0}}"
	# nginx does not tunnel: the CONNECT it logs shows the proxy was used.
	HTTPS_PROXY=$PROXY evbus-route -r r.json <<< '{"t":"x","n":1}' 2>/dev/null
	assert_equal "$(proxied "^CONNECT 127.0.0.1:$RECEIVER_PORT HTTP/1.1 400\$")" 1
	assert_equal "$(nlines "$REC")" 0
	run jq -r .ERROR_CODE dl
	assert_output CONNECTION_ERROR
	HTTPS_PROXY=$PROXY NO_PROXY=127.0.0.1 evbus-route -r r.json <<< '{"t":"x","n":2}'
	assert_equal "$(successes 2)" 1
	assert_equal "$(proxied CONNECT)" 1
}

# rss_kb PID: the process's resident set in kB (0 once it is gone).
rss_kb() {
	awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' \
	    "/proc/$1/status" 2>/dev/null || echo 0
}

@test "http: back-pressure: a slow endpoint blocks the writer, memory stays bounded, SIGTERM stops it" {
	hook_start
	receiver_script '{"*":[{"status":200,"delay_ms":500}]}'
	rule1 r.json "{\"id\":\"h\",\"uri\":\"$HOOK/slow\",\"concurrency\":2,\"dead_letter\":\"file:dl\"}"
	mkfifo in
	# 200,000 events (about 4.3 MB); the endpoint takes about 4 a second.
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"t\":\"x\",\"n\":%d}\n", i }' \
	    > in 3>&- & WRITER_PID=$!
	evbus-route -r r.json < in 2>err 3>&- & ROUTE_PID=$!
	# About 13 MB here, 25 MB under ASan.
	limit_kb=$((64 * 1024)) max_kb=0
	# Poll until the endpoint has had 16 requests (some 4 s of work).
	for _ in $(seq 1 1200); do
		kb=$(rss_kb "$ROUTE_PID")
		[ "$kb" -gt "$max_kb" ] && max_kb=$kb
		[ "$(nlines "$REC")" -ge 16 ] && break
		kill -0 "$ROUTE_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(nlines "$REC")" -ge 16 ] || fail "only $(nlines "$REC") requests: $(cat err)"
	# The writer is still blocked on the pipe, having written a small part.
	kill -0 "$WRITER_PID" 2>/dev/null || fail "the writer wrote all 200,000 events"
	written=$(awk '/^wchar:/ { print $2 }' "/proc/$WRITER_PID/io")
	[ "$written" -lt $((1024 * 1024)) ] || fail "the writer wrote $written bytes"
	[ "$max_kb" -lt "$limit_kb" ] || fail "evbus-route's RSS reached $max_kb kB"
	kill -TERM "$ROUTE_PID"
	wait_for '! kill -0 "$ROUTE_PID" 2>/dev/null' 30 || fail "evbus-route did not stop on SIGTERM"
	wait "$ROUTE_PID" || true
	unset ROUTE_PID
	# What it read is a prefix of the input, each event either delivered or
	# (not yet sent, or interrupted in flight) dead-lettered; and it read
	# few events ahead: its queue is bounded (10 batches of 256 per target).
	run sh -c "{ jq '.body | fromjson | .n' '$REC'; jq .event.n dl; } | sort -nu | awk '\$1 != NR { print \"gap at \" NR; exit 1 } END { print NR }'"
	assert_success
	[ "$output" -le 10000 ] || fail "evbus-route held $output events"
	run jq -r .ERROR_MESSAGE dl
	assert_line -n 0 'not sent: interrupted by signal 15'
}
