#!/usr/bin/env bats
# fnflow: every state type, paths in order, Retry and Catch (timing and
# order, with --time-scale), Map and Parallel (ordering, failure,
# tolerated failures), the context object, Assign, validation errors
# (exit 2, the JSON path named), bad input lines, -e, -j.
load test_helper

# machine NAME JSON: the definition in NAME.json.
machine() {
	printf '%s\n' "$2" > "$1.json"
}

# A handler that fails with the typed error $1 (SPEC 5) and logs each call.
failer() {
	cat > fail.sh <<EOF
#!/bin/sh
cat > /dev/null
date +%s%N >> calls
printf '{"errorType":"$1","errorMessage":"it broke"}'
exit 1
EOF
	chmod +x fail.sh
}

@test "Pass: InputPath, Parameters, Result, ResultPath and OutputPath in the guide's order" {
	machine m '{"StartAt":"A","States":{
	  "A":{"Type":"Pass","InputPath":"$.in","Parameters":{"v.$":"$.x","k":"lit"},"ResultPath":"$.in.res","Next":"B"},
	  "B":{"Type":"Pass","Result":{"r":1},"ResultPath":"$.extra","OutputPath":"$.in","End":true}}}'
	run fnflow m.json <<< '{"in":{"x":5},"other":1}'
	assert_success
	assert_output '{"x":5,"res":{"v":5,"k":"lit"}}'
}

@test "ResultPath null keeps the input, InputPath null gives {}, OutputPath null gives {}" {
	machine m '{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Result":7,"ResultPath":null,"Next":"B"},
	  "B":{"Type":"Pass","InputPath":null,"ResultPath":"$.got","Next":"C"},
	  "C":{"Type":"Pass","OutputPath":null,"End":true}}}'
	run fnflow m.json <<< '{"a":1}'
	assert_success
	assert_output '{}'
	machine n '{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"ResultPath":"$.got","End":true}}}'
	run fnflow n.json <<< '{"a":1}'
	assert_output '{"a":1,"got":{}}'
}

@test "Choice: the first matching rule, then Default; no match is States.NoChoiceMatched" {
	machine m '{"StartAt":"C","States":{
	  "C":{"Type":"Choice","Choices":[
	    {"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"},
	    {"Variable":"$.n","NumericGreaterThan":5,"Next":"Mid"}],"Default":"Small"},
	  "Big":{"Type":"Pass","Result":"big","End":true},
	  "Mid":{"Type":"Pass","Result":"mid","End":true},
	  "Small":{"Type":"Pass","Result":"small","End":true}}}'
	run fnflow m.json <<< $'{"n":20}\n{"n":7}\n{"n":1}'
	assert_success
	assert_output $'"big"\n"mid"\n"small"'
	machine nd '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"S"}]},"S":{"Type":"Succeed"}}}'
	run fnflow -q nd.json <<< $'{"n":1}\n{"n":2}'
	assert_failure 1
	assert_line -n 0 '{"n":1}'
	assert_line -n 1 '{"Error":"States.NoChoiceMatched","Cause":"No Matches!"}'
}

@test "Succeed passes its input through its paths; Fail gives its Error and Cause, exit 1" {
	machine s '{"StartAt":"S","States":{"S":{"Type":"Succeed","InputPath":"$.a"}}}'
	run fnflow s.json <<< '{"a":[1]}'
	assert_success
	assert_output '[1]'
	machine f '{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Order.Invalid","Cause":"no items"}}}'
	run fnflow f.json <<< '{}'
	assert_failure 1
	assert_line -n 0 '{"Error":"Order.Invalid","Cause":"no items"}'
	assert_line -n 1 'fnflow: execution failed: Order.Invalid: no items'
}

@test "Fail: ErrorPath and CausePath from the input" {
	machine f '{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}'
	run fnflow -q f.json <<< '{"e":"My.Error","c":"because"}'
	assert_failure 1
	assert_output '{"Error":"My.Error","Cause":"because"}'
}

@test "Fail: CausePath may be an intrinsic function's call" {
	machine f '{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Order.Bad","CausePath":"States.Format('"'"'order {} has {} items'"'"', $.id, $.n)"}}}'
	run fnflow -q f.json <<< '{"id":"o-1","n":3}'
	assert_failure 1
	assert_output '{"Error":"Order.Bad","Cause":"order o-1 has 3 items"}'
}

