#!/usr/bin/env bash
# The main job: installs dependencies, builds the release preset, runs the default suite and
# writes reports/out/latest.json and reports/out/latest.html. Extra arguments go to `cpbench run`
# (for example --family mutex, or --repetitions 5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
mkdir -p reports/out
status=0
build/release/cpbench run --repetitions 3 --min-time 0.05 \
  --out reports/out/latest.json --html reports/out/latest.html "$@" || status=$?
echo
echo "JSON: $PWD/reports/out/latest.json"
echo "HTML: $PWD/reports/out/latest.html"
exit $status
