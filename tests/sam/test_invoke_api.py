"""`sam local invoke` of the API function with the committed events, as `make invoke-api` runs it."""

from sam_support import API, EVENTS, assert_sample_entry_stored, http_answer, invoke, sam_inputs, timesheet_count, write_json


def test_upload_with_a_token_from_the_issuer_is_created_and_stored(files, env_vars, job_token, job_client_id):
    event = write_json(files / "upload.json", sam_inputs.upload_event(job_token))
    status, headers, body = http_answer(invoke(API, event, env_vars))
    assert status == 201, body
    assert headers["content-type"].startswith("application/json")
    timesheet_id = body["id"]
    assert body["message"] == f"Created timesheet {timesheet_id} for employee 007."
    assert_sample_entry_stored(timesheet_id, job_client_id)


def test_upload_without_a_token_is_401_with_the_bearer_challenge_and_stores_nothing(env_vars):
    before = timesheet_count()
    status, headers, body = http_answer(invoke(API, EVENTS / "upload-no-token.json", env_vars))
    assert status == 401, body
    # RFC 6750 §3: no credentials, so a challenge without an error code.
    assert headers["www-authenticate"] == 'Bearer realm="timesheets"'
    assert body["error"] == "missing_token"
    assert timesheet_count() == before
