#!/usr/bin/env bats
# fnflow: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash completion: options, --type's values, --function's URI schemes; zsh and fish parse" {
	run complete_words fnflow --res
	assert_output '--resume'
	run complete_words fnflow --type E
	assert_output 'EXPRESS'
	run complete_words fnflow --function NAME=w
	assert_output 'NAME=worker:'
	run zsh -n "$TOP/completions/zsh/_fnflow"
	assert_success
	if command -v fish >/dev/null; then
		run fish --no-execute "$TOP/completions/fish/fnflow.fish"
		assert_success
	fi
}
