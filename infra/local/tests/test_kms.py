"""aws_server.py's KMS signs as AWS KMS does: a JWS signed through it verifies with the JWS
rules (PS256's salt as long as the digest, RFC 7518 §3.5), MessageType=DIGEST signs the digest
as given, and GetPublicKey names the key by ARN with its KeySpec."""

import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from jws_support import KMS_ALGORITHMS

MESSAGE = b"eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJqb2IifQ"
PSS_JWS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
KEY_SPECS = {"RS256": "RSA_2048", "PS256": "RSA_2048", "ES256": "ECC_NIST_P256"}


@pytest.fixture(scope="module")
def kms(aws_client):
    return aws_client("kms")


def jws_verify(public_key, alg, sig, message=MESSAGE):
    """Raises InvalidSignature unless sig is alg over message as JWS defines it."""
    if alg == "RS256":
        public_key.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        # Exactly 32 bytes of salt, as JWS verifiers (jose, WebCrypto) check it.
        public_key.verify(sig, message, PSS_JWS, hashes.SHA256())
    else:
        public_key.verify(sig, message, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
def test_kms_signature_verifies_as_jws(kms, alg, message_type):
    key = kms.create_key(KeySpec=KEY_SPECS[alg], KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    message = MESSAGE if message_type == "RAW" else hashlib.sha256(MESSAGE).digest()
    answer = kms.sign(KeyId=key["KeyId"], Message=message, MessageType=message_type, SigningAlgorithm=KMS_ALGORITHMS[alg])
    assert answer["KeyId"] == key["Arn"]
    assert answer["SigningAlgorithm"] == KMS_ALGORITHMS[alg]
    jws_verify(public_key, alg, answer["Signature"])
    # KMS's own Verify agrees, with the same message type.
    verified = kms.verify(
        KeyId=key["KeyId"],
        Message=message,
        MessageType=message_type,
        Signature=answer["Signature"],
        SigningAlgorithm=KMS_ALGORITHMS[alg],
    )
    assert verified["SignatureValid"] is True


def test_ecdsa_signature_is_der_as_on_aws(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    sig = kms.sign(KeyId=key["KeyId"], Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    # A DER SEQUENCE of two INTEGERs, not JWS's 64-byte r||s: at most 72 bytes, fewer when r or
    # s has leading zero bytes (about one signature in a hundred is under 70).
    assert sig[0] == 0x30 and sig[1] == len(sig) - 2 and len(sig) <= 72
    r, s = utils.decode_dss_signature(sig)
    assert r.bit_length() <= 256 and s.bit_length() <= 256


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256"])
def test_get_public_key_names_the_key_by_arn_with_its_spec(kms, spec):
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    answer = kms.get_public_key(KeyId=key["KeyId"])
    assert answer["KeyId"] == key["Arn"]
    assert answer["KeySpec"] == spec
    assert answer["KeyUsage"] == "SIGN_VERIFY"


def test_sign_with_an_algorithm_the_key_lacks_is_refused(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(ClientError) as err:
        kms.sign(KeyId=key["KeyId"], Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert err.value.response["Error"]["Code"] == "ValidationException"
