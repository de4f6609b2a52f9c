#!/usr/bin/env bash
# `cpbench advise` end to end: a CPU-bound counter workload and an I/O-bound request workload
# (event loops, a thread, a coroutine or an actor per connection) are run on their candidates and
# ranked with reasons, in the JSON (an `advice` block beside the results) and in the HTML (a
# static section); a workload file and --dry-run plan without running.
# Usage: advise_test.sh CPBENCH WORK_DIR
set -euo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
cd "$work"

check() {  # check RESULT.json FAMILY_REGEX MIN_CANDIDATES
  python3 - "$@" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
fam, least = sys.argv[2], int(sys.argv[3])
a = doc["advice"]
assert a["goal"] == "throughput" and a["points"], a
for p in a["points"]:
    ranked = p["ranking"]
    assert len(ranked) >= least, (p["scenario"], [r["impl"] for r in ranked])
    assert all(re.match(fam, r["impl"]) for r in ranked), ranked
    values = [r["value"] for r in ranked]
    assert values == sorted(values, reverse=True), values  # best first
    assert p["winner"] == ranked[0]["impl"] and p["reasons"], p
    assert "better than" in p["reasons"][0] or "ahead of" in p["reasons"][0], p["reasons"]
assert a["overall"]["winner"] in {r["impl"] for p in a["points"] for r in p["ranking"]}
assert a["overall"]["summary"].startswith(a["overall"]["winner"])
assert doc["cpbench"]["options"]["command"] == "advise"
assert any(e.get("primary") for e in doc["benchmarks"])
PY
}

"$cpbench" advise --workload counter --threads 1,2 --read-pct 1 --quick --repetitions 3 \
  --min-time 0.01 --no-calibration --out counter.json --html counter.html >counter.txt
check counter.json '^atomic_counter/' 4
grep -q "^advice: atomic_counter/" counter.txt
grep -q '<section id="advice">' counter.html

"$cpbench" advise --workload requests --connections 64 --quick --repetitions 3 --min-time 0.05 \
  --no-calibration --out requests.json --html requests.html >requests.txt
check requests.json '^(reactor|proactor|coroutine|actor)/' 4
grep -q "^http connections:64 threads:1$" requests.txt
# Request handling across patterns: the event loops, a thread per connection, coroutines, actors.
for impl in reactor/epoll_reactor reactor/thread_per_connection coroutine/coroutine_server \
  actor/actor_server; do
  grep -q "$impl" requests.txt || { cat requests.txt; echo "FAIL: $impl is not ranked"; exit 1; }
done

echo '{"workload": "counter", "threads": [1], "read_pct": 50, "goal": "p99"}' >w.json
"$cpbench" advise --workload-file w.json --dry-run >plan.txt
grep -q "goal: p99" plan.txt
grep -q "atomic_counter/fetch_add_counter/increments/read_every:2/threads:1" plan.txt
[ ! -e cpbench_results.json ]  # a dry run runs and writes nothing
echo "advise ok"
