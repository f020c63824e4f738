"""moto_server for Secrets Manager, DynamoDB and KMS, applying one request at a time.

DynamoDB applies each write atomically. moto does not under concurrent requests: a
TransactWriteItems deep-copies the table while other requests change it (a 500,
"dictionary changed size during iteration"), and a cancelled transaction restores that copy,
undoing the writes other clients made meanwhile (the id counter among them). Serialising the
requests restores DynamoDB's per-request atomicity; connections are still served in parallel.

moto also deep-copies the whole table once per item of a transaction, to restore it if the
transaction is cancelled: a transaction's time grew with the table (a 100-item batch on a few
thousand rows took seconds). Here a transaction copies only the items it names, before it
runs, and a cancelled one puts those back; its cost no longer depends on the table's size.

moto also parses each condition expression three times per item of a transaction (to check
its syntax, to check the condition, then again inside its own PutItem) and twice per PutItem.
Here an expression is parsed once per request: the same text with the same names and values
is the same tree.

Two lookups moto repeats on every request answer the same each time, so they are made once:
the list of its service modules (a directory listing of its own package) and the action
methods of a response class (an `inspect.getmembers` of the class). Together they were about
half of a PutItem's time here.

Python's full garbage collection scans every object, the table's items included, holding the
interpreter for tens of milliseconds on a table of thousands of items: every request in flight
stalls meanwhile, which DynamoDB never does. Full collections are made rare here; the young
generations, where a request's garbage dies, are collected as usual.

And moto ignores TransactWriteItems' ClientRequestToken. DynamoDB answers a repeated token
(the SDK's retry after a lost answer) with the first success for 10 minutes, and a token reused
with other parameters with IdempotentParameterMismatchException; so does this server.

KMS asymmetric signing keys differ from AWS KMS in three ways, all corrected here so a JWS
signed through this server verifies as one signed by AWS does:
- RSASSA_PSS_* signs with the largest salt; AWS KMS (and JWS PS256, RFC 7518 §3.5) use a
  salt as long as the digest, and verifiers that expect it refuse moto's signatures.
- Sign and Verify ignore MessageType=DIGEST and hash the digest again.
- GetPublicKey answers the key id without KeySpec; AWS answers the key ARN and KeySpec.
(ECDSA signatures are DER, as on AWS: a JWS needs them as raw r||s, RFC 7518 §3.4.)

It also counts the DynamoDB requests that arrive, by operation (SDK retries included), and
answers the counts as JSON at GET /_stand_in/dynamodb-requests: `make bench` reads how many
calls a stored upload costs where they arrive.

With --dynamodb-latency-ms N each DynamoDB request waits N ms before it is applied, outside
the lock, as a request to DynamoDB waits on the network and the service: `make bench` uses it
to measure what a function does while its requests wait, which a stand-in answering in
microseconds of its own CPU cannot show. Off (0) by default.

It is served by waitress, which keeps HTTP/1.1 connections open between requests as AWS
endpoints do (werkzeug's server, moto_server's, closes each one: every SDK call then paid a new
connection and the server a new thread). Each request gets an access log line on stderr
unless --quiet (the bench's stand-ins log nothing; the stack's keep their moto.log).

Usage: python aws_server.py -H 127.0.0.1 [-H EXTRA_ADDRESS] -p PORT [--dynamodb-latency-ms N] [--quiet]
(a second -H: also listen there, e.g. on the docker bridge gateway for `sam local` containers)
"""

import argparse
import collections
import copy
import datetime
import functools
import gc
import hashlib
import io
import json
import os
import sys
import threading
import time
import types

from moto import backends as moto_backends
from moto.core import responses as core_responses
from moto.dynamodb import comparisons as dynamodb_comparisons
from moto.dynamodb import models as dynamodb_models
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.kms import responses as kms_responses
from moto.kms import utils as kms_utils
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import serve


DYNAMODB_TARGET = "DynamoDB_20120810."
TRANSACT_WRITE_ITEMS = DYNAMODB_TARGET + "TransactWriteItems"
REQUESTS_PATH = "/_stand_in/dynamodb-requests"
TOKEN_WINDOW_SECONDS = 600


