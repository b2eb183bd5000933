#!/usr/bin/env bats
# evbus-route: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash completion offers the options and @files after -p" {
	run complete_words evbus-route --inv
	assert_output '--invert-match'
	touch rule.json
	run complete_words evbus-route -p @ru
	assert_output '@rule.json'
}

@test "bash completion offers the rules-mode options, .json files after -r, logs after --archive" {
	run complete_words evbus-route --ex
	assert_output '--explain'
	run complete_words evbus-route --arc
	assert_line '--archive='
	touch rules.json other.txt
	mkdir -p "$EVKIT_HOME/logs/audit"
	run complete_words evbus-route -r ''
	assert_line 'rules.json'
	refute_line 'other.txt'
	run complete_words evbus-route --archive au
	assert_output 'audit'
}

@test "bash completion offers --jobs and thread counts after -j" {
	run complete_words evbus-route --jo
	assert_line '--jobs='
	run complete_words evbus-route -j ''
	assert_line '1'
	assert_line '8'
}

@test "bash completion offers --redrive and queue names after it" {
	run complete_words evbus-route --red
	assert_line '--redrive='
	mkdir -p "$EVKIT_HOME/queues"
	touch "$EVKIT_HOME/queues/mail-dlq.db"
	run complete_words evbus-route --redrive mai
	assert_output 'mail-dlq'
}
