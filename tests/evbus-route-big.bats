#!/usr/bin/env bats
# evbus-route over large regular files: read through a map (lib/fmap,
# lib/ndjson) and scanned by several threads (-j, lib/filter).  Whatever the
# number of threads, the output, the count, the line numbers of bad lines and
# what is written before one must be exactly those of one thread.
load test_helper

P='{"properties":{"STREET":["16TH","MASONIC","CRANLEIGH"]}}'

# A file of about $1 MB of city lots (several 1 MiB pieces), generated:
# a fresh clone has no ../shared/data.
lots() {
	awk -v n=$(( $1 * 1150 )) -f "$TOP/tests/lib/citylots.awk"
}

# Line $2 of file $1 replaced by $3.
put_line() {
	awk -v n="$2" -v s="$3" 'NR == n { print s; next } { print }' "$1"
}

@test "-j 4 prints exactly what -j 1 prints, in order; -v and -c agree" {
	lots 9 > big.json
	evbus-route -j 1 -p "$P" big.json > one.out
	evbus-route -j 4 -p "$P" big.json > four.out
	[ -s one.out ]
	cmp one.out four.out
	# the same lines grep finds, byte for byte
	grep -E '"STREET": "(16TH|MASONIC|CRANLEIGH)"' big.json > grep.out
	cmp one.out grep.out
	evbus-route -j 1 -v -p "$P" big.json > v1.out
	evbus-route -j 3 -v -p "$P" big.json > v3.out
	cmp v1.out v3.out
	run evbus-route -j 4 -c -p "$P" big.json
	assert_success
	assert_output "$(nlines one.out)"
	run evbus-route -j 4 -c -v -p "$P" big.json
	assert_output "$(nlines v1.out)"
}

@test "-j: a bad line deep in a big file stops at it: what came before is out, its line number is right" {
	lots 9 > good.json
	n=$(( $(nlines good.json) * 2 / 3 ))
	put_line good.json "$n" '{"properties": {"STREET": "16TH"}, oops}' > big.json
	run --separate-stderr evbus-route -j 1 -p "$P" big.json
	assert_failure 65
	printf '%s\n' "$output" > one.out
	err1=$stderr
	assert_regex "$stderr" "big.json:$n: "
	run --separate-stderr evbus-route -j 4 -p "$P" big.json
	assert_failure 65
	assert_equal "$stderr" "$err1"
	printf '%s\n' "$output" > four.out
	cmp one.out four.out
	# exactly the selected lines before the bad one
	head -n $((n - 1)) big.json | grep -cE '"STREET": "(16TH|MASONIC|CRANLEIGH)"' > want
	assert_equal "$(nlines four.out)" "$(cat want)"
	run -65 evbus-route -j 4 -c -p "$P" big.json
}

@test "-j: with --errors every bad line is recorded with its number, and the rest goes on" {
	lots 9 > good.json
	total=$(nlines good.json)
	put_line good.json 3 'not json' | put_line /dev/stdin $((total / 2)) '[1,2]' |
	    put_line /dev/stdin "$total" '{"a":' > big.json
	evbus-route -j 1 --errors e1.json -p "$P" big.json > one.out
	evbus-route -j 4 --errors e4.json -p "$P" big.json > four.out
	cmp one.out four.out
	cmp e1.json e4.json
	run jq -r .line e4.json
	assert_output "$(printf '%s\n' 3 $((total / 2)) "$total")"
}

@test "a mapped file: CRLF, blank lines, a last line with no newline, line numbers across files" {
	lots 3 | sed 's/$/\r/' > crlf.json
	printf '\n\n' >> crlf.json
	lots 3 >> crlf.json
	printf '%s' '{"properties":{"STREET":"16TH"}}' >> crlf.json
	lots 3 | grep -E '"STREET": "(16TH|MASONIC|CRANLEIGH)"' > want1
	run evbus-route -j 4 -c -p "$P" crlf.json
	assert_output $(( 2 * $(nlines want1) + 1 ))
	evbus-route -j 4 -p "$P" crlf.json | tail -n 1 > last
	assert_equal "$(cat last)" '{"properties":{"STREET":"16TH"}}'
	# a bad line in the second file is numbered within that file
	lots 3 > b.json
	echo '{"bad"}' >> b.json
	run --separate-stderr evbus-route -j 4 -c -p "$P" crlf.json b.json
	assert_failure 65
	assert_regex "$stderr" "b.json:$(nlines b.json): "
}

