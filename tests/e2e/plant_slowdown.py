#!/usr/bin/env python3
"""Plants a slowdown in a copy of a result file, for the e2e tests of compare and history.

Usage: plant_slowdown.py SRC DST NAME_REGEX

DST is SRC with every benchmark whose run_name matches NAME_REGEX made slower: its times
multiplied and its throughput divided by a factor of 10, or more where that benchmark's own
repetitions spread wider than 10x (max/min real_time: a starved repetition on a loaded machine),
so that every planted repetition is slower than every real one and a rank test sees them apart.
Prints "NAME FACTOR" for each slowed benchmark.
"""
import json
import re
import sys

src, dst, pattern = sys.argv[1:4]
doc = json.load(open(src))
hits = [e for e in doc["benchmarks"] if re.search(pattern, e.get("run_name", e["name"]))]
assert hits, "nothing matched " + pattern
times = {}
for e in hits:
    if e.get("run_type", "iteration") == "iteration":
        times.setdefault(e.get("run_name", e["name"]), []).append(e["real_time"])
factor = {name: 10 * max(1.0, max(t) / min(t)) for name, t in times.items()}
for e in hits:
    f = factor[e.get("run_name", e["name"])]
    for k in ("real_time", "cpu_time"):
        if k in e:
            e[k] *= f
    if "items_per_second" in e:
        e["items_per_second"] /= f
json.dump(doc, open(dst, "w"))
for name, f in factor.items():
    print(name, repr(f))
