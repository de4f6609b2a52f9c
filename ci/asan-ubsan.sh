#!/usr/bin/env bash
# CI job: build and run every test under the asan-ubsan preset. Runs the same locally.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/test.sh asan-ubsan