@test "a mapped file: an over-long line is refused by its number, whole-line reading goes on" {
	lots 3 > big.json
	n=$(( $(nlines big.json) / 2 ))
	long=$(printf '{"properties":{"STREET":"16TH","pad":"%05000d"}}' 0)
	put_line big.json "$n" "$long" > long.json
	run --separate-stderr evbus-route -j 2 -c --max-line-bytes 4000 -p "$P" long.json
	assert_failure 65
	assert_regex "$stderr" "long.json:$n: line longer than 4000 bytes"
	evbus-route -j 2 -c --max-line-bytes 4000 --errors e.json -p "$P" long.json > c2
	evbus-route -j 1 -c --max-line-bytes 4000 --errors e1.json -p "$P" long.json > c1
	cmp c1 c2
	run jq -r .line e.json
	assert_output "$n"
	# the last line, over-long and without a newline
	{ lots 3; printf '%s' "$long"; } > tail.json
	run --separate-stderr evbus-route -c --max-line-bytes 4000 -p "$P" tail.json
	assert_failure 65
	assert_regex "$stderr" "tail.json:$(( $(nlines tail.json) + 1 )): line longer"
}

@test "a file that shrinks while it is read is an I/O error (74), not a crash or a bad line" {
	lots 40 > big.json
	for j in 1 2; do
		cp big.json shrink.json
		# the slow reader holds evbus-route up while the file is cut
		{ rc=0; evbus-route -j $j -p '{"type":["Feature"]}' shrink.json 2> err.$j || rc=$?
		  echo $rc > rc.$j; } | { sleep 1; cat > got.$j; } &
		sleep 0.4
		truncate -s 2000000 shrink.json
		wait $!
		assert_equal "$(cat rc.$j)" 74
		assert_equal "$(cat err.$j)" "evbus-route: shrink.json: the file shrank while it was being read"
		# what was written is whole lines of the file as it was
		[ -s got.$j ]
		[ "$(tail -c 1 got.$j | od -An -c | tr -d ' ')" = '\n' ]
		cmp got.$j <(head -c "$(wc -c < got.$j)" big.json)
	done
}

@test "a big gzip file is read as before (not mapped); a pipe too" {
	lots 5 > big.json
	gzip -c big.json > big.json.gz
	a=$(evbus-route -c -p "$P" big.json)
	assert_equal "$(evbus-route -c -p "$P" big.json.gz)" "$a"
	assert_equal "$(cat big.json | evbus-route -c -p "$P")" "$a"
}

@test "-j: a reader that leaves early ends the run quietly (SIGPIPE)" {
	lots 9 > big.json
	run bash -c "evbus-route -j 4 -p '{\"type\":[\"Feature\"]}' big.json | head -n 2 | wc -l; echo \${PIPESTATUS[0]}"
	assert_line --index 0 2
	assert_line --index 1 141
}

@test "-j is checked: 0 and more than 64 are usage errors, and it is for filter mode" {
	run -2 evbus-route -j 0 -p "$P"
	run -2 evbus-route -j 65 -p "$P"
	echo '{"rules":[]}' > r.json
	run -2 evbus-route -j 2 -r r.json
}

@test "a big stdin already read into goes on from where it is, and '-' twice reads it once" {
	lots 3 > big.json
	n=$(nlines big.json)
	run bash -c "{ head -n 1 >/dev/null; evbus-route -c -p '{\"type\":[\"Feature\"]}'; } < big.json"
	assert_output $((n - 1))
	run bash -c "evbus-route -c -p '{\"type\":[\"Feature\"]}' - - < big.json"
	assert_output "$n"
	# the shared reader: an event log gets each event once
	evlog-append log - - < big.json
	assert_equal "$(evlog-read log | wc -l)" "$n"
}

