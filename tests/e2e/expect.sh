#!/usr/bin/env bash
# Usage: expect.sh RC REGEX CMD...
# Runs CMD; passes when it exits with RC and, for RC 2, prints exactly one line on stderr that
# matches REGEX (for other codes REGEX is matched against stdout+stderr).
set -uo pipefail
want_rc=$1 regex=$2
shift 2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
rc=$?
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
[ "$rc" -eq "$want_rc" ] || fail "exit code $rc, expected $want_rc"
if [ "$want_rc" -eq 2 ]; then
  lines=$(wc -l <"$err")
  [ "$lines" -eq 1 ] || fail "expected one line on stderr, got $lines"
  grep -Eq -- "$regex" "$err" || fail "stderr does not match /$regex/"
else
  cat "$out" "$err" | grep -Eq -- "$regex" || fail "output does not match /$regex/"
fi
echo "ok: exit $rc"
