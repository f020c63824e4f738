"""The OpenAPI description agrees with the product's contract and the committed events."""

import json
import re
from datetime import datetime

import pytest
from infra_support import INFRA, SAMPLE_ENTRY, load_event, load_yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC = load_yaml(INFRA / "openapi.yaml")
OPERATION = SPEC["paths"]["/timesheets/upload"]["post"]

# jsonschema checks date-time only with an optional package; check RFC 3339 here instead.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
FORMATS = FormatChecker([])


@FORMATS.checks("date-time", raises=ValueError)
def is_rfc3339(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def validator(schema_name):
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(SPEC))
    schema = {"$ref": "urn:openapi#/components/schemas/" + schema_name}
    return Draft202012Validator(schema, registry=registry, format_checker=FORMATS)


def test_is_openapi_3_1_with_the_one_operation():
    assert SPEC["openapi"].startswith("3.1.")
    assert list(SPEC["paths"]) == ["/timesheets/upload"]
    assert list(SPEC["paths"]["/timesheets/upload"]) == ["post"]


def test_security_is_client_credentials_with_batch_upload_as_bearer_or_dpop():
    schemes = SPEC["components"]["securitySchemes"]
    scheme = schemes["oauth2"]
    assert scheme["type"] == "oauth2"
    flow = scheme["flows"]["clientCredentials"]
    assert flow["tokenUrl"].startswith("https://")
    assert list(flow["scopes"]) == ["batch:upload"]
    # RFC 9449 §7.1: the DPoP authentication scheme, as registered with IANA.
    assert (schemes["dpop"]["type"], schemes["dpop"]["scheme"]) == ("http", "DPoP")
    alternatives = [{"oauth2": ["batch:upload"]}, {"dpop": ["batch:upload"]}]
    assert OPERATION["security"] == alternatives
    assert SPEC["security"] == alternatives


def test_the_committed_upload_body_is_valid():
    body = json.loads(load_event("upload.json")["body"])
    validator("TimesheetEntry").validate(body)
    validator("TimesheetEntry").validate(OPERATION["requestBody"]["content"]["application/json"]["example"])


@pytest.mark.parametrize(
    "change",
    [
        {"hours": 0},
        {"hours": -1},
        {"hours": 24.5},
        {"hours": "5"},
        {"user_id": 7},
        {"date": "10/05/2017"},
        {"date": "2017-05-10"},
        {"date": "2017-02-30T10:00:00Z"},
        {"extra": True},
    ],
)
def test_invalid_bodies_are_rejected(change):
    assert not validator("TimesheetEntry").is_valid({**SAMPLE_ENTRY, **change})


@pytest.mark.parametrize("missing", ["user_id", "date", "project", "hours"])
def test_every_field_is_required(missing):
    body = {k: v for k, v in SAMPLE_ENTRY.items() if k != missing}
    assert not validator("TimesheetEntry").is_valid(body)


def test_hours_bounds_are_exclusive_zero_inclusive_24():
    assert validator("TimesheetEntry").is_valid({**SAMPLE_ENTRY, "hours": 24})
    assert validator("TimesheetEntry").is_valid({**SAMPLE_ENTRY, "hours": 0.25})


def test_created_response_matches_the_product_message():
    created = {"message": "Created timesheet 1 for employee 007.", "id": 1}
    validator("Created").validate(created)
    assert OPERATION["responses"]["201"]["content"]["application/json"]["example"] == created
    assert not validator("Created").is_valid({"message": "Created timesheet 1 for employee 007."})


def test_error_statuses_and_auth_headers():
    responses = OPERATION["responses"]
    assert sorted(responses) == [
        "201", "400", "401", "403", "404", "405", "413", "415", "422", "429", "500", "503",
    ]
    assert responses["401"]["content"]["application/json"]["example"]["error"] == "invalid_token"
    assert responses["403"]["content"]["application/json"]["example"]["error"] == "insufficient_scope"
    for status in ("401", "403"):
        assert responses[status]["headers"]["WWW-Authenticate"] == {"$ref": "#/components/headers/WWW-Authenticate"}
    examples = SPEC["components"]["headers"]["WWW-Authenticate"]["examples"]
    assert examples["noToken"]["value"] == 'Bearer realm="timesheets"'
    assert 'scope="batch:upload"' in examples["insufficientScope"]["value"]
    # Both challenges in one value (RFC 9110 §11.6.1): the HTTP API passes one value per name.
    assert examples["noTokenDpopAllowed"]["value"] == 'Bearer realm="timesheets", DPoP algs="ES256 PS256 RS256"'
    assert examples["noTokenDpopRequired"]["value"] == 'DPoP algs="ES256 PS256 RS256"'
    for name in ("boundTokenAsBearer", "invalidDpopProof"):
        assert examples[name]["value"].startswith('DPoP algs="ES256 PS256 RS256", error="')
    validator("Error").validate({"error": "invalid_token", "error_description": "expired"})
    assert not validator("Error").is_valid({"error": "invalid_token"})


def test_a_batch_holds_1_to_98_entries_and_is_answered_per_entry():
    batch = OPERATION["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert {"$ref": "#/components/schemas/TimesheetBatch"} in batch
    assert validator("TimesheetBatch").is_valid([SAMPLE_ENTRY] * 98)
    assert not validator("TimesheetBatch").is_valid([])
    assert not validator("TimesheetBatch").is_valid([SAMPLE_ENTRY] * 99)
    assert not validator("TimesheetBatch").is_valid([SAMPLE_ENTRY, {**SAMPLE_ENTRY, "hours": 0}])
    answer = {
        "message": "Created 2 timesheets.",
        "timesheets": [
            {"id": 15, "message": "Created timesheet 15 for employee 007."},
            {"id": 16, "message": "Created timesheet 16 for employee 007."},
        ],
    }
    validator("CreatedBatch").validate(answer)
    assert not validator("Created").is_valid(answer)


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u00a0\u3000", "x" * 65])
def test_user_id_is_1_to_64_characters_not_only_white_space(text):
    assert not validator("TimesheetEntry").is_valid({**SAMPLE_ENTRY, "user_id": text})
    assert validator("TimesheetEntry").is_valid({**SAMPLE_ENTRY, "user_id": " 7" + "x" * 62})


def test_idempotency_conflicts_are_documented():
    parameter = SPEC["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == ("Idempotency-Key", "header", False)
    responses = OPERATION["responses"]
    # One transaction stores an upload with its key: no request is ever "still running".
    assert "409" not in responses
    assert responses["503"]["headers"]["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}
    assert responses["422"]["content"]["application/json"]["example"]["error"] == "idempotency_key_reused"
