#!/usr/bin/env bats
# What every command ships with: zsh and fish completions that parse, man
# pages clean under mandoc, a README entry.  Each command's bash completion
# is tested in tests/completion/CMD.bats.
load test_helper

@test "zsh and fish completion files parse" {
	for f in "$TOP"/completions/zsh/_*; do
		zsh -n "$f"
	done
	for f in "$TOP"/completions/fish/*.fish; do
		fish --no-execute "$f"
	done
}

@test "every command has a man page, completions for three shells, and a README entry" {
	for c in "$TOP"/cmd/*.c; do
		n=$(basename "$c" .c)
		assert_file_exists "$TOP/man/man1/$n.1"
		assert_file_exists "$TOP/completions/bash/$n"
		assert_file_exists "$TOP/completions/zsh/_$n"
		assert_file_exists "$TOP/completions/fish/$n.fish"
		grep -q "$n" "$TOP/README.md"
	done
}

@test "man pages are clean under mandoc -T lint" {
	run mandoc -T lint -W warning "$TOP"/man/man1/*.1 "$TOP"/man/man7/*.7
	assert_success
	assert_output ""
}

