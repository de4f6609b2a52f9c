#!/usr/bin/env bash
# CI job: every C++ file is clang-format clean (the repo's .clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
files=$(git ls-files '*.cpp' '*.hpp')
bad=$(for f in $files; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then
  echo "clang-format would change:"; echo "$bad"; exit 1
fi
echo "format ok: $(echo "$files" | wc -w) files"
