#!/usr/bin/env bats
# evkit-serve's EventBridge service, driven by real clients: the AWS CLI
# (botocore) and the AWS SDK for JavaScript v3 (@aws-sdk/client-eventbridge).
# Mixed use: rules put through the API are a rules file evbus-route -r
# reads, and PutEvents lands in queues evq-recv reads.

load test_helper
load lib/servers

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	# The function's environment is Lambda's allow-list: the path is in the script.
	OUT="$BATS_TEST_TMPDIR/invoked"
	cat > "$BATS_TEST_TMPDIR/h.sh" <<EOF
#!/bin/sh
cat >> "$OUT"
echo '{"ok":true}'
EOF
	chmod +x "$BATS_TEST_TMPDIR/h.sh"
	SERVE_ARGS="-F sink=exec:$BATS_TEST_TMPDIR/h.sh" evkit_serve_start "$EVKIT_HOME"
}

teardown() {
	evkit_serve_stop
}

ev() {	# ev ARGS: aws events on the server
	aws_cli events "$@"
}

@test "events: a rule with an SQS target routes PutEvents into the queue evq-recv reads, in EventBridge's envelope" {
	run ev put-rule --name r1 --event-pattern '{"source":["app"],"detail":{"n":[{"numeric":[">",1]}]}}'
	assert_success
	assert_equal "$(jq -r .RuleArn <<<"$output")" "arn:aws:events:us-east-1:000000000000:rule/r1"
	run ev put-targets --rule r1 --targets Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:jobs
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"FailedEntryCount":0,"FailedEntries":[]}'
	run ev put-events --entries '[{"Source":"app","DetailType":"t","Detail":"{\"n\":2}","Resources":["arn:x"],"Time":"2026-01-02T03:04:05Z"},{"Source":"app","DetailType":"t","Detail":"{\"n\":1}"},{"Source":"other","DetailType":"t","Detail":"{\"n\":5}"}]'
	assert_success
	assert_equal "$(jq .FailedEntryCount <<<"$output")" 0
	id=$(jq -r '.Entries[0].EventId' <<<"$output")
	[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	wait_for 'evq-recv --peek jobs >/dev/null 2>&1' 10
	run evq-recv jobs
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -c . <<<"$output")" "{\"version\":\"0\",\"id\":\"$id\",\"detail-type\":\"t\",\"source\":\"app\",\"account\":\"000000000000\",\"time\":\"2026-01-02T03:04:05Z\",\"region\":\"us-east-1\",\"resources\":[\"arn:x\"],\"detail\":{\"n\":2}}"
}

@test "events: the rules put through the API are a rules file evbus-route -r reads (and the other way round)" {
	ev put-rule --name viaapi --event-pattern '{"detail-type":["Order"]}' >/dev/null
	ev put-targets --rule viaapi --targets 'Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:orders,InputPath=$.detail' >/dev/null
	run evbus-route -r "$EVKIT_HOME/buses/default.json" <<<'{"detail-type":"Order","detail":{"id":7}}'
	assert_success
	assert_equal "$(evq-recv orders)" '{"id":7}'
	# A file written by hand is what the server routes by, at once.
	cat > "$EVKIT_HOME/buses/default.json" <<'EOF'
{"rules":[{"name":"byhand","pattern":{"source":["hand"]},"targets":[{"id":"q","uri":"queue:hand"}]}]}
EOF
	run ev put-events --entries '[{"Source":"hand","DetailType":"x","Detail":"{}"}]'
	assert_success
	wait_for 'evq-recv --peek hand >/dev/null 2>&1' 10
	assert_equal "$(evq-recv hand | jq -r .source)" hand
	run ev list-rules
	assert_equal "$(jq -c '[.Rules[].Name]' <<<"$output")" '["byhand"]'
}

@test "events: describe, disable (no delivery), enable, list targets, remove targets, delete" {
	ev put-rule --name r --event-pattern '{"source":["s"]}' --description "the rule" >/dev/null
	ev put-targets --rule r --targets Id=a,Arn=arn:aws:sqs:us-east-1:000000000000:qa \
	    'Id=b,Arn=arn:aws:sqs:us-east-1:000000000000:qb,Input="{\"k\":1}",RetryPolicy={MaximumRetryAttempts=1,MaximumEventAgeInSeconds=60},DeadLetterConfig={Arn=arn:aws:sqs:us-east-1:000000000000:dlq}' >/dev/null
	run ev describe-rule --name r
	assert_success
	assert_equal "$(jq -c '[.Name,.State,.Description,.EventBusName,(.EventPattern|fromjson)]' <<<"$output")" \
	    '["r","ENABLED","the rule","default",{"source":["s"]}]'
	run ev list-targets-by-rule --rule r
	assert_equal "$(jq -cS '.Targets[1]' <<<"$output")" \
	    '{"Arn":"arn:aws:sqs:us-east-1:000000000000:qb","DeadLetterConfig":{"Arn":"arn:aws:sqs:us-east-1:000000000000:dlq"},"Id":"b","Input":"{\"k\":1}","RetryPolicy":{"MaximumEventAgeInSeconds":60,"MaximumRetryAttempts":1}}'
	ev disable-rule --name r
	assert_equal "$(ev describe-rule --name r | jq -r .State)" DISABLED
	ev put-events --entries '[{"Source":"s","DetailType":"x","Detail":"{\"i\":1}"}]' >/dev/null
	ev enable-rule --name r
	ev put-events --entries '[{"Source":"s","DetailType":"x","Detail":"{\"i\":2}"}]' >/dev/null
	wait_for 'evq-recv --peek qb >/dev/null 2>&1' 10
	assert_equal "$(evq-recv qb)" '{"k":1}'
	wait_for 'evq-recv --peek qa >/dev/null 2>&1' 10
	assert_equal "$(evq-recv qa | jq -c .detail)" '{"i":2}'
	run ev delete-rule --name r
	assert_failure
	assert_output --partial "ValidationException"
	assert_output --partial "Rule can't be deleted since it has targets."
	ev remove-targets --rule r --ids a b >/dev/null
	run ev delete-rule --name r
	assert_success
	run ev describe-rule --name r
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
	assert_output --partial "Rule r does not exist on EventBus default."
}

