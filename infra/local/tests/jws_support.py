"""Compact JWS for the tests, with real keys: well-formed ones the way a client builds them, and
the malformed ones (alg none, HMAC) that a JWT library would refuse to make."""

import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

# JWS alg -> AWS KMS SigningAlgorithm.
KMS_ALGORITHMS = {"RS256": "RSASSA_PKCS1_V1_5_SHA_256", "PS256": "RSASSA_PSS_SHA_256", "ES256": "ECDSA_SHA_256"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segment(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def der_to_raw(der: bytes, size: int = 32) -> bytes:
    """ECDSA signature from DER (what KMS and OpenSSL give) to JWS's r||s (RFC 7518 §3.4)."""
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def signature(alg: str, key, data: bytes) -> bytes:
    """alg over data with a cryptography private key (bytes for HS256, None for none)."""
    if alg == "none":
        return b""
    if alg == "HS256":
        return hmac.new(key, data, hashlib.sha256).digest()
    if alg == "RS256":
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "RS384":
        return key.sign(data, padding.PKCS1v15(), hashes.SHA384())
    if alg == "PS256":
        return key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    if alg == "ES256":
        return der_to_raw(key.sign(data, ec.ECDSA(hashes.SHA256())))
    raise ValueError(alg)


def sign(header: dict, claims: dict, key) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64url(signature(header['alg'], key, signing_input.encode()))}"


def kms_sign(kms, key_id: str, header: dict, claims: dict) -> str:
    """The real path: the private key stays in KMS, which signs the JWS signing input."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    answer = kms.sign(
        KeyId=key_id,
        Message=signing_input.encode(),
        MessageType="RAW",
        SigningAlgorithm=KMS_ALGORITHMS[header["alg"]],
    )
    raw = answer["Signature"]
    if header["alg"] == "ES256":
        raw = der_to_raw(raw)
    return f"{signing_input}.{b64url(raw)}"


def new_key(alg: str):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_der(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def claims_of(jwt: str) -> dict:
    return json.loads(b64url_decode(jwt.split(".")[1]))
