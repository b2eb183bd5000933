#!/usr/bin/env bats
# evbus-route: filter mode (-p, @file, -v, -c), exit statuses, bad patterns,
# bad input lines, and the EventBridge pattern conformance cases.
load test_helper

ER="$TOP/tests/data/event-ruler"

# Compact one-line form of a pretty-printed fixture (no numbers at risk).
oneline() {
	jq -c . "$1"
}

@test "--help prints usage on stdout and exits 0" {
	run --separate-stderr evbus-route --help
	assert_success
	assert_line --index 0 --partial 'usage: evbus-route'
	assert_equal "$stderr" ''
}

@test "--version names the program and evkit" {
	run evbus-route --version
	assert_success
	assert_output --regexp '^evbus-route \(evkit\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "no pattern is a usage error" {
	run --separate-stderr evbus-route
	assert_failure 2
	assert_regex "$stderr" 'no pattern given'
}

@test "an unknown option is a usage error" {
	run -2 evbus-route --bogus -p '{"a":["x"]}'
}

@test "-r (rules mode) with a missing rules file is 66 (tests/evbus-route-rules.bats has the rest)" {
	run --separate-stderr evbus-route -r rules.json
	assert_failure 66
	assert_regex "$stderr" 'rules.json'
}

@test "matching events are printed byte for byte, others dropped" {
	printf '{ "a" : "x",  "n": 1.50 }\n{"a":"y"}\n{"a":"x"}\n' > in.ndjson
	run evbus-route -p '{"a":["x"]}' in.ndjson
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 '{ "a" : "x",  "n": 1.50 }'
	assert_line --index 1 '{"a":"x"}'
}

@test "no match exits 1 and prints nothing" {
	run evbus-route -p '{"a":["z"]}' <<< '{"a":"x"}'
	assert_failure 1
	assert_output ''
}

@test "repeated -p matches any of the patterns" {
	printf '{"a":"x"}\n{"b":2}\n{"c":3}\n' > in.ndjson
	run evbus-route -p '{"a":["x"]}' -p '{"b":[2]}' in.ndjson
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 '{"b":2}'
}

@test "an event matching two patterns is printed once" {
	run evbus-route -p '{"a":["x"]}' -p '{"a":[{"prefix":"x"}]}' <<< '{"a":"x"}'
	assert_success
	assert_output '{"a":"x"}'
}

@test "-v prints the events that match no pattern" {
	printf '{"a":"x"}\n{"a":"y"}\n' > in.ndjson
	run evbus-route -v -p '{"a":["x"]}' in.ndjson
	assert_success
	assert_output '{"a":"y"}'
	run evbus-route -v -p '{"a":[{"exists":true}]}' in.ndjson
	assert_failure 1
}

@test "-c prints the count; 0 and exit 1 when nothing matched" {
	printf '{"a":"x"}\n{"a":"y"}\n{"a":"x"}\n' > in.ndjson
	run evbus-route -c -p '{"a":["x"]}' in.ndjson
	assert_success
	assert_output 2
	run evbus-route -c -v -p '{"a":["x"]}' in.ndjson
	assert_output 1
	run evbus-route -c -p '{"a":["q"]}' in.ndjson
	assert_failure 1
	assert_output 0
}

@test "@file reads the pattern from a file, pretty-printed or not" {
	printf '{\n  "detail": {\n    "state": [ "running" ]\n  }\n}\n' > p.json
	run evbus-route -p @p.json <<< '{"detail":{"state":"running"}}'
	assert_success
	assert_output '{"detail":{"state":"running"}}'
}

@test "a missing @file exits 66" {
	run --separate-stderr evbus-route -p @nope.json <<< '{}'
	assert_failure 66
	assert_regex "$stderr" "nope.json"
}

@test "an invalid pattern exits 2 naming the JSON path and reason" {
	run --separate-stderr evbus-route -p '{"detail":{"state":[{"prefix":5}]}}' <<< '{}'
	assert_failure 2
	assert_equal "$stderr" 'evbus-route: -p 1: invalid event pattern at .detail.state[0].prefix: prefix match pattern must be a string'
}

