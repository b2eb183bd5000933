#!/usr/bin/env bats
# fnflow --history and --resume: GetExecutionHistory's events in an event
# log; kill -9 in the middle of a run, then --resume completes every
# execution without running a recorded success again.
load test_helper

# task NAME FIELD: a process handler that logs "NAME ID" per call, takes
# a moment, and adds {FIELD: 1} to its input.
task() {
	cat > "$1.sh" <<EOF
#!/bin/sh
in=\$(cat)
echo "$1 \$(printf '%s' "\$in" | jq .id)" >> $PWD/calls
sleep 0.2
printf '%s' "\$in" | jq -c '. + {"$2": 1}'
EOF
	chmod +x "$1.sh"
}

setup_machine() {
	task t1 a
	task t2 b
	cat > m.json <<'EOF'
{"StartAt": "T1", "States": {
  "T1": {"Type": "Task", "Resource": "t1", "Next": "Count"},
  "Count": {"Type": "Pass", "Assign": {"seen.$": "$.id"}, "Next": "W"},
  "W": {"Type": "Wait", "Seconds": 20, "Next": "T2"},
  "T2": {"Type": "Task", "Resource": "t2", "Next": "Done"},
  "Done": {"Type": "Pass", "Parameters": {"id.$": "$.id", "a.$": "$.a", "b.$": "$.b", "seen.$": "$seen"}, "End": true}}}
EOF
	fns=(-f "t1=exec:$PWD/t1.sh" -f "t2=exec:$PWD/t2.sh")
}

@test "--history: every event with GetExecutionHistory's types, ids and fields, one stream per execution" {
	setup_machine
	run fnflow --history h --name run --time-scale 0.01 "${fns[@]}" m.json <<< $'{"id":1}\n{"id":2}'
	assert_success
	assert_line -n 0 '{"id":1,"a":1,"b":1,"seen":1}'
	run sh -c "evlog-read h | jq -c 'select(.stream | endswith(\":run-1\")) | .event.type'"
	assert_output "$(printf '"%s"\n' ExecutionStarted TaskStateEntered TaskScheduled TaskStarted \
	    TaskSucceeded TaskStateExited PassStateEntered PassStateExited WaitStateEntered \
	    WaitStateExited TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited \
	    PassStateEntered PassStateExited ExecutionSucceeded)"
	run sh -c "evlog-read h | jq -c 'select(.stream | endswith(\":run-2\")) | .event | [.id, .previousEventId]' | jq -sc ."
	assert_output '[[1,0],[2,1],[3,2],[4,3],[5,4],[6,5],[7,6],[8,7],[9,8],[10,9],[11,10],[12,11],[13,12],[14,13],[15,14],[16,15],[17,16],[18,17]]'
	run sh -c "evlog-read h | jq -c 'select(.stream | endswith(\":run-1\")) | .event | select(.type == \"PassStateExited\") | .stateExitedEventDetails' | head -1"
	assert_output '{"name":"Count","output":"{\"id\":1,\"a\":1}","outputDetails":{"truncated":false},"assignedVariables":{"seen":"1"}}'
	run sh -c "evlog-read h | jq -c '.event | select(.type == \"ExecutionSucceeded\") | .executionSucceededEventDetails.output'"
	assert_line -n 1 '"{\"id\":2,\"a\":1,\"b\":1,\"seen\":2}"'
}

@test "kill -9 mid-run: --resume finishes every execution, no recorded success runs again, the history ends as a clean run" {
	setup_machine
	for i in 1 2 3 4 5 6; do echo "{\"id\":$i}"; done > in
	fnflow -j 6 --history h --name run --time-scale 0.05 "${fns[@]}" m.json in > out1 &
	local pid=$!
	# kill once some executions wait after T1 and none has ended (all six
	# have started: an input line not yet read is not an execution)
	wait_for "[ \$(grep -c '^t1' calls 2>/dev/null || echo 0) -ge 3 ]" 30
	wait_for "[ \$(evlog-read h 2>/dev/null | grep -c WaitStateEntered) -ge 2 ]" 30
	kill -9 "$pid"
	wait "$pid" || true
	evlog-read h | jq -r '.event | select(.type == "TaskSucceeded") | .taskSucceededEventDetails.output | fromjson |
	    "\(if has("b") then "t2" else "t1" end) \(.id)"' | sort > recorded
	[ -s recorded ]
	run fnflow --history h --resume --time-scale 0.05 "${fns[@]}" m.json
	assert_success
	cat out1 > all
	printf '%s\n' "$output" >> all
	# every execution finished once, whichever run printed it
	assert_equal "$(jq -c . all | sort)" "$(for i in 1 2 3 4 5 6; do echo "{\"id\":$i,\"a\":1,\"b\":1,\"seen\":$i}"; done)"
	# a task whose success was recorded before the kill ran once
	while read -r t id; do
		assert_equal "$t $id: $(grep -c "^$t $id\$" calls)" "$t $id: 1"
	done < recorded
	# one ExecutionSucceeded per execution, with a clean run's output
	run sh -c "evlog-read h | jq -r '.event | select(.type == \"ExecutionSucceeded\") | .executionSucceededEventDetails.output' | sort"
	assert_output "$(for i in 1 2 3 4 5 6; do echo "{\"id\":$i,\"a\":1,\"b\":1,\"seen\":$i}"; done)"
	# nothing is left to resume
	run fnflow --history h --resume "${fns[@]}" m.json
	assert_success
	assert_output ''
}

