#!/usr/bin/env bats
# evbus-route -r: the rules file, every target, input shaping, retries,
# dead letters, --explain, --archive, bad input, and event data that must
# never run.
load test_helper

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	export EVBUS_RETRY_BASE_MS=1
	cd "$BATS_TEST_TMPDIR" || return 1
}

# rules FILE: one rule "r" matching {"t":["x"]} with the targets given as
# JSON text in $2.
rule1() {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[%s]}]}\n' "$2" > "$1"
}

# bad_rules 'JSON' 'expected message': exit 2, the message on stderr,
# nothing read from stdin.
bad_rules() {
	printf '%s\n' "$1" > bad.json
	run --separate-stderr evbus-route -r bad.json < /dev/null
	assert_failure 2
	assert_regex "$stderr" "$2"
	assert_output ''
}

events3() {
	printf '{"t":"x","n":1}\n{"t":"y","n":2}\n{"t":"x","n":3}\n'
}

@test "stdout: target prints the matched events in input order" {
	rule1 r.json '{"id":"s","uri":"stdout:"}'
	run --separate-stderr evbus-route -r r.json < <(events3)
	assert_success
	assert_output $'{"t":"x","n":1}\n{"t":"x","n":3}'
}

@test "no event matched is still exit 0 in rules mode" {
	rule1 r.json '{"id":"s","uri":"stdout:"}'
	run evbus-route -r r.json <<< '{"t":"z"}'
	assert_success
	assert_output ''
}

@test "a rule's pattern keeps its numbers exact, as -p does" {
	printf '%s\n' '{"rules":[{"name":"big","pattern":{"n":[9007199254740993]},"targets":[{"id":"o","uri":"stdout:"}]}]}' > r.json
	run --separate-stderr evbus-route -r r.json < <(printf '{"n":9007199254740993}\n{"n":9007199254740992}\n')
	assert_success
	assert_output '{"n":9007199254740993}'
}

@test "an exec: target past its timeout is killed, group and all, and dead-lettered as TIMEOUT" {
	rule1 r.json '{"id":"slow","uri":"exec:sh -c \"sleep 30 & echo $! > bg.pid; sleep 30\"","timeout":1,"retry":{"attempts":0,"max_age":60},"dead_letter":"file:dlq.ndjson"}'
	start=$(date +%s)
	run --separate-stderr evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	[ $(( $(date +%s) - start )) -lt 25 ]
	run jq -r '.ERROR_CODE + " " + .ERROR_MESSAGE' dlq.ndjson
	assert_output 'TIMEOUT timed out after 1 seconds'
	wait_for '! kill -0 "$(cat bg.pid)" 2>/dev/null' 5
}

@test "timeout and concurrency belong to exec: targets only" {
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"f","uri":"file:x","timeout":5}]}]}' \
	    'targets\[0\]\.timeout: only exec: and http targets take a timeout'
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"e","uri":"exec:true","timeout":0}]}]}' \
	    'timeout: must be a whole number from 1 to 86400'
}

@test "file: target appends" {
	rule1 r.json '{"id":"f","uri":"file:out.ndjson"}'
	echo '{"old":1}' > out.ndjson
	events3 | evbus-route -r r.json
	run cat out.ndjson
	assert_output $'{"old":1}\n{"t":"x","n":1}\n{"t":"x","n":3}'
}

@test "queue: target sends through the queue library, creating the queue" {
	rule1 r.json '{"id":"q","uri":"queue:orders"}'
	events3 | evbus-route -r r.json
	run evq-recv orders
	assert_output $'{"t":"x","n":1}\n{"t":"x","n":3}'
}

@test "log: target appends to an event log, one stream per rule" {
	rule1 r.json '{"id":"l","uri":"log:audit"}'
	events3 | evbus-route -r r.json
	run evlog-read --events audit
	assert_output $'{"t":"x","n":1}\n{"t":"x","n":3}'
	run evlog-read audit
	assert_line --index 0 --partial '"stream":"r"'
}

@test "exec: target gets each payload on stdin, one child per event" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat >> got; echo run >> runs'"'"'"}'
	events3 | evbus-route -r r.json
	run cat got
	assert_output $'{"t":"x","n":1}\n{"t":"x","n":3}'
	assert_equal "$(nlines runs)" 2
}

@test "exec: output goes to stderr, so stdout stays NDJSON" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat > /dev/null; echo hello; echo oops >&2'"'"'"},{"id":"s","uri":"stdout:"}'
	run --separate-stderr evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	assert_output '{"t":"x"}'
	assert_equal "$stderr" $'hello\noops'
}

