"""The local issuer binds access tokens to a DPoP proof's key (RFC 9449): token_type DPoP and
cnf.jkt = the RFC 7638 thumbprint for a valid proof, 400 invalid_dpop_proof for a bad one, and
use_dpop_nonce with a DPoP-Nonce header when it is told to demand nonces (§8)."""

import re
import secrets
import time
import uuid

import pytest
from assertion_support import CLIENTS as KEY_CLIENTS
from assertion_support import assertion, assertion_form
from issuer_support import AUDIENCE, refused_start, running_issuer, token_request, token_request_with_header_lines
from jws_support import b64url, claims_of, new_key, public_der, sign
from public_jwk import public_jwk, thumbprint

JOB = {"client_id": "job-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:upload"}
BOUND = {"client_id": "bound-client", "client_secret": secrets.token_urlsafe(32), "scope": "batch:upload", "dpop_bound_access_tokens": True}
PROOF_KEYS = {alg: new_key(alg) for alg in ("ES256", "PS256", "RS256")}
OTHER_KEY = new_key("ES256")
# NQCHAR of RFC 9449 §8.1.
NONCE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    with running_issuer(tmp_path_factory.mktemp("issuer"), [JOB, BOUND, KEY_CLIENTS["RS256"]]) as running:
        yield running


@pytest.fixture(scope="module")
def nonce_issuer(tmp_path_factory):
    clients = [JOB, KEY_CLIENTS["RS256"]]
    with running_issuer(tmp_path_factory.mktemp("nonce"), clients, ISSUER_DPOP_NONCE="required") as running:
        yield running


def proof_jwk(key, alg):
    """The public key as the proof's jwk header carries it: key members only."""
    jwk = public_jwk(public_der(key), alg)
    return {k: v for k, v in jwk.items() if k not in ("alg", "use", "kid")}


def proof(token_url, alg="ES256", key=None, header=None, **claims):
    """A DPoP proof for POST token_url; claims set to None are left out."""
    key = key or PROOF_KEYS[alg]
    body = {"jti": str(uuid.uuid4()), "htm": "POST", "htu": token_url, "iat": int(time.time())}
    body.update(claims)
    head = {"typ": "dpop+jwt", "alg": alg, "jwk": proof_jwk(PROOF_KEYS[alg], alg), **(header or {})}
    return sign({k: v for k, v in head.items() if v is not None}, {k: v for k, v in body.items() if v is not None}, key)


