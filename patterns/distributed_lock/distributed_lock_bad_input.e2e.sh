#!/usr/bin/env bash
# Bad input and missing servers through the CLI: a server binary named by the environment that
# does not exist is a one-line error and exit 2 (run, check, list); a server that is not
# installed skips its implementations with the reason, in the output and in the result file.
# Usage: distributed_lock_bad_input.e2e.sh CPBENCH WORK_DIR
set -euo pipefail
cpb=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }

expect_usage() {  # VAR=VALUE, then the cpbench arguments
  local assignment=$1
  shift
  set +e
  env "$assignment" "$cpb" "$@" >"$dir/out.txt" 2>"$dir/err.txt"
  local rc=$?
  set -e
  [ $rc -eq 2 ] || { cat "$dir/out.txt" "$dir/err.txt"; fail "$assignment $*: exit $rc, want 2"; }
  [ "$(wc -l <"$dir/err.txt")" -eq 1 ] || { cat "$dir/err.txt"; fail "$assignment $*: not one line"; }
  grep -q "${assignment}: not an executable file" "$dir/err.txt" ||
    { cat "$dir/err.txt"; fail "$assignment $*: does not name it"; }
}

expect_usage CPB_REDIS_SERVER=/nonexistent/redis-server run --family distributed_lock \
  --impl redis_fenced --quick --out "$dir/r.json"
expect_usage CPB_ETCD=/nonexistent/etcd check --family distributed_lock --impl etcd_fenced \
  --out "$dir/c.json"
expect_usage CPB_JAVA=/nonexistent/java list impls

# No server on PATH: skipped with the reason, exit 0, and said so in the result file.
PATH=/nonexistent "$cpb" run --family distributed_lock --impl '.*_fenced' --quick \
  --no-calibration --out "$dir/skip.json" >"$dir/out.txt" 2>"$dir/err.txt" ||
  { cat "$dir/out.txt" "$dir/err.txt"; fail "run without servers: non-zero exit"; }
for impl in redis_fenced etcd_fenced; do
  grep -q "skipping distributed_lock/$impl, unavailable here: .* is not installed" "$dir/err.txt" ||
    { cat "$dir/err.txt"; fail "no skip line for $impl"; }
  grep -q "\"impl\": *\"$impl\"" "$dir/skip.json" || fail "$impl not in the result's skipped block"
done
echo "ok"
