#!/usr/bin/env bats
# fnrun --listen: a local API Gateway HTTP API (payload format 2.0) in
# front of each handler kind, driven by curl and wrk.
load test_helper

# serve ARGS...: starts fnrun --listen 0 ARGS (port chosen by the system)
# with stderr in log; sets URL, PORT and SRV (its pid).
serve() {
	rm -f log	# else the wait could see the last server's line
	fnrun --listen "${LISTEN:-0}" "$@" 2> log &
	SRV=$!
	wait_for "grep -q 'listening on' log" 10 || { cat log; return 1; }
	URL=$(sed -n 's/^fnrun: listening on //p' log)
	PORT=${URL##*:}
}

teardown() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	wait 2>/dev/null || true
}

# The event, as the handler got it: the echo handler's body.
ECHO_JQ='{statusCode: 200, headers: {"content-type": "application/json"}, body: tojson}'

@test "--listen: a request becomes a payload format 2.0 event" {
	serve --jq "$ECHO_JQ"
	run curl -sf "$URL/p/a%20b?x=1&x=2&y=%41&flag" -H 'Cookie: c1=v1; c2=v2' -H 'Cookie: c3=v3' \
	    -H 'X-Rep: a' -H 'X-Rep: b' -H 'User-Agent: ua/1'
	assert_success
	local ev=$output
	run jq -c '[.version, .routeKey, .rawPath, .rawQueryString, .cookies, .queryStringParameters,
	    .headers["x-rep"], .headers["user-agent"], (.headers | has("cookie")), .isBase64Encoded,
	    has("body")]' <<< "$ev"
	assert_output '["2.0","$default","/p/a%20b","x=1&x=2&y=%41&flag",["c1=v1","c2=v2","c3=v3"],{"x":"1,2","y":"A","flag":""},"a,b","ua/1",false,false,false]'
	run jq -c '.requestContext | [.accountId, .apiId, .domainName, .domainPrefix, .http, .routeKey,
	    .stage, (.requestId | length > 0), (.time | test("^[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:")),
	    (.timeEpoch | type)]' <<< "$ev"
	assert_output '["123456789012","local","127.0.0.1","127",{"method":"GET","path":"/p/a%20b","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"ua/1"},"$default","$default",true,true,"number"]'
	run curl -s -o /dev/null -w '%{http_code}' "$URL/"
	assert_output 200
}

@test "--listen: text bodies as is, binary ones base64" {
	serve --jq "$ECHO_JQ"
	run curl -sf -X PUT --data-binary '{"a":1}' -H 'Content-Type: application/json' "$URL/t"
	assert_equal "$(jq -c '[.requestContext.http.method, .body, .isBase64Encoded]' <<< "$output")" '["PUT","{\"a\":1}",false]'
	printf '\x00\x01\xff\xfe' > bin
	run curl -sf --data-binary @bin -H 'Content-Type: application/octet-stream' "$URL/b"
	assert_equal "$(jq -r .isBase64Encoded <<< "$output")" true
	assert_equal "$(jq -r .body <<< "$output" | base64 -d | od -An -tx1 | tr -d ' ')" 0001fffe
	# not UTF-8, though called text
	run curl -sf --data-binary @bin -H 'Content-Type: text/plain' "$URL/b"
	assert_equal "$(jq -c '[.body, .isBase64Encoded]' <<< "$output")" '["AAH//g==",true]'
	# a text type of the known families
	run curl -sf --data-binary 'a=1&b=2' "$URL/f"
	assert_equal "$(jq -c '[.body, .isBase64Encoded]' <<< "$output")" '["a=1&b=2",false]'
}

@test "--listen: a result with statusCode is the response (headers, cookies, base64 body)" {
	serve -- sh -c 'cat > /dev/null; printf "%s" "{\"statusCode\":201,\"headers\":{\"X-One\":\"1\",\"x-num\":5,\"content-type\":\"text/plain\"},\"multiValueHeaders\":{\"x-multi\":[\"a\",\"b\"]},\"cookies\":[\"s=1; Path=/\",\"t=2\"],\"body\":\"made\"}"'
	run curl -s -D headers -o body "$URL/"
	assert_success
	run cat body
	assert_output made
	tr -d '\r' < headers > h
	run grep -c '^set-cookie:' h
	assert_output 2
	grep -qx 'HTTP/1.1 201 Created' h
	grep -qx 'set-cookie: s=1; Path=/' h
	grep -qx 'set-cookie: t=2' h
	grep -qix 'x-one: 1' h
	grep -qx 'x-num: 5' h
	grep -qx 'x-multi: a' h
	grep -qx 'x-multi: b' h
	grep -qx 'content-type: text/plain' h
	grep -qi '^apigw-requestid: ' h
}

