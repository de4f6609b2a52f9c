#!/usr/bin/env bash
# `cpbench compare` as a CI gate, end to end: two runs of the same build pass (exit 0); a copy of
# a result file with one implementation made 10x (or more) slower fails (exit 1) on exactly that
# implementation's benchmarks; and the same holds for a plain Google Benchmark program's JSON.
# Usage: compare_test.sh CPBENCH GBENCH_SAMPLE WORK_DIR
set -euo pipefail
cpbench=$1 gbench=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
cd "$work"

# Two runs of one build on a shared 2-CPU machine drift apart by up to 3x (seen under asan-ubsan:
# the U test sees the spread within a run, not the drift between runs), and by more when another
# test starts beside one of them (ctest runs this test alone: RUN_SERIAL). So the same-build gate
# here sits at 80% (a 5x drop); the planted slowdowns are 10x or more, planted in a copy of the file
# they are compared with, so no drift can hide them.
gate=(--threshold 80%)
run() {
  "$cpbench" run --family atomic_counter --impl 'fetch_add_counter|mutex_counter' --threads 1 \
    --param read_every=1024 --repetitions 5 --min-time 0.02 --no-calibration --out "$1" >/dev/null
}
# slow FILE OUT NAME_REGEX: OUT is FILE with the matching benchmarks 10x (or more) slower;
# prints "NAME FACTOR" for each (plant_slowdown.py).
slow() { python3 "$here/plant_slowdown.py" "$@"; }
expect_rc() {  # expect_rc RC LOG CMD...
  local want=$1 log=$2
  shift 2
  set +e
  "$@" >"$log" 2>&1
  local rc=$?
  set -e
  if [ "$rc" -ne "$want" ]; then
    cat "$log"
    echo "FAIL: exit $rc, expected $want: $*"
    exit 1
  fi
}

run a.json
run b.json
expect_rc 0 same.txt "$cpbench" compare a.json b.json "${gate[@]}" --all --html same.html
grep -q "0 regression(s)" same.txt

slow a.json slowed.json '/mutex_counter/' >factors.txt
expect_rc 1 slowed.txt "$cpbench" compare a.json slowed.json "${gate[@]}" --json slowed_cmp.json \
  --html slowed.html
grep -q "REGRESSION" slowed.txt
python3 - slowed_cmp.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
bad = {r["name"] for r in c["comparisons"] if r["regression"]}
assert bad and all("/mutex_counter/" in n for n in bad), bad
assert all(r["verdict"] == "slower" and r["p_value"] < 0.05 for r in c["comparisons"] if r["regression"])
PY
grep -q "REGRESSION" slowed.html

# A plain Google Benchmark program's JSON, with repetitions as Google Benchmark writes them.
"$gbench" --benchmark_repetitions=5 --benchmark_min_time=0.01 --benchmark_format=json \
  --benchmark_out=gb.json --benchmark_out_format=json >/dev/null
expect_rc 0 gb_same.txt "$cpbench" compare gb.json gb.json --all
grep -q "BM_Accumulate/1024" gb_same.txt
slow gb.json gb_slowed.json '^BM_Sort/' >/dev/null
expect_rc 1 gb_slowed.txt "$cpbench" compare gb.json gb_slowed.json "${gate[@]}"
grep -q "BM_Sort/1024 .*REGRESSION" gb_slowed.txt
! grep -q "BM_Accumulate.*REGRESSION" gb_slowed.txt

# Our files in Google Benchmark's own tools/compare.py (Debian's libbenchmark-tools), unchanged:
# it must read them, pair the repetitions, and see the planted factor F as F - 1 in time (+9.0
# for 10x) with its own U test. It needs Debian's python3 with scipy, not another python on the
# PATH.
compare_py=/usr/share/benchmark/compare.py
[ -f "$compare_py" ] || { echo "FAIL: $compare_py missing (scripts/setup.sh installs it)"; exit 1; }
expect_rc 0 gbcmp.txt /usr/bin/python3 "$compare_py" --no-color benchmarks a.json slowed.json
change=$(awk 'NR == 1 { printf "%+.4f", $2 - 1 }' factors.txt)
grep -qE "^atomic_counter/mutex_counter/[^ ]*_median +\\$change +\\$change" gbcmp.txt ||
  { cat gbcmp.txt; echo "FAIL: compare.py does not see the planted slowdown ($change)"; exit 1; }
# 5 vs 5 repetitions, all apart (the factor sees to it): p = 0.0079.
awk '/^atomic_counter\/mutex_counter\/[^ ]*_pvalue / && /Repetitions: 5 vs 5/ && $2 < 0.05 { ok = 1 }
     END { exit !ok }' gbcmp.txt ||
  { cat gbcmp.txt; echo "FAIL: compare.py's U test did not run on our repetitions"; exit 1; }
grep -qE "^atomic_counter/fetch_add_counter/[^ ]*_median +\+0\.0000" gbcmp.txt ||
  { cat gbcmp.txt; echo "FAIL: compare.py pairs the unchanged benchmark wrongly"; exit 1; }
echo "compare ok"
