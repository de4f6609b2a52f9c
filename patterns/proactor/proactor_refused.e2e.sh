#!/usr/bin/env bash
# Where io_uring is refused (CPB_DISABLE_IO_URING stands in for a kernel or sandbox that refuses
# it): `list impls` says so with the reason; `run` skips it once with the reason, runs the
# baseline, records `cpbench.skipped` and exits 0; the HTML report lists the skip; `check`
# skips it. Usage: proactor_refused.e2e.sh CPBENCH WORK_DIR
set -uo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
export CPB_DISABLE_IO_URING=1
reason="unavailable here: disabled by CPB_DISABLE_IO_URING"

"$cpbench" list impls >"$work/list.out" 2>&1 || fail "list impls exited $?"
grep -Eq "^proactor +io_uring .*$reason\$" "$work/list.out" ||
  fail "list impls does not mark io_uring: $(grep io_uring "$work/list.out")"
grep -E "^proactor +asio " "$work/list.out" | grep -q unavailable && fail "asio is marked too"
"$cpbench" list impls --json >"$work/list.json" || fail "list impls --json exited $?"
python3 - "$work/list.json" <<'PY' || fail "list impls --json"
import json, sys
impls = {(i["family"], i["name"]): i for i in json.load(open(sys.argv[1]))}
assert impls[("proactor", "io_uring")]["unavailable"] == "disabled by CPB_DISABLE_IO_URING"
assert "unavailable" not in impls[("proactor", "asio")]
PY

timeout 300 "$cpbench" run --family proactor --scenario echo --quick --min-time 0.01 \
  --repetitions 1 --no-calibration --out "$work/run.json" >"$work/run.out" 2>"$work/run.err"
rc=$?
[ $rc -eq 0 ] || fail "run exited $rc: $(cat "$work/run.err")"
[ "$(grep -c "skipping proactor/io_uring, $reason" "$work/run.err")" -eq 1 ] ||
  fail "run does not say once that it skips io_uring: $(cat "$work/run.err")"
python3 - "$work/run.json" <<'PY' || fail "the result file"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["cpbench"]["skipped"] == [{"family": "proactor", "impl": "io_uring",
                                      "reason": "disabled by CPB_DISABLE_IO_URING"}], doc["cpbench"]
runs = doc["benchmarks"]
assert runs and all(b["impl"] == "asio" for b in runs), [b["name"] for b in runs]
assert not any(b.get("error_occurred") for b in runs), runs
PY
"$cpbench" report "$work/run.json" --html "$work/run.html" >/dev/null || fail "report exited $?"
grep -q "Skipped: unavailable on this machine" "$work/run.html" || fail "the report omits the skip"

"$cpbench" check --family proactor --impl io_uring --mode stress --out "$work/check.json" \
  >"$work/check.out" 2>&1 || fail "check exited $?: $(cat "$work/check.out")"
grep -q "SKIP  proactor/io_uring: $reason" "$work/check.out" ||
  fail "check does not skip io_uring: $(cat "$work/check.out")"
echo "ok: io_uring skipped with its reason by list, run, report and check"
