#!/usr/bin/env bash
# The pause fault through the CLI (`cpbench check --check pause`): every fenced lock passes with
# 0 violations, every unfenced one is caught with a named overlap (exit 1). An implementation
# whose server is not installed is skipped with its reason, never a silent pass: the script then
# checks the skip line instead. Then one server fault, the partition of the holder through the
# link proxy, with Redis: the same verdicts, and its grants, violations and unavailability in
# the result file. Usage: distributed_lock_pause.e2e.sh CPBENCH WORK_DIR
set -euo pipefail
cpb=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }

for engine in redis etcd zookeeper; do
  # Fenced: passes.
  set +e
  "$cpb" check --family distributed_lock --impl "^${engine}_fenced\$" --mode stress --check pause \
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
  "$cpb" check --family distributed_lock --impl "^${engine}_unfenced\$" --mode stress --check pause \
    --out "$dir/$engine-unfenced.json" >"$dir/$engine-unfenced.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$dir/$engine-unfenced.txt"; fail "$engine unfenced: exit $rc, want 1"; }
  grep -q "overlap: client 0 (token 0, held .*) and client 1 (token 0, held .*) both held the lock in [0-9.]*\.\.[0-9.]* s" \
    "$dir/$engine-unfenced.txt" || { cat "$dir/$engine-unfenced.txt"; fail "$engine unfenced: no named overlap"; }
  echo "ok: $engine fenced passes, unfenced caught"
done

if ! command -v redis-server >/dev/null; then
  echo "skipped: the partition check (redis-server is not installed)"
  exit 0
fi
for variant in fenced unfenced; do
  set +e
  "$cpb" check --family distributed_lock --impl "^redis_$variant\$" --mode stress \
    --check partition --out "$dir/partition-$variant.json" >"$dir/partition-$variant.txt" 2>&1
  rc=$?
  set -e
  want=0 && [ $variant = unfenced ] && want=1
  [ $rc -eq $want ] || { cat "$dir/partition-$variant.txt"; fail "partition $variant: exit $rc, want $want"; }
done
grep -q "overlap: client 0 (token 0, held .*) and client 1 (token 0, held .*) both held the lock" \
  "$dir/partition-unfenced.txt" || { cat "$dir/partition-unfenced.txt"; fail "partition: no named overlap"; }
python3 - "$dir" <<'PY' || fail "partition: the result files lack the verdicts or the stats"
import json, sys
for variant, verdict, violations in (("fenced", "pass", 0), ("unfenced", "fail", 1)):
    [c] = json.load(open(f"{sys.argv[1]}/partition-{variant}.json"))["checks"]
    s = c["stats"]
    assert c["name"] == f"distributed_lock/redis_{variant}/partition", c["name"]
    assert c["verdict"] == verdict and s["violations"] == violations, (variant, c["verdict"], s)
    assert s["grants"] == 2 and s["fault_ms"] >= 2000 and s["unavailable_ms"] >= 1000, s
    assert s["rejected_writes"] == (1 if variant == "fenced" else 0), s
PY
echo "ok: redis partition: fenced passes, unfenced caught, stats in the result file"
