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
