#!/usr/bin/python3
"""A test proxy that checks each request's AWS SigV4 signature with botocore.

Usage: AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. [AWS_SESSION_TOKEN=..] \\
       /usr/bin/python3 tests/lib/sigv4-proxy.py --upstream URL [--log FILE]
       [--port N] [--parent PID]

Runs with Debian's python3-botocore (/usr/bin/python3).  For each request it
recomputes the signature with botocore's SigV4Auth from the credentials in
its own environment, the region and service of the request's credential
scope, the request's X-Amz-Date and the headers the client listed as
signed.  A request that does not match is refused as SQS refuses it (HTTP
403, JSON 1.0 error, x-amzn-query-error header); one that does is forwarded
to the upstream (fauxqs) and its answer streamed back.  When the
environment has a session token, a request without that exact
X-Amz-Security-Token (signed) is refused too.  One verdict a line goes to
--log; neither the secret nor a signature is ever written.

What a client sees for a bad signature is SQS's: HTTP 403 and the code
SignatureDoesNotMatch, which SQS's JSON 1.0 protocol (awsQueryCompatible)
carries in the x-amzn-query-error header and the SDKs report.  The body's
__type, com.amazon.coral.service#InvalidSignatureException, is what AWS's
JSON front end answers for other JSON services; SQS's own was not observed.
"""
import argparse
import datetime
import hashlib
import hmac
import os
import re
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402

AUTH_RE = re.compile(
    r'^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,'
    r'\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$')
MSG_SIG = ('The request signature we calculated does not match the signature you '
           'provided. Check your AWS Secret Access Key and signing method. Consult '
           'the service documentation for details.')


def skewed(amz_date):
    """SigV4 requests older or newer than 15 minutes are refused."""
    when = datetime.datetime.strptime(amz_date, '%Y%m%dT%H%M%SZ').replace(
        tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    return abs((now - when).total_seconds()) > 15 * 60


class ListedHeadersAuth(SigV4Auth):
    """SigV4Auth signing exactly the headers the client listed, as received."""

    def __init__(self, creds, service, region, listed):
        super().__init__(creds, service, region)
        self.listed = listed

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self.listed:
            out[name] = request.headers.get(name, '')
        return out


class Proxy(srvlib.Handler):
    upstream = None
    log = None
    creds = None

    def handle_one(self):
        body = self.read_body()
        op = self.operation()
        refusal = self.check(body)
        if refusal:
            status, type_, code, why = refusal
            self.log(f'refused {code} {op} {why}')
            self.aws_error(status, type_, code, 'Sender', why if code != 'SignatureDoesNotMatch' else MSG_SIG)
            return
        self.log(f'ok {op} akid={self.creds.access_key}')
        self.forward(self.upstream, body)

    def check(self, body):
        """None when the request is signed right, else why not."""
        auth = self.headers.get('Authorization')
        if not auth:
            return (403, 'com.amazon.coral.service#MissingAuthenticationTokenException',
                    'MissingAuthenticationToken', 'no Authorization header')
        m = AUTH_RE.match(auth.strip())
        amz_date = self.headers.get('X-Amz-Date', '')
        if not m or not re.fullmatch(r'\d{8}T\d{6}Z', amz_date):
            return (400, 'com.amazon.coral.service#IncompleteSignatureException',
                    'IncompleteSignature', 'malformed Authorization or X-Amz-Date')
        akid, day, region, service, listed, got = m.groups()
        listed = listed.split(';')
        if akid != self.creds.access_key:
            return (403, 'com.amazon.coral.service#InvalidClientTokenId',
                    'InvalidClientTokenId', f'unknown access key id {akid}')
        if skewed(amz_date):
            return (400, 'com.amazon.coral.service#RequestExpired',
                    'RequestExpired', f'X-Amz-Date {amz_date} is more than 15 minutes off')
        if day != amz_date[:8] or 'host' not in listed:
            return (400, 'com.amazon.coral.service#IncompleteSignatureException',
                    'IncompleteSignature', 'scope date or host not signed')
        why = self.check_token(listed)
        if why:
            return (403, 'com.amazon.coral.service#InvalidClientTokenId',
                    'InvalidClientTokenId', why)
        sha = self.headers.get('X-Amz-Content-SHA256')
        if sha and sha != hashlib.sha256(body).hexdigest():
            return (400, 'com.amazon.coral.service#InvalidSignatureException',
                    'SignatureDoesNotMatch', 'x-amz-content-sha256 is not the body\'s')
        want = self.expected(body, amz_date, region, service, listed)
        if not hmac.compare_digest(want, got):
            return (403, 'com.amazon.coral.service#InvalidSignatureException',
                    'SignatureDoesNotMatch', 'signature differs')
        return None

    def check_token(self, listed):
        token = self.creds.token
        sent = self.headers.get('X-Amz-Security-Token')
        if token is None:
            return 'a session token was sent, none expected' if sent else None
        if sent is None:
            return 'no X-Amz-Security-Token'
        if not hmac.compare_digest(sent, token):
            return 'X-Amz-Security-Token differs'
        if 'x-amz-security-token' not in listed:
            return 'X-Amz-Security-Token not signed'
        return None

    def expected(self, body, amz_date, region, service, listed):
        headers = {k: v for k, v in self.headers.items()}
        url = f'http://{self.headers.get("Host", "")}{self.path}'
        req = AWSRequest(method=self.command, url=url, data=body, headers=headers)
        req.context['timestamp'] = amz_date
        signer = ListedHeadersAuth(self.creds, service, region, listed)
        canonical = signer.canonical_request(req)
        return signer.signature(signer.string_to_sign(req, canonical), req)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    srvlib.common_args(p)
    p.add_argument('--upstream', required=True, help='URL requests go on to')
    p.add_argument('--log', help='file for one verdict a line')
    a = p.parse_args()
    key, secret = os.environ.get('AWS_ACCESS_KEY_ID'), os.environ.get('AWS_SECRET_ACCESS_KEY')
    if not key or not secret:
        sys.exit('sigv4-proxy.py: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set')
    Proxy.creds = Credentials(key, secret, os.environ.get('AWS_SESSION_TOKEN') or None)
    Proxy.upstream = a.upstream
    Proxy.log = srvlib.LineLog(a.log)
    srvlib.serve(a.port, Proxy, a.parent)


if __name__ == '__main__':
    main()
