#!/usr/bin/env bash
# Prints, for each test that ctest lists as failed, the first lines that say why: the gtest
# cases that failed, the first assertion with its values, a sanitizer's first report. For a test
# that shows none of these (a script, or a hang cut off by its timeout), the last lines of its
# output and how long it ran. A CI log shows only its tail, so scripts/test.sh prints this last,
# at most 24 lines in all.
# Usage: ci/failure_excerpt.sh BUILD_DIR
set -euo pipefail
tmp="$1/Testing/Temporary"
[ -f "$tmp/LastTestsFailed.log" ] && [ -f "$tmp/LastTest.log" ] || exit 0
awk -v failed="$(cut -d: -f2- "$tmp/LastTestsFailed.log" | tr '\n' ' ')" '
  function say(line) { if (total < 24) print substr(line, 1, 150); total++ }
  BEGIN { n = split(failed, f, " "); for (i = 1; i <= n; i++) want[f[i]] = 1 }
  /^[0-9]+\/[0-9]+ Test: / { name = $3; next }
  /^Output:$/ {
    inside = (name in want); cases = 0; context = 0; reports = 0; kept = 0; rule = 1; next
  }
  /^<end of output>$/ { if (inside && cases + reports == 0) tail_pending = 1; inside = 0; next }
  tail_pending && /^Test time = / {
    say(name ": failed after " $4 " s; its output ends:")
    for (i = (kept > 6 ? kept - 6 : 0); i < kept; i++) say("    " last[i % 6])
    tail_pending = 0; next
  }
  !inside { next }
  rule { rule = 0; if (/^-+$/) next }  # the ruler under "Output:"
  { last[kept % 6] = $0; kept++ }
  context > 0 { say("    " $0); context--; next }
  /^\[  FAILED  \] .* \([0-9]+ ms\)$/ && cases < 3 {
    sub(/,$/, "", $4); say(name ": failed " $4); cases++; next
  }
  reports == 0 && (/: Failure$/ || /(Thread|Address|UndefinedBehavior)Sanitizer|runtime error:/) {
    say(name ": " $0); context = 4; reports++
  }
' "$tmp/LastTest.log"
