#!/usr/bin/env bats
# evq-send: every option, and every kind of bad input.
load test_helper

@test "sends each line as a message and receives them byte for byte" {
	printf '{"b":1,  "a":2}\n[1,2]\n"s"\n42\n' | evq-send q
	run evq-recv q
	assert_success
	assert_output "$(printf '{"b":1,  "a":2}\n[1,2]\n"s"\n42')"
}

@test "creates the queue on first send with files 0600 in a 0700 directory" {
	echo '{}' | evq-send jobs
	assert_file_exists "$EVKIT_HOME/queues/jobs.db"
	assert_file_permission 600 "$EVKIT_HOME/queues/jobs.db"
	assert_file_permission 700 "$EVKIT_HOME/queues"
}

@test "a QUEUE with a slash is a path" {
	echo '{"x":1}' | evq-send ./local.db
	assert_file_exists local.db
	run evq-recv ./local.db
	assert_output '{"x":1}'
}

@test "--print-ids prints MessageId and MD5OfMessageBody as SQS computes them" {
	run evq-send -p q <<< '{"a":1}'
	assert_success
	assert_output --regexp '^\{"MessageId":"[0-9a-f-]{36}","MD5OfMessageBody":"bb6cb5c68df4652941caf652a366f2d8"\}$'
	[ "$(printf '{"a":1}' | md5sum | cut -d' ' -f1)" = bb6cb5c68df4652941caf652a366f2d8 ]
}

@test "--print-ids MessageIds are the ones received" {
	evq-send -p q <<< '{"a":1}' > ids
	evq-recv -e q > env
	[ "$(jq -r .MessageId ids)" = "$(jq -r .messageId env)" ]
}

@test "reads FILE arguments in order, gzip transparently, - for stdin" {
	printf '{"n":1}\n' > a.ndjson
	printf '{"n":2}\n' | gzip > b.ndjson.gz
	printf '{"n":3}\n' | evq-send q a.ndjson b.ndjson.gz -
	run evq-recv q
	assert_output "$(printf '{"n":1}\n{"n":2}\n{"n":3}')"
}

@test "CRLF line ends and blank lines are accepted" {
	printf '{"n":1}\r\n\r\n\n   \n{"n":2}\r\n' | evq-send q
	run evq-recv q
	assert_output "$(printf '{"n":1}\n{"n":2}')"
}

@test "a last line without a newline is sent" {
	printf '{"n":1}\n{"n":2}' | evq-send q
	run evq-recv q
	assert_output "$(printf '{"n":1}\n{"n":2}')"
}

@test "invalid JSON stops with exit 65 and file:line, after committing the lines before" {
	printf '{"n":1}\n{"n":2}\n{oops\n{"n":4}\n' > in.ndjson
	run --separate-stderr evq-send q in.ndjson
	assert_failure 65
	assert_equal "$stderr" "evq-send: in.ndjson:3: invalid JSON: expected a string key at column 2"
	run evq-recv q
	assert_output "$(printf '{"n":1}\n{"n":2}')"
}

@test "bad input on stdin is reported as <stdin>" {
	run --separate-stderr evq-send q <<< 'nope'
	assert_failure 65
	assert_equal "$stderr" "evq-send: <stdin>:1: invalid JSON: invalid literal at column 1"
}

@test "--errors FILE records bad lines as JSON and goes on" {
	printf '{"n":1}\n{oops\n\xff\n{"n":4}\n' | evq-send --errors bad.ndjson q
	run evq-recv q
	assert_output "$(printf '{"n":1}\n{"n":4}')"
	run jq -c . bad.ndjson
	assert_line --index 0 '{"error":"invalid JSON: expected a string key at column 2","file":"<stdin>","line":2,"input":"{oops"}'
	assert_equal "$(jq -r 'select(.line == 3) | .input' bad.ndjson)" $'\xef\xbf\xbd'
	assert_file_permission 600 bad.ndjson
}

@test "invalid UTF-8 inside a string is bad input" {
	run --separate-stderr evq-send q < <(printf '{"a":"\xc3\x28"}\n')
	assert_failure 65
	assert_equal "$stderr" "evq-send: <stdin>:1: invalid JSON: invalid UTF-8 at column 7"
}

@test "a line over --max-line-bytes is bad input, and memory stays bounded" {
	{ echo '{"n":1}'; head -c 3000000 /dev/zero | tr '\0' 'a'; echo; echo '{"n":3}'; } > big
	run --separate-stderr evq-send --errors err.ndjson --max-line-bytes 100000 q big
	assert_success
	run evq-recv q
	assert_output "$(printf '{"n":1}\n{"n":3}')"
	run jq -r '.error + " " + (.line|tostring)' err.ndjson
	assert_output "line longer than --max-line-bytes 2"
}

