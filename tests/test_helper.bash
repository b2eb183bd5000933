# Loaded by every bats file: libraries, the build tree on PATH, and a
# fresh EVKIT_HOME and working directory per test.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
DATA="$TOP/../shared/data"
PATH="$TOP/bin:$PATH"

setup() {
	export EVKIT_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
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
