"""Fixtures shared by the stand-in tests: the local AWS emulator (aws_server.py) on a free port."""

import pathlib
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import pytest

# The tests import the stand-ins' scripts (public_jwk) and their helpers whatever the import mode.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from stand_ins import LOCAL, free_port  # noqa: E402

sys.path.insert(0, str(LOCAL))


@pytest.fixture(scope="session")
def aws_endpoint():
    """URL of one aws_server.py for the session."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(LOCAL / "aws_server.py"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("aws_server.py did not start")
            time.sleep(0.1)
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
    def client(service, **options):
        return boto3.session.Session().client(
            service,
            endpoint_url=aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            **options,
        )

    return client
