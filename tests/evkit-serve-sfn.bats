#!/usr/bin/env bats
# evkit-serve's Step Functions service, driven by real clients: the AWS
# CLI (botocore) and the AWS SDK for JavaScript v3 (@aws-sdk/client-sfn),
# over machines created by the API or --machine, run by fnflow's engine.

load test_helper
load lib/servers

SM=arn:aws:states:us-east-1:000000000000:stateMachine

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
	# Pass, then a Task bound by --function, then a Wait the test can stop in.
	cat > hello.json <<'EOF'
{"StartAt":"A","States":{
 "A":{"Type":"Pass","Result":{"n":20},"ResultPath":"$.p","Next":"T"},
 "T":{"Type":"Task","Resource":"double","InputPath":"$.p","ResultPath":"$.r","Next":"C"},
 "C":{"Type":"Choice","Choices":[{"Variable":"$.wait","IsPresent":true,"Next":"W"}],"Default":"D"},
 "W":{"Type":"Wait","Seconds":600,"Next":"D"},
 "D":{"Type":"Pass","End":true}}}
EOF
	SERVE_ARGS="-F double=jq:{n:(.n*2)} --machine hello=hello.json" evkit_serve_start "$EVKIT_HOME"
}

teardown() {
	evkit_serve_stop
}

sfn() {
	aws_cli stepfunctions "$@"
}

# botocore 1.29 puts "sync-" before the host of StartSyncExecution (no CLI
# switch turns it off): botocore itself, with inject_host_prefix off.
sync_start() {	# sync_start ARN INPUT
	"$SERVERS_PY" - "$1" "$2" <<'EOF'
import json, os, sys, botocore.session
from botocore.config import Config
c = botocore.session.get_session().create_client("stepfunctions", region_name="us-east-1",
    endpoint_url=os.environ["AWS_ENDPOINT_URL"], config=Config(inject_host_prefix=False))
try:
    r = c.start_sync_execution(stateMachineArn=sys.argv[1], input=sys.argv[2])
    print(json.dumps({k: r[k] for k in ("status", "output", "error", "cause") if k in r}))
except c.exceptions.ClientError as e:
    print(json.dumps({"code": e.response["Error"]["Code"]}))
EOF
}

@test "sfn: --machine pre-creates a machine; Describe and List show it" {
	run sfn list-state-machines
	assert_success
	assert_equal "$(jq -c '[.stateMachines[] | [.name, .type, .stateMachineArn]]' <<<"$output")" \
	    "[[\"hello\",\"STANDARD\",\"$SM:hello\"]]"
	run sfn describe-state-machine --state-machine-arn "$SM:hello"
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" ACTIVE
	assert_equal "$(jq -c '.definition | fromjson | .StartAt' <<<"$output")" '"A"'
}

@test "sfn: StartExecution runs a Task bound by --function; DescribeExecution gives its output" {
	run sfn start-execution --state-machine-arn "$SM:hello" --name run1 --input '{"k":"v"}'
	assert_success
	arn=$(jq -r .executionArn <<<"$output")
	assert_equal "$arn" arn:aws:states:us-east-1:000000000000:execution:hello:run1
	wait_for '[ "$(sfn describe-execution --execution-arn "$arn" | jq -r .status)" = SUCCEEDED ]' 20
	run sfn describe-execution --execution-arn "$arn"
	assert_equal "$(jq -c '.output | fromjson' <<<"$output")" '{"k":"v","p":{"n":20},"r":{"n":40}}'
	assert_equal "$(jq -r .input <<<"$output")" '{"k":"v"}'
	assert_equal "$(jq -r .stateMachineArn <<<"$output")" "$SM:hello"
}