class AtomicRequests:
    """WSGI middleware: the wrapped app handles a single request at a time, successful
    TransactWriteItems answers are kept by ClientRequestToken for the idempotency window, and
    DynamoDB requests are counted by operation."""

    def __init__(self, app, dynamodb_latency=0.0):
        self.app = app
        # Seconds each DynamoDB request waits before it is applied (--dynamodb-latency-ms).
        self.dynamodb_latency = dynamodb_latency
        self.lock = threading.Lock()
        # token -> (expires at, SHA-256 of the request body, status, headers, body), oldest
        # first: each is kept for the same window, so the expired ones are at the front.
        self.transactions = collections.OrderedDict()
        # operation (e.g. "PutItem") -> requests that arrived
        self.requests = {}

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        dynamodb = target.startswith(DYNAMODB_TARGET)
        if dynamodb and self.dynamodb_latency:
            time.sleep(self.dynamodb_latency)
        with self.lock:
            if environ.get("PATH_INFO") == REQUESTS_PATH:
                return answer_json(start_response, self.requests)
            if dynamodb:
                PARSED_CONDITIONS.clear()
                operation = target[len(DYNAMODB_TARGET) :]
                self.requests[operation] = self.requests.get(operation, 0) + 1
            if target != TRANSACT_WRITE_ITEMS:
                # The whole body is produced inside the lock: moto may build it lazily.
                return list(self.app(environ, start_response))
            return self.transact_once(environ, start_response)

    def transact_once(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(request)
        try:
            token = json.loads(request).get("ClientRequestToken")
        except ValueError:
            token = None
        digest = hashlib.sha256(request).hexdigest()
        now = time.monotonic()
        while self.transactions and next(iter(self.transactions.values()))[0] <= now:
            self.transactions.popitem(last=False)
        if token in self.transactions:
            _, first_digest, status, headers, body = self.transactions[token]
            if first_digest != digest:
                status, headers, body = mismatch()
            start_response(status, headers)
            return body
        answer = {}

        def capture(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        body = list(self.app(environ, capture))
        if token and answer["status"].startswith("200"):
            expires = now + TOKEN_WINDOW_SECONDS
            self.transactions[token] = (expires, digest, answer["status"], answer["headers"], body)
        return body


class AccessLog:
    """WSGI middleware: one line per request on stderr, `TIME ADDRESS "METHOD PATH PROTOCOL" STATUS`
    (TIME in UTC, ISO 8601, so the lines sort with the functions' logs)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        status = []

        def noted(code, headers, exc_info=None):
            status.append(code.split(" ", 1)[0])
            return start_response(code, headers, exc_info)

        body = self.app(environ, noted)
        request = f'{environ.get("REQUEST_METHOD")} {environ.get("PATH_INFO")} {environ.get("SERVER_PROTOCOL")}'
        at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        line = f'{at} {environ.get("REMOTE_ADDR", "-")} "{request}" {status[0] if status else "-"}'
        print(line, file=sys.stderr, flush=True)
        return body


def answer_json(start_response, value):
    body = json.dumps(value).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def mismatch():
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
            "message": "The ClientRequestToken was used before with other parameters",
        }
    ).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(body))),
    ]
    return "400 Bad Request", headers, [body]


def rollback_touched_items(transact_write_items):
    """Wraps moto's TransactWriteItems: no table is copied (requests are serialised, so swapping
    the module's `copy` for the call affects no other request); each item the transaction names
    is copied before it runs and put back, or removed if it did not exist, when it fails."""

    def wrapper(self, transact_items):
        saved = [touched_item(self, item) for item in transact_items]

        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        dynamodb_models.copy = types.SimpleNamespace(deepcopy=deepcopy)
        try:
            return transact_write_items(self, transact_items)
        except Exception:
            # Last saved first: the first copy of an item is its state before the transaction.
            for table, hash_value, range_value, item in reversed([s for s in saved if s]):
                restore(table, hash_value, range_value, item)
            raise
        finally:
            dynamodb_models.copy = copy

    return wrapper


def touched_item(backend, transact_item):
    """(table, hash value, range value, copy of the item or None) of one transaction action, or
    None when moto itself will refuse the action (unknown table, no key)."""
    for op in transact_item.values():
        table = backend.tables.get(op.get("TableName"))
        key = op.get("Key") or op.get("Item")
        if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                continue
            range_value = DynamoType(key[table.range_key_attr])
        current = table.get_item(hash_value, range_value)
        return table, hash_value, range_value, copy.deepcopy(current)
    return None


def restore(table, hash_value, range_value, item):
    """Puts one item of a table back as it was (None: it did not exist)."""
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
    elif item is None:
        table.items.get(hash_value, {}).pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


# Condition expressions parsed during the current request (requests are serialised):
# (expression, names, values) -> (tree, names found, values found).
PARSED_CONDITIONS = {}


def parse_once_per_request(parse):
    """Wraps ConditionExpressionParser.parse: a repeated parse within a request answers the
    first tree, and the names and values it found, instead of lexing the expression again."""

    def wrapper(self):
        key = (
            self.condition_expression,
            json.dumps(self.expression_attribute_names or {}, sort_keys=True),
            json.dumps(self.expression_attribute_values or {}, sort_keys=True),
        )
        if key not in PARSED_CONDITIONS:
            tree = parse(self)
            found = (list(self.expr_attr_names_found), list(self.expr_attr_values_found))
            PARSED_CONDITIONS[key] = (tree, *found)
            return tree
        tree, names_found, values_found = PARSED_CONDITIONS[key]
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return tree

    return wrapper


# Set while a KMS Sign or Verify call with MessageType=DIGEST runs (requests are serialised).
KMS_DIGEST = threading.local()


def kms_message_type(operation):
    """Wraps KmsResponse.sign / .verify to note whether the message is a digest."""

    def wrapper(self):
        KMS_DIGEST.active = self._get_param("MessageType") == "DIGEST"
        try:
            return operation(self)
        finally:
            KMS_DIGEST.active = False

    return wrapper


def prehashed_if_digest(algorithm):
    return Prehashed(algorithm) if getattr(KMS_DIGEST, "active", False) else algorithm


def kms_rsa_padding(padding_and_hash):
    """PSS with MGF1 of the message hash and a salt of the digest's length, as AWS KMS signs."""

    def wrapper(self, signing_algorithm):
        pad, algorithm = padding_and_hash(self, signing_algorithm)
        if isinstance(pad, padding.PSS):
            pad = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        return pad, prehashed_if_digest(algorithm)

    return wrapper


def kms_ecdsa_hash(hash_algorithm):
    def wrapper(self, signing_algorithm):
        return prehashed_if_digest(hash_algorithm(self, signing_algorithm))

    return wrapper


def kms_public_key_answer(get_public_key):
    """GetPublicKey names the key by ARN and gives KeySpec, as AWS KMS does."""

    def wrapper(self):
        answer = json.loads(get_public_key(self))
        key = self.kms_backend.describe_key(answer["KeyId"])
        answer.update(KeyId=key.arn, KeySpec=key.key_spec)
        return json.dumps(answer)

    return wrapper


def patch_kms() -> None:
    response = kms_responses.KmsResponse
    response.sign = kms_message_type(response.sign)
    response.verify = kms_message_type(response.verify)
    response.get_public_key = kms_public_key_answer(response.get_public_key)
    rsa_key = kms_utils.RSAPrivateKey
    rsa_key._RSAPrivateKey__padding_and_hash_algorithm = kms_rsa_padding(
        rsa_key._RSAPrivateKey__padding_and_hash_algorithm
    )
    ec_key = kms_utils.ECDSAPrivateKey
    ec_key._ECDSAPrivateKey__hash_algorithm = kms_ecdsa_hash(ec_key._ECDSAPrivateKey__hash_algorithm)


def patch_dispatch() -> None:
    """The answers of moto's per-request lookups, kept: its package and classes do not change."""
    modules = moto_backends.list_of_moto_modules
    moto_backends.list_of_moto_modules = functools.cache(lambda: tuple(modules()))
    method_names = core_responses.method_names_from_class
    core_responses.method_names_from_class = functools.cache(lambda clazz: frozenset(method_names(clazz)))


def patch_dynamodb() -> None:
    backend = dynamodb_models.DynamoDBBackend
    backend.transact_write_items = rollback_touched_items(backend.transact_write_items)
    parser = dynamodb_comparisons.ConditionExpressionParser
    parser.parse = parse_once_per_request(parser.parse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", action="append", help="address to listen on (repeatable)")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--dynamodb-latency-ms", type=float, default=0.0, help="wait of each DynamoDB request")
    parser.add_argument("--quiet", action="store_true", help="no access log line per request")
    args = parser.parse_args()
    # Young generations as Python's defaults (700, 10); a full collection after a million
    # collections of the middle one instead of ten (see the module's docs).
    gc.set_threshold(700, 10, 1_000_000)
    # moto builds some resource URLs from it, as moto_server does.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    patch_dispatch()
    patch_dynamodb()
    patch_kms()
    app = AtomicRequests(DomainDispatcherApplication(create_backend_app), args.dynamodb_latency_ms / 1000)
    if not args.quiet:
        app = AccessLog(app)
    # One server for every address, on the one app: its lock serialises their requests. Enough
    # threads for every request in flight, the ones waiting --dynamodb-latency-ms included.
    listen = " ".join(f"{host}:{args.port}" for host in args.host or ["127.0.0.1"])
    serve(app, listen=listen, threads=64, connection_limit=1000, ident=None)

if __name__ == "__main__":
    main()
