"""The running local stack (`infra/local/stack.sh up`, `.local/stack.env`) and tokens from its issuer."""

import json
import os
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs"
SPEC = ROOT / "infra" / "openapi.yaml"
# The scenario's sample entry as the job's schedule input carries it; the job's tests/events.rs
# checks that file against the one definition, timesheets::entry::SAMPLE_ENTRY.
SAMPLE_ENTRY = json.loads((ROOT / "events" / "schedule.json").read_text(encoding="utf-8"))["entries"][0]
STACK_VARIABLES = (
    "API_URL",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AWS_ENDPOINT_URL",
    "LAMBDA_PORT",
    "TEST_JOB_CLIENT_ID",
    "TEST_JOB_CLIENT_SECRET",
    "TEST_READER_CLIENT_ID",
    "TEST_READER_CLIENT_SECRET",
    "TEST_WRONG_SECRET_ID",
)


class Stack(dict):
    """The stack's variables; the repr, which pytest prints on a failure, leaves the secrets out."""

    def __repr__(self):
        shown = {name: (Hidden(value) if name.endswith("_SECRET") else value) for name, value in self.items()}
        return f"Stack({shown})"


def stack_environment():
    """The stack's variables; fails (not skips) without them, so `make test` cannot pass vacuously."""
    missing = [name for name in STACK_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "the local stack is not in the environment (missing "
            + ", ".join(missing)
            + "): run `bash infra/local/stack.sh up && . .local/stack.env` first",
            pytrace=False,
        )
    return Stack({name: os.environ[name] for name in STACK_VARIABLES})


class Hidden(str):
    """A token, secret or Authorization value: used as the string, but its repr, which pytest and
    schemathesis print on a failure, does not show it."""

    def __repr__(self):
        return "<hidden>"


def bearer(token):
    """The Authorization value for `token`, hidden like the token."""
    return Hidden(f"Bearer {token}")


def token_request(stack, client_id, client_secret):
    """The client-credentials grant as the job sends it (client_secret_post, Auth0's audience)."""
    return requests.post(
        stack["AUTH_ISSUER"] + "oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "audience": stack["AUTH_AUDIENCE"],
        },
        timeout=10,
    )


def access_token(stack, client_id, client_secret):
    response = token_request(stack, client_id, client_secret)
    # The status only: the body holds the token.
    assert response.status_code == 200, f"token request for {client_id}: HTTP {response.status_code}"
    return Hidden(response.json()["access_token"])