@test "an intrinsic function's failure is States.Runtime, which no Catch catches, with the state named in the cause" {
	machine m '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"f",
	  "Parameters":{"x.$":"States.ArrayGetItem($.a, 5)"},
	  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"C"}],"End":true},
	  "C":{"Type":"Pass","End":true}}}'
	run fnflow -q -f 'f=jq:.' m.json <<< '{"a":[1]}'
	assert_failure 1
	assert_output '{"Error":"States.Runtime","Cause":"An error occurred while executing the state '"'"'T'"'"'. There was an error while evaluating the intrinsic function: States.ArrayGetItem($.a, 5). Invalid arguments in States.ArrayGetItem"}'
	run fnflow -q -f 'f=jq:.' m.json <<< '{"b":[1]}'
	assert_failure 1
	assert_output --partial '{"Error":"States.Runtime","Cause":"An error occurred while executing the state '"'"'T'"'"'. '
}

@test "Wait: Seconds and SecondsPath really wait, scaled by --time-scale; a past Timestamp does not" {
	machine w '{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"Next":"V"},
	  "V":{"Type":"Wait","SecondsPath":"$.s","Next":"T"},
	  "T":{"Type":"Wait","Timestamp":"2001-01-01T00:00:00Z","End":true}}}'
	local t0 t1
	t0=$(date +%s%N)
	run fnflow --time-scale 0.005 w.json <<< '{"s":100}'
	t1=$(date +%s%N)
	assert_success
	assert_output '{"s":100}'
	# 0.5 s + 0.5 s at the least
	[ $(( (t1 - t0) / 1000000 )) -ge 1000 ]
}

@test "Task: a jq: function's result through ResultSelector and ResultPath" {
	machine t '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:sum",
	  "ResultSelector":{"total.$":"$.s"},"ResultPath":"$.result","End":true}}}'
	run fnflow --function 'sum=jq:{s: (.xs | add)}' t.json <<< '{"xs":[1,2,3]}'
	assert_success
	assert_output '{"xs":[1,2,3],"result":{"total":6}}'
}

@test "Retry: MaxAttempts retries after IntervalSeconds times BackoffRate, then Catch with its ResultPath" {
	failer Custom.Oops
	machine r '{"StartAt":"T","States":{
	  "T":{"Type":"Task","Resource":"f","Retry":[
	    {"ErrorEquals":["Other"],"MaxAttempts":5},
	    {"ErrorEquals":["Custom.Oops"],"IntervalSeconds":10,"MaxAttempts":2,"BackoffRate":3}],
	   "Catch":[{"ErrorEquals":["Nope"],"Next":"X"},{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Comp"}],"End":true},
	  "X":{"Type":"Fail"},
	  "Comp":{"Type":"Pass","End":true}}}'
	run fnflow --time-scale 0.05 -f "f=exec:$PWD/fail.sh" r.json <<< '{"order":1}'
	assert_success
	assert_output '{"order":1,"error":{"Error":"Custom.Oops","Cause":"{\"errorType\":\"Custom.Oops\",\"errorMessage\":\"it broke\"}"}}'
	assert_equal "$(nlines calls)" 3
	# 10 s then 30 s, scaled: 0.5 s then 1.5 s
	local a b c
	{ read -r a; read -r b; read -r c; } < calls
	[ $(( (b - a) / 1000000 )) -ge 500 ]
	[ $(( (c - b) / 1000000 )) -ge 1500 ]
}

@test "Retry: MaxDelaySeconds caps the interval; MaxAttempts 0 never retries" {
	failer E
	machine r '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"f","Retry":[
	    {"ErrorEquals":["E"],"IntervalSeconds":20,"MaxAttempts":2,"BackoffRate":10,"MaxDelaySeconds":20}],"End":true}}}'
	local t0 t1
	t0=$(date +%s%N)
	run fnflow -q --time-scale 0.02 -f "f=exec:$PWD/fail.sh" r.json <<< '{}'
	t1=$(date +%s%N)
	assert_failure 1
	assert_equal "$(nlines calls)" 3
	# 0.4 s twice (without the cap: 0.4 s then 4 s)
	[ $(( (t1 - t0) / 1000000 )) -lt 3500 ]
	rm calls
	machine z '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"f","Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],"End":true}}}'
	run fnflow -q -f "f=exec:$PWD/fail.sh" z.json <<< '{}'
	assert_failure 1
	assert_equal "$(nlines calls)" 1
}

