"""Fixtures for the `sam local` tests: the env-vars files, a token, `sam local start-api`."""

import sys
from pathlib import Path

import pytest

# The test modules import sam_support whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sam_support import REPORTS, ROOT, Hidden, StartApi, required_env, sam_inputs, write_json  # noqa: E402


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """Where the generated events and env-vars files go (owner-only: events carry tokens)."""
    return tmp_path_factory.mktemp("sam")


@pytest.fixture(scope="session")
def env_vars(files):
    """events/env.json with the stand-ins in place of its placeholders (no API for the job)."""
    return write_json(files / "env.json", sam_inputs.env_vars(api_url=None))


@pytest.fixture(scope="session")
def job_client_id():
    return required_env("TEST_JOB_CLIENT_ID")


@pytest.fixture(scope="session")
def job_token():
    """An access token of the job's client (scope batch:upload) from the local issuer."""
    return Hidden(sam_inputs.access_token())


@pytest.fixture(scope="module")
def start_api(files):
    """`sam local start-api` serving the template's HTTP API; the job's API_URL points at it."""
    api = StartApi(files / "env-start-api.json", ROOT / ".local" / "logs" / "sam-start-api.log")
    write_json(api.env_vars, sam_inputs.env_vars(api_url=api.url_in_containers))
    api.start()
    yield api
    api.stop()


def pytest_terminal_summary(terminalreporter):
    if REPORTS:
        terminalreporter.section("Lambda REPORT lines (sam local)")
        for function, line in REPORTS:
            terminalreporter.write_line(f"{function}: {line}")
