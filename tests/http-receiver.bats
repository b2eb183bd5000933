#!/usr/bin/env bats
# The HTTP receiver of the http-target tests (tests/lib/http-receiver.mjs),
# proved with curl: both CloudEvents modes parsed by the npm SDK, what it
# records, its scripted answers, basic / API-key / OAuth auth, HTTPS
# (--tls), and the connection numbers that connection reuse is counted
# from; and the nginx sink of the bench (tests/lib/nginx-sink.sh).

load test_helper
load lib/servers

teardown() {
	receiver_stop
	nginx_sink_stop
}

# ce_binary PATH ID [CURL ARGS]: one binary-mode event, the status on stdout.
ce_binary() {
	local path=$1 id=$2
	shift 2
	curl -sS -o /dev/null -w '%{http_code}\n' "$@" "$RECEIVER_URL$path" \
	    -H 'ce-specversion: 1.0' -H "ce-id: $id" -H 'ce-source: /evkit/test' \
	    -H 'ce-type: com.example.ping' -H 'Content-Type: application/json' \
	    --data-binary "{\"id\":\"$id\"}"
}

# post PATH BODY [CURL ARGS]: a plain JSON POST, the status on stdout.
post() {
	local path=$1 body=$2
	shift 2
	curl -sS -o /dev/null -w '%{http_code}\n' "$@" -H 'Content-Type: application/json' \
	    --data-binary "$body" "$RECEIVER_URL$path"
}

@test "binary mode: the SDK's event, its extension and data, and the request as sent" {
	receiver_start
	run curl -sS -o /dev/null -w '%{http_code}' "$RECEIVER_URL/hook/a?x=1&y=two" \
	    -H 'ce-specversion: 1.0' -H 'ce-id: b1' -H 'ce-source: /evkit/test' \
	    -H 'ce-type: com.example.ping' -H 'ce-time: 2024-01-02T03:04:05Z' \
	    -H 'ce-myext: Euro%20%E2%82%AC' -H 'X-Extra: yes' \
	    -H 'Content-Type: application/json' --data-binary '{"n":1}'
	assert_output 200
	run receiver_requests '[.n, .method, .path, .query.x, .query.y, .raw_query,
	    .headers["x-extra"], .body, .mode, .ce_error, .status] | @json'
	assert_output '[1,"POST","/hook/a","1","two","x=1&y=two","yes","{\"n\":1}","binary",null,200]'
	run receiver_requests '.event | [.specversion, .id, .source, .type, .time, .myext,
	    .datacontenttype, .data.n] | @json'
	assert_output '["1.0","b1","/evkit/test","com.example.ping","2024-01-02T03:04:05.000Z","Euro%20%E2%82%AC","application/json",1]'
	# The SDK leaves header values percent-encoded; ce_decoded decodes them.
	run receiver_requests '.ce_decoded | [.id, .myext] | @json'
	assert_output '["b1","Euro €"]'
}

@test "binary mode: an overlong UTF-8 escape is refused in ce_decoded" {
	receiver_start
	ce_binary /o o1 -H 'ce-myext: a%C0%A0b'
	run receiver_requests '.ce_decoded.myext | has("error")'
	assert_output true
}

@test "structured mode: parsed from the body; the SDK refuses the spec's own charset=UTF-8" {
	receiver_start
	ev='{"specversion":"1.0","id":"s1","source":"/evkit","type":"t.x","time":"2024-01-02T03:04:05Z","data":{"k":"v"}}'
	run post /s "$ev" -H 'Content-Type: application/cloudevents+json'
	assert_output 200
	run post /s "$ev" -H 'Content-Type: application/cloudevents+json; charset=utf-8'
	assert_output 200
	run post /s "$ev" -H 'Content-Type: application/cloudevents+json; charset=UTF-8'
	assert_output 200
	run receiver_requests '[.mode, .event.id, .event.type, .event.data.k, (.ce_error != null)] | @json'
	assert_line -n 0 '["structured","s1","t.x","v",false]'
	assert_line -n 1 '["structured","s1","t.x","v",false]'
	assert_line -n 2 '["structured",null,null,null,true]'
	run receiver_requests 'select(.n == 3) | .ce_error'
	assert_output --partial 'invalid content type'
}

@test "refused events: an empty id (the SDK would invent one), no source, no CloudEvent at all" {
	receiver_start
	post /r '{"specversion":"1.0","id":"","source":"/s","type":"t"}' \
	    -H 'Content-Type: application/cloudevents+json'
	curl -sS -o /dev/null "$RECEIVER_URL/r" -H 'ce-specversion: 1.0' -H 'ce-id: x1' \
	    -H 'ce-type: t' -H 'Content-Type: application/json' -d '{}'
	post /r '{"n":3}'
	run receiver_requests '[.mode, .event, .ce_error] | @json'
	assert_line -n 0 '["structured",null,"missing or empty id"]'
	assert_line -n 1 --regexp '^\["binary",null,".*source'
	assert_line -n 2 '[null,null,"no cloud event detected"]'
}

