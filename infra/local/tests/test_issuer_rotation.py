"""The local issuer rotates a client secret as Auth0 does (infra/local/issuer/rotation.mjs): the
old secret is refused at once, the new one only after the rotation delay."""

import json
import secrets
import time
import urllib.error
import urllib.request

import pytest
from issuer_support import AUDIENCE, refused_start, running_issuer, token_request

JOB = {"client_id": "job-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:upload"}
# Short, so the tests see both sides of it; the default is Auth0's 30 s.
DELAY_SECONDS = 2


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    with running_issuer(
        tmp_path_factory.mktemp("rotation"),
        [JOB],
        ISSUER_ROTATION_DELAY_SECONDS=str(DELAY_SECONDS),
        ISSUER_EXTRA_ADDRESS="127.0.0.2",
    ) as running:
        yield running


def manage(url, path, body=None, method="POST"):
    """A management call; returns (status, body)."""
    req = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def new_client(url, scope="batch:upload"):
    status, body = manage(url, "api/v2/clients", {"scope": scope})
    assert status == 201, body
    return body


def token_status(url, client_id, client_secret):
    """(status, error code or scope) of a client-credentials request."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "audience": AUDIENCE,
    }
    status, _, body = token_request(url + "oauth/token", form)
    return status, body.get("error", body.get("scope"))


def rotate(url, client_id, query=""):
    status, body = manage(url, f"api/v2/clients/{client_id}/rotate-secret{query}")
    assert status == 200, body
    assert body["client_id"] == client_id
    return body


def test_a_registered_client_gets_tokens_with_its_generated_secret(issuer):
    url, _ = issuer
    client = new_client(url)
    assert client["scope"] == "batch:upload"
    assert len(client["client_secret"]) == 64
    assert token_status(url, client["client_id"], client["client_secret"]) == (200, "batch:upload")
    assert new_client(url)["client_id"] != client["client_id"]


def test_the_old_secret_is_refused_at_once_and_the_new_one_after_the_delay(issuer):
    url, _ = issuer
    client = new_client(url)
    old = client["client_secret"]
    rotated = rotate(url, client["client_id"])
    started = time.monotonic()
    new = rotated["client_secret"]
    assert new != old and len(new) == 64
    assert rotated["accepted_after_seconds"] == DELAY_SECONDS
    assert token_status(url, client["client_id"], old) == (401, "invalid_client")
    assert token_status(url, client["client_id"], new) == (401, "invalid_client")
    while token_status(url, client["client_id"], new)[0] != 200:
        assert time.monotonic() - started < DELAY_SECONDS + 5, "the new secret was never accepted"
        time.sleep(0.1)
    assert time.monotonic() - started >= DELAY_SECONDS - 0.2
    assert token_status(url, client["client_id"], new) == (200, "batch:upload")
    assert token_status(url, client["client_id"], old) == (401, "invalid_client")


def test_a_rotation_may_set_its_own_delay_and_a_second_one_replaces_the_pending_secret(issuer):
    url, _ = issuer
    client = new_client(url)
    pending = rotate(url, client["client_id"])["client_secret"]
    current = rotate(url, client["client_id"], "?delay_seconds=0")
    assert current["accepted_after_seconds"] == 0
    time.sleep(0.1)
    assert token_status(url, client["client_id"], current["client_secret"]) == (200, "batch:upload")
    time.sleep(DELAY_SECONDS + 0.2)
    assert token_status(url, client["client_id"], pending) == (401, "invalid_client")
    assert token_status(url, client["client_id"], current["client_secret"]) == (200, "batch:upload")


def test_the_stacks_clients_can_be_rotated_too(issuer):
    url, _ = issuer
    new = rotate(url, JOB["client_id"], "?delay_seconds=0")["client_secret"]
    time.sleep(0.1)
    assert token_status(url, JOB["client_id"], JOB["client_secret"]) == (401, "invalid_client")
    assert token_status(url, JOB["client_id"], new) == (200, "batch:upload")


@pytest.mark.parametrize(
    "path, method, status, error",
    [
        ("api/v2/clients/nobody/rotate-secret", "POST", 404, "invalid_request"),
        ("api/v2/clients/job-client/rotate-secret?delay_seconds=-1", "POST", 400, "invalid_request"),
        ("api/v2/clients/job-client/rotate-secret?delay_seconds=soon", "POST", 400, "invalid_request"),
        ("api/v2/clients/job-client/rotate-secret", "GET", 405, "invalid_request"),
    ],
)
def test_bad_management_calls_are_refused(issuer, path, method, status, error):
    url, _ = issuer
    answered, body = manage(url, path, method=method)
    assert (answered, body["error"]) == (status, error)


def test_a_client_body_must_be_a_json_object(issuer):
    url, _ = issuer
    status, body = manage(url, "api/v2/clients", ["batch:upload"])
    assert (status, body["error"]) == (400, "invalid_request")


def test_management_calls_are_answered_on_loopback_only(issuer):
    url, _ = issuer
    other = url.replace("127.0.0.1", "127.0.0.2")
    status, body = manage(other, "api/v2/clients", {"scope": "batch:upload"})
    assert (status, body["error"]) == (403, "access_denied")
    # The token endpoint still answers there.
    assert token_status(other, "nobody", "x") == (401, "invalid_client")


def test_the_log_names_clients_but_no_secret(issuer):
    url, log = issuer
    client = new_client(url)
    rotated = rotate(url, client["client_id"], "?delay_seconds=0")
    text = log.read_text()
    assert f"client secret rotated client_id={client['client_id']} accepted_after_seconds=0" in text
    for secret in (client["client_secret"], rotated["client_secret"], JOB["client_secret"]):
        assert secret not in text


@pytest.mark.parametrize("value", ["-1", "3601", "soon", ""])
def test_a_bad_rotation_delay_stops_the_issuer(tmp_path, value):
    code, output = refused_start(tmp_path, [JOB], ISSUER_ROTATION_DELAY_SECONDS=value)
    assert code == 2
    assert "ISSUER_ROTATION_DELAY_SECONDS must be a number of seconds from 0 to 3600" in output
