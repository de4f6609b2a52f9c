#!/usr/bin/env bash
# Installs cpbench from a build tree into a scratch prefix, builds the out-of-tree plug-in in
# tests/plugin against it, and runs the plug-in's lock beside the built-in ones.
# Usage: plugin_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/plugin" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
exe="$work/build/my_cpbench"

"$exe" list impls --json > "$work/impls.json"
python3 - "$work/impls.json" <<'PY'
import json, sys
impls = {(i["family"], i["name"]) for i in json.load(open(sys.argv[1]))}
assert ("mutex", "acme_backoff_spinlock") in impls, "the plug-in's lock is not listed"
assert ("mutex", "std_mutex") in impls, "the built-in implementations are missing"
PY

"$exe" run --family mutex --impl 'std_mutex|ticket_lock|acme_backoff_spinlock' \
  --scenario contended --threads 1,2 --param cs_ns=100 --param outside_ns=1000 \
  --min-time 0.01 --no-calibration --out "$work/plugin.json" >/dev/null
python3 - "$work/plugin.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ran = {e["impl"] for e in doc["benchmarks"] if not e.get("error_occurred")}
assert ran == {"std_mutex", "ticket_lock", "acme_backoff_spinlock"}, ran
mine = [e for e in doc["benchmarks"] if e["impl"] == "acme_backoff_spinlock"]
assert all("vs_reference" in e for e in mine), "no ratio to std_mutex for the plug-in's lock"
print("plug-in ran beside", sorted(ran - {"acme_backoff_spinlock"}))
PY
