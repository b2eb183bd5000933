#!/bin/sh
# The library's layers (lib/README), checked on every `make check` as TAP:
#  1. lib/core includes no module: only its own headers.
#  2. A module includes its own headers, core's, and other modules' public
#     headers only (never another module's *_int.h).
#  3. cmd/ includes public headers only.
#  4. Nothing in lib/ but core/cli.c includes cli.h (the command line).
#  5. Nothing in lib/ exits: no exit(), msg_die*, cli_usage_error or the
#     msg_*_or_die calls, except core/msg.c and core/cli.c (the
#     command-side helpers) and core/alloc.c (out of memory).
# Files that still break rule 4 or 5 are listed in tests/layers.allow; a
# listed file that no longer breaks them fails too, so the list only shrinks.
cd "$(dirname "$0")/.." || exit 70
n=0
bad=0
check() {	# check NAME OFFENDERS
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - layers: $1"
	else
		bad=1
		echo "not ok $n - layers: $1"
		printf '%s\n' "$2" | sed 's/^/#   /'
	fi
}
incl() { grep -Hn '^#include "' "$@" 2>/dev/null; }
allowed() { grep -v '^#' tests/layers.allow | awk -v r="$1" '$1 == r { print $2 }'; }

check "core includes no module" "$(incl lib/core/*.[ch] | grep '#include "[^"]*/')"

out=
for dir in lib/*/; do
	m=$(basename "$dir")
	[ "$m" = core ] && continue
	out="$out$(incl "$dir"*.[ch] | while IFS= read -r l; do
		h=${l#*#include \"}; h=${h%\"*}
		case $h in
		core/*) [ -f "lib/$h" ] || echo "$l" ;;
		*/*_int.h) echo "$l" ;;
		*/*) [ -f "lib/$h" ] || echo "$l" ;;
		*) [ -f "$dir$h" ] || echo "$l" ;;
		esac
	done)"
done
check "modules include core, their own and public headers only" "$out"

check "cmd/ includes public headers only" \
    "$(incl cmd/*.c | grep -v '#include "[a-z]*/[a-z_]*\.h"'; incl cmd/*.c | grep '_int\.h"')"

rule() {	# rule RULE REGEX: the files of lib/ that match, against the list
	found=$(grep -lE "$2" lib/*/*.c $3 | grep -v -x -F "$(printf '%s\n' lib/core/cli.c lib/core/cli.h lib/core/msg.c lib/core/alloc.c)" | sort)
	listed=$(allowed "$1" | sort)
	printf '%s\n' "$found" | grep -v -x -F "$listed" | grep . | sed 's/$/: not allowed/'
	printf '%s\n' "$listed" | grep -v -x -F "$found" | grep . | sed 's/$/: listed in tests\/layers.allow but clean now: remove it/'
}
check "only core/cli sees the command line" "$(rule cli '#include "(core/)?cli\.h"' 'lib/*/*.h')"
check "nothing in lib/ exits" \
    "$(rule exit '(^|[^_a-z])exit\(|msg_die|cli_usage_error|msg_flush_or_die|msg_close_or_die|msg_epipe')"
[ $bad -eq 0 ]