@test "invalid patterns: second -p, @file, empty array, bad JSON, not an object" {
	run --separate-stderr evbus-route -p '{"a":["x"]}' -p '{"a":[]}'
	assert_failure 2
	assert_regex "$stderr" '^evbus-route: -p 2: invalid event pattern at \.a: empty arrays'
	printf '{"a":{"b":"x"}}' > bad.json
	run --separate-stderr evbus-route -p @bad.json
	assert_failure 2
	assert_regex "$stderr" '^evbus-route: bad.json: invalid event pattern at \.a\.b: "b" must be an object or an array'
	run --separate-stderr evbus-route -p '{"a":['
	assert_failure 2
	assert_regex "$stderr" 'invalid JSON at column'
	run --separate-stderr evbus-route -p '["a"]'
	assert_failure 2
	assert_regex "$stderr" 'must be a JSON object'
	run --separate-stderr evbus-route -p '{"x":[{"numeric":["<",10,">",0]}]}'
	assert_failure 2
	assert_regex "$stderr" 'at \.x\[0\]\.numeric: '
	run --separate-stderr evbus-route -p '{"a":[{"wildcard":"a**"}]}'
	assert_failure 2
	assert_regex "$stderr" 'at \.a\[0\]\.wildcard: wildcard pattern has consecutive'
	run --separate-stderr evbus-route -p '{"we ird":[{"contains":"x"}]}'
	assert_failure 2
	assert_regex "$stderr" "at \\[\"we ird\"\\]\\[0\\]: unrecognized match type 'contains'"
}

@test "a line that is not JSON stops with 65 after the lines before it" {
	printf '{"a":"x"}\n{oops\n{"a":"x"}\n' > in.ndjson
	run --separate-stderr evbus-route -p '{"a":["x"]}' in.ndjson
	assert_failure 65
	assert_output '{"a":"x"}'
	assert_regex "$stderr" '^evbus-route: in\.ndjson:2: expected a member name at column 2$'
}

@test "a line that is not an object is bad input" {
	run --separate-stderr evbus-route -p '{"a":["x"]}' <<< '[1,2]'
	assert_failure 65
	assert_regex "$stderr" '^evbus-route: <stdin>:1: not a JSON object at column 1$'
}

@test "invalid UTF-8, trailing garbage and deep nesting are bad input" {
	printf '{"a":"\xff"}\n' > u.ndjson
	run -65 evbus-route -p '{"a":["x"]}' u.ndjson
	run -65 evbus-route -p '{"a":["x"]}' <<< '{"a":"x"} x'
	python3 -c 'print("{\"a\":" + "[" * 20000 + "]" * 20000 + "}")' > deep.ndjson ||
		perl -e 'print "{\"a\":", "[" x 20000, "]" x 20000, "}\n"' > deep.ndjson
	run --separate-stderr evbus-route -p '{"a":["x"]}' deep.ndjson
	assert_failure 65
	assert_regex "$stderr" 'nesting too deep'
}

@test "--errors records bad lines and goes on" {
	printf '{"a":"x"}\nnope\n[1]\n{"a":"x","b":2}\n' > in.ndjson
	run evbus-route --errors err.ndjson -p '{"a":["x"]}' in.ndjson
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "$(nlines err.ndjson)" 2
	run jq -r '[.file, .line, .input] | @tsv' err.ndjson
	assert_line --index 0 "$(printf 'in.ndjson\t2\tnope')"
	assert_line --index 1 "$(printf 'in.ndjson\t3\t[1]')"
}

@test "--max-line-bytes refuses longer lines" {
	printf '{"a":"x"}\n{"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n' > in.ndjson
	run --separate-stderr evbus-route --max-line-bytes 20 -p '{"a":["x"]}' in.ndjson
	assert_failure 65
	assert_output '{"a":"x"}'
	assert_regex "$stderr" 'in\.ndjson:2: line longer than 20 bytes'
}

@test "gzip input, several files, stdin as -, CRLF and blank lines" {
	printf '{"a":"x","f":1}\n' | gzip > one.ndjson.gz
	printf '{"a":"x","f":2}\r\n\r\n\n{"a":"y"}\r\n' > two.ndjson
	run evbus-route -p '{"a":["x"]}' one.ndjson.gz - two.ndjson <<< '{"a":"x","f":"stdin"}'
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 '{"a":"x","f":1}'
	assert_line --index 1 '{"a":"x","f":"stdin"}'
	assert_line --index 2 '{"a":"x","f":2}'
}