@test "events: rules outlive the server; --rules FILE is the default bus's file" {
	ev put-rule --name kept --event-pattern '{"source":["k"]}' >/dev/null
	evkit_serve_stop
	SERVE_ARGS="-F sink=exec:$BATS_TEST_TMPDIR/h.sh" evkit_serve_start "$EVKIT_HOME"
	assert_equal "$(ev list-rules | jq -c '[.Rules[].Name]')" '["kept"]'
	evkit_serve_stop
	SERVE_ARGS="--rules $BATS_TEST_TMPDIR/mine.json" evkit_serve_start "$EVKIT_HOME"
	assert_equal "$(ev list-rules | jq -c '[.Rules[].Name]')" '[]'
	ev put-rule --name here --event-pattern '{"source":["h"]}' >/dev/null
	ev put-targets --rule here --targets Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:hq >/dev/null
	assert_equal "$(jq -c '[.rules[].name]' mine.json)" '["here"]'
	run evbus-route -r mine.json <<<'{"source":"h"}'
	assert_success
	assert_equal "$(evq-recv hq)" '{"source":"h"}'
}

@test "events: TestEventPattern answers as the pattern engine does; a bad pattern is InvalidEventPatternException" {
	e='{"id":"1","source":"com.mycompany.myapp","detail-type":"myDetailType","account":"123456789012","region":"us-east-1","time":"2017-04-11T20:11:04Z","detail":{"n":5}}'
	run ev test-event-pattern --event-pattern '{"source":["com.mycompany.myapp"]}' --event "$e"
	assert_success
	assert_equal "$(jq .Result <<<"$output")" true
	run ev test-event-pattern --event-pattern '{"detail":{"n":[{"numeric":[">",5]}]}}' --event "$e"
	assert_equal "$(jq .Result <<<"$output")" false
	run ev test-event-pattern --event-pattern '{"source":"x"}' --event "$e"
	assert_failure
	assert_output --partial "(InvalidEventPatternException)"
	assert_output --partial "Event pattern is not valid. Reason: "
}

@test "events: event buses: create, list, rules and events on one, unknown bus" {
	run ev create-event-bus --name orders
	assert_success
	assert_equal "$(jq -r .EventBusArn <<<"$output")" "arn:aws:events:us-east-1:000000000000:event-bus/orders"
	run ev create-event-bus --name orders
	assert_failure
	assert_output --partial "(ResourceAlreadyExistsException)"
	run ev list-event-buses
	assert_equal "$(jq -c '[.EventBuses[].Name]' <<<"$output")" '["default","orders"]'
	run ev put-rule --name r --event-bus-name orders --event-pattern '{"source":["o"]}'
	assert_equal "$(jq -r .RuleArn <<<"$output")" "arn:aws:events:us-east-1:000000000000:rule/orders/r"
	ev put-targets --rule r --event-bus-name orders --targets Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:oq >/dev/null
	[ -f "$EVKIT_HOME/buses/orders.json" ]
	run ev put-events --entries '[{"Source":"o","DetailType":"x","Detail":"{}","EventBusName":"orders"},{"Source":"o","DetailType":"x","Detail":"{}"},{"Source":"o","DetailType":"x","Detail":"{}","EventBusName":"nope"}]'
	assert_success
	assert_equal "$(jq -c '[.FailedEntryCount, .Entries[2].ErrorCode]' <<<"$output")" '[1,"InvalidArgument"]'
	wait_for 'evq-recv --peek oq >/dev/null 2>&1' 10
	assert_equal "$(evq-recv oq | wc -l)" 1
	run ev list-rules --event-bus-name nope
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
	assert_output --partial "Event bus nope does not exist."
}