@test "--listen: isBase64Encoded bodies are decoded; other results are 200 JSON" {
	serve --jq 'if .rawPath == "/bin" then {statusCode: 200, isBase64Encoded: true, body: "AAH//g=="}
	    elif .rawPath == "/str" then "plain words" elif .rawPath == "/obj" then {a: [1, 2]}
	    elif .rawPath == "/bad" then {statusCode: "teapot"} else 42 end'
	curl -sf -o out "$URL/bin"
	assert_equal "$(od -An -tx1 out | tr -d ' ')" 0001fffe
	run curl -s -D h -o body "$URL/str"
	assert_equal "$(cat body)" 'plain words'
	grep -qi '^content-type: application/json' h
	run curl -s "$URL/obj"
	assert_output '{"a":[1,2]}'
	run curl -s "$URL/num"
	assert_output 42
	run curl -s -w ' %{http_code}' "$URL/bad"
	assert_output '{"message":"Internal Server Error"} 502'
}

@test "--listen: a process handler's stdout that is not JSON is its result as a string: 200, as is" {
	# the runner takes such stdout as a JSON string (SPEC 5), and a
	# string result is the body as it is
	serve -- sh -c 'cat > /dev/null; printf "%s\n" "hello world"'
	run curl -s -D h -w ' %{http_code}' "$URL/t"
	assert_output 'hello world 200'
	grep -qi '^content-type: application/json' h
	kill "$SRV"; wait "$SRV" || true
	# a statusCode object cut short is no response object, only text
	serve -- sh -c 'cat > /dev/null; printf "%s" "{\"statusCode\":404,"'
	run curl -s -w ' %{http_code}' "$URL/t"
	assert_output '{"statusCode":404, 200'
}

@test "--listen: a handler error or timeout is a 502, and the server goes on" {
	serve -q -t 0.5 -- sh -c 'read -r e; case $e in *"/fail"*) exit 3 ;; *"/slow"*) exec sleep 30 ;; esac; echo "{\"statusCode\":200,\"body\":\"fine\"}"'
	run curl -s -w ' %{http_code}' "$URL/fail"
	assert_output '{"message":"Internal Server Error"} 502'
	run curl -s -w ' %{http_code}' "$URL/slow"
	assert_output '{"message":"Internal Server Error"} 502'
	run curl -s -w ' %{http_code}' "$URL/ok"
	assert_output 'fine 200'
	# a typed error is an error too
	kill "$SRV"; wait "$SRV" || true
	serve -q -- sh -c 'echo "{\"errorType\":\"E\",\"errorMessage\":\"m\"}"; exit 1'
	run curl -s -w ' %{http_code}' "$URL/"
	assert_output '{"message":"Internal Server Error"} 502'
}

@test "--listen: a body over 6 MB is refused 413 without being kept; so is an event over Lambda's 6 MB" {
	serve --jq '{statusCode: 200, body: (.body | length | tostring)}'
	head -c $((6 * 1024 * 1024 + 1)) /dev/zero | tr '\0' a > big
	run curl -s -w ' %{http_code}' --data-binary @big -H 'Content-Type: text/plain' "$URL/"
	assert_output '{"message":"Request Entity Too Large"} 413'
	# chunked: no length declared, refused once past the limit
	run curl -s -w ' %{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @big -H 'Content-Type: text/plain' "$URL/"
	assert_output --partial 413
	# 6 MB fits the gateway, but not the event around it in Lambda's 6 MB.
	head -c $((6 * 1024 * 1024)) big > exact
	run curl -s -w ' %{http_code}' --data-binary @exact -H 'Content-Type: text/plain' "$URL/"
	assert_output '{"message":"Request Entity Too Large"} 413'
	head -c $((6 * 1024 * 1024 - 4096)) big > under
	run curl -s -w ' %{http_code}' --data-binary @under -H 'Content-Type: text/plain' "$URL/"
	assert_output "$((6 * 1024 * 1024 - 4096)) 200"
}

@test "--listen -j 4: four requests run at once" {
	# Each handler waits for all four to have started: with fewer slots
	# they would time out (502).
	serve -j 4 -t 20 -- sh -c 'cat > /dev/null; touch "started.$$"; i=0; while [ "$(ls started.* | wc -l)" -lt 4 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo "{\"statusCode\":200,\"body\":\"ok\"}"'
	for i in 1 2 3 4; do
		curl -s -o "out.$i" -w '%{http_code}\n' "$URL/$i" > "code.$i" &
	done
	wait_for '[ "$(cat code.* 2>/dev/null | grep -c 200)" = 4 ]' 30
	assert_equal "$(cat out.1 out.2 out.3 out.4)" okokokok
}

@test "--listen: SIGTERM answers the requests in flight, then exits 0" {
	serve -j 1 -t 30 -- sh -c 'cat > /dev/null; touch started; while [ ! -f go ]; do sleep 0.05; done; echo "{\"statusCode\":200,\"body\":\"done\"}"'
	curl -s -o busy -w '%{http_code}' "$URL/1" > busy.code &
	wait_for '[ -f started ]' 10
	curl -s -o queued -w '%{http_code}' "$URL/2" > queued.code &
	# both connections in, their requests read (nothing left queued)
	wait_for '[ "$(ss -tnH state established "sport = :$PORT" | awk "\$1 == 0" | wc -l)" -ge 2 ]' 10
	kill -TERM "$SRV"
	# no new connection is taken while draining
	wait_for "! curl -s -o /dev/null --max-time 2 '$URL/3'" 10
	touch go
	local st=0
	wait "$SRV" || st=$?
	SRV=
	assert_equal "$st" 0
	wait_for '[ -s busy.code ] && [ -s queued.code ]' 10
	assert_equal "$(cat busy.code) $(cat busy)" '200 done'
	assert_equal "$(cat queued.code)" 503
}

