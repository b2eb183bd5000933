// PutEvents from the AWS SDK for JavaScript v3 (@aws-sdk/client-eventbridge,
// pinned in tests/package.json), for tests/bench/evkit-serve-events.
//
//   node events-sdk.mjs FILE [INFLIGHT]
//       each line of FILE as an entry's Detail (Source "bench", DetailType
//       "OrderPlaced"), PutEvents of 10, INFLIGHT requests at once
//
// The endpoint is AWS_ENDPOINT_URL, credentials and region the
// environment's.  Exits 1 on any failed entry.
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

const [file, inflightArg] = process.argv.slice(2);
const inflight = Number(inflightArg || 1);
const eb = new EventBridgeClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
let next = 0;

async function worker() {
	while (next < lines.length) {
		const at = next;
		next += 10;
		const Entries = lines.slice(at, at + 10).map((d) => ({ Source: 'bench', DetailType: 'OrderPlaced', Detail: d }));
		const r = await eb.send(new PutEventsCommand({ Entries }));
		if (r.FailedEntryCount > 0) {
			process.stderr.write(`events-sdk.mjs: ${JSON.stringify(r.Entries.find((e) => e.ErrorCode))}\n`);
			process.exit(1);
		}
	}
}
await Promise.all(Array.from({ length: inflight }, worker));
