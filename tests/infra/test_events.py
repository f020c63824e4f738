"""The committed events are real shapes and carry what the functions read."""

import base64
import json

import pytest
from infra_support import EVENTS, SAMPLE_ENTRY, load_event

EVENT_FILES = sorted(p.name for p in EVENTS.glob("*.json"))


def test_the_events_the_docs_and_makefile_name_exist():
    expected = {
        "env.json",
        "schedule.json",
        "scheduled-event.json",
        "scheduled-run.json",
        "upload-no-token.json",
        "upload.json",
    }
    assert expected <= set(EVENT_FILES)


def test_scheduled_run_is_the_schedule_input_with_a_run_id():
    event = load_event("scheduled-run.json")
    assert event["entries"] == [SAMPLE_ENTRY]
    # What Scheduler delivers once it has filled the template's context attributes.
    assert event["id"] == (
        "arn:aws:scheduler:us-east-1:123456789012:schedule/default/timesheets-job/2026-11-30T06:00:00Z"
    )


@pytest.mark.parametrize("name", EVENT_FILES)
def test_event_is_a_json_object(name):
    assert isinstance(load_event(name), dict)


@pytest.mark.parametrize("name", ["upload.json", "upload-no-token.json"])
def test_upload_is_an_http_api_v2_request_to_the_route(name):
    event = load_event(name)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /timesheets/upload"
    assert event["rawPath"] == "/timesheets/upload"
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/timesheets/upload"
    assert context["routeKey"] == "POST /timesheets/upload"
    assert context["stage"] == "$default"
    assert isinstance(context["timeEpoch"], int)
    # API Gateway lower-cases header names in payload v2.0.
    assert all(name == name.lower() for name in event["headers"])
    assert event["headers"]["content-type"] == "application/json"
    assert json.loads(event["body"]) == SAMPLE_ENTRY
    assert int(event["headers"]["content-length"]) == len(event["body"].encode("utf-8"))


def test_upload_carries_a_placeholder_bearer_token_only():
    headers = load_event("upload.json")["headers"]
    assert headers["authorization"] == "Bearer REPLACE_WITH_ACCESS_TOKEN"


def test_upload_no_token_differs_only_by_the_authorization_header():
    with_token = load_event("upload.json")
    without = load_event("upload-no-token.json")
    assert "authorization" not in without["headers"]
    del with_token["headers"]["authorization"]
    del with_token["requestContext"]["requestId"], without["requestContext"]["requestId"]
    assert with_token == without


def test_no_event_holds_a_jwt():
    for name in EVENT_FILES:
        text = (EVENTS / name).read_text(encoding="utf-8")
        for word in text.replace('"', " ").split():
            parts = word.split(".")
            if len(parts) == 3 and all(len(p) > 8 for p in parts):
                header = parts[0] + "=" * (-len(parts[0]) % 4)
                with pytest.raises(Exception):
                    json.loads(base64.urlsafe_b64decode(header))


def test_schedule_input_is_one_line_with_one_entry():
    # Its entry is the sample's one definition (functions/job/tests/events.rs checks it), and
    # the other tests read the sample from here.
    assert load_event("schedule.json") == {"entries": [SAMPLE_ENTRY]}
    assert len((EVENTS / "schedule.json").read_text(encoding="utf-8").strip().splitlines()) == 1


def test_scheduled_event_is_an_eventbridge_envelope():
    event = load_event("scheduled-event.json")
    assert sorted(event) == sorted(
        ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    )
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["resources"][0].startswith("arn:aws:events:" + event["region"] + ":" + event["account"] + ":rule/")
    assert event["time"].endswith("Z")


def test_env_json_sets_exactly_the_variables_each_function_declares(sam_template):
    env = load_event("env.json")
    # sam local runs the default parameters: the API's Managed Instances twin is not there.
    declared = {
        name: set(r["Properties"]["Environment"]["Variables"])
        for name, r in sam_template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function" and r.get("Condition") != "OnManagedInstances"
    }
    assert {name: set(values) for name, values in env.items()} == declared
    assert declared["TimesheetsApiFunction"] == {
        "AUTH_ISSUER", "AUTH_AUDIENCE", "TIMESHEETS_TABLE", "TIMESHEETS_ID_BLOCK_SIZE", "AUTH_DPOP",
        "AUTH_REQUIRE_AT_JWT", "AWS_ENDPOINT_URL"
    }
    assert declared["TimesheetsJobFunction"] == {
        "AUTH_ISSUER",
        "AUTH_AUDIENCE",
        "CREDENTIALS_SECRET_ID",
        "API_URL",
        "AUTH_CLIENT_AUTH",
        "AUTH_DPOP",
        "AUTH_SIGNING_KEY_ID",
        "AUTH_ASSERTION_ALG",
        "AUTH_ASSERTION_KID",
        "AUTH_ASSERTION_AUDIENCE",
        "AUTH_TOKEN_SEND_AUDIENCE",
        "AUTH_TOKEN_RESOURCE",
        "AUTH_TOKEN_SCOPE",
        "AWS_ENDPOINT_URL",
    }


# Blank is unset for the functions: the job needs these only with private_key_jwt.
PRIVATE_KEY_JWT_ONLY = {"AUTH_SIGNING_KEY_ID", "AUTH_ASSERTION_ALG", "AUTH_ASSERTION_KID", "AUTH_ASSERTION_AUDIENCE"}
# Only local stand-ins set it (docs/sam-local.md); blank, the SDK uses the AWS endpoints.
STAND_INS_ONLY = {"AWS_ENDPOINT_URL"}
# Blank is Auth0's token request: no RFC 8707 resource, no scope.
OTHER_ISSUERS_ONLY = {"AUTH_TOKEN_RESOURCE", "AUTH_TOKEN_SCOPE"}


def test_env_json_values_are_placeholders_of_the_right_form():
    env = load_event("env.json")
    for function in env.values():
        assert function["AUTH_ISSUER"] == "https://YOUR_DOMAIN.auth0.com/"
        assert function["AUTH_AUDIENCE"] == "https://api.exampleco.com/timesheets"
        assert all(isinstance(v, str) and (v or k in PRIVATE_KEY_JWT_ONLY | STAND_INS_ONLY | OTHER_ISSUERS_ONLY) for k, v in function.items())
        assert function["AWS_ENDPOINT_URL"] == ""
    assert env["TimesheetsJobFunction"]["AUTH_CLIENT_AUTH"] == "client_secret_post"
    assert env["TimesheetsApiFunction"]["TIMESHEETS_TABLE"].startswith("REPLACE_WITH_")
    assert env["TimesheetsJobFunction"]["CREDENTIALS_SECRET_ID"].startswith("REPLACE_WITH_")
    assert env["TimesheetsJobFunction"]["API_URL"].startswith("https://")
    assert not env["TimesheetsJobFunction"]["API_URL"].endswith("/")
