#!/usr/bin/env bash
# Local stand-ins for `make run` and the end-to-end tests, all on 127.0.0.1:
#   moto (Secrets Manager + DynamoDB, through aws_server.py), the OAuth 2.0 issuer (issuer/issuer.mjs)
#   and `cargo lambda watch` (both functions, with function-URL emulation).
#
# Usage: infra/local/stack.sh install|up|down|status
#   install  Python tools into .venv and the issuer's npm packages, each only when its pin changed
#   up       install, build both functions, start the three services, seed, write .local/stack.env
#
# AUTH_CLIENT_AUTH (client_secret_post by default, client_secret_basic, private_key_jwt) picks how
# the job authenticates to the issuer. With private_key_jwt, `up` creates the job's signing key
# in moto's KMS (RSA_2048, or ECC_NIST_P256 for AUTH_ASSERTION_ALG=ES256; default RS256),
# registers its public JWK with the issuer instead of a secret, and writes AUTH_SIGNING_KEY_ID
# (key ARN), AUTH_ASSERTION_ALG and AUTH_ASSERTION_KID (RFC 7638 thumbprint) to stack.env.
# AUTH_DPOP (off, allowed, required) sets the API's DPoP mode; the job sends DPoP proofs
# unless it is off (both functions share one environment under cargo lambda watch).
# The issuer reads ISSUER_DPOP_NONCE (and ISSUER_DPOP_NONCE_TTL_SECONDS) from this environment;
# ISSUER_DPOP_NONCE also goes to stack.env, so the tests know whether the issuer demands nonces.
# With private_key_jwt no client has a secret: the reader client (scope batch:read) is registered
# with the JWKS of an ES256 key in moto's KMS too (TEST_READER_SIGNING_KEY in stack.env).
# Whatever the mode, a second `cargo lambda watch` serves both functions with private_key_jwt
# (the assertion client's RS256 key) and AUTH_DPOP=required, so the tests run that round trip
# without a second stack (TEST_DPOP_LAMBDA_PORT, TEST_DPOP_API_URL; log lambda-dpop.log).
#   down     stop exactly the processes `up` started (safe to repeat)
#   status   show what is running
#
# For `sam local` (infra/local/sam_local.sh), where SAM runs the functions in containers:
#   STACK_EXTRA_ADDRESS  moto and the issuer also listen on this address (the docker bridge
#                        gateway), and stack.env names them http://localhost:<port>: the functions
#                        take plain http only to a loopback host, and the containers map localhost
#                        to that address (--add-host) after their own loopback refuses the port
#   STACK_LAMBDA=0       no cargo lambda watch (nor its build): SAM stands in for Lambda
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/local"
STATE="$ROOT/.local"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
ENV_FILE="$STATE/stack.env"
VENV="$ROOT/.venv"
ISSUER_DIR="$HERE/issuer"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT="${STACK_START_TIMEOUT:-60}"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-10}"
EXTRA_ADDRESS="${STACK_EXTRA_ADDRESS:-}"
WITH_LAMBDA="${STACK_LAMBDA:-1}"

# Fixed names: the same in SAM, the docs and the tests.
AUDIENCE="https://api.exampleco.com/timesheets"
TABLE="Timesheets"
SECRET_ID="timesheets/job-credentials"
WRONG_SECRET_ID="timesheets/wrong-credentials"
JOB_CLIENT_ID="exampleco-timesheets-job"
READER_CLIENT_ID="exampleco-timesheets-reader"
# The tests' private_key_jwt client (assertion_client) and its secret, {"client_id"} only.
ASSERTION_CLIENT_ID="exampleco-timesheets-assertion"
ASSERTION_SECRET_ID="timesheets/assertion-credentials"
# The tests' client of the issuer's standards mode (RFC 8707 resource, requested scopes only):
# private_key_jwt with the assertion client's keys, so it has no secret in any mode.
RFC8707_CLIENT_ID="exampleco-timesheets-rfc8707"
READER_KEY_ALIAS="alias/timesheets-test-reader"
API_FUNCTION="timesheets-api"
JOB_FUNCTION="timesheets-job"

