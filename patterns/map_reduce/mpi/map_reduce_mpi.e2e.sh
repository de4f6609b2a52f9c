#!/usr/bin/env bash
# `cpbench run` with mpi_alltoallv: it runs beside the others and verifies (exit 0); without
# mpirun it is skipped once with the reason (exit 0); a program that dies at start-up stops the
# run with a one-line error and exit code 2; `--threads 0` is exit 2. No mpirun or rank is left
# behind. Usage: map_reduce_mpi.e2e.sh CPBENCH WORK_DIR
set -uo pipefail
cpbench=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
mark="map_reduce_mpi_e2e_$$"
run() {
  CPB_E2E_MARK=$mark timeout 300 "$cpbench" run --family map_reduce --impl mpi_alltoallv --quick --min-time 0.01 \
    --repetitions 1 --no-calibration --out "$work/run.json" "$@" >"$work/run.out" 2>"$work/run.err"
}
# Every process started by run() inherits CPB_E2E_MARK: none may outlive it.
left() {
  local f pids=""
  for f in /proc/[0-9]*/environ; do
    grep -qz "^CPB_E2E_MARK=$mark\$" "$f" 2>/dev/null && pids+=" ${f//[!0-9]/}"
  done
  [ -z "$pids" ] || fail "processes left behind:$(for p in $pids; do printf ' [%s]' "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"; done)"
}

if [ -n "$("$cpbench" list impls --json | python3 -c '
import json, sys
print(next(i.get("unavailable", "") for i in json.load(sys.stdin)
           if i["family"] == "map_reduce" and i["name"] == "mpi_alltoallv"))')" ]; then
  echo "skipped: $("$cpbench" list impls | grep mpi_alltoallv)"
  exit 77
fi

run; rc=$?
[ $rc -eq 0 ] || fail "run exited $rc: $(cat "$work/run.err")"
python3 - "$work/run.json" <<'PY' || fail "run.json"
import json, sys
rows = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b["impl"] == "mpi_alltoallv"]
assert sorted(b["threads"] for b in rows) == [1, 2], rows
assert not any(b["error_occurred"] for b in rows), rows
PY
left

CPB_MPIRUN=/nonexistent run; rc=$?
[ $rc -eq 0 ] || fail "run without mpirun exited $rc: $(cat "$work/run.err")"
[ "$(grep -c "skipping map_reduce/mpi_alltoallv, unavailable here: CPB_MPIRUN=/nonexistent is not executable" "$work/run.err")" -eq 1 ] ||
  fail "run does not say once why it skips: $(cat "$work/run.err")"

CPB_MAP_REDUCE_MPI=/bin/false run; rc=$?
[ $rc -eq 2 ] || fail "a program that dies gave exit $rc, not 2: $(cat "$work/run.err")"
[ "$(grep -c "mpi job (. ranks): mpirun exited" "$work/run.err")" -eq 1 ] ||
  fail "no one-line error naming the job: $(cat "$work/run.err")"
left

run --threads 0; rc=$?
[ $rc -eq 2 ] || fail "--threads 0 gave exit $rc"
[ "$(wc -l <"$work/run.err")" -eq 1 ] || fail "--threads 0: not one line: $(cat "$work/run.err")"
echo PASS
