"""Create the job's client-assertion signing key in the local AWS emulator; print its ARN.

The local counterpart of the stack's ClientAssertionKey: an asymmetric SIGN_VERIFY KMS key,
RSA_2048 for RS256 and PS256, ECC_NIST_P256 for ES256. Reads AWS_ENDPOINT_URL (the emulator)
from the environment. Safe to run again: the key behind ALIAS is reused when its spec fits.

Usage: python signing_key.py ALG [ALIAS]   (RS256 | PS256 | ES256; ALIAS defaults to the job's)
"""

import os
import sys

import boto3
from botocore.exceptions import ClientError

ALIAS = "alias/timesheets-job-client-assertion"
KEY_SPECS = {"RS256": "RSA_2048", "PS256": "RSA_2048", "ES256": "ECC_NIST_P256"}


def ensure_key(kms, key_spec: str, alias: str = ALIAS) -> str:
    try:
        metadata = kms.describe_key(KeyId=alias)["KeyMetadata"]
        if metadata["KeySpec"] == key_spec and metadata["KeyState"] == "Enabled":
            return metadata["Arn"]
        kms.delete_alias(AliasName=alias)
    except ClientError as err:
        if err.response["Error"]["Code"] != "NotFoundException":
            raise
    metadata = kms.create_key(
        KeySpec=key_spec,
        KeyUsage="SIGN_VERIFY",
        Description="Signs the timesheets job's private_key_jwt client assertions (local).",
    )["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
    return metadata["Arn"]


def main() -> None:
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in KEY_SPECS:
        sys.exit(f"usage: signing_key.py {'|'.join(KEY_SPECS)} [ALIAS]")
    if not os.environ.get("AWS_ENDPOINT_URL"):
        sys.exit("signing_key: AWS_ENDPOINT_URL must name the local emulator")
    kms = boto3.session.Session().client("kms")
    print(ensure_key(kms, KEY_SPECS[sys.argv[1]], *sys.argv[2:]))


if __name__ == "__main__":
    main()
