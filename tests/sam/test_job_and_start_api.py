"""`sam local start-api` serving the template's HTTP API, and the job by `sam local invoke`
uploading through it, as `make invoke-job` runs them."""

import datetime

import requests
from sam_support import (
    EVENTS,
    JOB,
    SAMPLE_ENTRY,
    assert_sample_entry_stored,
    invoke,
    sam_inputs,
    timesheet_count,
    write_json,
)


def created_id(answer) -> int:
    """The id of the run's one timesheet, checking the job's answer as a user reads it."""
    assert isinstance(answer, dict) and "timesheets" in answer, answer
    assert answer["uploaded"] == 1, answer
    (created,) = answer["timesheets"]
    assert created["message"] == f"Created timesheet {created['id']} for employee 007."
    return created["id"]


def test_start_api_serves_the_upload_route(start_api, job_token, job_client_id):
    url = start_api.url + "/timesheets/upload"
    created = requests.post(url, json=SAMPLE_ENTRY, headers={"Authorization": f"Bearer {job_token}"}, timeout=60)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["message"] == f"Created timesheet {body['id']} for employee 007."
    assert_sample_entry_stored(body["id"], job_client_id)

    refused = requests.post(url, json=SAMPLE_ENTRY, timeout=60)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="timesheets"'


def test_job_with_events_schedule_json_uploads_through_start_api(start_api, job_client_id):
    invocation = invoke(JOB, EVENTS / "schedule.json", start_api.env_vars)
    timesheet_id = created_id(invocation.answer)
    assert_sample_entry_stored(timesheet_id, job_client_id)


def test_job_given_the_event_the_template_schedule_delivers_stores_it_once(files, start_api, job_client_id):
    run = sam_inputs.scheduled_run(datetime.datetime.now(datetime.timezone.utc))
    event = write_json(files / "scheduled-run.json", run)
    first = invoke(JOB, event, start_api.env_vars).answer
    timesheet_id = created_id(first)
    assert first["run_id"] == run["id"]
    assert_sample_entry_stored(timesheet_id, job_client_id)

    # Scheduler and Lambda retry a run with the same event: nothing is stored twice.
    before = timesheet_count()
    again = invoke(JOB, event, start_api.env_vars).answer
    assert created_id(again) == timesheet_id
    assert timesheet_count() == before
