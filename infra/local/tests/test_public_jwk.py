"""public_jwk.py (`make public-jwk`) prints the public JWK of a KMS signing key: a key whose
signatures, made inside KMS, verify with what it prints; kid the RFC 7638 thumbprint."""

import json
import pathlib
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from jws_support import b64url_decode, kms_sign
from public_jwk import main as public_jwk_main
from public_jwk import public_jwk, thumbprint

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "public_jwk.py"
KEY_SPECS = {"RS256": "RSA_2048", "PS256": "RSA_2048", "ES256": "ECC_NIST_P256"}


@pytest.fixture(scope="module")
def kms(aws_client):
    return aws_client("kms")


@pytest.fixture
def run(aws_env, monkeypatch, capsys):
    """Runs the script's main against the emulator: (exit code, stdout, stderr)."""

    def run_main(*args, **env):
        for name in ("AUTH_SIGNING_KEY_ID", "AUTH_ASSERTION_ALG", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {**aws_env, **env}.items():
            monkeypatch.setenv(name, value)
        code = public_jwk_main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run_main


def signing_key(kms, spec):
    return kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]


def verifies(jwk: dict, jws: str) -> bool:
    """Verifies jws with the printed JWK alone (its numbers, not the DER KMS answered)."""
    signing_input, _, sig = jws.rpartition(".")
    sig = b64url_decode(sig)
    number = lambda member: int.from_bytes(b64url_decode(jwk[member]), "big")  # noqa: E731
    try:
        if jwk["kty"] == "RSA":
            key = rsa.RSAPublicNumbers(number("e"), number("n")).public_key()
            pad = padding.PKCS1v15() if jwk["alg"] == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
            key.verify(sig, signing_input.encode(), pad, hashes.SHA256())
        else:
            key = ec.EllipticCurvePublicNumbers(number("x"), number("y"), ec.SECP256R1()).public_key()
            der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def test_thumbprint_is_rfc7638_example():
    # RFC 7638 §3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
        "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcR"
        "wr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_printed_jwk_verifies_what_kms_signs(kms, run, alg):
    key = signing_key(kms, KEY_SPECS[alg])
    code, out, err = run("--key-id", key["KeyId"], "--alg", alg)
    assert code == 0, err
    jwk = json.loads(out)
    assert jwk["alg"] == alg and jwk["use"] == "sig"
    assert jwk["kid"] == thumbprint(jwk)
    assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()
    if alg == "ES256":
        assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
        assert len(b64url_decode(jwk["x"])) == len(b64url_decode(jwk["y"])) == 32
    else:
        assert jwk["kty"] == "RSA" and jwk["e"] == "AQAB"
        assert len(b64url_decode(jwk["n"])) == 256
    header = {"alg": alg, "kid": jwk["kid"]}
    assert verifies(jwk, kms_sign(kms, key["Arn"], header, {"iss": "job"}))
    other = signing_key(kms, KEY_SPECS[alg])
    assert not verifies(jwk, kms_sign(kms, other["Arn"], header, {"iss": "job"}))


def test_kid_is_stable_and_alg_follows_the_key_type(kms, run):
    key = signing_key(kms, "RSA_2048")
    first = json.loads(run("--key-id", key["KeyId"])[1])
    again = json.loads(run("--key-id", key["Arn"])[1])
    assert first == again
    assert first["alg"] == "RS256"
    ec_key = signing_key(kms, "ECC_NIST_P256")
    assert json.loads(run("--key-id", ec_key["KeyId"])[1])["alg"] == "ES256"


def test_key_and_alg_come_from_the_local_stack_environment(kms, run):
    key = signing_key(kms, "RSA_2048")
    code, out, err = run("--format", "jwks", AUTH_SIGNING_KEY_ID=key["Arn"], AUTH_ASSERTION_ALG="PS256")
    assert code == 0, err
    (jwk,) = json.loads(out)["keys"]
    assert jwk["alg"] == "PS256"


def test_pem_is_the_same_public_key(kms, run):
    key = signing_key(kms, "RSA_2048")
    jwk = json.loads(run("--key-id", key["KeyId"])[1])
    code, pem, _ = run("--key-id", key["KeyId"], "--format", "pem")
    assert code == 0 and pem.startswith("-----BEGIN PUBLIC KEY-----")
    der = serialization.load_pem_public_key(pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public_jwk(der) == jwk


def test_auth0_credential_body(kms, run):
    key = signing_key(kms, "RSA_2048")
    jwk = json.loads(run("--key-id", key["KeyId"], "--alg", "PS256")[1])
    code, out, err = run("--key-id", key["KeyId"], "--alg", "PS256", "--format", "auth0")
    assert code == 0, err
    body = json.loads(out)
    assert body["credential_type"] == "public_key"
    assert (body["alg"], body["kid"]) == ("PS256", jwk["kid"])
    assert body["pem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert body["name"].startswith("timesheets-job ")


def test_auth0_refuses_an_ec_credential(kms, run):
    key = signing_key(kms, "ECC_NIST_P256")
    code, out, err = run("--key-id", key["KeyId"], "--format", "auth0")
    assert (code, out) == (1, "")
    assert "Auth0 registers RS256, RS384, PS256 credentials, not ES256" in err


@pytest.mark.parametrize("spec,alg", [("RSA_2048", "ES256"), ("ECC_NIST_P256", "PS256")])
def test_alg_that_does_not_fit_the_key_is_an_error(kms, run, spec, alg):
    key = signing_key(kms, spec)
    code, out, err = run("--key-id", key["KeyId"], "--alg", alg)
    assert (code, out) == (1, "")
    assert f"not {alg}" in err


def test_unknown_key_and_encryption_key_are_errors(kms, run):
    code, _, err = run("--key-id", "alias/does-not-exist")
    assert code == 1 and "kms:GetPublicKey of alias/does-not-exist failed: NotFoundException" in err
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    code, _, err = run("--key-id", key["KeyId"])
    assert code == 1 and "is not a SIGN_VERIFY key" in err


def test_no_key_named_says_how_to_name_one(run):
    code, out, err = run()
    assert (code, out) == (1, "")
    assert "pass --stack-name or --key-id" in err


def test_stack_outputs_name_the_key_and_alg(kms, run, aws_client):
    key = signing_key(kms, "RSA_2048")
    cloudformation = aws_client("cloudformation")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "SigningKeyId": {"Value": key["KeyId"]},
            "ClientAssertionAlgorithm": {"Value": "PS256"},
        },
    }
    cloudformation.create_stack(StackName="pkjwt", TemplateBody=json.dumps(template))
    code, out, err = run("--stack-name", "pkjwt")
    assert code == 0, err
    assert json.loads(out)["alg"] == "PS256"
    cloudformation.create_stack(StackName="secret-only", TemplateBody=json.dumps({"Resources": template["Resources"]}))
    code, _, err = run("--stack-name", "secret-only")
    assert code == 1 and "no SigningKeyId output: deploy it with ClientAuthentication=private_key_jwt" in err


def test_command_line_prints_the_jwk(kms, aws_env):
    key = signing_key(kms, "ECC_NIST_P256")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--key-id", key["KeyId"]],
        env={"PATH": "/usr/bin:/bin", **aws_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kty"] == "EC"
