# Sourced by the build scripts. build_step LOG WHAT USUAL COMMAND...: runs one build step with its
# output (the Go toolchain's module downloads and compiler lines) in LOG, and says on one line what
# it builds and how long that usually takes, then how long it took; on a failure, the end of LOG.
build_step() {
  local log=$1 what=$2 usual=$3 start
  shift 3
  mkdir -p "$(dirname "$log")"
  echo "    Building $what: the first build on a 2-core machine takes about $usual (progress in $log)" >&2
  start=$(date +%s)
  # In the background, so that `set -e` holds inside COMMAND (an `if` around it would turn it off).
  "$@" >"$log" 2>&1 &
  if ! wait $!; then
    echo "    Building $what failed; the end of $log:" >&2
    tail -30 "$log" >&2
    return 1
  fi
  echo "    Built $what in $(( $(date +%s) - start )) s" >&2
}