@test "sfn: GetExecutionHistory gives the events fnflow's --history records" {
	run sfn start-execution --state-machine-arn "$SM:hello" --input '{}'
	arn=$(jq -r .executionArn <<<"$output")
	wait_for '[ "$(sfn describe-execution --execution-arn "$arn" | jq -r .status)" = SUCCEEDED ]' 20
	run sfn get-execution-history --execution-arn "$arn"
	assert_success
	assert_equal "$(jq -c '[.events[].type]' <<<"$output")" \
	    '["ExecutionStarted","PassStateEntered","PassStateExited","TaskStateEntered","TaskScheduled","TaskStarted","TaskSucceeded","TaskStateExited","ChoiceStateEntered","ChoiceStateExited","PassStateEntered","PassStateExited","ExecutionSucceeded"]'
	assert_equal "$(jq -c '[.events[].id]' <<<"$output")" '[1,2,3,4,5,6,7,8,9,10,11,12,13]'
	assert_equal "$(jq -r '.events[6].taskSucceededEventDetails.output' <<<"$output")" '{"n":40}'
	# The same events as fnflow --history writes for the same machine (but
	# the start's stateMachineArn, which botocore 1.29's model lacks).
	echo '{}' | fnflow -f 'double=jq:{n:(.n*2)}' --history hist hello.json > /dev/null
	run evlog-read hist
	assert_equal "$(jq -sc '[.[].event | del(.timestamp, .executionStartedEventDetails.stateMachineArn)]' <<<"$output")" \
	    "$(sfn get-execution-history --execution-arn "$arn" | jq -c '[.events[] | del(.timestamp)]')"
	run sfn get-execution-history --execution-arn "$arn" --reverse-order
	assert_equal "$(jq -r '.events[0].type' <<<"$output")" ExecutionSucceeded
}

@test "sfn: StopExecution aborts a waiting execution (ABORTED); ListExecutions filters by status" {
	run sfn start-execution --state-machine-arn "$SM:hello" --name waits --input '{"wait":1}'
	arn=$(jq -r .executionArn <<<"$output")
	run sfn start-execution --state-machine-arn "$SM:hello" --name quick --input '{}'
	quick=$(jq -r .executionArn <<<"$output")
	wait_for '[ "$(sfn describe-execution --execution-arn "$quick" | jq -r .status)" = SUCCEEDED ]' 20
	wait_for 'sfn get-execution-history --execution-arn "$arn" | jq -e "any(.events[]; .type == \"WaitStateEntered\")"' 20
	run sfn list-executions --state-machine-arn "$SM:hello" --status-filter RUNNING
	assert_equal "$(jq -c '[.executions[].name]' <<<"$output")" '["waits"]'
	run sfn stop-execution --execution-arn "$arn" --error Halt --cause "by the test"
	assert_success
	jq -e '.stopDate' <<<"$output"
	run sfn describe-execution --execution-arn "$arn"
	assert_equal "$(jq -c '[.status, .error, .cause]' <<<"$output")" '["ABORTED","Halt","by the test"]'
	run sfn get-execution-history --execution-arn "$arn"
	assert_equal "$(jq -r '.events[-1].type' <<<"$output")" ExecutionAborted
	run sfn list-executions --state-machine-arn "$SM:hello" --status-filter ABORTED
	assert_equal "$(jq -c '[.executions[].name]' <<<"$output")" '["waits"]'
	run sfn list-executions --state-machine-arn "$SM:hello"
	assert_equal "$(jq -c '[.executions[].name] | sort' <<<"$output")" '["quick","waits"]'
}

@test "sfn: a Task's sqs:sendMessage sends to a local queue that the SDK and evq-recv see" {
	run aws_cli sqs create-queue --queue-name jobs
	assert_success
	run sfn create-state-machine --name q --type EXPRESS --role-arn arn:aws:iam::000000000000:role/r \
	    --definition '{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl.$":"$.q","MessageBody.$":"$.order"},"ResultSelector":{"id.$":"$.MessageId"},"End":true}}}'
	assert_success
	# By name, and by the QueueUrl this server gives (the local queue, not
	# a request to itself).
	for url in jobs "$(aws_cli sqs get-queue-url --queue-name jobs | jq -r .QueueUrl)"; do
		run sync_start "$SM:q" "{\"order\":{\"n\":1},\"q\":\"$url\"}"
		assert_equal "$(jq -r .status <<<"$output")" SUCCEEDED
		id=$(jq -r '.output | fromjson | .id' <<<"$output")
		run evq-recv -e -n 1 jobs
		assert_success
		assert_equal "$(jq -r .messageId <<<"$output")" "$id"
		assert_equal "$(jq -c .body <<<"$output")" '"{\"n\":1}"'
	done
}

