#!/usr/bin/env bats
# fnflow end to end with every kind of Task resource through the command
# itself: exec:, worker:, jq: and url: functions (the url: one served by
# fnrun --listen), lambda:invoke's wrapper, sqs:sendMessage read back by
# evq-recv, events:putEvents routed by a rules file into a queue; and
# intrinsic functions inside a machine's templates.
load test_helper

machine() {
	printf '%s\n' "$2" > "$1.json"
}

teardown() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	wait 2>/dev/null || true
}

@test "tasks: exec:, worker: and jq: functions in one machine, each result where ResultPath puts it" {
	printf '#!/bin/sh\njq -c "{sum: (.a + .b)}"\n' > add.sh
	chmod +x add.sh
	printf '#!/bin/sh\nwhile read -r l; do printf "%%s\\n" "$l" | jq -c "{twice: (.sum.sum * 2)}"; done\n' > dbl.sh
	chmod +x dbl.sh
	machine m '{"StartAt":"Add","States":{
	  "Add":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:add","ResultPath":"$.sum","Next":"Dbl"},
	  "Dbl":{"Type":"Task","Resource":"dbl","ResultPath":"$.dbl","Next":"Neg"},
	  "Neg":{"Type":"Task","Resource":"neg","InputPath":"$.dbl","ResultPath":"$.neg","End":true}}}'
	run --separate-stderr fnflow -j 2 -f "add=exec:$PWD/add.sh" -f "dbl=worker:$PWD/dbl.sh" \
	    -f 'neg=jq:{n: (0 - .twice)}' m.json <<< $'{"a":1,"b":2}\n{"a":10,"b":20}'
	assert_success
	assert_equal "$(sed -n 1p <<< "$output")" '{"a":1,"b":2,"sum":{"sum":3},"dbl":{"twice":6},"neg":{"n":-6}}'
	assert_equal "$(sed -n 2p <<< "$output")" '{"a":10,"b":20,"sum":{"sum":30},"dbl":{"twice":60},"neg":{"n":-60}}'
}

@test "tasks: a url: function served by fnrun --listen" {
	fnrun --listen 0 --jq '{statusCode: 200, body: (.body | fromjson | {echoed: .x} | tojson)}' 2> log &
	SRV=$!
	wait_for "grep -q 'listening on' log" 10 || { cat log; false; }
	url=$(sed -n 's/^fnrun: listening on //p' log)
	machine m '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"web","End":true}}}'
	run --separate-stderr fnflow -f "web=url:$url/fn" m.json <<< '{"x":"hi"}'
	assert_success
	assert_output '{"echoed":"hi"}'
}

@test "tasks: lambda:invoke gives Payload and StatusCode; a typed error is caught by its name" {
	printf '#!/bin/sh\ncat > /dev/null\nprintf %%s "{\\"errorType\\":\\"Card.Declined\\",\\"errorMessage\\":\\"no\\"}"\nexit 1\n' > charge.sh
	chmod +x charge.sh
	machine m '{"StartAt":"Get","States":{
	  "Get":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	    "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:get","Payload.$":"$"},
	    "ResultSelector":{"p.$":"$.Payload","code.$":"$.StatusCode"},"ResultPath":"$.got","Next":"Charge"},
	  "Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	    "Parameters":{"FunctionName":"charge","Payload.$":"$"},
	    "Catch":[{"ErrorEquals":["Other"],"Next":"No"},{"ErrorEquals":["Card.Declined"],"ResultPath":"$.err","Next":"Refund"}],"End":true},
	  "No":{"Type":"Fail"},
	  "Refund":{"Type":"Pass","Parameters":{"got.$":"$.got","error.$":"$.err.Error"},"End":true}}}'
	run --separate-stderr fnflow -f 'get=jq:{id: .id, ok: true}' -f "charge=exec:$PWD/charge.sh" m.json <<< '{"id":7}'
	assert_success
	assert_output '{"got":{"p":{"id":7,"ok":true},"code":200},"error":"Card.Declined"}'
}

