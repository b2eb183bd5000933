#!/usr/bin/env bats
# evq-send: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash: evq-send completes queue names, then options" {
	evq-ctl create orders
	evq-ctl create billing
	run complete_words evq-send o
	assert_output orders
	run complete_words evq-send --pr
	assert_output --print-ids
}
