#!/usr/bin/env bats
# fnrun --runtime-api: Lambda's Runtime API for unmodified runtimes.  The
# runtimes here are custom bootstraps written to the documented protocol
# with curl (tests/lib/rt-bootstrap.sh), and the npm aws-lambda-ric with a
# plain Node handler.

load test_helper

BOOT="$BATS_TEST_DIRNAME/lib/rt-bootstrap.sh"

@test "--runtime-api: a curl bootstrap echoes each event, in order" {
	printf '{"a":1}\n{"b":[2,3]}\n"x"\n' > in
	run --separate-stderr fnrun --runtime-api in -- "$BOOT"
	assert_success
	assert_output $'{"a":1}\n{"b":[2,3]}\n"x"'
}

@test "--runtime-api: the environment and the /next headers are Lambda's" {
	mkdir task
	echo '{"op":"env"}' > in
	run --separate-stderr fnrun -n myfn -t 7 --handler index.handler --runtime-api in -- "$BOOT"
	assert_success
	e=$output
	port=$(jq -r '.env.AWS_LAMBDA_RUNTIME_API' <<< "$e")
	[[ $port =~ ^127\.0\.0\.1:[0-9]+$ ]]
	assert_equal "$(jq -r '.env._HANDLER' <<< "$e")" index.handler
	assert_equal "$(jq -r '.env.LAMBDA_TASK_ROOT' <<< "$e")" "$PWD"
	assert_equal "$(jq -r '.env.AWS_LAMBDA_FUNCTION_NAME' <<< "$e")" myfn
	assert_equal "$(jq -r '.env.AWS_LAMBDA_FUNCTION_VERSION' <<< "$e")" '$LATEST'
	assert_equal "$(jq -r '.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE' <<< "$e")" 128
	assert_equal "$(jq -r '.env.AWS_LAMBDA_LOG_GROUP_NAME' <<< "$e")" /aws/lambda/myfn
	[[ $(jq -r '.env.AWS_LAMBDA_LOG_STREAM_NAME' <<< "$e") == */\[\$LATEST\]* ]]
	[ -n "$(jq -r '.env.AWS_REGION' <<< "$e")" ]
	assert_equal "$(jq -r '.env.TZ' <<< "$e")" :UTC
	assert_equal "$(jq -r '.arn' <<< "$e")" "arn:aws:lambda:$(jq -r .env.AWS_REGION <<< "$e"):000000000000:function:myfn"
	[[ $(jq -r '.id' <<< "$e") =~ ^[0-9a-f-]{36}$ ]]
	# The deadline is wall-clock ms, about -t ahead.
	now=$(date +%s%3N)
	dl=$(jq -r '.deadline' <<< "$e")
	(( dl > now + 3000 && dl <= now + 7000 ))
	# Nothing of ours leaks but the allow-list.
	assert_equal "$(jq -r '.env.BATS_TEST_TMPDIR // "none"' <<< "$e")" none
}

@test "--runtime-api: an event's trace id is Lambda-Runtime-Trace-Id" {
	T='Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1'
	echo "{\"op\":\"env\",\"attributes\":{\"AWSTraceHeader\":\"$T\"}}" > in
	run --separate-stderr fnrun --runtime-api in -- "$BOOT"
	assert_success
	assert_equal "$(jq -r .trace <<< "$output")" "$T"
}

@test "--runtime-api: a posted error is the invocation's, with its type; exit 1" {
	echo '{"op":"error","n":7}' > in
	run --separate-stderr fnrun -e --runtime-api in -- "$BOOT"
	assert_failure 1
	assert_equal "$(jq -c .error <<< "$output")" \
	    '{"errorMessage":"bad: 7","errorType":"MyError","stackTrace":["at handler"]}'
	assert_equal "$(jq -r .status <<< "$output")" error
}

@test "--runtime-api: an init error fails the invocation with its type; the next starts anew" {
	printf '1\n2\n' > in
	run --separate-stderr fnrun --report rep --runtime-api in -- "$BOOT" initerror
	assert_failure 1
	assert_equal "${lines[0]}" '{"errorMessage":"cannot load the handler","errorType":"Runtime.ConfigInvalid"}'
	assert_equal "${lines[1]}" "${lines[0]}"
	# Each invocation paid for its own init.
	assert_equal "$(jq -s '[.[] | select(.initDurationMs != null)] | length' rep)" 2
}

@test "--runtime-api: a bootstrap that exits mid-invocation is Runtime.ExitError; the next works" {
	printf '{"op":"exit","code":3}\n{"n":1}\n' > in
	run --separate-stderr fnrun --runtime-api in -- "$BOOT"
	assert_failure 1
	assert_equal "${lines[0]}" '{"errorMessage":"Runtime exited with error: exit status 3","errorType":"Runtime.ExitError"}'
	assert_equal "${lines[1]}" '{"n":1}'
}

