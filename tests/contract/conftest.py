"""Fixtures for the contract tests, which run against the local stack `make test` starts."""

import sys
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

# The test modules import contract_support whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from contract_support import ROOT, access_token, stack_environment  # noqa: E402

# Hypothesis' caches go with the stack's other state, not into the repository's root.
set_hypothesis_home_dir(ROOT / ".local" / "hypothesis")


@pytest.fixture(scope="session")
def stack():
    return stack_environment()


@pytest.fixture(scope="session")
def job_token(stack):
    """A token with the scope batch:upload."""
    return access_token(stack, stack["TEST_JOB_CLIENT_ID"], stack["TEST_JOB_CLIENT_SECRET"])


@pytest.fixture(scope="session")
def reader_token(stack):
    """A valid token without batch:upload."""
    return access_token(stack, stack["TEST_READER_CLIENT_ID"], stack["TEST_READER_CLIENT_SECRET"])


@pytest.fixture(scope="session")
def upload_url(stack):
    return stack["API_URL"] + "/timesheets/upload"


def pytest_collection_modifyitems(items):
    """The log scan runs last, after every other test has driven the stack."""
    items.sort(key=lambda item: item.path.name == "test_no_secrets_in_logs.py")
