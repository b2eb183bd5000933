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
	export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
fi

for u in "$build"/unit/*; do
	[ -x "$u" ] || continue
	echo "# unit: $(basename "$u")"
	"$u" || echo "not ok - $(basename "$u") exited $?"
done | tee -a "$log"

sh tests/layers.sh | tee -a "$log"

suites=${*:-tests/*.bats tests/*/*.bats}
# shellcheck disable=SC2086
bats --tap $suites | tee -a "$log"

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
