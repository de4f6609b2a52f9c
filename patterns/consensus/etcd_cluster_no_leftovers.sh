#!/usr/bin/env bash
# No etcd member outlives the consensus server test binary: after a normal run, and after the
# binary is SIGKILLed while its cluster is up (the members' parent-death signal). Members are
# recognised by their data directories, which are under this test's own TMPDIR.
# Usage: etcd_cluster_no_leftovers.sh <cpb_server_test_consensus> <work dir>
set -euo pipefail
bin=$1
work=$2
if ! command -v "${CPB_ETCD:-etcd}" >/dev/null; then
  echo "skipped: etcd is not installed"
  exit 0
fi
rm -rf "$work"
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"

members() { pgrep -f -- "--data-dir $TMPDIR/" || true; }

wait_none() {
  for _ in $(seq 100); do
    [[ -z "$(members)" ]] && return 0
    sleep 0.05
  done
  echo "FAIL: etcd members left behind $1:"
  pgrep -af -- "--data-dir $TMPDIR/" || true
  exit 1
}

"$bin" --gtest_filter='EtcdCluster.ElectsOneLeader*' >"$work/normal.log" 2>&1 ||
  { cat "$work/normal.log"; exit 1; }
wait_none "after a normal exit"

"$bin" --gtest_filter='EtcdCluster.ElectsOneLeader*' --gtest_repeat=1000 >"$work/killed.log" 2>&1 &
pid=$!
for _ in $(seq 400); do
  [[ "$(members | wc -l)" -ge 3 ]] && break
  sleep 0.05
done
if [[ "$(members | wc -l)" -lt 3 ]]; then
  echo "FAIL: the cluster did not come up"
  cat "$work/killed.log"
  kill -KILL "$pid" 2>/dev/null || true
  exit 1
fi
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait_none "after the test binary was SIGKILLed"
echo "ok: no etcd member left behind"
