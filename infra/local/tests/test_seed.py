"""seed.py creates the secrets and the table the functions expect, and can run twice."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import boto3
import pytest
from moto.server import ThreadedMotoServer

SEED = pathlib.Path(__file__).resolve().parents[1] / "seed.py"


@pytest.fixture(scope="module")
def moto_env():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        **{k: v for k, v in os.environ.items() if k != "AUTH_CLIENT_AUTH"},
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CREDENTIALS_SECRET_ID": "timesheets/job-credentials",
        "TEST_WRONG_SECRET_ID": "timesheets/wrong-credentials",
        "TIMESHEETS_TABLE": "Timesheets",
        "TEST_JOB_CLIENT_ID": "job-client",
        "TEST_JOB_CLIENT_SECRET": "right-secret",
        "TEST_ASSERTION_CLIENT_ID": "assertion-client",
        "TEST_ASSERTION_SECRET_ID": "timesheets/assertion-credentials",
    }
    yield env
    server.stop()


def seed(env):
    result = subprocess.run([sys.executable, str(SEED)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "right-secret" not in result.stdout + result.stderr


def clients(env):
    kwargs = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": "us-east-1",
              "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client("secretsmanager", **kwargs), boto3.client("dynamodb", **kwargs)


def test_seed_twice_gives_secrets_and_table(moto_env):
    seed(moto_env)
    seed(moto_env)
    sm, ddb = clients(moto_env)

    right = json.loads(sm.get_secret_value(SecretId="timesheets/job-credentials")["SecretString"])
    assert right == {"client_id": "job-client", "client_secret": "right-secret"}
    wrong = json.loads(sm.get_secret_value(SecretId="timesheets/wrong-credentials")["SecretString"])
    assert wrong["client_id"] == "job-client"
    assert wrong["client_secret"] != "right-secret"
    assertion = sm.get_secret_value(SecretId="timesheets/assertion-credentials")["SecretString"]
    assert json.loads(assertion) == {"client_id": "assertion-client"}

    table = ddb.describe_table(TableName="Timesheets")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName="Timesheets")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_seed_needs_its_variables(moto_env):
    env = {k: v for k, v in moto_env.items() if k != "TIMESHEETS_TABLE"}
    result = subprocess.run([sys.executable, str(SEED)], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "TIMESHEETS_TABLE" in result.stderr


def test_private_key_jwt_secret_holds_the_client_id_alone(moto_env):
    env = {k: v for k, v in moto_env.items() if k != "TEST_JOB_CLIENT_SECRET"}
    env.update(
        AUTH_CLIENT_AUTH="private_key_jwt",
        CREDENTIALS_SECRET_ID="pkjwt/job-credentials",
        TEST_WRONG_SECRET_ID="pkjwt/wrong-credentials",
    )
    seed(env)
    sm, _ = clients(env)
    right = json.loads(sm.get_secret_value(SecretId="pkjwt/job-credentials")["SecretString"])
    assert right == {"client_id": "job-client"}
    wrong = json.loads(sm.get_secret_value(SecretId="pkjwt/wrong-credentials")["SecretString"])
    assert wrong == {"client_id": "exampleco-timesheets-unregistered"}