@test "sfn: a Task's events:putEvents is routed by the server's rules (a rule put by the CLI)" {
	aws_cli sqs create-queue --queue-name got > /dev/null
	run aws_cli events put-rule --name r --event-pattern '{"source":["shop"]}'
	assert_success
	run aws_cli events put-targets --rule r --targets Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:got
	assert_success
	run sfn create-state-machine --name ev --type EXPRESS --role-arn arn:aws:iam::000000000000:role/r \
	    --definition '{"StartAt":"P","States":{"P":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","Parameters":{"Entries":[{"Source":"shop","DetailType":"Order","Detail.$":"$"}]},"End":true}}}'
	assert_success
	run sync_start "$SM:ev" '{"id":7}'
	assert_equal "$(jq -r .status <<<"$output")" SUCCEEDED
	run evq-recv -n 1 got
	assert_success
	assert_equal "$(jq -c '[.source, .detail]' <<<"$output")" '["shop",{"id":7}]'
}

@test "sfn: StartSyncExecution answers when an EXPRESS execution ends, output or error" {
	run sfn create-state-machine --name ex --type EXPRESS --role-arn arn:aws:iam::000000000000:role/r \
	    --definition '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"double","Next":"F"},"F":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":100,"Next":"Bad"}],"Default":"Ok"},"Ok":{"Type":"Succeed"},"Bad":{"Type":"Fail","Error":"TooBig","Cause":"over 100"}}}'
	assert_success
	run sync_start "$SM:ex" '{"n":4}'
	assert_success
	assert_equal "$output" '{"status": "SUCCEEDED", "output": "{\"n\":8}"}'
	run sync_start "$SM:ex" '{"n":400}'
	assert_equal "$output" '{"status": "FAILED", "error": "TooBig", "cause": "over 100"}'
	# A STANDARD machine is not for StartSyncExecution.
	run sync_start "$SM:hello" '{}'
	assert_equal "$output" '{"code": "StateMachineTypeNotSupported"}'
}

