#!/usr/bin/env bash
# The reports as a person opens them: headless Chromium loads the HTML of `run`, `check`,
# `advise` and `compare`. Each renders with no uncaught script error; the run report has its
# contents bar, its summary as static HTML (what a preview without JavaScript shows), every chart
# with data (throughput, speed-up, fairness and latency charts among them), filters that hide
# what they should, and each result as a multiple of the calibrated primitives; a hand-edited
# file with blocks of the wrong types renders; a check's seed shows in hex (JavaScript would
# round the 64-bit number) and an outcome check its histogram. A screenshot of the run report
# is kept beside the test's files (report.png).
# Usage: browser_test.sh CPBENCH WORK_DIR
#        browser_test.sh --page FILE.html WORK_DIR   checks one existing report, e.g. the output
#                                                     of scripts/run.sh (reports/out/latest.html)
set -euo pipefail
if [ $# -ne 2 ] && [ $# -ne 3 ]; then
  echo "usage: browser_test.sh CPBENCH WORK_DIR | --page FILE.html WORK_DIR" >&2
  exit 2
fi
page=""
if [ "$1" = "--page" ]; then
  [ $# -eq 3 ] || { echo "usage: browser_test.sh --page FILE.html WORK_DIR" >&2; exit 2; }
  [ -r "$2" ] || { echo "browser_test.sh: cannot read $2" >&2; exit 2; }
  page=$(realpath "$2") work=$3
else
  cpbench=$1 work=$2
fi
rm -rf "$work" && mkdir -p "$work"
cd "$work"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "FAIL: chromium is not installed (scripts/setup.sh installs it)"
  exit 1
fi
# dom HTML OUT [QUERY]: the page after its scripts ran; the browser's console goes to OUT.log.
# HTML is relative to the work folder, or absolute.
dom() {
  local url="$1"
  [[ "$url" = /* ]] || url="$work/$url"
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --enable-logging=stderr --v=0 --user-data-dir="$work/profile" \
    --dump-dom "file://$url${3:-}" >"$2" 2>"$2.log"
  if grep -E "CONSOLE|Uncaught" "$2.log" | grep -qiE "error|uncaught"; then
    grep -E "CONSOLE|Uncaught" "$2.log"
    echo "FAIL: script errors in $1"
    exit 1
  fi
}
rendered() {  # rendered DOM: the report's script ran to its end without an uncaught error
  grep -q 'data-rendered="ok"' "$1" || { echo "FAIL: $1 did not finish rendering"; exit 1; }
  ! grep -q 'data-js-error' "$1" || { grep -o 'data-js-error="[^"]*"' "$1"; exit 1; }
}
attr() {  # attr DOM NAME: the value of data-NAME on the body, or -1
  local v
  v=$(grep -o "<body[^>]*" "$1" | grep -o " data-$2=\"[0-9]*\"" | grep -o '[0-9][0-9]*' || true)
  echo "${v:--1}"
}
charts_have_data() {  # charts_have_data DOM MIN: at least MIN charts, every one with data
  local charts with
  charts=$(attr "$1" charts) with=$(attr "$1" charts-with-data)
  [ "$charts" -ge "$2" ] && [ "$charts" -eq "$with" ] ||
    { echo "FAIL: $with of $charts charts in $1 have data (want at least $2)"; exit 1; }
}
static_html() {  # static_html HTML: the page with its script elements cut out
  python3 -c 'import re, sys; print(re.sub(r"(?s)<script.*?</script>", "", open(sys.argv[1]).read()))' "$1"
}
run_report() {  # run_report HTML DOM: a run report's layout, whatever its data
  local s
  s=$(static_html "$1")
  grep -q '<nav id="toc">' <<<"$s" || { echo "FAIL: $1 has no contents bar"; exit 1; }
  for id in summary charts results env; do
    grep -q "<a href=\"#$id\">" <<<"$s" && grep -q "<details class=\"sec\" id=\"$id\"" <<<"$s" ||
      { echo "FAIL: $1 lacks the collapsible section or the link for #$id"; exit 1; }
  done
  # The answer without JavaScript: the summary table, its winners, and the meta line.
  grep -q 'id="summary-table"' <<<"$s" || { echo "FAIL: $1 has no static summary"; exit 1; }
  grep -q '<td class="l"><b>' <<<"$s" || { echo "FAIL: $1's static summary names no winner"; exit 1; }
  grep -qE '[0-9]+ cases, ' <<<"$s" || { echo "FAIL: $1 has no static meta line"; exit 1; }
  # The script adds the tables and charts, and does not build the summary a second time.
  [ "$(grep -o 'id="summary-table"' "$2" | wc -l)" -eq 1 ] ||
    { echo "FAIL: the summary appears more than once in $1"; exit 1; }
  grep -q 'id="results-tbl"' "$2" || { echo "FAIL: $1 has no results table"; exit 1; }
  grep -q 'id="drift"' "$2" || { echo "FAIL: $1 has no calibration drift line"; exit 1; }
}

if [ -n "$page" ]; then
  dom "$page" page.dom
  rendered page.dom
  if grep -q 'id="summary-table"' "$page"; then
    run_report "$page" page.dom
    charts_have_data page.dom 1
    for kind in latency fairness; do
      [ "$(attr page.dom "charts-$kind")" -ge 1 ] || { echo "FAIL: no $kind chart in $page"; exit 1; }
    done
  fi
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$work/profile" --window-size=1400,2400 --screenshot="$work/page.png" \
    "file://$page" >/dev/null 2>&1
  drawn=$(attr page.dom charts-drawn)
  echo "page ok: $(attr page.dom shown-results) results, $(attr page.dom charts) charts" \
    "($(( drawn < 0 ? 0 : drawn )) drawn on opening), script $(attr page.dom render-ms) ms; screenshot $work/page.png"
  exit 0
fi

"$cpbench" run --family mutex --impl 'std_mutex|ttas_spinlock' --scenario contended \
  --threads 1,2 --param cs_ns=100 --param outside_ns=1000 --repetitions 2 --min-time 0.005 \
  --no-calibration --out run.json --html run.html >/dev/null
dom run.html run.dom
rendered run.dom
run_report run.html run.dom
charts_have_data run.dom 4
for kind in throughput scaling fairness latency; do
  [ "$(attr run.dom "charts-$kind")" -ge 1 ] || { echo "FAIL: no $kind chart in run.html"; exit 1; }
done
# Both implementations ran at 1 and 2 threads: one point each where own meets baseline.
grep -q 'at [0-2] of 2 points' run.html || { echo "FAIL: no own-against-baseline roll-up"; exit 1; }
grep -q "CPUs busy" run.dom
grep -q 'Not calibrated' run.dom
# Filters, set from the URL as a person would share them: only ttas_spinlock's two cases stay.
dom run.html filtered.dom "?impl=ttas_spinlock"
rendered filtered.dom
[ "$(attr filtered.dom shown-results)" -eq 2 ] && [ "$(attr run.dom shown-results)" -eq 4 ] ||
  { echo "FAIL: the implementation filter shows $(attr filtered.dom shown-results) of 4 results, not 2"; exit 1; }
# Sorting, from the URL too: the slowest case first, then the fastest (one of them is not the
# first case unsorted).
for dir in asc desc; do
  dom run.html sorted.dom "?sort=items%2Fs&dir=$dir"
  first=$(python3 -c 'import json, sys; print(sorted((e for e in json.load(open("run.json"))["benchmarks"]
    if e.get("primary")), key=lambda e: e["items_per_second"], reverse=sys.argv[1] == "desc")[0]["run_name"])' $dir)
  grep -q "data-results-first=\"$first\"" sorted.dom ||
    { echo "FAIL: sorting by items/s ($dir) does not put $first first"; exit 1; }
done
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --user-data-dir="$work/profile" --window-size=1400,2400 --screenshot="$work/report.png" \
  "file://$work/run.html" >/dev/null 2>&1
[ -s report.png ]

# The same file as if calibrated: each result also as a multiple of the machine's primitives,
# and the drift figure.
python3 - <<'EOF'
import json
d = json.load(open("run.json"))
probe = {"atomic_rtt_ns": 100.0, "futex_handoff_ns": 5000.0, "syscall_ns": 300.0, "timer_ns": 20.0}
d["cpbench"]["calibration"] = {"start": probe, "end": dict(probe, atomic_rtt_ns=130.0),
                               "drift_ratio": 1.3, "drifted": False}
json.dump(d, open("calibrated.json", "w"))
EOF
"$cpbench" report calibrated.json --html calibrated.html >/dev/null
dom calibrated.html calibrated.dom
rendered calibrated.dom
grep -q '>× RTT<' calibrated.dom && grep -q '>× futex<' calibrated.dom ||
  { echo "FAIL: no result as a multiple of the calibrated round trip and hand-off"; exit 1; }
grep -q 'drift 1.30x' calibrated.html || { echo "FAIL: the static meta line lacks the drift"; exit 1; }

# A hand-edited file: the blocks the reader does not check hold the wrong types. It renders.
python3 - <<'EOF'
import json
d = json.load(open("calibrated.json"))
cal = d["cpbench"]["calibration"]
cal["start"].update(atomic_rtt_ns="fast", timer_ns=[3])
cal.update(end=5, drift_ratio="x")
d["cpbench"]["skipped"] = [1, {"family": None}]
d["checks"] = [{"name": None, "histogram": [1, {"grade": 3, "count": "x"}], "stats": 4,
                "details": 7}, "x", {"histogram": "no"},
               {"name": "mutex/tas_spinlock/mutual_exclusion", "mode": "model", "verdict": "fail",
                "details": "data race\nreplay: cpb2:abc\ntrace"}]
d["context"]["num_cpus"] = "two"
d["advice"] = {"goal": 3}
json.dump(d, open("edited.json", "w"))
EOF
"$cpbench" report edited.json --html edited.html >/dev/null
dom edited.html edited.dom
rendered edited.dom
[ "$(attr edited.dom shown-checks)" -eq 4 ] ||
  { echo "FAIL: edited.html shows $(attr edited.dom shown-checks) of 4 checks"; exit 1; }
grep -q 'cpbench check --mode model --family mutex --impl tas_spinlock --replay cpb2:abc' edited.dom ||
  { echo "FAIL: a model failure's replay command is not shown"; exit 1; }
grep -q "advice block is malformed" edited.html

"$cpbench" check --family mutex --impl ticket_lock --litmus --mode stress --budget 0.02 \
  --out check.json --html check.html >/dev/null
dom check.html check.dom
rendered check.dom
seed=$(python3 -c "import json; print(json.load(open('check.json'))['checks'][0]['seed_hex'])")
grep -q ">$seed<" check.dom || { echo "FAIL: the seed $seed is not shown as it replays"; exit 1; }
grep -q '>acceptable [0-9,]*</span>' check.dom || { echo "FAIL: no outcome histogram"; exit 1; }

"$cpbench" advise --workload counter --threads 1 --quick --min-time 0.005 --no-calibration \
  --out advise.json --html advise.html >/dev/null
dom advise.html advise.dom
rendered advise.dom
grep -q '<section id="advice">' advise.dom
grep -q '<a href="#advice">' advise.html

"$cpbench" compare run.json run.json --html compare.html >/dev/null
dom compare.html compare.dom
grep -q "regression(s)" compare.dom
echo "browser ok: $(wc -c <report.png) byte screenshot"
