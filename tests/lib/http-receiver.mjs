// An HTTP receiver for the tests of evbus-route's http targets: it parses
// every request with the official npm `cloudevents` SDK (HTTP.toEvent, both
// modes), records it, and answers as its script says.
//
// Usage: node tests/lib/http-receiver.mjs --log FILE [--script FILE]
//        [--basic USER:PASS] [--api-key HEADER:VALUE]
//        [--oauth CLIENT_ID:CLIENT_SECRET] [--token-ttl SECONDS]
//        [--tls CERT KEY] [--port N] [--parent PID]
//
// With --tls it speaks HTTPS (node:https) with that certificate and key.
//
// Prints the port on stdout once it listens on 127.0.0.1, then serves until
// its stdin reaches end of file, SIGTERM/SIGINT/SIGHUP arrives, or process
// PID (--parent) is gone.
//
// Each request (but /_control/*) is one JSON line appended to FILE *before*
// it is answered, so a client that got its answer finds it there:
//   n (1-based; token requests are counted apart), method, path, query
//   (object), raw_query, headers (lower-case names), body (UTF-8 text),
//   conn (1-based number of the TCP connection) and remote_port (connection
//   reuse is counted from either), auth ("ok", "none" when no auth is set,
//   "missing", "bad"), mode ("binary", "structured", "batch" or null),
//   event (the SDK's CloudEvent as JSON, an array for a batch, or null),
//   ce_error (why the SDK or the raw-id check refused it, or null),
//   ce_decoded (below), status
//   (the answer) and delay_ms.
// The raw id (ce-id header / "id" member) is checked before the SDK sees the
// request: the SDK invents a UUID for a missing or empty id.  The SDK (9.0.0)
// does not percent-decode binary-mode header values: ce_decoded (binary mode
// only, else null) has every ce-* header decoded as the HTTP binding says
// (one pass, invalid UTF-8 such as the overlong %C0%A0 refused: the value is
// then {"error": ...}).
//
// Script (JSON object, from --script or POST /_control/script, which also
// resets its counters and the request number):
//   "#N": ANSWER          the N-th request (token requests not counted)
//   "/path": [ANSWER...]  the k-th request to /path gets the k-th answer,
//                         the last one repeating ("500 twice then 200":
//                         [{"status":500},{"status":500},{"status":200}])
//   "*": [ANSWER...]      the same for any other path (default: 200)
//   "by": "body"          count per (path, body) rather than per path: every
//                         distinct event goes through the list on its own
// ANSWER: {"status":N, "delay_ms":N, "headers":{...}, "body":"...",
//          "echo":true (the request's body as the answer's: fnrun --url),
//          "location":URL (a 3xx's Location), "revoke":true (the bearer
//          token presented is invalid from now on: a 401 that requires a
//          new OAuth token)}.
// A request failing the auth check is answered 401 and uses no answer.
//
// OAuth client credentials (--oauth): POST /oauth/token, form-encoded,
// grant_type=client_credentials, the client id and secret in the form or in
// a basic Authorization header; answers {"access_token","token_type":
// "Bearer","expires_in"} (--token-ttl, default 3600).  Other requests then
// need "Authorization: Bearer TOKEN" with a live token.  POST
// /_control/expire-tokens expires every token issued so far.
import { HTTP } from 'cloudevents';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { stopWhenDone } from './lifetime.mjs';

function usage(msg) {
	process.stderr.write(`http-receiver.mjs: ${msg}\n`);
	process.exit(64);
}

function pair(v, what) {
	const i = v === undefined ? -1 : v.indexOf(':');
	if (i <= 0)
		usage(`${what} wants A:B`);
	return [v.slice(0, i), v.slice(i + 1)];
}

function parseArgs(argv) {
	const o = { port: 0, parent: 0, log: '', script: {}, tokenTtl: 3600 };
	for (let i = 0; i < argv.length; i++) {
		const v = argv[i + 1];
		switch (argv[i]) {
		case '--port': o.port = Number(v); i++; break;
		case '--parent': o.parent = Number(v); i++; break;
		case '--log': o.log = v; i++; break;
		case '--script': o.script = JSON.parse(readFileSync(v, 'utf8')); i++; break;
		case '--basic': o.basic = pair(v, '--basic'); i++; break;
		case '--api-key': o.apiKey = pair(v, '--api-key'); i++; break;
		case '--oauth': o.oauth = pair(v, '--oauth'); i++; break;
		case '--token-ttl': o.tokenTtl = Number(v); i++; break;
		case '--tls':
			if (v === undefined || argv[i + 2] === undefined)
				usage('--tls wants CERT KEY');
			o.tls = { cert: readFileSync(v), key: readFileSync(argv[i + 2]) };
			i += 2;
			break;
		default: usage(`unknown argument: ${argv[i]}`);
		}
	}
	if (!o.log)
		usage('--log FILE is required');
	if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
		usage('--port wants 0..65535');
	return o;
}

