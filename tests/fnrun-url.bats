#!/usr/bin/env bats
# fnrun --url (SPEC 5, 6a): HTTP functions against real servers on
# 127.0.0.1 (tests/lib/http-receiver.mjs, scripted, with TLS for
# https): the event POSTed as application/json, the result rules, results in
# input order under -j, connections kept alive (counted by the server),
# each error class in Lambda's shape, the timeout, retries, --dlq,
# --report, --envelope, --batch, --queue, trace headers, a closed port and
# a bad URL (exit 2 before any event).
load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	# The servers are on 127.0.0.1: no proxy of the machine's in between.
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	receiver_stop
}

# fn_start SCRIPT: a receiver answering as SCRIPT says; URL is its /fn.
fn_start() {
	receiver_start || return 1
	receiver_script "$1" || return 1
	URL=$RECEIVER_URL/fn
}

# A port nothing listens on: the kernel's pick, closed again.
closed_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "--url: each event is POSTed as application/json; the 2xx body is the result" {
	fn_start '{"*":[{"echo":true}]}'
	run --separate-stderr fnrun --url "$URL" <<< '{"a":[1,2],"s":"é"}'
	assert_success
	assert_output '{"a":[1,2],"s":"é"}'
	run receiver_requests '[.method, .path, .headers["content-type"], .body] | join(" ")'
	assert_output 'POST /fn application/json {"a":[1,2],"s":"é"}'
}

@test "--url: an empty body is null, text a JSON string, JSON on several lines compact" {
	fn_start '{"#1":{"body":""},"#2":{"body":"plain text\n"},"#3":{"body":"{\n \"k\": 1\n}\n"},"#4":{"status":204}}'
	run --separate-stderr fnrun --url "$URL" < <(printf '1\n2\n3\n4\n')
	assert_success
	assert_output "$(printf '%s\n' null '"plain text"' '{"k":1}' null)"
}

@test "--url -j 8: requests run at once, results in input order, 8 connections kept alive" {
	# The first event's answer comes last: the others must wait for it.
	fn_start '{"#1":{"echo":true,"delay_ms":1500},"*":[{"echo":true,"delay_ms":50}]}'
	SECONDS=0
	run --separate-stderr fnrun -j 8 --url "$URL" < <(seq 1 200)
	assert_success
	assert_output "$(seq 1 200)"
	# One at a time, 200 answers of 50 ms would take 10 s.
	[ "$SECONDS" -lt 8 ] || fail "200 requests took ${SECONDS}s: not concurrent"
	assert_equal "$(receiver_requests .n | wc -l | tr -d ' ')" 200
	# At most one connection per -j, each kept for many requests.
	conns=$(receiver_requests .conn | sort -u | wc -l | tr -d ' ')
	[ "$conns" -ge 2 ] && [ "$conns" -le 8 ] || fail "$conns connections for 200 requests"
}

@test "--url: a non-2xx answer is Function.HttpError naming the status and a bounded excerpt" {
	long=$(printf 'x%.0s' $(seq 1 2000))
	fn_start "{\"#1\":{\"status\":404,\"body\":\"no such function\"},\"#2\":{\"status\":503,\"body\":\"$long\"}}"
	run --separate-stderr fnrun -q --url "$URL" < <(printf '1\n2\n')
	assert_failure 1
	assert_line -n 0 "{\"errorMessage\":\"POST $URL: HTTP 404: no such function\",\"errorType\":\"Function.HttpError\"}"
	run jq -r '.errorType, (.errorMessage | startswith("POST '"$URL"': HTTP 503: xxx")), (.errorMessage | length < 300)' <<< "${lines[1]}"
	assert_output "$(printf '%s\n' Function.HttpError true true)"
}

@test "--url: a redirect is an error naming it, not followed" {
	fn_start '{"*":[{"status":302,"location":"/elsewhere"}]}'
	run --separate-stderr fnrun -q --url "$URL" <<< 1
	assert_failure 1
	assert_output "{\"errorMessage\":\"POST $URL: HTTP 302 redirect to $RECEIVER_URL/elsewhere (not followed)\",\"errorType\":\"Function.HttpError\"}"
	assert_equal "$(receiver_requests .path)" /fn
}

@test "--url: a non-2xx JSON body with errorType raises that error" {
	fn_start '{"#1":{"status":500,"body":"{\"errorType\":\"OrderError\",\"errorMessage\":\"no stock\",\"stackTrace\":[]}"},"#2":{"status":400,"body":"{\"errorType\":\"Bad\"}"},"#3":{"status":200,"body":"{\"errorType\":\"NotAnError\"}"}}'
	run --separate-stderr fnrun -q --url "$URL" < <(printf '1\n2\n3\n')
	assert_failure 1
	assert_line -n 0 '{"errorType":"OrderError","errorMessage":"no stock","stackTrace":[]}'
	assert_line -n 1 "{\"errorType\":\"Bad\",\"errorMessage\":\"POST $URL: HTTP 400: {\\\"errorType\\\":\\\"Bad\\\"}\"}"
	# A 2xx answer is a result, whatever it holds.
	assert_line -n 2 '{"errorType":"NotAnError"}'
}