def secret_form(client=JOB):
    return {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"], "audience": AUDIENCE}


@pytest.mark.parametrize("alg", ["ES256", "PS256", "RS256"])
def test_dpop_proof_binds_the_token_to_its_key(issuer, alg):
    url, log = issuer
    token_url = url + "oauth/token"
    status, headers, body = token_request(token_url, secret_form(), {"DPoP": proof(token_url, alg)})
    assert status == 200, body
    assert body["token_type"] == "DPoP"
    assert "DPoP-Nonce" not in headers
    claims = claims_of(body["access_token"])
    assert claims["cnf"] == {"jkt": thumbprint(proof_jwk(PROOF_KEYS[alg], alg))}
    assert (claims["sub"], claims["scope"]) == ("job-client@clients", "batch:upload")
    assert "client_auth=client_secret_post token_type=DPoP" in log.read_text()


def test_private_key_jwt_and_dpop_together(issuer):
    url, log = issuer
    token_url = url + "oauth/token"
    status, _, body = token_request(token_url, assertion_form(assertion(url)), {"DPoP": proof(token_url)})
    assert (status, body["token_type"]) == (200, "DPoP"), body
    assert claims_of(body["access_token"])["cnf"]["jkt"] == thumbprint(proof_jwk(PROOF_KEYS["ES256"], "ES256"))
    assert "client_auth=private_key_jwt token_type=DPoP" in log.read_text()


def test_without_a_proof_the_token_is_a_bearer_token(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", secret_form())
    assert (status, body["token_type"]) == (200, "Bearer")
    assert "cnf" not in claims_of(body["access_token"])


def test_htu_ignores_query_and_follows_the_path_the_request_used(issuer):
    url, _ = issuer
    with_query = proof(url + "oauth/token?x=1#f")
    assert token_request(url + "oauth/token", secret_form(), {"DPoP": with_query})[0] == 200
    # Scheme and host are case-insensitive (RFC 3986 §6.2.2.1).
    upper = proof(url.replace("http://", "HTTP://") + "oauth/token")
    assert token_request(url + "oauth/token", secret_form(), {"DPoP": upper})[0] == 200
    # oauth2-mock-server's alias path: the proof names the URL the request went to.
    assert token_request(url + "token", secret_form(), {"DPoP": proof(url + "token")})[0] == 200


@pytest.mark.parametrize(
    "changes, description",
    [
        ({"header": {"typ": "JWT"}}, "typ must be dpop+jwt"),
        ({"header": {"typ": None}}, "typ must be dpop+jwt"),
        ({"header": {"alg": "HS256"}, "key": b"shared-secret"}, "alg must be one of ES256, PS256, RS256"),
        ({"header": {"alg": "none"}}, "alg must be one of ES256, PS256, RS256"),
        ({"header": {"jwk": None}}, "jwk header must be a public key"),
        ({"header": {"jwk": "PRIVATE"}}, "jwk header must be a public key"),
        ({"key": OTHER_KEY}, "signature does not verify"),
        ({"htm": "GET"}, "htm must be POST"),
        ({"htu": "TOKEN_URL_OTHER_PATH"}, "htu must be"),
        ({"htu": "https://127.0.0.1/oauth/token"}, "htu must be"),
        ({"htu": None}, "lacks the 'htu' claim"),
        ({"jti": None}, "lacks the 'jti' claim"),
        ({"iat": None}, "lacks the 'iat' claim"),
        ({"iat": "now-301"}, "too old"),
        ({"iat": "now+60"}, "iat is in the future"),
    ],
    ids=[
        "typ-jwt", "no-typ", "hmac", "alg-none", "no-jwk", "private-jwk", "wrong-key", "htm-get",
        "htu-other-path", "htu-other-origin", "no-htu", "no-jti", "no-iat", "iat-old", "iat-ahead",
    ],
)
def test_bad_proof_is_invalid_dpop_proof(issuer, changes, description):
    url, _ = issuer
    token_url = url + "oauth/token"
    now = int(time.time())
    changes = {k: now + int(v[3:]) if isinstance(v, str) and v.startswith("now") else v for k, v in changes.items()}
    if changes.get("htu") == "TOKEN_URL_OTHER_PATH":
        changes["htu"] = url + "oauth/revoke"
    header = changes.get("header", {})
    if header.get("jwk") == "PRIVATE":
        numbers = PROOF_KEYS["ES256"].private_numbers()
        changes["header"] = {"jwk": {**proof_jwk(PROOF_KEYS["ES256"], "ES256"), "d": b64url(numbers.private_value.to_bytes(32, "big"))}}
    status, _, body = token_request(token_url, secret_form(), {"DPoP": proof(token_url, **changes)})
    assert (status, body["error"]) == (400, "invalid_dpop_proof"), body
    assert description in body["error_description"]


def test_not_a_jwt_is_invalid_dpop_proof(issuer):
    url, _ = issuer
    status, _, body = token_request(url + "oauth/token", secret_form(), {"DPoP": "not-a-jwt"})
    assert (status, body["error"]) == (400, "invalid_dpop_proof")


def test_replayed_proof_is_invalid_dpop_proof(issuer):
    url, _ = issuer
    token_url = url + "oauth/token"
    once = proof(token_url)
    assert token_request(token_url, secret_form(), {"DPoP": once})[0] == 200
    status, _, body = token_request(token_url, secret_form(), {"DPoP": once})
    assert (status, body["error"]) == (400, "invalid_dpop_proof")
    assert "used before (jti)" in body["error_description"]


def test_two_dpop_headers_are_invalid_dpop_proof(issuer):
    url, _ = issuer
    token_url = url + "oauth/token"
    status, body = token_request_with_header_lines(token_url, secret_form(), [("DPoP", proof(token_url)), ("DPoP", proof(token_url))])
    assert (status, body["error"], body["error_description"]) == (400, "invalid_dpop_proof", "Send exactly one DPoP header.")


def test_bad_client_is_refused_before_the_proof_is_read(issuer):
    url, _ = issuer
    form = {**secret_form(), "client_secret": "wrong"}
    status, _, body = token_request(url + "oauth/token", form, {"DPoP": "not-a-jwt"})
    assert (status, body["error"]) == (401, "invalid_client")


def test_dpop_bound_client_must_send_a_proof(issuer):
    url, _ = issuer
    token_url = url + "oauth/token"
    status, _, body = token_request(token_url, secret_form(BOUND))
    assert (status, body["error"], body["error_description"]) == (400, "invalid_request", "This client must send a DPoP proof.")
    status, _, body = token_request(token_url, secret_form(BOUND), {"DPoP": proof(token_url)})
    assert (status, body["token_type"]) == (200, "DPoP")


# --- Nonces (RFC 9449 §8) ----------------------------------------------------------------------


def demanded_nonce(answer):
    status, headers, body = answer
    assert (status, body["error"]) == (400, "use_dpop_nonce"), body
    assert body["error_description"] == "Authorization server requires nonce in DPoP proof."
    nonce = headers["DPoP-Nonce"]
    assert NONCE.match(nonce)
    return nonce


def test_nonce_is_demanded_then_accepted(nonce_issuer):
    url, _ = nonce_issuer
    token_url = url + "oauth/token"
    nonce = demanded_nonce(token_request(token_url, secret_form(), {"DPoP": proof(token_url)}))
    status, headers, body = token_request(token_url, secret_form(), {"DPoP": proof(token_url, nonce=nonce)})
    assert (status, body["token_type"]) == (200, "DPoP"), body
    # The next nonce comes with the answer (§8.2): here the same one, still fresh.
    assert headers["DPoP-Nonce"] == nonce
    assert token_request(token_url, secret_form(), {"DPoP": proof(token_url, nonce=nonce)})[0] == 200


def test_unknown_nonce_is_answered_with_a_valid_one(nonce_issuer):
    url, _ = nonce_issuer
    token_url = url + "oauth/token"
    nonce = demanded_nonce(token_request(token_url, secret_form(), {"DPoP": proof(token_url, nonce="made-up")}))
    assert nonce != "made-up"
    assert token_request(token_url, secret_form(), {"DPoP": proof(token_url, nonce=nonce)})[0] == 200


def test_a_proof_refused_for_its_nonce_is_not_used_up(nonce_issuer):
    url, _ = nonce_issuer
    token_url = url + "oauth/token"
    jti = str(uuid.uuid4())
    nonce = demanded_nonce(token_request(token_url, secret_form(), {"DPoP": proof(token_url, jti=jti)}))
    assert token_request(token_url, secret_form(), {"DPoP": proof(token_url, jti=jti, nonce=nonce)})[0] == 200


def test_retry_after_use_dpop_nonce_needs_a_new_client_assertion(nonce_issuer):
    url, _ = nonce_issuer
    token_url = url + "oauth/token"
    first = assertion(url)
    nonce = demanded_nonce(token_request(token_url, assertion_form(first), {"DPoP": proof(token_url)}))
    status, _, body = token_request(token_url, assertion_form(first), {"DPoP": proof(token_url, nonce=nonce)})
    assert (status, body["error"]) == (401, "invalid_client")
    assert "used before (jti)" in body["error_description"]
    status, _, body = token_request(token_url, assertion_form(assertion(url)), {"DPoP": proof(token_url, nonce=nonce)})
    assert (status, body["token_type"]) == (200, "DPoP"), body


def test_bearer_requests_need_no_nonce(nonce_issuer):
    url, _ = nonce_issuer
    status, headers, body = token_request(url + "oauth/token", secret_form())
    assert (status, body["token_type"]) == (200, "Bearer")
    assert "DPoP-Nonce" not in headers


def test_expired_nonce_is_replaced(tmp_path):
    with running_issuer(tmp_path, [JOB], ISSUER_DPOP_NONCE="required", ISSUER_DPOP_NONCE_TTL_SECONDS="1") as (url, _):
        token_url = url + "oauth/token"
        nonce = demanded_nonce(token_request(token_url, secret_form(), {"DPoP": proof(token_url)}))
        time.sleep(1.2)
        fresh = demanded_nonce(token_request(token_url, secret_form(), {"DPoP": proof(token_url, nonce=nonce)}))
        assert fresh != nonce
        assert token_request(token_url, secret_form(), {"DPoP": proof(token_url, nonce=fresh)})[0] == 200


def test_unknown_nonce_mode_stops_the_issuer(tmp_path):
    code, output = refused_start(tmp_path, [JOB], ISSUER_DPOP_NONCE="sometimes")
    assert code == 2
    assert "ISSUER_DPOP_NONCE must be `required` or `off`" in output