@test "events: a Lambda function ARN target invokes the bound function (asynchronously)" {
	ev put-rule --name r --event-pattern '{"source":["l"]}' >/dev/null
	ev put-targets --rule r --targets 'Id=f,Arn=arn:aws:lambda:us-east-1:000000000000:function:sink,InputPath=$.detail' >/dev/null
	ev put-events --entries '[{"Source":"l","DetailType":"x","Detail":"{\"to\":\"fn\"}"}]' >/dev/null
	wait_for '[ -s "$OUT" ]' 10
	assert_equal "$(cat "$OUT")" '{"to":"fn"}'
}

@test "events: bad requests get AWS's error shapes: entries, details, unknown action, malformed JSON" {
	run ev put-events --entries '[{"Source":"a","DetailType":"t","Detail":"[1]"},{"DetailType":"t","Detail":"{}"},{"Source":"a","DetailType":"t","Detail":"{}"}]'
	assert_success
	assert_equal "$(jq -c '[.FailedEntryCount,[.Entries[].ErrorCode]]' <<<"$output")" '[2,["MalformedDetail","InvalidArgument",null]]'
	e='{"Source":"a","DetailType":"t","Detail":"{}"}'
	run ev put-events --entries "[$e,$e,$e,$e,$e,$e,$e,$e,$e,$e,$e]"
	assert_failure
	assert_output --partial "(ValidationException)"
	run ev put-rule --name r
	assert_failure
	assert_output --partial "EventPattern or ScheduleExpression must be specified"
	run ev put-rule --name r --schedule-expression 'rate(1 minute)'
	assert_failure
	assert_output --partial "(ValidationException)"
	run ev put-targets --rule nope --targets Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:q
	assert_failure
	assert_output --partial "(ResourceNotFoundException)"
	ev put-rule --name r --event-pattern '{"source":["x"]}' >/dev/null
	run ev put-targets --rule r --targets Id=q,Arn=arn:aws:sns:us-east-1:000000000000:t
	assert_failure
	assert_output --partial "(ValidationException)"
	run curl -s -H 'X-Amz-Target: AWSEvents.Frobnicate' -H 'Content-Type: application/x-amz-json-1.1' -d '{}' "$SERVE_URL/"
	assert_equal "$(jq -r .__type <<<"$output")" UnknownOperationException
	run curl -s -w ' %{http_code}' -H 'X-Amz-Target: AWSEvents.PutEvents' -H 'Content-Type: application/x-amz-json-1.1' -d '{"Entries":[' "$SERVE_URL/"
	assert_equal "$(jq -r .__type <<<"${output% *}")" SerializationException
	assert_equal "${output##* }" 400
	# The server is still up, and nothing was written to the rules file by the failures.
	assert_equal "$(ev list-rules | jq '.Rules|length')" 1
}

@test "events: the JavaScript SDK v3 (@aws-sdk/client-eventbridge) puts a rule and targets and events" {
	[ -f "$TOP/tests/node_modules/@aws-sdk/client-eventbridge/package.json" ] ||
	    fail "@aws-sdk/client-eventbridge is not installed: npm ci --prefix tests"
	cat > eb.mjs <<'EOF'
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand, PutEventsCommand,
  TestEventPatternCommand, ListRulesCommand } from "@aws-sdk/client-eventbridge";
const c = new EventBridgeClient({ endpoint: process.env.AWS_ENDPOINT_URL });
const r = await c.send(new PutRuleCommand({ Name: "js", EventPattern: JSON.stringify({ source: ["js"] }) }));
await c.send(new PutTargetsCommand({ Rule: "js", Targets: [{ Id: "q", Arn: "arn:aws:sqs:us-east-1:000000000000:jsq" }] }));
const p = await c.send(new PutEventsCommand({ Entries: [{ Source: "js", DetailType: "d", Detail: JSON.stringify({ v: 1 }) }] }));
const t = await c.send(new TestEventPatternCommand({ EventPattern: '{"source":["js"]}', Event: JSON.stringify({ id: "1", source: "js", "detail-type": "d", account: "1", region: "r", time: "2020-01-01T00:00:00Z", detail: {} }) }));
const l = await c.send(new ListRulesCommand({}));
let bad;
try { await c.send(new TestEventPatternCommand({ EventPattern: '{"source":"x"}', Event: "{}" })); } catch (e) { bad = e.name; }
console.log(JSON.stringify({ arn: r.RuleArn, failed: p.FailedEntryCount, result: t.Result, rules: l.Rules.map(x => x.Name), bad }));
EOF
	run --separate-stderr node --input-type=module -e "$(sed 's#"@aws-sdk/client-eventbridge"#"'"$TOP"'/tests/node_modules/@aws-sdk/client-eventbridge/dist-cjs/index.js"#' eb.mjs)"
	assert_success
	assert_equal "$output" '{"arn":"arn:aws:events:us-east-1:000000000000:rule/js","failed":0,"result":true,"rules":["js"],"bad":"InvalidEventPatternException"}'
	wait_for 'evq-recv --peek jsq >/dev/null 2>&1' 10
	assert_equal "$(evq-recv jsq | jq -c .detail)" '{"v":1}'
}
