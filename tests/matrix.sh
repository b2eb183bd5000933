#!/bin/sh
# The build matrix CI runs beside `make check` and `make check SANITIZE=1`:
# clang, the scalar fallbacks (NOSIMD=1), each built warning-free and
# unit-tested; ThreadSanitizer over the suites with threads (filter -j,
# evlog sealing, bus targets, fnrun); one replay of every fuzz corpus.
# Ends with the usual "N passed, N failed" line of what it ran.
set -u
cd "$(dirname "$0")/.." || exit 70
EVKIT_EXTRA_PKGS="clang libclang-rt-14-dev" sh tests/deps.sh || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM
fail() { echo "not ok - $*" | tee -a "$log"; }

for flavour in "CC=clang" "NOSIMD=1"; do
	echo "# matrix: $flavour"
	# shellcheck disable=SC2086
	if make -s -j2 WERROR=1 $flavour all units >/dev/null; then
		build=$(make -s $flavour print-build)
		for u in "$build"/unit/*; do
			"$u" | tee -a "$log" | grep -v '^ok ' || true
		done
	else
		fail "the $flavour build"
	fi
done

echo "# matrix: SANITIZE=thread"
if make -s -j2 WERROR=1 SANITIZE=thread all units >/dev/null; then
	sh tests/run.sh build/tsan tests/evbus-route-big.bats tests/evlog-append.bats \
	    tests/evbus-route-rules.bats tests/fnrun.bats | tee -a "$log" | grep -v '^ok '
else
	fail "the SANITIZE=thread build"
fi

echo "# matrix: fuzz corpus replay"
sh tests/fuzz/run.sh 0 || fail "a fuzz corpus replay"
echo "ok - fuzz corpus replay" >> "$log"

passed=$(grep -c '^ok ' "$log" | tr -d ' ')
skipped=$(grep -c '^ok .* # skip' "$log" | tr -d ' ')
failed=$(grep -c '^not ok' "$log" | tr -d ' ')
echo "matrix: $((passed - skipped)) passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
