#!/usr/bin/env bats
# evq-ctl: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash: evq-ctl completes commands, then queues and attributes" {
	evq-ctl create jobs
	run complete_words evq-ctl re
	assert_output redrive
	run complete_words evq-ctl stat j
	assert_output jobs
	run complete_words evq-ctl set jobs Vis
	assert_output VisibilityTimeout=
}

@test "bash: evq-ctl finds the command after global options" {
	evq-ctl create jobs
	run complete_words evq-ctl -q st
	assert_output stat
	run complete_words evq-ctl -q stat j
	assert_output jobs
	run complete_words evq-ctl -q create x --fi
	assert_output --fifo
}
