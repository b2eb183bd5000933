#!/usr/bin/env bats
# evkit-serve: its bash completion, driven as readline drives it.
load ../test_helper

@test "bash completion: options, --report files; zsh and fish parse" {
	run complete_words evkit-serve --che
	assert_output '--check-signatures'
	run complete_words evkit-serve --lis
	assert_output '--listen'
	touch report.ndjson
	run complete_words evkit-serve --report rep
	assert_output 'report.ndjson'
	run zsh -n "$TOP/completions/zsh/_evkit-serve"
	assert_success
	if command -v fish >/dev/null; then
		run fish --no-execute "$TOP/completions/fish/evkit-serve.fish"
		assert_success
	fi
}
