"""How aws_server.py serves each request: a condition expression parsed once per request still
reads its own values, DynamoDB requests wait --dynamodb-latency-ms side by side (not one after
another), and each request has an access log line unless --quiet."""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from stand_ins import aws_client_at, create_table, start_aws_server

TABLE = "Requests"
# Long against a request's own time here (about a millisecond), so the waits are what counts.
LATENCY_MS = 300
PARALLEL = 4


def client_of(url):
    return aws_client_at(url, "dynamodb")


@pytest.fixture(scope="module")
def dynamodb(aws_client):
    client = aws_client("dynamodb")
    create_table(client, TABLE)
    return client


def put_if_expired(pk, now):
    """The idempotency record's put: it replaces the item only once it has expired."""
    return {
        "TableName": TABLE,
        "Item": {"pk": {"S": pk}, "expires_at": {"N": "1000"}},
        "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
        "ExpressionAttributeValues": {":now": {"N": str(now)}},
    }


def cancellation_reasons(dynamodb, *puts):
    """The reason codes of a transaction of `puts` that must be cancelled."""
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[{"Put": put} for put in puts])
    return [r["Code"] for r in cancelled.value.response["CancellationReasons"]]


def test_the_same_condition_with_other_values_is_evaluated_with_them(dynamodb):
    dynamodb.put_item(**put_if_expired("RECORD#a", 0))
    dynamodb.put_item(**put_if_expired("RECORD#b", 0))
    # Same text, other values, in the next request: not yet expired at 999, expired at 1001.
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(**put_if_expired("RECORD#a", 999))
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    dynamodb.put_item(**put_if_expired("RECORD#a", 1001))
    # And within one transaction: the first item's values do not stand in for the second's.
    reasons = cancellation_reasons(
        dynamodb, put_if_expired("RECORD#b", 1001), put_if_expired("RECORD#a", 999)
    )
    assert reasons == ["None", "ConditionalCheckFailed"]


def test_the_same_condition_and_values_are_evaluated_against_each_item(dynamodb):
    dynamodb.put_item(**put_if_expired("RECORD#held", 0))
    # One parse for both items: the tree is evaluated against each item, not answered once.
    reasons = cancellation_reasons(
        dynamodb, put_if_expired("RECORD#new", 999), put_if_expired("RECORD#held", 999)
    )
    assert reasons == ["None", "ConditionalCheckFailed"]


def test_dynamodb_requests_wait_their_latency_side_by_side_and_quiet_logs_none():
    options = ("--dynamodb-latency-ms", str(LATENCY_MS), "--quiet")
    server, url = start_aws_server(*options, stderr=subprocess.PIPE)
    try:
        create_table(client_of(url), TABLE)

        # Made before the clock starts: a client takes a while to build on a busy machine.
        clients = [client_of(url) for _ in range(PARALLEL)]

        def timed_get(index):
            started = time.monotonic()
            clients[index].get_item(TableName=TABLE, Key={"pk": {"S": f"ITEM#{index}"}})
            return time.monotonic() - started

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            each = list(pool.map(timed_get, range(PARALLEL)))
        together = time.monotonic() - started
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    assert min(each) >= LATENCY_MS / 1000
    # One after another would take PARALLEL waits at least.
    assert together < PARALLEL * LATENCY_MS / 1000
    assert "POST / HTTP/1.1" not in stderr.decode()


def test_each_request_has_an_access_log_line():
    server, url = start_aws_server(stderr=subprocess.PIPE)
    try:
        client_of(url).list_tables()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    assert '"POST / HTTP/1.1" 200' in stderr.decode()
