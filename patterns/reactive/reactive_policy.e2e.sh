#!/usr/bin/env bash
# The overflow policy is chosen by scenario name (fast_slow_<policy>): an unknown policy is a
# one-line error and exit code 2; a known one runs and reports its counters.
# Usage: reactive_policy.e2e.sh CPBENCH WORK_DIR
set -uo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
"$cpbench" run --family reactive --scenario fast_slow_drop_middle --quick --no-calibration \
  --out "$work/bad.json" >"$work/bad.txt" 2>&1
rc=$?
[ $rc -eq 2 ] || { echo "unknown policy: expected exit 2, got $rc"; cat "$work/bad.txt"; exit 1; }
[ "$(wc -l <"$work/bad.txt")" -eq 1 ] || { echo "not one line:"; cat "$work/bad.txt"; exit 1; }
grep -q "fast_slow_drop_oldest" "$work/bad.txt" || { echo "known policies not named"; exit 1; }
[ ! -e "$work/bad.json" ] || { echo "a result file was written"; exit 1; }
"$cpbench" run --family reactive --scenario fast_slow_latest --quick --min-time 0.005 \
  --param items=500 --no-calibration --out "$work/ok.json" >"$work/ok.txt" 2>&1 ||
  { echo "a known policy failed"; cat "$work/ok.txt"; exit 1; }
python3 - "$work/ok.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
by = {e["impl"]: e for e in doc["benchmarks"]}
for impl in ("credit_boundary", "unbounded_observer"):
    c = by[impl]["counters"]
    assert not by[impl].get("error_occurred"), by[impl]
    assert c["delivered"] + c["dropped"] == 500, (impl, c)
assert by["credit_boundary"]["counters"]["peak_items"] <= 1, by["credit_boundary"]
print("reactive policy e2e ok")
PY
