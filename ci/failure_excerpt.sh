#!/usr/bin/env bash
# Prints, for each test that ctest lists as failed, the first lines that say why: the gtest
# cases that failed, the first assertion with its values, a sanitizer's first report. A CI log
# shows only its tail, so scripts/test.sh prints this last, at most 16 lines in all.
# Usage: ci/failure_excerpt.sh BUILD_DIR
set -euo pipefail
tmp="$1/Testing/Temporary"
[ -f "$tmp/LastTestsFailed.log" ] && [ -f "$tmp/LastTest.log" ] || exit 0
awk -v failed="$(cut -d: -f2- "$tmp/LastTestsFailed.log" | tr '\n' ' ')" '
  BEGIN { n = split(failed, f, " "); for (i = 1; i <= n; i++) want[f[i]] = 1 }
  /^[0-9]+\/[0-9]+ Test: / { name = $3; next }
  /^Output:$/ { inside = (name in want); cases = 0; context = 0; reports = 0; next }
  /^<end of output>$/ { inside = 0; next }
  !inside || total >= 16 { next }
  context > 0 { print "    " substr($0, 1, 150); context--; total++; next }
  /^\[  FAILED  \] .* \([0-9]+ ms\)$/ && cases < 3 { sub(/,$/, "", $4); print name ": failed " $4; cases++; total++; next }
  reports == 0 && (/: Failure$/ || /(Thread|Address|UndefinedBehavior)Sanitizer|runtime error:/) {
    print name ": " substr($0, 1, 150); context = 4; reports++; total++
  }
' "$tmp/LastTest.log"
