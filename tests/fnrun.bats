#!/usr/bin/env bats
# fnrun: process and --jq handlers, results, errors, -j order, timeouts,
# retries, --dlq, --report, --envelope, environment, signals, bad input.
load test_helper

# No handler process of this test may survive fnrun (one SIGKILLed may
# take a moment to be gone on a loaded machine).
no_orphans() {
	wait_for "! pgrep -f '$1' > /dev/null" 2
}

# Runs fnrun -j 2 ARGS, feeds events 1 and 2, sends SIGTERM while they run,
# then feeds 3: 1 and 2 must finish, 3 must not start, and fnrun must die
# by the signal.
term_midway() {
	mkfifo feed
	fnrun -j 2 "$@" < feed > out 3>&- &
	local pid=$! st=0
	exec 4> feed
	printf '1\n2\n' >&4
	sleep 0.4
	kill -TERM "$pid"
	printf '3\n' >&4
	wait "$pid" || st=$?
	exec 4>&-
	assert_equal "$st" 143
	assert_equal "$(cat out)" "$(printf '"done-1"\n"done-2"')"
}

@test "stdout is the result: JSON as is, empty is null, text a JSON string" {
	printf '{"a":1}\n[1, 2]\n"s"\n' > in
	run fnrun in -- cat
	assert_success
	assert_output "$(printf '{"a":1}\n[1, 2]\n"s"')"
	run fnrun -- true < in
	assert_output "$(printf 'null\nnull\nnull')"
	run fnrun -- echo 'hello "world"' < in
	assert_line -n 0 '"hello \"world\""'
}

@test "a result that spans lines is made compact" {
	echo 1 | fnrun -- printf '{\n  "a": [1,\n 2]\n}\n' > out
	assert_equal "$(cat out)" '{"a":[1,2]}'
}

@test "the event arrives on stdin, never on the command line or through a shell" {
	printf '%s\n' '"$(touch pwned1)"' '"`touch pwned2`"' '"; touch pwned3"' \
	    '{"x":"$(touch pwned4); rm -rf ."}' > in
	run fnrun in -- cat
	assert_success
	assert_line -n 0 '"$(touch pwned1)"'
	assert_line -n 1 '"`touch pwned2`"'
	run fnrun in -- sh -c 'read -r e; printf "%s\n" "$e"'
	assert_success
	run fnrun in -- sh -c 'echo "$#"'
	assert_output "$(printf '0\n0\n0\n0')"
	assert_file_not_exists pwned1
	assert_file_not_exists pwned2
	assert_file_not_exists pwned3
	assert_file_not_exists pwned4
	assert_file_exists in
}

@test "a non-zero exit is an error in Lambda's shape; exit 1" {
	run --separate-stderr fnrun -- sh -c 'exit 3' <<< '{}'
	assert_failure 1
	assert_output '{"errorMessage":"Runtime exited with error: exit status 3","errorType":"Runtime.ExitError"}'
	[[ $stderr == *"failed"* ]]
	run --separate-stderr fnrun -q -- sh -c 'exit 3' <<< '{}'
	assert_equal "$stderr" ""
}

@test "a failing handler may give its own error object on stdout" {
	run fnrun -q -- sh -c 'echo "{\"errorMessage\":\"boom\",\"errorType\":\"ValueError\"}"; exit 1' <<< 1
	assert_failure 1
	assert_output '{"errorMessage":"boom","errorType":"ValueError"}'
}

@test "typed errors: an object with errorType on stdout and a non-zero exit is that error" {
	# errorType alone, pretty-printed, after log lines, or with leading blanks
	run fnrun -q -- sh -c 'echo "{\"errorType\":\"Custom.Err\"}"; exit 1' <<< 1
	assert_failure 1
	assert_output '{"errorType":"Custom.Err"}'
	run fnrun -q -- sh -c 'printf "  {\n  \"errorType\": \"E\",\n  \"errorMessage\": \"m\"\n}\n"; exit 2' <<< 1
	assert_failure 1
	assert_output '{"errorType":"E","errorMessage":"m"}'
	run fnrun -q -- sh -c 'echo starting; echo "{\"errorMessage\":\"bad id\",\"errorType\":\"ValidationError\"}"; exit 1' <<< 1
	assert_failure 1
	assert_output '{"errorMessage":"bad id","errorType":"ValidationError"}'
	# not an error object: a non-string errorType, an array, or exit 0
	run fnrun -q -- sh -c 'echo "{\"errorType\":5}"; exit 1' <<< 1
	assert_output '{"errorMessage":"Runtime exited with error: exit status 1","errorType":"Runtime.ExitError"}'
	run fnrun -q -- sh -c 'echo "[{\"errorType\":\"E\"}]"; exit 1' <<< 1
	assert_output '{"errorMessage":"Runtime exited with error: exit status 1","errorType":"Runtime.ExitError"}'
	run fnrun -q -- sh -c 'echo "{\"errorType\":\"E\"}"' <<< 1
	assert_success
	assert_output '{"errorType":"E"}'
}

