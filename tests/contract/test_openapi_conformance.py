"""The API's real answers on the local stack match `infra/openapi.yaml`.

schemathesis generates requests from the spec, valid (positive) and invalid (negative), in its
examples, coverage and fuzzing phases, sends them with a valid `batch:upload` token to the API
under `cargo lambda watch`, and checks every answer: a documented status, content type, headers
and body, never a 5xx, invalid data refused, valid data accepted, the token enforced. The
refusals schemathesis cannot reach (no token, a bad or under-scoped token, a body over 64 KiB, an
unknown path) are sent explicitly and checked against the spec the same way.
"""

import os
import uuid
from collections import Counter

import pytest
import schemathesis
from contract_support import SAMPLE_ENTRY, SPEC, access_token, bearer, stack_environment
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Fuzzing-phase examples (both modes); the examples and coverage phases add a bounded set of their own.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "150"))
# Fixed by default so a failure can be replayed; set CONTRACT_SEED to explore other inputs.
SEED = int(os.environ.get("CONTRACT_SEED", "5"))
# Valid batches are cut to this many entries (still valid: 1 to 98), to keep the run short. Invalid ones are sent whole, as the API must refuse them unstored.
POSITIVE_BATCH_CAP = 3

# What the run saw, for the summary test: (generation mode, status, error code) -> count.
OUTCOMES = Counter()
# Idempotency-Key (as the API reads it) -> body bytes first stored under it in this run.
STORED_KEYS = {}

# Loaded at collection (schemathesis' fixture-based loader fails on pytest 9), so the base URL comes
# from the environment here; without the stack the `stack` fixture fails each test before any call.
schema = schemathesis.openapi.from_path(
    SPEC,
    config=SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": os.environ.get("API_URL", "http://127.0.0.1:9/lambda-url/timesheets-api"),
            "request-timeout": 15,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"positive_data_acceptance": {"expected-statuses": ["201"]}},
        }
    ),
)
UPLOAD = schema["/timesheets/upload"]["POST"]


# retry_on=[]: a 401 must be reported, not papered over by fetching another token.
@schema.auth(retry_on=[])
class JobClientToken:
    """The job client's token (scope batch:upload), fetched once from the local issuer."""

    def get(self, case, ctx):
        stack = stack_environment()
        return access_token(stack, stack["TEST_JOB_CLIENT_ID"], stack["TEST_JOB_CLIENT_SECRET"])

    def set(self, case, data, ctx):
        # Hidden: pytest prints the case on a failure; schemathesis' curl line filters the header.
        case.headers = {**(case.headers or {}), "Authorization": bearer(data)}


def is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@schema.hook
def filter_case(ctx, case):
    """Leaves out what `cargo lambda watch` answers 500 itself, before the function runs, as it
    cannot put it into the Lambda event (header values outside ASCII, bodies that are not UTF-8)."""
    if not all(str(value).isascii() for value in (case.headers or {}).values()):
        return False
    return not (isinstance(case.body, bytes) and not is_utf8(case.body))


def key_as_read(headers):
    """The Idempotency-Key the API stores: trimmed, without Structured Field quotes."""
    value = headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value


def header(response, name):
    """A response header's first value (schemathesis keeps them lowercased, as lists)."""
    values = response.headers.get(name.lower())
    return values[0] if values else None


def record(mode, response):
    """Counts the answer; a malformed body is left to the schema checks to report."""
    error = None
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
    OUTCOMES[(mode, response.status_code, error)] += 1


