// Starts fauxqs (an SQS server speaking AWS JSON 1.0) for the tests and
// benches, on loopback only: fauxqs's own CLI binds 0.0.0.0.
//
// Usage: node tests/lib/fauxqs.mjs [--port N] [--region R] [--parent PID]
//
// Prints the port on stdout once it accepts connections, then serves until
// its stdin reaches end of file, SIGTERM/SIGINT/SIGHUP arrives, or process
// PID (--parent) is gone: a test run killed with -9 leaves nothing listening.
// Queue URLs are http://sqs.REGION.localhost:PORT/000000000000/NAME.
import { buildApp } from 'fauxqs';
import { stopWhenDone } from './lifetime.mjs';

function parseArgs(argv) {
	const o = { port: 0, region: 'us-east-1', parent: 0 };
	for (let i = 0; i < argv.length; i++) {
		const v = argv[i + 1];
		switch (argv[i]) {
		case '--port': o.port = Number(v); i++; break;
		case '--region': o.region = v; i++; break;
		case '--parent': o.parent = Number(v); i++; break;
		default:
			process.stderr.write(`fauxqs.mjs: unknown argument: ${argv[i]}\n`);
			process.exit(64);
		}
	}
	if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
		process.stderr.write('fauxqs.mjs: --port wants 0..65535\n');
		process.exit(64);
	}
	return o;
}

const opt = parseArgs(process.argv.slice(2));
const app = buildApp({ logger: false, host: 'localhost', defaultRegion: opt.region });
let stopping = false;

async function stop(code) {
	if (stopping)
		return;
	stopping = true;
	// close() waits for open connections; a stuck client must not keep
	// the port bound, so a timer ends the process regardless.
	setTimeout(() => process.exit(code), 2000).unref();
	try {
		await app.close();
	} finally {
		process.exit(code);
	}
}

stopWhenDone(stop, opt.parent);

try {
	await app.listen({ host: '127.0.0.1', port: opt.port });
} catch (e) {
	process.stderr.write(`fauxqs.mjs: listen on 127.0.0.1:${opt.port}: ${e.message}\n`);
	process.exit(69);
}
process.stdout.write(`${app.server.address().port}\n`);
