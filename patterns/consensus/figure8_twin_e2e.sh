#!/usr/bin/env bash
# Usage: figure8_twin_e2e.sh CPBENCH_CONSENSUS_TWIN WORK_DIR
# Issue 14, Done-when 4: `cpbench check --family consensus --mode model`, on a cpbench with
# the seeded Figure 8 twin (own_raft_figure8) registered beside own_raft, exits 1: the twin is
# caught with an assertion of the Raft oracle and a replay string, while own_raft passes.
# `--replay` with that string fails the same way with the same trace; own_raft alone passes
# (exit 0) under every strategy.
set -uo pipefail
cpb=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
twin=consensus/own_raft_figure8/model_figure8

"$cpb" check --family consensus --mode model --out "$dir/found.json" >"$dir/found.txt" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$dir/found.txt"; fail "exit $rc, expected 1 with the twin registered"; }
grep -q "CPB CHECK FAIL assertion test=$twin" "$dir/found.txt" ||
  { cat "$dir/found.txt"; fail "no assertion summary line for $twin"; }
grep -q "leader completeness" "$dir/found.txt" || fail "the failure does not name leader completeness"
grep -Eq "^PASS +model +consensus/own_raft/model_figure8" "$dir/found.txt" ||
  { cat "$dir/found.txt"; fail "own_raft did not pass beside the twin"; }
replay=$(grep -Eo "^replay: cpb2:[0-9a-f]+:[0-9a-v]*:[0-9a-f]+" "$dir/found.txt" | head -1 | cut -d' ' -f2)
[ -n "$replay" ] || { cat "$dir/found.txt"; fail "no replay string printed"; }
trace() { sed -n '/^trace:/,$p' "$1" | grep -E '^ +#[0-9]+'; }
trace "$dir/found.txt" >"$dir/found.trace"
[ -s "$dir/found.trace" ] || fail "no trace printed"

sel=(--family consensus --impl own_raft_figure8 --mode model)
"$cpb" check "${sel[@]}" --replay "$replay" --out "$dir/replay.json" >"$dir/replay.txt" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$dir/replay.txt"; fail "replay: exit $rc, expected 1"; }
grep -q "CPB CHECK FAIL assertion test=$twin strategy=replay" "$dir/replay.txt" ||
  { cat "$dir/replay.txt"; fail "replay: not the same failure"; }
trace "$dir/replay.txt" | diff -q - "$dir/found.trace" >/dev/null ||
  fail "replay: the trace differs from the one found"

for s in dfs pct; do
  "$cpb" check "${sel[@]}" --strategy $s --out "$dir/twin_$s.json" >"$dir/twin_$s.txt" 2>&1
  rc=$?
  [ "$rc" -eq 1 ] || { cat "$dir/twin_$s.txt"; fail "twin under $s: exit $rc, expected 1"; }
done

"$cpb" check --family consensus --impl '^own_raft$' --mode model --out "$dir/fixed.json" \
  >"$dir/fixed.txt" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$dir/fixed.txt"; fail "own_raft: exit $rc, expected 0"; }
echo "ok: the twin caught ($(grep -m1 "CPB CHECK FAIL" "$dir/found.txt")), replayed with the same trace; own_raft passes"