@test "sfn: CreateStateMachine checks as fnflow does (InvalidDefinition, same reason); machines survive a restart; DeleteStateMachine" {
	echo '{"StartAt":"X","States":{"Y":{"Type":"Pass","End":true}}}' > bad.json
	run -2 fnflow bad.json < /dev/null
	why=${output#*bad.json: }
	run sfn create-state-machine --name bad --definition file://bad.json --role-arn arn:aws:iam::000000000000:role/r
	assert_failure
	assert_output --partial "(InvalidDefinition)"
	assert_output --partial "$why"
	run sfn create-state-machine --name two --definition file://hello.json --role-arn arn:aws:iam::000000000000:role/r
	assert_success
	evkit_serve_stop
	SERVE_ARGS="-F double=jq:{n:(.n*2)}" evkit_serve_start "$EVKIT_HOME"
	run sfn list-state-machines
	assert_equal "$(jq -c '[.stateMachines[].name] | sort' <<<"$output")" '["hello","two"]'
	run sfn start-execution --state-machine-arn "$SM:two" --input '{}'
	arn=$(jq -r .executionArn <<<"$output")
	wait_for '[ "$(sfn describe-execution --execution-arn "$arn" | jq -r .status)" = SUCCEEDED ]' 20
	run sfn delete-state-machine --state-machine-arn "$SM:two"
	assert_success
	run sfn describe-state-machine --state-machine-arn "$SM:two"
	assert_output --partial "(StateMachineDoesNotExist)"
	[ ! -e "$EVKIT_HOME/statemachines/two.json" ]
}

@test "sfn: AWS's error shapes for bad requests" {
	run sfn start-execution --state-machine-arn "$SM:nope"
	assert_output --partial "(StateMachineDoesNotExist)"
	run sfn start-execution --state-machine-arn not-an-arn
	assert_output --partial "(InvalidArn)"
	run sfn start-execution --state-machine-arn "$SM:hello" --name 'bad name'
	assert_output --partial "(InvalidName)"
	run sfn create-state-machine --name 'no/slash' --definition file://hello.json --role-arn arn:aws:iam::000000000000:role/r
	assert_output --partial "(InvalidName)"
	run sfn start-execution --state-machine-arn "$SM:hello" --name once --input '{"wait":1}'
	run sfn start-execution --state-machine-arn "$SM:hello" --name once --input '{"other":1}'
	assert_output --partial "(ExecutionAlreadyExists)"
	run sfn describe-execution --execution-arn arn:aws:states:us-east-1:000000000000:execution:hello:none
	assert_output --partial "(ExecutionDoesNotExist)"
	run sfn start-execution --state-machine-arn "$SM:hello" --input 'not json'
	assert_output --partial "(InvalidExecutionInput)"
	run curl -s -w ' %{http_code}' -H 'X-Amz-Target: AWSStepFunctions.StartExecution' \
	    -H 'Content-Type: application/x-amz-json-1.0' -d '{}' "$SERVE_URL/"
	assert_equal "${output##* }" 400
	assert_equal "$(jq -r .__type <<<"${output% *}")" ValidationException
	run curl -s -w ' %{http_code}' -H 'X-Amz-Target: AWSStepFunctions.StartExecution' \
	    -H 'Content-Type: application/x-amz-json-1.0' -d '[' "$SERVE_URL/"
	assert_equal "${output##* }" 400
	# Still serving.
	run sfn list-state-machines
	assert_success
}

@test "sfn: a bad --machine is a usage error (exit 2) with fnflow's reason" {
	echo '{"StartAt":"X","States":{}}' > bad.json
	run -2 evkit-serve --listen 0 --machine bad=bad.json
	assert_output --partial "States"
	run -2 evkit-serve --listen 0 --machine nofile
	assert_output --partial "expected NAME=FILE"
}

@test "sfn: the JavaScript SDK v3 (@aws-sdk/client-sfn) creates, runs, waits and reads history" {
	[ -f "$TOP/tests/node_modules/@aws-sdk/client-sfn/package.json" ] ||
	    fail "@aws-sdk/client-sfn is not installed: npm ci --prefix tests"
	cat > s.mjs <<'EOF'
import { SFNClient, CreateStateMachineCommand, StartExecutionCommand, StartSyncExecutionCommand,
  DescribeExecutionCommand, GetExecutionHistoryCommand, StopExecutionCommand, ListExecutionsCommand,
  DescribeStateMachineCommand } from "SDK";
const c = new SFNClient({ endpoint: process.env.AWS_ENDPOINT_URL, disableHostPrefix: true });
const sm = "arn:aws:states:us-east-1:000000000000:stateMachine:";
const cr = await c.send(new CreateStateMachineCommand({ name: "js", type: "EXPRESS", roleArn: "arn:aws:iam::000000000000:role/r",
  definition: JSON.stringify({ StartAt: "T", States: { T: { Type: "Task", Resource: "double", End: true } } }) }));
const sync = await c.send(new StartSyncExecutionCommand({ stateMachineArn: cr.stateMachineArn, input: '{"n":5}' }));
const st = await c.send(new StartExecutionCommand({ stateMachineArn: sm + "hello", input: '{"wait":1}' }));
let d;
for (let i = 0; i < 200; i++) {
  const h = await c.send(new GetExecutionHistoryCommand({ executionArn: st.executionArn }));
  if (h.events.some(e => e.type === "WaitStateEntered")) break;
  await new Promise(r => setTimeout(r, 50));
}
await c.send(new StopExecutionCommand({ executionArn: st.executionArn }));
d = await c.send(new DescribeExecutionCommand({ executionArn: st.executionArn }));
const l = await c.send(new ListExecutionsCommand({ stateMachineArn: sm + "hello", statusFilter: "ABORTED" }));
const h = await c.send(new GetExecutionHistoryCommand({ executionArn: st.executionArn }));
let nf;
try { await c.send(new DescribeStateMachineCommand({ stateMachineArn: sm + "nope" })); } catch (e) { nf = [e.name, e.$metadata.httpStatusCode]; }
console.log(JSON.stringify({ sync: [sync.status, sync.output], dates: d.startDate instanceof Date && d.stopDate instanceof Date,
  stopped: d.status, listed: l.executions.length, last: h.events.at(-1).type, nf }));
EOF
	run --separate-stderr node --input-type=module -e "$(sed 's#"SDK"#"'"$TOP"'/tests/node_modules/@aws-sdk/client-sfn/dist-cjs/index.js"#' s.mjs)"
	assert_success "$stderr"
	assert_equal "$output" '{"sync":["SUCCEEDED","{\"n\":10}"],"dates":true,"stopped":"ABORTED","listed":1,"last":"ExecutionAborted","nf":["StateMachineDoesNotExist",400]}'
}
