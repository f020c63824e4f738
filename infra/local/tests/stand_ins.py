"""Paths of the local stand-ins, free ports, aws_server.py started for a test, and what the
DynamoDB tests of it share: a client, a table keyed by `pk`, a conditional Put."""

import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3

LOCAL = pathlib.Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_aws_server(*options, stderr=subprocess.DEVNULL):
    """(process, URL) of an aws_server.py on a free port, with `options`, once it answers.
    The caller stops it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(LOCAL / "aws_server.py"), "-H", "127.0.0.1", "-p", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return server, url
        except urllib.error.HTTPError:
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("aws_server.py did not start") from None
            time.sleep(0.1)


def aws_client_at(url, service, **options):
    """A boto3 client of `service` at the emulator `url`, with test credentials."""
    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **options,
    )


def create_table(client, name):
    """An on-demand table keyed by the string `pk`, as the Timesheets table is."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def put_new(table, pk):
    """A transaction's Put of item `pk` into `table`, on condition it does not exist yet."""
    return {
        "Put": {
            "TableName": table,
            "Item": {"pk": {"S": pk}, "project": {"S": "StoreZero"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