@test "-j with --errors and dense bad lines: past 1024 in a piece, one thread goes on, the same as -j 1" {
	lots 6 > good.json
	# 3000 bad lines early on, then good ones, then bad ones again
	{ head -n 100 good.json; for i in $(seq 3000); do echo "bad $i"; done
	  tail -n +101 good.json; for i in $(seq 50); do echo "[$i]"; done; } > big.json
	evbus-route -j 1 --errors e1.json -p "$P" big.json > one.out
	evbus-route -j 4 --errors e4.json -p "$P" big.json > four.out
	cmp one.out four.out
	cmp e1.json e4.json
	assert_equal "$(nlines e4.json)" 3050
	run jq -r .line e4.json
	assert_line --index 0 101
	assert_line --index 3049 "$(nlines big.json)"
}

@test "-j: equals-ignore-case on non-ASCII text is the same in every thread" {
	lots 6 | sed 's/"ST_TYPE": "ST"/"ST_TYPE": "été"/' > big.json
	p='{"properties":{"ST_TYPE":[{"equals-ignore-case":"ÉTÉ"}]}}'
	want=$(grep -c '"ST_TYPE": "été"' big.json)
	[ "$want" -gt 100 ]
	for i in 1 2 3; do
		run evbus-route -j 4 -c -p "$p" big.json
		assert_output "$want"
	done
}

@test "gzip from a pipe whose first read brings one byte is still gzip" {
	printf '{"a":1}\n{"a":2}\n' | gzip -c > t.gz
	run bash -c '{ head -c 1 t.gz; sleep 0.2; tail -c +2 t.gz; } | evbus-route -c -p "{\"a\":[2]}"'
	assert_success
	assert_output 1
}

# The cost of matching (lib/pattern): linear in the value, and not growing
# with the number of patterns.  Each case took far longer than its bound
# before (on a 2-core machine: 25-120+ s); now well under a second.

# $1 a's.
as() {
	head -c "$1" /dev/zero | tr '\0' a
}

@test "wildcards cost linear time: a 1 MB value against 100,000-character patterns" {
	a=$(as 99998)
	printf '{"x":"%s"}\n' "$(as 1000000)" > big.json
	printf '{"x":"%sb"}\n' "$(as 1000000)" >> big.json
	printf '{"x":[{"wildcard":"*%saa"}]}' "$a" > tail.json	# ends as both
	printf '{"x":[{"wildcard":"*%sab"}]}' "$a" > star.json	# the backtracking worst case
	printf '{"x":[{"wildcard":"*%sc*b"}]}' "$a" > mid.json	# a middle run not there
	printf '{"x":[{"wildcard":"a*%sa*b"}]}' "$a" > hit.json
	run timeout 10 evbus-route -j 1 -c -p @star.json big.json
	assert_success
	assert_output 1
	run timeout 10 evbus-route -j 1 -c -p @mid.json big.json
	assert_failure 1
	run timeout 10 evbus-route -j 1 -p @hit.json -p @mid.json big.json
	assert_success
	assert_equal "$(printf '%s\n' "$output" | cut -c 1-8)" '{"x":"aa'
	assert_equal "${output: -4}" 'ab"}'
	run timeout 10 evbus-route -j 1 -c -p @tail.json -p @mid.json big.json
	assert_output 1
}

