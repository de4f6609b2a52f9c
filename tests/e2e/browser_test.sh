#!/usr/bin/env bash
# The reports as a person opens them: headless Chromium loads the HTML of `run`, `check`,
# `advise` and `compare`; each renders with no uncaught script error, every chart of the run
# report has data, a check's seed shows in hex (JavaScript would round the 64-bit number), and
# a screenshot of the run report is kept beside the test's files (report.png).
# Usage: browser_test.sh CPBENCH WORK_DIR
set -euo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
cd "$work"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "FAIL: chromium is not installed (scripts/setup.sh installs it)"
  exit 1
fi
# dom HTML OUT: the page after its scripts ran; the browser's console goes to OUT.log.
dom() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --enable-logging=stderr --v=0 --user-data-dir="$work/profile" \
    --dump-dom "file://$work/$1" >"$2" 2>"$2.log"
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

"$cpbench" run --family mutex --impl 'std_mutex|ttas_spinlock' --scenario contended \
  --threads 1,2 --param cs_ns=100 --param outside_ns=1000 --repetitions 2 --min-time 0.005 \
  --no-calibration --out run.json --html run.html >/dev/null
dom run.html run.dom
rendered run.dom
charts=$(grep -o 'data-charts="[0-9]*"' run.dom | grep -o '[0-9]*')
with=$(grep -o 'data-charts-with-data="[0-9]*"' run.dom | grep -o '[0-9]*')
[ "$charts" -ge 1 ] && [ "$charts" -eq "$with" ] || { echo "FAIL: $with of $charts charts have data"; exit 1; }
grep -q "CPUs busy" run.dom
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --user-data-dir="$work/profile" --window-size=1400,2400 --screenshot="$work/report.png" \
  "file://$work/run.html" >/dev/null 2>&1
[ -s report.png ]

"$cpbench" check --family mutex --impl ticket_lock --mode stress --budget 0.2 --out check.json \
  --html check.html >/dev/null
dom check.html check.dom
rendered check.dom
seed=$(python3 -c "import json; print(json.load(open('check.json'))['checks'][0]['seed_hex'])")
grep -q ">$seed<" check.dom || { echo "FAIL: the seed $seed is not shown as it replays"; exit 1; }

"$cpbench" advise --workload counter --threads 1 --quick --min-time 0.005 --no-calibration \
  --out advise.json --html advise.html >/dev/null
dom advise.html advise.dom
rendered advise.dom
grep -q '<section id="advice">' advise.dom

"$cpbench" compare run.json run.json --html compare.html >/dev/null
dom compare.html compare.dom
grep -q "regression(s)" compare.dom
echo "browser ok: $(wc -c <report.png) byte screenshot"
