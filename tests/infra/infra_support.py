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


# The scenario's sample entry as the job's schedule input carries it; the job's tests/events.rs
# checks every event file against the one definition, timesheets::entry::SAMPLE_ENTRY.
SAMPLE_ENTRY = load_event("schedule.json")["entries"][0]


def to_cloudformation(sam_template):
    """What SAM deploys, with CodeUri replaced as `sam package` would."""
    template = json.loads(json.dumps(sam_template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://example-bucket/example-key"
    return transform(template, {}, OfflinePolicyLoader())


NO_VALUE = {"Ref": "AWS::NoValue"}


def deployed(cfn, **parameters):
    """Resources and Outputs as CloudFormation creates them with these parameter values (the
    defaults for the rest): conditions decided, Fn::If resolved, AWS::NoValue dropped, and
    resources and outputs whose condition is false left out."""
    values = {name: p.get("Default") for name, p in cfn["Parameters"].items()}
    values.update(parameters)
    decided = {}

    def operand(node):
        return values[node["Ref"]] if isinstance(node, dict) and "Ref" in node else node

    def evaluate(node):
        ((function, args),) = node.items()
        if function == "Fn::Equals":
            return operand(args[0]) == operand(args[1])
        if function == "Fn::Not":
            return not evaluate(args[0])
        if function == "Fn::And":
            return all(evaluate(a) for a in args)
        if function == "Fn::Or":
            return any(evaluate(a) for a in args)
        if function == "Condition":
            return condition(args)
        raise ValueError(f"condition function {function}")

    def condition(name):
        if name not in decided:
            decided[name] = evaluate(cfn["Conditions"][name])
        return decided[name]

    def resolve(node):
        if node == NO_VALUE:
            return NO_VALUE
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, if_true, if_false = node["Fn::If"]
                return resolve(if_true if condition(name) else if_false)
            items = ((k, resolve(v)) for k, v in node.items())
            return {k: v for k, v in items if v != NO_VALUE}
        if isinstance(node, list):
            return [v for v in (resolve(item) for item in node) if v != NO_VALUE]
        return node

    def kept(section):
        return {k: v for k, v in cfn.get(section, {}).items() if "Condition" not in v or condition(v["Condition"])}

    return resolve({"Resources": kept("Resources"), "Outputs": kept("Outputs")})
