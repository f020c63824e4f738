"""The local issuer authenticates clients by private_key_jwt (RFC 7523 §2.2) as Auth0 does:
signature by a registered key, iss = sub = client_id, aud the issuer, a short exp, a jti used
once; anything else is 401 invalid_client with a description that never repeats the assertion."""

import json
import secrets
import subprocess
import sys
import time
import uuid

import pytest
from assertion_support import CLIENTS, KEYS, assertion, assertion_form, jwk_of
from cryptography.hazmat.primitives import serialization
from issuer_support import AUDIENCE, refused_start, running_issuer, token_request
from jws_support import b64url, claims_of, kms_sign, new_key, sign
from stand_ins import LOCAL

# A second key registered for the rotation client, and one nobody registered.
NEXT_KEY = new_key("RS256")
STRANGER_KEY = new_key("RS256")


# Two keys without kid: the issuer tries each (key rotation without kid in the assertion).
ROTATION = {
    "client_id": "pkjwt-rotation",
    "jwks": {"keys": [jwk_of(KEYS["RS256"], "RS256", kid=None), jwk_of(NEXT_KEY, "RS256", kid=None)]},
    "scope": "batch:upload",
}
SECRET_CLIENT = {"client_id": "secret-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:upload"}


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    clients = [*CLIENTS.values(), ROTATION, SECRET_CLIENT]
    with running_issuer(tmp_path_factory.mktemp("issuer"), clients) as running:
        yield running


def assert_invalid_client(answer, jwt, description):
    status, _, body = answer
    assert (status, body["error"]) == (401, "invalid_client"), body
    assert description in body["error_description"]
    for part in jwt.split("."):
        if len(part) > 8:
            assert part not in body["error_description"]


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_good_assertion_gets_a_token(issuer, alg):
    url, log = issuer
    status, headers, body = token_request(url + "oauth/token", assertion_form(assertion(url, alg=alg)))
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    assert (body["token_type"], body["scope"]) == ("Bearer", "batch:upload")
    claims = claims_of(body["access_token"])
    client_id = CLIENTS[alg]["client_id"]
    assert (claims["sub"], claims["azp"], claims["aud"]) == (f"{client_id}@clients", client_id, AUDIENCE)
    assert f"token issued client_id={client_id} audience={AUDIENCE} scope=\"batch:upload\" client_auth=private_key_jwt token_type=Bearer" in log.read_text()


