"""Client assertions (private_key_jwt, RFC 7523) for the issuer tests: keys, their registrations
with the issuer, and assertions signed with them."""

import time
import uuid

from issuer_support import ASSERTION_TYPE, AUDIENCE
from jws_support import new_key, public_der, sign
from public_jwk import public_jwk

KEYS = {alg: new_key(alg) for alg in ("RS256", "PS256", "ES256")}


def jwk_of(key, alg, **changes):
    jwk = public_jwk(public_der(key), alg)
    jwk.update(changes)
    return {k: v for k, v in jwk.items() if v is not None}


CLIENTS = {alg: {"client_id": f"pkjwt-{alg.lower()}", "jwks": {"keys": [jwk_of(KEYS[alg], alg)]}, "scope": "batch:upload"} for alg in KEYS}


def assertion(url, client=None, key=None, alg="RS256", header=None, **claims):
    """A client assertion as a client builds it; claims set to None are left out."""
    client = client or CLIENTS[alg]
    now = int(time.time())
    body = {"iss": client["client_id"], "sub": client["client_id"], "aud": url, "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
    body.update(claims)
    kid = client["jwks"]["keys"][0].get("kid") if "jwks" in client else None
    head = {"alg": alg, "typ": "JWT", "kid": kid, **(header or {})}
    return sign({k: v for k, v in head.items() if v is not None}, {k: v for k, v in body.items() if v is not None}, key or KEYS[alg])


def assertion_form(jwt, **extra):
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": jwt, "audience": AUDIENCE}
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}