@test "several targets per rule and several rules per event" {
	cat > r.json <<'EOF'
{"rules":[
 {"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"file:a1"},{"id":"2","uri":"file:a2"}]},
 {"name":"b","pattern":{"n":[{"numeric":[">",1]}]},"targets":[{"id":"1","uri":"file:b1"}]}
]}
EOF
	events3 | evbus-route -r r.json
	assert_equal "$(cat a1)" $'{"t":"x","n":1}\n{"t":"x","n":3}'
	assert_equal "$(cat a2)" "$(cat a1)"
	assert_equal "$(cat b1)" $'{"t":"y","n":2}\n{"t":"x","n":3}'
}

@test "a DISABLED rule delivers nothing" {
	cat > r.json <<'EOF'
{"rules":[
 {"name":"on","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"file:on"}]},
 {"name":"off","state":"DISABLED","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"file:off"}]}
]}
EOF
	events3 | evbus-route -r r.json
	assert_equal "$(nlines on)" 2
	assert_file_not_exists off
	run evbus-route -r r.json --explain <<< '{"t":"x"}'
	assert_output '{"event":{"t":"x"},"rules":["on"]}'
}

@test "input: a constant JSON payload instead of the event" {
	rule1 r.json '{"id":"s","uri":"stdout:","input":{"hello":"world"}}'
	run evbus-route -r r.json < <(events3)
	assert_output $'{"hello":"world"}\n{"hello":"world"}'
}

@test "--explain prints the matched rule names per event, in file order, and delivers nothing" {
	cat > r.json <<'EOF'
{"rules":[
 {"name":"second","pattern":{"n":[3]},"targets":[{"id":"1","uri":"file:f"}]},
 {"name":"first","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"file:f"}]}
]}
EOF
	run evbus-route -r r.json --explain < <(events3)
	assert_success
	assert_output - <<'EOF'
{"event":{"t":"x","n":1},"rules":["first"]}
{"event":{"t":"y","n":2},"rules":[]}
{"event":{"t":"x","n":3},"rules":["second","first"]}
EOF
	assert_file_not_exists f
}

@test "--archive commits every event to a log first; evlog-read replays them" {
	rule1 r.json '{"id":"f","uri":"file:live"}'
	events3 | evbus-route -r r.json --archive arch
	run evlog-read --events arch
	assert_output "$(events3)"
	evlog-read --events arch | evbus-route -r r.json
	assert_equal "$(nlines live)" 4
}

@test "--archive holds events in the log before any target sees them" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat > /dev/null; evlog-read --events arch > seen'"'"'"}'
	evbus-route -r r.json --archive arch <<< '{"t":"x","n":7}'
	assert_equal "$(cat seen)" '{"t":"x","n":7}'
}

@test "retry then success: an exec target that fails twice" {
	cat > flaky <<'EOF'
#!/bin/sh
n=$(cat count 2>/dev/null || echo 0)
echo $((n + 1)) > count
cat > /dev/null
[ "$n" -ge 2 ]
EOF
	chmod +x flaky
	rule1 r.json '{"id":"e","uri":"exec:./flaky","retry":{"attempts":2}}'
	run evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	assert_equal "$(cat count)" 3
}

@test "retries exhausted go to a file: dead letter with the error, rule and target" {
	rule1 r.json '{"id":"e","uri":"exec:false","retry":{"attempts":2},"dead_letter":"file:dl"}'
	run evbus-route -r r.json <<< '{"t":"x","id":"ev1"}'
	assert_success
	run jq -c '[.RULE_ARN, .TARGET_ARN, .TARGET_ID, .ERROR_CODE, .ERROR_MESSAGE,
	    .EXHAUSTED_RETRY_CONDITION, .RETRY_ATTEMPTS, .event.id]' dl
	assert_output '["arn:aws:events:local:000000000000:rule/r","exec:false","e","TARGET_ERROR","exit status 1","MaximumRetryAttempts",2,"ev1"]'
}

@test "retries exhausted go to a queue: dead letter as the event with message attributes" {
	rule1 r.json '{"id":"e","uri":"exec:false","retry":{"attempts":1},"dead_letter":"queue:dlq"}'
	run evbus-route -r r.json <<< '{"t":"x","id":"ev1"}'
	assert_success
	run sh -c 'evq-recv -e dlq | jq -c "[.body, (.messageAttributes | map_values(.stringValue))]"'
	assert_output '["{\"t\":\"x\",\"id\":\"ev1\"}",{"ERROR_CODE":"TARGET_ERROR","ERROR_MESSAGE":"exit status 1","EXHAUSTED_RETRY_CONDITION":"MaximumRetryAttempts","RETRY_ATTEMPTS":"1","RULE_ARN":"arn:aws:events:local:000000000000:rule/r","TARGET_ARN":"exec:false","TARGET_ID":"e"}]'
}

@test "no dead letter: the failure is on stderr and the exit status is 69" {
	rule1 r.json '{"id":"e","uri":"exec:false","retry":{"attempts":0}},{"id":"f","uri":"file:ok"}'
	run --separate-stderr evbus-route -r r.json < <(events3)
	assert_failure 69
	assert_regex "$stderr" "rule 'r' target 'e': delivery failed \(MaximumRetryAttempts\): TARGET_ERROR: exit status 1"
	assert_equal "$(nlines ok)" 2
}

@test "a command that does not exist goes to the dead letter at once (NO_RESOURCE)" {
	skip_under_tsan
	rule1 r.json '{"id":"e","uri":"exec:./nope","retry":{"attempts":5},"dead_letter":"file:dl"}'
	run evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS, has("EXHAUSTED_RETRY_CONDITION")]' dl
	assert_output '["NO_RESOURCE",0,false]'
}

