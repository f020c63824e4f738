"""Print the public half of the job's KMS signing key, to register it with the issuer.

The key is read with kms:GetPublicKey; the private key never leaves KMS. Which key:
  --stack-name NAME   the SigningKeyId and ClientAssertionAlgorithm outputs of a deployed stack
  --key-id ID         a KMS key id, key ARN or alias
  neither             AUTH_SIGNING_KEY_ID and AUTH_ASSERTION_ALG from the environment
                      (`make public-jwk` loads them from .local/stack.env when the local
                      stand-ins run and neither STACK_NAME nor KEY_ID is given)
AWS access goes through boto3's usual credential chain and honours AWS_ENDPOINT_URL.

Output (--format):
  jwk    one public JWK with kty, its key members, alg, use "sig" and kid (default)
  jwks   {"keys": [that JWK]}, as ISSUER_CLIENTS' `jwks` of the local issuer takes it
  pem    the SubjectPublicKeyInfo PEM, for Auth0 Dashboard > Applications > Credentials
  auth0  the body of Auth0's POST /api/v2/clients/{client_id}/credentials (Management API)

kid is the RFC 7638 JWK thumbprint (SHA-256, base64url): stable for a key, the same wherever
it is computed, and within Auth0's kid pattern [0-9a-zA-Z-_]{10,64}.
alg: RS256 (default for RSA keys) or PS256 for RSA_2048/3072/4096; ES256 for ECC_NIST_P256.
"""

import argparse
import base64
import hashlib
import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# JWS alg -> the KMS SigningAlgorithm that computes it (RFC 7518 §3.1).
KMS_SIGNING_ALGORITHMS = {
    "RS256": "RSASSA_PKCS1_V1_5_SHA_256",
    "PS256": "RSASSA_PSS_SHA_256",
    "ES256": "ECDSA_SHA_256",
}
# Auth0 registers public key credentials for these algorithms only.
AUTH0_ALGS = ("RS256", "RS384", "PS256")
FORMATS = ("jwk", "jwks", "pem", "auth0")


class SigningKeyError(Exception):
    """The key cannot be had or cannot sign the asked algorithm; the message says why."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint(value: int, length: int = 0) -> str:
    """RFC 7518 §6.2.1.2 / §6.3.1.1: big-endian, EC coordinates padded to the curve's size."""
    return b64url(value.to_bytes(max(length, (value.bit_length() + 7) // 8), "big"))


def thumbprint(jwk: dict) -> str:
    """RFC 7638 §3: SHA-256 of the required members, sorted, without whitespace."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_jwk(der: bytes, alg: str | None = None) -> dict:
    """The JWK of a DER SubjectPublicKeyInfo (what kms:GetPublicKey answers), with alg,
    use and kid. alg None picks RS256 for RSA and ES256 for P-256."""
    key = serialization.load_der_public_key(der)
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        jwk = {"kty": "RSA", "n": uint(numbers.n), "e": uint(numbers.e)}
        allowed = ("RS256", "PS256")
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        numbers = key.public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": uint(numbers.x, 32), "y": uint(numbers.y, 32)}
        allowed = ("ES256",)
    else:
        raise SigningKeyError("the key is neither RSA nor ECC_NIST_P256: no JWS algorithm of ours fits it")
    alg = alg or allowed[0]
    if alg not in allowed:
        raise SigningKeyError(f"a {jwk['kty']} key signs {' or '.join(allowed)}, not {alg}")
    return {**jwk, "alg": alg, "use": "sig", "kid": thumbprint(jwk)}


def read_public_key(kms, key_id: str) -> tuple[bytes, list[str]]:
    """(DER public key, the key's KMS signing algorithms)."""
    try:
        answer = kms.get_public_key(KeyId=key_id)
    except ClientError as err:
        error = err.response["Error"]
        raise SigningKeyError(f"kms:GetPublicKey of {key_id} failed: {error['Code']}: {error.get('Message', '')}") from None
    if answer.get("KeyUsage") != "SIGN_VERIFY":
        raise SigningKeyError(f"{key_id} is not a SIGN_VERIFY key (KeyUsage {answer.get('KeyUsage')})")
    return answer["PublicKey"], answer.get("SigningAlgorithms", [])


def stack_outputs(cloudformation, stack_name: str) -> tuple[str, str | None]:
    """(SigningKeyId, ClientAssertionAlgorithm) of a deployed stack."""
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as err:
        raise SigningKeyError(f"stack {stack_name}: {err.response['Error'].get('Message', '')}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "SigningKeyId" not in outputs:
        raise SigningKeyError(
            f"stack {stack_name} has no SigningKeyId output: deploy it with ClientAuthentication=private_key_jwt"
        )
    return outputs["SigningKeyId"], outputs.get("ClientAssertionAlgorithm")


def render(jwk: dict, der: bytes, fmt: str, client_name: str) -> str:
    if fmt == "jwk":
        return json.dumps(jwk, indent=2)
    if fmt == "jwks":
        return json.dumps({"keys": [jwk]}, indent=2)
    pem = serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    if fmt == "pem":
        return pem.rstrip("\n")
    if jwk["alg"] not in AUTH0_ALGS:
        raise SigningKeyError(f"Auth0 registers {', '.join(AUTH0_ALGS)} credentials, not {jwk['alg']}: use an RSA key")
    body = {
        "credential_type": "public_key",
        "name": f"{client_name} {jwk['kid'][:8]}",
        "pem": pem,
        "alg": jwk["alg"],
        "kid": jwk["kid"],
    }
    return json.dumps(body, indent=2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack-name", help="deployed stack whose SigningKeyId output names the key")
    source.add_argument("--key-id", help="KMS key id, key ARN or alias (default: $AUTH_SIGNING_KEY_ID)")
    parser.add_argument("--alg", choices=sorted(KMS_SIGNING_ALGORITHMS), help="JWS alg (default: $AUTH_ASSERTION_ALG, else by key type)")
    parser.add_argument("--format", choices=FORMATS, default="jwk")
    parser.add_argument("--name", default="timesheets-job", help="credential name prefix for --format auth0")
    args = parser.parse_args(argv)

    session = boto3.session.Session()
    try:
        alg = args.alg
        if args.stack_name:
            key_id, stack_alg = stack_outputs(session.client("cloudformation"), args.stack_name)
            alg = alg or stack_alg
        else:
            key_id = args.key_id or os.environ.get("AUTH_SIGNING_KEY_ID", "")
            alg = alg or os.environ.get("AUTH_ASSERTION_ALG") or None
        if not key_id:
            raise SigningKeyError(
                "no key: pass --stack-name or --key-id, or start the local stand-ins with "
                "AUTH_CLIENT_AUTH=private_key_jwt (make up)"
            )
        der, kms_algorithms = read_public_key(session.client("kms"), key_id)
        jwk = public_jwk(der, alg)
        if KMS_SIGNING_ALGORITHMS[jwk["alg"]] not in kms_algorithms:
            raise SigningKeyError(f"{key_id} cannot sign {KMS_SIGNING_ALGORITHMS[jwk['alg']]}")
        print(render(jwk, der, args.format, args.name))
    except SigningKeyError as err:
        print(f"public-jwk: {err}", file=sys.stderr)
        return 1
    except BotoCoreError as err:
        print(f"public-jwk: AWS call failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
