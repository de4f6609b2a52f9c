#!/usr/bin/env bash
# Usage: model_replay_test.sh CPBENCH_FAULTY OUTDIR
# `cpbench check --mode model` on a plug-in lock with corpus entry 22's bug (relaxed unlock)
# must exit 1 and print a replay string; `--replay` with that string must fail the same way with
# the same trace, every time; a corrupted or foreign replay string is a usage error (exit 2).
set -uo pipefail
cpb=$1 dir=$2
mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
sel=(--family mutex --impl relaxed_unlock_lock --mode model)

"$cpb" check "${sel[@]}" --strategy dfs --out "$dir/found.json" >"$dir/found.txt" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$dir/found.txt"; fail "exit $rc, expected 1 for the buggy lock"; }
grep -q "CPB CHECK FAIL data-race" "$dir/found.txt" || fail "no data-race summary line"
replay=$(grep -Eo "^replay: cpb2:[0-9a-f]+:[0-9a-v]*:[0-9a-f]+" "$dir/found.txt" | head -1 | cut -d' ' -f2)
[ -n "$replay" ] || { cat "$dir/found.txt"; fail "no replay string printed"; }
trace() { sed -n '/^trace:/,$p' "$1" | grep -E '^ +#[0-9]+'; }
trace "$dir/found.txt" >"$dir/found.trace"
[ -s "$dir/found.trace" ] || fail "no trace printed"

for i in 1 2 3; do
  "$cpb" check "${sel[@]}" --replay "$replay" --out "$dir/replay$i.json" >"$dir/replay$i.txt" 2>&1
  rc=$?
  [ "$rc" -eq 1 ] || { cat "$dir/replay$i.txt"; fail "replay $i: exit $rc, expected 1"; }
  grep -q "CPB CHECK FAIL data-race test=mutex/relaxed_unlock_lock/mutual_exclusion strategy=replay" \
    "$dir/replay$i.txt" || { cat "$dir/replay$i.txt"; fail "replay $i: not the same failure"; }
  trace "$dir/replay$i.txt" | diff -q - "$dir/found.trace" >/dev/null ||
    fail "replay $i: the trace differs from the one found"
done

bad="${replay%?}x"  # corrupt the checksum
out=$("$cpb" check "${sel[@]}" --replay "$bad" --out "$dir/bad.json" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "checksum mismatch" ||
  { echo "$out"; fail "corrupted replay: exit $rc, expected 2 and one line naming the mismatch"; }
echo "ok: found, replayed 3 times with the same trace, corrupted string rejected"