@test "a command that is not executable goes to the dead letter at once (NO_PERMISSIONS)" {
	skip_under_tsan
	echo 'exit 0' > noexec
	chmod 0644 noexec
	rule1 r.json '{"id":"e","uri":"exec:./noexec","dead_letter":"file:dl"}'
	run evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	run jq -r .ERROR_CODE dl
	assert_output 'NO_PERMISSIONS'
}

@test "a payload the target refuses goes to the dead letter at once" {
	rule1 r.json '{"id":"l","uri":"log:lg","input":[1,2],"dead_letter":"file:dl"}'
	run evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS]' dl
	assert_output '["INVALID_PARAMETER",0]'
}

@test "a file: target that cannot be written is retried, then dead-lettered" {
	rule1 r.json '{"id":"f","uri":"file:/dev/full","retry":{"attempts":1},"dead_letter":"file:dl"}'
	run evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	run jq -c '[.ERROR_CODE, .RETRY_ATTEMPTS, .EXHAUSTED_RETRY_CONDITION]' dl
	assert_output '["IO_ERROR",1,"MaximumRetryAttempts"]'
}

@test "exec: concurrency > 1 runs children at once, started in input order" {
	# $$ is each child's pid: in start order, the pids increase
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'read l; echo \"$$ $l\" >> started; sleep 0.5'"'"'","concurrency":4}'
	seq 1 8 | sed 's/.*/{"t":"x","n":&}/' > in
	SECONDS=0
	evbus-route -r r.json in
	[ "$SECONDS" -lt 3 ]
	assert_equal "$(sort -n started | cut -d' ' -f2 | jq -c .n | tr '\n' ' ')" '1 2 3 4 5 6 7 8 '
}

@test "a slow exec: target does not reorder its events" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'read l; case $l in *\"n\":1,*) sleep 0.3;; esac; echo \"$l\" >> got'"'"'"}'
	printf '{"t":"x","n":1,"p":0}\n{"t":"x","n":2,"p":0}\n{"t":"x","n":3,"p":0}\n' | evbus-route -r r.json
	assert_equal "$(jq -c .n got | tr '\n' ' ')" '1 2 3 '
}

@test "event data never runs: \$(...) and ; in the event and the payload" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat > /dev/null'"'"'"},{"id":"c","uri":"exec:cat","input_path":"$.a"},{"id":"t","uri":"exec:cat","input_transformer":{"input_paths_map":{"c":"$.c"},"input_template":"x <c> y"}},{"id":"f","uri":"file:f"}'
	printf '%s\n' '{"t":"x","a":"$(touch pwned1)","b":"`touch pwned2`","c":";touch pwned3","d":"| touch pwned4"}' |
	    evbus-route -r r.json > /dev/null 2>&1
	run ls
	refute_output --partial pwned
	assert_equal "$(nlines f)" 1
}

@test "a bad event line: exit 65 after routing everything before it" {
	rule1 r.json '{"id":"f","uri":"file:f"},{"id":"q","uri":"queue:q"}'
	run --separate-stderr evbus-route -r r.json < <(printf '{"t":"x","n":1}\n{"t":"x",\n{"t":"x","n":3}\n')
	assert_failure 65
	assert_regex "$stderr" '<stdin>:2: '
	assert_equal "$(cat f)" '{"t":"x","n":1}'
	assert_equal "$(evq-recv q)" '{"t":"x","n":1}'
}

@test "a bad event line with --errors is recorded and the rest routed" {
	rule1 r.json '{"id":"f","uri":"file:f"}'
	run evbus-route -r r.json --errors errs < <(printf '{"t":"x","n":1}\n[1]\n{"t":"x","n":3}\n')
	assert_success
	assert_equal "$(nlines f)" 2
	run jq -c '[.line, .input]' errs
	assert_output '[2,"[1]"]'
}