@schema.parametrize()
def test_every_answer_is_documented_in_the_spec(case, stack):
    mode = case.meta.generation.mode
    if mode is GenerationMode.POSITIVE and isinstance(case.body, list) and len(case.body) > POSITIVE_BATCH_CAP:
        case.body = case.body[:POSITIVE_BATCH_CAP]
    response = case.call()
    record(mode.value, response)
    key = key_as_read(response.request.headers)
    if key is None or response.status_code != 422:
        if key is not None and response.status_code == 201:
            STORED_KEYS.setdefault(key, response.request.body)
        case.validate_response(response)
        return
    # 422 is documented for valid data whose key was stored with another body: check that it was.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    first = STORED_KEYS.get(key)
    if first is not None:
        assert first != response.request.body, f"422 although key {key!r} was stored with this very body"
        return
    # A key this run has not stored: it can only come from an earlier run against the same stack,
    # so the same body under a new key must be stored.
    case.headers["Idempotency-Key"] = str(uuid.uuid4())
    again = case.call()
    record(mode.value, again)
    assert again.status_code == 201, f"422 for key {key!r} unknown to this run, {again.status_code} under a new one"
    case.validate_response(again)


def explicit_call(headers=None, body=None, path=None):
    """One request outside generation, validated against the spec like the generated ones."""
    case = UPLOAD.Case(headers=headers or {}, body=body, media_type="application/json")
    if path is not None:
        case.path = path
    response = case.call()
    record("explicit", response)
    return case, response


def test_no_token_is_401_with_a_bare_challenge(stack):
    case, response = explicit_call(body=SAMPLE_ENTRY)
    assert response.status_code == 401
    assert header(response, "WWW-Authenticate") == 'Bearer realm="timesheets"'
    assert response.json()["error"] == "missing_token"
    case.validate_response(response)


def test_a_forged_token_is_401_invalid_token(stack, job_token):
    head, payload, signature = job_token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    case, response = explicit_call(headers={"Authorization": bearer(forged)}, body=SAMPLE_ENTRY)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in header(response, "WWW-Authenticate")
    case.validate_response(response)


def test_a_malformed_authorization_header_is_400_invalid_request(stack):
    case, response = explicit_call(headers={"Authorization": "Bearer not a token"}, body=SAMPLE_ENTRY)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    case.validate_response(response)


def test_a_token_without_batch_upload_is_403(stack, reader_token):
    case, response = explicit_call(headers={"Authorization": bearer(reader_token)}, body=SAMPLE_ENTRY)
    assert response.status_code == 403
    assert 'scope="batch:upload"' in header(response, "WWW-Authenticate")
    assert response.json()["error"] == "insufficient_scope"
    case.validate_response(response)


def test_a_body_over_64_kib_is_413(stack, job_token):
    body = [dict(SAMPLE_ENTRY, project="x" * 128)] * 100
    body = [dict(entry, user_id="u" * 64) for entry in body] * 3
    case, response = explicit_call(headers={"Authorization": bearer(job_token)}, body=body)
    assert len(response.request.body) > 64 * 1024
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    case.validate_response(response)


def test_an_unknown_path_is_404(stack, job_token):
    case, response = explicit_call(
        headers={"Authorization": bearer(job_token)}, body=SAMPLE_ENTRY, path="/timesheets/download"
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    # Validated against the upload operation's documented 404.
    case.path = "/timesheets/upload"
    case.validate_response(response)


def test_hours_too_small_to_store_are_a_400_naming_the_field(stack, job_token):
    # DynamoDB numbers stop at 1e-130: a body the store could not hold must be refused, not 503.
    case, response = explicit_call(headers={"Authorization": bearer(job_token)}, body=dict(SAMPLE_ENTRY, hours=5e-324))
    assert response.status_code == 400, response.status_code
    assert response.json()["error_description"] == "`hours` must be at least 0.01 (36 seconds)"
    case.validate_response(response)


def test_the_run_sent_valid_and_invalid_data(stack):
    """Guards against a run that generated nothing useful (e.g. every request refused for its token)."""
    seen = dict(OUTCOMES)
    assert sum(count for (mode, _, _), count in seen.items() if mode == "positive") >= MAX_EXAMPLES // 4, seen
    assert sum(count for (mode, _, _), count in seen.items() if mode == "negative") >= MAX_EXAMPLES // 4, seen
    assert ("positive", 201, None) in seen, seen
    for error in ("invalid_body", "invalid_idempotency_key"):
        assert ("negative", 400, error) in seen, seen
    assert ("negative", 405, "method_not_allowed") in seen, seen
    assert ("negative", 415, "unsupported_media_type") in seen, seen