@test "--resume needs --history and reads no FILE" {
	echo '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}' > p.json
	run fnflow --resume p.json
	assert_failure 2
	run fnflow --resume --history h p.json in
	assert_failure 2
}

@test "SIGTERM stops at once, leaving a long Wait in the history; --resume waits only what is left of it" {
	cat > w.json <<'EOF'
{"StartAt": "A", "States": {
  "A": {"Type": "Pass", "Result": "before", "ResultPath": "$.a", "Next": "W"},
  "W": {"Type": "Wait", "Seconds": 300, "Next": "B"},
  "B": {"Type": "Pass", "Result": "after", "ResultPath": "$.b", "End": true}}}
EOF
	fnflow --history h --time-scale 0.01 w.json <<< '{"id":1}' > out1 &
	local pid=$! st=0
	wait_for "evlog-read h 2>/dev/null | grep -q WaitStateEntered" 20
	kill -TERM "$pid"
	wait "$pid" || st=$?
	assert_equal "$st" 143
	assert_equal "$(cat out1)" ''
	# the wait is 3 s scaled, from its recorded entry; a second of it is
	# gone before --resume, which waits the rest, not 3 s again
	local entered t0 t1
	entered=$(evlog-read h | jq -r '.event | select(.type == "WaitStateEntered") | .timestamp')
	entered=$(( $(date -d "$entered" +%s%N) / 1000000 ))
	wait_for "[ \$(( \$(date +%s%N) / 1000000 - $entered )) -ge 1000 ]" 10
	t0=$(( $(date +%s%N) / 1000000 ))
	run fnflow --history h --resume --time-scale 0.01 w.json
	t1=$(( $(date +%s%N) / 1000000 ))
	assert_success
	assert_output '{"id":1,"a":"before","b":"after"}'
	[ "$t1" -ge $(( entered + 2900 )) ]
	[ $(( t1 - t0 )) -lt 2900 ]
}

# A Parallel of a Map of tasks (two at a time) and a task: each call is
# logged as "t ID ITEM" or "u ID".
setup_fanout() {
	cat > t.sh <<EOF
#!/bin/sh
in=\$(cat)
echo "t \$(printf '%s' "\$in" | jq -r '"\(.id) \(.item)"')" >> $PWD/calls
sleep 0.3
printf '%s' "\$in" | jq -c '. + {"done": 1}'
EOF
	cat > u.sh <<EOF
#!/bin/sh
in=\$(cat)
echo "u \$(printf '%s' "\$in" | jq .id)" >> $PWD/calls
sleep 0.5
printf '%s' "\$in" | jq -c '{id, u: 1}'
EOF
	chmod +x t.sh u.sh
	cat > f.json <<'EOF'
{"StartAt": "Par", "States": {
  "Par": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
      "ItemSelector": {"id.$": "$.id", "item.$": "$$.Map.Item.Value"},
      "ItemProcessor": {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "t", "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"id.$": "$.id", "item.$": "$.item", "done.$": "$.done"}, "End": true}}},
      "End": true}}},
    {"StartAt": "U", "States": {"U": {"Type": "Task", "Resource": "u", "End": true}}}]}}}
EOF
	fns=(-f "t=exec:$PWD/t.sh" -f "u=exec:$PWD/u.sh")
	for i in 1 2 3; do echo "{\"id\":$i,\"items\":[1,2,3,4,5,6]}"; done > in
	for i in 1 2 3; do
		jq -nc --argjson i "$i" '[[range(1;7) | {id: $i, item: ., done: 1}], {id: $i, u: 1}]'
	done > expected
}

# Lines "t ID ITEM" / "u ID" of the tasks whose success the log holds.
recorded_tasks() {
	evlog-read h | jq -r '.event | select(.type == "TaskSucceeded") |
	    .taskSucceededEventDetails.output | fromjson |
	    if has("u") then "u \(.id)" else "t \(.id) \(.item)" end' | sort
}

