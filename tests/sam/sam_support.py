"""`sam local` as a user runs it, on the stand-ins `make test-sam` (infra/local/sam_local.sh test)
set up: the stack's variables (.local/stack.env) and SAM_LOCAL_ARGS (the built template, the
image, --add-host for the bridge gateway) are in the environment."""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
EVENTS = ROOT / "events"
sys.path.insert(0, str(INFRA / "local"))

import sam_inputs  # noqa: E402

API = "TimesheetsApiFunction"
JOB = "TimesheetsJobFunction"
SAMPLE_ENTRY = {"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5}
INVOKE_TIMEOUT = 300
# Every REPORT line of the run, by function, for the summary at the end.
REPORTS: list[tuple[str, str]] = []


def required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: run these tests with `make test-sam`", pytrace=False)
    return value


def sam_local(*args: str) -> list[str]:
    """`sam local ARGS` as the make targets run it: through `sam_inputs.py exec`, so no variable a
    function declares comes from this environment and sam stops on SIGINT (then removing its
    containers) even where the shell that started the tests ignores it."""
    return [
        sys.executable, str(INFRA / "local" / "sam_inputs.py"), "exec", "--",
        "sam", "local", *args, *shlex.split(required_env("SAM_LOCAL_ARGS")),
    ]  # fmt: skip


class Hidden(str):
    """A token: used as the string, but its repr, which pytest prints on a failure, hides it."""

    def __repr__(self):
        return "<hidden>"


def write_json(path: Path, value) -> Path:
    sam_inputs.write_json(path, value, private=True)
    return path


@dataclass
class Invocation:
    """What `sam local invoke` shows: the function's answer (stdout) and the logs (stderr)."""

    answer: object
    logs: str

    @property
    def report(self) -> str:
        lines = [line for line in self.logs.splitlines() if line.startswith("REPORT RequestId")]
        return lines[-1] if lines else ""


def invoke(function: str, event: Path, env_vars: Path) -> Invocation:
    done = subprocess.run(
        sam_local("invoke", function, "-e", str(event), "--env-vars", str(env_vars)),
        cwd=INFRA,
        capture_output=True,
        text=True,
        timeout=INVOKE_TIMEOUT,
    )
    assert done.returncode == 0, f"sam local invoke {function} exited {done.returncode}:\n{done.stderr[-4000:]}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"sam local invoke {function} printed no answer:\n{done.stderr[-4000:]}"
    invocation = Invocation(json.loads(lines[-1]), done.stderr)
    assert invocation.report, f"no REPORT line from {function}:\n{done.stderr[-4000:]}"
    REPORTS.append((function, invocation.report))
    return invocation


def http_answer(invocation: Invocation) -> tuple[int, dict, object]:
    """Status, headers (lower-case names) and JSON body of an API Gateway answer."""
    answer = invocation.answer
    assert isinstance(answer, dict) and "statusCode" in answer, f"not an HTTP answer: {answer}\n{invocation.logs[-4000:]}"
    headers = {name.lower(): value for name, value in (answer.get("headers") or {}).items()}
    return answer["statusCode"], headers, json.loads(answer["body"])


class StartApi:
    """`sam local start-api` in the background, on the address containers reach."""

    def __init__(self, env_vars: Path, log: Path):
        self.address = required_env("SAM_LOCAL_API_ADDRESS")
        with socket.socket() as probe:
            probe.bind((self.address, 0))
            self.port = probe.getsockname()[1]
        self.env_vars = env_vars
        self.log = log
        self.process = None

    @property
    def url(self) -> str:
        """Seen from the host."""
        return f"http://{self.address}:{self.port}"

    @property
    def url_in_containers(self) -> str:
        """Seen from a function's container, which takes plain http to a loopback host only."""
        return f"http://localhost:{self.port}"

    def start(self, timeout: float = 180):
        # LAZY: one container, made at the first request and kept warm, as sam_local.sh runs it.
        command = sam_local(
            "start-api", "--host", self.address, "--port", str(self.port),
            "--warm-containers", "LAZY", "--env-vars", str(self.env_vars),
        )  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=INFRA,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((self.address, self.port), 1).close()
                return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"sam local start-api did not listen:\n{self.log.read_text()[-4000:]}")
            time.sleep(1)

    def stop(self):
        """As Ctrl-C does, so SAM removes its warm containers; then the REPORT lines it logged."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for line in self.log.read_text().splitlines():
            if line.startswith("REPORT RequestId"):
                REPORTS.append((f"{API} (start-api)", line))


def dynamodb():
    return boto3.client("dynamodb", endpoint_url=required_env("AWS_ENDPOINT_URL"))


def stored_row(timesheet_id: int) -> dict | None:
    """The stored timesheet, attribute name to its string or number text."""
    item = dynamodb().get_item(
        TableName=required_env("TIMESHEETS_TABLE"),
        Key={"pk": {"S": f"TIMESHEET#{timesheet_id}"}},
        ConsistentRead=True,
    ).get("Item")
    if item is None:
        return None
    return {name: next(iter(value.values())) for name, value in item.items()}


def timesheet_count() -> int:
    """How many timesheets the table holds (the counter and idempotency records left out)."""
    count = 0
    pages = dynamodb().get_paginator("scan").paginate(
        TableName=required_env("TIMESHEETS_TABLE"),
        Select="COUNT",
        FilterExpression="begins_with(pk, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": "TIMESHEET#"}},
        ConsistentRead=True,
    )
    for page in pages:
        count += page["Count"]
    return count


def assert_sample_entry_stored(timesheet_id: int, client_id: str):
    row = stored_row(timesheet_id)
    assert row is not None, f"timesheet {timesheet_id} is not in the table"
    assert row["user_id"] == SAMPLE_ENTRY["user_id"]
    assert row["date"] == SAMPLE_ENTRY["date"]
    assert row["project"] == SAMPLE_ENTRY["project"]
    assert row["hours"] == str(SAMPLE_ENTRY["hours"])
    assert row["client_id"] == client_id
