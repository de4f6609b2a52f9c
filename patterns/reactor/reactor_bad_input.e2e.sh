#!/usr/bin/env bash
# Bad input to the servers: a port in use and a connection count above the fd limit each give
# one line on stderr and exit 2, and leave no server running (the command has exited, and
# nothing but the holder listens on the port). Usage: reactor_bad_input.e2e.sh CPBENCH WORK_DIR
set -uo pipefail
cpbench=$1 work=$2
serve="$(dirname "$cpbench")/cpb_reactor_serve"
rm -rf "$work" && mkdir -p "$work"
holder=
cleanup() {
  if [ -n "$holder" ]; then
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
  fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$serve" ] || fail "$serve is missing (patterns/CMakeLists.txt needs add_subdirectory(reactor))"

# expect_usage_error NAME COMMAND...: exit 2 and exactly one line on stderr.
expect_usage_error() {
  local name=$1
  shift
  timeout 30 "$@" >"$work/$name.out" 2>"$work/$name.err"
  local rc=$?
  [ $rc -eq 2 ] || fail "$name: expected exit 2, got $rc: $(cat "$work/$name.err")"
  [ "$(wc -l <"$work/$name.err")" -eq 1 ] || fail "$name: expected one line: $(cat "$work/$name.err")"
  grep -q "listening on" "$work/$name.out" && fail "$name: a server started"
  echo "$name: $(cat "$work/$name.err")"
}

# A port in use: python3 holds a listener on an OS-chosen port.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$work/holder.out" &
holder=$!
port=
for _ in $(seq 100); do
  port=$(head -n1 "$work/holder.out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || fail "the port holder did not start"
for impl in epoll_reactor multi_reactor libuv libevent asio; do
  expect_usage_error "port_in_use_$impl" "$serve" --impl "$impl" --port "$port" --seconds 5
  grep -q "in use" "$work/port_in_use_$impl.err" || fail "$impl: the error does not say 'in use'"
done
listeners=$(python3 - "$port" <<'PY'
import sys
port = int(sys.argv[1])
n = 0
for line in open("/proc/net/tcp").readlines()[1:]:
    local, state = line.split()[1], line.split()[3]
    if int(local.split(":")[1], 16) == port and state == "0A":
        n += 1
print(n)
PY
)
[ "$listeners" -eq 1 ] || fail "$listeners sockets listen on port $port; only the holder should"

# A connection count above the fd limit, for the server and for `cpbench run`.
expect_usage_error fd_limit_serve bash -c "ulimit -n 128 && exec \"\$0\" --connections 1000" "$serve"
grep -q "fd limit" "$work/fd_limit_serve.err" || fail "the error does not name the fd limit"
expect_usage_error fd_limit_run bash -c "ulimit -n 128 && exec \"\$0\" run --family reactor \
  --impl epoll_reactor --scenario '^http$' --param connections=1000 --out \"\$1/r.json\"" \
  "$cpbench" "$work"
[ -e "$work/r.json" ] && fail "cpbench run wrote results for a rejected connection count"
echo "reactor bad input ok"
