// The Node baseline of tests/bench/evbus-http: POSTs every line of FILE (one
// JSON event a line) to URL with fetch (Node's undici, keep-alive), N
// requests in flight (default 8), in input order of starting.
//
// Usage: node tests/bench/http-fetch.mjs URL FILE [N]
//
// Prints "sent OK FAILED" on stdout; exits 1 when a request failed.
import { readFileSync } from 'node:fs';

const [url, file, nArg] = process.argv.slice(2);
if (!url || !file) {
	process.stderr.write('usage: node http-fetch.mjs URL FILE [N]\n');
	process.exit(64);
}
const inflight = Number(nArg || 8);
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
let next = 0;
let ok = 0;
let failed = 0;

async function worker() {
	while (next < lines.length) {
		const body = lines[next++];
		try {
			const res = await fetch(url, {
				method: 'POST', body,
				headers: { 'content-type': 'application/json' },
			});
			await res.arrayBuffer();	// the connection goes back to the pool
			if (res.ok)
				ok++;
			else
				failed++;
		} catch (e) {
			failed++;
			if (failed === 1)
				process.stderr.write(`http-fetch.mjs: ${e.cause?.message || e.message}\n`);
		}
	}
}

await Promise.all(Array.from({ length: inflight }, worker));
process.stdout.write(`${lines.length} ${ok} ${failed}\n`);
process.exit(failed ? 1 : 0);
