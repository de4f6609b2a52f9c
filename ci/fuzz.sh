#!/usr/bin/env bash
# CI job: builds the libFuzzer targets with clang (build/fuzz) and runs each over its seed corpus
# (tests/fuzz/corpus/<target>: real result files, and broken ones) for RUNS inputs (default
# 100000). A crash, a sanitizer report, or an error message of more than one line fails it.
# Usage: ci/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
scripts/setup.sh
cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCPB_FUZZ=ON -DCPB_BUILD_TESTS=OFF -DCPB_ENABLE_INSTALL=OFF >/dev/null
cmake --build build/fuzz --target fuzz_result_reader fuzz_cli_args -j2
for target in result_reader cli_args; do
  work=$(mktemp -d)  # new inputs go here; the committed corpus stays as it is
  start=$SECONDS
  build/fuzz/tests/fuzz/fuzz_$target -runs="$runs" -max_len=65536 -rss_limit_mb=4096 \
    -artifact_prefix=build/fuzz/ \
    -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" 2>&1 | tail -n 12
  rm -rf "$work"
  echo "=== fuzz_$target: $runs inputs in $((SECONDS - start)) s, no crash"
done
