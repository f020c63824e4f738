"""The local issuer's standards mode (ISSUER_RFC8707_CLIENTS, issuer/resource_indicators.mjs):
RFC 8707 `resource` instead of Auth0's `audience`, and only the requested scopes (RFC 6749 §3.3)."""

import base64
import json
import secrets

import pytest
from issuer_support import AUDIENCE, running_issuer, token_request

# Allowed two scopes, so a grant of only the requested one shows.
STANDARD = {
    "client_id": "standard-client",
    "client_secret": secrets.token_urlsafe(32),
    "scope": "batch:upload batch:read",
}
AUTH0 = {"client_id": "auth0-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:upload batch:read"}


@pytest.fixture(scope="module")
def token_url(tmp_path_factory):
    clients = [STANDARD, AUTH0]
    with running_issuer(
        tmp_path_factory.mktemp("issuer"), clients, ISSUER_RFC8707_CLIENTS=" standard-client , other"
    ) as (url, _):
        yield url + "oauth/token"


def ask(token_url, client, **params):
    form = {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]}
    form.update(params)
    return token_request(token_url, form)


def claims(access_token):
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_resource_is_the_audience_and_only_the_requested_scope_is_granted(token_url):
    # Auth0's audience is an unknown parameter to this issuer (RFC 6749 §3.2): ignored.
    status, _, body = ask(
        token_url, STANDARD, resource=AUDIENCE, scope="batch:upload", audience="https://elsewhere.example/"
    )
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "batch:upload"
    token = claims(body["access_token"])
    assert token["aud"] == AUDIENCE
    assert token["scope"] == "batch:upload"
    assert token["azp"] == "standard-client"


def test_a_request_without_scope_gets_none(token_url):
    status, _, body = ask(token_url, STANDARD, resource=AUDIENCE)
    assert status == 200, body
    assert body["scope"] == ""
    assert claims(body["access_token"])["scope"] == ""


def test_scopes_not_allowed_are_dropped_and_none_allowed_is_invalid_scope(token_url):
    status, _, body = ask(token_url, STANDARD, resource=AUDIENCE, scope="batch:admin batch:read batch:read")
    assert status == 200, body
    assert body["scope"] == "batch:read"
    status, _, body = ask(token_url, STANDARD, resource=AUDIENCE, scope="batch:admin")
    assert (status, body["error"]) == (400, "invalid_scope")


def test_without_a_resource_the_token_is_opaque(token_url):
    # What the job sent before it could name a resource: Auth0's audience alone.
    status, _, body = ask(token_url, STANDARD, audience=AUDIENCE, scope="batch:upload")
    assert status == 200, body
    assert body["access_token"].count(".") == 0
    assert len(body["access_token"]) >= 43


@pytest.mark.parametrize(
    "resource", ["https://api.exampleco.com/timesheets#v1", "/timesheets", "timesheets"]
)
def test_a_resource_that_is_not_an_absolute_uri_without_fragment_is_invalid_target(token_url, resource):
    status, _, body = ask(token_url, STANDARD, resource=resource, scope="batch:upload")
    assert (status, body["error"]) == (400, "invalid_target")
    assert resource not in body["error_description"]


def test_other_clients_of_the_same_issuer_keep_auth0s_rules(token_url):
    status, _, body = ask(token_url, AUTH0, audience=AUDIENCE, resource="https://elsewhere.example/")
    assert status == 200, body
    token = claims(body["access_token"])
    assert token["aud"] == AUDIENCE
    assert token["scope"] == "batch:upload batch:read"
    status, _, body = ask(token_url, AUTH0, resource=AUDIENCE)
    assert (status, body["error"]) == (400, "invalid_request")
