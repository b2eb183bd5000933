#!/usr/bin/env bats
# evlog-read: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash completion: options and log names; zsh and fish parse" {
	run complete_words evlog-read --ver
	assert_output $'--verify\n--version'
	mkdir -p "$EVKIT_HOME/logs/orders" "$EVKIT_HOME/logs/users"
	run complete_words evlog-read -f us
	assert_output 'users'
	run zsh -n "$TOP/completions/zsh/_evlog-read"
	assert_success
	if command -v fish >/dev/null; then
		run fish --no-execute "$TOP/completions/fish/evlog-read.fish"
		assert_success
	fi
}
