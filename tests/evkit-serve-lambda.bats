#!/usr/bin/env bats
# evkit-serve's Lambda service, driven by real clients: the AWS CLI
# (botocore) and the AWS SDK for JavaScript v3 (@aws-sdk/client-lambda),
# over functions bound with --function NAME=URI.

load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	# The function's environment is Lambda's allow-list: paths are in the script.
	OUT="$BATS_TEST_TMPDIR/async"
	cat > "$BATS_TEST_TMPDIR/h.sh" <<EOF
#!/bin/sh
ev=\$(cat)
case "\$ev" in
*fail*) echo '{"errorType":"OrderError","errorMessage":"no such order"}'; exit 1 ;;
*crash*) exit 3 ;;
*slow*) : > "$BATS_TEST_TMPDIR/started"
	while [ ! -f "$BATS_TEST_TMPDIR/release" ]; do sleep 0.02; done ;;
*async*) printf '%s\n' "\$ev" >> "$OUT" ;;
esac
printf '{"got":%s}\n' "\$ev"
EOF
	chmod +x "$BATS_TEST_TMPDIR/h.sh"
	SERVE_ARGS="-F echo=exec:$BATS_TEST_TMPDIR/h.sh -F double=jq:{n:(.n*2)}" \
	    evkit_serve_start "$EVKIT_HOME"
}

teardown() {
	evkit_serve_stop
}

inv() {	# inv NAME PAYLOAD [ARGS]: aws lambda invoke, the payload in out.json
	local name=$1 payload=$2
	shift 2
	aws_cli lambda invoke --function-name "$name" --cli-binary-format raw-in-base64-out \
	    --payload "$payload" "$@" out.json
}

@test "lambda: Invoke (RequestResponse) answers the function's result, for a process and a jq function" {
	run inv echo '{"a":1}'
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"StatusCode":200,"ExecutedVersion":"$LATEST"}'
	assert_equal "$(cat out.json)" '{"got":{"a":1}}'
	run inv double '{"n":21}'
	assert_success
	assert_equal "$(cat out.json)" '{"n":42}'
	# By ARN too.
	run inv arn:aws:lambda:us-east-1:000000000000:function:double '{"n":2}'
	assert_success
	assert_equal "$(cat out.json)" '{"n":4}'
}

@test "lambda: a function's error is a 200 with X-Amz-Function-Error: Unhandled and the error payload" {
	run inv echo '"fail"'
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"StatusCode":200,"FunctionError":"Unhandled","ExecutedVersion":"$LATEST"}'
	assert_equal "$(jq -c . out.json)" '{"errorType":"OrderError","errorMessage":"no such order"}'
	run inv echo '"crash"'
	assert_success
	assert_equal "$(jq -r .FunctionError <<<"$output")" Unhandled
	assert_equal "$(jq -r .errorType out.json)" Runtime.ExitError
	run curl -s -D hdrs -o body -X POST -d '"fail"' "$SERVE_URL/2015-03-31/functions/echo/invocations"
	grep -qi '^X-Amz-Function-Error: Unhandled' hdrs
	grep -qi '^X-Amz-Executed-Version: \$LATEST' hdrs
	grep -q '^HTTP/1.1 200' hdrs
}

@test "lambda: Event answers 202 at once and runs the function; DryRun answers 204 and runs nothing" {
	run inv echo '"async-1"' --invocation-type Event
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"StatusCode":202}'
	wait_for '[ -s "$OUT" ]' 10
	assert_equal "$(cat "$OUT")" '"async-1"'
	run inv echo '"async-2"' --invocation-type DryRun
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"StatusCode":204}'
	sleep 0.5	# a run would have written by now (nothing to poll for: it must not come)
	assert_equal "$(cat "$OUT")" '"async-1"'
}

@test "lambda: a running invocation holds no other request (the server answers while it runs)" {
	curl -s -X POST -d '"slow"' "$SERVE_URL/2015-03-31/functions/echo/invocations" > slow.out &
	slow=$!
	wait_for '[ -f started ]' 10
	run curl -s -X POST -d '{"n":1}' "$SERVE_URL/2015-03-31/functions/double/invocations"
	assert_equal "$output" '{"n":2}'
	run curl -s "$SERVE_URL/2015-03-31/functions/"
	assert_equal "$(jq '.Functions|length' <<<"$output")" 2
	# The first is still running, and answered once its handler ends.
	[ ! -s slow.out ]
	: > release
	wait "$slow"
	assert_equal "$(cat slow.out)" '{"got":"slow"}'
}

