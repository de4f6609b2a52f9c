#!/usr/bin/env bash
# The own HTTP responders, standalone (cpb_reactor_serve, built next to cpbench), driven by wrk
# for about a second each: wrk sees non-zero requests and no errors, and a raw socket client
# gets the exact response bytes, pipelined. Then `cpbench run` of the open-loop scenario
# carries requests/s and latency percentiles in its JSON. Every server is stopped, also on
# failure (trap). Usage: reactor_wrk.e2e.sh CPBENCH WORK_DIR
set -uo pipefail
cpbench=$1 work=$2
serve="$(dirname "$cpbench")/cpb_reactor_serve"
rm -rf "$work" && mkdir -p "$work"
pid=
stop_server() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
  fi
}
trap stop_server EXIT
fail() { echo "FAIL: $*"; [ -f "$work/serve.err" ] && cat "$work/serve.err"; exit 1; }
[ -x "$serve" ] || fail "$serve is missing (patterns/CMakeLists.txt needs add_subdirectory(reactor))"
command -v wrk >/dev/null || fail "wrk is not installed"

impls=(epoll_reactor multi_reactor libuv)
if [ -z "${CPB_DISABLE_IO_URING:-}" ]; then impls+=(io_uring); fi
for impl in "${impls[@]}"; do
  "$serve" --impl "$impl" --protocol http --seconds 60 >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/serve.out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ] && grep -q "unavailable here" "$work/serve.err"; then
    echo "$impl skipped: $(cat "$work/serve.err")"
    stop_server
    continue
  fi
  [ -n "$port" ] || fail "$impl did not start"

  python3 - "$port" <<'PY' || fail "$impl: wrong response"
import socket, sys
want = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
        b"Connection: keep-alive\r\n\r\nHello, world!\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2)  # pipelined
got = b""
while len(got) < 2 * len(want):
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
s.close()
assert got == want * 2, got
PY

  wrk -t1 -c16 -d1s --timeout 2s "http://127.0.0.1:$port/" >"$work/wrk_$impl.txt" 2>&1 ||
    fail "$impl: wrk failed: $(cat "$work/wrk_$impl.txt")"
  requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$work/wrk_$impl.txt")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "$impl: wrk saw no requests: $(cat "$work/wrk_$impl.txt")"
  if grep -qE "Socket errors|Non-2xx" "$work/wrk_$impl.txt"; then
    fail "$impl: wrk saw errors: $(cat "$work/wrk_$impl.txt")"
  fi
  kill "$pid"
  wait "$pid"
  rc=$?
  pid=
  [ $rc -eq 0 ] || fail "$impl: the server exited with $rc on SIGTERM"
  echo "$impl: wrk $requests requests, no errors"
done

"$cpbench" run --family reactor --impl epoll_reactor --scenario http_open --quick \
  --min-time 0.01 --repetitions 1 --no-calibration --out "$work/r.json" >"$work/run.txt" 2>&1 ||
  fail "cpbench run failed: $(cat "$work/run.txt")"
python3 - "$work/r.json" <<'PY' || fail "the JSON lacks requests/s or latency percentiles"
import json, sys
doc = json.load(open(sys.argv[1]))
(e,) = [b for b in doc["benchmarks"] if "http_open" in b["name"]]
assert not e.get("error_occurred"), e
c = e["counters"]
assert c["requests_per_s"] > 0 and e["items_per_second"] > 0, e
assert 0 < c["lat_p50_ns"] <= c["lat_p99_ns"] <= c["lat_p999_ns"] <= c["lat_max_ns"], c
PY
echo "reactor wrk ok"
