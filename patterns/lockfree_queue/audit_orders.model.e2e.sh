#!/usr/bin/env bash
# The memory-order audit through the CLI (issue 15): `cpbench check --family lockfree_queue
# --audit-orders --tier c11` prints, for every order of spsc_ring, vyukov_mpmc and ms_queue,
# "needed" with a replay command, "stronger than the checks need", or "relaxed"; a printed
# replay command reproduces its failure; bad --weaken arguments get one line and exit 2.
# Usage: audit_orders.model.e2e.sh CPBENCH WORK_DIR
set -euo pipefail
cpb=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }

"$cpb" check --family lockfree_queue --audit-orders --tier c11 --budget 0.3 \
  --out "$dir/audit.json" >"$dir/out.txt" 2>&1 || { cat "$dir/out.txt"; fail "the audit failed"; }

for impl in spsc_ring vyukov_mpmc ms_queue; do
  grep -q "^AUDIT lockfree_queue/$impl: " "$dir/out.txt" || fail "no audit of $impl"
done
# Every site line of the three queues has a verdict; every needed one, a replay per trial.
awk '
  /^AUDIT / { impl = $2; next }
  /^  [a-z]/ {
    if (impl ~ /mutex_ring/) next
    sites++
    verdict = substr($0, 3, 30); sub(/ +$/, "", verdict)
    if (verdict != "needed" && verdict != "stronger than the checks need" && verdict != "relaxed") {
      print "no verdict: " $0; bad = 1
    }
    needed = verdict == "needed"
    next
  }
  /^      / {
    if (needed && $0 !~ /; replay: cpbench check --mode model .* --weaken .* --replay cpb2:/) {
      print "needed without a replay: " $0; bad = 1
    }
    if (!needed && $0 !~ /: passes, [0-9]+ executions/ && $0 !~ /replay: /) {
      print "trial without an outcome: " $0; bad = 1
    }
  }
  END { if (sites < 30) { print "only " sites " sites"; bad = 1 } exit bad }
' "$dir/out.txt" || { cat "$dir/out.txt"; fail "malformed audit output"; }
n_needed=$(grep -c "^  needed " "$dir/out.txt")
n_stronger=$(grep -c "^  stronger than the checks need " "$dir/out.txt")
[ "$n_needed" -ge 10 ] || fail "only $n_needed orders needed"
grep -q "^audit: $n_needed needed, $n_stronger stronger than the checks need, " "$dir/out.txt" ||
  fail "the summary does not count the rows"

# The JSON has the same rows.
python3 - "$dir/audit.json" <<'PY' || fail "the JSON audit block is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
audit = {a["impl"]: a for a in doc["cpbench"]["audit"]}
for impl in ("spsc_ring", "vyukov_mpmc", "ms_queue"):
    rows = audit[impl]["rows"]
    assert rows, impl
    for r in rows:
        assert r["verdict"] in ("needed", "stronger than the checks need", "relaxed"), r
        if r["verdict"] == "needed":
            assert all(t["caught"] and t["replay"].startswith("cpb2:") for t in r["trials"]), r
spsc = [r for r in audit["spsc_ring"]["rows"] if r["order"] != "relaxed"]
assert len(spsc) == 4 and all(r["verdict"] == "needed" for r in spsc), spsc
PY

# A printed replay command reproduces its failure: the ring's tail published relaxed.
line=$(grep -A1 "^  needed  *store  *release  *patterns/lockfree_queue/spsc_ring.hpp" "$dir/out.txt" |
  grep -m1 "replay: cpbench check") || fail "no replay for spsc_ring's release stores"
kind=$(sed -E 's/^ *relaxed: ([a-z-]+) in .*/\1/' <<<"$line")
replay=${line#*replay: cpbench check }
set +e
# shellcheck disable=SC2086
"$cpb" check $replay --out "$dir/replay.json" >"$dir/replay.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || { cat "$dir/replay.txt"; fail "the replay exited $rc, want 1"; }
grep -q "CPB CHECK FAIL $kind .*strategy=replay tier=c11" "$dir/replay.txt" ||
  { cat "$dir/replay.txt"; fail "the replay did not reproduce the $kind"; }
grep -q "store(relaxed)" "$dir/replay.txt" || fail "the replay's trace has no relaxed store"

# Bad input: one line, exit 2.
expect_usage() {
  set +e
  "$cpb" check "$@" --out "$dir/bad.json" >"$dir/bad_out.txt" 2>"$dir/bad_err.txt"
  local rc=$?
  set -e
  [ $rc -eq 2 ] || { cat "$dir/bad_out.txt" "$dir/bad_err.txt"; fail "$*: exit $rc, want 2"; }
  [ "$(wc -l <"$dir/bad_err.txt")" -eq 1 ] || { cat "$dir/bad_err.txt"; fail "$*: not one line"; }
  grep -q -- "$EXPECT" "$dir/bad_err.txt" || { cat "$dir/bad_err.txt"; fail "$*: no '$EXPECT'"; }
}
EXPECT="expected FILE:LINE:COLUMN=ORDER" expect_usage --mode model --impl spsc_ring --weaken spsc
EXPECT="unknown order 'weird'" expect_usage --mode model --impl spsc_ring --weaken a.hpp:1:2=weird
EXPECT="the line 'x' is not a positive integer" expect_usage --mode model --weaken a.hpp:x:2=relaxed
EXPECT="needs the model checker" expect_usage --impl spsc_ring --audit-orders --mode stress
EXPECT="cannot be combined with --weaken or --replay" \
  expect_usage --impl spsc_ring --audit-orders --replay cpb2:0:0
echo "ok"
