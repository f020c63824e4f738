"""The local issuer answers the client-credentials grant as Auth0 does (infra/local/issuer)."""

import base64
import json
import secrets
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from issuer_support import AUDIENCE, discovery, get_json, running_issuer, token_request

JOB = {"client_id": "job-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:upload"}
READER = {"client_id": "reader-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:read"}


def b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    with running_issuer(tmp_path_factory.mktemp("issuer"), [JOB, READER]) as running:
        yield running


def client_credentials(client, **extra):
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "audience": AUDIENCE,
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def basic(client):
    pair = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def test_discovery_names_the_issuer_with_its_trailing_slash(issuer):
    url, _ = issuer
    doc = discovery(url)
    assert doc["issuer"] == url
    for key in ("token_endpoint", "jwks_uri"):
        assert doc[key].startswith(url)
        assert "//" not in doc[key][len("http://") :]
    assert doc["token_endpoint"] == url + "oauth/token"
    assert doc["jwks_uri"] == url + ".well-known/jwks.json"
    assert "client_credentials" in doc["grant_types_supported"]


def test_discovery_advertises_client_authentication_and_dpop(issuer):
    url, _ = issuer
    doc = discovery(url)
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_post",
        "client_secret_basic",
        "private_key_jwt",
    ]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "PS256", "ES256"]
    assert doc["dpop_signing_alg_values_supported"] == ["ES256", "PS256", "RS256"]


def test_jwks_has_one_public_rs256_signing_key(issuer):
    url, _ = issuer
    keys = get_json(discovery(url)["jwks_uri"])["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()


@pytest.mark.parametrize("auth", ["client_secret_post", "client_secret_basic"])
def test_token_carries_auth0_claims_and_verifies(issuer, auth):
    url, _ = issuer
    doc = discovery(url)
    if auth == "client_secret_post":
        status, headers, body = token_request(doc["token_endpoint"], client_credentials(JOB))
    else:
        form = client_credentials(JOB, client_id=None, client_secret=None)
        status, headers, body = token_request(doc["token_endpoint"], form, basic(JOB))
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "batch:upload"

    header_b64, payload_b64, signature_b64 = body["access_token"].split(".")
    header = json.loads(b64url(header_b64))
    claims = json.loads(b64url(payload_b64))
    assert header["alg"] == "RS256"
    assert claims["iss"] == url
    assert claims["aud"] == AUDIENCE
    assert claims["sub"] == "job-client@clients"
    assert claims["azp"] == "job-client"
    assert claims["scope"] == "batch:upload"
    assert claims["gty"] == "client-credentials"
    assert claims["exp"] - claims["iat"] == 86400
    assert abs(claims["iat"] - time.time()) < 60

    key = next(k for k in get_json(doc["jwks_uri"])["keys"] if k["kid"] == header["kid"])
    public = rsa.RSAPublicNumbers(
        int.from_bytes(b64url(key["e"]), "big"), int.from_bytes(b64url(key["n"]), "big")
    ).public_key()
    public.verify(
        b64url(signature_b64),
        f"{header_b64}.{payload_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_second_client_gets_its_own_scope(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", client_credentials(READER))
    assert status == 200
    claims = json.loads(b64url(body["access_token"].split(".")[1]))
    assert claims["scope"] == "batch:read"
    assert claims["azp"] == "reader-client"


@pytest.mark.parametrize(
    "form, headers",
    [
        (client_credentials(JOB, client_secret="wrong"), None),
        (client_credentials(JOB, client_id="nobody"), None),
        (client_credentials(JOB, client_secret=None), None),
        (
            client_credentials(JOB, client_id=None, client_secret=None),
            basic({"client_id": "job-client", "client_secret": "wrong"}),
        ),
    ],
    ids=["wrong-secret", "unknown-client", "no-secret", "wrong-basic"],
)
def test_bad_client_is_invalid_client(issuer, form, headers):
    url, _ = issuer
    status, resp_headers, body = token_request(url + "oauth/token", form, headers)
    assert status == 401
    assert body["error"] == "invalid_client"
    assert body["error_description"]
    if headers:
        assert resp_headers["WWW-Authenticate"].startswith("Basic")


def test_token_path_of_oauth2_mock_server_is_an_alias(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "token", client_credentials(JOB))
    assert status == 200 and body["scope"] == "batch:upload"


def test_other_grant_is_unsupported(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", client_credentials(JOB, grant_type="password"))
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_missing_audience_is_invalid_request(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", client_credentials(JOB, audience=None))
    assert (status, body["error"]) == (400, "invalid_request")


def test_log_has_no_secret_and_no_token(issuer):
    url, log = issuer
    _, _, body = token_request(url + "oauth/token", client_credentials(JOB))
    token_request(url + "oauth/token", client_credentials(JOB, client_secret="wrong-" + JOB["client_secret"]))
    text = log.read_text()
    assert "token issued" in text
    for secret in (JOB["client_secret"], READER["client_secret"], body["access_token"]):
        assert secret not in text


def test_token_lifetime_can_be_set(tmp_path):
    with running_issuer(tmp_path, [JOB, READER], ISSUER_TOKEN_TTL_SECONDS="120") as (url, _):
        status, _, body = token_request(url + "oauth/token", client_credentials(JOB))
        assert status == 200 and body["expires_in"] == 120
        claims = json.loads(b64url(body["access_token"].split(".")[1]))
        assert claims["exp"] - claims["iat"] == 120


def test_a_body_over_16_kib_is_refused_unread(issuer):
    url, _ = issuer
    padded = client_credentials(JOB, padding="x" * (17 * 1024))
    status, _, body = token_request(url + "oauth/token", padded)
    assert status == 400
    assert body == {"error": "invalid_request", "error_description": "Request body too large."}
