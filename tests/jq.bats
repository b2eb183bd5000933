#!/usr/bin/env bats
# Every place that hands a value to libjq (core/jx): values libjq 1.6
# aborts on (a lone surrogate, nesting deeper than 256, a path that fails)
# are refused with a reason, never a crash; keys taken by a path
# (--stream-from, --group-from, --dedup-from) are the value's exact text.
load test_helper

# A JSON object nested deeper than libjq's parser takes (256).
deep() {
	printf '{"t":"x","a":'
	printf '%.0s[' $(seq 300)
	printf '%.0s]' $(seq 300)
	printf '}\n'
}

surrogate() {
	printf '{"t":"x","a":"\\ud800"}\n'
}

# Exit statuses of a signal death (134 for SIGABRT) are over 128.
refute_crash() {
	[ "$status" -lt 128 ] || { echo "crashed: exit $status"; return 1; }
}

@test "fnrun --jq: a lone surrogate or deep nesting is the invocation's error, the rest run" {
	{ printf '{"n":1}\n'; surrogate; deep; printf '{"n":4}\n'; } > in
	run --separate-stderr fnrun --jq '.n' in
	refute_crash
	assert_failure 1
	assert_equal "$(sed -n 1p <<< "$output")" 1
	assert_regex "$(sed -n 2p <<< "$output")" '^\{"errorMessage":"jq cannot read this value: Invalid .*surrogate.*","errorType":"JqError"\}$'
	assert_regex "$(sed -n 3p <<< "$output")" '^\{"errorMessage":"jq cannot read this value: Exceeds depth limit for parsing.*","errorType":"JqError"\}$'
	assert_equal "$(sed -n 4p <<< "$output")" 4
}

@test "fnrun --jq: halt_error is an error, halt is no output, import is a usage error" {
	run --separate-stderr fnrun --jq '"bad\n" | halt_error(3)' <<< '{}'
	assert_failure 1
	assert_output '{"errorMessage":"bad","errorType":"JqError"}'
	run fnrun --jq 'halt' <<< '{}'
	assert_success
	assert_output 'null'
	run --separate-stderr fnrun --jq 'import "x" as x; .' <<< '{}'
	refute_crash
	assert_failure 2
	assert_regex "$stderr" 'module not found: x'
}

@test "fnrun: a handler's multi-line JSON deeper than 256 is its result, compact and exact" {
	cat > h.sh <<'EOF'
#!/bin/sh
cat >/dev/null
printf '{"big": 12345678901234567890,\n "a": '
i=0; while [ $i -lt 300 ]; do printf '['; i=$((i+1)); done
i=0; while [ $i -lt 300 ]; do printf ']'; i=$((i+1)); done
printf '}\n'
EOF
	chmod +x h.sh
	run --separate-stderr fnrun -- ./h.sh <<< '{}'
	refute_crash
	assert_success
	assert_equal "$output" "{\"big\":12345678901234567890,\"a\":$(printf '%.0s[' $(seq 300))$(printf '%.0s]' $(seq 300))}"
}

@test "evbus-route -r: a jq target fails the delivery of what libjq cannot read, the others deliver" {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[%s,%s]}]}\n' \
	    '{"id":"j","uri":"file:j","jq":"{n}","dead_letter":"file:dl"}' \
	    '{"id":"f","uri":"file:f"}' > r.json
	{ printf '{"t":"x","n":1}\n'; surrogate; deep; printf '{"t":"x","n":4}\n'; } > in
	run --separate-stderr evbus-route -r r.json in
	refute_crash
	assert_success
	assert_equal "$(nlines f)" 4
	assert_equal "$(cat j)" $'{"n":1}\n{"n":4}'
	# jq(1) cannot read the dead letters back: they hold the events
	assert_equal "$(grep -c '"ERROR_CODE":"TRANSFORMATION_ERROR","ERROR_MESSAGE":"jq: jq cannot read this value: ' dl)" 2
}

@test "evbus-route -r: a jq target with import is a usage error, not a crash" {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"j","uri":"stdout:","jq":"include \\"m\\"; ."}]}]}\n' > r.json
	run --separate-stderr evbus-route -r r.json < /dev/null
	refute_crash
	assert_failure 2
	assert_regex "$stderr" 'targets\[0\]\.jq: .*module not found: m'
}