@test "kill -9 inside a Parallel's Map, twice: --resume keeps finished iterations and branches, runs no recorded task again" {
	setup_fanout
	fnflow -j 3 --history h "${fns[@]}" f.json in > out1 &
	local pid=$!
	wait_for "[ \$(evlog-read h 2>/dev/null | grep -c MapIterationSucceeded) -ge 3 ]" 60
	kill -9 "$pid"
	wait "$pid" || true
	cp calls calls1
	recorded_tasks > rec1
	[ -s rec1 ]
	# a second kill, in the middle of the first --resume
	local before; before=$(wc -l < calls)
	fnflow --history h --resume "${fns[@]}" f.json > out2 &
	pid=$!
	wait_for "[ \$(wc -l < calls) -ge $((before + 3)) ]" 60
	kill -9 "$pid"
	wait "$pid" || true
	tail -n +$((before + 1)) calls > calls2
	recorded_tasks > rec2
	run fnflow --history h --resume "${fns[@]}" f.json
	assert_success
	{ cat out1 out2; printf '%s\n' "$output"; } | grep . > all
	assert_equal "$(jq -c . all | sort)" "$(sort expected)"
	# every task ran; one whose success was recorded before a kill ran
	# exactly once; one running at a kill ran once more for each such kill
	local call n max
	for i in 1 2 3; do
		for j in 1 2 3 4 5 6; do echo "t $i $j"; done
		echo "u $i"
	done > every
	while read -r call; do
		n=$(grep -c "^$call\$" calls)
		max=1
		grep -qx "$call" calls1 && ! grep -qx "$call" rec1 && max=$((max + 1))
		grep -qx "$call" calls2 && ! grep -qx "$call" rec2 && max=$((max + 1))
		grep -qx "$call" rec1 && max=1
		[ "$n" -ge 1 ] && [ "$n" -le "$max" ] || fail "$call ran $n times (at most $max)"
	done < every
	# one ExecutionSucceeded each, with a clean run's output
	run sh -c "evlog-read h | jq -c '.event | select(.type == \"ExecutionSucceeded\") | .executionSucceededEventDetails.output | fromjson' | sort"
	assert_output "$(sort expected)"
	run fnflow --history h --resume "${fns[@]}" f.json
	assert_success
	assert_output ''
}

@test "kill -9 in a Map of Maps with tolerated failures: --resume keeps each failed iteration's error and each nested one's result" {
	cat > v.sh <<EOF
#!/bin/sh
in=\$(cat)
echo "v \$in" >> $PWD/calls
sleep 0.2
case \$in in *'"b":2'*) printf '{"errorType":"Odd","errorMessage":"b is 2"}'; exit 1 ;; esac
printf '%s' "\$in"
EOF
	chmod +x v.sh
	cat > n.json <<'EOF'
{"StartAt": "Outer", "States": {
  "Outer": {"Type": "Map", "MaxConcurrency": 2, "End": true,
    "ItemSelector": {"a.$": "$$.Map.Item.Value", "bs": [1, 2, 3]},
    "ItemProcessor": {"StartAt": "Inner", "States": {
      "Inner": {"Type": "Map", "ItemsPath": "$.bs", "MaxConcurrency": 1, "ToleratedFailureCount": 5,
        "ItemSelector": {"a.$": "$.a", "b.$": "$$.Map.Item.Value"}, "End": true,
        "ItemProcessor": {"StartAt": "V", "States": {"V": {"Type": "Task", "Resource": "v", "End": true}}}}}}}}}
EOF
	echo '[1,2,3,4]' > in
	fnflow --history h -f "v=exec:$PWD/v.sh" n.json in > out1 &
	local pid=$!
	wait_for "[ \$(evlog-read h 2>/dev/null | grep -c MapIterationFailed) -ge 1 ] && [ \$(wc -l < calls) -ge 4 ]" 60
	kill -9 "$pid"
	wait "$pid" || true
	evlog-read h | jq -r '.event | select(.type == "TaskSucceeded") | "v " + .taskSucceededEventDetails.output' | sort > rec
	run fnflow --history h --resume -f "v=exec:$PWD/v.sh" n.json
	assert_success
	local err='{"Error":"Odd","Cause":"{\"errorType\":\"Odd\",\"errorMessage\":\"b is 2\"}"}'
	assert_equal "$(cat out1; printf '%s\n' "$output")" \
	    "$(jq -nc --argjson e "$err" '[range(1;5) as $a | [{a: $a, b: 1}, $e, {a: $a, b: 3}]]')"
	# a recorded success ran once; none ran more than twice
	while read -r call; do
		assert_equal "$call: $(grep -cxF "$call" calls)" "$call: 1"
	done < rec
	[ "$(sort calls | uniq -c | awk '$1 > 2' | wc -l)" -eq 0 ]
	[ "$(sort -u calls | wc -l)" -eq 12 ]
	# each task's events name its frame: outer iteration, inner iteration
	run sh -c "evlog-read h | jq -c '.event | select(.type == \"TaskScheduled\") | [.evkitFrame, (.taskScheduledEventDetails.parameters | fromjson | [.a - 1, .b - 1])] | select(.[0] != .[1])'"
	assert_output ''
	run sh -c "evlog-read h | jq -c '.event | select(.type == \"TaskScheduled\") | .evkitFrame' | sort -u | wc -l"
	assert_output 12
}
