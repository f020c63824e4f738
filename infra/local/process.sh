# Sourced by the scripts of infra/local that stop only processes they started.

# Start time of a live process in clock ticks since boot: with the pid it names one process
# for good. Fails for a process that is gone or a zombie waiting to be reaped.
start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  [[ "$1" != Z ]] || return 1
  echo "${20}"
}