@test "--listen: loopback only by default; an address can be given" {
	serve --jq '.'
	run ss -ltnH "sport = :$PORT"
	assert_output --partial "127.0.0.1:$PORT"
	refute_output --partial "0.0.0.0:$PORT"
	refute_output --partial "*:$PORT"
	kill "$SRV"; wait "$SRV" || true
	LISTEN=0.0.0.0:0 serve --jq '.'
	run ss -ltnH "sport = :$PORT"
	assert_output --partial "0.0.0.0:$PORT"
}

@test "--listen: a port in use is exit 69 naming it; a bad [ADDR:]PORT is exit 2" {
	serve --jq '.'
	run fnrun --listen "$PORT" --jq '.'
	assert_failure 69
	assert_output --partial "--listen '$PORT'"
	assert_output --partial 'in use'
	for bad in x 99999 :80 1.2.3.4:x '' ; do
		run fnrun --listen "$bad" --jq '.'
		assert_failure 2
		assert_output --partial "--listen '$bad'"
	done
	run fnrun --listen 0 --queue q -- cat
	assert_failure 2
	run fnrun --listen 0 --jq . file
	assert_failure 2
}

@test "--listen: each handler kind (process, --worker, --jq)" {
	serve -- sh -c 'cat > /dev/null; echo "{\"statusCode\":200,\"body\":\"process\"}"'
	assert_equal "$(curl -sf "$URL/")" process
	kill "$SRV"; wait "$SRV" || true
	serve -j 2 --worker -- sh -c 'while read -r e; do echo "{\"statusCode\":200,\"body\":\"worker $$\"}"; done'
	run curl -sf "$URL/" "$URL/" "$URL/"
	assert_success
	assert_equal "$(printf '%s\n' "$output" | grep -c worker)" 1	# one line: the bodies run together
	kill "$SRV"; wait "$SRV" || true
	serve --jq '{statusCode: 200, body: "jq"}'
	assert_equal "$(curl -sf "$URL/")" jq
}

@test "--listen: in front of --runtime-api and of --url" {
	# A custom runtime echoing its event: the response is that event as JSON.
	serve -j 2 --runtime-api -- "$BATS_TEST_DIRNAME/lib/rt-bootstrap.sh"
	local inner=$URL inner_pid=$SRV
	run curl -sf "$inner/rt?op=echo" -d 'hi'
	assert_success
	assert_equal "$(jq -c '[.rawPath, .body]' <<< "$output")" '["/rt","hi"]'
	# An HTTP function in front of it: the outer event is POSTed to the
	# inner gateway, whose answer (its own event) is the outer result.
	mv log inner.log
	serve --url "$inner/fn"
	run curl -sf "$URL/outer" -d 'ho'
	assert_success
	assert_equal "$(jq -c '[.rawPath, (.body | fromjson | .rawPath, .body)]' <<< "$output")" '["/fn","/outer","ho"]'
	kill "$inner_pid"
	wait "$inner_pid" || true
}

@test "--listen: an access log line per request on stderr, or in --report" {
	serve --jq '{statusCode: 204}'
	curl -sf "$URL/a?q=1"
	curl -sf -X DELETE "$URL/b"
	wait_for '[ "$(grep -c "\"requestId\"" log)" = 2 ]' 10
	grep '^{' log > access
	run jq -c '[.httpMethod, .path, .status, .protocol, .ip, .routeKey]' access
	assert_line -n 0 '["GET","/a",204,"HTTP/1.1","127.0.0.1","$default"]'
	assert_line -n 1 '["DELETE","/b",204,"HTTP/1.1","127.0.0.1","$default"]'
	kill "$SRV"; wait "$SRV" || true
	serve --report access.ndjson --jq '{statusCode: 200}'
	curl -sf "$URL/c"
	wait_for '[ -s access.ndjson ]' 10
	run jq -c '[.path, .status]' access.ndjson
	assert_output '["/c",200]'
	run grep -c requestId log
	assert_output 0
}

@test "--listen under wrk: no errors, no non-2xx answers" {
	serve -j 2 --worker -- sh -c 'while read -r e; do echo "{\"statusCode\":200,\"body\":\"ok\"}"; done'
	run wrk -t 2 -c 8 -d 3s "$URL/"
	assert_success
	refute_output --partial 'Non-2xx'
	refute_output --partial 'Socket errors'
	run awk '/requests in/ { print ($1 > 0) }' <<< "$output"
	assert_output 1
}
