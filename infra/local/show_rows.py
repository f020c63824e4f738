"""Print the timesheets stored in the local AWS emulator, one JSON line each in id order, then
how many of the table's other items there are, by kind.

The table holds, by `pk` (functions/api/src/store/dynamodb/item.rs): `TIMESHEET#<id>` (the
entries), `COUNTER#timesheet` (the last id handed out), `IDEMPOTENCY#<scope key>` (one per
Idempotency-Key) and `DPOP#<proof id>` (a DPoP proof's jti, kept 6 minutes against replay).

Reads AWS_ENDPOINT_URL and TIMESHEETS_TABLE from the environment.
"""

import decimal
import json
import os
import sys

import boto3
from boto3.dynamodb.types import TypeDeserializer

TIMESHEET = "TIMESHEET#"
# The other kinds of item, by pk prefix, as named in the summary line.
OTHER_KINDS = {
    "COUNTER#": "id counter",
    "IDEMPOTENCY#": "idempotency record",
    "DPOP#": "DPoP replay record",
}


def plain_number(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def kind(pk: str) -> str:
    for prefix, name in OTHER_KINDS.items():
        if pk.startswith(prefix):
            return name
    return "other item"


def summary(table: str, timesheets: int, others: dict) -> str:
    counted = ", ".join(f"{count} {name}{'' if count == 1 else 's'}" for name, count in sorted(others.items()))
    line = f"{timesheets} timesheet(s) in {table}"
    return f"{line} (also {counted})" if counted else line


def main() -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    table = os.environ.get("TIMESHEETS_TABLE", "")
    if not endpoint or not table:
        sys.exit("show_rows: AWS_ENDPOINT_URL and TIMESHEETS_TABLE are required")

    client = boto3.client("dynamodb", endpoint_url=endpoint)
    plain = TypeDeserializer()
    timesheets = []
    others: dict = {}
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            row = {k: plain.deserialize(v) for k, v in item.items()}
            pk = row.pop("pk", "")
            if pk.startswith(TIMESHEET):
                timesheets.append(row)
            else:
                others[kind(pk)] = others.get(kind(pk), 0) + 1
    for row in sorted(timesheets, key=lambda row: row.get("id", 0)):
        print(json.dumps(row, default=plain_number, sort_keys=True))
    print(summary(table, len(timesheets), others))


if __name__ == "__main__":
    main()
