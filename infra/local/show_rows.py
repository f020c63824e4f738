"""Print every item of the timesheets table in the local AWS emulator, one JSON line each.

Reads AWS_ENDPOINT_URL and TIMESHEETS_TABLE from the environment.
"""

import decimal
import json
import os
import sys

import boto3
from boto3.dynamodb.types import TypeDeserializer


def plain_number(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def main() -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    table = os.environ.get("TIMESHEETS_TABLE", "")
    if not endpoint or not table:
        sys.exit("show_rows: AWS_ENDPOINT_URL and TIMESHEETS_TABLE are required")

    client = boto3.client("dynamodb", endpoint_url=endpoint)
    plain = TypeDeserializer()
    count = 0
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            row = {k: plain.deserialize(v) for k, v in item.items()}
            print(json.dumps(row, default=plain_number, sort_keys=True))
            count += 1
    print(f"{count} row(s) in {table}")


if __name__ == "__main__":
    main()