@test "tasks: sqs:sendMessage sends to a local queue that evq-recv reads" {
	evq-ctl create jobs
	machine m '{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
	  "Parameters":{"QueueUrl":"jobs","MessageBody.$":"$.order"},"ResultSelector":{"md5.$":"$.MD5OfMessageBody","id.$":"$.MessageId"},"End":true}}}'
	run --separate-stderr fnflow m.json <<< '{"order":{"n":1}}'
	assert_success
	assert_equal "$(jq -r .md5 <<< "$output")" "$(printf '%s' '{"n":1}' | md5sum | cut -d' ' -f1)"
	id=$(jq -r .id <<< "$output")
	run evq-recv -e -n 1 jobs
	assert_equal "$(jq -r .messageId <<< "$output")" "$id"
	assert_equal "$(jq -c .body <<< "$output")" '"{\"n\":1}"'
	# a queue that is not there fails the task with SQS's error name
	machine n '{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
	  "Parameters":{"QueueUrl":"nosuch","MessageBody":"x"},"End":true}}}'
	run --separate-stderr fnflow -q n.json <<< '{}'
	assert_failure 1
	assert_equal "$(jq -r .Error <<< "$output")" SQS.QueueDoesNotExistException
}

@test "tasks: events:putEvents is routed by --rules into a queue; the answer has an EventId" {
	printf '{"rules":[{"name":"r","pattern":{"detail-type":["Order"]},"targets":[{"id":"q","uri":"queue:orders"}]}]}\n' > rules.json
	machine m '{"StartAt":"E","States":{"E":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents",
	  "Parameters":{"Entries":[{"Source":"shop","DetailType":"Order","Detail.$":"$"}]},"End":true}}}'
	run --separate-stderr fnflow --rules rules.json m.json <<< '{"n":5}'
	assert_success
	assert_equal "$(jq -c '[.FailedEntryCount, (.Entries[0].EventId | length > 0)]' <<< "$output")" '[0,true]'
	run evq-recv -n 1 orders
	assert_success
	assert_equal "$(jq -c '[.source, ."detail-type", .detail]' <<< "$output")" '["shop","Order",{"n":5}]'
}

@test "tasks: a function bound to nothing is refused before any input (exit 2)" {
	machine m '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"nobody","End":true}}}'
	run --separate-stderr fnflow m.json < /dev/null
	assert_failure 2
	assert_regex "$stderr" "nobody"
}

@test "intrinsics inside templates: Format, MathAdd, ArrayRange, StringSplit, Hash, JsonToString, UUID" {
	machine m '{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{
	  "greet.$":"States.Format('"'"'Hello, {} #{}'"'"', $.name, $.n)",
	  "next.$":"States.MathAdd($.n, 1)",
	  "range.$":"States.ArrayRange(1, 9, 4)",
	  "parts.$":"States.StringSplit($.csv, '"'"','"'"')",
	  "md5.$":"States.Hash($.name, '"'"'MD5'"'"')",
	  "json.$":"States.JsonToString($.obj)",
	  "len.$":"States.ArrayLength(States.StringSplit($.csv, '"'"','"'"'))",
	  "id.$":"States.UUID()"},"End":true}}}'
	run --separate-stderr fnflow m.json <<< '{"name":"Ann","n":41,"csv":"a,b,c","obj":{"k":[1,2]}}'
	assert_success
	assert_equal "$(jq -c 'del(.id)' <<< "$output")" \
	    "{\"greet\":\"Hello, Ann #41\",\"next\":42,\"range\":[1,5,9],\"parts\":[\"a\",\"b\",\"c\"],\"md5\":\"$(printf Ann | md5sum | cut -d' ' -f1)\",\"json\":\"{\\\"k\\\":[1,2]}\",\"len\":3}"
	assert_regex "$(jq -r .id <<< "$output")" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	# a failing call fails the execution with States.Runtime, naming the function
	machine bad '{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.ArrayRange(1, 5000, 1)"},"End":true}}}'
	run --separate-stderr fnflow -q bad.json <<< '{}'
	assert_failure 1
	assert_equal "$(jq -r .Error <<< "$output")" States.Runtime
	assert_regex "$(jq -r .Cause <<< "$output")" 'States.ArrayRange'
}