@test "--url -t: an answer later than the timeout is Lambda's timeout, status timeout in --report" {
	fn_start '{"#1":{"echo":true,"delay_ms":5000},"*":[{"echo":true}]}'
	SECONDS=0
	run --separate-stderr fnrun -q -t 0.5 --report rep --url "$URL" < <(printf '1\n2\n')
	assert_failure 1
	[ "$SECONDS" -lt 4 ] || fail "the timeout took ${SECONDS}s"
	assert_line -n 0 '{"errorMessage":"Task timed out after 0.50 seconds","errorType":"Runtime.Timeout"}'
	assert_line -n 1 2
	run jq -r .status rep
	assert_output "$(printf '%s\n' timeout success)"
}

@test "--url: a closed port is Function.ConnectionError, every event, exit 1" {
	port=$(closed_port)
	run --separate-stderr fnrun -j 4 --url "http://127.0.0.1:$port/fn" < <(seq 1 5)
	assert_failure 1
	assert_equal "${#lines[@]}" 5
	run jq -r '.errorType + " " + .errorMessage' <<< "${lines[0]}"
	assert_output --regexp "^Function.ConnectionError POST http://127.0.0.1:$port/fn: (Couldn't connect to server|Could not connect to server)$"
	assert_equal "$(grep -c 'failed: ' <<< "$stderr")" 5
}

@test "--url --retries: a 500 twice then 200 is one success in three attempts" {
	fn_start '{"by":"body","*":[{"status":500},{"status":500},{"echo":true}]}'
	run --separate-stderr fnrun -q -r 2 -e -j 2 --report rep --url "$URL" < <(printf '{"n":1}\n{"n":2}\n')
	assert_success
	run jq -c '[.status, .result, .attempts]' <<< "$output"
	assert_output "$(printf '%s\n' '["success",{"n":1},3]' '["success",{"n":2},3]')"
	assert_equal "$(receiver_requests .n | wc -l | tr -d ' ')" 6
	run jq -r '"\(.attempt) \(.status)"' rep
	assert_equal "$(sort <<< "$output" | uniq -c | tr -s ' ' | sed 's/^ //')" "$(printf '%s\n' '2 1 error' '2 2 error' '2 3 success')"
}

@test "--url --dlq: a final failure goes to the dead letter with the status, exit 0" {
	fn_start '{"*":[{"status":503,"body":"down"}]}'
	run --separate-stderr fnrun -q -r 1 --dlq file:dl --url "$URL" <<< '{"n":7}'
	assert_success
	run jq -c '[.requestPayload, .responsePayload.errorType, .responsePayload.errorMessage, .requestContext.approximateInvokeCount]' dl
	assert_output "[{\"n\":7},\"Function.HttpError\",\"POST $URL: HTTP 503: down\",2]"
	assert_equal "$(receiver_requests .n | wc -l | tr -d ' ')" 2
}

@test "--url --envelope --report: one line per attempt, the envelope per event" {
	fn_start '{"#2":{"status":500,"body":"no"},"*":[{"echo":true}]}'
	run --separate-stderr fnrun -q -e --report rep --url "$URL" < <(printf '1\n2\n3\n')
	assert_failure 1
	run jq -c '[.status, (.result // .error.errorType), .attempts]' <<< "$output"
	assert_output "$(printf '%s\n' '["success",1,1]' '["error","Function.HttpError",1]' '["success",3,1]')"
	run jq -c '[.status, .memorySizeMB, (.durationMs >= 0), (.billedDurationMs >= 1), (.requestId | length)]' rep
	assert_output "$(printf '%s\n' '["success",128,true,true,36]' '["error",128,true,true,36]' '["success",128,true,true,36]')"
}

@test "--url --batch: one POST of {\"Records\":[...]} per batch" {
	fn_start '{"*":[{"echo":true}]}'
	run --separate-stderr fnrun -b 2 --url "$URL" < <(printf '{"n":1}\n{"n":2}\n{"n":3}\n')
	assert_success
	assert_output "$(printf '%s\n' '{"Records":[{"n":1},{"n":2}]}' '{"Records":[{"n":3}]}')"
	run receiver_requests .body
	assert_output "$(printf '%s\n' '{"Records":[{"n":1},{"n":2}]}' '{"Records":[{"n":3}]}')"
}

