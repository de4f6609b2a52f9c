#!/usr/bin/env bash
# Bad input and missing servers through the CLI: a server binary named by the environment that
# does not exist is a one-line error and exit 2 (run, check, list); so are a port in use and a
# server that never becomes ready (run and check), which leave no process behind and keep the
# result file; a server that is not installed skips its implementations with the reason, in the
# output and in the result file. A run that works labels its entries with the server's version.
# Usage: distributed_lock_bad_input.e2e.sh CPBENCH WORK_DIR
set -euo pipefail
cpb=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }

expect_exit2() {  # PATTERN VAR=VALUE... -- the cpbench arguments
  local pattern=$1
  shift
  local assignments=()
  while [ "$1" != -- ]; do
    assignments+=("$1")
    shift
  done
  shift
  set +e
  env "${assignments[@]}" "$cpb" "$@" >"$dir/out.txt" 2>"$dir/err.txt"
  local rc=$?
  set -e
  local what="${assignments[*]} $*"
  [ $rc -eq 2 ] || { cat "$dir/out.txt" "$dir/err.txt"; fail "$what: exit $rc, want 2"; }
  [ "$(wc -l <"$dir/err.txt")" -eq 1 ] || { cat "$dir/err.txt"; fail "$what: not one line"; }
  grep -qF "$pattern" "$dir/err.txt" || { cat "$dir/err.txt"; fail "$what: no '$pattern'"; }
}

expect_exit2 "CPB_REDIS_SERVER=/nonexistent/redis-server: not an executable file" \
  CPB_REDIS_SERVER=/nonexistent/redis-server -- \
  run --family distributed_lock --impl redis_fenced --quick --out "$dir/r.json"
expect_exit2 "CPB_ETCD=/nonexistent/etcd: not an executable file" CPB_ETCD=/nonexistent/etcd -- \
  check --family distributed_lock --impl etcd_fenced --out "$dir/c.json"
expect_exit2 "CPB_JAVA=/nonexistent/java: not an executable file" CPB_JAVA=/nonexistent/java -- \
  list impls
expect_exit2 "CPB_SERVER_READY_MS=soon: not a whole number" CPB_SERVER_READY_MS=soon -- \
  run --family distributed_lock --impl redis_fenced --quick --no-calibration --out "$dir/r.json"

# No server on PATH: skipped with the reason, exit 0, and said so in the result file.
PATH=/nonexistent "$cpb" run --family distributed_lock --impl '.*_fenced' --quick \
  --no-calibration --out "$dir/skip.json" >"$dir/out.txt" 2>"$dir/err.txt" ||
  { cat "$dir/out.txt" "$dir/err.txt"; fail "run without servers: non-zero exit"; }
for impl in redis_fenced etcd_fenced; do
  grep -q "skipping distributed_lock/$impl, unavailable here: .* is not installed" "$dir/err.txt" ||
    { cat "$dir/err.txt"; fail "no skip line for $impl"; }
  grep -q "\"impl\": *\"$impl\"" "$dir/skip.json" || fail "$impl not in the result's skipped block"
done

if ! command -v redis-server >/dev/null; then
  echo "skipped: port in use, never ready, version label (redis-server is not installed)"
  exit 0
fi

# A port in use: a listener of our own holds it meanwhile.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$dir/port.txt" &
holder=$!
trap 'kill $holder 2>/dev/null || true' EXIT
for _ in $(seq 200); do
  [ -s "$dir/port.txt" ] && break
  sleep 0.05
done
port=$(cat "$dir/port.txt")
expect_exit2 "redis-server: port $port on 127.0.0.1 is in use (results so far: $dir/inuse.json)" \
  CPB_REDIS_PORT="$port" -- \
  run --family distributed_lock --impl redis_fenced --quick --no-calibration --out "$dir/inuse.json"
grep -q '"setup_error": *true' "$dir/inuse.json" || fail "port in use: the result file lacks it"
expect_exit2 "redis-server: port $port on 127.0.0.1 is in use" CPB_REDIS_PORT="$port" -- \
  check --family distributed_lock --impl redis_fenced --out "$dir/c.json"
kill $holder

# A server that never answers: its whole process group is gone afterwards.
printf '#!/bin/sh\nsleep 60 &\necho $$ $! >"%s"\nwait\n' "$dir/never.pids" >"$dir/never-ready"
chmod +x "$dir/never-ready"
expect_exit2 "redis-server: not ready within 300 ms" CPB_REDIS_SERVER="$dir/never-ready" \
  CPB_SERVER_READY_MS=300 -- \
  run --family distributed_lock --impl redis_fenced --quick --no-calibration --out "$dir/never.json"
alive() {  # a zombie waiting for its reaper counts as gone
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
for pid in $(cat "$dir/never.pids"); do
  for _ in $(seq 100); do alive "$pid" || break; sleep 0.02; done
  if alive "$pid"; then fail "never-ready server: process $pid left behind"; fi
done

# A server that starts: its entries carry the version it reports.
"$cpb" run --family distributed_lock --impl '^redis_fenced$' --scenario one_lock --quick \
  --no-calibration --threads 1 --out "$dir/ok.json" >"$dir/out.txt" 2>&1 ||
  { cat "$dir/out.txt"; fail "a run on redis-server failed"; }
grep -q '"label": *"redis-server [0-9]*\.[0-9]*\.[0-9]*"' "$dir/ok.json" ||
  fail "no server version label in the result file"
echo "ok"