@test "States.TaskFailed catches a handler's error but not States.Timeout" {
	failer Custom.Any
	printf '#!/bin/sh\nsleep 5\n' > slow.sh && chmod +x slow.sh
	machine m '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"f","Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"C"}],"End":true},"C":{"Type":"Pass","Result":"caught","End":true}}}'
	run fnflow -f "f=exec:$PWD/fail.sh" m.json <<< '{}'
	assert_success
	assert_output '"caught"'
	machine t '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"f","TimeoutSeconds":1,"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"C"},{"ErrorEquals":["States.Timeout"],"Next":"D"}],"End":true},"C":{"Type":"Pass","Result":"caught","End":true},"D":{"Type":"Pass","Result":"timeout","End":true}}}'
	run fnflow -f "f=exec:$PWD/slow.sh" t.json <<< '{}'
	assert_success
	assert_output '"timeout"'
}

@test "Map: results in input order whatever the finishing order, MaxConcurrency, ItemSelector with the item's index" {
	machine m '{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":2,
	  "ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
	  "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.v","Next":"P"},"P":{"Type":"Pass","End":true}}},"End":true}}}'
	run fnflow --time-scale 0.01 m.json <<< '{"xs":[30,10,20,0]}'
	assert_success
	assert_output '[{"i":0,"v":30},{"i":1,"v":10},{"i":2,"v":20},{"i":3,"v":0}]'
}

@test "Map: a failed iteration fails the state unless tolerated; past the threshold, States.ExceedToleratedFailureThreshold" {
	machine m '{"StartAt":"M","States":{"M":{"Type":"Map","Iterator":{"StartAt":"C","States":{
	  "C":{"Type":"Choice","Choices":[{"Variable":"$","NumericGreaterThan":2,"Next":"F"}],"Default":"S"},
	  "F":{"Type":"Fail","Error":"TooBig","Cause":"over 2"},"S":{"Type":"Succeed"}}},"End":true}}}'
	run fnflow -q m.json <<< '[1,2,3]'
	assert_failure 1
	assert_output '{"Error":"TooBig","Cause":"over 2"}'
	jq -c '.States.M.ToleratedFailureCount = 1' m.json > t.json
	run fnflow -q t.json <<< $'[1,2,3]\n[3,4]'
	assert_failure 1
	assert_line -n 0 '[1,2,{"Error":"TooBig","Cause":"over 2"}]'
	assert_line -n 1 --partial '{"Error":"States.ExceedToleratedFailureThreshold"'
	jq -c '.States.M.ToleratedFailurePercentage = 50' m.json > p.json
	run fnflow -q p.json <<< $'[1,3]\n[1,3,4]'
	assert_line -n 0 '[1,{"Error":"TooBig","Cause":"over 2"}]'
	assert_line -n 1 --partial 'States.ExceedToleratedFailureThreshold'
}

@test "Parallel: branch results in branch order; a failed branch fails the state, caught by its Catch" {
	machine p '{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
	  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":50,"Next":"A"},"A":{"Type":"Pass","Result":"slow","End":true}}},
	  {"StartAt":"B","States":{"B":{"Type":"Pass","InputPath":"$.v","End":true}}}],"ResultPath":"$.r","End":true}}}'
	run fnflow --time-scale 0.01 p.json <<< '{"v":1}'
	assert_success
	assert_output '{"v":1,"r":["slow",1]}'
	machine f '{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
	  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}},
	  {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Branch.Broke","Cause":"b"}}}],
	  "Catch":[{"ErrorEquals":["Branch.Broke"],"Next":"C"}],"End":true},
	  "C":{"Type":"Pass","End":true}}}'
	# the waiting branch is stopped, not waited for
	run timeout 20 fnflow f.json <<< '{"v":1}'
	assert_success
	assert_output '{"Error":"Branch.Broke","Cause":"b"}'
}

