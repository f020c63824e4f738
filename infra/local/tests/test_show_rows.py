"""show_rows.py, which `make run` ends with, lists the timesheets and only counts the rest."""

import json
import os
import subprocess
import sys

from stand_ins import LOCAL

TABLE = "ShowRowsTimesheets"


def put(ddb, pk, **attributes):
    item = {"pk": {"S": pk}}
    for name, value in attributes.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    ddb.put_item(TableName=TABLE, Item=item)


def test_lists_timesheets_in_id_order_and_counts_the_other_records(aws_env, aws_client):
    ddb = aws_client("dynamodb")
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for id in (10, 2):
        put(ddb, f"TIMESHEET#{id}", id=id, user_id="007", project="StoreZero", hours=5)
    put(ddb, "COUNTER#timesheet", last_id=10)
    put(ddb, "IDEMPOTENCY#client/key", first_id=2, expires_at=1)
    for proof in ("a", "b"):
        put(ddb, f"DPOP#{proof}", expires_at=1)

    done = subprocess.run(
        [sys.executable, str(LOCAL / "show_rows.py")],
        env={**os.environ, **aws_env, "TIMESHEETS_TABLE": TABLE},
        capture_output=True,
        text=True,
        check=True,
    )

    *rows, last = done.stdout.splitlines()
    assert [json.loads(row) for row in rows] == [
        {"id": 2, "user_id": "007", "project": "StoreZero", "hours": 5},
        {"id": 10, "user_id": "007", "project": "StoreZero", "hours": 5},
    ]
    assert last == f"2 timesheet(s) in {TABLE} (also 2 DPoP replay records, 1 id counter, 1 idempotency record)"
