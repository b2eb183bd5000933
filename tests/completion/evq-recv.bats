#!/usr/bin/env bats
# evq-recv: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash: evq-recv completes its options and queues" {
	evq-ctl create jobs
	run complete_words evq-recv --le
	assert_output --lease
	run complete_words evq-recv -n 5 j
	assert_output jobs
}