@test "the context object: Execution, State, StateMachine names from --name, --state-machine-arn and the file" {
	machine order '{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{
	  "id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","input.$":"$$.Execution.Input",
	  "state.$":"$$.State.Name","retry.$":"$$.State.RetryCount","sm.$":"$$.StateMachine.Name",
	  "smid.$":"$$.StateMachine.Id"},"End":true}}}'
	run fnflow --name run1 order.json <<< '{"k":1}'
	assert_success
	assert_output '{"id":"arn:aws:states:us-east-1:000000000000:execution:order:run1","name":"run1","input":{"k":1},"state":"A","retry":0,"sm":"order","smid":"arn:aws:states:us-east-1:000000000000:stateMachine:order"}'
	run fnflow --name run --type EXPRESS --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:Orders order.json <<< $'{"k":1}\n{"k":2}'
	assert_success
	assert_line -n 1 '{"id":"arn:aws:states:eu-west-1:123456789012:express:Orders:run-2","name":"run-2","input":{"k":2},"state":"A","retry":0,"sm":"Orders","smid":"arn:aws:states:eu-west-1:123456789012:stateMachine:Orders"}'
	run fnflow order.json <<< '{}'
	assert_output --regexp '"name":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"'
}

@test "Assign: variables set by one state are read by the next, from their values before" {
	machine a '{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Assign":{"x":1,"y.$":"$.v"},"Next":"B"},
	  "B":{"Type":"Pass","Assign":{"x.$":"$y","y.$":"$x"},"Next":"C"},
	  "C":{"Type":"Pass","Parameters":{"x.$":"$x","y.$":"$y"},"End":true}}}'
	run fnflow a.json <<< '{"v":"vee"}'
	assert_success
	assert_output '{"x":"vee","y":1}'
}

@test "-e: DescribeExecution's envelope, succeeded and failed; TimeoutSeconds times the execution out" {
	machine e '{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":true,"Next":"S"}],"Default":"F"},
	  "S":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"Bad","Cause":"not ok"}}}'
	run fnflow -e --name x e.json <<< $'{"ok":true}\n{"ok":false}'
	assert_failure 1
	assert_equal "$(jq -c '[.executionArn, .name, .status, .output]' <<< "${lines[0]}")" \
	    '["arn:aws:states:us-east-1:000000000000:execution:e:x-1","x-1","SUCCEEDED","{\"ok\":true}"]'
	assert_equal "$(jq -c '[.status, .error, .cause, has("output"), (.startDate | test("^20..-..-..T..:..:..\\....Z$")), .stopDate >= .startDate]' <<< "${lines[1]}")" \
	    '["FAILED","Bad","not ok",false,true,true]'
	machine t '{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}'
	run timeout 20 fnflow -e t.json <<< '{}'
	assert_failure 1
	assert_equal "$(jq -c '[.status, .error]' <<< "$output")" '["TIMED_OUT","States.Timeout"]'
}

@test "-j: executions run at once, their outputs in input order" {
	machine w '{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}'
	local t0 t1
	t0=$(date +%s%N)
	run fnflow -j 4 --time-scale 0.01 w.json <<< $'{"s":100}\n{"s":50}\n{"s":0}\n{"s":100}'
	t1=$(date +%s%N)
	assert_success
	assert_output $'{"s":100}\n{"s":50}\n{"s":0}\n{"s":100}'
	# together about 1 s; one after the other 2.5 s
	[ $(( (t1 - t0) / 1000000 )) -lt 2400 ]
}

@test "a bad input line: what came before is printed, then FILE:LINE and exit 65; --errors goes on" {
	machine p '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'
	printf '{"a":1}\n{bad\n{"a":3}\n' > in
	run fnflow p.json in
	assert_failure 65
	assert_line -n 0 '{"a":1}'
	assert_line -n 1 --partial 'fnflow: in:2: '
	run fnflow --errors errs p.json in
	assert_success
	assert_output $'{"a":1}\n{"a":3}'
	assert_equal "$(nlines errs)" 1
}

# invalid MACHINE WANT: exit 2, nothing run, stderr names WANT.
invalid() {
	printf '%s\n' "$1" > bad.json
	run fnflow bad.json <<< '{}'
	assert_failure 2
	assert_output "fnflow: bad.json: $2"
}