@test "typed errors: a --worker line with errorType is that error, the worker stays" {
	run fnrun -q --worker -- sh -c 'read e; echo "{\"errorType\":\"E\"}"; read e; echo "$$"; read e; echo "$$"' < <(seq 1 3)
	assert_failure 1
	assert_line -n 0 '{"errorType":"E"}'
	assert_equal "${lines[1]}" "${lines[2]}"
}

@test "a handler killed by a signal is an error" {
	run fnrun -q -- sh -c 'kill -SEGV $$' <<< 1
	assert_failure 1
	assert_output --partial '{"errorMessage":"Runtime exited with error: signal: segmentation fault'
}

@test "a missing command is Runtime.InvalidEntrypoint" {
	skip_under_tsan
	run fnrun -- ./no-such-handler <<< 1
	assert_failure 1
	assert_output --partial '"errorType":"Runtime.InvalidEntrypoint"'
}

@test "stderr passes through as the function's log" {
	run --separate-stderr fnrun -- sh -c 'echo log line >&2; echo 7' <<< 1
	assert_success
	assert_output 7
	assert_equal "$stderr" "log line"
}

@test "a handler that never reads stdin gets a large event without a hang" {
	head -c 900000 /dev/zero | tr '\0' a | sed 's/.*/"&"/' > in
	run timeout 10 fnrun in -- echo done
	assert_success
	assert_output '"done"'
}

@test "a handler that writes megabytes: the whole result arrives" {
	run timeout 20 fnrun -- sh -c 'head -c 4000000 /dev/zero | tr "\0" x' <<< 1
	assert_success
	assert_equal "${#output}" 4000002
}

@test "a result over 6 MB is Function.ResponseSizeTooLarge, and nothing hangs" {
	run timeout 20 fnrun -- sh -c 'head -c 7000000 /dev/zero | tr "\0" x' <<< 1
	assert_failure 1
	assert_output --partial '"errorType":"Function.ResponseSizeTooLarge"'
}

@test "a handler that forks children and exits: the children die with it" {
	run timeout 10 fnrun -- sh -c 'sleep 1234.5 & sleep 1234.5 & echo ok' <<< 1
	assert_success
	assert_output '"ok"'
	sleep 0.2
	no_orphans 'sleep 1234.5'
}

@test "--timeout kills a handler that ignores SIGTERM, and its whole group" {
	start=$(date +%s%N)
	run fnrun -q -t 0.5 -- sh -c 'trap "" TERM; sleep 1235.5 & sleep 1235.5' <<< 1
	end=$(date +%s%N)
	assert_failure 1
	assert_output '{"errorMessage":"Task timed out after 0.50 seconds","errorType":"Runtime.Timeout"}'
	[ $(( (end - start) / 1000000 )) -lt 20000 ]
	sleep 0.2
	no_orphans 'sleep 1235.5'
}

@test "the default timeout is 3 seconds" {
	run fnrun -- sleep 10 <<< 1
	assert_failure 1
	assert_output --partial 'Task timed out after 3.00 seconds'
}

@test "-j 4 runs at once and keeps input order" {
	seq 1 12 > in
	start=$(date +%s%N)
	run fnrun -j 4 -t 30 in -- sh -c 'read x; sleep $(( (13 - x) % 4 + 1 )); echo $x'
	end=$(date +%s%N)
	assert_success
	assert_output "$(seq 1 12)"
	# 12 sleeps of 1-4 s, 4 at a time: about 8 s, against their 30 s sum.
	[ $(( (end - start) / 1000000 )) -lt 20000 ]
}

@test "--unordered prints results as they finish" {
	printf '3\n1\n' > in
	run fnrun -j 2 -u in -- sh -c 'read x; sleep 0.$((x * 2)); echo $x'
	assert_success
	assert_output "$(printf '1\n3')"
}

@test "--retries retries a failure with back-off, with the same requestId" {
	run fnrun -r 2 -e --report rep -- sh -c 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ] && echo ok || exit 1' <<< 1
	assert_success
	assert_output --partial '"status":"success","result":"ok","attempts":3}'
	assert_equal "$(nlines rep)" 3
	assert_equal "$(jq -r .requestId rep | sort -u | wc -l)" 1
	assert_equal "$(jq -r .status rep | tr '\n' ' ')" "error error success "
}

