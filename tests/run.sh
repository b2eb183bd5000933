#!/bin/sh
# Runs every test — C unit tests and bats suites — as TAP, then prints
# the closing line "N passed, N failed" (skips are counted apart).
# Usage: tests/run.sh BUILD_DIR [BATS_FILE...]
build=${1:?usage: tests/run.sh BUILD_DIR}
shift
cd "$(dirname "$0")/.." || exit 70
top=$(pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM

if [ "${build#*san}" != "$build" ]; then
	# libjq 1.6 leaks on some parse errors: the suppression names libjq only.
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:exitcode=70
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export TSAN_OPTIONS=halt_on_error=1:exitcode=70:second_deadlock_stack=1
	case $build in *tsan*) export EVKIT_TSAN=1 ;; esac
	export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
fi

ls "$build"/unit/* >/dev/null 2>&1 ||
    echo "not ok - no unit test programs in $build/unit (make units)" | tee -a "$log"
for u in "$build"/unit/*; do
	[ -x "$u" ] || continue
	echo "# unit: $(basename "$u")"
	"$u" || echo "not ok - $(basename "$u") exited $?"
done | tee -a "$log"

sh tests/layers.sh | tee -a "$log"

suites=${*:-tests/*.bats tests/*/*.bats}
# A suite that cannot run is a failure, never a silent pass: no bats, a
# suite that does not load, or fewer results than bats planned.
if ! command -v bats >/dev/null 2>&1; then
	echo "not ok - bats is not installed (make deps installs it)" | tee -a "$log"
else
	tap=$(mktemp)
	# shellcheck disable=SC2086
	{ bats --tap $suites 2>&1; echo "$?" > "$tap.rc"; } | tee "$tap"
	rc=$(cat "$tap.rc")
	cat "$tap" >> "$log"
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tap" | head -n 1)
	ran=$(grep -c '^\(not \)\{0,1\}ok ' "$tap" | tr -d ' ')
	if [ -z "$plan" ] || [ "$ran" -ne "$plan" ]; then
		echo "not ok - bats planned ${plan:-no} tests and reported $ran" | tee -a "$log"
	elif [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$tap"; then
		echo "not ok - bats exited $rc with no failed test" | tee -a "$log"
	fi
	rm -f "$tap" "$tap.rc"
fi

passed=$(grep -c '^ok ' "$log" | tr -d ' ')
skipped=$(grep -c '^ok .* # skip' "$log" | tr -d ' ')
failed=$(grep -c '^not ok' "$log" | tr -d ' ')
passed=$((passed - skipped))
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