@test "a message over MaximumMessageSize is refused" {
	evq-ctl create small --max-message-bytes 1024
	printf '"%s"\n' "$(head -c 1100 /dev/zero | tr '\0' x)" > big
	run --separate-stderr evq-send small big
	assert_failure 65
	assert_equal "$stderr" "evq-send: big:1: message of 1102 bytes is over the queue's MaximumMessageSize (1024)"
}

@test "the default limit is 1 MiB, as SQS since 2025" {
	printf '"%s"\n' "$(head -c 1048574 /dev/zero | tr '\0' x)" > max
	printf '"%s"\n' "$(head -c 1048575 /dev/zero | tr '\0' x)" > over
	run evq-send --max-line-bytes 2000000 q max
	assert_success
	run evq-send --max-line-bytes 2000000 q over
	assert_failure 65
}

@test "--raw sends any UTF-8 text line" {
	printf 'plain text\nmore, text\n' | evq-send --raw q
	run evq-recv q
	assert_output "$(printf 'plain text\nmore, text')"
	run evq-send --raw q < <(printf 'bad \x01 control\n')
	assert_failure 65
}

@test "--delay hides messages for the given time" {
	echo '{"d":1}' | evq-send --delay 1 q
	run evq-recv q
	assert_failure 1
	assert_equal "$(evq-ctl stat q | jq .ApproximateNumberOfMessagesDelayed)" 1
	sleep 1.1
	run evq-recv q
	assert_output '{"d":1}'
}

@test "--attr adds message attributes with SQS's MD5OfMessageAttributes" {
	run evq-send -p --attr attribName1=attribValue\ 1 q <<< '{"a":1}'
	assert_output --partial '"MD5OfMessageAttributes":"19e27d4e946b072f3f58da80d94fd778"'
	run evq-send -p --attr k=v --attr customNumberTypeAttrib:Number.float=4563442423554324324264524243.32543234 \
	    --attr binaryAttribute:Binary=$(printf 'Hello binary world!' | base64) q <<< '{"a":1}'
	evq-send -p --attr attribName1='attribValue 1' \
	    --attr customNumberTypeAttrib:Number.float=4563442423554324324264524243.32543234 \
	    --attr binaryAttribute:Binary=$(printf 'Hello binary world!' | base64) q2 <<< '{}' > ids
	assert_equal "$(jq -r .MD5OfMessageAttributes ids)" c932db14a896c663f83c260297d594ff
	evq-recv -e q2 > env
	assert_equal "$(jq -r .md5OfMessageAttributes env)" c932db14a896c663f83c260297d594ff
	assert_equal "$(jq -c '.messageAttributes.attribName1' env)" \
	    '{"stringValue":"attribValue 1","stringListValues":[],"binaryListValues":[],"dataType":"String"}'
	assert_equal "$(jq -r '.messageAttributes.binaryAttribute.binaryValue' env | base64 -d)" 'Hello binary world!'
}

@test "bad --attr values are usage errors" {
	run evq-send --attr AWS.x=1 q <<< '{}'
	assert_failure 2
	assert_output --partial "reserved"
	run evq-send --attr n:Number=abc q <<< '{}'
	assert_failure 2
	run evq-send --attr b:Binary=@@@ q <<< '{}'
	assert_failure 2
	run evq-send --attr novalue q <<< '{}'
	assert_failure 2
	run evq-send --attr a=1 --attr a=2 q <<< '{}'
	assert_failure 2
	run evq-send $(for i in $(seq 11); do echo --attr a$i=1; done) q <<< '{}'
	assert_failure 2
}

@test "invalid queue names are usage errors" {
	run evq-send 'bad name' <<< '{}'
	assert_failure 2
	assert_output --partial "invalid queue name 'bad name'"
	run evq-send "$(printf 'x%.0s' $(seq 81))" <<< '{}'
	assert_failure 2
	run evq-send 'a.b' <<< '{}'
	assert_failure 2
}

@test "FIFO: a send without a group is a usage error" {
	evq-ctl create jobs.fifo --content-dedup
	run evq-send jobs.fifo <<< '{}'
	assert_failure 2
	assert_output --partial "give --group-id or --group-from"
}

@test "FIFO: without content dedup a dedup id is required" {
	evq-ctl create j.fifo
	run evq-send -g g j.fifo <<< '{}'
	assert_failure 2
	run evq-send -g g -D d1 j.fifo <<< '{}'
	assert_success
}

@test "FIFO: a .fifo name is created FIFO; per-message delay is refused" {
	run evq-send -g g --delay 1 --dedup-id x new.fifo <<< '{}'
	assert_failure 2
	assert_equal "$(evq-ctl stat new.fifo | jq .FifoQueue)" true
}