@test "evbus-route --explain: an event that matches no rule first" {
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[{"id":"s","uri":"stdout:"}]}]}\n' > r.json
	run --separate-stderr evbus-route --explain -r r.json <<< $'{"t":"z"}\n{"t":"x"}'
	refute_crash
	assert_output $'{"event":{"t":"z"},"rules":[]}\n{"event":{"t":"x"},"rules":["r"]}'
}

@test "evlog-append --stream-from: a failing path is a per-line error, what came before committed" {
	printf '{"a":"s1"}\n5\n{"a":"s2"}\n' > in1
	run --separate-stderr evlog-append --stream-from .a ./log in1
	refute_crash
	assert_failure 65
	assert_equal "$stderr" 'evlog-append: in1:2: --stream-from .a: cannot index a number with "a"'
	assert_equal "$(evlog-read --events ./log)" '{"a":"s1"}'
	printf '{"a":{"b":1}}\n{"a":"x"}\n' > in2
	run --separate-stderr evlog-append --stream-from .a.b ./log in2
	refute_crash
	assert_failure 65
	assert_equal "$stderr" 'evlog-append: in2:2: --stream-from .a.b: cannot index a string with "b"'
	assert_equal "$(evlog-read ./log | jq -c '[.seq, .stream]' | tr '\n' ' ')" '[1,"s1"] [2,"1"] '
}

@test "evlog-append --stream-from: null, nothing, containers, surrogates, deep nesting are refused by line" {
	{
		printf '{"a":null}\n{"b":1}\n{"a":{}}\n{"a":[1]}\n{"a":"\\udc00"}\n'
		deep
		printf '{"a":"ok"}\n'
	} > in
	run --separate-stderr evlog-append --errors errs --stream-from .a ./log in
	refute_crash
	assert_success
	run jq -r '"\(.line) \(.error)"' errs
	assert_line -n 0 '1 --stream-from .a: the path yields null for this event'
	assert_line -n 1 '2 --stream-from .a: the path yields null for this event'
	assert_line -n 2 '3 --stream-from .a: the path yields an object for this event'
	assert_line -n 3 '4 --stream-from .a: the path yields an array for this event'
	assert_regex "${lines[4]}" '^5 --stream-from .a: the path yields a string with a lone surrogate'
	assert_line -n 5 '6 --stream-from .a: the path yields an array for this event'
	assert_equal "$(evlog-read ./log | jq -r .stream)" ok
	# a program that is not a simple path goes through libjq, safely
	deep > in3
	run --separate-stderr evlog-append --stream-from '.a // "d"' ./log in3
	refute_crash
	assert_failure 65
	assert_regex "$stderr" '^evlog-append: in3:1: --stream-from .a // "d": jq cannot read this value: Exceeds depth limit'
}

@test "evlog-append --stream-from: the stream is the value's exact text" {
	printf '%s\n' '{"c":1234567890123456789}' '{"c":1234567890123456790}' '{"c":1.0}' '{"c":1}' \
	    '{"c":1e2}' '{"c":"\u0041\ud83d\ude00"}' '{"c":true}' '{"c":"x\"y"}' \
	    '{"d":{"e f":["a","b"]}}' '{"c":2,"c":"last"}' > in
	evlog-append --stream-from .c ./log < <(head -8 in)
	evlog-append --stream-from '.d["e f"][1]' ./log < <(sed -n 9p in)
	evlog-append --stream-from '."c"' ./log < <(sed -n 10p in)
	run jq -c .stream < <(evlog-read ./log)
	assert_output "$(printf '%s\n' '"1234567890123456789"' '"1234567890123456790"' '"1.0"' '"1"' \
	    '"1e2"' '"A😀"' '"true"' '"x\"y"' '"b"' '"last"')"
	run evlog-read --stream 1234567890123456789 --events ./log
	assert_output '{"c":1234567890123456789}'
	# names that differ after a NUL are two streams
	printf '%s\n' '{"c":"x\u0000y"}' '{"c":"x\u0000z"}' | evlog-append --stream-from .c ./log2
	assert_equal "$(evlog-read ./log2 | jq -c '[.stream, .version]' | tr '\n' ' ')" \
	    '["x\u0000y",1] ["x\u0000z",1] '
}

