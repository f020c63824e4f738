"""Create the AWS resources the functions expect, in the local AWS emulator.

Reads AWS_ENDPOINT_URL (the emulator), CREDENTIALS_SECRET_ID, TIMESHEETS_TABLE,
TEST_JOB_CLIENT_ID, TEST_JOB_CLIENT_SECRET, TEST_WRONG_SECRET_ID, TEST_ASSERTION_CLIENT_ID and
TEST_ASSERTION_SECRET_ID from the environment.
With AUTH_CLIENT_AUTH=private_key_jwt the job has no client secret: its secret holds the
client_id alone, and the wrong one names a client the issuer does not know.
Safe to run again: existing resources are updated, not duplicated.
"""

import json
import os
import secrets
import sys

import boto3
from botocore.exceptions import ClientError

UNREGISTERED_CLIENT_ID = "exampleco-timesheets-unregistered"


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"seed: environment variable {name} is required")
    return value


def put_secret(client, secret_id: str, value: dict) -> None:
    body = json.dumps(value)
    try:
        client.create_secret(Name=secret_id, SecretString=body)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceExistsException":
            raise
        client.put_secret_value(SecretId=secret_id, SecretString=body)


def ensure_table(client, name: str) -> None:
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


def credentials(client_id: str) -> tuple[dict, dict]:
    """(the job's secret, a secret the issuer refuses with invalid_client)."""
    if os.environ.get("AUTH_CLIENT_AUTH") == "private_key_jwt":
        return {"client_id": client_id}, {"client_id": UNREGISTERED_CLIENT_ID}
    client_secret = required("TEST_JOB_CLIENT_SECRET")
    # The right client with a secret the issuer does not know.
    wrong = {"client_id": client_id, "client_secret": secrets.token_urlsafe(32)}
    return {"client_id": client_id, "client_secret": client_secret}, wrong


def main() -> None:
    endpoint = required("AWS_ENDPOINT_URL")
    secret_id = required("CREDENTIALS_SECRET_ID")
    wrong_secret_id = required("TEST_WRONG_SECRET_ID")
    table = required("TIMESHEETS_TABLE")
    right, wrong = credentials(required("TEST_JOB_CLIENT_ID"))

    session = boto3.session.Session()
    sm = session.client("secretsmanager", endpoint_url=endpoint)
    ddb = session.client("dynamodb", endpoint_url=endpoint)

    assertion_secret_id = required("TEST_ASSERTION_SECRET_ID")
    put_secret(sm, secret_id, right)
    put_secret(sm, wrong_secret_id, wrong)
    # The tests' private_key_jwt client: its secret names it and holds no client_secret.
    put_secret(sm, assertion_secret_id, {"client_id": required("TEST_ASSERTION_CLIENT_ID")})
    ensure_table(ddb, table)
    print(f"seeded secrets {secret_id}, {wrong_secret_id}, {assertion_secret_id} and table {table}")


if __name__ == "__main__":
    main()
