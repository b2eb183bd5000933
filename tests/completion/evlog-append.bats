#!/usr/bin/env bats
# evlog-append: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash completion: options, --fsync modes, log names; zsh and fish parse" {
	run complete_words evlog-append --fs
	assert_output '--fsync'
	run complete_words evlog-append --fsync b
	assert_output 'batch'
	run complete_words evlog-append --expect-version n
	assert_output 'none'
	mkdir -p "$EVKIT_HOME/logs/orders" "$EVKIT_HOME/logs/users"
	run complete_words evlog-append -p or
	assert_output 'orders'
	run zsh -n "$TOP/completions/zsh/_evlog-append"
	assert_success
	if command -v fish >/dev/null; then
		run fish --no-execute "$TOP/completions/fish/evlog-append.fish"
		assert_success
	fi
}
