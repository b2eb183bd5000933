#!/bin/sh
# Runs every benchmark in tests/bench (each prints its own ratios).
cd "$(dirname "$0")/../.." || exit 70
rc=0
for b in tests/bench/*; do
	case $b in */run.sh|*.md) continue ;; esac
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" || rc=1
done
exit $rc
