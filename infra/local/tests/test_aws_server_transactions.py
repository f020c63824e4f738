"""aws_server.py's TransactWriteItems keeps a copy of only the items it names: its work does not
grow with the table, and a cancelled transaction still leaves every item as it was."""

import copy
import json
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item

import aws_server
from stand_ins import create_table, put_new

TABLE = "Rollback"
FILLED = 3000


def fill(client, name, count):
    for start in range(0, count, 25):
        requests = [
            {"PutRequest": {"Item": {"pk": {"S": f"ROW#{i}"}, "n": {"N": str(i)}}}}
            for i in range(start, min(start + 25, count))
        ]
        client.batch_write_item(RequestItems={name: requests})


def add_to_counter(name, count):
    return {
        "Update": {
            "TableName": name,
            "Key": {"pk": {"S": "COUNTER#timesheet"}},
            "UpdateExpression": "ADD last_id :count",
            "ExpressionAttributeValues": {":count": {"N": str(count)}},
        }
    }


def counter(client, name):
    item = client.get_item(TableName=name, Key={"pk": {"S": "COUNTER#timesheet"}}, ConsistentRead=True)
    return int(item["Item"]["last_id"]["N"])


def count_items(client, name):
    total, start = 0, {}
    while True:
        page = client.scan(TableName=name, Select="COUNT", ConsistentRead=True, **start)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


@pytest.fixture
def copied_items(monkeypatch):
    """The moto items deep-copied, in process, with aws_server's TransactWriteItems."""
    # Only the transaction path, undone after the test: patch_dynamodb would also leave its
    # condition cache, which only the server clears, in this test process.
    monkeypatch.setattr(
        DynamoDBBackend,
        "transact_write_items",
        aws_server.rollback_touched_items(DynamoDBBackend.transact_write_items),
    )
    copied = []

    def counting_deepcopy(self, memo):
        copied.append(self)
        new = Item.__new__(Item)
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    monkeypatch.setattr(Item, "__deepcopy__", counting_deepcopy, raising=False)
    return copied


def test_a_transaction_copies_as_many_items_on_a_filled_table_as_on_an_empty_one(copied_items):
    copies = {}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name, rows in [("Empty", 0), ("Filled", FILLED)]:
            create_table(client, name)
            fill(client, name, rows)
            client.transact_write_items(TransactItems=[add_to_counter(name, 1)])
            copied_items.clear()
            client.transact_write_items(
                TransactItems=[add_to_counter(name, 100), put_new(name, "NEW#1"), put_new(name, "NEW#2")]
            )
            copies[name] = len(copied_items)
            assert counter(client, name) == 101
            assert count_items(client, name) == rows + 3
    # The counter, before the transaction and in moto's own update: no copy of the other rows.
    assert copies == {"Empty": 2, "Filled": 2}


@pytest.fixture(scope="module")
def filled(aws_client):
    client = aws_client("dynamodb")
    create_table(client, TABLE)
    fill(client, TABLE, FILLED)
    client.transact_write_items(TransactItems=[add_to_counter(TABLE, 1)])
    return client


def test_a_cancelled_transaction_on_a_filled_table_leaves_every_item_as_it_was(filled):
    with pytest.raises(ClientError) as cancelled:
        filled.transact_write_items(
            TransactItems=[add_to_counter(TABLE, 100), put_new(TABLE, "NEW#cancelled"), put_new(TABLE, "ROW#7")]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert counter(filled, TABLE) == 1
    assert "Item" not in filled.get_item(TableName=TABLE, Key={"pk": {"S": "NEW#cancelled"}})
    row = filled.get_item(TableName=TABLE, Key={"pk": {"S": "ROW#7"}})["Item"]
    assert row == {"pk": {"S": "ROW#7"}, "n": {"N": "7"}}
    assert count_items(filled, TABLE) == FILLED + 1


def test_a_cancelled_transaction_answers_the_existing_item_when_asked(filled):
    refused = put_new(TABLE, "ROW#8")
    refused["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    with pytest.raises(ClientError) as cancelled:
        filled.transact_write_items(TransactItems=[put_new(TABLE, "NEW#other"), refused])
    reasons = cancelled.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"] == {"pk": {"S": "ROW#8"}, "n": {"N": "8"}}
    assert "Item" not in filled.get_item(TableName=TABLE, Key={"pk": {"S": "NEW#other"}})


def requests_so_far(aws_endpoint):
    with urllib.request.urlopen(f"{aws_endpoint}/_stand_in/dynamodb-requests", timeout=5) as answer:
        return json.load(answer)


def test_dynamodb_requests_are_counted_by_operation_where_they_arrive(filled, aws_endpoint):
    before = requests_so_far(aws_endpoint)
    filled.transact_write_items(TransactItems=[put_new(TABLE, "COUNTED#1")])
    filled.get_item(TableName=TABLE, Key={"pk": {"S": "COUNTED#1"}})
    filled.get_item(TableName=TABLE, Key={"pk": {"S": "COUNTED#1"}})
    after = requests_so_far(aws_endpoint)
    added = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    assert added == {"TransactWriteItems": 1, "GetItem": 2}
