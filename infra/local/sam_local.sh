#!/usr/bin/env bash
# `sam local` on the local stand-ins: the functions `sam build` built (infra/.aws-sam/build),
# in the Lambda image, against moto and the issuer of infra/local/stack.sh. No AWS account.
#
# Usage: infra/local/sam_local.sh invoke-api|invoke-job|start-api|test
#   invoke-api  sam local invoke of the API function with events/upload.json carrying a token
#               from the local issuer; prints its answer and the stored rows
#   invoke-job  sam local start-api in the background, then sam local invoke of the job with
#               events/schedule.json, which uploads through it; prints the answer and the rows
#   start-api   sam local start-api on http://127.0.0.1:3000 until interrupted
#   test        make build, then the tests of tests/sam (the invoke image is prepared meanwhile)
#
# Each sets up, and tears down on exit (also on failure): a Docker engine
# (docker_engine.sh), the image (invoke_image.sh: the official one, or a local stand-in with
# --invoke-image/--skip-pull-image where none can be pulled) and the stand-ins (stack.sh up).
# The containers reach the stand-ins through the docker bridge gateway, named localhost in
# them (--add-host): the functions take plain http to a loopback host only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/local"
STATE="$ROOT/.local"
WORK="$STATE/sam"
BUILT_TEMPLATE="$ROOT/infra/.aws-sam/build/template.yaml"
VENV="$ROOT/.venv"
PYTHON="$VENV/bin/python"
API_FUNCTION=TimesheetsApiFunction
JOB_FUNCTION=TimesheetsJobFunction
START_API_TIMEOUT="${SAM_START_API_TIMEOUT:-180}"

export PATH="$VENV/bin:$PATH"
export SAM_CLI_TELEMETRY=0

