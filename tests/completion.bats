#!/usr/bin/env bats
# Shell completions: bash behaviour driven as readline does; zsh and fish
# files at least parse.
load test_helper

complete_words() {
	local cmd=$1; shift
	source /usr/share/bash-completion/bash_completion
	source "$TOP/completions/bash/$cmd"
	COMP_WORDS=("$cmd" "$@")
	COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	local fn=$(complete -p "$cmd" | sed 's/.*-F \([^ ]*\) .*/\1/')
	"$fn" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "bash: evq-send completes queue names, then options" {
	evq-ctl create orders
	evq-ctl create billing
	run complete_words evq-send o
	assert_output orders
	run complete_words evq-send --pr
	assert_output --print-ids
}

@test "bash: evq-recv completes its options and queues" {
	evq-ctl create jobs
	run complete_words evq-recv --le
	assert_output --lease
	run complete_words evq-recv -n 5 j
	assert_output jobs
}

@test "bash: evq-ctl completes commands, then queues and attributes" {
	evq-ctl create jobs
	run complete_words evq-ctl re
	assert_output redrive
	run complete_words evq-ctl stat j
	assert_output jobs
	run complete_words evq-ctl set jobs Vis
	assert_output VisibilityTimeout=
}

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

@test "bash: fnrun completes its options, then the handler command after --" {
	run complete_words fnrun --unor
	assert_output --unordered
	run complete_words fnrun --work
	assert_output --worker
	run complete_words fnrun --max-inv
	assert_output --max-invocations
	run complete_words fnrun --dlq q
	assert_output queue:
	run complete_words fnrun -j 4 -- ech
	assert_line echo
}