@test "--runtime-api: a bootstrap that dies in init is Runtime.ExitError, never a hang" {
	echo 1 > in
	run --separate-stderr timeout 60 fnrun --runtime-api in -- "$BOOT" die
	assert_failure 1
	assert_output '{"errorMessage":"Runtime exited with error: exit status 4","errorType":"Runtime.ExitError"}'
}

@test "--runtime-api: a bootstrap that never asks fails at --init-timeout" {
	echo 1 > in
	run --separate-stderr timeout 60 fnrun --init-timeout 1 --report rep --runtime-api in -- "$BOOT" nonext
	assert_failure 1
	assert_equal "$(jq -r .errorType <<< "$output")" Runtime.InitError
	assert_equal "$(jq -r .status rep)" timeout
	# The group is gone: the bootstrap (exec'd into sleep) with it.
	wait_for "! kill -0 $(cat rt-boot.pids) 2> /dev/null" 20
}

@test "--runtime-api: a timeout kills the environment; the next invocation gets a fresh one" {
	printf '{"op":"pid"}\n{"op":"sleep","s":30}\n{"op":"pid"}\n' > in
	run --separate-stderr timeout 60 fnrun -t 1 --report rep --runtime-api in -- "$BOOT"
	assert_failure 1
	assert_equal "$(jq -r .errorType <<< "${lines[1]}")" Runtime.Timeout
	p1=$(jq -r .pid <<< "${lines[0]}")
	p3=$(jq -r .pid <<< "${lines[2]}")
	[ -n "$p1" ] && [ -n "$p3" ] && [ "$p1" != "$p3" ]
	# Cold starts: the first and the one after the timeout.
	assert_equal "$(jq -c '[.status, (.initDurationMs != null)]' rep | paste -sd' ')" \
	    '["success",true] ["timeout",false] ["success",true]'
}

@test "--runtime-api: a response over 6 MB is 413 to the runtime and Function.ResponseSizeTooLarge" {
	printf '{"op":"big","bytes":6291457}\n{"op":"big","bytes":6291456}\n{"op":"pid"}\n' > in
	run --separate-stderr fnrun -t 60 --runtime-api in -- "$BOOT"
	assert_failure 1
	assert_equal "$(jq -r .errorType <<< "${lines[0]}")" Function.ResponseSizeTooLarge
	assert_equal "$(jq -r 'length' <<< "${lines[1]}")" 6291456
	[[ ${lines[2]} == '{"pid":'* ]]
	[[ $stderr == *"big: 413"* ]]
	[[ $stderr == *"big: 202"* ]]
}

@test "--runtime-api: an event over 6 MB is refused as Lambda's Invoke does, never handed to the runtime" {
	{ printf '{"op":"echo","pad":"'; head -c 6291456 /dev/zero | tr '\0' a; printf '"}\n'
	  printf '{"op":"echo","n":2}\n'; } > in
	run --separate-stderr fnrun -r 2 --max-line-bytes 8000000 --dlq file:dl --runtime-api in -- "$BOOT"
	assert_success
	local err='{"errorMessage":"Request must be smaller than 6291456 bytes for the InvokeFunction operation","errorType":"RequestEntityTooLargeException"}'
	assert_output "$err"$'\n{"op":"echo","n":2}'
	run jq -c '[.responsePayload, .requestContext.approximateInvokeCount]' dl
	assert_output "[$err,1]"
}

@test "--runtime-api -j 4: four environments at once, output in input order" {
	for i in 1 2 3 4 5 6 7 8; do echo "{\"op\":\"sleep\",\"s\":1,\"i\":$i}"; done > in
	start=$(date +%s)
	run --separate-stderr fnrun -j 4 -t 20 --runtime-api in -- "$BOOT"
	assert_success
	assert_equal "$(jq -r .i <<< "$output" | paste -sd' ')" '1 2 3 4 5 6 7 8'
	# 8 one-second events on 4 environments: well under 8 s even loaded.
	(( $(date +%s) - start < 7 ))
}

@test "--runtime-api: each environment is reused: -j 2 shows two bootstraps" {
	for i in 1 2 3 4 5 6; do echo '{"op":"pid"}'; done > in
	run --separate-stderr fnrun -j 2 --runtime-api in -- "$BOOT"
	assert_success
	assert_equal "$(sort -u <<< "$output" | wc -l)" 2
}

@test "--runtime-api: --report has Lambda's fields and initDurationMs on the cold start" {
	printf '1\n2\n' > in
	run --separate-stderr fnrun --report rep --runtime-api in -- "$BOOT"
	assert_success
	run jq -c 'keys' rep
	assert_line --index 0 '["attempt","billedDurationMs","durationMs","initDurationMs","maxMemoryUsedMB","memorySizeMB","requestId","status"]'
	assert_line --index 1 '["attempt","billedDurationMs","durationMs","maxMemoryUsedMB","memorySizeMB","requestId","status"]'
}