log() { echo "sam local: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

image_job=""
started_api=""
started_engine=0
teardown() {
  local rc=$?
  # Its own session: the signal reaches debootstrap and docker too.
  if [[ -n "$image_job" ]] && kill -0 "$image_job" 2> /dev/null; then
    kill -TERM -- "-$image_job" 2> /dev/null || true
  fi
  # As Ctrl-C does: SAM then removes its warm containers.
  if [[ -n "$started_api" ]] && kill -INT "$started_api" 2> /dev/null; then
    local deadline=$((SECONDS + 60))
    while kill -0 "$started_api" 2> /dev/null && ((SECONDS < deadline)); do
      sleep 0.5
    done
    kill -TERM "$started_api" 2> /dev/null || true
  fi
  bash "$HERE/stack.sh" down || true
  if ((started_engine)); then
    bash "$HERE/docker_engine.sh" down || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}

require_build() {
  [[ -f "$BUILT_TEMPLATE" ]] || fail "no sam build output (infra/.aws-sam/build): run make build"
}

# The engine, then the image in the background (so `test` can build meanwhile).
engine_and_image() {
  local arch
  arch="$("$PYTHON" "$HERE/sam_inputs.py" architecture)"
  bash "$HERE/docker_engine.sh" up "$arch"
  started_engine="$(. "$STATE/docker.env" && echo "$DOCKER_STARTED")"
  mkdir -p "$WORK"
  setsid bash "$HERE/invoke_image.sh" "$arch" > "$WORK/image" &
  image_job=$!
}

# The stand-ins, listening on the gateway too where it is the host's, and SAM_LOCAL_ARGS for
# every `sam local` command, run from infra/ (no value in it holds a space).
stand_ins() {
  wait "$image_job" || fail "no image to run the functions in"
  local image host_address extra_address=""
  image="$(cat "$WORK/image")"
  # shellcheck disable=SC1091
  . "$STATE/docker.env"
  if ((DOCKER_GATEWAY_IS_LOCAL)); then
    host_address="$DOCKER_GATEWAY"
    extra_address="$DOCKER_GATEWAY"
    # Where start-api listens for the job's container to reach it.
    export SAM_LOCAL_API_ADDRESS="$DOCKER_GATEWAY"
  else
    # Docker Desktop: host-gateway reaches the host's own loopback.
    host_address=host-gateway
    export SAM_LOCAL_API_ADDRESS=127.0.0.1
  fi
  (export STACK_EXTRA_ADDRESS="$extra_address" STACK_LAMBDA=0 && bash "$HERE/stack.sh" up)
  SAM_LOCAL_ARGS="--template-file .aws-sam/build/template.yaml --add-host localhost:$host_address"
  SAM_LOCAL_ARGS+=" --container-host-interface 127.0.0.1"
  if [[ -n "$image" ]]; then
    SAM_LOCAL_ARGS+=" --invoke-image $image --skip-pull-image"
  fi
  export SAM_LOCAL_ARGS
}

# Runs "$@" with the stack's variables (the stand-ins' endpoints, the test clients).
# shellcheck disable=SC1091
with_stack() { (. "$STATE/stack.env" && exec "$@"); }

# `sam local ...` from infra/ with no variable a function declares taken from this shell:
# each function's environment is the template's plus the --env-vars file. The subshell
# becomes sam (exec), so `sam_local ... &` would not give sam's pid: see start_api_in_background.
sam_local() {
  # shellcheck disable=SC1091
  (cd "$ROOT/infra" && . "$STATE/stack.env" && exec "$PYTHON" "$HERE/sam_inputs.py" exec -- sam local "$@")
}

show_rows() {
  echo "== rows in the local table"
  with_stack "$PYTHON" "$HERE/show_rows.py"
}

start_api_in_background() {
  local address="$1" port="$2" log_file="$STATE/logs/sam-start-api.log"
  # One subshell that becomes sam, so $! is sam's pid. LAZY: one container, made at the first
  # request and kept warm (EAGER leaves one behind at shutdown in SAM CLI 1.170).
  # shellcheck disable=SC1091,SC2086 # SAM_LOCAL_ARGS is a list of words
  (cd "$ROOT/infra" && . "$STATE/stack.env" &&
    exec "$PYTHON" "$HERE/sam_inputs.py" exec -- sam local start-api --host "$address" --port "$port" \
      --warm-containers LAZY --env-vars "$WORK/env.json" $SAM_LOCAL_ARGS) > "$log_file" 2>&1 &
  started_api=$!
  log "waiting for sam local start-api on http://$address:$port (.local/logs/sam-start-api.log)"
  local deadline=$((SECONDS + START_API_TIMEOUT))
  until "$PYTHON" -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
    "$address" "$port" 2> /dev/null; do
    kill -0 "$started_api" 2> /dev/null || fail "sam local start-api exited: see $log_file"
    ((SECONDS < deadline)) || fail "sam local start-api did not listen within ${START_API_TIMEOUT}s"
    sleep 1
  done
}

free_port() {
  "$PYTHON" -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

invoke_api() {
  with_stack "$PYTHON" "$HERE/sam_inputs.py" env-vars "$WORK/env.json"
  with_stack "$PYTHON" "$HERE/sam_inputs.py" upload "$WORK/upload.json"
  echo "== answer of $API_FUNCTION (events/upload.json with a token from the local issuer)"
  # shellcheck disable=SC2086
  sam_local invoke "$API_FUNCTION" -e "$WORK/upload.json" --env-vars "$WORK/env.json" $SAM_LOCAL_ARGS
  echo
  show_rows
}

invoke_job() {
  local port
  port="$(free_port "$SAM_LOCAL_API_ADDRESS")"
  with_stack "$PYTHON" "$HERE/sam_inputs.py" env-vars "$WORK/env.json" --api-url "http://localhost:$port"
  start_api_in_background "$SAM_LOCAL_API_ADDRESS" "$port"
  echo "== answer of $JOB_FUNCTION (events/schedule.json)"
  # shellcheck disable=SC2086
  sam_local invoke "$JOB_FUNCTION" -e "$ROOT/events/schedule.json" --env-vars "$WORK/env.json" $SAM_LOCAL_ARGS
  echo
  show_rows
}

start_api() {
  with_stack "$PYTHON" "$HERE/sam_inputs.py" env-vars "$WORK/env.json"
  cat >&2 << 'EOF'
sam local: serving POST http://127.0.0.1:3000/timesheets/upload until Ctrl-C. In another shell:
  . .local/stack.env
  TOKEN=$(curl -s "${AUTH_ISSUER}oauth/token" -d grant_type=client_credentials \
    -d audience="$AUTH_AUDIENCE" -d client_id="$TEST_JOB_CLIENT_ID" \
    --data-urlencode client_secret="$TEST_JOB_CLIENT_SECRET" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  curl -si http://127.0.0.1:3000/timesheets/upload -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d '{"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5}'
EOF
  # shellcheck disable=SC2086
  sam_local start-api --host 127.0.0.1 --port 3000 --env-vars "$WORK/env.json" $SAM_LOCAL_ARGS
}

run_tests() {
  with_stack "$PYTHON" -m pytest -q -p no:cacheprovider "$ROOT/tests/sam"
}

command="${1:-}"
case "$command" in
  invoke-api | invoke-job | start-api | test) ;;
  *)
    echo "usage: $0 invoke-api|invoke-job|start-api|test" >&2
    exit 2
    ;;
esac

trap teardown EXIT
engine_and_image
if [[ "$command" == test ]]; then
  make --no-print-directory -C "$ROOT" build
fi
require_build
stand_ins
case "$command" in
  invoke-api) invoke_api ;;
  invoke-job) invoke_job ;;
  start-api) start_api ;;
  test) run_tests ;;
esac