@test "a batch is parsed into an array of events" {
	receiver_start
	run post /b '[{"specversion":"1.0","id":"x1","source":"/s","type":"t"},{"specversion":"1.0","id":"x2","source":"/s","type":"t"}]' \
	    -H 'Content-Type: application/cloudevents-batch+json'
	assert_output 200
	run receiver_requests '[.mode, (.event | map(.id))] | @json'
	assert_output '["batch",["x1","x2"]]'
}

@test "script: 500 twice then 200 per path, 429 once, 400 always, and the default 200" {
	receiver_start
	receiver_script '{"/flaky":[{"status":500},{"status":500},{"status":200}],
	    "/busy":[{"status":429,"headers":{"retry-after":"1"}},{"status":204}],
	    "/bad":[{"status":400,"body":"no such thing"}]}'
	run bash -c 'for p in flaky flaky busy flaky flaky busy bad bad other; do
	    curl -sS -o /dev/null -w "%{http_code} " -d "{}" "$RECEIVER_URL/$p"; done'
	assert_output '500 500 429 200 200 204 400 400 200 '
	run curl -sS -i -d '{}' "$RECEIVER_URL/bad"
	assert_output --partial 'no such thing'
	run receiver_requests '.status'
	assert_equal "${lines[*]}" '500 500 429 200 200 204 400 400 200 400'
}

@test "script: \"by\":\"body\" gives every distinct event its own 500, 500, 200" {
	receiver_start
	receiver_script '{"by":"body","*":[{"status":500},{"status":500},{"status":200}]}'
	run bash -c 'for b in a b a b a b a; do
	    curl -sS -o /dev/null -w "%{http_code} " -d "{\"e\":\"$b\"}" "$RECEIVER_URL/x"; done'
	assert_output '500 500 500 500 200 200 200 '
}

@test "script: the N-th request, a 3xx with its Location, and the request number reset" {
	receiver_start
	receiver_script '{"#2":{"status":302,"location":"http://127.0.0.1:1/elsewhere"}}'
	run bash -c 'for i in 1 2 3; do curl -sS -o /dev/null \
	    -w "%{http_code} %{redirect_url}|" -d "{}" "$RECEIVER_URL/p"; done'
	assert_output '200 |302 http://127.0.0.1:1/elsewhere|200 |'
	receiver_script '{"#1":{"status":503}}'
	run post /p '{}'
	assert_output 503
}

@test "script: an answer slower than the client's timeout is recorded on arrival" {
	receiver_start
	receiver_script '{"/slow":[{"status":200,"delay_ms":5000}]}'
	run curl -sS -o /dev/null --max-time 1 -d '{}' "$RECEIVER_URL/slow"
	assert_equal "$status" 28	# curl: operation timed out
	run receiver_requests '[.path, .status, .delay_ms] | @json'
	assert_output '["/slow",200,5000]'
	# The receiver still answers others meanwhile.
	run post /fast '{}' --max-time 30
	assert_output 200
}

@test "basic auth: right credentials pass, wrong or none are 401 and use no scripted answer" {
	receiver_start --basic 'evkit:s3cr3t pass'
	receiver_script '{"/h":[{"status":500},{"status":200}]}'
	run post /h '{}'
	assert_output 401
	run post /h '{}' -u 'evkit:wrong'
	assert_output 401
	run post /h '{}' -u 'evkit:s3cr3t pass'
	assert_output 500
	run post /h '{}' -u 'evkit:s3cr3t pass'
	assert_output 200
	run receiver_requests '[.auth, .status] | @json'
	assert_equal "${lines[*]}" '["missing",401] ["bad",401] ["ok",500] ["ok",200]'
}

@test "API-key auth: the named header with the right value" {
	receiver_start --api-key 'X-Api-Key:k-123'
	run post /h '{}'
	assert_output 401
	run post /h '{}' -H 'x-api-key: k-124'
	assert_output 401
	run post /h '{}' -H 'X-Api-Key: k-123'
	assert_output 200
	run receiver_requests '.auth'
	assert_equal "${lines[*]}" 'missing bad ok'
}

# token [CURL ARGS]: POST /oauth/token; prints the answer's JSON.
token() {
	curl -sS "$@" "$RECEIVER_URL/oauth/token"
}

