#!/usr/bin/env bash
# The test command: installs dependencies, then builds and runs every test under each preset
# that CI runs (debug, tsan, asan-ubsan). Usage: scripts/test.sh [PRESET...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(debug tsan asan-ubsan)

failed=()
failed_tests=()
for preset in "${presets[@]}"; do
  echo "=== $preset: build"
  start=$SECONDS
  scripts/build.sh "$preset"
  echo "=== $preset: test"
  if ! ctest --preset "$preset" --timeout 900; then
    failed+=("$preset")
    # Named again at the end of the output, which is what a CI log's tail shows.
    log="build/$preset/Testing/Temporary/LastTestsFailed.log"
    failed_tests+=("$preset: $( (cut -d: -f2- "$log" 2>/dev/null || echo "(no list)") | tr '\n' ' ')")
  fi
  echo "=== $preset: $((SECONDS - start)) s"
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED tests of %s\n' "${failed_tests[@]}"
  echo "FAILED presets: ${failed[*]}"
  exit 1
fi
echo "all presets passed: ${presets[*]}"
