#!/usr/bin/env bash
# The Docker engine `sam local` runs the functions in, and emulation of their architecture.
#
# Usage: infra/local/docker_engine.sh up ARCH|down
#   up ARCH  use the engine that answers; if none does, start dockerd (as root, installing
#            Debian's docker.io first if it is missing). On a Linux host of another
#            architecture, make sure the kernel runs ARCH (arm64 or x86_64) binaries through
#            qemu-user-static (binfmt_misc), installing and registering it as root if needed.
#            Writes .local/docker.env: DOCKER_GATEWAY, the bridge gateway address containers
#            reach the host on, DOCKER_GATEWAY_IS_LOCAL=1 when the host owns that address
#            (Docker Engine on Linux), 0 when the engine runs in a VM (Docker Desktop, where
#            DOCKER_GATEWAY may be host-gateway, Docker's name for the host), and
#            DOCKER_STARTED=1 when this call started dockerd, else 0.
#   down     stop the dockerd an `up` started (by its pid), else nothing (safe to repeat). Only
#            the caller whose `up` said DOCKER_STARTED=1 calls it: others may share the engine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.local"
LOGS="$STATE/logs"
PID_FILE="$STATE/dockerd.pid"
ENV_FILE="$STATE/docker.env"
START_TIMEOUT="${DOCKER_START_TIMEOUT:-60}"
STOP_TIMEOUT="${DOCKER_STOP_TIMEOUT:-30}"

log() { echo "docker: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

engine_answers() { docker info > /dev/null 2>&1; }

# start_time PID
# shellcheck source=infra/local/process.sh
. "$(dirname "${BASH_SOURCE[0]}")/process.sh"

apt_install() {
  command -v apt-get > /dev/null || return 1
  log "installing $* from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null 2>&1 || {
    apt-get update -qq > /dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
  }
}

start_dockerd() {
  if ((EUID != 0)); then
    fail "no Docker engine answers: start Docker (Docker Desktop, or: sudo systemctl start docker)"
  fi
  if ! command -v dockerd > /dev/null; then
    apt_install docker.io || fail "no Docker engine and no apt-get to install docker.io: install Docker"
  fi
  mkdir -p "$LOGS"
  # Published ports by iptables DNAT, not by docker-proxy: the proxy accepts a connection before
  # the container listens, so SAM's wait for the Lambda emulator passes at once and its three
  # quick attempts can all come before an emulated (qemu) emulator is up. No NAT for the
  # containers' own traffic (they talk to the host only) and no change to IP forwarding.
  if ! launch_dockerd --ip-masq=false --ip-forward=false --userland-proxy=false; then
    log "dockerd did not start with iptables; starting it without (sam local may then miss an emulated function's first seconds)"
    launch_dockerd --iptables=false --ip-masq=false || fail "dockerd did not start (.local/logs/dockerd.log)"
  fi
}

# Starts dockerd "$@" and waits until it answers; on failure nothing of it is left running.
launch_dockerd() {
  setsid dockerd "$@" > "$LOGS/dockerd.log" 2>&1 < /dev/null &
  local pid=$!
  echo "boot $(cat /proc/sys/kernel/random/boot_id) $pid $(start_time "$pid" || echo 0)" > "$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until engine_answers; do
    if ! kill -0 "$pid" 2> /dev/null; then
      tail -n 5 "$LOGS/dockerd.log" >&2 || true
      rm -f "$PID_FILE"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      down
      return 1
    fi
    sleep 0.5
  done
  log "started dockerd $* (pid $pid), log in .local/logs/dockerd.log"
}

# Linux names the architectures otherwise than Lambda does.
machine_of() {
  case "$1" in
    arm64) echo aarch64 ;;
    x86_64) echo x86_64 ;;
    *) fail "unknown architecture $1 (arm64 or x86_64)" ;;
  esac
}

# Docker Desktop runs the engine in a VM that emulates other architectures itself; Docker
# Engine on Linux relies on the host kernel's binfmt_misc handler (qemu-user-static, whose
# F flag makes the handler work inside containers).
ensure_emulation() {
  local machine handler
  machine="$(machine_of "$1")"
  [[ "$(uname -m)" != "$machine" ]] || return 0
  [[ "$(docker info --format '{{.OperatingSystem}}')" != *"Docker Desktop"* ]] || return 0
  handler="/proc/sys/fs/binfmt_misc/qemu-$machine"
  if [[ -f "$handler" ]] && grep -qx enabled "$handler"; then
    return 0
  fi
  ((EUID == 0)) || fail "$1 functions need qemu-user-static on this $(uname -m) host: sudo apt-get install qemu-user-static (or see docs/sam-local.md)"
  if [[ ! -f /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  local conf="/usr/lib/binfmt.d/qemu-$machine.conf"
  if [[ ! -f "$conf" ]]; then
    apt_install qemu-user-static || fail "no apt-get to install qemu-user-static"
  fi
  if [[ ! -f "$handler" ]]; then
    # The package's own systemd-binfmt line (flags OPF).
    cat "$conf" > /proc/sys/fs/binfmt_misc/register
  else
    echo 1 > "$handler"
  fi
  log "registered qemu-$machine with binfmt_misc"
}

# The default bridge's gateway: the address of its device (docker0) on a Linux host, where the
# engine may leave it out of the network's IPAM config. Docker Desktop's bridge lives in its VM.
write_env() {
  local started="$1" gateway device local_flag=0
  gateway="$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}')"
  device="$(docker network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}')"
  if [[ -z "$gateway" ]] && command -v ip > /dev/null; then
    gateway="$(ip -4 -o addr show dev "${device:-docker0}" 2> /dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')"
  fi
  # Only an address of the host's own can be bound.
  if [[ -n "$gateway" ]] &&
    python3 -c 'import socket, sys; socket.socket().bind((sys.argv[1], 0))' "$gateway" 2> /dev/null; then
    local_flag=1
  fi
  mkdir -p "$STATE"
  printf 'export DOCKER_GATEWAY=%q\nexport DOCKER_GATEWAY_IS_LOCAL=%q\nexport DOCKER_STARTED=%q\n' \
    "${gateway:-host-gateway}" "$local_flag" "$started" > "$ENV_FILE"
}

up() {
  local arch="${1:?usage: docker_engine.sh up ARCH}"
  local started=0
  if engine_answers; then
    log "using the running Docker engine"
  else
    start_dockerd
    started=1
  fi
  ensure_emulation "$arch"
  write_env "$started"
}

down() {
  rm -f "$ENV_FILE"
  [[ -f "$PID_FILE" ]] || return 0
  local boot pid started
  read -r _ boot pid started < "$PID_FILE"
  rm -f "$PID_FILE"
  if [[ "$boot" != "$(cat /proc/sys/kernel/random/boot_id)" || "$(start_time "$pid" || echo gone)" != "$started" ]]; then
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid" 2> /dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while [[ "$(start_time "$pid" || echo gone)" == "$started" ]] && ((SECONDS < deadline)); do
    sleep 0.3
  done
  if [[ "$(start_time "$pid" || echo gone)" == "$started" ]]; then
    log "dockerd did not stop within ${STOP_TIMEOUT}s: killing it"
    kill -KILL "$pid" 2> /dev/null || true
  fi
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down ;;
  *)
    echo "usage: $0 up ARCH|down" >&2
    exit 2
    ;;
esac
