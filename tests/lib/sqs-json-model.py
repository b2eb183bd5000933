#!/usr/bin/python3
"""Writes an AWS JSON 1.0 model of SQS for the AWS CLI into DIR.

Usage: /usr/bin/python3 tests/lib/sqs-json-model.py DIR
then:  AWS_DATA_PATH=DIR /usr/bin/aws sqs ...

Debian 12's awscli 2.9.19 (and python3-botocore 1.29) predate SQS's switch
from the query protocol to JSON 1.0 (late 2023), and fauxqs speaks JSON 1.0
only.  Today's botocore model of SQS is the query model with the protocol
changed and the query-only serialisation names dropped; this script derives
it from the model the CLI ships, so no AWS file is copied into the tree and
the CLI stays an independent client (its own serialiser and parser).
"""
import json
import os
import sys


def cli_model_path():
    """The SQS model the CLI loads, found as botocore's loader finds it."""
    for root in ('/usr/lib/python3/dist-packages/awscli/botocore/data',
                 '/usr/lib/python3/dist-packages/botocore/data'):
        path = os.path.join(root, 'sqs', '2012-11-05', 'service-2.json')
        if os.path.exists(path):
            return path
    sys.exit('sqs-json-model.py: no SQS model under /usr/lib/python3/dist-packages')


def strip_query_names(shape):
    """Member names become the JSON keys, as in the JSON 1.0 model."""
    shape.pop('flattened', None)
    shape.pop('locationName', None)
    for ref in shape.get('members', {}).values():
        ref.pop('locationName', None)
        ref.pop('flattened', None)
    for key in ('member', 'key', 'value'):
        if key in shape:
            shape[key].pop('locationName', None)


def convert(model):
    meta = model['metadata']
    if meta.get('protocol') == 'json':
        return model
    meta['protocol'] = 'json'
    meta['jsonVersion'] = '1.0'
    meta['targetPrefix'] = 'AmazonSQS'
    meta['awsQueryCompatible'] = {}
    meta.pop('xmlNamespace', None)
    for op in model['operations'].values():
        if 'output' in op:
            op['output'].pop('resultWrapper', None)
    for shape in model['shapes'].values():
        strip_query_names(shape)
    return model


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: sqs-json-model.py DIR')
    src = cli_model_path()
    with open(src, encoding='utf-8') as f:
        model = convert(json.load(f))
    out = os.path.join(sys.argv[1], 'sqs', '2012-11-05')
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, 'service-2.json.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(model, f)
    os.replace(tmp, os.path.join(out, 'service-2.json'))


if __name__ == '__main__':
    main()
