#!/usr/bin/env bash
# Usage: scripts/build.sh PRESET   Configures (once) and builds one preset with 2 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:?usage: scripts/build.sh PRESET}
jobs=${CPB_JOBS:-2}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Share cached objects between checkouts in different folders (CI clones anew each time).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
[ -f "build/$preset/build.ninja" ] || cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
