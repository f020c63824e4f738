"""What `sam local` reads for a run on the local stand-ins (`make up` with STACK_EXTRA_ADDRESS).

  env-vars OUT [--api-url URL]  events/env.json with the stand-ins' endpoints (AWS_ENDPOINT_URL:
                                moto) and resource names in place of its placeholders; the
                                job's API_URL is URL (`sam local start-api`) when given
  upload OUT                    events/upload.json carrying an access token of the job's client
                                from the local issuer (OUT is created owner-only)
  scheduled-run OUT             the event the template's schedule delivers: its Input with the
                                Scheduler context attributes filled in for a run now
  architecture                  the functions' architecture in the template (arm64, x86_64)
  exec -- COMMAND...            COMMAND (sam local ...) without any variable a function declares
                                in its environment: SAM would hand a shell value of such a
                                variable to the function, so only the --env-vars file counts

The stand-ins' values come from the environment (.local/stack.env). Only variables the
template declares reach a function (SAM's rule), so a misnamed one in the template shows.
"""

import argparse
import datetime
import json
import os
import signal
import sys
from pathlib import Path

import requests
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
EVENTS = ROOT / "events"
JOB_FUNCTION = "TimesheetsJobFunction"
TOKEN_PLACEHOLDER = "REPLACE_WITH_ACCESS_TOKEN"
# Region and account SAM local reports (AWS_REGION, AWS_ACCOUNT_ID) and the stand-ins use.
REGION = "us-east-1"
ACCOUNT = "123456789012"

# Function variables the stand-ins provide, by the .local/stack.env variable holding each value.
STAND_IN_VARIABLES = (
    "AUTH_ISSUER",
    "AWS_ENDPOINT_URL",
    "TIMESHEETS_TABLE",
    "CREDENTIALS_SECRET_ID",
)


def template() -> dict:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


def functions(resources: dict) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def architecture() -> str:
    """The one architecture of every function (Globals, or each function's own)."""
    parsed = template()
    default = parsed.get("Globals", {}).get("Function", {}).get("Architectures", ["x86_64"])
    found = {
        tuple(f["Properties"].get("Architectures", default)) for f in functions(parsed["Resources"]).values()
    }
    if len(found) != 1 or len(next(iter(found))) != 1:
        sys.exit(f"sam_inputs: the functions do not share one architecture: {sorted(found)}")
    return next(iter(found))[0]


def sam_environment(environ: dict) -> dict:
    """`environ` without any variable a function of the template declares."""
    declared = set()
    for function in functions(template()["Resources"]).values():
        declared |= set(function["Properties"].get("Environment", {}).get("Variables", {}))
    return {name: value for name, value in environ.items() if name not in declared}


def stack_value(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"sam_inputs: {name} is not set: source .local/stack.env (make up) first")
    return value


def env_vars(api_url: str | None) -> dict:
    """{function logical id: {variable: value}} for `sam local --env-vars`."""
    stand_ins = {name: stack_value(name) for name in STAND_IN_VARIABLES}
    if api_url:
        stand_ins["API_URL"] = api_url
    result = {}
    for function, variables in json.loads((EVENTS / "env.json").read_text()).items():
        result[function] = {name: stand_ins.get(name, value) for name, value in variables.items()}
    return result


def access_token() -> str:
    """A client-credentials token of the job's client (client_secret_post, Auth0's audience)."""
    response = requests.post(
        stack_value("AUTH_ISSUER") + "oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": stack_value("TEST_JOB_CLIENT_ID"),
            "client_secret": stack_value("TEST_JOB_CLIENT_SECRET"),
            "audience": stack_value("AUTH_AUDIENCE"),
        },
        timeout=10,
    )
    # The status only: the body holds the token.
    if response.status_code != 200:
        sys.exit(f"sam_inputs: token request answered HTTP {response.status_code}")
    return response.json()["access_token"]


def upload_event(token: str) -> dict:
    """events/upload.json with `token` as its bearer token."""
    text = (EVENTS / "upload.json").read_text()
    if TOKEN_PLACEHOLDER not in text:
        sys.exit(f"sam_inputs: events/upload.json has no {TOKEN_PLACEHOLDER}")
    return json.loads(text.replace(TOKEN_PLACEHOLDER, token))


def schedule_input() -> str:
    """The Input of the job's ScheduleV2 event in the template, as written."""
    events = template()["Resources"][JOB_FUNCTION]["Properties"]["Events"]
    (schedule,) = [e for e in events.values() if e["Type"] == "ScheduleV2"]
    return schedule["Properties"]["Input"]


def scheduled_run(now: datetime.datetime) -> dict:
    """What EventBridge Scheduler delivers at `now`: the Input with its context attributes
    <aws.scheduler.schedule-arn> and <aws.scheduler.scheduled-time> (RFC 3339, UTC) set.
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
    """
    arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/timesheets-TimesheetsJobFunctionSchedule"
    scheduled_time = now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (
        schedule_input()
        .replace("<aws.scheduler.schedule-arn>", arn)
        .replace("<aws.scheduler.scheduled-time>", scheduled_time)
    )
    return json.loads(text)


def write_json(path: Path, value, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(value, out, indent=2)
    else:
        path.write_text(json.dumps(value, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env-vars")
    env.add_argument("out", type=Path)
    env.add_argument("--api-url")
    commands.add_parser("upload").add_argument("out", type=Path)
    commands.add_parser("scheduled-run").add_argument("out", type=Path)
    commands.add_parser("architecture")
    run = commands.add_parser("exec")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "architecture":
        print(architecture())
    elif args.command == "exec":
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        # A shell ignores Ctrl-C for what it starts in the background, and exec keeps that:
        # sam stops on SIGINT (and then removes its containers) wherever it was started.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execvpe(argv[0], argv, sam_environment(dict(os.environ)))
    elif args.command == "env-vars":
        write_json(args.out, env_vars(args.api_url))
    elif args.command == "upload":
        write_json(args.out, upload_event(access_token()), private=True)
    else:
        write_json(args.out, scheduled_run(datetime.datetime.now(datetime.timezone.utc)))


if __name__ == "__main__":
    main()