@test "evlog-append --stream-from: a jq program's number is refused unless exact" {
	printf '{"c":{"n":12345678901234567890}}\n' > in
	run --separate-stderr evlog-append --stream-from '.c | .n' ./log in
	assert_failure 65
	assert_regex "$stderr" 'yields a number jq cannot give exactly .*: use a path such as .a.b$'
	printf '{"c":{"n":42}}\n' | evlog-append --stream-from '.c | .n' ./log
	assert_equal "$(evlog-read ./log | jq -r .stream)" 42
}

@test "evlog-read --fold: an event libjq cannot read is a per-line error, never a crash" {
	{ printf '{"a":1}\n'; surrogate; } | evlog-append ./log
	run --separate-stderr evlog-read --fold '$state + [$event.a]' --init '[]' ./log
	refute_crash
	assert_failure 65
	assert_regex "$stderr" '^evlog-read: [^ ]*:2: --fold: jq cannot read this value: Invalid .*surrogate'
	deep | evlog-append ./log2
	run --separate-stderr evlog-read --fold '$state + ($event | length)' --init '0' ./log2
	refute_crash
	assert_failure 65
	assert_regex "$stderr" ':1: --fold: jq cannot read this value: Exceeds depth limit'
}

@test "evq-send --group-from/--dedup-from: ids are the exact text, never rounded" {
	evq-ctl create f.fifo
	printf '%s\n' '{"g":1234567890123456789,"d":1234567890123456789}' \
	    '{"g":1234567890123456790,"d":1234567890123456790}' > in
	evq-send --group-from .g --dedup-from .d f.fifo in
	run sh -c 'evq-recv -e f.fifo | jq -c "[.attributes.MessageGroupId, .attributes.MessageDeduplicationId]"'
	assert_output $'["1234567890123456789","1234567890123456789"]\n["1234567890123456790","1234567890123456790"]'
	# ids that differ only after a NUL are two ids: neither is a duplicate
	printf '%s\n' '{"g":"a","d":"x\u0000y"}' '{"g":"a","d":"x\u0000z"}' |
	    evq-send -p --group-from .g --dedup-from .d f.fifo > ids
	assert_equal "$(jq -r .MessageId ids | sort -u | wc -l)" 2
	assert_equal "$(evq-recv f.fifo | wc -l)" 2
	run --separate-stderr evq-send --group-from .g --dedup-id x f.fifo <<< '{"g":"\ud800"}'
	refute_crash
	assert_failure 65
	assert_regex "$stderr" '^evq-send: <stdin>:1: --group-from: the path yields a string with a lone surrogate'
}

@test "a libjq assertion inside a builtin (todate on -1e19) fails that event only, in every command" {
	printf '{"t":"x","s":0}\n{"t":"x","s":-1e19}\n{"t":"x","s":86400}\n' > in
	run --separate-stderr fnrun --jq '.s | todate' in
	refute_crash
	assert_failure 1
	assert_output "$(printf '%s\n' '"1970-01-01T00:00:00Z"' \
	    '{"errorMessage":"libjq failed on this value (an assertion inside libjq)","errorType":"JqError"}' \
	    '"1970-01-02T00:00:00Z"')"
	printf '{"rules":[{"name":"r","pattern":{"t":["x"]},"targets":[%s,%s]}]}\n' \
	    '{"id":"j","uri":"file:j","jq":"{d: (.s | todate)}","dead_letter":"file:dl"}' \
	    '{"id":"f","uri":"file:f"}' > r.json
	run --separate-stderr evbus-route -r r.json in
	refute_crash
	assert_success
	assert_equal "$(cat j)" $'{"d":"1970-01-01T00:00:00Z"}\n{"d":"1970-01-02T00:00:00Z"}'
	assert_equal "$(nlines f)" 3
	assert_equal "$(jq -r .ERROR_MESSAGE dl)" 'jq: libjq failed on this value (an assertion inside libjq)'
	evlog-append ./log in
	run --separate-stderr evlog-read --fold '$state + [$event.s | todate]' --init '[]' ./log
	refute_crash
	assert_failure 65
	assert_regex "$stderr" ':2: --fold: libjq failed on this value \(an assertion inside libjq\)$'
}
