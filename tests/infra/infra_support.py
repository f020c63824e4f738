"""Paths, the sample entry and offline loaders shared by the infra tests."""

import json
import os
from pathlib import Path

# The translator resolves AWS::Region while expanding; no AWS call is made.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TEMPLATE = INFRA / "template.yaml"
EVENTS = ROOT / "events"

SAMPLE_ENTRY = {
    "user_id": "007",
    "date": "2017-05-10T17:40:20.095Z",
    "project": "StoreZero",
    "hours": 5,
}


class OfflinePolicyLoader(ManagedPolicyLoader):
    """The translator knows AWSLambdaBasicExecutionRole itself; it never needs IAM here."""

    def __init__(self):  # no IAM client
        pass

    def load(self):
        return {}


def load_yaml(path: Path):
    return yaml_parse(path.read_text(encoding="utf-8"))


def load_event(name: str):
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def to_cloudformation(sam_template):
    """What SAM deploys, with CodeUri replaced as `sam package` would."""
    template = json.loads(json.dumps(sam_template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://example-bucket/example-key"
    return transform(template, {}, OfflinePolicyLoader())
