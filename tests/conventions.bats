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

# --- --errors and --max-line-bytes ---------------------------------------

@test "--errors - writes the records to stderr, not to a file named -" {
	printf '{"a":1}\nnot json\n{"a":2}\n' > in.ndjson
	run --separate-stderr evq-send --errors - q in.ndjson
	assert_success
	assert_file_not_exists ./-
	[ "$(jq -r .error <<< "$stderr")" = "invalid JSON: invalid literal at column 1" ]
	[ "$(jq -r .line <<< "$stderr")" = 2 ]
	run evq-recv q
	assert_output "$(printf '{"a":1}\n{"a":2}')"
	run --separate-stderr evbus-route --errors - -p '{"a":[2]}' in.ndjson
	assert_success
	assert_output '{"a":2}'
	[ "$(jq -r .input <<< "$stderr")" = "not json" ]
}

@test "--max-line-bytes: a line of exactly N bytes ending in CRLF is accepted" {
	printf '{"a":1}\r\n{"a":12}\r\n' > crlf.ndjson
	run --separate-stderr evq-send --max-line-bytes 7 q crlf.ndjson
	assert_failure 65
	assert_equal "$stderr" "evq-send: crlf.ndjson:2: line longer than --max-line-bytes"
	run evq-recv q
	assert_output '{"a":1}'
	# the same through a pipe, and the last line without its LF
	printf '{"a":1}\r\n{"a":2}\r' | evq-send --max-line-bytes 7 q
	run evq-recv q
	assert_output "$(printf '{"a":1}\n{"a":2}')"
	# the CR and the LF in two reads, most likely (either way it is one line)
	{ printf '{"a":3}\r'; sleep 0.2; printf '\n'; } | evq-send --max-line-bytes 7 q
	run evq-recv q
	assert_output '{"a":3}'
}

@test "--max-line-bytes: the default 1 MiB with CRLF, in a mapped file and a pipe" {
	{ printf '{"a":"'; head -c 1048568 /dev/zero | tr '\0' a; printf '"}\r\n{"b":2}\r\n'; } > big.ndjson
	[ "$(head -n 1 big.ndjson | wc -c)" = $((1048576 + 2)) ]
	run evbus-route -c -p '{"b":[2]}' big.ndjson
	assert_output 1
	run evq-send q big.ndjson
	assert_success
	cat big.ndjson | evq-send q
	[ "$(evq-ctl stat q | jq .ApproximateNumberOfMessages)" = 4 ]
}

# --- input that cannot be read on, after good lines (SPEC.md 1) ---------

lines() {	# lines N: N small JSON objects
	seq 1 "$1" | sed 's/.*/{"n":&}/'
}

@test "evq-send: N good lines then a corrupt gzip member: the N are sent, exit 65" {
	lines 482 > good.ndjson
	{ gzip -c good.ndjson; printf '\037\213\010\000\000\000\000\000\000\003garbage-garbage-garbage'; } > bad.gz
	run --separate-stderr evq-send q bad.gz
	assert_failure 65
	assert_equal "$stderr" "evq-send: bad.gz:483: corrupt gzip data"
	[ "$(evq-recv q | wc -l)" = 482 ]
}

@test "evq-send: a truncated gzip file: the whole lines before are sent, exit 65" {
	lines 5000 | gzip -c | head -c 4000 > cut.gz
	run --separate-stderr evq-send q cut.gz
	assert_failure 65
	assert_regex "$stderr" '^evq-send: cut\.gz:[0-9]+: truncated gzip data$'
	n=$(evq-recv q | wc -l)
	[ "$n" -gt 0 ]
	[ "$stderr" = "evq-send: cut.gz:$((n + 1)): truncated gzip data" ]
}

@test "evq-send: a directory operand after good lines: they are sent, the rest too, exit 66" {
	lines 482 > good.ndjson
	mkdir dir
	echo '{"n":"after"}' > after.ndjson
	run --separate-stderr evq-send q good.ndjson dir after.ndjson
	assert_failure 66
	assert_equal "$stderr" "evq-send: cannot read 'dir': Is a directory"
	[ "$(evq-recv q | wc -l)" = 483 ]
}

@test "evq-send and evlog-append: a read error after good lines: they are committed, exit 74" {
	[ -r /proc/self/mem ] || skip "no /proc/self/mem (a file whose read() fails)"
	lines 482 > good.ndjson
	run --separate-stderr evq-send q good.ndjson /proc/self/mem
	assert_failure 74
	assert_equal "$stderr" "evq-send: /proc/self/mem:1: read error: Input/output error"
	[ "$(evq-recv q | wc -l)" = 482 ]
	run --separate-stderr evlog-append ./log good.ndjson /proc/self/mem
	assert_failure 74
	[ "$(evlog-read ./log | wc -l)" = 482 ]
}