const opt = parseArgs(process.argv.slice(2));
let script = opt.script;
let counters = new Map();
let nreq = 0;
let nconn = 0;
const tokens = new Map();	// token -> expiry (ms since the epoch)
let ntoken = 0;

function record(r) {
	appendFileSync(opt.log, JSON.stringify(r) + '\n');
}

function ceMode(headers) {
	const ct = (headers['content-type'] || '').toLowerCase();
	if (ct.startsWith('application/cloudevents-batch'))
		return 'batch';
	if (ct.startsWith('application/cloudevents'))
		return 'structured';
	return headers['ce-specversion'] !== undefined ? 'binary' : null;
}

function rawIdMissing(mode, headers, body) {
	if (mode === 'binary')
		return !headers['ce-id'];
	let v;
	try {
		v = JSON.parse(body);
	} catch {
		return false;	// the SDK says what is wrong
	}
	const all = Array.isArray(v) ? v : [v];
	return all.some((e) => !e || typeof e.id !== 'string' || e.id === '');
}

// What the SDK makes of the request: [mode, event, error].
function parseCe(headers, body) {
	const mode = ceMode(headers);
	if (mode === null)
		return [null, null, 'no cloud event detected'];
	if (rawIdMissing(mode, headers, body))
		return [mode, null, 'missing or empty id'];
	try {
		const got = HTTP.toEvent({ headers, body });
		const all = Array.isArray(got) ? got : [got];
		for (const e of all)
			e.validate();
		const json = all.map((e) => e.toJSON());
		return [mode, Array.isArray(got) ? json : json[0], null];
	} catch (e) {
		const why = (e.message || String(e)).split('\n')[0];
		return [mode, null, e.errors ? `${why} ${JSON.stringify(e.errors)}` : why];
	}
}

function ceDecoded(mode, headers) {
	if (mode !== 'binary')
		return null;
	const out = {};
	for (const [k, v] of Object.entries(headers)) {
		if (!k.startsWith('ce-'))
			continue;
		try {
			out[k.slice(3)] = decodeURIComponent(v);
		} catch (e) {
			out[k.slice(3)] = { error: e.message };
		}
	}
	return out;
}

function bearer(headers) {
	const m = /^Bearer\s+(\S+)$/i.exec(headers.authorization || '');
	return m ? m[1] : null;
}

function authCheck(headers) {
	if (opt.basic) {
		const want = 'Basic ' + Buffer.from(opt.basic.join(':')).toString('base64');
		if (!headers.authorization)
			return 'missing';
		if (headers.authorization !== want)
			return 'bad';
	}
	if (opt.apiKey) {
		const got = headers[opt.apiKey[0].toLowerCase()];
		if (got === undefined)
			return 'missing';
		if (got !== opt.apiKey[1])
			return 'bad';
	}
	if (opt.oauth) {
		const t = bearer(headers);
		if (t === null)
			return 'missing';
		if (!tokens.has(t) || tokens.get(t) <= Date.now())
			return 'bad';
	}
	return opt.basic || opt.apiKey || opt.oauth ? 'ok' : 'none';
}

function pick(n, path, body) {
	if (script[`#${n}`])
		return script[`#${n}`];
	const list = script[path] || script['*'];
	if (!Array.isArray(list) || list.length === 0)
		return { status: 200 };
	const key = script.by === 'body' ? `${path}\n${body}` : path;
	const k = counters.get(key) || 0;
	counters.set(key, k + 1);
	return list[Math.min(k, list.length - 1)];
}

function send(res, status, headers, body, delay) {
	const go = () => {
		if (res.destroyed)
			return;
		res.writeHead(status, headers);
		res.end(body);
	};
	if (delay > 0)
		setTimeout(go, delay);
	else
		go();
}

