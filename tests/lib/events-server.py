#!/usr/bin/python3
"""A stand-in for Amazon EventBridge's PutEvents, for evbus-route's tests.

Usage: /usr/bin/python3 tests/lib/events-server.py --record FILE
       [--throttle K] [--fail-first N] [--fail-code CODE]
       [--fail-match TEXT] [--match-code CODE] [--count FILE]
       [--port N] [--parent PID]

There is no EventBridge emulator in Debian or npm, so this server answers
PutEvents (AWS JSON 1.1, X-Amz-Target AWSEvents.PutEvents) itself.  Every
request body is checked against botocore's own model of PutEvents (its
ParamValidator, after the JSON 1.1 epoch-seconds Time is read back as a
timestamp) and each Detail must be a JSON object's text; a request that
fails is refused with 400 ValidationException and "invalid: why" goes to
stderr.  Every valid request body is appended to --record as one line,
as it came (the client sends compact JSON).

Misbehaviour, for the retry paths:
  --throttle K      the first K requests get 400 ThrottlingException whole
  --fail-first N    the first N entries (over all requests) fail on their
                    own with --fail-code (default ThrottlingException, which
                    AWS calls retryable), FailedEntryCount counting them
  --fail-match TEXT every entry whose Detail contains TEXT fails with
                    --match-code (default MalformedDetail: not retryable)
--count FILE holds the number of requests seen so far.  Put it behind
tests/lib/sigv4-proxy.py to have each request's signature (service
"events") checked too.
"""
import argparse
import datetime
import json
import sys
import threading
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402

import botocore.session  # noqa: E402
from botocore.validate import ParamValidator  # noqa: E402

MODEL = botocore.session.get_session().get_service_model('events')
INPUT = MODEL.operation_model('PutEvents').input_shape


def as_params(req):
    """The request as botocore's validator takes it: Time a datetime."""
    for en in req.get('Entries', []) if isinstance(req, dict) else []:
        if isinstance(en, dict) and isinstance(en.get('Time'), (int, float)) and \
                not isinstance(en.get('Time'), bool):
            en['Time'] = datetime.datetime.fromtimestamp(en['Time'], datetime.timezone.utc)
    return req


def problems(body):
    """Why the body is not a valid PutEvents request, or None."""
    try:
        req = json.loads(body)
    except ValueError as e:
        return f'not JSON: {e}'
    report = ParamValidator().validate(as_params(req), INPUT)
    if report.has_errors():
        return report.generate_report().replace('\n', ' ')
    for i, en in enumerate(req['Entries']):
        for k in ('Source', 'DetailType', 'Detail'):
            if not en.get(k):
                return f'Entries[{i}]: no {k}'
        try:
            if not isinstance(json.loads(en['Detail']), dict):
                return f'Entries[{i}].Detail is not a JSON object'
        except ValueError:
            return f'Entries[{i}].Detail is not JSON'
        if len(en['DetailType']) > 128:
            return f'Entries[{i}].DetailType is over 128 characters'
    return None


class Events(srvlib.Handler):
    record = None
    counter = None
    throttle = 0
    fail_first = 0
    fail_code = 'ThrottlingException'
    fail_match = None
    match_code = 'MalformedDetail'
    lock = threading.Lock()
    failed = 0

    def do_POST(self):
        body = self.read_body()
        n = self.counter.next()
        target = self.headers.get('X-Amz-Target', '')
        ctype = self.headers.get('Content-Type', '')
        if target != 'AWSEvents.PutEvents' or ctype != 'application/x-amz-json-1.1':
            sys.stderr.write(f'invalid: target {target!r}, content type {ctype!r}\n')
            self.error(400, 'UnknownOperationException', f'no operation {target}')
            return
        if n <= self.throttle:
            self.error(400, 'ThrottlingException', 'Rate exceeded')
            return
        why = problems(body)
        if why:
            sys.stderr.write(f'invalid: {why}\n')
            sys.stderr.flush()
            self.error(400, 'ValidationException', why)
            return
        self.record(body.decode())
        out = [self.fate(en) for en in json.loads(body)['Entries']]
        nfail = sum(1 for o in out if 'ErrorCode' in o)
        self.answer(200, json.dumps({'FailedEntryCount': nfail, 'Entries': out}),
                    [('Content-Type', 'application/x-amz-json-1.1'),
                     ('x-amzn-RequestId', str(uuid.uuid4()))])

    def fate(self, en):
        if self.fail_match is not None and self.fail_match in en['Detail']:
            return {'ErrorCode': self.match_code, 'ErrorMessage': 'Detail is malformed.'}
        with self.lock:
            if Events.failed < self.fail_first:
                Events.failed += 1
                return {'ErrorCode': self.fail_code, 'ErrorMessage': 'Rate exceeded'}
        return {'EventId': str(uuid.uuid4())}

    def error(self, status, code, message):
        self.answer(status, json.dumps({'__type': code, 'message': message}),
                    [('Content-Type', 'application/x-amz-json-1.1')])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    srvlib.common_args(p)
    p.add_argument('--record', required=True, help='file for one request body a line')
    p.add_argument('--count', help='file holding the number of requests seen')
    p.add_argument('--throttle', type=int, default=0)
    p.add_argument('--fail-first', type=int, default=0)
    p.add_argument('--fail-code', default='ThrottlingException')
    p.add_argument('--fail-match')
    p.add_argument('--match-code', default='MalformedDetail')
    a = p.parse_args()
    Events.record = srvlib.LineLog(a.record)
    Events.counter = srvlib.Counter(a.count)
    Events.throttle, Events.fail_first, Events.fail_code = a.throttle, a.fail_first, a.fail_code
    Events.fail_match, Events.match_code = a.fail_match, a.match_code
    srvlib.serve(a.port, Events, a.parent)


if __name__ == '__main__':
    main()
