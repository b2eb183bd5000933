"""What the Python test servers share (sigv4-proxy.py, throttle-server.py).

A server binds 127.0.0.1 on a free port (or --port), prints the port on
stdout once it accepts connections, and stops when its stdin reaches end of
file, on SIGTERM/SIGINT/SIGHUP, or when process --parent is gone: a test run
killed with -9 leaves nothing listening.  Requests are HTTP/1.1 with
keep-alive, as an AWS client sends them.
"""
import http.client
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'expect',
              'transfer-encoding', 'upgrade'}


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, handler):
        super().__init__(('127.0.0.1', port), handler)
        self.stopped = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):  # a verdict file, not stderr noise
        pass

    # Every request, whatever its method, goes to handle_one().
    def do_POST(self):
        self.handle_one()

    def do_GET(self):
        self.handle_one()

    def operation(self):
        """The SQS or EventBridge operation (X-Amz-Target), else METHOD PATH."""
        return self.headers.get('X-Amz-Target') or self.command + ' ' + self.path.split('?')[0]

    def read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            return self._read_chunked()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n > 0 else b''

    def _read_chunked(self):
        parts = []
        while True:
            n = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
            if n == 0:
                break
            parts.append(self.rfile.read(n))
            self.rfile.readline()
        while self.rfile.readline() not in (b'\r\n', b'\n', b''):
            pass  # trailers
        return b''.join(parts)

    def answer(self, status, body, headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def aws_error(self, status, type_, query_code, fault, message):
        """An error as SQS's JSON 1.0 protocol (awsQueryCompatible) sends it."""
        body = json.dumps({'__type': type_, 'message': message})
        self.answer(status, body, [
            ('Content-Type', 'application/x-amz-json-1.0'),
            ('x-amzn-query-error', f'{query_code};{fault}'),
            ('x-amzn-RequestId', f'test-{time.monotonic_ns()}')])

    def forward(self, upstream, body):
        """Sends the request on to UPSTREAM and streams its answer back."""
        conn = upstream_conn(upstream)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() != 'content-length'}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException):
            drop_upstream_conn()
            self.aws_error(502, 'com.amazon.coral.service#InternalFailure',
                           'InternalFailure', 'Receiver', 'upstream unreachable')
            return
        self.send_response(resp.status, resp.reason)
        length = resp.getheader('Content-Length')
        data = None if length is not None else resp.read()
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != 'content-length':
                self.send_header(k, v)
        self.send_header('Content-Length', length if data is None else str(len(data)))
        self.end_headers()
        if data is not None:
            self.wfile.write(data)
        else:
            while True:
                chunk = resp.read(65536)
                if not chunk:
                    break
                self.wfile.write(chunk)
        self.wfile.flush()


_local = threading.local()


def upstream_conn(upstream):
    """One kept-alive connection to the upstream per handler thread."""
    conn = getattr(_local, 'conn', None)
    if conn is None:
        u = urllib.parse.urlsplit(upstream)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
        _local.conn = conn
    return conn


def drop_upstream_conn():
    conn = getattr(_local, 'conn', None)
    if conn is not None:
        conn.close()
    _local.conn = None


class Counter:
    """Counts requests into FILE (one number, replaced atomically)."""

    def __init__(self, path):
        self.path = path
        self.n = 0
        self.lock = threading.Lock()
        if path:
            self._write()

    def next(self):
        with self.lock:
            self.n += 1
            if self.path:
                self._write()
            return self.n

    def _write(self):
        tmp = f'{self.path}.{os.getpid()}.tmp'
        with open(tmp, 'w', encoding='ascii') as f:
            f.write(f'{self.n}\n')
        os.replace(tmp, self.path)


class LineLog:
    """Appends one line per event to FILE (or nowhere)."""

    def __init__(self, path):
        self.f = open(path, 'a', encoding='utf-8') if path else None
        self.lock = threading.Lock()

    def __call__(self, line):
        if self.f:
            with self.lock:
                self.f.write(line + '\n')
                self.f.flush()


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def _watch_stdin(srv):
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    srv.stopped.set()


def _watch_parent(srv, pid):
    while not srv.stopped.wait(0.5):
        if not _alive(pid):
            srv.stopped.set()


def serve(port, handler, parent=0):
    """Runs the server until told to stop (see the module's comment)."""
    srv = Server(port, handler)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: srv.stopped.set())
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Thread(target=_watch_stdin, args=(srv,), daemon=True).start()
    if parent > 0:
        threading.Thread(target=_watch_parent, args=(srv, parent), daemon=True).start()
    sys.stdout.write(f'{srv.server_address[1]}\n')
    sys.stdout.flush()
    while not srv.stopped.wait(1):
        pass
    # Handler threads are daemons: one stuck in a hang mode or a slow
    # upstream must not keep the process, or its port, alive.
    srv.socket.close()
    os._exit(0)


def common_args(p):
    p.add_argument('--port', type=int, default=0, help='port on 127.0.0.1 (0: a free one)')
    p.add_argument('--parent', type=int, default=0, help='stop when this process is gone')
