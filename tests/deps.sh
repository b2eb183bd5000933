#!/bin/sh
# Makes sure the Debian packages evkit builds and tests with are present.
# As root it installs what is missing; otherwise it prints the apt-get line.
pkgs="gcc make pkg-config libjq-dev libsqlite3-dev zlib1g-dev libcurl4-openssl-dev jq sqlite3
      bats bats-support bats-assert bats-file bash-completion mandoc zsh fish python3"
[ -n "$EVKIT_EXTRA_PKGS" ] && pkgs="$pkgs $EVKIT_EXTRA_PKGS"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "evkit: installing missing packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/dev/null ||
	    { echo "evkit: apt-get install failed:$missing" >&2; exit 1; }
else
	echo "evkit: missing packages; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
