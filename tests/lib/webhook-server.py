#!/usr/bin/python3
"""A webhook receiver for evbus-route's http targets (tests/evbus-route-http.bats).

Usage: python3 tests/lib/webhook-server.py --record FILE [--user U:P]
       [--key VALUE] [--tls CERT KEY] [--port N] [--parent PID]

With --tls it speaks HTTPS with that certificate and key.

Each request is recorded as one JSON line in FILE ({"method", "path",
"headers" (lower-case names), "body", "peer" (the client's port: one per
connection), "status"}) and answered by its path:
  /ok                   200
  /fail/STATUS/K        the first K requests with the same body get STATUS,
                        later ones 200
  /status/STATUS        always STATUS, with a body that says why
  /slow/MS              200 after MS milliseconds
  /redirect             302 to /ok
  /basic                200 with Basic auth U:P (--user), else 401
  /apikey               200 with X-Api-Key: VALUE (--key), else 401
  /token                an OAuth token endpoint: client_credentials with
                        client id "cid" and secret VALUE (--key) get tok-N
  /oauth                200 with Bearer tok-N for N >= 2 (tok-1 is refused
                        with 401, so the client must fetch a fresh one)
"""
import argparse
import base64
import json
import ssl
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402


class Hook(srvlib.Handler):
    user = key = None
    log = None
    seen = {}
    tokens = 0
    lock = threading.Lock()

    def do_PUT(self):
        self.handle_one()

    def do_PATCH(self):
        self.handle_one()

    def do_DELETE(self):
        self.handle_one()

    def do_HEAD(self):
        self.handle_one()

    def answer(self, status, body, headers=()):
        if self.command != 'HEAD':
            super().answer(status, body, headers)
            return
        self.send_response(status)  # a HEAD answer has headers only
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', '0')
        self.end_headers()
        self.wfile.flush()

    def handle_one(self):
        body = self.read_body()
        parts = self.path.split('?')[0].strip('/').split('/')
        status, text, headers = self.route(parts, body)
        self.log(json.dumps({'method': self.command, 'path': self.path,
                             'headers': {k.lower(): v for k, v in self.headers.items()},
                             'body': body.decode('utf-8', 'replace'),
                             'peer': self.client_address[1], 'status': status}))
        self.answer(status, text, headers)

    def route(self, parts, body):
        p = parts[0]
        if p == 'fail':
            with self.lock:
                k = (self.path, body)
                self.seen[k] = self.seen.get(k, 0) + 1
                n = self.seen[k]
            return (int(parts[1]), 'try again later', ()) if n <= int(parts[2]) else (200, 'ok', ())
        if p == 'status':
            return int(parts[1]), 'the receiver says no:\nbad thing', ()
        if p == 'slow':
            time.sleep(int(parts[1]) / 1000)
            return 200, 'ok', ()
        if p == 'redirect':
            return 302, '', [('Location', '/ok')]
        if p == 'basic':
            want = 'Basic ' + base64.b64encode(self.user.encode()).decode()
            return (200, 'ok', ()) if self.headers.get('Authorization') == want else (401, 'who?', ())
        if p == 'apikey':
            return (200, 'ok', ()) if self.headers.get('X-Api-Key') == self.key else (401, 'who?', ())
        if p == 'token':
            f = urllib.parse.parse_qs(body.decode())
            if f.get('grant_type') != ['client_credentials'] or f.get('client_id') != ['cid'] \
                    or f.get('client_secret') != [self.key]:
                return 401, '{"error":"invalid_client"}', ()
            with self.lock:
                Hook.tokens += 1
                n = Hook.tokens
            return 200, json.dumps({'access_token': f'tok-{n}', 'token_type': 'Bearer',
                                    'expires_in': 3600}), [('Content-Type', 'application/json')]
        if p == 'oauth':
            a = self.headers.get('Authorization') or ''
            ok = a.startswith('Bearer tok-') and a != 'Bearer tok-1'
            return (200, 'ok', ()) if ok else (401, 'token expired', ())
        return 200, 'ok', ()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    srvlib.common_args(p)
    p.add_argument('--record', required=True)
    p.add_argument('--user', default='u:p')
    p.add_argument('--key', default='k')
    p.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    a = p.parse_args()
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*a.tls)

        class TLSServer(srvlib.Server):
            def __init__(self, port, handler):
                super().__init__(port, handler)
                self.socket = ctx.wrap_socket(self.socket, server_side=True)
        srvlib.Server = TLSServer
    Hook.user, Hook.key = a.user, a.key
    Hook.log = srvlib.LineLog(a.record)
    srvlib.serve(a.port, Hook, a.parent)


if __name__ == '__main__':
    main()