@test "--retries gives up after N retries" {
	run fnrun -q -r 1 --report rep -- false <<< 1
	assert_failure 1
	assert_equal "$(nlines rep)" 2
}

@test "--dlq file: gets the event with its error; exit 0" {
	printf '{"id":1}\n{"id":2}\n' > in
	run fnrun -q --dlq file:dead.ndjson in -- sh -c 'grep -q "\"id\":2" && exit 4; echo fine'
	assert_success
	assert_line -n 0 '"fine"'
	assert_equal "$(nlines dead.ndjson)" 1
	run jq -c '[.requestPayload, .responsePayload.errorType, .requestContext.condition]' dead.ndjson
	assert_output '[{"id":2},"Runtime.ExitError","RetriesExhausted"]'
}

@test "--dlq queue: sends the record to an evq queue" {
	run fnrun -q --dlq queue:dead -- false <<< '{"k":"v"}'
	assert_success
	run evq-recv -n 1 dead
	assert_success
	assert_equal "$(jq -c .requestPayload <<< "$output")" '{"k":"v"}'
}

@test "--dlq with a bad URI is a usage error" {
	run fnrun --dlq s3:bucket -- cat <<< 1
	assert_failure 2
	assert_output --partial "file:PATH or queue:QUEUE"
}

@test "--envelope wraps results and errors" {
	printf '1\n2\n' > in
	run fnrun -q -e in -- sh -c 'read x; [ $x = 1 ]'
	assert_failure 1
	assert_equal "$(jq -c '[.status, .result, .error.errorType]' <<< "${lines[0]}")" '["success",null,null]'
	assert_equal "$(jq -c '[.status, .error.errorType]' <<< "${lines[1]}")" '["error","Runtime.ExitError"]'
	run jq -r .requestId <<< "${lines[0]}"
	assert_output --regexp '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
}

@test "--envelope marks a timeout" {
	run fnrun -q -e -t 0.2 -- sleep 5 <<< 1
	assert_equal "$(jq -r .status <<< "$output")" timeout
}

@test "--report writes one line per invocation with Lambda's REPORT fields" {
	seq 1 3 > in
	run fnrun --report rep in -- cat
	assert_success
	assert_equal "$(nlines rep)" 3
	run jq -c 'keys_unsorted' rep
	assert_line -n 0 '["requestId","status","attempt","durationMs","billedDurationMs","memorySizeMB","maxMemoryUsedMB"]'
	run jq -e 'select(.billedDurationMs >= 1 and .maxMemoryUsedMB >= 1 and .memorySizeMB == 128)' rep
	assert_success
}

@test "--report measures the handler's peak memory" {
	run fnrun --report rep -- python3 -c 'b = bytearray(80 * 1024 * 1024); print(len(b))' <<< 1
	assert_success
	run jq -e '.maxMemoryUsedMB >= 80' rep
	assert_success
}

# A handler that allocates and touches $1 MB, in a child of a shell, so
# the memory is the tree's and not the leader's.
alloc() {
	printf 'python3 -c "b = bytearray(%d * 1024 * 1024); import time; time.sleep(0.3); print(len(b) >> 20)"; echo done >&2' "$1"
}

@test "--memory: a handler tree past the limit is killed as Lambda's out-of-memory error" {
	run --separate-stderr fnrun -t 20 -m 128 --report rep -- sh -c "$(alloc 300)" <<< 1
	assert_failure 1
	assert_output '{"errorMessage":"Runtime exited with error: signal: killed","errorType":"Runtime.ExitError"}'
	run jq -e 'select(.status == "error" and .memorySizeMB == 128 and .maxMemoryUsedMB > 128)' rep
	assert_success
	no_orphans 'bytearray\(300'
}

@test "--memory counts what left the handler's tree (a setsid'd daemon), and kills it" {
	daemon="setsid sh -c 'python3 -c \"b = bytearray(300 * 1024 * 1024); import time; time.sleep(30)\" &' < /dev/null > /dev/null 2>&1; sleep 20"
	run --separate-stderr fnrun -t 10 -m 128 -- sh -c "$daemon" <<< 1
	assert_failure 1
	assert_output '{"errorMessage":"Runtime exited with error: signal: killed","errorType":"Runtime.ExitError"}'
	no_orphans 'bytearray\(300'
}

@test "--memory: below the limit it succeeds, the setting and the peak are reported" {
	run --separate-stderr fnrun -t 20 -m 256 --report rep -- sh -c "$(alloc 40)" <<< 1
	assert_success
	assert_output 40
	run jq -e 'select(.status == "success" and .memorySizeMB == 256 and .maxMemoryUsedMB >= 40 and .maxMemoryUsedMB < 256)' rep
	assert_success
	run fnrun -m 512 -- sh -c 'echo $AWS_LAMBDA_FUNCTION_MEMORY_SIZE' <<< 1
	assert_output 512
}

