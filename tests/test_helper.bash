# Loaded by every bats file: libraries, the build tree on PATH, and a
# fresh EVKIT_HOME and working directory per test.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# The repository: the nearest directory above the test holding the Makefile.
TOP=$BATS_TEST_DIRNAME
while [ ! -f "$TOP/Makefile" ]; do TOP=$(dirname "$TOP"); done
TOP=$(cd "$TOP" && pwd)
PATH="$TOP/bin:$PATH"

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# TSan runs vfork() as fork(), so the exec error a spawned child leaves in
# its parent's memory (core/proc.c) never arrives: those tests run in the
# other builds, and are skipped, not passed, in the TSan one.
skip_under_tsan() {
	[ "${EVKIT_TSAN:-0}" = 1 ] && skip "TSan runs vfork as fork: exec errors are checked in the other builds"
	return 0
}

# Lines of a file, for assertions: `assert_equal "$(nlines f)" 3`.
nlines() {
	wc -l < "$1" | tr -d ' '
}

# Waits up to $2 seconds (default 5) for the shell condition $1.
wait_for() {
	local i=0 max=$(( ${2:-5} * 20 ))
	while ! eval "$1"; do
		i=$((i + 1))
		[ "$i" -ge "$max" ] && return 1
		sleep 0.05
	done
}

# Runs CMD's bash completion as readline would on "CMD WORD... " and prints
# what it offers, one per line: `complete_words evq-send --pr`.
complete_words() {
	local cmd=$1; shift
	source /usr/share/bash-completion/bash_completion
	source "$TOP/completions/bash/$cmd"
	COMP_WORDS=("$cmd" "$@")
	COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	local fn
	fn=$(complete -p "$cmd" | sed 's/.*-F \([^ ]*\) .*/\1/')
	"$fn" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}
