#!/usr/bin/python3
"""A misbehaving SQS endpoint for the client's failure-path tests.

Usage: /usr/bin/python3 tests/lib/throttle-server.py [--mode MODE] [--first K]
       [--only ACTION] [--upstream URL] [--count FILE] [--log FILE]
       [--port N] [--parent PID]

The first K requests (default 3; -1: every request) get MODE's treatment:
  throttling        400, ThrottlingException (what SQS's JSON 1.0 front end
                    answers when the request rate is over the limit)
  request-throttled 403, com.amazonaws.sqs#RequestThrottled (SQS's own code)
  unavailable       503, ServiceUnavailable
  internal          500, InternalFailure
  hang              the request is read and never answered (timeouts)
  malformed         200 with a truncated JSON body
  close             the connection is closed without an answer
Later requests go on to --upstream (fauxqs), or get a canned 200 "{}".
--count FILE holds the number of requests seen so far, so a test can
assert how many retries a client made.  --bodies FILE gets each request's
action and JSON body, one line each (what a client really sent).  With --only ACTION (SendMessageBatch,
...), other actions pass through untouched and uncounted.
"""
import argparse
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402

ERRORS = {
    'throttling': (400, 'com.amazon.coral.availability#ThrottlingException',
                   'ThrottlingException', 'Sender', 'Rate exceeded'),
    'request-throttled': (403, 'com.amazonaws.sqs#RequestThrottled',
                          'RequestThrottled', 'Sender', 'Request is throttled.'),
    'unavailable': (503, 'com.amazon.coral.availability#ServiceUnavailableException',
                    'ServiceUnavailable', 'Receiver', 'Service Unavailable'),
    'internal': (500, 'com.amazon.coral.service#InternalFailure',
                 'InternalFailure', 'Receiver', 'We encountered an internal error. Please try again.'),
}
MODES = sorted(list(ERRORS) + ['hang', 'malformed', 'close'])


class Throttle(srvlib.Handler):
    mode = 'throttling'
    first = 3
    upstream = None
    only = None
    counter = None
    log = None
    bodies = None

    def handle_one(self):
        body = self.read_body()
        op = self.operation()
        if self.bodies:
            with open(self.bodies, 'ab') as f:
                f.write(op.encode() + b' ' + body.replace(b'\n', b' ') + b'\n')
        if self.only and op != 'AmazonSQS.' + self.only:
            self.log(f'- pass {op}')
            self.pass_on(body)
            return
        n = self.counter.next()
        if self.first >= 0 and n > self.first:
            self.log(f'{n} pass {op}')
            self.pass_on(body)
            return
        self.log(f'{n} {self.mode} {op}')
        self.misbehave()

    def pass_on(self, body):
        if self.upstream:
            self.forward(self.upstream, body)
        else:
            self.answer(200, '{}', [('Content-Type', 'application/x-amz-json-1.0')])

    def misbehave(self):
        if self.mode in ERRORS:
            self.aws_error(*ERRORS[self.mode])
        elif self.mode == 'malformed':
            self.answer(200, '{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","MD5OfMessageBody":',
                        [('Content-Type', 'application/x-amz-json-1.0')])
        elif self.mode == 'close':
            self.close_connection = True
        else:  # hang: until the server stops; the thread is a daemon
            self.server.stopped.wait()
            self.close_connection = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    srvlib.common_args(p)
    p.add_argument('--mode', choices=MODES, default='throttling')
    p.add_argument('--first', type=int, default=3, help='requests that misbehave (-1: all)')
    p.add_argument('--only', metavar='ACTION', help='misbehave on this SQS action only')
    p.add_argument('--upstream', help='URL later requests go on to (default: canned {})')
    p.add_argument('--count', help='file holding the number of requests seen')
    p.add_argument('--log', help='file for one line a request')
    p.add_argument('--bodies', help="file for each request's action and body")
    a = p.parse_args()
    if a.first < -1:
        sys.exit('throttle-server.py: --first wants -1 or more')
    Throttle.mode, Throttle.first, Throttle.upstream = a.mode, a.first, a.upstream
    Throttle.only = a.only
    Throttle.bodies = a.bodies
    Throttle.counter = srvlib.Counter(a.count)
    Throttle.log = srvlib.LineLog(a.log)
    srvlib.serve(a.port, Throttle, a.parent)


if __name__ == '__main__':
    main()