@test "--runtime-api: --retries retries with the same requestId; --dlq gets the final failure" {
	echo '{"op":"error","n":1}' > in
	run --separate-stderr fnrun -r 2 --report rep --dlq file:dead --runtime-api in -- "$BOOT"
	assert_success
	assert_equal "$(jq -r .requestId rep | sort -u | wc -l)" 1
	assert_equal "$(jq -r .attempt rep | paste -sd' ')" '1 2 3'
	assert_equal "$(nlines dead)" 1
	assert_equal "$(jq -c '.. | objects | select(.errorType?) | .errorType' dead | head -1)" '"MyError"'
}

@test "--runtime-api --batch: the bootstrap gets {\"Records\":[...]}" {
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > in
	run --separate-stderr fnrun -b 3 --runtime-api in -- "$BOOT"
	assert_success
	assert_output '{"Records":[{"n":1},{"n":2},{"n":3}]}'
}

@test "--runtime-api --queue: batches of an evq queue, deleted on success" {
	evq-ctl create q
	for i in 1 2 3; do echo "{\"n\":$i}"; done | evq-send q
	run --separate-stderr fnrun --queue q -b 10 --runtime-api -- "$BOOT"
	assert_success
	assert_equal "$(jq '.Records | length' <<< "$output")" 3
	assert_equal "$(evq-ctl stat q | jq .ApproximateNumberOfMessages)" 0
}

@test "--runtime-api: the Runtime API answers wrong ids, states and paths as the RIE does" {
	cat > probe.sh <<'SH'
#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
c() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
r1=$(c -X POST -d '{}' "$api/invocation/nope/response")	# before next: wrong state
r2=$(c "$api/nothing")
r3=$(c -X POST "$api/invocation/next")
h=$(mktemp)
curl -sS -D "$h" -o /dev/null "$api/invocation/next"
id=$(grep -i '^lambda-runtime-aws-request-id:' "$h" | cut -d: -f2 | tr -d ' \r')
r4=$(c -X POST -d '{}' "$api/invocation/wrong-id/response")
r5=$(c "$api/invocation/next")	# before answering: wrong state
r6=$(c -X POST -d '{}' "$api/init/error")	# past init
r7=$(c -X POST -d "\"$r1 $r2 $r3 $r4 $r5 $r6\"" "$api/invocation/$id/response")
r8=$(c -X POST -d '{}' "$api/invocation/$id/response")	# twice
curl -sS -D "$h" -o /dev/null "$api/invocation/next"
id2=$(grep -i '^lambda-runtime-aws-request-id:' "$h" | cut -d: -f2 | tr -d ' \r')
r9=$(c -X POST -d '{}' "$api/invocation/$id/error")	# the last one's id
c -X POST -d "\"$r7 $r8 $r9\"" "$api/invocation/$id2/response" > /dev/null
exec sleep 3600
SH
	chmod +x probe.sh
	printf '1\n2\n' > in
	run --separate-stderr timeout 60 fnrun --runtime-api in -- ./probe.sh
	assert_success
	assert_output $'"403 404 405 400 403 403"\n"202 403 400"' 
}

@test "--runtime-api: a missing BOOTSTRAP is exit 66 with its name, before any event" {
	run --separate-stderr fnrun --runtime-api -- ./no-such-bootstrap < /dev/null
	assert_failure 66
	[[ $stderr == *no-such-bootstrap* ]]
	run --separate-stderr fnrun --runtime-api -- no-such-bootstrap-in-path < /dev/null
	assert_failure 66
	[[ $stderr == *no-such-bootstrap-in-path* ]]
}

@test "--runtime-api: a BOOTSTRAP that is not executable is exit 2 with its name" {
	echo 'echo hi' > boot
	chmod -x boot
	run --separate-stderr fnrun --runtime-api -- ./boot < /dev/null
	assert_failure 2
	[[ $stderr == *"./boot"* ]]
	mkdir dir
	run --separate-stderr fnrun --runtime-api -- ./dir < /dev/null
	assert_failure 2
}

@test "--runtime-api: usage errors" {
	run --separate-stderr fnrun --runtime-api --jq . < /dev/null
	assert_failure 2
	run --separate-stderr fnrun --runtime-api --worker -- "$BOOT" < /dev/null
	assert_failure 2
}

