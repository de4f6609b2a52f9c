#!/usr/bin/env bash
# A crashing and a hanging implementation: the run records both failures, keeps the healthy
# measurements in the JSON, and exits 1. Usage: isolation_test.sh FAULTY_CPBENCH WORK_DIR
set -uo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
"$cpbench" run --family mutex --impl 'std_mutex|crashing_lock|hanging_lock' \
  --scenario uncontended --min-time 0.005 --timeout 3 --no-calibration \
  --out "$work/r.json" >"$work/out.txt" 2>&1
rc=$?
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc"; cat "$work/out.txt"; exit 1; }
python3 - "$work/r.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
by = {e["impl"]: e for e in doc["benchmarks"]}
assert not by["std_mutex"].get("error_occurred") and by["std_mutex"]["items"] > 0, by["std_mutex"]
assert by["crashing_lock"]["error_occurred"] and "crashed" in by["crashing_lock"]["error_message"], by["crashing_lock"]
assert by["hanging_lock"]["error_occurred"] and "timed out" in by["hanging_lock"]["error_message"], by["hanging_lock"]
print("isolation ok")
PY