@test "a missing input file is reported, the rest processed, exit 66" {
	printf '{"a":"x"}\n' > in.ndjson
	run --separate-stderr evbus-route -p '{"a":["x"]}' nope.ndjson in.ndjson
	assert_failure 66
	assert_output '{"a":"x"}'
	assert_regex "$stderr" "cannot open 'nope.ndjson'"
}

@test "--line-buffered and -q are accepted" {
	run evbus-route -q --line-buffered -p '{"a":["x"]}' <<< '{"a":"x"}'
	assert_success
	assert_output '{"a":"x"}'
}

@test "conformance: every case of the project's EventBridge corpus (tests/data/shared-cases.jsonl)" {
	run perl "$TOP/tests/lib/cases.pl" evbus-route "$TOP/tests/data/shared-cases.jsonl" "$BATS_TEST_TMPDIR"
	assert_success
	assert_output --regexp '^[0-9]+ passed, 0 failed$'
}

@test "conformance: a case for every rule of the reference notes" {
	run perl "$TOP/tests/lib/cases.pl" evbus-route "$TOP/tests/data/evbus-route-cases.jsonl" "$BATS_TEST_TMPDIR"
	assert_success
	assert_output --regexp '^[0-9]+ passed, 0 failed$'
}

@test "a pattern is read up to the end of its JSON value, as event-ruler's parser reads it" {
	run -0 evbus-route -p '{"a":["1"]} and then anything' <<< '{"a":"1"}'
	assert_output '{"a":"1"}'
	run -0 evbus-route -p '{"a":["1"]}}' <<< '{"a":"1"}'
	run -2 evbus-route -p '["a"] x' <<< '{"a":"1"}'
	run -2 evbus-route -p '{"a":["1"] x' <<< '{"a":"1"}'
	assert_output --partial 'invalid JSON at column 12'
}

@test "event-ruler array fixtures: arrayRule1-4 against arrayEvent1-4" {
	for i in 1 2 3 4; do oneline "$ER/arrayEvent$i.json" > e$i.ndjson; done
	run -0 evbus-route -p @"$ER/arrayRule1.json" e1.ndjson
	run -0 evbus-route -p @"$ER/arrayRule2.json" e1.ndjson
	run -1 evbus-route -p @"$ER/arrayRule2.json" e2.ndjson
	run -1 evbus-route -p @"$ER/arrayRule2.json" e3.ndjson
	run -1 evbus-route -p @"$ER/arrayRule3.json" e3.ndjson
	run -1 evbus-route -p @"$ER/arrayRule2.json" e4.ndjson
	run -0 evbus-route -p @"$ER/arrayRule3.json" e4.ndjson
	# metricName and namespace of one element: CPUUtilization with AWS/EC2
	run -0 evbus-route -p @"$ER/arrayRule4.json" e3.ndjson
	run -0 evbus-route -p @"$ER/arrayRule4.json" e4.ndjson
}