@test "validation: missing fields, unknown fields, missing targets, unreachable states (exit 2, the JSON path named)" {
	invalid '{"States":{"A":{"Type":"Pass","End":true}}}' \
	    'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /'
	invalid '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Foo":1}}}' \
	    "SCHEMA_VALIDATION_FAILED: Field 'Foo' is not supported at /States/A"
	invalid '{"StartAt":"A","States":{"A":{"Type":"Pass","Retry":[],"End":true}}}' \
	    "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported at /States/A"
	invalid '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Z"}}}' \
	    "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/A/Next"
	invalid '{"StartAt":"Z","States":{"A":{"Type":"Pass","End":true}}}' \
	    "MISSING_TRANSITION_TARGET: Missing 'StartAt' target: Z at /StartAt"
	invalid '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Succeed"}}}' \
	    'MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B'
	invalid '{"StartAt":"A","States":{"A":{"Type":"Pass"}}}' \
	    'SCHEMA_VALIDATION_FAILED: Exactly one of these fields is required: [Next, End] at /States/A'
	invalid '{"StartAt":"A","States":{"A":{"Type":"Wrong","End":true}}}' \
	    'SCHEMA_VALIDATION_FAILED: Value is not a valid state type: Wrong at /States/A/Type'
	invalid '{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}],"End":true}}}' \
	    "MISSING_TRANSITION_TARGET: Missing 'Next' target: Y at /States/P/Branches/0/States/X/Next"
	invalid '{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],"End":true}}}' \
	    "SCHEMA_VALIDATION_FAILED: Duplicate State name: P at /States/P/Branches/0/States/P"
}

@test "validation: Retry and Catch fields, States.ALL last, Wait's one field, JSONata refused" {
	invalid '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}' \
	    'SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in the last ErrorEquals of its list at /States/T/Retry/0/ErrorEquals'
	invalid '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}' \
	    "SCHEMA_VALIDATION_FAILED: Field 'BackoffRate' must be between 1 and 1e+09 at /States/T/Retry/0"
	invalid '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["X"]}],"End":true}}}' \
	    'SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/T/Catch/0'
	invalid '{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}' \
	    'SCHEMA_VALIDATION_FAILED: A Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath at /States/W'
	invalid '{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}' \
	    'UNSUPPORTED_FEATURE: JSONata is not supported yet at /QueryLanguage'
	invalid '{"StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"JSONata","End":true}}}' \
	    'UNSUPPORTED_FEATURE: JSONata is not supported yet at /States/A/QueryLanguage'
	invalid '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}' \
	    'SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller than TimeoutSeconds at /States/A'
	printf 'not json' > nj.json
	run fnflow nj.json < /dev/null
	assert_failure 2
	assert_output --partial 'fnflow: nj.json: not a JSON definition'
}

@test "usage: no MACHINE, a bad --type, --state-machine-arn or --time-scale is exit 2" {
	run fnflow < /dev/null
	assert_failure 2
	machine p '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'
	run fnflow --type SLOW p.json < /dev/null
	assert_failure 2
	run fnflow --state-machine-arn arn:aws:sqs:x p.json < /dev/null
	assert_failure 2
	run fnflow --time-scale 0 p.json < /dev/null
	assert_failure 2
	run fnflow missing.json < /dev/null
	assert_failure 66
}

@test "the guide's ResultPath example: a task's result merged at \$.taskresult" {
	machine m '{"StartAt":"Hello","States":{"Hello":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:HelloFunction","ResultPath":"$.taskresult","End":true}}}'
	run fnflow -f 'HelloFunction=jq:"Hello, \(.who)!"' m.json <<< '{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}'
	assert_success
	assert_output '{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions","taskresult":"Hello, AWS Step Functions!"}'
}

@test "the guide's Map example: ItemSelector with \$\$.Map.Item.Value and a field of the state's input" {
	machine m '{"StartAt":"ProcessAllItems","States":{"ProcessAllItems":{"Type":"Map","InputPath":"$.detail","ItemsPath":"$.shipped","MaxConcurrency":0,
	  "ItemSelector":{"parcel.$":"$$.Map.Item.Value","courier.$":"$.delivery-partner"},
	  "ItemProcessor":{"StartAt":"Validate","States":{"Validate":{"Type":"Pass","Parameters":{"p.$":"$.parcel.prod","c.$":"$.courier"},"End":true}}},
	  "ResultPath":"$.detail.shipped","End":true}}}'
	run fnflow m.json <<< '{"ship-date":"2016-03-14T01:59:00Z","detail":{"delivery-partner":"UQS","shipped":[{"prod":"R31","dest-code":9511,"quantity":1344},{"prod":"S39","dest-code":9511,"quantity":40}]}}'
	assert_success
	assert_output '{"ship-date":"2016-03-14T01:59:00Z","detail":{"delivery-partner":"UQS","shipped":[{"p":"R31","c":"UQS"},{"p":"S39","c":"UQS"}]}}'
}