@test "--memory: Lambda's range, 128 to 10240 MB" {
	run fnrun -m 127 -- cat <<< 1
	assert_failure 2
	run fnrun -m 10241 -- cat <<< 1
	assert_failure 2
	run fnrun -m 10240 -- cat <<< 1
	assert_success
}

@test "--memory --worker: a worker past the limit fails its event and is started again" {
	printf '1\n300\n2\n' > in
	W='while read n; do python3 -c "import sys; b = bytearray(int(sys.argv[1]) * 1024 * 1024); import time; time.sleep(0.3)" "$n"; echo "$n $$"; done'
	run --separate-stderr fnrun -t 20 -m 128 --worker --report rep in -- sh -c "$W"
	assert_failure 1
	assert_line -n 1 '{"errorMessage":"Runtime exited with error: signal: killed","errorType":"Runtime.ExitError"}'
	first=$(sed -n 1p <<< "$output" | tr -d '"' | cut -d' ' -f2)
	third=$(sed -n 3p <<< "$output" | tr -d '"' | cut -d' ' -f2)
	[ -n "$first" ] && [ -n "$third" ] && [ "$first" != "$third" ]
	run jq -s -e 'length == 3 and all(.[]; .maxMemoryUsedMB >= 1)' rep
	assert_success
}

@test "--batch: up to N events per invocation as {\"Records\":[...]}, one result each" {
	seq 1 5 > in
	run fnrun -b 2 in -- cat
	assert_success
	assert_output "$(printf '{"Records":[1,2]}\n{"Records":[3,4]}\n{"Records":[5]}')"
	run fnrun -b 3 --jq '.Records | add' in
	assert_output "$(printf '6\n9')"
}

@test "--batch: a batch closes when the input pauses, not waiting for N" {
	mkfifo feed
	fnrun -b 100 --line-buffered -- cat < feed > out 3>&- &
	pid=$!
	exec 4> feed
	printf '1\n2\n' >&4
	wait_for '[ -s out ]'
	assert_equal "$(cat out)" '{"Records":[1,2]}'
	printf '3\n' >&4
	exec 4>&-
	wait "$pid"
	assert_equal "$(cat out)" "$(printf '{"Records":[1,2]}\n{"Records":[3]}')"
}

@test "--batch --dlq: each event of a failed batch goes with the batch's error" {
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in
	run fnrun -q -b 2 --dlq file:dlq in -- sh -c 'cat > /dev/null; exit 4'
	assert_success
	assert_equal "$(nlines dlq)" 3
	run jq -c '[.requestPayload, .responsePayload.errorMessage]' dlq
	assert_output "$(printf '%s\n' '[{"a":1},"Runtime exited with error: exit status 4"]' \
	    '[{"a":2},"Runtime exited with error: exit status 4"]' '[{"a":3},"Runtime exited with error: exit status 4"]')"
	run jq -s -e '.[0].requestContext.requestId == .[1].requestContext.requestId and .[1].requestContext.requestId != .[2].requestContext.requestId' dlq
	assert_success
}

@test "a --dlq that cannot be written ends the run with 74, even while input waits" {
	[ -w /dev/full ] || skip "no /dev/full"
	mkfifo feed
	fnrun -q --dlq file:/dev/full -- false < feed > out 2> err 3>&- &
	pid=$!
	exec 4> feed
	echo 1 >&4
	wait_for "! kill -0 $pid 2> /dev/null" 20
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	assert_equal "$st" 74
	grep -q -- "--dlq: dead letter '/dev/full': No space left on device" err
}

@test "input that fails after valid lines (a directory operand): the invocations in flight finish and print first" {
	printf '1\n2\n' > a
	run --separate-stderr fnrun -j 2 a . -- sh -c 'sleep 0.5; cat'
	assert_failure 66
	assert_output "$(printf '1\n2')"
	assert_equal "$stderr" "fnrun: cannot read '.': Is a directory"
}

@test "--name and the Lambda environment" {
	run fnrun -n greeter -- sh -c 'echo "$AWS_LAMBDA_FUNCTION_NAME $AWS_LAMBDA_FUNCTION_VERSION $AWS_LAMBDA_FUNCTION_MEMORY_SIZE $AWS_LAMBDA_LOG_GROUP_NAME $_HANDLER"' <<< 1
	assert_output '"greeter $LATEST 128 /aws/lambda/greeter sh"'
	run fnrun -- sh -c 'echo "$AWS_LAMBDA_FUNCTION_NAME $AWS_LAMBDA_FUNCTION_TIMEOUT ${AWS_REGION:+set} ${AWS_LAMBDA_LOG_STREAM_NAME:+set}"' <<< 1
	assert_output '"sh 3 set set"'
}

