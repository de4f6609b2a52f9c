#!/usr/bin/env bash
# The test command: installs dependencies, then builds and runs every test under each preset
# that CI runs (debug, tsan, asan-ubsan), then the libFuzzer targets for 100,000 inputs each
# (`fuzz`, ci/fuzz.sh). Usage: scripts/test.sh [PRESET...|fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(debug tsan asan-ubsan fuzz)

failed=()
failed_tests=()
excerpts=""  # why each failed test failed, in a few lines
for preset in "${presets[@]}"; do
  start=$SECONDS
  if [ "$preset" = fuzz ]; then
    ci/fuzz.sh || { failed+=(fuzz); failed_tests+=("fuzz: see the fuzzer's report above"); }
    echo "=== fuzz: $((SECONDS - start)) s"
    continue
  fi
  echo "=== $preset: build"
  scripts/build.sh "$preset"
  echo "=== $preset: test"
  if ! ctest --preset "$preset" --timeout 900; then
    failed+=("$preset")
    # Named again at the end of the output, which is what a CI log's tail shows.
    log="build/$preset/Testing/Temporary/LastTestsFailed.log"
    failed_tests+=("$preset: $( (cut -d: -f2- "$log" 2>/dev/null || echo "(no list)") | tr '\n' ' ')")
    excerpts+="$(ci/failure_excerpt.sh "build/$preset" || true)"$'\n'
  fi
  echo "=== $preset: $((SECONDS - start)) s"
done

if [ ${#failed[@]} -gt 0 ]; then
  printf '%s' "$excerpts"
  printf 'FAILED tests of %s\n' "${failed_tests[@]}"
  echo "FAILED presets: ${failed[*]}"
  exit 1
fi
echo "all presets passed: ${presets[*]}"
