#!/usr/bin/env bash
# The image `sam local` runs the functions in.
#
# Usage: infra/local/invoke_image.sh ARCH    (ARCH: arm64 or x86_64, as in the template)
# Prints the image to pass as --invoke-image (with --skip-pull-image), or nothing when SAM's
# default, the official public.ecr.aws/lambda/provided:al2023-ARCH, is here or can be pulled.
#
# Where no image can be pulled (an offline CI machine), it builds a stand-in once, as root:
# a Debian bookworm minbase userland of ARCH from debootstrap (glibc, which the bootstrap
# binaries link against, and the CA certificates their TLS clients load, as the official image
# has them; the second stage runs under qemu-user-static on another architecture), cached as a
# tarball under .local/invoke-image/ and imported as
# timesheets-local/provided:al2023-ARCH. SAM adds the Lambda Runtime Interface Emulator it
# ships to either image. A changed recipe (ROOTFS_RECIPE, DOCKERFILE) builds it again.
#   SAM_INVOKE_IMAGE  use this image and print it as is
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.local/invoke-image"
LOGS="$ROOT/.local/logs"
SUITE=bookworm
REPOSITORY=timesheets-local/provided
RECIPE_LABEL=org.exampleco.timesheets.recipe
# Bump the trailing number when rootfs_tarball changes what it makes.
ROOTFS_RECIPE="debootstrap --variant=minbase --include=ca-certificates $SUITE, no apt caches, /var/task /var/runtime /opt; 2"
# What SAM's container expects of a provided.al2023 image: the code is mounted at /var/task.
DOCKERFILE='FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 TZ=:/etc/localtime LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task'

log() { echo "invoke image: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

# The first Debian mirror of apt's sources (deb822 or one-line format), else Debian's CDN.
debian_mirror() {
  local uri
  uri="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list |
    grep -oE 'https?://[^ ]+' | grep -v security | head -n 1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}

rootfs_tarball() {
  local debarch="$1" tarball="$2" tree="$CACHE/rootfs-$1.tmp"
  ((EUID == 0)) || fail "no Lambda image can be pulled and building one needs root (debootstrap)"
  if ! command -v debootstrap > /dev/null; then
    log "installing debootstrap from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap > /dev/null
  fi
  mkdir -p "$CACHE" "$LOGS"
  rm -rf "$tree"
  log "debootstrap $SUITE $debarch from $(debian_mirror) (a few minutes; .local/logs/debootstrap.log)"
  debootstrap --arch="$debarch" --variant=minbase --include=ca-certificates "$SUITE" "$tree" "$(debian_mirror)" \
    > "$LOGS/debootstrap.log" 2>&1 || fail "debootstrap failed: see .local/logs/debootstrap.log"
  rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
  mkdir -p "$tree/var/task" "$tree/var/runtime" "$tree/opt"
  tar -C "$tree" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$tree"
}

digest() { printf '%s' "$1" | sha256sum | cut -c1-12; }

build_image() {
  local arch="$1" image="$2" recipe="$3" debarch context
  case "$arch" in
    arm64) debarch=arm64 ;;
    x86_64) debarch=amd64 ;;
    *) fail "unknown architecture $arch (arm64 or x86_64)" ;;
  esac
  local tarball="$CACHE/rootfs-$debarch-$(digest "$ROOTFS_RECIPE").tar"
  [[ -f "$tarball" ]] || rootfs_tarball "$debarch" "$tarball"
  context="$CACHE/context-$debarch"
  rm -rf "$context"
  mkdir -p "$context"
  ln -f "$tarball" "$context/rootfs.tar"
  printf '%s\n' "$DOCKERFILE" > "$context/Dockerfile"
  # FROM scratch with --platform labels the image with ARCH. The classic builder needs no
  # buildx plugin; BuildKit is used where it is installed.
  local -a builder=()
  docker buildx version > /dev/null 2>&1 || builder=(env DOCKER_BUILDKIT=0)
  log "building $image"
  "${builder[@]}" docker build --quiet --platform "linux/$arch" --label "$RECIPE_LABEL=$recipe" \
    -t "$image" "$context" > /dev/null
  rm -rf "$context"
  # SAM's image on top of it (tag rapid-*) is reused as long as it exists: drop the old one.
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPOSITORY" | grep ':rapid-' |
    xargs -r docker image rm > /dev/null || true
}

main() {
  local arch="${1:?usage: invoke_image.sh ARCH}"
  if [[ -n "${SAM_INVOKE_IMAGE:-}" ]]; then
    echo "$SAM_INVOKE_IMAGE"
    return 0
  fi
  local official="public.ecr.aws/lambda/provided:al2023-$arch"
  if docker image inspect "$official" > /dev/null 2>&1 || docker pull --quiet "$official" > /dev/null 2>&1; then
    return 0
  fi
  local image="$REPOSITORY:al2023-$arch" recipe have
  recipe="$(digest "$ROOTFS_RECIPE
$DOCKERFILE")"
  have="$(docker image inspect "$image" --format "{{index .Config.Labels \"$RECIPE_LABEL\"}}" 2> /dev/null || true)"
  if [[ "$have" != "$recipe" ]]; then
    log "$official cannot be pulled: using a local stand-in"
    build_image "$arch" "$image" "$recipe"
  fi
  echo "$image"
}

main "$@"
