#!/usr/bin/env bats
# fnrun: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash: fnrun completes its options, then the handler command after --" {
	run complete_words fnrun --unor
	assert_output --unordered
	run complete_words fnrun --work
	assert_output --worker
	run complete_words fnrun --max-inv
	assert_output --max-invocations
	run complete_words fnrun --dlq q
	assert_output queue:
	run complete_words fnrun --mem
	assert_output --memory
	run complete_words fnrun --fol
	assert_output --follow
	run complete_words fnrun --ur
	assert_output --url
	run complete_words fnrun --url ht
	assert_output ''
	evq-ctl create orders
	run complete_words fnrun --queue ord
	assert_output orders
	run complete_words fnrun -j 4 -- ech
	assert_line echo
}