@test "OAuth client credentials: the token endpoint, bearer tokens, expiry and a revoking 401" {
	receiver_start --oauth 'cid:csecret' --token-ttl 120
	run token -d grant_type=client_credentials -d client_id=cid -d client_secret=wrong
	assert_output --partial invalid_client
	run token -d grant_type=client_credentials -d client_id=cid -d client_secret=csecret \
	    -d scope=events
	t1=$(echo "$output" | jq -er .access_token)
	assert_equal "$(echo "$output" | jq -c '[.token_type, .expires_in]')" '["Bearer",120]'
	# The client id and secret may come as basic auth instead.
	t2=$(token -u cid:csecret -d grant_type=client_credentials | jq -er .access_token)
	[ "$t1" != "$t2" ]
	run post /h '{}'
	assert_output 401
	run post /h '{}' -H "Authorization: Bearer nope"
	assert_output 401
	run post /h '{}' -H "Authorization: Bearer $t1"
	assert_output 200
	# A scripted 401 with "revoke" makes the token presented useless.
	receiver_script '{"#1":{"status":401,"revoke":true}}'
	run post /h '{}' -H "Authorization: Bearer $t1"
	assert_output 401
	run post /h '{}' -H "Authorization: Bearer $t1"
	assert_output 401
	run post /h '{}' -H "Authorization: Bearer $t2"
	assert_output 200
	receiver_expire_tokens
	run post /h '{}' -H "Authorization: Bearer $t2"
	assert_output 401
	run receiver_requests 'select(.path == "/oauth/token") | [.status, .body] | @json'
	assert_line -n 0 '[401,"grant_type=client_credentials&client_id=cid&client_secret=wrong"]'
	assert_line -n 1 '[200,"grant_type=client_credentials&client_id=cid&client_secret=csecret&scope=events"]'
	assert_equal "${#lines[@]}" 3
}

@test "OAuth: a token outlives its expires_in by nothing" {
	receiver_start --oauth 'cid:csecret' --token-ttl 1
	t=$(token -u cid:csecret -d grant_type=client_credentials | jq -er .access_token)
	# Polled: on a loaded machine the first call may already be late.
	wait_for '[ "$(post /h "{}" -H "Authorization: Bearer $t")" = 401 ]' 30
	run token -d grant_type=password -u cid:csecret
	assert_output --partial invalid_request
}

@test "connections: one per curl, reused by a curl sending several requests" {
	receiver_start
	curl -sS -o /dev/null -d '{}' "$RECEIVER_URL/c1" -o /dev/null -d '{}' "$RECEIVER_URL/c1" \
	    -o /dev/null -d '{}' "$RECEIVER_URL/c1"
	post /c2 '{}' >/dev/null
	post /c2 '{}' >/dev/null
	run receiver_requests 'select(.path == "/c1") | .conn'
	assert_equal "${#lines[@]}" 3
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 1
	run receiver_requests '[.conn, .remote_port] | @json'
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 3
}

@test "the receiver stops when the shell that started it is killed with -9" {
	port_file=$BATS_TEST_TMPDIR/port
	bash -c '. "$1/lib/servers.bash"; receiver_start >&2 || exit 1
	    echo "$RECEIVER_PORT $RECEIVER_PID" > "$2"; sleep 600' _ \
	    "$BATS_TEST_DIRNAME" "$port_file" 3>&- &
	shell=$!
	wait_for '[ -s "$port_file" ]' 60
	read -r port pid < "$port_file"
	run curl -sS -o /dev/null -w '%{http_code}' -d '{}' "http://127.0.0.1:$port/x"
	assert_output 200
	kill -9 "$shell"
	wait_for '! kill -0 "$pid" 2>/dev/null' 30
	run curl -sS -o /dev/null "http://127.0.0.1:$port/x"
	assert_failure 7	# could not connect
}

@test "the nginx sink answers 204 to anything and counts connections and requests" {
	nginx_sink_start
	read -r c0 r0 <<< "$(nginx_sink_counts)"
	run curl -sS -o /dev/null -w '%{http_code} ' -d '{}' "$NGINX_SINK_URL/a" \
	    -d '{}' "$NGINX_SINK_URL/b?x=1"
	assert_output '204 204 '
	read -r c1 r1 <<< "$(nginx_sink_counts)"
	# One connection for the two requests, one for each status request.
	assert_equal "$((c1 - c0)) $((r1 - r0))" '2 3'
	[ -s "$NGINX_SINK_DIR/nginx.pid" ]
	nginx_sink_stop
	run curl -sS -o /dev/null "$NGINX_SINK_URL/a"
	assert_failure 7
}

@test "--tls: HTTPS with the given certificate, one connection counted per TLS session" {
	cd "$BATS_TEST_TMPDIR"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	receiver_start --tls cert.pem key.pem
	H=${RECEIVER_URL/http:/https:}
	run curl -sS -o /dev/null -w '%{http_code} ' --cacert cert.pem -d '{}' "$H/a" -d '{}' "$H/b"
	assert_output '200 200 '
	run curl -sS -o /dev/null "$H/a"	# not trusted without the certificate
	assert_failure 60
	run receiver_requests '[.path, .conn, .status] | @json'
	assert_output $'["/a",1,200]\n["/b",1,200]'
}

@test "the nginx sink as a forward proxy (--proxy): passes requests on, adds a header, logs them" {
	receiver_start
	nginx_sink_start --proxy
	run curl -sS -o /dev/null -w '%{http_code}' --proxy "$NGINX_SINK_URL" \
	    -d '{"a":1}' "$RECEIVER_URL/p?q=1"
	assert_output 200
	run receiver_requests '[.method, .path, .raw_query, .body, .headers["x-evkit-proxy"]] | @json'
	assert_output '["POST","/p","q=1","{\"a\":1}","nginx"]'
	run grep -c "^POST $RECEIVER_URL/p?q=1 HTTP/1.1 200\$" "$NGINX_SINK_DIR/access.log"
	assert_output 1
}