@test "event-ruler \$or fixtures: valid rules compile, wrong ones exit 2" {
	local n i
	n=$(jq length "$ER/orRelationshipRules.json")
	for ((i = 0; i < n; i++)); do
		jq -c ".[$i]" "$ER/orRelationshipRules.json" > r.json
		run evbus-route -c -p @r.json <<< '{"source":"aws.cloudwatch","metricName":"CPUUtilization"}'
		[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	done
	# the first rule ($or of metricName / namespace) matches either branch
	jq -c '.[0]' "$ER/orRelationshipRules.json" > r.json
	run -0 evbus-route -p @r.json <<< '{"namespace":"AWS/ES"}'
	n=$(jq length "$ER/wrongOrRelationshipRules.json")
	for ((i = 0; i < n; i++)); do
		jq -c ".[$i]" "$ER/wrongOrRelationshipRules.json" > r.json
		run -2 evbus-route -p @r.json
	done
}

@test "event-ruler legacy rules: \$or used as a plain field name" {
	local n i
	n=$(jq length "$ER/normalRulesWithOrWording.json")
	for ((i = 0; i < n; i++)); do
		jq -c ".[$i]" "$ER/normalRulesWithOrWording.json" > r.json
		run evbus-route -p @r.json <<< '{}'
		assert_failure 1
	done
	jq -c '.[1]' "$ER/normalRulesWithOrWording.json" > r.json
	run -0 evbus-route -p @r.json <<< '{"source":"aws.cloudwatch","$or":{"metricType":"MetricType","namespace":"AWS/ES"}}'
	jq -c '.[0]' "$ER/normalRulesWithOrWording.json" > r.json
	run -0 evbus-route -p @r.json <<< '{"$or":"10.0.0.7"}'
}

@test "event-ruler big event (256 KB) against its rule" {
	oneline "$ER/bigEvent.json" > big.ndjson
	run evbus-route -c -p @"$ER/bigEventRule.json" big.ndjson
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	run -0 evbus-route -c -p '{"detail":{"eventName":[{"exists":true}]}}' big.ndjson
	assert_output 1
}

@test "array consistency holds over a large array of objects" {
	perl -e 'print "{\"d\":[", join(",", map { $_ % 2 ? "{\"a\":$_}" : "{\"b\":$_}" } 1..4000), ",{\"a\":1,\"b\":2}]}\n"' > big.ndjson
	run -0 evbus-route -c -p '{"d":{"a":[1],"b":[2]}}' big.ndjson
	perl -e 'print "{\"d\":[", join(",", map { $_ % 2 ? "{\"a\":$_}" : "{\"b\":$_}" } 1..4000), "]}\n"' > split.ndjson
	run -1 evbus-route -c -p '{"d":{"a":[{"exists":true}],"b":[{"exists":true}]}}' split.ndjson
}

@test "skipped arrays are still validated (fast paths agree with JSON)" {
	local pad='"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'
	for ok in '[1, []]' '[1,[[ ]]]' '[1, [2, 3], [4]]' '[1, {"a":2}]' '[ [ [ -1.5, 2e3 ], [ 0.25, 4 ] ] ]'; do
		run -0 evbus-route -c -p '{"k":["v"]}' <<< "{\"z\":$ok,\"k\":\"v\",$pad}"
	done
	for bad in '[1, ]' '[1,,2]' '[1, [,]]' '[1, [2] 3]' '[1 2]' '[1, [2,]]' '[01]' '[1.]' '[-]' '[1e]'; do
		run -65 evbus-route -c -p '{"k":["v"]}' <<< "{\"z\":$bad,\"k\":\"v\",$pad}"
	done
}

@test "skipped arrays accept any JSON white space between elements" {
	printf '{"z":[".0.1",\r\t"x",\t[\r1,\r[]\t]\r],"k":"v","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n' > ws.ndjson
	run -0 evbus-route -c -p '{"k":["v"]}' ws.ndjson
	assert_output 1
}

# Drives the bash completion function the way readline does.
@test "zsh and fish completions parse" {
	run zsh -n "$TOP/completions/zsh/_evbus-route"
	assert_success
	run fish --no-execute "$TOP/completions/fish/evbus-route.fish"
	assert_success
}

@test "the man page is clean under mandoc -T lint" {
	run mandoc -T lint -W warning "$TOP/man/man1/evbus-route.1"
	assert_success
	assert_output ''
}

@test "array consistency over big arrays takes no search: 1,200-element arrays in milliseconds" {
	# y.b, z.c and x.a are hit 1,200 times each; x.a and x.d never share an
	# element but in the second event.  A search tries 1,200^3 choices.
	python3 -c '
import json
b = [{"b": 1}] * 1200
c = [{"c": 1}] * 1200
print(json.dumps({"y": b, "z": c, "x": [{"d": 1}] + [{"a": 1}] * 1200}))
print(json.dumps({"y": b, "z": c, "x": [{"d": 1}] + [{"a": 1}] * 1200 + [{"a": 1, "d": 1}]}))
' > big.json
	run timeout 10 evbus-route -c -p '{"y":{"b":[1]},"z":{"c":[1]},"x":{"a":[1],"d":[1]}}' big.json
	assert_success
	assert_output 1
}
