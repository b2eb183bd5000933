#!/bin/sh
# Starts fauxqs (tests/lib/fauxqs.mjs: 127.0.0.1, a free port) for
# tests/unit/test_aws.c: prints the port on stdout and serves until its
# stdin closes (so a test that dies leaves no server behind).
# Exit 3 when node or npm is missing (the test then skips, saying so).
cd "$(dirname "$0")/../.." || exit 70
command -v node >/dev/null 2>&1 || { echo "aws-unit: node not found" >&2; exit 3; }
if [ ! -f tests/node_modules/fauxqs/package.json ]; then
	command -v npm >/dev/null 2>&1 || { echo "aws-unit: npm not found" >&2; exit 3; }
	(cd tests && npm ci --ignore-scripts --no-audit --no-fund >/dev/null 2>&1) ||
	    { echo "aws-unit: npm ci in tests/ failed" >&2; exit 1; }
fi
exec node tests/lib/fauxqs.mjs
