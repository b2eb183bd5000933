// The AWS SDK for JavaScript v3 (@aws-sdk/client-sqs) against evkit-serve,
// for tests/evkit-serve.bats.  The SDK checks every MD5 it is given.
//
// Usage: node tests/lib/serve-sdk.mjs STEP ARGS   (endpoint: AWS_ENDPOINT_URL)
//   tour NAME             create, send (with attributes), batch send, receive
//                         all, change visibility, batch delete, attributes:
//                         one JSON line of what it saw
//   send QUEUEURL BODY... one SendMessage each; prints each MessageId
//   recv QUEUEURL N       receives and deletes up to N, 10 at a time;
//                         prints each body
//   poll QUEUEURL WAIT    one ReceiveMessage long poll: {"ms","bodies"}
//                         ("polling" on stderr as it sends it)
//   error JSON            a call that must fail: {"name","status","code"}
import {
	SQSClient, CreateQueueCommand, SendMessageCommand, SendMessageBatchCommand,
	ReceiveMessageCommand, DeleteMessageCommand, DeleteMessageBatchCommand,
	ChangeMessageVisibilityCommand, GetQueueAttributesCommand, GetQueueUrlCommand,
	ListQueuesCommand, PurgeQueueCommand, DeleteQueueCommand,
} from '@aws-sdk/client-sqs';

const sqs = new SQSClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: 'us-east-1' });
const [step, ...args] = process.argv.slice(2);
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');

async function tour(name) {
	const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name,
	    Attributes: { VisibilityTimeout: '60' } }));
	const again = await sqs.send(new CreateQueueCommand({ QueueName: name,
	    Attributes: { VisibilityTimeout: '60' } }));
	const one = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'h\u00e9llo',
	    MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' },
	        n: { DataType: 'Number', StringValue: '42' },
	        raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) } } }));
	const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl,
	    Entries: Array.from({ length: 9 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })) }));
	const got = [];
	for (let tries = 0; got.length < 10 && tries < 20; tries++) {
		const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10,
		    MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
		got.push(...(r.Messages ?? []));
	}
	const first = got.find((m) => m.Body === 'h\u00e9llo');
	await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl,
	    ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0 }));
	const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1,
	    MessageAttributeNames: ['kind'] }));
	await sqs.send(new DeleteMessageCommand({ QueueUrl,
	    ReceiptHandle: back.Messages[0].ReceiptHandle }));
	const del = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl,
	    Entries: got.filter((m) => m !== first).map((m, i) => ({ Id: `d${i}`,
	        ReceiptHandle: m.ReceiptHandle })) }));
	const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl,
	    AttributeNames: ['All'] }));
	const url = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
	const list = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
	out({
		url: QueueUrl, same: again.QueueUrl === QueueUrl, getUrl: url.QueueUrl,
		listed: list.QueueUrls, sentId: one.MessageId.length, batchOk: batch.Successful.length,
		received: got.length, attrs: first.MessageAttributes.n.StringValue,
		binary: [...first.MessageAttributes.raw.BinaryValue],
		receiveCount: first.Attributes.ApproximateReceiveCount,
		again: back.Messages[0].Body, againCount: back.Messages[0].Attributes?.ApproximateReceiveCount,
		againAttrs: Object.keys(back.Messages[0].MessageAttributes),
		deleted: del.Successful.length, left: attrs.Attributes.ApproximateNumberOfMessages,
		visibility: attrs.Attributes.VisibilityTimeout,
	});
	await sqs.send(new PurgeQueueCommand({ QueueUrl }));
	await sqs.send(new DeleteQueueCommand({ QueueUrl }));
}

async function send(QueueUrl, bodies) {
	for (const MessageBody of bodies)
		out((await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody }))).MessageId);
}

async function recv(QueueUrl, n) {
	let left = Number(n);
	while (left > 0) {
		const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl,
		    MaxNumberOfMessages: Math.min(10, left), WaitTimeSeconds: 2 }));
		const ms = r.Messages ?? [];
		if (ms.length === 0)
			break;
		for (const m of ms)
			process.stdout.write(m.Body + '\n');
		await sqs.send(new DeleteMessageBatchCommand({ QueueUrl,
		    Entries: ms.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.ReceiptHandle })) }));
		left -= ms.length;
	}
}

async function poll(QueueUrl, wait) {
	const t = Date.now();
	process.stderr.write('polling\n');	// the test's sign that the request is on its way
	const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10,
	    WaitTimeSeconds: Number(wait) }));
	out({ ms: Date.now() - t, bodies: (r.Messages ?? []).map((m) => m.Body) });
}

const commands = { SendMessageCommand, ReceiveMessageCommand, GetQueueUrlCommand,
    CreateQueueCommand, SendMessageBatchCommand, DeleteMessageCommand };

async function error(spec) {
	const { command, input } = JSON.parse(spec);
	try {
		await sqs.send(new commands[command](input));
		out({ name: 'none' });
	} catch (e) {
		out({ name: e.name, status: e.$metadata?.httpStatusCode, code: e.Code ?? e.code ?? null });
	}
}

switch (step) {
case 'tour': await tour(args[0]); break;
case 'send': await send(args[0], args.slice(1)); break;
case 'recv': await recv(args[0], args[1]); break;
case 'poll': await poll(args[0], args[1]); break;
case 'error': await error(args[0]); break;
default:
	process.stderr.write(`serve-sdk.mjs: unknown step ${step}\n`);
	process.exit(64);
}
