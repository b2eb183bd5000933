// The peer of tests/bench/evq-sqs: the AWS SDK for JavaScript v3
// (@aws-sdk/client-sqs, pinned in tests/package.json) doing what evq-send
// and evq-recv do, with the same batch size and requests in flight.
//
//   node sqs-sdk.mjs send QUEUE_URL FILE [INFLIGHT]
//       each line of FILE as a message, SendMessageBatch of 10
//   node sqs-sdk.mjs recv QUEUE_URL COUNT [INFLIGHT]
//       ReceiveMessage (10, long poll 1 s) then DeleteMessageBatch of what
//       came, until COUNT messages; bodies to stdout
//
// The endpoint is AWS_ENDPOINT_URL, credentials and region the
// environment's.  Exits 1 on any failed entry.
import { readFileSync } from 'node:fs';
import {
	SQSClient, SendMessageBatchCommand, ReceiveMessageCommand, DeleteMessageBatchCommand,
} from '@aws-sdk/client-sqs';

const [mode, url, arg, inflightArg] = process.argv.slice(2);
const inflight = Number(inflightArg || 1);
const sqs = new SQSClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });

function fail(why) {
	process.stderr.write(`sqs-sdk.mjs: ${why}\n`);
	process.exit(1);
}

async function send() {
	const lines = readFileSync(arg, 'utf8').split('\n').filter((l) => l.length > 0);
	let next = 0;
	async function worker() {
		while (next < lines.length) {
			const at = next;
			next += 10;
			const Entries = lines.slice(at, at + 10).map((b, i) => ({ Id: String(i), MessageBody: b }));
			const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
			if (r.Failed && r.Failed.length > 0)
				fail(`send: ${JSON.stringify(r.Failed[0])}`);
		}
	}
	await Promise.all(Array.from({ length: inflight }, worker));
}

async function recv() {
	const want = Number(arg);
	let got = 0;
	const out = [];
	async function worker() {
		while (got < want) {
			const r = await sqs.send(new ReceiveMessageCommand({
				QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			}));
			const m = r.Messages || [];
			if (m.length === 0)
				continue;
			got += m.length;
			for (const x of m)
				out.push(x.Body);
			const d = await sqs.send(new DeleteMessageBatchCommand({
				QueueUrl: url, Entries: m.map((x, i) => ({ Id: String(i), ReceiptHandle: x.ReceiptHandle })),
			}));
			if (d.Failed && d.Failed.length > 0)
				fail(`delete: ${JSON.stringify(d.Failed[0])}`);
		}
	}
	await Promise.all(Array.from({ length: inflight }, worker));
	process.stdout.write(out.join('\n') + '\n');
}

if (mode === 'send')
	await send();
else if (mode === 'recv')
	await recv();
else
	fail('usage: sqs-sdk.mjs send|recv QUEUE_URL FILE|COUNT [INFLIGHT]');
