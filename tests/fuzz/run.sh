#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c with libFuzzer + ASan + UBSan against
# lib/ and runs each for a bounded time.  Usage: tests/fuzz/run.sh SECONDS
# (0: replay every kept input once, as CI does).
secs=${1:-30}
cd "$(dirname "$0")/../.." || exit 70
EVKIT_EXTRA_PKGS="clang libclang-rt-14-dev" sh tests/deps.sh || exit 1
out=build/fuzz
mkdir -p "$out"
flags="-std=c17 -D_GNU_SOURCE -iquote lib -g -O1 -fno-sanitize-recover=all"
# The library once, instrumented, for every target; two compilers at once.
echo "fuzz: building the library"
mkdir -p "$out/lib"
# An object is kept only while it is newer than its source and than every
# header (a changed struct would otherwise be linked with stale code).
if [ -e "$out/libevkit.a" ] && [ -n "$(find lib -name '*.h' -newer "$out/libevkit.a")" ]; then
	rm -f "$out"/lib/*.o
fi
n=0
for src in lib/*/*.c; do
	o=$out/lib/$(echo "$src" | tr / _).o
	[ "$o" -nt "$src" ] && continue
	# shellcheck disable=SC2086
	clang $flags -DEVKIT_VERSION='"fuzz"' -fsanitize=fuzzer-no-link,address,undefined \
	    -c -o "$o" "$src" &
	n=$((n + 1))
	[ $((n % 2)) -eq 0 ] && { wait || exit 1; }
done
wait || exit 1
rm -f "$out/libevkit.a" && ar rcs "$out/libevkit.a" "$out"/lib/*.o || exit 1
rc=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	target=${name#fuzz_}
	corpus=tests/fuzz/corpus/$target
	work=$out/corpus-$target
	mkdir -p "$work" "$corpus"
	echo "fuzz: building $name"
	# shellcheck disable=SC2086
	clang $flags -DEVKIT_VERSION='"fuzz"' -fsanitize=fuzzer,address,undefined -o "$out/$name" "$src" \
	    "$out/libevkit.a" -ljq -lsqlite3 -lz -lm -lpthread $(pkg-config --libs libcurl 2>/dev/null || echo -lcurl) \
	    $(pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) \
	    $(pkg-config --libs libnats 2>/dev/null || echo -lnats) || { rc=1; continue; }
	if [ "$secs" = 0 ]; then
		# Replay: every input of the kept corpus once, no new ones.
		echo "fuzz: replaying $name over $(ls "$corpus" | wc -l) inputs"
		set -- -runs=0 "$corpus"
	else
		echo "fuzz: running $name for ${secs}s"
		set -- -max_total_time="$secs" -print_final_stats=1 "$work" "$corpus"
	fi
	LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp" \
	"$out/$name" -timeout=10 -rss_limit_mb=2048 "$@" >"$out/$name.log" 2>&1 ||
	    { echo "fuzz: $name FAILED, see $out/$name.log"; tail -30 "$out/$name.log"; rc=1; continue; }
	grep -E 'stat::number_of_executed_units|Done' "$out/$name.log" | tail -2
done
exit $rc
