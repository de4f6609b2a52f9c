#!/usr/bin/env bash
# A cluster that cannot start, through the CLI: members whose binary exits at once make
# `cpbench run` and `cpbench check` print one line naming the member and exit 2, keep the
# result file, and leave none of the members' processes behind.
# Usage: etcd_cluster_bad_input.e2e.sh CPBENCH WORK_DIR
set -euo pipefail
cpb=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }
alive() {  # a zombie waiting for its reaper counts as gone
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# A member that starts a child and exits before it is ready.
printf '#!/bin/sh\nsleep 60 &\necho $$ $! >>"%s"\nexit 3\n' "$dir/pids" >"$dir/fake-etcd"
chmod +x "$dir/fake-etcd"

for cmd in "run --family consensus --impl etcd_cluster --scenario commit --quick --no-calibration" \
  "check --family consensus --impl etcd_cluster --mode stress"; do
  set +e
  # shellcheck disable=SC2086
  CPB_ETCD="$dir/fake-etcd" "$cpb" $cmd --out "$dir/r.json" >"$dir/out.txt" 2>"$dir/err.txt"
  rc=$?
  set -e
  [ $rc -eq 2 ] || { cat "$dir/out.txt" "$dir/err.txt"; fail "$cmd: exit $rc, want 2"; }
  [ "$(wc -l <"$dir/err.txt")" -eq 1 ] || { cat "$dir/err.txt"; fail "$cmd: not one line"; }
  grep -q "etcd: member m[0-9] exited before the cluster was ready" "$dir/err.txt" ||
    { cat "$dir/err.txt"; fail "$cmd: does not name the member"; }
  [ -s "$dir/r.json" ] || fail "$cmd: no result file"
done
[ -s "$dir/pids" ] || fail "the fake member never ran"
for pid in $(cat "$dir/pids"); do
  for _ in $(seq 100); do alive "$pid" || break; sleep 0.02; done
  if alive "$pid"; then fail "process $pid of a member left behind"; fi
done
echo "ok"