@test "kill -9 mid-stream leaves queue and log targets with whole batches only" {
	rule1 r.json '{"id":"q","uri":"queue:q"},{"id":"l","uri":"log:lg"}'
	mkfifo in
	pad=$(printf '%0200d' 0)
	(for i in $(seq 1 50000); do echo "{\"t\":\"x\",\"n\":$i,\"pad\":\"$pad\"}"; done > in) 3>&- 2>/dev/null &
	wpid=$!
	evbus-route -r r.json < in 3>&- &
	pid=$!
	wait_for '[ "$(evlog-read --events lg 2>/dev/null | wc -l)" -gt 100 ]'
	kill -9 "$pid"
	wait "$pid" || true
	wait "$wpid" || true
	run evlog-read --verify lg
	assert_success
	# every message and record whole, a prefix of the input in order
	evq-recv q > got
	evlog-read --events lg > lgot
	[ "$(nlines lgot)" -lt 50000 ]
	[ "$(jq -c .n got | tr '\n' ' ')" = "$(seq 1 "$(nlines got)" | tr '\n' ' ')" ]
	[ "$(jq -c .n lgot | tr '\n' ' ')" = "$(seq 1 "$(nlines lgot)" | tr '\n' ' ')" ]
}

@test "SIGTERM: stops reading, delivers what was read, dies by the signal" {
	rule1 r.json '{"id":"f","uri":"file:f"}'
	mkfifo in
	evbus-route -r r.json < in 3>&- &
	pid=$!
	exec 4> in
	echo '{"t":"x","n":1}' >&4
	wait_for '[ -s f ]'
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	assert_equal "$st" 143
	assert_equal "$(cat f)" '{"t":"x","n":1}'
}

@test "-c, -v and -p are refused with -r; --explain and --archive need -r" {
	rule1 r.json '{"id":"s","uri":"stdout:"}'
	run -2 evbus-route -r r.json -c
	run -2 evbus-route -r r.json -p '{"t":["x"]}'
	run -2 evbus-route -p '{"t":["x"]}' --explain
	run -2 evbus-route -p '{"t":["x"]}' --archive a
}

@test "a missing rules file is 66" {
	run --separate-stderr evbus-route -r nope.json
	assert_failure 66
	assert_regex "$stderr" "nope.json"
}

@test "bad rules: not JSON, not an object, unknown keys at each level" {
	bad_rules 'nope' 'bad.json: not JSON'
	bad_rules '[]' 'bad.json: \.: .*object'
	bad_rules '{"rules":[],"x":1}' 'bad.json: \.x: unknown key'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}],"x":1}]}' \
	    '\.rules\[0\]\.x: unknown key'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","x":1}]}]}' \
	    '\.rules\[0\]\.targets\[0\]\.x: unknown key'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","retry":{"x":1}}]}]}' \
	    '\.rules\[0\]\.targets\[0\]\.retry\.x: unknown key'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","input_transformer":{"input_template":"x","x":1}}]}]}' \
	    '\.rules\[0\]\.targets\[0\]\.input_transformer\.x: unknown key'
}

@test "bad rules: names, ids, states, missing keys, wrong kinds" {
	bad_rules '{"rules":[{"pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}]}]}' '\.rules\[0\]: missing key "name"'
	bad_rules '{"rules":[{"name":"a b","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}]}]}' '\.rules\[0\]\.name: .*rule name'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}]},{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}]}]}' \
	    '\.rules\[1\]\.name: .*duplicate rule name'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"},{"id":"1","uri":"stdout:"}]}]}' \
	    '\.rules\[0\]\.targets\[1\]\.id: .*duplicate target id'
	bad_rules '{"rules":[{"name":"a","state":"ON","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}]}]}' '\.rules\[0\]\.state: '
	bad_rules '{"rules":[{"name":"a","pattern":[],"targets":[{"id":"1","uri":"stdout:"}]}]}' '\.rules\[0\]\.pattern: must be an object'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"uri":"stdout:"}]}]}' '\.rules\[0\]\.targets\[0\]: missing key "id"'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]}}]}' '\.rules\[0\]: missing key "targets"'
}

@test "a rule with no targets (as PutRule makes before PutTargets) matches and delivers nowhere" {
	cat > r.json <<'EOF'
{"rules":[{"name":"none","pattern":{"t":["x"]},"targets":[]},
 {"name":"out","pattern":{"t":["x"]},"targets":[{"id":"o","uri":"stdout:"}]}]}
EOF
	run sh -c 'printf "%s\n" "{\"t\":\"x\"}" | evbus-route -r r.json --explain'
	[ "$status" -eq 0 ]
	[ "$output" = '{"event":{"t":"x"},"rules":["none","out"]}' ]
	run sh -c 'printf "%s\n" "{\"t\":\"x\"}" | evbus-route -r r.json'
	[ "$status" -eq 0 ]
	[ "$output" = '{"t":"x"}' ]
}

