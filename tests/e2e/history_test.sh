#!/usr/bin/env bash
# Run history end to end: two runs with --history keep their result files in a folder; a third
# file, a copy of the second with one implementation made 10x (or more) slower, is a planted
# regression.
# `cpbench report FOLDER` must name exactly that implementation's benchmark as slower at the third
# run, and its page must render in headless Chromium. Bad folders get one line and exit 2.
# Usage: history_test.sh CPBENCH WORK_DIR
set -euo pipefail
# A command that stops the script says so: a CI log shows only the output's last lines.
trap 'echo "FAIL: line $LINENO exited $?: $BASH_COMMAND"' ERR
cpbench=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
cd "$work"

for _ in 1 2; do
  "$cpbench" run --family atomic_counter --impl 'fetch_add_counter|mutex_counter' --threads 1 \
    --param read_every=1024 --repetitions 5 --min-time 0.02 --no-calibration --out last.json \
    --history runs >run.txt || { tail -5 run.txt; exit 1; }
done
[ "$(ls runs | wc -l)" -eq 2 ] || { ls runs; echo "FAIL: expected 2 files in the history"; exit 1; }
# Sorts after the two real runs (their names begin with the date). The slowdown is 10x, or more
# where the run's own repetitions of mutex_counter spread wider than 10x (a loaded CI machine),
# so that every planted repetition is slower than every real one (plant_slowdown.py). The report
# must show its change in throughput: 1/factor - 1.
factor=$(python3 "$here/plant_slowdown.py" last.json runs/zz-planted.json '/mutex_counter/' |
  awk 'NR == 1 { print $2 }')
expected=$(awk -v f="$factor" 'BEGIN { printf "%+.1f%%", 100 * (1 / f - 1) }')

"$cpbench" report runs --html trend.html >report.txt
cat report.txt
grep -q "^3 runs, 2 benchmarks" report.txt || { echo "FAIL: summary line"; exit 1; }
planted=$(grep -E "run 2 \(zz-planted.json\): atomic_counter/mutex_counter/" report.txt || true)
[[ "$planted" == *"slower $expected" ]] ||
  { echo "FAIL: the planted slowdown ($expected) is not reported"; exit 1; }
! grep -qE "run 2 .*fetch_add_counter" report.txt ||
  { echo "FAIL: an unchanged benchmark is reported as changed"; exit 1; }
grep -q "zz-planted" trend.html  # the static table, readable without JavaScript

# expect2 NEEDLE CMD...: exit code 2 with one line on stderr that names NEEDLE.
expect2() {
  local needle=$1
  shift
  set +e
  "$@" >out.txt 2>err.txt
  local rc=$?
  set -e
  if [ "$rc" -ne 2 ] || [ "$(wc -l <err.txt)" -ne 1 ] || ! grep -qF -- "$needle" err.txt; then
    cat err.txt
    echo "FAIL: exit $rc, expected 2 and one line naming '$needle': $*"
    exit 1
  fi
}
mkdir empty
expect2 "holds no result files" "$cpbench" report empty --html x.html
cp -r runs broken && echo '{"benchmarks": [' >broken/zzz-cut.json
expect2 "zzz-cut.json" "$cpbench" report broken --html x.html
expect2 "is a file, not a folder" "$cpbench" run --family mutex --history last.json --out y.json

browser=$(command -v chromium || true)
if [ -n "$browser" ]; then
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$work/profile" --virtual-time-budget=5000 \
    --dump-dom "file://$work/trend.html" >trend.dom 2>browser.log ||
    { tail -5 browser.log; exit 1; }
  grep -q 'data-rendered="ok"' trend.dom ||
    { tail -5 browser.log; echo "FAIL: the trend page did not render"; exit 1; }
  ! grep -q 'data-js-error' trend.dom || { grep -o 'data-js-error="[^"]*"' trend.dom; exit 1; }
  grep -q 'data-charts-with-data="1"' trend.dom ||
    { grep -o 'data-charts[^ >]*' trend.dom; echo "FAIL: the changed family's chart has no data"; exit 1; }
fi
echo "history ok"
