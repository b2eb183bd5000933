#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c with libFuzzer + ASan + UBSan against
# lib/ and runs each for a bounded time.  Usage: tests/fuzz/run.sh SECONDS
secs=${1:-30}
cd "$(dirname "$0")/../.." || exit 70
EVKIT_EXTRA_PKGS="clang libclang-rt-14-dev" sh tests/deps.sh || exit 1
out=build/fuzz
mkdir -p "$out"
rc=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	target=${name#fuzz_}
	corpus=tests/fuzz/corpus/$target
	work=$out/corpus-$target
	mkdir -p "$work" "$corpus"
	echo "fuzz: building $name"
	clang -std=c17 -D_GNU_SOURCE -DEVKIT_VERSION='"fuzz"' -Ilib -g -O1 \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o "$out/$name" "$src" lib/*/*.c -ljq -lsqlite3 -lz -lm || { rc=1; continue; }
	echo "fuzz: running $name for ${secs}s"
	LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp" \
	"$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 "$work" "$corpus" >"$out/$name.log" 2>&1 ||
	    { echo "fuzz: $name FAILED, see $out/$name.log"; tail -30 "$out/$name.log"; rc=1; continue; }
	grep -E 'stat::number_of_executed_units|Done' "$out/$name.log" | tail -2
done
exit $rc
