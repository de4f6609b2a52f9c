#!/usr/bin/env bash
# The pause fault through the CLI (`cpbench check`): every fenced lock passes with 0 violations,
# every unfenced one is caught with a named overlap (exit 1). An implementation whose server is
# not installed is skipped with its reason, never a silent pass: the script then checks the
# skip line instead. Usage: distributed_lock_pause.e2e.sh CPBENCH WORK_DIR
set -euo pipefail
cpb=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }

for engine in redis etcd zookeeper; do
  # Fenced: passes.
  set +e
  "$cpb" check --family distributed_lock --impl "^${engine}_fenced\$" --mode stress \
    --out "$dir/$engine-fenced.json" >"$dir/$engine-fenced.txt" 2>&1
  rc=$?
  set -e
  if grep -q "^SKIP " "$dir/$engine-fenced.txt"; then
    echo "skipped: $(grep '^SKIP ' "$dir/$engine-fenced.txt")"
    continue
  fi
  [ $rc -eq 0 ] || { cat "$dir/$engine-fenced.txt"; fail "$engine fenced: exit $rc, want 0"; }
  grep -q "^PASS .*distributed_lock/${engine}_fenced/pause" "$dir/$engine-fenced.txt" ||
    { cat "$dir/$engine-fenced.txt"; fail "$engine fenced: no PASS line"; }

  # Unfenced: caught, with the overlap named.
  set +e
  "$cpb" check --family distributed_lock --impl "^${engine}_unfenced\$" --mode stress \
    --out "$dir/$engine-unfenced.json" >"$dir/$engine-unfenced.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$dir/$engine-unfenced.txt"; fail "$engine unfenced: exit $rc, want 1"; }
  grep -q "overlap: client 0 (token 0, held .*) and client 1 (token 0, held .*) both held the lock in [0-9.]*\.\.[0-9.]* s" \
    "$dir/$engine-unfenced.txt" || { cat "$dir/$engine-unfenced.txt"; fail "$engine unfenced: no named overlap"; }
  echo "ok: $engine fenced passes, unfenced caught"
done