@test "bad rules: too many targets, bad URIs, bad retry values, bad dead letters" {
	t='{"id":"1","uri":"stdout:"}'
	bad_rules "{\"rules\":[{\"name\":\"a\",\"pattern\":{\"t\":[\"x\"]},\"targets\":[$t,$t,$t,$t,$t,$t]}]}" '\.rules\[0\]\.targets: .*at most 5'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"https://","cloudevents":"binary"}]}]}' \
	    '\.rules\[0\]\.targets\[0\]\.uri: .*not a valid http:// or https:// URL'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"gopher:x"}]}]}' '\.targets\[0\]\.uri: .*unknown target'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"file:"}]}]}' '\.targets\[0\]\.uri: .*no file'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"queue:a b"}]}]}' '\.targets\[0\]\.uri: invalid queue name'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"exec:"}]}]}' '\.targets\[0\]\.uri: .*no command'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"exec:sh -c '"'"'x"}]}]}' '\.targets\[0\]\.uri: .*unbalanced quote'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","retry":{"attempts":186}}]}]}' '\.retry\.attempts: .*0 to 185'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","retry":{"attempts":1.5}}]}]}' '\.retry\.attempts: '
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","retry":{"max_age":59}}]}]}' '\.retry\.max_age: .*60 to 86400'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","dead_letter":"log:x"}]}]}' '\.dead_letter: .*file:PATH or queue:QUEUE'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","dead_letter":"queue:d.fifo"}]}]}' '\.dead_letter: .*not FIFO'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","concurrency":2}]}]}' '\.concurrency: only exec'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"exec:cat","concurrency":0}]}]}' '\.concurrency: '
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","input":1,"input_path":"$"}]}]}' \
	    '\.targets\[0\]: "input" and "input_path" exclude each other'
}

@test "bad rules: a bad pattern is named by its JSON path, in disabled rules too" {
	bad_rules '{"rules":[{"name":"a","pattern":{"d":{"s":[{"prefix":1}]}},"targets":[{"id":"1","uri":"stdout:"}]}]}' \
	    'bad.json: \.rules\[0\]\.pattern: invalid event pattern at \.d\.s\[0\]\.prefix: '
	bad_rules '{"rules":[{"name":"ok","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:"}]},{"name":"a","state":"DISABLED","pattern":{"s":"x"},"targets":[{"id":"1","uri":"stdout:"}]}]}' \
	    '\.rules\[1\]\.pattern: invalid event pattern at \.s'
}

@test "input_path delivers the selected part of the event" {
	rule1 r.json '{"id":"s","uri":"stdout:","input_path":"$.d"}'
	run evbus-route -r r.json <<< '{"t":"x","d":{"id":"abc","n":[1,2]}}'
	assert_success
	assert_output '{"id":"abc","n":[1,2]}'
}

@test "input_transformer fills the template, with the reserved placeholders" {
	rule1 r.json '{"id":"s","uri":"stdout:","input_transformer":{"input_paths_map":{"id":"$.d.id"},"input_template":"{\"user\": <id>, \"rule\": <aws.events.rule-name>, \"at\": <aws.events.event.ingestion-time>, \"ev\": <aws.events.event>}"}}'
	run evbus-route -r r.json <<< '{"t":"x","d":{"id":"abc"}}'
	assert_success
	run jq -c '[.user, .rule, (.at | test("^20[0-9-]+T[0-9:.]+Z$")), .ev.d.id]' <<< "$output"
	assert_output '["abc","r",true,"abc"]'
}

@test "a text template goes raw to exec: and as a JSON string to line targets" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat > raw'"'"'","input_transformer":{"input_paths_map":{"id":"$.d.id"},"input_template":"user <id>\nis here"}},{"id":"f","uri":"file:lines","input_transformer":{"input_paths_map":{"id":"$.d.id"},"input_template":"user <id>\nis here"}}'
	evbus-route -r r.json <<< '{"t":"x","d":{"id":"abc"}}'
	assert_equal "$(cat raw)" $'user abc\nis here'
	assert_equal "$(cat lines)" '"user abc\nis here"'
}

@test "jq shapes each event; no output skips it; a runtime error goes to the dead letter" {
	rule1 r.json '{"id":"j","uri":"file:j","jq":"{id: .d.id}"},{"id":"k","uri":"file:k","jq":"select(.d.id == \"b\")"},{"id":"e","uri":"file:e","jq":"error(\"boom\")","dead_letter":"file:dl"}'
	printf '{"t":"x","d":{"id":"a"}}\n{"t":"x","d":{"id":"b"}}\n' | evbus-route -r r.json
	assert_equal "$(cat j)" $'{"id":"a"}\n{"id":"b"}'
	assert_equal "$(cat k)" '{"t":"x","d":{"id":"b"}}'
	assert_equal "$(cat e)" ""
	run jq -c '[.ERROR_CODE, .ERROR_MESSAGE, .RETRY_ATTEMPTS, .event.d.id]' dl
	assert_output $'["TRANSFORMATION_ERROR","jq: boom",0,"a"]\n["TRANSFORMATION_ERROR","jq: boom",0,"b"]'
}

@test "a shaped payload goes to queue: and log: targets too" {
	rule1 r.json '{"id":"q","uri":"queue:q","input_path":"$.d"},{"id":"l","uri":"log:l","jq":"{id2: .d.id}"}'
	evbus-route -r r.json <<< '{"t":"x","d":{"id":"abc"}}'
	assert_equal "$(evq-recv q)" '{"id":"abc"}'
	assert_equal "$(evlog-read --events l)" '{"id2":"abc"}'
}

