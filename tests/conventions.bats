#!/usr/bin/env bats
# The conventions every command shares (SPEC.md 1): options anywhere on
# the command line unless "--" ends them, --errors -, --max-line-bytes
# with CRLF, input errors after good lines.
load test_helper

# --- options after operands (GNU getopt_long permutation) ---------------

@test "evq-send: an option after QUEUE and FILE is an option" {
	echo '{"a":1}' > in.ndjson
	run evq-send q in.ndjson -p
	assert_success
	assert_output --regexp '^\{"MessageId":"[0-9a-f-]{36}","MD5OfMessageBody":"bb6cb5c68df4652941caf652a366f2d8"\}$'
	run evq-recv q
	assert_output '{"a":1}'
}

@test "evq-send: '--' ends the options: a file named -p" {
	echo '{"a":2}' > ./-p
	run evq-send q -- -p
	assert_success
	assert_output ''
	run evq-recv q
	assert_output '{"a":2}'
}

@test "evq-recv: an option after QUEUE is an option" {
	printf '{"n":1}\n{"n":2}\n' | evq-send q
	run evq-recv q -n 1
	assert_success
	assert_output '{"n":1}'
	run evq-recv q --peek
	assert_output '{"n":2}'
}

@test "evq-ctl: an option after the QUEUE is an option" {
	evq-ctl create q --visibility 5
	run evq-ctl stat q -q
	assert_success
	[ "$(jq .VisibilityTimeout <<< "$output")" = 5 ]
}

@test "evbus-route: an option after FILE is an option" {
	printf '{"a":1}\n{"a":2}\n' > ev.ndjson
	run evbus-route ev.ndjson -p '{"a":[2]}' -c
	assert_success
	assert_output 1
}

@test "evlog-append and evlog-read: options after LOG and FILE are options" {
	echo '{"x":1}' > ev.ndjson
	run evlog-append ./log ev.ndjson -s orders -p
	assert_success
	[ "$(jq -r .stream <<< "$output")" = orders ]
	run evlog-read ./log -e -s orders
	assert_success
	assert_output '{"x":1}'
}

@test "fnrun: options before '--' are fnrun's wherever they are, those after are CMD's" {
	echo '{"x":1}' > ev.ndjson
	run fnrun ev.ndjson -j 2 -- sh -c 'cat >/dev/null; echo "\"$1\""' sh -j
	assert_success
	assert_output '"-j"'
	run fnrun -- sh -c 'cat >/dev/null; echo "[\"$1\",\"$2\"]"' sh -x ev.ndjson < ev.ndjson
	assert_success
	assert_output '["-x","ev.ndjson"]'
}
