#!/usr/bin/env bats
# evlog-append: records, streams, ids, expect-version, batches, crashes.
load test_helper

# n events {"n":i,"pad":…} of about 100 bytes, on stdout.
events() {
	awk -v n="$1" -v w="${2:-0}" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "{\"w\":%d,\"n\":%d,\"pad\":\"%s\"}\n", w, i,
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }'
}

@test "appends records with seq, stream, version, time, id, event and crc" {
	printf '{"n":1}\n{"id":"e-2","n":2}\n' > in.ndjson
	run evlog-append -p ./log in.ndjson
	assert_success
	assert_equal "${#lines[@]}" 2
	run jq -c '[.seq, .stream, .version, .id, .event]' <<<"$output"
	assert_line -n 1 '[2,"default",2,"e-2",{"id":"e-2","n":2}]'
	assert_regex "${lines[0]}" '^\[1,"default",1,"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-'
	run evlog-read ./log
	assert_regex "${lines[0]}" '"time":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z"'
	assert_regex "${lines[0]}" ',"crc":"[0-9a-f]{8}"\}$'
	assert_file_exists log/00000000000000000001.ndjson
}

@test "the crc is zlib's CRC-32 of the bytes before ,\"crc\":" {
	echo '{"n":1}' | evlog-append ./log
	line=$(cat log/00000000000000000001.ndjson)
	body=${line%,\"crc\":*}
	want=$(printf '%s' "$body" | gzip -c | tail -c 8 | head -c 4 | od -An -tx4 | tr -d ' \n')
	assert_equal "\"crc\":\"$want\"}" "${line#"$body",}"
}

@test "files are 0600 and the directory 0700" {
	echo '{"n":1}' | evlog-append ./log
	assert_equal "$(stat -c %a log)" 700
	assert_equal "$(stat -c %a log/00000000000000000001.ndjson)" 600
	assert_equal "$(stat -c %a log/lock)" 600
}

@test "a name is a log under \$EVKIT_HOME/logs" {
	echo '{"n":1}' | evlog-append orders
	assert_file_exists "$EVKIT_HOME/logs/orders/00000000000000000001.ndjson"
	run evlog-append 'bad name'
	assert_failure 2
}

@test "white space in events is compacted and key order kept" {
	printf '{ "b" : [1, 2],\t"a": "x y" }\r\n\n' | evlog-append ./log
	run evlog-read -e ./log
	assert_output '{"b":[1,2],"a":"x y"}'
}

@test "--stream and --stream-from put events in streams with their own versions" {
	printf '{"subject":"a"}\n{"subject":"b"}\n{"subject":"a"}\n{"subject":7}\n' |
	    evlog-append --stream-from .subject ./log
	run sh -c "evlog-read ./log | jq -c '[.seq, .stream, .version]'"
	assert_output $'[1,"a",1]\n[2,"b",1]\n[3,"a",2]\n[4,"7",1]'
	echo '{"x":1}' | evlog-append -s b ./log
	run sh -c "evlog-read --from 5 ./log | jq -c '[.stream, .version]'"
	assert_output '["b",2]'
}

@test "--stream-from: a missing path is a bad line, a bad path a usage error" {
	printf '{"subject":"a"}\n{"other":1}\n' > in.ndjson
	run --separate-stderr evlog-append --stream-from .subject ./log in.ndjson
	assert_failure 65
	assert_equal "$stderr" "evlog-append: in.ndjson:2: --stream-from .subject: the path yields null for this event"
	assert_equal "$(evlog-read ./log | wc -l)" 1
	run evlog-append --stream-from '.[' ./log2 </dev/null
	assert_failure 2
	run evlog-append --stream-from .a --stream x ./log2 </dev/null
	assert_failure 2
}

@test "idempotent: an id already in the stream is not appended again" {
	printf '{"id":"a"}\n{"id":"b"}\n{"id":"a"}\n' | evlog-append ./log
	printf '{"id":"b"}\n{"id":"c"}\n' > again.ndjson
	run evlog-append -p ./log again.ndjson
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_regex "$output" '"seq":3,.*"id":"c"'
	# the same id in another stream is another event
	echo '{"id":"a"}' | evlog-append -s other ./log
	assert_equal "$(evlog-read ./log | wc -l)" 4
}

@test "idempotence survives a lost index" {
	printf '{"id":"a"}\n{"id":"b"}\n' | evlog-append ./log
	rm log/index
	printf '{"id":"a"}\n{"id":"z"}\n' | evlog-append ./log
	run sh -c "evlog-read ./log | jq -c '[.seq, .version, .id]'"
	assert_output $'[1,1,"a"]\n[2,2,"b"]\n[3,3,"z"]'
	# a damaged index is rebuilt too
	printf 'garbage' | dd of=log/index bs=1 seek=8 conv=notrunc 2>/dev/null
	echo '{"id":"b"}' | evlog-append ./log
	assert_equal "$(evlog-read ./log | wc -l)" 3
}

@test "--expect-version N appends only at version N, else exit 3 and nothing" {
	events 5 | evlog-append -s acct ./log
	run --separate-stderr evlog-append -s acct --expect-version 4 ./log < <(events 2)
	assert_failure 3
	assert_equal "$stderr" 'evlog-append: conflict: stream "acct" is at version 5, expected 4'
	assert_equal "$(evlog-read ./log | wc -l)" 5
	run evlog-append -s acct --expect-version 5 -p ./log < <(events 2)
	assert_success
	assert_equal "${#lines[@]}" 2
	run evlog-append -s acct --expect-version any ./log < <(events 1)
	assert_success
}

@test "--expect-version none: only a new stream" {
	run evlog-append -s new --expect-version none ./log < <(events 1)
	assert_success
	run --separate-stderr evlog-append -s new --expect-version none ./log < <(events 1)
	assert_failure 3
	assert_equal "$stderr" 'evlog-append: conflict: stream "new" is at version 1, expected none'
	run evlog-append -s new --expect-version 0 ./log < <(events 1)
	assert_failure 3
	run evlog-append --expect-version x ./log </dev/null
	assert_failure 2
}

@test "--expect-version covers the whole input: a big input is all or nothing" {
	events 10000 > big.ndjson
	echo '{"n":0}' | evlog-append -s s ./log
	run evlog-append -s s --expect-version 0 ./log big.ndjson
	assert_failure 3
	assert_equal "$(evlog-read ./log | wc -l)" 1
	run evlog-append -s s --expect-version 1 ./log big.ndjson
	assert_success
	assert_equal "$(evlog-read ./log | wc -l)" 10001
}

@test "two appenders racing with the same --expect-version: exactly one wins" {
	echo '{"n":0}' | evlog-append -s race ./log
	v=1
	for round in 1 2 3 4 5; do
		pids=()
		for i in 1 2; do
			( rc=0
			  events 50 "$i" | evlog-append -s race --expect-version "$v" ./log 2>/dev/null ||
			      rc=$?
			  echo "$rc" > "rc.$i" ) &
			pids+=($!)
		done
		wait "${pids[@]}"
		assert_equal "$(cat rc.1 rc.2 | sort | tr '\n' ' ')" "0 3 "
		v=$((v + 50))
		assert_equal "$(evlog-read -s race ./log | tail -1 | jq .version)" "$v"
	done
	assert_equal "$(evlog-read ./log | wc -l)" 251
}

@test "concurrent appenders: seq and versions gap-free, batches not interleaved" {
	for i in 1 2 3 4; do
		events 6000 "$i" > in.$i
	done
	for i in 1 2 3 4; do
		evlog-append -s "s$((i % 2))" --segment-bytes 200000 ./log in.$i &
	done
	wait
	run evlog-read --verify ./log
	assert_success
	assert_output '{"records":24000,"damaged":0}'
	# seq 1..N in order; per stream versions 1..n
	evlog-read ./log | jq -r '[.seq, .stream, .version, .event.w, .event.n] | @tsv' > all.tsv
	run awk '$1 != NR { print "seq", NR, $1; exit 1 }
	    { v[$2]++; if ($3 != v[$2]) { print "version", $0; exit 1 } }' all.tsv
	assert_success
	# each writer's events in input order, in whole batches of 16384
	run awk '{ if ($5 != last[$4] + 1) { print "order", $0; exit 1 } last[$4] = $5 }' all.tsv
	assert_success
	run awk 'NR > 1 && $4 != w { if (($5 - 1) % 16384 != 0) { print "split", $0; exit 1 } }
	    { w = $4 }' all.tsv
	assert_success
	ls log/*.ndjson.gz >/dev/null
}

@test "segments rotate at --segment-bytes and are sealed with gzip" {
	events 500 > in.ndjson
	for i in 1 2 3; do evlog-append --segment-bytes 20000 ./log in.ndjson; done
	run ls log
	assert_output $'00000000000000000001.ndjson.gz\n00000000000000000501.ndjson.gz\n00000000000000001001.ndjson\nindex\nlock'
	run sh -c 'zcat log/00000000000000000501.ndjson.gz | head -1 | jq .seq'
	assert_output 501
	assert_equal "$(evlog-read -e ./log | jq -s 'map(.n) | add')" $((3 * 500 * 501 / 2))
	run evlog-append --segment-bytes 0 ./log </dev/null
	assert_failure 2
}

@test "a seal cut short is finished by the next append" {
	events 100 > in.ndjson
	evlog-append --segment-bytes 1000 ./log in.ndjson
	evlog-append --segment-bytes 1000 ./log in.ndjson
	# as if killed between the rename of the .gz and the unlink
	zcat log/00000000000000000001.ndjson.gz > log/00000000000000000001.ndjson
	echo junk > log/00000000000000000101.ndjson.gz.tmp
	evlog-append --segment-bytes 1000 ./log in.ndjson
	run ls log
	assert_output $'00000000000000000001.ndjson.gz\n00000000000000000101.ndjson.gz\n00000000000000000201.ndjson\nindex\nlock'
	run evlog-read --verify ./log
	assert_success
}

@test "a big seal of its own still running at exit is left whole and plain; the next writer seals it" {
	events 100000 > in.ndjson
	evlog-append --segment-bytes 1000000000 ./log in.ndjson
	# rotates the 20 MB segment and exits at once: its seal is stopped
	echo '{"n":0}' | evlog-append --segment-bytes 1000000 ./log
	run ls log
	assert_output $'00000000000000000001.ndjson\n00000000000000100001.ndjson\nindex\nlock'
	run evlog-read --verify ./log
	assert_success
	assert_output '{"records":100001,"damaged":0}'
	# the next writer finds it unsealed, seals it and waits for that
	echo '{"n":0}' | evlog-append --segment-bytes 1000000 ./log
	run ls log
	assert_output $'00000000000000000001.ndjson.gz\n00000000000000100001.ndjson\nindex\nlock'
	gzip -t log/00000000000000000001.ndjson.gz
	assert_equal "$(evlog-read -e ./log | jq -s 'map(.n) | add')" $((100000 * 100001 / 2))
}

@test "--fsync always, batch and never all commit" {
	for m in always batch never; do
		events 20 | evlog-append --fsync "$m" ./log
	done
	assert_equal "$(evlog-read ./log | wc -l)" 60
	run evlog-append --fsync sometimes ./log </dev/null
	assert_failure 2
}

@test "a bad line stops with 65 after appending the lines before it" {
	printf '{"n":1}\n{"n":2}\n{oops\n{"n":4}\n' > in.ndjson
	run --separate-stderr evlog-append ./log in.ndjson
	assert_failure 65
	assert_regex "$stderr" '^evlog-append: in\.ndjson:3: invalid JSON'
	assert_equal "$(evlog-read ./log | wc -l)" 2
	echo '[1]' | { run --separate-stderr evlog-append ./log; assert_failure 65
	    assert_equal "$stderr" 'evlog-append: <stdin>:1: an event must be a JSON object'; }
}

@test "--errors FILE records bad lines and goes on" {
	printf '{"n":1}\n"str"\n{bad\n{"n":4}\n' | evlog-append --errors err.ndjson ./log
	assert_equal "$(evlog-read ./log | wc -l)" 2
	run jq -c '[.line, .input]' err.ndjson
	assert_output $'[2,"\\"str\\""]\n[3,"{bad"]'
}

@test "--max-line-bytes rejects a longer line" {
	printf '{"n":1}\n{"pad":"%0200d"}\n' 0 > in.ndjson
	run --separate-stderr evlog-append --max-line-bytes 100 ./log in.ndjson
	assert_failure 65
	assert_regex "$stderr" 'in\.ndjson:2: line longer'
	assert_equal "$(evlog-read ./log | wc -l)" 1
}

@test "gzip input is read; a missing input file is 66 after the others" {
	events 3 | gzip > in.gz
	run evlog-append ./log in.gz nosuch.ndjson
	assert_failure 66
	assert_equal "$(evlog-read ./log | wc -l)" 3
}

@test "kill -9 in the middle of a large append loses nothing printed" {
	events 400000 > big.ndjson
	evlog-append -p --segment-bytes 3000000 ./log big.ndjson > printed &
	pid=$!
	wait_for '[ "$(wc -l < printed)" -gt 20000 ]' 20
	kill -9 "$pid"
	wait "$pid" || true
	# every printed record is in the log, byte for byte (the kill may
	# have cut the printing of a batch: a last partial line is no record)
	n=$(wc -l < printed)
	head -n "$n" printed > whole
	evlog-read ./log | head -n "$n" > stored
	run cmp whole stored
	assert_success
	# the next append recovers and carries on the sequence
	last=$(evlog-read ./log | tail -1 | jq .seq)
	echo '{"after":1}' | evlog-append ./log
	assert_equal "$(evlog-read ./log | tail -1 | jq .seq)" $((last + 1))
	run evlog-read --verify ./log
	assert_success
}

@test "a torn tail is cut on the next append, with a warning" {
	events 3 | evlog-append ./log
	printf '{"seq":4,"stream":"def' >> log/00000000000000000001.ndjson
	run --separate-stderr evlog-append ./log < <(events 1)
	assert_success
	assert_regex "$stderr" 'cut 22 torn bytes at offset'
	run evlog-read --verify ./log
	assert_output '{"records":4,"damaged":0}'
	# -q silences the warning
	printf 'xx' >> log/00000000000000000001.ndjson
	run --separate-stderr evlog-append -q ./log < <(events 1)
	assert_equal "$stderr" ""
}

@test "a damaged record before the tail is not cut: append refuses" {
	events 3 | evlog-append ./log
	rm log/index
	sed -i '2s/"n":2/"n":7/' log/00000000000000000001.ndjson
	run --separate-stderr evlog-append ./log < <(events 1)
	assert_failure 65
	assert_regex "$stderr" 'damaged record at offset [0-9]+: crc mismatch'
	assert_equal "$(wc -l < log/00000000000000000001.ndjson)" 3
}

@test "a directory that cannot be written: exit 74" {
	dir=$(mktemp -d)
	chmod 755 "$dir"
	mkdir "$dir/log" && chmod 555 "$dir/log"
	if [ "$(id -u)" -eq 0 ]; then
		run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$TOP/bin/evlog-append" "$dir/log" < <(events 1)
	else
		run --separate-stderr evlog-append "$dir/log" < <(events 1)
	fi
	assert_failure 74
	assert_regex "$stderr" "evlog-append: cannot open '.*/log/lock': Permission denied"
	rm -rf "$dir"
}

@test "a full disk: exit 74, nothing committed is lost, the log stays sound" {
	mkdir mnt
	# room for a few batches of 16384 records and the index, not for all
	mount -t tmpfs -o size=24m tmpfs mnt || {
		echo "cannot mount a tmpfs here (needs root)" >&2
		return 1
	}
	seq 1 200000 | sed 's/.*/{"n":&}/' > big.ndjson
	run --separate-stderr evlog-append -p ./mnt/log big.ndjson
	printf '%s\n' "$output" > printed
	assert_failure 74
	assert_regex "$stderr" 'No space left on device'
	n=$(wc -l < printed)
	[ "$n" -gt 0 ]
	run cmp printed <(evlog-read ./mnt/log)
	assert_success
	run evlog-read --verify ./mnt/log
	assert_success
	umount mnt
}

@test "a seal that fails (a full disk) is left to the next writer, not retried at each batch" {
	command -v strace >/dev/null || skip "no strace"
	mkdir mnt
	mount -t tmpfs -o size=8m tmpfs mnt || {
		echo "cannot mount a tmpfs here (needs root)" >&2
		return 1
	}
	# a 2.4 MB segment that gzip cannot make small
	head -c 900000 /dev/urandom | base64 -w 100 | sed 's/.*/{"p":"&"}/' > rnd.ndjson
	evlog-append --segment-bytes 1000000 ./mnt/log rnd.ndjson
	free=$(df --output=avail -B1 mnt | tail -1)
	dd if=/dev/zero of=mnt/fill bs=4096 count=$(( (free - 300000) / 4096 )) 2>/dev/null
	# three batches: the first rotates, and its seal fails for room
	# (LeakSanitizer cannot run under ptrace: off for this one, if on)
	{ echo '{"n":1}'; sleep 0.3; echo '{"n":2}'; sleep 0.3; echo '{"n":3}'; } |
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -e trace=openat -o trace evlog-append --segment-bytes 1000000 ./mnt/log
	assert_equal "$(grep -c 'ndjson\.gz\.tmp' trace)" 1
	run ls mnt/log
	assert_output $'00000000000000000001.ndjson\n00000000000000012001.ndjson\nindex\nlock'
	run evlog-read --verify ./mnt/log
	assert_success
	assert_output '{"records":12003,"damaged":0}'
	umount mnt
}

teardown() {
	mountpoint -q "$BATS_TEST_TMPDIR/mnt" 2>/dev/null && umount "$BATS_TEST_TMPDIR/mnt"
	return 0
}

@test "--help, --version and usage errors" {
	run evlog-append --help
	assert_success
	assert_line -n 0 --partial 'usage: evlog-append'
	run evlog-append --version
	assert_output 'evlog-append (evkit) 0.1.0'
	run evlog-append
	assert_failure 2
	run evlog-append --bogus ./log
	assert_failure 2
}

@test "a closed pipe on -p ends quietly" {
	events 50000 > big.ndjson
	run bash -c 'evlog-append -p ./log big.ndjson | head -1 > /dev/null; echo "${PIPESTATUS[0]}"'
	assert_output 141
	run evlog-read --verify ./log
	assert_success
}