@test "lambda: ListFunctions and GetFunction show the bound functions" {
	run aws_cli lambda list-functions
	assert_success
	assert_equal "$(jq -c '[.Functions[] | [.FunctionName, .FunctionArn, .Version]]' <<<"$output")" \
	    '[["echo","arn:aws:lambda:us-east-1:000000000000:function:echo","$LATEST"],["double","arn:aws:lambda:us-east-1:000000000000:function:double","$LATEST"]]'
	run aws_cli lambda get-function --function-name double
	assert_success
	assert_equal "$(jq -r '.Configuration.Handler' <<<"$output")" 'jq:{n:(.n*2)}'
	assert_equal "$(jq -r '.Configuration.Timeout' <<<"$output")" 3
}

@test "lambda: an unknown function is 404 ResourceNotFoundException; bad payloads and types are refused" {
	run inv nope '{}'
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
	assert_output --partial "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
	run curl -s -w ' %{http_code}' -D hdrs "$SERVE_URL/2015-03-31/functions/nope"
	assert_equal "${output##* }" 404
	grep -qi '^x-amzn-ErrorType: ResourceNotFoundException' hdrs
	run curl -s -w ' %{http_code}' -X POST -d '{"a":' "$SERVE_URL/2015-03-31/functions/echo/invocations"
	assert_equal "${output##* }" 400
	assert_equal "$(jq -r .__type <<<"${output% *}")" InvalidRequestContentException
	run curl -s -w ' %{http_code}' -X POST -H 'X-Amz-Invocation-Type: Sometimes' -d '{}' \
	    "$SERVE_URL/2015-03-31/functions/echo/invocations"
	assert_equal "${output##* }" 400
	head -c 1100000 /dev/zero | tr '\0' 'a' | sed 's/.*/"&"/' > big.json
	run curl -s -w ' %{http_code}' -X POST -H 'X-Amz-Invocation-Type: Event' --data-binary @big.json \
	    "$SERVE_URL/2015-03-31/functions/echo/invocations"
	assert_equal "${output##* }" 413
	assert_equal "$(jq -r .__type <<<"${output% *}")" RequestTooLargeException
	# Still serving.
	run inv double '{"n":5}'
	assert_success
}

@test "lambda: the JavaScript SDK v3 (@aws-sdk/client-lambda) invokes, lists and sees errors" {
	[ -f "$TOP/tests/node_modules/@aws-sdk/client-lambda/package.json" ] ||
	    fail "@aws-sdk/client-lambda is not installed: npm ci --prefix tests"
	cat > l.mjs <<'EOF'
import { LambdaClient, InvokeCommand, ListFunctionsCommand } from "SDK";
const c = new LambdaClient({ endpoint: process.env.AWS_ENDPOINT_URL });
const dec = (p) => new TextDecoder().decode(p);
const ok = await c.send(new InvokeCommand({ FunctionName: "double", Payload: JSON.stringify({ n: 4 }) }));
const bad = await c.send(new InvokeCommand({ FunctionName: "echo", Payload: '"fail"' }));
const ev = await c.send(new InvokeCommand({ FunctionName: "echo", InvocationType: "Event", Payload: '"async-js"' }));
const l = await c.send(new ListFunctionsCommand({}));
let nf;
try { await c.send(new InvokeCommand({ FunctionName: "nope" })); } catch (e) { nf = [e.name, e.$metadata.httpStatusCode]; }
console.log(JSON.stringify({ ok: [ok.StatusCode, dec(ok.Payload)], bad: [bad.FunctionError, JSON.parse(dec(bad.Payload)).errorType], ev: ev.StatusCode, names: l.Functions.map(f => f.FunctionName), nf }));
EOF
	run --separate-stderr node --input-type=module -e "$(sed 's#"SDK"#"'"$TOP"'/tests/node_modules/@aws-sdk/client-lambda/dist-cjs/index.js"#' l.mjs)"
	assert_success "$stderr"
	assert_equal "$output" '{"ok":[200,"{\"n\":8}"],"bad":["Unhandled","OrderError"],"ev":202,"names":["echo","double"],"nf":["ResourceNotFoundException",404]}'
	wait_for '[ -s "$OUT" ]' 10
	assert_equal "$(cat "$OUT")" '"async-js"'
}