@test "evq-send --errors: a corrupt gzip member is recorded and the next FILE read" {
	lines 3 > good.ndjson
	{ gzip -c good.ndjson; printf '\037\213\010\000\000\000\000\000\000\003garbage-garbage-garbage'; } > bad.gz
	run evq-send --errors e.json q bad.gz good.ndjson
	assert_success
	[ "$(jq -c '[.error, .file, .line]' e.json)" = '["corrupt gzip data","bad.gz",4]' ]
	[ "$(evq-recv q | wc -l)" = 6 ]
}

@test "evlog-append: N good lines then a corrupt gzip member or a directory: the N are appended" {
	lines 482 > good.ndjson
	{ gzip -c good.ndjson; printf '\037\213\010\000\000\000\000\000\000\003garbage-garbage-garbage'; } > bad.gz
	run --separate-stderr evlog-append ./log bad.gz
	assert_failure 65
	assert_equal "$stderr" "evlog-append: bad.gz:483: corrupt gzip data"
	[ "$(evlog-read ./log | wc -l)" = 482 ]
	mkdir dir
	run --separate-stderr evlog-append ./log good.ndjson dir
	assert_failure 66
	assert_equal "$stderr" "evlog-append: cannot read 'dir': Is a directory"
	[ "$(evlog-read ./log | wc -l)" = 964 ]
}

@test "fnrun and evbus-route -r: the events before a corrupt gzip member are all run, delivered" {
	lines 5 > good.ndjson
	{ gzip -c good.ndjson; printf '\037\213\010\000\000\000\000\000\000\003garbage-garbage-garbage'; } > bad.gz
	run --separate-stderr fnrun -j 2 bad.gz -- cat
	assert_failure 65
	assert_equal "$stderr" "fnrun: bad.gz:6: corrupt gzip data"
	assert_equal "${#lines[@]}" 5
	echo '{"rules":[{"name":"all","pattern":{"n":[{"exists":true}]},"targets":[{"id":"f","uri":"file:out.ndjson"}]}]}' > rules.json
	run --separate-stderr evbus-route -r rules.json bad.gz
	assert_failure 65
	assert_equal "$stderr" "evbus-route: bad.gz:6: corrupt gzip data"
	[ "$(wc -l < out.ndjson)" = 5 ]
}

@test "gzip with trailing zero padding is read as zcat reads it" {
	lines 3 > good.ndjson
	{ gzip -c good.ndjson; head -c 1000 /dev/zero; } > pad.gz
	[ "$(zcat pad.gz | wc -l)" = 3 ]
	run evq-send q pad.gz
	assert_success
	[ "$(evq-recv q | wc -l)" = 3 ]
	run evbus-route -c -p '{"n":[{"numeric":[">",0]}]}' pad.gz
	assert_output 3
}

# --- messages ------------------------------------------------------------

@test "valid JSON libjq cannot read is not called 'not JSON'" {
	deep=$(printf '[%.0s' $(seq 300))$(printf ']%.0s' $(seq 300))
	echo "{\"a\":$deep,\"g\":\"x\"}" > deep.ndjson
	# a plain path is read from the text itself: libjq never sees the line
	run --separate-stderr evq-send -G .g --dedup-id d q.fifo deep.ndjson
	assert_success
	# a program libjq runs cannot take the line: said so, not "not JSON"
	run --separate-stderr evq-send -G '.g | ascii_downcase' --dedup-id e q.fifo deep.ndjson
	assert_failure 65
	refute_regex "$stderr" 'not JSON'
	assert_regex "$stderr" 'deep\.ndjson:1: --group-from: jq cannot read this value'
}

@test "a queue or log given as a URI of an unknown scheme is a usage error (2) that makes nothing" {
	for cmd in "evq-send htps://h/1/q" "evq-recv ftp://h/q" "evq-ctl create ftp://h/q" \
	    "evlog-append redis://h/x" "evlog-read redis://h/x"; do
		run --separate-stderr $cmd < /dev/null
		assert_failure 2
		assert_regex "$stderr" "unknown scheme '[a-z]+://' \(write \./"
	done
	[ ! -e htps: ] && [ ! -e ftp: ] && [ ! -e redis: ]
	# a path of that shape is still a path when it says so
	echo '{"a":1}' | evq-send ./ftp://h/q
	run evq-recv ./ftp://h/q
	assert_output '{"a":1}'
}
