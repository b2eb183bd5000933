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