function tokenEndpoint(req, base, body, res) {
	const form = new URLSearchParams(body);
	let id = form.get('client_id');
	let secret = form.get('client_secret');
	const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization || '');
	if (m) {
		const s = Buffer.from(m[1], 'base64').toString();
		const i = s.indexOf(':');
		[id, secret] = [decodeURIComponent(s.slice(0, i)), decodeURIComponent(s.slice(i + 1))];
	}
	const ct = (req.headers['content-type'] || '').toLowerCase();
	let status = 200;
	let answer;
	if (req.method !== 'POST' || !ct.startsWith('application/x-www-form-urlencoded') ||
	    form.get('grant_type') !== 'client_credentials') {
		status = 400;
		answer = { error: 'invalid_request' };
	} else if (!opt.oauth || id !== opt.oauth[0] || secret !== opt.oauth[1]) {
		status = 401;
		answer = { error: 'invalid_client' };
	} else {
		const t = `tok-${++ntoken}-${Math.random().toString(36).slice(2)}`;
		tokens.set(t, Date.now() + opt.tokenTtl * 1000);
		answer = { access_token: t, token_type: 'Bearer', expires_in: opt.tokenTtl };
	}
	record({ n: 0, ...base, body, auth: status === 200 ? 'ok' : 'bad', mode: null,
	    event: null, ce_error: null, ce_decoded: null, status, delay_ms: 0 });
	send(res, status, { 'content-type': 'application/json' }, JSON.stringify(answer), 0);
}

function control(path, body, res) {
	if (path === '/_control/script') {
		script = JSON.parse(body || '{}');
		counters = new Map();
		nreq = 0;
	} else if (path === '/_control/expire-tokens') {
		for (const t of tokens.keys())
			tokens.set(t, 0);
	} else {
		send(res, 404, {}, 'no such control\n', 0);
		return;
	}
	send(res, 204, {}, '', 0);
}

function handle(req, body, res) {
	const url = new URL(req.url, 'http://127.0.0.1');
	const path = url.pathname;
	if (path.startsWith('/_control/')) {
		try {
			control(path, body, res);
		} catch (e) {
			send(res, 400, {}, `${e.message}\n`, 0);
		}
		return;
	}
	const base = { method: req.method, path, query: Object.fromEntries(url.searchParams),
	    raw_query: url.search.replace(/^\?/, ''), headers: req.headers,
	    conn: req.socket.evkitConn, remote_port: req.socket.remotePort };
	if (path === '/oauth/token') {
		tokenEndpoint(req, base, body, res);
		return;
	}
	const n = ++nreq;
	const [mode, event, ceError] = parseCe(req.headers, body);
	const auth = authCheck(req.headers);
	const a = auth === 'ok' || auth === 'none' ? pick(n, path, body) : { status: 401 };
	const status = a.status || 200;
	const delay = a.delay_ms || 0;
	record({ n, ...base, body, auth, mode, event, ce_error: ceError,
	    ce_decoded: ceDecoded(mode, req.headers), status, delay_ms: delay });
	if (a.revoke && bearer(req.headers))
		tokens.set(bearer(req.headers), 0);
	const headers = { ...(a.headers || {}) };
	if (a.location)
		headers.location = a.location;
	send(res, status, headers, a.echo ? body : a.body || '', delay);
}

function onRequest(req, res) {
	const parts = [];
	req.on('data', (d) => parts.push(d));
	req.on('end', () => handle(req, Buffer.concat(parts).toString('utf8'), res));
}

const server = opt.tls ? createTlsServer(opt.tls, onRequest) : createServer(onRequest);
server.keepAliveTimeout = 30000;
// A request's socket is the TLS socket, not the TCP one 'connection' gives.
server.on(opt.tls ? 'secureConnection' : 'connection', (sock) => { sock.evkitConn = ++nconn; });

let stopping = false;
function stop(code) {
	if (stopping)
		return;
	stopping = true;
	// A delayed answer or an idle kept-alive client must not hold the port.
	setTimeout(() => process.exit(code), 1000).unref();
	server.closeAllConnections?.();
	server.close(() => process.exit(code));
}

stopWhenDone(stop, opt.parent);

server.on('error', (e) => {
	process.stderr.write(`http-receiver.mjs: listen on 127.0.0.1:${opt.port}: ${e.message}\n`);
	process.exit(69);
});
server.listen(opt.port, '127.0.0.1', () => {
	process.stdout.write(`${server.address().port}\n`);
});