@test "--env K=V reaches the function; bad and reserved keys are refused" {
	run fnrun -E GREETING=hi -E Other_2='a b' -- sh -c 'echo "$GREETING/$Other_2"' <<< 1
	assert_output '"hi/a b"'
	run fnrun -E 1X=y -- cat <<< 1
	assert_failure 2
	run fnrun -E X=y -- cat <<< 1
	assert_failure 2
	run fnrun -E AWS_LAMBDA_FUNCTION_NAME=x -- cat <<< 1
	assert_failure 2
	assert_output --partial reserved
	run fnrun -E -- cat <<< 1
	assert_failure 2
}

@test "the function sees Lambda's variables, the allow-list and -E, not the rest of ours" {
	export SECRET_TOKEN=s3cr3t LC_TIME=C PASSED=ours TZ=UTC
	show='echo "${SECRET_TOKEN-unset} ${PASSED-unset} ${LC_TIME-unset} ${TZ-unset} ${HOME:+home} ${PATH:+path} ${AWS_LAMBDA_FUNCTION_NAME-unset} ${X2-unset}"'
	run fnrun -- sh -c "$show" <<< 1
	assert_success
	assert_output '"unset unset C UTC home path sh unset"'
	# NAME alone passes ours; NAME=VALUE sets it; a name we lack stays unset.
	run fnrun -E PASSED -E X2=two -E NOT_OURS_AT_ALL -- sh -c "$show"' ${NOT_OURS_AT_ALL-unset}' <<< 1
	assert_output '"unset ours C UTC home path sh two unset"' 
	run fnrun --inherit-env -- sh -c "$show" <<< 1
	assert_output '"s3cr3t ours C UTC home path sh unset"'
	# Workers get the same.
	run fnrun --worker -E X2=w -- sh -c "while read -r l; do $show; done" <<< 1
	assert_output '"unset unset C UTC home path sh w"'
}