@test "--runtime-api: killing fnrun with SIGKILL leaves no bootstrap behind" {
	echo '{"op":"sleep","s":3000}' > in
	fnrun -t 600 --runtime-api in -- "$BOOT" > out 2> err &
	pid=$!
	# The bootstrap, and the sleep it runs for the event.
	wait_for "[ -s rt-boot.pids ] && pgrep -P \$(cat rt-boot.pids) -x sleep > /dev/null" 20
	boot=$(cat rt-boot.pids)
	child=$(pgrep -P "$boot" -x sleep)
	kill -9 "$pid"
	wait "$pid" || true
	wait_for "! kill -0 $boot 2> /dev/null && ! kill -0 $child 2> /dev/null" 20
}

# aws-lambda-ric 3.3.0 (tests/package.json): its native part takes a few
# minutes to build, which tests/deps.sh (make deps, make check) does; in
# CI (EVKIT_CI=1) it must be there, elsewhere the tests say how to build
# it and are skipped.
need_ric() {
	RIC="$BATS_TEST_DIRNAME/node_modules/aws-lambda-ric"
	[ -f "$RIC/dist/rapid-client.node" ] && return 0
	[ "${EVKIT_CI:-0}" = 1 ] && fail "aws-lambda-ric is not built (tests/deps.sh runs npm rebuild aws-lambda-ric)"
	skip "aws-lambda-ric's native part is not built: cd tests && npm rebuild aws-lambda-ric (about 6 min)"
}

# An unmodified Node handler, as Lambda's Node runtimes run it.
node_handler() {
	cat > index.js <<'JS'
exports.handler = async (event, context) => {
  if (event.throw) throw new TypeError(`boom: ${event.throw}`);
  return {
    event,
    requestId: context.awsRequestId,
    remaining: context.getRemainingTimeInMillis(),
    functionName: context.functionName,
    version: context.functionVersion,
    arn: context.invokedFunctionArn,
  };
};
JS
}

@test "aws-lambda-ric: an unmodified Node handler gets its context" {
	need_ric
	node_handler
	printf '{"a":1}\n{"b":2}\n' > in
	run --separate-stderr fnrun -n nodefn -t 5 -e --report rep --handler index.handler \
	    --runtime-api in -- node "$RIC/bin/index.mjs" index.handler
	assert_success
	assert_equal "$(jq -c .result.event <<< "${lines[0]}")" '{"a":1}'
	assert_equal "$(jq -c .result.event <<< "${lines[1]}")" '{"b":2}'
	# context.awsRequestId is the invocation's requestId.
	assert_equal "$(jq -r .result.requestId <<< "${lines[0]}")" "$(jq -r .requestId <<< "${lines[0]}")"
	assert_equal "$(jq -r .requestId rep | head -1)" "$(jq -r .requestId <<< "${lines[0]}")"
	assert_equal "$(jq -r .result.functionName <<< "${lines[0]}")" nodefn
	assert_equal "$(jq -r .result.version <<< "${lines[0]}")" '$LATEST'
	[[ $(jq -r .result.arn <<< "${lines[0]}") == arn:aws:lambda:*:function:nodefn ]]
	# getRemainingTimeInMillis() counts down from -t.
	rem=$(jq -r .result.remaining <<< "${lines[0]}")
	(( rem > 0 && rem <= 5000 ))
	# One Node process served both: only the first paid for its start.
	assert_equal "$(jq -s '[.[] | select(.initDurationMs != null)] | length' rep)" 1
}

@test "aws-lambda-ric: a thrown Error is the invocation's error, type and message" {
	need_ric
	node_handler
	printf '{"throw":"x"}\n{"c":3}\n' > in
	run --separate-stderr fnrun -t 5 --runtime-api in -- node "$RIC/bin/index.mjs" index.handler
	assert_failure 1
	assert_equal "$(jq -r .errorType <<< "${lines[0]}")" TypeError
	assert_equal "$(jq -r .errorMessage <<< "${lines[0]}")" 'boom: x'
	assert_equal "$(jq -c .event <<< "${lines[1]}")" '{"c":3}'
}

@test "aws-lambda-ric: a handler that cannot be loaded is Runtime.ImportModuleError" {
	need_ric
	echo 1 > in
	run --separate-stderr fnrun -t 5 --runtime-api in -- node "$RIC/bin/index.mjs" nope.handler
	assert_failure 1
	assert_equal "$(jq -r .errorType <<< "$output")" Runtime.ImportModuleError
}

@test "aws-lambda-ric: runs end cleanly, its held /next let go before the server stops" {
	need_ric
	node_handler
	seq 1 20 | sed 's/.*/{"n":&}/' > in
	# MHD_stop_daemon aborts on a suspended connection: that was about 1
	# run in 12 here, at the end of input, with the client's /next held.
	for i in $(seq 1 20); do
		run --separate-stderr fnrun --runtime-api in -- node "$RIC/bin/index.mjs" index.handler
		assert_success
		assert_equal "${#lines[@]}" 20
	done
}