@test "lambda: a bad --function is a usage error (exit 2) naming it" {
	run -2 evkit-serve --listen 0 -F nourl
	assert_output --partial "--function 'nourl': expected NAME=URI"
	run -2 evkit-serve --listen 0 -F f=ftp:x
	assert_output --partial "unknown scheme"
	run -2 evkit-serve --listen 0 -F f=jq:. -F f=jq:.
	assert_output --partial "'f' is bound twice"
	run -2 evkit-serve --listen 0 -F 'f=jq:{'
	assert_output --partial "--function f"
}

@test "lambda: two process functions run each its own command" {
	evkit_serve_stop
	printf '#!/bin/sh\ncat >/dev/null; echo \\"A\\"\n' > a.sh
	printf '#!/bin/sh\ncat >/dev/null; echo \\"B\\"\n' > b.sh
	chmod +x a.sh b.sh
	SERVE_ARGS="-F a=exec:$PWD/a.sh -F b=exec:$PWD/b.sh" evkit_serve_start "$EVKIT_HOME"
	for f in a b a b; do
		curl -s -X POST -d '{}' "$SERVE_URL/2015-03-31/functions/$f/invocations"
		echo
	done > got
	assert_equal "$(tr -d '\n"' < got)" ABAB
}

@test "lambda: an SQS event source mapping invokes the function with batches from a queue evq-send fills, as fnrun --queue" {
	cat > esm.sh <<EOF2
#!/bin/sh
ev=\$(cat)
printf '%s\n' "\$ev" >> $PWD/esm.out
id=\$(printf '%s' "\$ev" | jq -r '[.Records[] | select(.body | test("poison")) | .messageId][0] // empty')
if [ -n "\$id" ]; then printf '{"batchItemFailures":[{"itemIdentifier":"%s"}]}\n' "\$id"; else echo '{}'; fi
EOF2
	chmod +x esm.sh
	evkit_serve_stop
	SERVE_ARGS="-F esm=exec:$PWD/esm.sh" evkit_serve_start "$EVKIT_HOME"
	evq-ctl create jobs --visibility 30
	run aws_cli lambda create-event-source-mapping --function-name esm \
	    --event-source-arn arn:aws:sqs:us-east-1:000000000000:jobs --batch-size 3
	assert_success
	uuid=$(jq -r .UUID <<<"$output")
	assert_equal "$(jq -r .FunctionArn <<<"$output")" arn:aws:lambda:us-east-1:000000000000:function:esm
	seq 1 7 | evq-send jobs
	echo '"poison"' | evq-send jobs
	wait_for '[ "$(evq-ctl stat jobs | jq "[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]" -c)" = "[0,1]" ]' 20
	# Every message came in a batch of at most 3, in SQS records; the one the
	# function named in batchItemFailures stays, leased.
	assert_equal "$(jq -r '.Records[].body' esm.out | sort | tr '\n' ' ')" '"poison" 1 2 3 4 5 6 7 '
	assert_equal "$(jq '.Records | length <= 3' esm.out | sort -u)" true
	assert_equal "$(jq -r '.Records[0].eventSource' esm.out | sort -u)" aws:sqs
	run aws_cli lambda get-event-source-mapping --uuid "$uuid"
	assert_success
	assert_equal "$(jq -c '[.State, .BatchSize, .EventSourceArn]' <<<"$output")" '["Enabled",3,"arn:aws:sqs:us-east-1:000000000000:jobs"]'
	run aws_cli lambda update-event-source-mapping --uuid "$uuid" --no-enabled
	assert_success
	echo 8 | evq-send jobs
	run aws_cli lambda list-event-source-mappings --function-name esm
	assert_equal "$(jq -c '[.EventSourceMappings[] | [.UUID, .State]]' <<<"$output")" "[[\"$uuid\",\"Disabled\"]]"
	assert_equal "$(evq-ctl stat jobs | jq .ApproximateNumberOfMessages)" 1
	run aws_cli lambda delete-event-source-mapping --uuid "$uuid"
	assert_success
	assert_equal "$(jq -r .State <<<"$output")" Deleting
	run aws_cli lambda get-event-source-mapping --uuid "$uuid"
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
	run aws_cli lambda create-event-source-mapping --function-name esm \
	    --event-source-arn arn:aws:sqs:us-east-1:000000000000:nosuch
	assert_failure
	assert_output --partial "(InvalidParameterValueException)"
	run aws_cli lambda create-event-source-mapping --function-name nope \
	    --event-source-arn arn:aws:sqs:us-east-1:000000000000:jobs
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
}
