#!/bin/sh
# Starts fauxqs 1.9.2 (an SQS server speaking AWS JSON 1.0) on 127.0.0.1
# for tests/unit/test_aws.c: prints the port on stdout and serves until
# its stdin closes (so a test that dies leaves no server behind).
# Exit 3 when node or npm is missing (the test then skips, saying so).
# fauxqs comes from tests/node_modules when tests/package.json pins it,
# else it is installed once into build/npm-fauxqs.
cd "$(dirname "$0")/../.." || exit 70
command -v node >/dev/null 2>&1 || { echo "aws-unit: node not found" >&2; exit 3; }
if [ -f tests/node_modules/fauxqs/package.json ]; then
	dir=tests
elif [ -f tests/package.json ] && grep -q fauxqs tests/package.json; then
	command -v npm >/dev/null 2>&1 || { echo "aws-unit: npm not found" >&2; exit 3; }
	(cd tests && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
	    { echo "aws-unit: npm ci in tests/ failed" >&2; exit 1; }
	dir=tests
else
	dir=build/npm-fauxqs
	if [ ! -f "$dir/node_modules/fauxqs/package.json" ]; then
		command -v npm >/dev/null 2>&1 || { echo "aws-unit: npm not found" >&2; exit 3; }
		mkdir -p "$dir"
		echo '{"name":"evkit-aws-unit","version":"0.0.0","private":true}' > "$dir/package.json"
		(cd "$dir" && npm install --no-audit --no-fund fauxqs@1.9.2 >/dev/null 2>&1) ||
		    { echo "aws-unit: npm install fauxqs@1.9.2 failed" >&2; exit 1; }
	fi
fi
# Run from the directory holding node_modules: -e code resolves 'fauxqs'
# from there, and no launcher file is written anywhere.
cd "$dir" || exit 70
exec node --input-type=module -e "
import { buildApp } from 'fauxqs';
const app = buildApp({ logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(app.server.address().port + '\\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
"