@test "bad rules: bad shaping is named by its JSON path" {
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","input_path":"x.y"}]}]}' \
	    '\.rules\[0\]\.targets\[0\]\.input_path: '
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","jq":"{"}]}]}' \
	    '\.rules\[0\]\.targets\[0\]\.jq: .*syntax error'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","input_transformer":{"input_paths_map":{"a":"bad"},"input_template":"<a>"}}]}]}' \
	    '\.targets\[0\]\.input_transformer\.input_paths_map\.a: '
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","input_transformer":{"input_paths_map":{"a":1},"input_template":"x"}}]}]}' \
	    '\.input_transformer\.input_paths_map\.a: must be a string'
	bad_rules '{"rules":[{"name":"a","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","input_transformer":{}}]}]}' \
	    '\.targets\[0\]\.input_transformer: missing key "input_template"'
}

# One event of rule1's pattern with a 200 KiB member: more than a pipe
# holds, so a child that does not read it cannot have it all.
big_event() {
	printf '{"t":"x","pad":"%s"}\n' "$(head -c 204800 /dev/zero | tr '\0' a)"
}

@test "an exec: target that never reads a 200 KiB payload times out into the dead letter, and the router ends" {
	rule1 r.json '{"id":"e","uri":"exec:sleep 100","timeout":2,"retry":{"attempts":0,"max_age":60},"dead_letter":"file:dl"}'
	big_event > big.ndjson
	run --separate-stderr timeout 60 evbus-route -r r.json big.ndjson
	assert_success
	run jq -r '.ERROR_CODE + " " + .ERROR_MESSAGE' dl
	assert_output 'TIMEOUT timed out after 2 seconds'
}

@test "an exec: child that exits 0 without reading its payload has failed, small or large" {
	rule1 r.json '{"id":"e","uri":"exec:true","retry":{"attempts":0},"dead_letter":"file:dl"}'
	{ echo '{"t":"x","n":1}'; big_event; } > in.ndjson
	run --separate-stderr timeout 60 evbus-route -r r.json in.ndjson
	assert_success
	run jq -r '.ERROR_CODE + " " + .ERROR_MESSAGE' dl
	assert_line --index 0 'TARGET_ERROR exited without reading the whole payload (0 of 16 bytes)'
	assert_line --index 1 --regexp '^TARGET_ERROR exited without reading the whole payload \([0-9]+ of 2048[0-9][0-9] bytes\)$'
}

@test "SIGTERM stops a router whose exec: child never reads: the event goes to the dead letter" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'echo $$ > started; exec sleep 100'"'"'","dead_letter":"file:dl"}'
	big_event > big.ndjson
	evbus-route -r r.json big.ndjson 2> err &
	pid=$!
	wait_for '[ -s started ]' 30
	kill -TERM "$pid"
	if ! wait_for '! kill -0 '"$pid"' 2>/dev/null' 30; then
		kill -9 "$pid" "$(cat started)"
		false
	fi
	run wait "$pid"
	assert_failure 143
	run jq -r '.ERROR_MESSAGE' dl
	assert_output 'interrupted by signal 15'
	run kill -0 "$(cat started)"
	assert_failure
}

@test "a dead-lettered failure is a warning with its stderr tail, summed up per target; -q silences both" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat > /dev/null; echo boom >&2; exit 3'"'"'","retry":{"attempts":0},"dead_letter":"file:dl"}'
	run --separate-stderr evbus-route -r r.json < <(events3)
	assert_success
	assert_regex "$stderr" "evbus-route: rule 'r' target 'e': TARGET_ERROR: exit status 3 \(MaximumRetryAttempts\); stderr: \"boom\"; sent to dead letter 'file:dl'"
	assert_regex "$stderr" "evbus-route: rule 'r' target 'e': 2 of 2 deliveries failed, all sent to dead letter 'file:dl'"
	run jq -c .STDERR_TAIL dl
	assert_output $'"boom\\n"\n"boom\\n"'
	rm dl
	run --separate-stderr evbus-route -q -r r.json < <(events3)
	assert_success
	assert_equal "$stderr" $'boom\nboom'	# the child's own stderr still passes
	assert_equal "$(nlines dl)" 2
}

@test "the stderr tail in a dead letter is the last 4 KiB, on a queue: dead letter too" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c '"'"'cat > /dev/null; seq 1 5000 >&2; exit 1'"'"'","retry":{"attempts":0},"dead_letter":"queue:dlq"}'
	run --separate-stderr evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	run sh -c 'evq-recv -e dlq | jq -j ".messageAttributes.STDERR_TAIL.stringValue" > tail; wc -c < tail; tail -n 1 tail'
	assert_line --index 0 4096
	assert_line --index 1 5000
}