@test "--url --queue: a queue's messages invoke the HTTP function and are deleted on success" {
	fn_start '{"*":[{"body":"{}"}]}'
	evq-ctl create q
	printf '{"m":1}\n{"m":2}\n{"m":3}\n' | evq-send q
	run --separate-stderr fnrun --queue q -b 2 --url "$URL"
	assert_success
	assert_equal "$(receiver_requests .n | wc -l | tr -d ' ')" 2
	run receiver_requests '.body | fromjson | [.Records[].body] | join(",")'
	assert_output "$(printf '%s\n' '{"m":1},{"m":2}' '{"m":3}')"
	run evq-ctl stat q
	assert_output --regexp '"ApproximateNumberOfMessages": ?0'
}

@test "--url: the event's trace id goes as X-Amzn-Trace-Id and traceparent" {
	fn_start '{"*":[{"body":"1"}]}'
	fnrun --url "$URL" <<< '{"headers":{"X-Amzn-Trace-Id":"Root=1-67891233-abcdef012345678912345678;Sampled=1"}}'
	fnrun --url "$URL" <<< '{"plain":true}'
	run receiver_requests '[.headers["x-amzn-trace-id"], .headers.traceparent] | map(. // "none") | join(" ")'
	assert_line -n 0 --regexp '^Root=1-67891233-abcdef012345678912345678;Sampled=1 00-67891233abcdef012345678912345678-[0-9a-f]{16}-01$'
	assert_line -n 1 'none none'
}

@test "--url https: TLS is verified, CURL_CA_BUNDLE honoured" {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	receiver_start --tls cert.pem key.pem || return 1
	local url="https://127.0.0.1:$RECEIVER_PORT/ok"
	unset CURL_CA_BUNDLE SSL_CERT_FILE
	run --separate-stderr fnrun -q --url "$url" <<< 1
	assert_failure 1
	assert_output --partial '"errorType":"Function.ConnectionError"'
	assert_equal "$(nlines "$RECEIVER_LOG")" 0
	CURL_CA_BUNDLE=$PWD/cert.pem run --separate-stderr fnrun --url "$url" <<< 1
	assert_success
	assert_output 'null'
	assert_equal "$(nlines "$RECEIVER_LOG")" 1
}

@test "--url: a response over 6 MB is Function.ResponseSizeTooLarge" {
	receiver_start
	/usr/bin/python3 -c 'import json; print(json.dumps({"*": [{"body": "\"" + "x" * 6291456 + "\""}]}))' > script.json
	curl -sS --fail -X POST -H 'Content-Type: application/json' --data-binary @script.json \
	    "$RECEIVER_URL/_control/script"
	run --separate-stderr fnrun -q --url "$RECEIVER_URL/fn" <<< 1
	assert_failure 1
	assert_output '{"errorMessage":"Response payload size (6291458 bytes) exceeded maximum allowed payload size (6291456 bytes).","errorType":"Function.ResponseSizeTooLarge"}'
}

@test "--url SIGTERM: requests in flight finish, nothing new starts, the signal is re-raised" {
	fn_start '{"*":[{"echo":true,"delay_ms":1000}]}'
	mkfifo feed
	fnrun -j 2 --url "$URL" < feed > out 3>&- &
	pid=$!
	exec 4> feed
	printf '1\n2\n' >&4
	wait_for '[ "$(receiver_requests .n | wc -l)" -eq 2 ]' 20
	kill -TERM "$pid"
	printf '3\n' >&4
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	assert_equal "$st" 143
	assert_equal "$(cat out)" "$(printf '1\n2')"
	assert_equal "$(receiver_requests .n | wc -l | tr -d ' ')" 2
}

@test "--url: a bad URL, or --url with another handler kind, is exit 2 before any event" {
	for u in 'ftp://127.0.0.1/fn' 'not a url' 'http://' 'file:///etc/passwd' 'http://127.0.0.1:/fn'; do
		run --separate-stderr fnrun --report rep --dlq file:dl --url "$u" <<< 1
		assert_failure 2
		assert_equal "$output" ''
		[[ $stderr == *"fnrun: --url '$u': "* ]] || fail "stderr: $stderr"
		assert_file_not_exists rep
		assert_file_not_exists dl
	done
	run -2 fnrun --url http://127.0.0.1:1/ -- cat <<< 1
	run -2 fnrun --url http://127.0.0.1:1/ --jq . <<< 1
	run -2 fnrun --url http://127.0.0.1:1/ --worker <<< 1
	assert_output --partial '--worker'
	run -2 fnrun --url http://127.0.0.1:1/ -m 256 <<< 1
	assert_output --partial '--memory'
}