@test "signal dispositions are reset for the handler" {
	# fnrun ignores SIGPIPE; the handler must not inherit that.
	run fnrun -- grep -E "^SigIgn" /proc/self/status <<< 1
	assert_output --regexp '^"SigIgn:\\t[0-9a-f]{16}"$'
	# Signals 1-31 (SIGPIPE among them); glibc keeps 32 and 33 for itself.
	mask=${output:10:16}
	assert_equal $(( 16#$mask & 16#7fffffff )) 0
}

@test "each handler runs in its own process group" {
	# On Linux the group is led by the handler's keeper (its parent), else
	# by the handler; either way not ours.
	run fnrun -- sh -c 'echo "$(ps -o pgid= -p $$ | tr -d " ")/$PPID/$$"' <<< 1
	[[ $output =~ ^\"([0-9]+)/([0-9]+)/([0-9]+)\"$ ]]
	pgid=${BASH_REMATCH[1]}
	[[ $pgid == "${BASH_REMATCH[2]}" || $pgid == "${BASH_REMATCH[3]}" ]]
	[[ $pgid != "$(ps -o pgid= -p $$ | tr -d ' ')" ]]
}

@test "--jq runs in-process; errors are Lambda-shaped" {
	printf '{"a":1}\n{"a":"x"}\n' > in
	run fnrun -q --jq '.a + 1' in
	assert_failure 1
	assert_line -n 0 2
	assert_line -n 1 --partial '"errorType":"JqError"'
	run fnrun --jq 'empty' <<< 1
	assert_output null
	run fnrun --jq '.[' <<< 1
	assert_failure 2
}

@test "--jq and -- CMD exclude each other; one is needed" {
	run fnrun --jq . -- cat <<< 1
	assert_failure 2
	run fnrun <<< 1
	assert_failure 2
	run fnrun -- <<< 1
	assert_failure 2
	run fnrun -j 0 -- cat <<< 1
	assert_failure 2
	run fnrun -j 257 -- cat <<< 1
	assert_failure 2
	run fnrun -t abc -- cat <<< 1
	assert_failure 2
}

@test "bad input: stops with 65 after finishing the lines before it" {
	printf '1\n{bad\n3\n' > in
	run --separate-stderr fnrun in -- cat
	assert_failure 65
	assert_output 1
	[[ $stderr == "fnrun: in:2: "* ]]
}

@test "bad input with --errors FILE: recorded, the rest runs" {
	printf '1\n{bad\n3\n' > in
	run fnrun --errors err in -- cat
	assert_success
	assert_output "$(printf '1\n3')"
	assert_equal "$(jq -r .line err)" 2
}

@test "a missing input file: the others run, exit 66" {
	echo 1 > in
	run --separate-stderr fnrun nosuch in -- cat
	assert_failure 66
	assert_output 1
}

@test "--help and --version" {
	run fnrun --help
	assert_success
	assert_line -n 0 --partial 'usage: fnrun'
	run fnrun --version
	assert_output --regexp '^fnrun \(evkit\) [0-9.]+$'
}

@test "SIGTERM: running invocations finish, nothing new starts, the signal is re-raised" {
	term_midway -- sh -c 'read x; sleep 1; echo done-$x'
}

@test "SIGTERM during a retry back-off: the event ends as a failure, to the --dlq" {
	mkfifo feed
	fnrun -q -r 8 -e --dlq file:dead -- false < feed > out 3>&- &
	pid=$!
	exec 4> feed
	echo 1 >&4
	sleep 0.5
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	assert_equal "$st" 143
	assert_equal "$(jq -r .status out)" error
	n=$(jq .attempts out)
	[ "$n" -ge 2 ] && [ "$n" -le 8 ]
	assert_equal "$(jq .requestContext.approximateInvokeCount dead)" "$n"
}

@test "SIGINT while a handler hangs: it still times out and no process is left" {
	mkfifo feed
	fnrun -t 1 -- sh -c 'trap "" INT TERM; sleep 1236.5' < feed > out 3>&- &
	pid=$!
	exec 4> feed
	echo 1 >&4
	sleep 0.3
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	assert_equal "$st" 130
	assert_equal "$(jq -r .errorType out)" Runtime.Timeout
	no_orphans 'sleep 1236.5'
}

@test "fnrun killed with SIGKILL: the kernel kills the handlers it started (Linux)" {
	[ "$(uname)" = Linux ] || skip "PR_SET_PDEATHSIG is Linux's"
	fnrun -t 60 -- sh -c 'echo $$ > pid; exec sleep 61.25' 3>&- <<< 1 &
	fp=$!
	wait_for '[ -s pid ]'
	kill -KILL "$fp"
	wait "$fp" || true
	# Gone, or a zombie its new parent has yet to reap.
	wait_for "! grep -q '^[0-9]* ([^)]*) [^Z]' /proc/$(cat pid)/stat 2> /dev/null"
}

# A handler that leaves three processes: one that escaped its process
# group (setsid), one in a new session whose parent is gone (a daemon, as
# re-parented), and a grandchild; then it sleeps, or exits at once with
# "$1" = exit.  Each process's pid goes to file "pids".
ESCAPER='setsid sh -c "echo \$\$ >> pids; exec sleep $TT.1" < /dev/null > /dev/null 2>&1 &
setsid sh -c "sh -c \"echo \\\$\\\$ >> pids; exec sleep $TT.2\" &" < /dev/null > /dev/null 2>&1
sh -c "echo \$\$ >> pids; exec sleep $TT.3" &
echo $$ >> pids
wait_for_four() { while [ "$(wc -l < pids)" -lt 4 ]; do sleep 0.05; done; }
wait_for_four; echo started > started; [ "$1" = exit ] || exec sleep $TT.4'

# None of the pids in file pids is left (zombies awaiting a reaper aside).
none_left() {
	local p
	for p in $(cat pids); do
		wait_for "! grep -q '^[0-9]* ([^)]*) [^Z]' /proc/$p/stat 2> /dev/null" 20 || return 1
	done
}

@test "what a handler leaves, setsid or not, dies at its end and at its timeout" {
	export TT=4711
	run --separate-stderr fnrun -E TT=$TT -- sh -c "$ESCAPER" sh exit <<< 1
	assert_success
	assert_equal "$(wc -l < pids)" 4
	none_left
	rm pids
	run --separate-stderr fnrun -t 2 -E TT=$TT -- sh -c "$ESCAPER" <<< 1
	assert_failure 1
	assert_output --partial Runtime.Timeout
	none_left
	rm pids
	run --separate-stderr fnrun -t 2 -E TT=$TT --worker -- sh -c "read -r l; $ESCAPER" <<< 1
	assert_output --partial Runtime.Timeout
	none_left
}

@test "what a running handler left stays while it runs, though another handler ends (-j 2)" {
	# Event a leaves a setsid'd sleeper and waits until b has ended and
	# been reaped; the sleeper must still be there, and die at a's end.
	cat > h <<'EOF'
read -r e
if [ "$e" = '"a"' ]; then
	setsid sh -c 'exec sleep 4713.1' < /dev/null > /dev/null 2>&1 &
	until pgrep -f 'sleep 4713[.]1' > /dev/null; do sleep 0.05; done
	until [ -s b.pid ] && ! kill -0 "$(cat b.pid)" 2> /dev/null; do sleep 0.05; done
	sleep 0.5
	pgrep -f 'sleep 4713[.]1' > /dev/null && echo '"kept"' || echo '"killed"'
else
	echo $$ > b.pid
	echo '"b"'
fi
EOF
	printf '"a"\n"b"\n' > in
	run --separate-stderr fnrun -j 2 -t 60 in -- sh h
	assert_success
	assert_output "$(printf '"kept"\n"b"')"
	no_orphans 'sleep 4713[.]1'
}

@test "a keeper killed by hand: its handlers' events fail, the next ones run under a new one (Linux)" {
	[ "$(uname)" = Linux ] || skip "the keeper is Linux's"
	# The first handler kills its parent, the keeper, then waits to be killed.
	cat > h <<'EOF'
read -r e
if [ "$e" = 1 ]; then kill -KILL "$PPID"; exec sleep 4714; fi
echo "$e"
EOF
	printf '1\n2\n3\n' > in
	run --separate-stderr fnrun -t 60 in -- sh h
	assert_failure 1
	assert_line -n 0 '{"errorMessage":"Runtime exited with error: signal: killed","errorType":"Runtime.ExitError"}'
	assert_line -n 1 2
	assert_line -n 2 3
	no_orphans 'sleep 4714'
}

@test "fnrun killed with SIGKILL: what its handlers started dies too, setsid or not (Linux)" {
	[ "$(uname)" = Linux ] || skip "PR_SET_PDEATHSIG and subreapers are Linux's"
	export TT=4712
	for mode in "" --worker; do
		rm -f pids started
		printf '1\n2\n3\n' > in
		fnrun -j 3 -t 100 -E TT=$TT $mode in -- sh -c "read -r l; $ESCAPER" 3>&- > /dev/null &
		fp=$!
		# Three handlers at once, four processes each.
		wait_for '[ -s pids ] && [ "$(wc -l < pids)" -ge 12 ]' 20
		kill -KILL "$fp"
		wait "$fp" || true
		none_left
	done
}

@test "a closed stdout ends fnrun quietly and kills the running handlers" {
	seq 1 6 > in
	run bash -c "fnrun -u -j 6 -t 100 --line-buffered in -- sh -c 'read x; [ \$x -le 3 ] && sleep 0.\$x && echo \$x && exit; exec sleep 1237.5' | head -2"
	assert_output "$(printf '1\n2')"
	sleep 0.3
	no_orphans 'sleep 1237.5'
}

@test "SIGTERM while waiting for input with nothing running ends at once" {
	mkfifo feed
	fnrun -- cat < feed > out 3>&- &
	pid=$!
	exec 4> feed
	sleep 0.3
	kill -TERM "$pid"
	run timeout 5 tail --pid="$pid" -f /dev/null
	exec 4>&-
	assert_success
}

# A worker that answers each event line with [event, its PID].
WORKER='while read -r e; do echo "[$e,$$]"; done'

@test "--worker: workers are reused, at most -j of them, results in input order" {
	seq 1 20 > in
	run fnrun -j 3 --worker in -- sh -c "$WORKER"
	assert_success
	run sh -c "fnrun -j 3 --worker in -- sh -c '$WORKER' | jq -c '.[0]'"
	assert_output "$(seq 1 20)"
	run sh -c "fnrun -j 3 --worker in -- sh -c '$WORKER' | jq '.[1]' | sort -u | wc -l"
	[ "$output" -ge 1 ] && [ "$output" -le 3 ]
}

@test "events start in input order, with -j 1 and with workers" {
	seq 1 30 > in
	run fnrun in -- sh -c 'cat >> started'
	assert_equal "$(cat started)" "$(seq 1 30)"
	rm started
	run fnrun --worker in -- sh -c 'while read e; do echo "$e" >> started; echo "$e"; done'
	assert_success
	assert_equal "$(cat started)" "$(seq 1 30)"
}

@test "--worker: a line that is not JSON is a string; a Lambda error object is a failure" {
	run fnrun -q --worker -- sh -c 'read e; echo "hi there"; read e; echo "{\"errorMessage\":\"boom\",\"errorType\":\"E\"}"; read e; echo "{}"' < <(seq 1 3)
	assert_failure 1
	assert_output "$(printf '"hi there"\n{"errorMessage":"boom","errorType":"E"}\n{}')"
}

@test "--worker: a crash fails its invocation and the worker is restarted" {
	run fnrun -q --worker -- sh -c 'read e; echo "$$"; read e; exit 3' < <(seq 1 4)
	assert_failure 1
	assert_line -n 1 '{"errorMessage":"Runtime exited with error: exit status 3","errorType":"Runtime.ExitError"}'
	assert_line -n 3 '{"errorMessage":"Runtime exited with error: exit status 3","errorType":"Runtime.ExitError"}'
	[ "${lines[0]}" != "${lines[2]}" ]
	run fnrun -q --worker -- sh -c 'read e; exit 0' <<< 1
	assert_failure 1
	assert_output '{"errorMessage":"Runtime exited without providing a reason","errorType":"Runtime.ExitError"}'
}

@test "--worker: a hanging worker times out, its group is killed, and it is restarted" {
	run fnrun -q -t 0.5 --worker -- sh -c 'trap "" TERM; while read -r e; do [ "$e" = 2 ] && sleep 1236.5; echo "[$e,$$]"; done' < <(seq 1 3)
	assert_failure 1
	assert_line -n 1 '{"errorMessage":"Task timed out after 0.50 seconds","errorType":"Runtime.Timeout"}'
	[ "$(jq -n "${lines[0]}[1] != ${lines[2]}[1]")" = true ]
	sleep 0.2
	no_orphans 'sleep 1236.5'
}

@test "--worker --max-invocations recycles a worker after N" {
	seq 1 5 > in
	run sh -c "fnrun --worker --max-invocations 2 in -- sh -c '$WORKER' | jq '.[1]' | sort -u | wc -l"
	assert_output 3
	run fnrun --max-invocations 2 -- cat <<< 1
	assert_failure 2
	run fnrun --worker --jq . <<< 1
	assert_failure 2
}

@test "--worker --report: initDurationMs only on the invocations that started a worker" {
	seq 1 5 > in
	run fnrun --worker --max-invocations 2 --report rep in -- sh -c "$WORKER"
	assert_success
	run jq -c 'has("initDurationMs")' rep
	assert_output "$(printf 'true\nfalse\ntrue\nfalse\ntrue')"
	run jq -e 'select(has("initDurationMs")) | .initDurationMs >= 0' rep
	assert_success
}

@test "--worker: start-up has its own budget (--init-timeout), measured as initDurationMs" {
	printf '1\n2\n' > in
	# Ready when it first reads its stdin: the 2 s before do not count
	# against -t 1.
	run --separate-stderr fnrun -t 1 --report rep --worker in -- sh -c 'sleep 2; while read -r l; do echo "$l"; done'
	assert_success
	assert_output "$(printf '1\n2')"
	run jq -s -c '[.[0].initDurationMs >= 1900, .[0].durationMs < 1000, (.[1] | has("initDurationMs"))]' rep
	assert_output '[true,true,false]'
	run --separate-stderr fnrun -t 5 --init-timeout 1 --worker in -- sh -c 'sleep 30.37; cat'
	assert_failure 1
	assert_line -n 0 '{"errorMessage":"Init timed out after 1.00 seconds","errorType":"Runtime.InitError"}'
	no_orphans 'sleep 30\.37'
}

@test "--worker with --retries, --dlq and --envelope" {
	# Each worker fails its first event and answers the rest.
	run fnrun -q --worker -r 1 -e -- sh -c 'read e; echo "{\"errorMessage\":\"cold\"}"; while read -r e; do echo "$e"; done' <<< 7
	assert_success
	run jq -c '[.status, .result, .attempts]' <<< "$output"
	assert_output '["success",7,2]'
	run fnrun -q --worker --dlq file:dead -- sh -c 'read e; exit 1' <<< '{"k":1}'
	assert_success
	run jq -c '.requestPayload' dead
	assert_output '{"k":1}'
}

@test "--worker: stderr passes through; end of input leaves no process" {
	run --separate-stderr fnrun -j 2 --worker -- sh -c 'sleep 1237.5 & while read -r e; do echo "log $e" >&2; echo "$e"; done' < <(seq 1 4)
	assert_success
	assert_output "$(seq 1 4)"
	[[ $stderr == *"log 1"* && $stderr == *"log 4"* ]]
	sleep 0.2
	no_orphans 'sleep 1237.5'
	# A worker that ignores the closed stdin is killed after the grace.
	start=$(date +%s%N)
	run fnrun --worker -- sh -c 'trap "" TERM; read -r e; echo "$e"; exec sleep 1238.5' <<< 1
	end=$(date +%s%N)
	assert_success
	[ $(( (end - start) / 1000000 )) -lt 20000 ]
	no_orphans 'sleep 1238.5'
}

@test "--worker: SIGTERM lets running invocations finish and leaves no process" {
	term_midway --worker -- sh -c 'while read -r x; do sleep 1.01; echo done-$x; done'
	sleep 0.2
	no_orphans 'sleep 1.01'
}