@test "a file: target on a full disk exits 74, not 69" {
	rule1 r.json '{"id":"f","uri":"file:/dev/full","retry":{"attempts":0}}'
	run --separate-stderr evbus-route -r r.json < <(events3)
	assert_failure 74
	assert_regex "$stderr" "rule 'r' target 'f': delivery failed .*IO_ERROR: /dev/full: No space left on device"
}

@test "a file: target on a full tmpfs exits 74 (root only)" {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	mkdir small
	mount -t tmpfs -o size=64k tmpfs small || skip "cannot mount a tmpfs here"
	rule1 r.json '{"id":"f","uri":"file:small/out","retry":{"attempts":0}}'
	run --separate-stderr sh -c 'for i in $(seq 1 200); do big_line=$(printf "%01000d" 0); echo "{\"t\":\"x\",\"p\":\"$big_line\"}"; done | evbus-route -r r.json'
	umount small
	assert_failure 74
	assert_regex "$stderr" 'No space left on device'
}

@test "a log: target's stream is fixed by stream, or read from the event by stream_path, exactly" {
	rule1 r.json '{"id":"a","uri":"log:l1","stream":"orders"},{"id":"b","uri":"log:l2","stream_path":"$.c.id"}'
	run evbus-route -r r.json < <(printf '%s\n' '{"t":"x","c":{"id":"alice"}}' '{"t":"x","c":{"id":12345678901234567890}}' '{"t":"x","c":{"id":"b\u00e9"}}')
	assert_success
	run sh -c 'evlog-read l1 | jq -r .stream'
	assert_output $'orders\norders\norders'
	run sh -c 'evlog-read l2 | jq -c .stream'
	assert_output $'"alice"\n"12345678901234567890"\n"bé"'
}

@test "stream_path that leads to no string or number fails the delivery for good" {
	rule1 r.json '{"id":"b","uri":"log:l2","stream_path":"$.c","dead_letter":"file:dl"}'
	run --separate-stderr evbus-route -r r.json < <(printf '%s\n' '{"t":"x","c":"ok"}' '{"t":"x"}' '{"t":"x","c":{"a":1}}')
	assert_success
	run jq -r '.ERROR_CODE + " " + .ERROR_MESSAGE + " " + (.RETRY_ATTEMPTS | tostring)' dl
	assert_output $'INVALID_PARAMETER log l2: stream_path \'$.c\' is not a string or number in this event 0\nINVALID_PARAMETER log l2: stream_path \'$.c\' is not a string or number in this event 0'
	run sh -c 'evlog-read l2 | jq -r .stream'
	assert_output ok
}

@test "stream and stream_path are checked when the rules are loaded, with their JSON path" {
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"log:l","stream_path":"c.id"}]}]}' \
	    'bad.json: \.rules\[0\]\.targets\[0\]\.stream_path: a JSONPath starts with "\$" \(got "c\.id"\)'
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"stdout:","stream":"s"}]}]}' \
	    '\.targets\[0\]\.stream: only log: targets take a stream'
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"log:l","stream":"s","stream_path":"$.a"}]}]}' \
	    '\.targets\[0\]: "stream" and "stream_path" exclude each other'
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"log:l","stream":""}]}]}' \
	    '\.targets\[0\]\.stream: a stream name is not empty'
	bad_rules '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"1","uri":"log:l","stream":5}]}]}' \
	    '\.targets\[0\]\.stream: must be a string, not number'
}

# gate: an exec: target that takes its payload and succeeds only once the
# file "open" exists.
gate() {
	cat > gate <<'SH'
#!/bin/sh
cat >> got
[ -e open ]
SH
	chmod +x gate
	printf '%s\n' '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"e","uri":"exec:./gate","retry":{"attempts":0},"dead_letter":"queue:dlq"},{"id":"f","uri":"file:f"}]},{"name":"r2","pattern":{"t":["x"]},"targets":[{"id":"e","uri":"file:r2"}]}]}' > r.json
}

@test "--redrive sends each dead letter to the rule and target it failed on, only there, and deletes it" {
	gate
	run --separate-stderr evbus-route -r r.json < <(events3)
	assert_success
	assert_equal "$(nlines f)" 2
	assert_equal "$(nlines got)" 2
	touch open
	rm got
	run --separate-stderr evbus-route -r r.json --redrive dlq
	assert_success
	assert_regex "$stderr" "2 dead letter\(s\) delivered from 'dlq', 0 failed again, 0 left"
	run cat got
	assert_output $'{"t":"x","n":1}\n{"t":"x","n":3}'
	assert_equal "$(nlines f)" 2
	assert_equal "$(nlines r2)" 2
	run evq-recv --peek dlq
	assert_failure 1
	run --separate-stderr evbus-route -r r.json --redrive dlq
	assert_failure 1
}