# 10,000 patterns of kind $1 over $2 events: writes pats (one -p each per
# line) and ev.json, and prints the number of events that should match.
many() {
	awk -v k="$1" -v ne="$2" 'BEGIN {
		np = 10000
		for (i = 0; i < np; i++) {
			if (k == "eic") p = sprintf("{\"equals-ignore-case\":\"Value-%d\"}", i)
			else if (k == "num") p = sprintf("{\"numeric\":[\">=\",%de30,\"<\",%de30]}", 10 * i, 10 * i + 5)
			else if (k == "wild") p = sprintf("{\"wildcard\":\"*-%d-*z\"}", i)
			else if (k == "eicss") p = sprintf("{\"equals-ignore-case\":\"Straße-%d\"}", i)
			else if (k == "cidr6") p = sprintf("{\"cidr\":\"%x::/16\"}", 4096 + i)
			else p = sprintf("{\"cidr\":\"10.%d.%d.0/24\"}", int(i / 256), i % 256)
			printf "{\"x\":[%s]}\n", p > "pats"
		}
		for (j = 0; j < ne; j++) {
			i = (j * 7919) % (2 * np)
			if (k == "eic") { v = sprintf("\"VALUE-%d\"", i); hit = i < np }
			else if (k == "num") { v = sprintf("%d.5e30", 5 * i); hit = i % 2 == 0 }
			else if (k == "wild") { v = sprintf("\"head-%d-midz\"", i); hit = i < np }
			else if (k == "eicss") { v = sprintf("\"STRASSE-%d\"", i); hit = i < np }
			else if (k == "cidr6") {
				# event-ruler reads IPv4 A.B.0.1 as the digits of an IPv6
				# address: inside the block whose 16 bits are A and B
				h = 4096 + i
				v = sprintf("\"%d.%d.0.1\"", int(h / 256), h % 256); hit = i < np
			}
			else { v = sprintf("\"10.%d.%d.7\"", int(i / 256), i % 256); hit = i < np }
			printf "{\"x\":%s}\n", v > "ev.json"
			n += hit
		}
		print n
	}'
}

count_many() {
	local args=() l
	while IFS= read -r l; do args+=(-p "$l"); done < pats
	run timeout "$1" evbus-route -j 1 -c "${args[@]}" ev.json
}

@test "10,000 equals-ignore-case patterns cost about what one does (50,000 events)" {
	want=$(many eic 50000)
	count_many 10
	assert_success
	assert_output "$want"
}

@test "10,000 equals-ignore-case patterns with ß (SS in a value) cost about what one does (100,000 events)" {
	want=$(many eicss 100000)
	count_many 10
	assert_success
	assert_output "$want"
}

@test "10,000 numeric ranges cost about what one does (150,000 events)" {
	want=$(many num 150000)
	count_many 10
	assert_success
	assert_output "$want"
}

@test "10,000 cidr blocks cost about what one does (200,000 events)" {
	want=$(many cidr 200000)
	count_many 10
	assert_success
	assert_output "$want"
}

@test "10,000 IPv6 blocks against IPv4 addresses cost about what one does (1,000,000 events)" {
	want=$(many cidr6 1000000)
	count_many 10
	assert_success
	assert_output "$want"
}

@test "10,000 wildcards that start with a star cost about what one does (50,000 events)" {
	want=$(many wild 50000)
	count_many 10
	assert_success
	assert_output "$want"
}

@test "6,000 prefixes and suffixes of distinct lengths: a value costs its length, not lengths × keys" {
	awk 'BEGIN {
		for (k = 0; k < 2; k++) {
			f = k ? "suf.json" : "pre.json"
			op = k ? "suffix" : "prefix"
			printf "{\"x\":[" > f
			s = ""
			for (i = 1; i <= 6000; i++) {
				sep = (i == 1) ? "" : ","
				key = k ? "b" s : s "b"
				printf "%s{\"%s\":\"%s\"}", sep, op, key > f
				s = s "a"
			}
			printf "]}" > f
		}
		hit = substr(s, 1, 100) "b"
		for (j = 0; j < 6000; j++) {
			v = (j == 4321) ? hit : s
			printf "{\"x\":\"%s\"}\n", v > "ev.json"
		}
	}'
	run timeout 10 evbus-route -j 1 -p @pre.json ev.json
	assert_success
	assert_output "{\"x\":\"$(as 100)b\"}"
	run timeout 10 evbus-route -j 1 -p @suf.json ev.json	# "b" is a suffix of that line only
	assert_success
	assert_output "{\"x\":\"$(as 100)b\"}"
}