def test_token_endpoint_url_is_an_accepted_audience(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", assertion_form(assertion(url, aud=url + "oauth/token")))
    assert status == 200, body


def test_five_minutes_is_the_longest_lifetime(issuer):
    url, _ = issuer
    now = int(time.time())
    status, _, body = token_request(url + "oauth/token", assertion_form(assertion(url, iat=now, exp=now + 300)))
    assert status == 200, body


def test_aud_may_be_a_list_holding_the_issuer(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", assertion_form(assertion(url, aud=["https://other.example/", url])))
    assert status == 200, body


def test_client_id_beside_the_assertion_must_name_the_same_client(issuer):
    url, _ = issuer
    same = assertion_form(assertion(url), client_id=CLIENTS["RS256"]["client_id"])
    assert token_request(url + "oauth/token", same)[0] == 200
    jwt = assertion(url)
    other = assertion_form(jwt, client_id=CLIENTS["ES256"]["client_id"])
    assert_invalid_client(token_request(url + "oauth/token", other), jwt, "iss and sub must both be the client_id")


def test_replayed_assertion_is_invalid_client(issuer):
    url, _ = issuer
    jwt = assertion(url)
    assert token_request(url + "oauth/token", assertion_form(jwt))[0] == 200
    assert_invalid_client(token_request(url + "oauth/token", assertion_form(jwt)), jwt, "used before (jti)")


def test_same_jti_from_another_client_is_its_own(issuer):
    url, _ = issuer
    jti = str(uuid.uuid4())
    assert token_request(url + "oauth/token", assertion_form(assertion(url, alg="RS256", jti=jti)))[0] == 200
    assert token_request(url + "oauth/token", assertion_form(assertion(url, alg="ES256", jti=jti)))[0] == 200


def test_rotation_client_without_kid_is_verified_by_either_key(issuer):
    url, _ = issuer
    for key in (KEYS["RS256"], NEXT_KEY):
        status, _, body = token_request(url + "oauth/token", assertion_form(assertion(url, client=ROTATION, key=key)))
        assert status == 200, body
    jwt = assertion(url, client=ROTATION, key=STRANGER_KEY)
    assert_invalid_client(token_request(url + "oauth/token", assertion_form(jwt)), jwt, "does not verify")


@pytest.mark.parametrize(
    "changes, description",
    [
        ({"aud": "https://tenant.example.auth0.com/"}, "aud must be"),
        ({"aud": "ISSUER_WITHOUT_SLASH"}, "aud must be"),
        ({"aud": None}, "lacks the 'aud' claim"),
        ({"iat": "now-120", "exp": "now-60"}, "expired"),
        ({"exp": None}, "lacks the 'exp' claim"),
        ({"iat": "now-0", "exp": "now+301"}, "exceeds 300 seconds"),
        ({"iat": None, "exp": "now+400"}, "exceeds 300 seconds"),
        ({"iat": "now+60", "exp": "now+120"}, "iat is in the future"),
        ({"nbf": "now+60"}, "not valid yet"),
        ({"jti": None}, "lacks the 'jti' claim"),
        ({"jti": "j" * 65}, "jti must be a string of 1 to 64"),
        ({"sub": "someone-else"}, "iss and sub must both be the client_id"),
        ({"key": STRANGER_KEY}, "signature does not verify"),
        ({"header": {"kid": "not-registered"}}, "signature does not verify"),
        ({"header": {"alg": "PS256"}, "key": KEYS["RS256"]}, "signature does not verify"),
        ({"header": {"alg": "none"}}, "alg must be one of RS256, PS256, ES256"),
        ({"header": {"alg": "RS384"}}, "alg must be one of RS256, PS256, ES256"),
    ],
    ids=[
        "other-audience", "issuer-without-slash", "no-aud", "expired", "no-exp", "lifetime-301s",
        "no-iat-lifetime", "iat-ahead", "nbf-ahead", "no-jti", "jti-too-long", "sub-not-iss",
        "wrong-key", "unknown-kid", "alg-not-the-registered-one", "alg-none", "alg-not-allowed",
    ],
)
def test_bad_assertion_is_invalid_client(issuer, changes, description):
    url, _ = issuer
    # Times as offsets from now, resolved when the test runs.
    now = int(time.time())
    changes = {k: now + int(v[3:]) if isinstance(v, str) and v.startswith("now") else v for k, v in changes.items()}
    if changes.get("aud") == "ISSUER_WITHOUT_SLASH":
        changes["aud"] = url.rstrip("/")
    jwt = assertion(url, **changes)
    assert_invalid_client(token_request(url + "oauth/token", assertion_form(jwt)), jwt, description)


def test_hs256_keyed_with_the_public_key_is_refused(issuer):
    # The classic confusion: an HMAC "signed" with the registered public key's bytes.
    url, _ = issuer
    pem = KEYS["RS256"].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    client_id = CLIENTS["RS256"]["client_id"]
    claims = {"iss": client_id, "sub": client_id, "aud": url, "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
    jwt = sign({"alg": "HS256", "kid": CLIENTS["RS256"]["jwks"]["keys"][0]["kid"]}, claims, pem)
    assert_invalid_client(token_request(url + "oauth/token", assertion_form(jwt)), jwt, "alg must be one of")


def test_not_a_jwt_is_invalid_client(issuer):
    url, _ = issuer
    assert_invalid_client(token_request(url + "oauth/token", assertion_form("not.a-jwt")), "not.a-jwt", "not a valid signed JWT")


def test_unknown_client_and_secret_client_cannot_use_an_assertion(issuer):
    url, _ = issuer
    nobody = {"client_id": "nobody", "jwks": CLIENTS["RS256"]["jwks"]}
    jwt = assertion(url, client=nobody, key=KEYS["RS256"])
    assert_invalid_client(token_request(url + "oauth/token", assertion_form(jwt)), jwt, "Unknown client or no public key")
    jwt = assertion(url, client={"client_id": SECRET_CLIENT["client_id"]}, key=KEYS["RS256"])
    assert_invalid_client(token_request(url + "oauth/token", assertion_form(jwt)), jwt, "Unknown client or no public key")


def test_key_client_cannot_use_a_secret(issuer):
    url, _ = issuer
    form = {"grant_type": "client_credentials", "client_id": CLIENTS["RS256"]["client_id"], "client_secret": "guess", "audience": AUDIENCE}
    status, _, body = token_request(url + "oauth/token", form)
    assert (status, body["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    "extra, description",
    [
        ({"client_secret": "also-a-secret"}, "Use one client authentication method only."),
        ({"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}, "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer."),
        ({"client_assertion_type": None}, "Send client_assertion and client_assertion_type together."),
    ],
    ids=["with-client-secret", "saml-type", "no-type"],
)
def test_malformed_assertion_request_is_invalid_request(issuer, extra, description):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", assertion_form(assertion(url), **extra))
    assert (status, body["error"], body["error_description"]) == (400, "invalid_request", description)


def test_log_has_no_assertion(issuer):
    url, log = issuer
    good = assertion(url)
    bad = assertion(url, key=STRANGER_KEY)
    token_request(url + "oauth/token", assertion_form(good))
    token_request(url + "oauth/token", assertion_form(bad))
    text = log.read_text()
    assert "client_auth=private_key_jwt" in text
    assert 'token refused error=invalid_client description="The client assertion\'s signature does not verify' in text
    for jwt in (good, bad):
        for part in jwt.split("."):
            assert part not in text


@pytest.mark.parametrize(
    "clients, message",
    [
        ([{"client_id": "c", "client_secret": "s", "jwks": CLIENTS["RS256"]["jwks"]}], "either a client_secret or a jwks"),
        ([{"client_id": "c", "jwks": {"keys": []}}], "at least one key"),
        (
            [{"client_id": "c", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}}],
            "key alg must be one of RS256, PS256, ES256",
        ),
    ],
    ids=["secret-and-jwks", "empty-jwks", "hmac-key"],
)
def test_bad_registration_stops_the_issuer(tmp_path, clients, message):
    code, output = refused_start(tmp_path, clients)
    assert code == 2
    assert message in output


def test_private_key_in_jwks_stops_the_issuer(tmp_path):
    numbers = KEYS["RS256"].private_numbers()
    private = {"d": numbers.d, "p": numbers.p, "q": numbers.q, "dp": numbers.dmp1, "dq": numbers.dmq1, "qi": numbers.iqmp}
    jwk = {**CLIENTS["RS256"]["jwks"]["keys"][0], **{k: b64url(v.to_bytes((v.bit_length() + 7) // 8, "big")) for k, v in private.items()}}
    code, output = refused_start(tmp_path, [{"client_id": "c", "jwks": {"keys": [jwk]}}])
    assert code == 2
    assert "jwks must hold public keys only" in output


# --- The real path: the key lives in (moto's) KMS --------------------------------------------


def script(aws_env, name, *args):
    result = subprocess.run(
        [sys.executable, str(LOCAL / name), *args],
        env={"PATH": "/usr/bin:/bin", **aws_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_assertion_signed_by_kms_gets_a_token(tmp_path, aws_env, aws_client, alg):
    # As `stack.sh up` registers the job: the key from signing_key.py, its JWKS from public_jwk.py.
    arn = script(aws_env, "signing_key.py", alg)
    jwks = json.loads(script(aws_env, "public_jwk.py", "--key-id", arn, "--alg", alg, "--format", "jwks"))
    client = {"client_id": "kms-job", "jwks": jwks, "scope": "batch:upload"}
    kms = aws_client("kms")
    with running_issuer(tmp_path, [client]) as (url, _):
        now = int(time.time())
        claims = {"iss": "kms-job", "sub": "kms-job", "aud": url, "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
        jwt = kms_sign(kms, arn, {"alg": alg, "typ": "JWT", "kid": jwks["keys"][0]["kid"]}, claims)
        status, _, body = token_request(url + "oauth/token", assertion_form(jwt))
        assert status == 200, body
        assert claims_of(body["access_token"])["azp"] == "kms-job"