log() { echo "stack: $*" >&2; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

install_python() {
  local want have
  want="$(sha "$HERE/requirements.txt")"
  have="$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)"
  if [[ -x "$VENV/bin/python" && "$want" == "$have" ]]; then
    return 0
  fi
  log "installing Python tools into .venv (infra/local/requirements.txt changed)"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  echo "$want" > "$VENV/.requirements.sha256"
}

install_issuer() {
  local want have
  want="$(sha "$ISSUER_DIR/package-lock.json")"
  have="$(cat "$ISSUER_DIR/node_modules/.lock.sha256" 2>/dev/null || true)"
  if [[ "$want" == "$have" ]]; then
    return 0
  fi
  log "installing the issuer's npm packages (package-lock.json changed)"
  # The issuer runs on Node 20 although oauth2-mock-server 9 declares Node 22+: silence that warning.
  (cd "$ISSUER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$ISSUER_DIR/node_modules/.lock.sha256"
}

install() {
  install_python
  install_issuer
}

# N ports the kernel hands out for port 0: free now, and distinct as all are bound at once.
# Each is picked right before its server binds it, to keep the window for a clash short.
free_ports() {
  "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

new_secret() { "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))'; }

# start_time PID
# shellcheck source=infra/local/process.sh
. "$HERE/process.sh"

# Runs "$@" as the leader of a new session and process group, so `down` can signal the group.
start_service() {
  local name="$1" pid_tmp="$STATE/$1.pid" pid
  shift
  rm -f "$pid_tmp"
  # The inner shell writes its own pid: setsid may fork, and then $! would be the wrong one.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pid_tmp" "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
  for _ in $(seq 100); do
    [[ -s "$pid_tmp" ]] && break
    sleep 0.05
  done
  pid="$(cat "$pid_tmp" 2>/dev/null || true)"
  rm -f "$pid_tmp"
  if [[ -z "$pid" ]]; then
    fail_start "$name" "did not start"
  fi
  echo "$name $pid $(start_time "$pid" || echo 0)" >> "$PIDS"
}

pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$PIDS"; }

fail_start() {
  local name="$1" why="$2"
  log "$name $why. Last lines of .local/logs/$name.log:"
  tail -n 25 "$LOGS/$name.log" >&2 2>/dev/null || true
  exit 1
}

# Waits until "$@" succeeds; fails naming the service if its process died or the time ran out.
wait_until() {
  local name="$1" pid deadline
  shift
  pid="$(pid_of "$name")"
  deadline=$((SECONDS + START_TIMEOUT))
  until "$@" > /dev/null 2>&1; do
    if ! kill -0 "$pid" 2> /dev/null; then
      fail_start "$name" "exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      fail_start "$name" "did not answer within ${START_TIMEOUT}s"
    fi
    sleep 0.3
  done
}

# Any HTTP answer (even 404) means the server is up.
http_up() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass
PY
}

http_ok() {
  "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"
}

tcp_up() {
  "$VENV/bin/python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()' "$1"
}

# Every descendant of a process, by walking parent links (cargo lambda watch starts each
# function in a session of its own, out of reach of a signal to watch's group).
descendants() {
  ps -e -o pid= -o ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      found[root] = 1
      do {
        grew = 0
        for (i in pids) {
          p = pids[i]
          if (!(p in found) && (parent[p] in found)) { found[p] = 1; grew = 1 }
        }
      } while (grew)
      for (p in found) if (p != root) print p
    }'
}

# True while a live (not zombie) process is left in the process group.
group_alive() {
  ps -e -o pgid= -o stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

down() {
  if [[ ! -f "$PIDS" ]]; then
    log "nothing to stop"
    return 0
  fi
  local boot name pid started now tree=() targets=() p deadline
  boot="$(head -n 1 "$PIDS")"
  if [[ "$boot" != "boot $(cat /proc/sys/kernel/random/boot_id)" ]]; then
    log "the pid file is from an earlier boot: nothing of it can still run"
    rm -f "$PIDS"
    return 0
  fi
  while read -r name pid started; do
    [[ "$name" == boot ]] && continue
    now="$(start_time "$pid" || echo gone)"
    # A live leader with another start time is a new process that reused the pid: not ours.
    if [[ "$now" != gone && "$now" != "$started" ]]; then
      continue
    fi
    if ! group_alive "$pid"; then
      continue
    fi
    if [[ "$now" != gone ]]; then
      for p in $(descendants "$pid"); do
        tree+=("$p:$(start_time "$p" || echo gone)")
      done
    fi
    targets+=("$pid")
    kill -TERM -- "-$pid" 2> /dev/null || true
    log "stopping $name (pid $pid)"
  done < "$PIDS"

  deadline=$((SECONDS + STOP_TIMEOUT))
  for pid in "${targets[@]}"; do
    while group_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if group_alive "$pid"; then
      log "group $pid did not stop within ${STOP_TIMEOUT}s: killing it"
      kill -KILL -- "-$pid" 2> /dev/null || true
    fi
  done
  # Children in sessions of their own that outlived their parent.
  for p in "${tree[@]}"; do
    if [[ "$(start_time "${p%%:*}" || echo gone)" == "${p#*:}" ]]; then
      kill -KILL "${p%%:*}" 2> /dev/null || true
    fi
  done
  rm -f "$PIDS" "$ENV_FILE"
}

status() {
  if [[ ! -f "$PIDS" ]]; then
    echo "local stack: down"
    return 0
  fi
  local name pid started
  while read -r name pid started; do
    [[ "$name" == boot ]] && continue
    if [[ "$(start_time "$pid" || echo gone)" == "$started" ]]; then
      echo "$name: running (pid $pid)"
    else
      echo "$name: NOT running (see .local/logs/$name.log)"
    fi
  done < "$PIDS"
  if [[ -f "$ENV_FILE" ]]; then
    grep -E '^export (AWS_ENDPOINT_URL|AUTH_ISSUER|API_URL|LAMBDA_PORT)=' "$ENV_FILE" | sed 's/^export /  /'
  fi
}

# The value of NAME in test_env of `up`.
test_value() {
  local kv
  for kv in "${test_env[@]}"; do
    if [[ "${kv%%=*}" == "$1" ]]; then
      echo "${kv#*=}"
      return 0
    fi
  done
  return 1
}

on_up_exit() {
  local rc=$?
  if ((rc != 0)); then
    log "start-up failed: stopping what was started"
    down || true
  fi
  exit "$rc"
}

# The environment of the Python helpers that talk to moto at $1.
moto_env() {
  kms_env=(AWS_ENDPOINT_URL="$1" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true)
}

# A key for ALG ($2) in the KMS of moto at $1, made or reused under ALIAS ($3, default the job's),
# and its public JWK (kid: the RFC 7638 thumbprint). Sets key_arn and key_jwk.
kms_key() {
  local -a kms_env
  moto_env "$1"
  key_arn="$(env "${kms_env[@]}" "$VENV/bin/python" "$HERE/signing_key.py" "$2" ${3:+"$3"})"
  key_jwk="$(env "${kms_env[@]}" "$VENV/bin/python" "$HERE/public_jwk.py" --key-id "$key_arn" --alg "$2" --format jwk)"
}

# private_key_jwt: the job's key lives in moto's KMS and the issuer knows only its public JWK.
# Sets auth_env (for the functions and stack.env) and job_client (the issuer's entry) of `up`.
signing_key() {
  local alg="${AUTH_ASSERTION_ALG:-RS256}" key_arn key_jwk kid
  kms_key "$1" "$alg"
  kid="$("$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["kid"])' <<< "$key_jwk")"
  job_client="$(printf '{"client_id":"%s","jwks":{"keys":[%s]},"scope":"batch:upload"}' "$JOB_CLIENT_ID" "$key_jwk")"
  auth_env+=(AUTH_SIGNING_KEY_ID="$key_arn" AUTH_ASSERTION_ALG="$alg" AUTH_ASSERTION_KID="$kid")
  log "job signing key $key_arn ($alg, kid $kid) registered with the issuer"
}

# The tests' private_key_jwt client, whatever AUTH_CLIENT_AUTH is: registered with the JWKS of
# an RS256 and an ES256 key in moto's KMS and no secret. Sets assertion_client (the issuer's
# entry), and rfc8707_client, the standards-mode client with the same keys, and adds the keys'
# ARNs and that client's id to test_env of `up`.
assertion_client() {
  local alg key_arn key_jwk
  local -a jwks=()
  for alg in RS256 ES256; do
    kms_key "$1" "$alg" "alias/timesheets-test-$alg"
    jwks+=("$key_jwk")
    test_env+=("TEST_SIGNING_KEY_$alg=$key_arn")
  done
  assertion_client="$(printf '{"client_id":"%s","jwks":{"keys":[%s,%s]},"scope":"batch:upload"}' \
    "$ASSERTION_CLIENT_ID" "${jwks[0]}" "${jwks[1]}")"
  rfc8707_client="$(printf '{"client_id":"%s","jwks":{"keys":[%s,%s]},"scope":"batch:upload batch:read"}' \
    "$RFC8707_CLIENT_ID" "${jwks[0]}" "${jwks[1]}")"
  test_env+=("TEST_RFC8707_CLIENT_ID=$RFC8707_CLIENT_ID")
}

# The reader client (scope batch:read, for insufficient-scope tests). With private_key_jwt it is
# registered with the JWKS of an ES256 key in moto's KMS, so the stack holds no client secret;
# else with a new secret. Sets reader_client (the issuer's entry) and adds to test_env of `up`.
reader_client() {
  local key_arn key_jwk secret
  if [[ "${AUTH_CLIENT_AUTH:-}" == private_key_jwt ]]; then
    kms_key "$1" ES256 "$READER_KEY_ALIAS"
    reader_client="$(printf '{"client_id":"%s","jwks":{"keys":[%s]},"scope":"batch:read"}' "$READER_CLIENT_ID" "$key_jwk")"
    test_env+=("TEST_READER_SIGNING_KEY=$key_arn")
  else
    secret="$(new_secret)"
    reader_client="$(printf '{"client_id":"%s","client_secret":"%s","scope":"batch:read"}' "$READER_CLIENT_ID" "$secret")"
    test_env+=("TEST_READER_CLIENT_SECRET=$secret")
  fi
}

up() {
  case "${AUTH_CLIENT_AUTH:-client_secret_post}" in
    client_secret_post | client_secret_basic | private_key_jwt) ;;
    *)
      log "AUTH_CLIENT_AUTH must be client_secret_post, client_secret_basic or private_key_jwt"
      exit 2
      ;;
  esac
  case "${AUTH_DPOP:-off}" in
    off | allowed | required) ;;
    *)
      log "AUTH_DPOP must be off, allowed or required"
      exit 2
      ;;
  esac
  if [[ -f "$PIDS" ]]; then
    log "a previous local stack is recorded: stopping it first"
    down
  fi
  mkdir -p "$LOGS"
  rm -f "$ENV_FILE"
  install
  export PATH="$VENV/bin:$PATH"
  trap on_up_exit EXIT
  echo "boot $(cat /proc/sys/kernel/random/boot_id)" > "$PIDS"

  local ports moto_port issuer_port lambda_port dpop_port job_secret clients job_client url_host
  local assertion_client reader_client rfc8707_client
  local -a auth_env=() job_secret_env=() moto_hosts=(-H 127.0.0.1) test_env=()
  url_host=127.0.0.1
  if [[ -n "$EXTRA_ADDRESS" ]]; then
    moto_hosts+=(-H "$EXTRA_ADDRESS")
    url_host=localhost
  fi
  ports="$(free_ports 2)"
  read -r moto_port issuer_port <<< "$ports"
  job_secret="$(new_secret)"
  job_client="$(printf '{"client_id":"%s","client_secret":"%s","scope":"batch:upload"}' "$JOB_CLIENT_ID" "$job_secret")"
  job_secret_env=(TEST_JOB_CLIENT_SECRET="$job_secret")

  # The two quick services start while the functions compile.
  start_service moto python "$HERE/aws_server.py" "${moto_hosts[@]}" -p "$moto_port"
  if [[ -n "${AUTH_CLIENT_AUTH:-}" ]]; then
    auth_env=(AUTH_CLIENT_AUTH="$AUTH_CLIENT_AUTH")
  fi
  wait_until moto http_up "http://127.0.0.1:$moto_port/"
  if [[ "${AUTH_CLIENT_AUTH:-}" == private_key_jwt ]]; then
    signing_key "http://127.0.0.1:$moto_port"
    job_secret_env=()
  fi
  assertion_client "http://127.0.0.1:$moto_port"
  reader_client "http://127.0.0.1:$moto_port"
  clients="$(printf '[%s,%s,%s,%s]' "$job_client" "$reader_client" "$assertion_client" "$rfc8707_client")"
  local issuer="http://$url_host:$issuer_port/"
  (cd "$ISSUER_DIR" && export ISSUER_PORT="$issuer_port" ISSUER_CLIENTS="$clients" \
    ISSUER_URL="$issuer" ISSUER_EXTRA_ADDRESS="$EXTRA_ADDRESS" ISSUER_RFC8707_CLIENTS="$RFC8707_CLIENT_ID" &&
    start_service issuer node issuer.mjs)

  # watch builds lazily on the first invoke, which would then time out: build now, into the
  # same target/debug and with the same package selection as watch's `cargo run --bin`.
  if ((WITH_LAMBDA)); then
    log "building $API_FUNCTION and $JOB_FUNCTION"
    (cd "$ROOT" && cargo build --bin "$API_FUNCTION" --bin "$JOB_FUNCTION")
    ports="$(free_ports 2)"
    read -r lambda_port dpop_port <<< "$ports"
  fi

  local -a fn_env=(
    AWS_ENDPOINT_URL="http://$url_host:$moto_port"
    AWS_ACCESS_KEY_ID=test
    AWS_SECRET_ACCESS_KEY=test
    AWS_REGION=us-east-1
    AWS_DEFAULT_REGION=us-east-1
    AWS_EC2_METADATA_DISABLED=true
    AUTH_ISSUER="$issuer"
    AUTH_AUDIENCE="$AUDIENCE"
    TIMESHEETS_TABLE="$TABLE"
    CREDENTIALS_SECRET_ID="$SECRET_ID"
    RUST_LOG="${RUST_LOG:-info}"
    AWS_LAMBDA_LOG_LEVEL="${AWS_LAMBDA_LOG_LEVEL:-info}"
    "${auth_env[@]}"
  )
  test_env+=(
    TEST_ASSERTION_CLIENT_ID="$ASSERTION_CLIENT_ID"
    TEST_ASSERTION_SECRET_ID="$ASSERTION_SECRET_ID"
    TEST_JOB_CLIENT_ID="$JOB_CLIENT_ID"
    "${job_secret_env[@]}"
    TEST_READER_CLIENT_ID="$READER_CLIENT_ID"
    TEST_WRONG_SECRET_ID="$WRONG_SECRET_ID"
  )
  if [[ -n "${ISSUER_DPOP_NONCE:-}" ]]; then
    test_env+=(ISSUER_DPOP_NONCE="$ISSUER_DPOP_NONCE")
  fi
  if ((WITH_LAMBDA)); then
    fn_env+=(API_URL="http://127.0.0.1:$lambda_port/lambda-url/$API_FUNCTION")
    # The URL the job calls: cargo lambda's function URL, which the API cannot rebuild.
    fn_env+=(AUTH_DPOP_HTU="http://127.0.0.1:$lambda_port/lambda-url/$API_FUNCTION/timesheets/upload")
    test_env+=(LAMBDA_PORT="$lambda_port")
    test_env+=(TEST_DPOP_LAMBDA_PORT="$dpop_port")
    test_env+=(TEST_DPOP_API_URL="http://127.0.0.1:$dpop_port/lambda-url/$API_FUNCTION")
  fi
  # One AUTH_DPOP for both functions: the API's mode; the job sends proofs unless it is off.
  if [[ -n "${AUTH_DPOP:-}" ]]; then
    fn_env+=(AUTH_DPOP="$AUTH_DPOP")
  fi

  wait_until moto http_up "http://127.0.0.1:$moto_port/"
  wait_until issuer http_ok "${issuer}.well-known/openid-configuration"
  env "${fn_env[@]}" "${test_env[@]}" "$VENV/bin/python" "$HERE/seed.py"

  if ((WITH_LAMBDA)); then
    # The functions inherit watch's environment; watchexec's own info lines are noise.
    (cd "$ROOT" && export "${fn_env[@]}" && export RUST_LOG="$RUST_LOG,watchexec=warn" &&
      start_service lambda cargo-lambda lambda watch --ignore-changes \
        --invoke-address 127.0.0.1 --invoke-port "$lambda_port")
    # The same functions as private_key_jwt + DPoP-required: the job as the assertion client
    # (its secret holds {"client_id"} alone), the API taking DPoP-bound tokens only. Later
    # assignments win in env, so these override fn_env's.
    local -a dpop_env=(
      "${fn_env[@]}"
      AUTH_CLIENT_AUTH=private_key_jwt
      AUTH_SIGNING_KEY_ID="$(test_value TEST_SIGNING_KEY_RS256)"
      AUTH_ASSERTION_ALG=RS256
      # Empty is unset: the kid is the key's thumbprint, not that of the job's own key.
      AUTH_ASSERTION_KID=
      CREDENTIALS_SECRET_ID="$ASSERTION_SECRET_ID"
      AUTH_DPOP=required
      API_URL="http://127.0.0.1:$dpop_port/lambda-url/$API_FUNCTION"
      AUTH_DPOP_HTU="http://127.0.0.1:$dpop_port/lambda-url/$API_FUNCTION/timesheets/upload"
    )
    (cd "$ROOT" && export "${dpop_env[@]}" && export RUST_LOG="$RUST_LOG,watchexec=warn" &&
      start_service lambda-dpop cargo-lambda lambda watch --ignore-changes \
        --invoke-address 127.0.0.1 --invoke-port "$dpop_port")
    wait_until lambda tcp_up "$lambda_port"
    wait_until lambda-dpop tcp_up "$dpop_port"
  fi

  # Holds the test clients' secrets: readable by the owner only.
  (
    umask 077
    {
      for kv in "${fn_env[@]}" "${test_env[@]}"; do
        printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
      done
      # shellcheck disable=SC2016 # $PATH expands where the file is sourced
      printf 'export PATH=%q:"$PATH"\n' "$VENV/bin"
    } > "$ENV_FILE.tmp"
  )
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  trap - EXIT
  log "up: AWS at http://$url_host:$moto_port, issuer at $issuer${lambda_port:+, functions on port $lambda_port}${EXTRA_ADDRESS:+ (also listening on $EXTRA_ADDRESS)}"
  log "environment in .local/stack.env, logs in .local/logs/"
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 install|up|down|status" >&2
    exit 2
    ;;
esac
