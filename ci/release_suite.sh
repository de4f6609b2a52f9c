#!/usr/bin/env bash
# CI job: the user's main command, end to end (release build, default suite, both reports).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/run.sh
test -s reports/out/latest.json && test -s reports/out/latest.html
