#!/usr/bin/env bash
# `cpbench run --family mutex --threads 1,2,4 --repetitions 3` writes Google Benchmark's fields and
# ours on every entry, and `cpbench report` renders the file to a self-contained HTML page.
# Usage: run_json_test.sh CPBENCH WORK_DIR
set -euo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
# FIFO locks (ticket, MCS) collapse when a waiter is descheduled, which a loaded CI machine
# running tests in parallel makes likely: this test is about the result file, so it measures the
# reference and two locks that degrade gracefully.
"$cpbench" run --family mutex --impl 'std_mutex|ttas_spinlock|tbb_spin_mutex' --threads 1,2,4 \
  --repetitions 3 --min-time 0.005 \
  --param cs_ns=100 --param outside_ns=1000 --out "$work/r.json" >/dev/null
python3 - "$work/r.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
gb = ["name", "run_name", "run_type", "repetitions", "threads", "iterations", "real_time",
      "cpu_time", "time_unit"]
ours = ["family", "impl", "scenario", "params", "items_per_second", "latency_ns",
        "per_thread_items", "fairness", "placement", "counters"]
assert doc["context"]["num_cpus"] >= 1
assert doc["cpbench"]["schema_version"] == 1
assert "calibration" in doc["cpbench"] and "atomic_rtt_ns" in doc["cpbench"]["calibration"]["start"]
its = [e for e in doc["benchmarks"] if e["run_type"] == "iteration"]
aggs = [e for e in doc["benchmarks"] if e["run_type"] == "aggregate"]
assert its and aggs
for e in its + aggs:
    missing = [k for k in gb + ours[:5] if k not in e]
    assert not missing, (e["name"], missing)
for e in its:
    assert not e.get("error_occurred"), e
    assert [k for k in ours if k not in e] == [], e["name"]
    assert e["repetitions"] == 3 and e["time_unit"] == "ns"
    assert sum(e["per_thread_items"]) == e["items"]
    for p in ("p50", "p90", "p99", "p999", "max"):
        assert e["latency_ns"][p] >= 0
threads = {e["threads"] for e in its if e["scenario"] == "contended"}
assert threads == {1, 2, 4}, threads
names = {e["aggregate_name"] for e in aggs}
assert names == {"mean", "median", "stddev", "cv"}, names
med = [e for e in aggs if e["aggregate_name"] == "median"]
assert all(e["vs_reference"]["impl"] == "std_mutex" for e in med), med
own = [e for e in med if e["impl"] == "ttas_spinlock"]
assert own and all(e["vs_best_baseline"]["impl"] in ("std_mutex", "tbb_spin_mutex") for e in own)
assert not any("vs_best_baseline" in e for e in med if e["baseline"])
assert all(isinstance(e["counters"], dict) for e in its)
assert any("scaling" in e for e in med)
# What each case costs: CPU, context switches, memory, threads; allocations where the counting
# allocator is linked (not in sanitizer builds).
cost = ["cpu_user_ns_per_item", "cpu_sys_ns_per_item", "cpu_utilization", "voluntary_csw_per_item",
        "involuntary_csw_per_item", "peak_rss_kb", "rss_growth_kb", "threads_peak"]
if not doc["cpbench"]["sanitizers"]:
    cost += ["allocs_per_item", "alloc_bytes_per_item"]
for e in its:
    assert [k for k in cost if k not in e] == [], (e["name"], [k for k in cost if k not in e])
    assert e["threads_peak"] >= e["threads"], e["name"]
    assert 0 < e["cpu_utilization"] <= doc["context"]["num_cpus"] * 1.5, e["name"]
    assert e["peak_rss_kb"] > 0
assert all("cpu_utilization" in e and e["iterations"] == 3 for e in med)
print(len(its), "iteration entries,", len(aggs), "aggregates")
PY
"$cpbench" report "$work/r.json" --html "$work/r.html" >/dev/null
grep -q "new Chart" "$work/r.html"
grep -q "Chart.js v" "$work/r.html"
! grep -q "CPB_DATA\|CPB_CHARTJS" "$work/r.html"
echo "report ok: $(wc -c <"$work/r.html") bytes"