@test "the guide's ResultSelector example: Parameters, then ResultSelector on the task's result, under ResultPath" {
	machine m '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"emr","Parameters":{"ClusterId.$":"$.id","Step":"run"},
	  "ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"},"ResultPath":"$.EMROutput","End":true}}}'
	run fnflow -f 'emr=jq:{resourceType: "elasticmapreduce", output: {ClusterId: .ClusterId, Other: 1}}' m.json <<< '{"id":"AKIAI44QH8DHBEXAMPLE"}'
	assert_success
	assert_output '{"id":"AKIAI44QH8DHBEXAMPLE","EMROutput":{"ClusterId":"AKIAI44QH8DHBEXAMPLE","ResourceType":"elasticmapreduce"}}'
}

@test "a task result over 256 KiB is States.DataLimitExceeded, which States.ALL does not catch" {
	machine m '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"big","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}'
	run fnflow -q -f 'big=jq:[range(70000)] | map("abcd")' m.json <<< '{}'
	assert_failure 1
	assert_output --partial '{"Error":"States.DataLimitExceeded","Cause":"The state/task '"'"'big'"'"' returned a result with a size exceeding the maximum number of bytes service limit."}'
}

@test "States.DataLimitExceeded on every state's output, a Parallel's results past States.ALL" {
	jq -nc '{s: ("x" * 100000)}' > in
	# a Pass whose output is three times its 100 KB input
	machine m '{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s","c.$":"$.s"},"End":true}}}'
	run fnflow -q -e m.json in
	assert_failure 1
	assert_output --partial '"error":"States.DataLimitExceeded","cause":"The state/task '"'"'P'"'"' returned a result with a size exceeding the maximum number of bytes service limit."'
	# three branches of 100 KB each: the Parallel's result is over
	machine m '{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Branches":[
	  {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
	  {"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}},
	  {"StartAt":"D","States":{"D":{"Type":"Pass","End":true}}}],
	  "ResultPath":null,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}'
	run fnflow -q -e m.json in
	assert_failure 1
	assert_output --partial '"error":"States.DataLimitExceeded","cause":"The state/task '"'"'Par'"'"' returned a result with a size exceeding the maximum number of bytes service limit."'
	# just under the limit passes
	machine m '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'
	jq -nc '{s: ("x" * 262000)}' > edge
	fnflow m.json edge > out
	cmp out edge
}

@test "Retry and Catch on a Parallel state: a failing branch is retried as the whole state" {
	failer Flaky
	machine m '{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
	  {"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},
	  {"StartAt":"F","States":{"F":{"Type":"Task","Resource":"f","End":true}}}],
	  "Retry":[{"ErrorEquals":["Flaky"],"MaxAttempts":2,"IntervalSeconds":1}],
	  "Catch":[{"ErrorEquals":["Flaky"],"ResultPath":"$.failed","Next":"C"}],"End":true},
	  "C":{"Type":"Pass","OutputPath":"$.failed.Error","End":true}}}'
	run fnflow --time-scale 0.01 -f "f=exec:$PWD/fail.sh" m.json <<< '{}'
	assert_success
	assert_output '"Flaky"'
	assert_equal "$(nlines calls)" 3
}

@test "the whole context object: \$\$ gives Execution, State and StateMachine; a Map's ItemSelector adds Map.Item" {
	machine c '{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"c.$":"$$"},"OutputPath":"$.c","Next":"M"},
	  "M":{"Type":"Map","ItemsPath":"$.Execution.Input.xs","ItemSelector":{"all.$":"$$","sm.$":"$$.StateMachine.Name"},
	  "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}'
	run fnflow --name e c.json <<< '{"xs":[7]}'
	assert_success
	assert_equal "$(jq -c '.[0] | [(.all | keys), .all.Map.Item, .all.State.Name, .all.Execution.Name, .sm]' <<< "$output")" \
	    '[["Execution","Map","State","StateMachine"],{"Index":0,"Value":7},"M","e","c"]'
	assert_equal "$(jq -c '.[0].all.Execution | [.Id, .Input, .RoleArn, (.StartTime | test("^20..-..-..T..:..:..\\....Z$"))]' <<< "$output")" \
	    '["arn:aws:states:us-east-1:000000000000:execution:c:e",{"xs":[7]},"arn:aws:iam::000000000000:role/fnflow",true]'
}
