"""No access token, client secret or Authorization value in the local stack's logs.

Runs last (conftest.py orders it), after the end-to-end and conformance tests have driven the
stack; it also drives a short flow of its own first, so it holds on its own: tokens issued and
refused, an upload, a forged token, a token without the scope, a token in the query string, a
wrong client secret and one run of the job. Then it reads every file in `.local/logs/`.
"""

import json
import os
import re
import subprocess
import time

import boto3
import pytest
import requests
from contract_support import LOGS, ROOT, SAMPLE_ENTRY, Hidden, bearer, token_request

# A JWS in compact form, whole or cut short: base64url of `{"` starts header and payload.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?")
# A credential after an Authorization scheme (RFC 6750 b64token, RFC 7617): 16 characters or more,
# so `Bearer realm="timesheets"` and the documented `Bearer <token>` do not count.
CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/-]{16,}=*")
AUTHORIZATION_VALUE = re.compile(r"(?i)authorization[\"']?\s*[:=]\s*[\"']?\s*(bearer|basic)\s+[^\s\"'<]")
# Runs of base64url characters in the logs, compared with the pieces of each secret and token.
RUN = re.compile(r"[A-Za-z0-9_-]{16,}")
EVIDENCE_TIMEOUT_SECONDS = 10


def upload(upload_url, headers, params=None):
    return requests.post(
        upload_url,
        json=SAMPLE_ENTRY,
        headers={"Content-Type": "application/json", **headers},
        params=params,
        timeout=15,
    )


def wrong_client_secret(stack):
    """The secret the stack stores under TEST_WRONG_SECRET_ID, which the issuer refuses."""
    client = boto3.client("secretsmanager", endpoint_url=stack["AWS_ENDPOINT_URL"])
    value = client.get_secret_value(SecretId=stack["TEST_WRONG_SECRET_ID"])["SecretString"]
    return Hidden(json.loads(value)["client_secret"])


def run_job(stack):
    """One run of the job, as `make run` does it; returns its result."""
    done = subprocess.run(
        [
            "cargo", "lambda", "invoke", "timesheets-job",
            "--invoke-address", "127.0.0.1", "--invoke-port", stack["LAMBDA_PORT"],
            "--data-file", "events/schedule.json",
        ],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"the job run failed: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def flow(stack, job_token, reader_token, upload_url):
    """Drives the flow; returns what must not appear in the logs and what must."""
    wrong_secret = wrong_client_secret(stack)
    refused = token_request(stack, stack["TEST_JOB_CLIENT_ID"], wrong_secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"

    created = upload(upload_url, {"Authorization": bearer(job_token)})
    assert created.status_code == 201, created.text
    head, payload, signature = job_token.split(".")
    forged = upload(upload_url, {"Authorization": bearer(f"{head}.{payload}.{signature[:-4]}AAAA")})
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"
    unscoped = upload(upload_url, {"Authorization": bearer(reader_token)})
    assert unscoped.status_code == 403
    in_query = upload(upload_url, {}, params={"access_token": job_token})
    assert in_query.status_code == 400 and in_query.json()["error"] == "invalid_request"

    result = run_job(stack)
    assert result["uploaded"] >= 1, result
    # The job's own token is never seen here: the JWT pattern covers it.
    return {
        "tokens": [job_token, reader_token],
        "secrets": {
            "job": ("TEST_JOB_CLIENT_SECRET", Hidden(stack["TEST_JOB_CLIENT_SECRET"])),
            "reader": ("TEST_READER_CLIENT_SECRET", Hidden(stack["TEST_READER_CLIENT_SECRET"])),
            "wrong": (f"the client_secret in {stack['TEST_WRONG_SECRET_ID']}", wrong_secret),
        },
        "evidence": {
            "lambda.log": [
                f"timesheets created status=201 client=\"{stack['TEST_JOB_CLIENT_ID']}\" "
                f"first_timesheet_id={created.json()['id']} ",
                'upload refused status=401 error="invalid_token"',
                'upload refused status=403 error="insufficient_scope"',
                'upload refused status=400 error="invalid_request"',
                f"batch stored: Created timesheet {result['timesheets'][0]['id']} for employee 007. "
                f"batch=0 idempotency_key={result['batches'][0]['idempotency_key']} ",
            ],
            "issuer.log": [
                f"token issued client_id={stack['TEST_JOB_CLIENT_ID']} ",
                f"token issued client_id={stack['TEST_READER_CLIENT_ID']} ",
                "token refused error=invalid_client",
            ],
            "moto.log": ['"POST / HTTP/1.1" 200'],
        },
    }


class Logs:
    """The log files' texts; the repr, which pytest prints on a failure, names the files only, as
    the texts would show what leaked."""

    def __init__(self, texts, missing):
        self.texts = texts
        self.missing = missing

    def __repr__(self):
        return f"Logs({sorted(self.texts)})"


def read_logs():
    files = sorted(path for path in LOGS.rglob("*") if path.is_file())
    return {str(path.relative_to(LOGS)): path.read_bytes().decode("utf-8", errors="replace") for path in files}


@pytest.fixture(scope="module")
def logs(flow):
    """Every log file, once the flow's evidence has reached them (the services write asynchronously)."""
    deadline = time.monotonic() + EVIDENCE_TIMEOUT_SECONDS
    while True:
        texts = read_logs()
        missing = {
            name: [line for line in lines if line not in texts.get(name, "")]
            for name, lines in flow["evidence"].items()
        }
        missing = {name: lines for name, lines in missing.items() if lines}
        if not missing or time.monotonic() > deadline:
            return Logs(texts, missing)
        time.sleep(0.3)


def places(texts, pattern):
    """file:line of each match, never the match itself."""
    found = []
    for name, text in texts.items():
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                found.append(f"{name}:{number}")
    return found


def test_the_logs_hold_the_flow(logs):
    texts, missing = logs.texts, logs.missing
    assert {"lambda.log", "issuer.log", "moto.log"} <= set(texts), sorted(texts)
    assert all(texts[name].strip() for name in ("lambda.log", "issuer.log", "moto.log"))
    assert not missing, f"lines of this flow not found in .local/logs: {missing}"


def test_no_access_token_in_the_logs(logs, flow):
    texts = logs.texts
    assert places(texts, JWT) == [], "a JWT-shaped string is logged"
    # Pieces of the tokens too: payload and signature (the header is the issuer's, shared by all).
    pieces = [piece for token in flow["tokens"] for piece in token.split(".")[1:]]
    leaked = [
        f"{name}:{number}"
        for name, text in texts.items()
        for number, line in enumerate(text.splitlines(), 1)
        for run in RUN.findall(line)
        if any(run in piece for piece in pieces)
    ]
    assert leaked == [], "part of an access token is logged"


@pytest.mark.parametrize("client", ["job", "reader", "wrong"])
def test_no_client_secret_in_the_logs(logs, flow, client):
    texts = logs.texts
    name, secret = flow["secrets"][client]
    assert len(secret) >= 32, name
    lines = [
        (f"{file}:{number}", line) for file, text in texts.items() for number, line in enumerate(text.splitlines(), 1)
    ]
    assert [place for place, line in lines if secret in line] == [], f"{name} is logged"
    # Any 16 characters of it, for a secret logged cut short.
    partial = [place for place, line in lines if any(run in secret for run in RUN.findall(line))]
    assert partial == [], f"part of {name} is logged"


def test_no_authorization_value_in_the_logs(logs):
    texts = logs.texts
    assert places(texts, AUTHORIZATION_VALUE) == [], "an Authorization header value is logged"
    assert places(texts, CREDENTIAL) == [], "a Bearer or Basic credential is logged"