@test "FIFO: --group-from and --dedup-from take ids from each message" {
	evq-ctl create o.fifo
	printf '{"o":"A","id":1}\n{"o":"B","id":2}\n{"o":"A","id":1}\n' | evq-send -p --group-from .o --dedup-from .id o.fifo > ids
	assert_equal "$(nlines ids)" 3
	assert_equal "$(jq -r .SequenceNumber ids | sort -u | wc -l)" 2
	evq-recv -e o.fifo > env
	assert_equal "$(nlines env)" 2
	assert_equal "$(jq -r .attributes.MessageGroupId env | paste -sd,)" "A,B"
	assert_equal "$(jq -r .attributes.MessageDeduplicationId env | paste -sd,)" "1,2"
}

@test "FIFO: --group-from that finds nothing is bad input for that line" {
	evq-ctl create o.fifo --content-dedup
	run --separate-stderr evq-send --group-from .o o.fifo <<< '{"x":1}'
	assert_failure 65
	assert_equal "$stderr" "evq-send: <stdin>:1: --group-from: the path yields null for this event"
	run evq-send --group-from '.[' o.fifo <<< '{}'
	assert_failure 2
}

@test "FIFO: a repeated dedup id within 5 minutes is accepted, not enqueued, and answers the original id" {
	evq-ctl create d.fifo
	evq-send -p -g g -D same d.fifo <<< '{"n":1}' > first
	evq-send -p -g g -D same d.fifo <<< '{"n":2}' > second
	assert_equal "$(jq -r .MessageId first)" "$(jq -r .MessageId second)"
	assert_equal "$(jq -r .SequenceNumber first)" "$(jq -r .SequenceNumber second)"
	run evq-recv d.fifo
	assert_output '{"n":1}'
}

@test "FIFO: dedup ids are remembered after the message is deleted" {
	evq-ctl create d.fifo
	evq-send -g g -D same d.fifo <<< '{"n":1}'
	evq-recv d.fifo
	evq-send -g g -D same d.fifo <<< '{"n":2}'
	run evq-recv d.fifo
	assert_failure 1
}

@test "FIFO: content-based dedup uses the SHA-256 of the body" {
	evq-ctl create c.fifo --content-dedup
	printf '"a1"\n"a1"\n"a2"\n' | evq-send -g g c.fifo
	evq-recv -e c.fifo > env
	assert_equal "$(nlines env)" 2
	assert_equal "$(jq -r .attributes.MessageDeduplicationId env | head -1)" "$(printf '"a1"' | sha256sum | cut -d' ' -f1)"
}

@test "a missing input file is reported, the others are sent, exit 66" {
	echo '{"n":1}' > ok.ndjson
	run --separate-stderr evq-send q missing.ndjson ok.ndjson
	assert_failure 66
	assert_equal "$stderr" "evq-send: cannot open 'missing.ndjson': No such file or directory"
	run evq-recv q
	assert_output '{"n":1}'
}

@test "a file that is not a queue is refused with 65 and left alone" {
	echo 'hello' > notaq.db
	run evq-send ./notaq.db <<< '{}'
	assert_failure 65
	assert_output --partial "not an evkit queue"
	assert_equal "$(cat notaq.db)" hello
	sqlite3 other.db 'create table t(x); insert into t values(1)'
	run evq-send ./other.db <<< '{}'
	assert_failure 65
	assert_equal "$(sqlite3 other.db 'select count(*) from t')" 1
}

@test "an unwritable directory is an I/O error (74)" {
	[ "$(id -u)" -eq 0 ] && mkdir ro && chattr +i ro 2>/dev/null || { mkdir -p ro && chmod 500 ro; }
	run evq-send ./ro/q.db <<< '{}'
	chattr -i ro 2>/dev/null || true
	assert_failure 74
}

@test "usage errors exit 2 and say how to get help" {
	run evq-send
	assert_failure 2
	assert_line --index 1 "usage: evq-send [OPTIONS] QUEUE [FILE...]"
	assert_line --index 2 "Try 'evq-send --help' for more information."
	run evq-send --bogus q
	assert_failure 2
	run evq-send --delay 901 q
	assert_failure 2
	run evq-send --delay abc q
	assert_failure 2
}

@test "--help goes to stdout with exit 0; --version names evkit" {
	run --separate-stderr evq-send --help
	assert_success
	assert_line --index 0 "usage: evq-send [OPTIONS] QUEUE [FILE...]"
	run evq-send --version
	assert_success
	assert_output --regexp '^evq-send \(evkit\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a slow producer's lines are committed before it sends more" {
	mkfifo in
	evq-send -p q < in > ids 3>&- &
	pid=$!
	exec 5>in
	echo '{"n":1}' >&5
	wait_for '[ -s ids ]' 5
	run evq-recv --peek q
	assert_output '{"n":1}'
	exec 5>&-
	wait "$pid"
}
