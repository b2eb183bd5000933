// An independent JetStream client for the tests and benches: the npm `nats`
// client (pinned in tests/package.json), so that what evkit stores on a
// nats-server is checked, and timed, by someone else's code.
//
//   node nats-js.mjs SERVERS add-stream NAME SUBJECTS [REPLICAS] [workqueue]
//       a file stream (SUBJECTS comma-separated); prints its info
//   node nats-js.mjs SERVERS info NAME       the stream's info (JSON)
//   node nats-js.mjs SERVERS pub SUBJECT [N] N messages (default 1), each
//       {"n":I}, published with acks; prints the last ack
//   node nats-js.mjs SERVERS read NAME       every message of the stream,
//       one {"seq","subject","data","headers"} a line (data as text)
//   node nats-js.mjs SERVERS send NAME FILE BATCH
//       each line of FILE published to subject NAME with an ack, BATCH
//       publishes in flight at a time (evq-send's peer in the bench)
//   node nats-js.mjs SERVERS recv NAME COUNT BATCH
//       fetches of BATCH from the durable pull consumer "bench" on stream
//       NAME, each message acked (acks awaited per batch), until COUNT;
//       bodies to stdout (evq-recv's peer)
//   node nats-js.mjs SERVERS append NAME SUBJECT FILE
//       each line of FILE published to SUBJECT with the expected last
//       subject sequence the previous ack gave (evlog-append's peer)
//
// SERVERS is host:port[,host:port...]; NATS_USER and NATS_PASS, when set,
// are the credentials.  Exits 1 on any failure.
import { readFileSync } from 'node:fs';
import { connect, StringCodec, AckPolicy, RetentionPolicy, StorageType } from 'nats';

const [servers, mode, ...args] = process.argv.slice(2);
const sc = StringCodec();

function fail(why) {
	process.stderr.write(`nats-js.mjs: ${why}\n`);
	process.exit(1);
}

function lines(file) {
	return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
}

async function addStream(nc, name, subjects, replicas, kind) {
	const jsm = await nc.jetstreamManager();
	const cfg = {
		name, subjects: subjects.split(','), storage: StorageType.File,
		num_replicas: Number(replicas || 1),
	};
	if (kind === 'workqueue')
		cfg.retention = RetentionPolicy.Workqueue;
	const si = await jsm.streams.add(cfg);
	console.log(JSON.stringify(si));
}

async function info(nc, name) {
	const jsm = await nc.jetstreamManager();
	console.log(JSON.stringify(await jsm.streams.info(name)));
}

async function pub(nc, subject, n) {
	const js = nc.jetstream();
	let pa;
	for (let i = 1; i <= Number(n || 1); i++)
		pa = await js.publish(subject, sc.encode(JSON.stringify({ n: i })));
	console.log(JSON.stringify(pa));
}

async function read(nc, name) {
	const jsm = await nc.jetstreamManager();
	const si = await jsm.streams.info(name);
	for (let seq = si.state.first_seq; seq <= si.state.last_seq && si.state.messages > 0; seq++) {
		let m;
		try {
			m = await jsm.streams.getMessage(name, { seq });
		} catch (e) {
			if (String(e.message).includes('no message found'))
				continue;
			throw e;
		}
		const headers = {};
		if (m.header)
			for (const [k, v] of m.header)
				headers[k] = v.join(',');
		console.log(JSON.stringify({ seq: m.seq, subject: m.subject, data: sc.decode(m.data), headers }));
	}
}

async function send(nc, name, file, batch) {
	const js = nc.jetstream();
	const all = lines(file);
	for (let at = 0; at < all.length; at += batch)
		await Promise.all(all.slice(at, at + batch).map((l) => js.publish(name, sc.encode(l))));
}

async function recv(nc, name, count, batch) {
	const jsm = await nc.jetstreamManager();
	await jsm.consumers.add(name, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
	const c = await nc.jetstream().consumers.get(name, 'bench');
	const out = [];
	let got = 0;
	while (got < count) {
		const msgs = await c.fetch({ max_messages: Math.min(batch, count - got), expires: 5000 });
		const acks = [];
		for await (const m of msgs) {
			out.push(sc.decode(m.data));
			acks.push(m.ackAck());
			got++;
		}
		await Promise.all(acks);
		if (out.length >= 1000) {
			process.stdout.write(out.join('\n') + '\n');
			out.length = 0;
		}
	}
	if (out.length > 0)
		process.stdout.write(out.join('\n') + '\n');
}

async function append(nc, subject, file) {
	const js = nc.jetstream();
	let last = 0;
	for (const l of lines(file)) {
		const pa = await js.publish(subject, sc.encode(l), { expect: { lastSubjectSequence: last } });
		last = pa.seq;
	}
}

const nc = await connect({
	servers: servers.split(','), user: process.env.NATS_USER, pass: process.env.NATS_PASS,
}).catch((e) => fail(`connect: ${e.message}`));
try {
	switch (mode) {
	case 'add-stream': await addStream(nc, ...args); break;
	case 'info': await info(nc, args[0]); break;
	case 'pub': await pub(nc, args[0], args[1]); break;
	case 'read': await read(nc, args[0]); break;
	case 'send': await send(nc, args[0], args[1], Number(args[2] || 10)); break;
	case 'recv': await recv(nc, args[0], Number(args[1]), Number(args[2] || 10)); break;
	case 'append': await append(nc, args[1], args[2]); break;
	default: fail(`unknown mode: ${mode}`);
	}
	await nc.drain();
} catch (e) {
	fail(`${mode}: ${e.message}`);
}