@test "--redrive: a dead letter that fails again is dead-lettered anew, once, and the run ends" {
	gate
	evbus-route -r r.json < <(events3) 2>/dev/null
	rm got
	run --separate-stderr timeout 60 evbus-route -r r.json --redrive dlq
	assert_success
	assert_regex "$stderr" "0 dead letter\(s\) delivered from 'dlq', 2 failed again, 0 left"
	assert_equal "$(nlines got)" 2
	run sh -c 'evq-recv -e dlq | jq -r "[.body, .messageAttributes.TARGET_ID.stringValue, .attributes.ApproximateReceiveCount] | @tsv"'
	assert_output $'{"t":"x","n":1}\te\t1\n{"t":"x","n":3}\te\t1'
}

@test "--redrive leaves a dead letter whose rule or target is gone, and a failure with no dead letter" {
	gate
	evbus-route -r r.json < <(events3) 2>/dev/null
	printf '%s\n' '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"f","uri":"file:f"}]}]}' > other.json
	run --separate-stderr evbus-route -r other.json --redrive dlq
	assert_failure 65
	assert_regex "$stderr" "left in the dead letter: its target is not in the rule"
	run sh -c 'evq-recv --peek dlq | wc -l'
	assert_output 2
	printf '%s\n' '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"e","uri":"exec:false","retry":{"attempts":0}}]}]}' > nodl.json
	run --separate-stderr evbus-route -r nodl.json --redrive dlq
	assert_failure 69
	run sh -c 'evq-recv --peek dlq | wc -l'
	assert_output 2
}

@test "--redrive takes no input and needs -r" {
	run --separate-stderr evbus-route --redrive dlq
	assert_failure 2
	rule1 r.json '{"id":"s","uri":"stdout:"}'
	run --separate-stderr evbus-route -r r.json --redrive dlq in.ndjson
	assert_failure 2
	run --separate-stderr evbus-route -r r.json --redrive dlq --explain
	assert_failure 2
}

@test "--redrive killed with -9 midway loses no dead letter" {
	gate
	evbus-route -r r.json < <(events3) 2>/dev/null
	rm got
	printf '%s\n' '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"e","uri":"exec:sh -c '"'"'cat > /dev/null; echo $$ >> started; exec sleep 100'"'"'","dead_letter":"queue:dlq"}]}]}' > slow.json
	evbus-route -r slow.json --redrive dlq 2>/dev/null &
	pid=$!
	wait_for '[ -s started ]' 30
	kill -9 "$pid"
	wait "$pid" || true
	wait_for '! kill -0 $(cat started) 2>/dev/null' 30	# the child dies with it
	run sh -c 'evq-ctl stat dlq | jq "[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]" -c'
	assert_output '[0,2]'
}

@test "two --redrive runs at once deliver each dead letter once" {
	gate
	seq 1 40 | sed 's/.*/{"t":"x","n":&}/' > in.ndjson
	evbus-route -r r.json in.ndjson 2>/dev/null
	rm got
	touch open
	evbus-route -r r.json --redrive dlq 2>/dev/null &
	a=$!
	evbus-route -r r.json --redrive dlq 2>/dev/null &
	b=$!
	wait "$a" || [ $? -eq 1 ]	# 1: the other run took them all
	wait "$b" || [ $? -eq 1 ]
	run sh -c 'sort got | uniq | wc -l; wc -l < got'
	assert_output $'40\n40'
	run evq-recv --peek dlq
	assert_failure 1
}

@test "exec: targets get the allow-list and their env list, not our whole environment" {
	rule1 r.json '{"id":"e","uri":"exec:sh -c \"cat > /dev/null; env > seen\"","env":["GIVEN=1","PASSED"]}'
	run env SECRET_TOKEN=s3cr3t PASSED=yes evbus-route -r r.json <<< '{"t":"x"}'
	assert_success
	run cat seen
	assert_line 'GIVEN=1'
	assert_line 'PASSED=yes'
	assert_line --regexp '^PATH='
	assert_line "EVKIT_HOME=$EVKIT_HOME"
	refute_line --partial 'SECRET_TOKEN'
	rm seen
	run env SECRET_TOKEN=s3cr3t evbus-route --inherit-env -r r.json <<< '{"t":"x"}'
	assert_success
	run cat seen
	assert_line 'SECRET_TOKEN=s3cr3t'
	assert_line 'GIVEN=1'
}

@test "a bad env list is a usage error naming its JSON path" {
	rule1 r.json '{"id":"e","uri":"exec:cat","env":["1BAD=x"]}'
	run --separate-stderr evbus-route -r r.json <<< '{"t":"x"}'
	assert_failure 2
	assert_regex "$stderr" 'env\[0\]'
	rule1 r.json '{"id":"f","uri":"file:out","env":["A=1"]}'
	run --separate-stderr evbus-route -r r.json <<< '{"t":"x"}'
	assert_failure 2
	assert_regex "$stderr" 'env'
	run --separate-stderr evbus-route --inherit-env -p '{}' <<< '{"t":"x"}'
	assert_failure 2
}
