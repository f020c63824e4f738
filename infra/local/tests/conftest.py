"""Fixtures shared by the stand-in tests: the local AWS emulator (aws_server.py) on a free port."""

import pathlib
import sys

import pytest

# The tests import the stand-ins' scripts (public_jwk) and their helpers whatever the import mode.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from stand_ins import LOCAL, aws_client_at, start_aws_server  # noqa: E402

sys.path.insert(0, str(LOCAL))


@pytest.fixture(scope="session")
def aws_endpoint():
    """URL of one aws_server.py for the session."""
    try:
        server, url = start_aws_server()
    except RuntimeError as error:
        pytest.fail(str(error))
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def aws_env(aws_endpoint):
    """Environment variables that point boto3 (and the scripts) at the emulator."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="session")
def aws_client(aws_endpoint):
    """aws_client(service, **options): a boto3 client of the emulator."""
    return lambda service, **options: aws_client_at(aws_endpoint, service, **options)
