"""aws_server.py gives DynamoDB's per-request atomicity under concurrent clients: counter
updates and transactions from parallel threads, some of them cancelled, lose nothing."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from stand_ins import create_table, put_new

TABLE = "Timesheets"
WRITERS = 6
ROUNDS = 8
BATCH = 25


@pytest.fixture(scope="module")
def dynamodb(aws_client):
    # One attempt per call: a 500 from the emulator must fail the test, not be retried away.
    client = aws_client("dynamodb", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    create_table(client, TABLE)
    return client


def put(pk):
    return put_new(TABLE, pk)


def reserve(client, count):
    answer = client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "COUNTER#timesheet"}},
        UpdateExpression="ADD last_id :count",
        ExpressionAttributeValues={":count": {"N": str(count)}},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["last_id"]["N"]) - count + 1


def writer(client):
    ids = []
    for _ in range(ROUNDS):
        first = reserve(client, BATCH)
        client.transact_write_items(
            TransactItems=[put(f"TIMESHEET#{i}") for i in range(first, first + BATCH)]
        )
        ids.extend(range(first, first + BATCH))
    return ids


def canceller(client):
    cancelled = 0
    for round_ in range(ROUNDS):
        try:
            # The second item exists, so the whole transaction is cancelled and rolled back.
            client.transact_write_items(
                TransactItems=[put(f"CANCELLED#{round_}"), put("TIMESHEET#1")]
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TransactionCanceledException"
            cancelled += 1
    return cancelled


def stored_timesheets(client):
    keys, start = [], {}
    while True:
        page = client.scan(TableName=TABLE, ConsistentRead=True, **start)
        keys += [item["pk"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return keys
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_parallel_writers_and_cancelled_transactions_lose_nothing(dynamodb):
    dynamodb.transact_write_items(TransactItems=[put("TIMESHEET#1")])
    reserve(dynamodb, 1)
    with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
        cancelling = pool.submit(canceller, dynamodb)
        writing = [pool.submit(writer, dynamodb) for _ in range(WRITERS)]
        ids = [i for future in writing for i in future.result()]
        assert cancelling.result() == ROUNDS

    assert len(set(ids)) == len(ids) == WRITERS * ROUNDS * BATCH
    keys = stored_timesheets(dynamodb)
    assert sorted(k for k in keys if k.startswith("TIMESHEET#")) == sorted(
        f"TIMESHEET#{i}" for i in [1, *ids]
    )
    assert not [k for k in keys if k.startswith("CANCELLED#")]
    counter = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "COUNTER#timesheet"}})
    assert counter["Item"]["last_id"]["N"] == str(1 + WRITERS * ROUNDS * BATCH)


def transact(client, token, *pks):
    return client.transact_write_items(
        TransactItems=[put(pk) for pk in pks], ClientRequestToken=token
    )


def exists(client, pk):
    return "Item" in client.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True)


def test_a_repeated_client_request_token_answers_success_without_writing(dynamodb):
    transact(dynamodb, "token-1", "TOKEN#a")
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "TOKEN#a"}})
    # The SDK's retry after a lost answer: success again, and nothing written a second time.
    transact(dynamodb, "token-1", "TOKEN#a")
    assert not exists(dynamodb, "TOKEN#a")
    with pytest.raises(ClientError) as reused:
        transact(dynamodb, "token-1", "TOKEN#b")
    assert reused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert not exists(dynamodb, "TOKEN#b")


def test_a_cancelled_transaction_is_not_kept_for_its_token(dynamodb):
    transact(dynamodb, "token-2", "TOKEN#taken")
    with pytest.raises(ClientError) as cancelled:
        transact(dynamodb, "token-3", "TOKEN#c", "TOKEN#taken")
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "TOKEN#taken"}})
    transact(dynamodb, "token-3", "TOKEN#c", "TOKEN#taken")
    assert exists(dynamodb, "TOKEN#c") and exists(dynamodb, "TOKEN#taken")
