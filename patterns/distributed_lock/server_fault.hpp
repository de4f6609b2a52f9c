// SPDX-License-Identifier: Apache-2.0
/// @file
/// Faults of the server rather than of the holder:
///   restart  SIGKILL of the server's whole process group, then the same server on the same
///            port and data directory (what survives is what the engine persisted);
///   pause    SIGSTOP of the server for longer than the lease, then SIGCONT;
///   partition  A reaches the server through a LinkProxy, which holds all of A's traffic for
///            longer than the lease (A keeps running, B connects directly); the link heals
///            after A's second write;
///   delay    the same link delays each byte of A's traffic, both ways, by `pause` (longer
///            than the lease: A's renewals arrive late), then is fast again after A's second
///            write (bytes already on their way keep their delay).
/// The run: holder A acquires and writes; the fault; client B (a thread, a fresh client) tries
/// to acquire, write and release. Once B has written (or has waited `b_window` in acquire), A,
/// which still believes it holds the lock, writes again and releases (retrying once across the
/// reconnect), then closes its client.
/// A partition lasts until after A's second write: A writes while it is cut off.
/// The same checker as the pause fault judges the history. What each engine does is reported,
/// not assumed: e.g. Redis without persistence forgets both the lock and the fence counter on
/// a restart, so even its fenced variant hands out a token that was already used.
#pragma once

#include "patterns/distributed_lock/fenced_store.hpp"
#include "patterns/distributed_lock/link_proxy.hpp"
#include "patterns/distributed_lock/lock.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace cpb::patterns::distributed_lock {

enum class ServerFault { kRestart, kPause, kPartition, kDelay };

struct ServerFaultOptions {
  Millis ttl{4000};         ///< the clients' lease
  Millis pause{6000};       ///< how long a pause, partition or delay lasts before B starts
  Millis b_timeout{15000};  ///< B gives up acquiring after this
  Millis b_window{1000};    ///< A writes again after B has waited this long in acquire
  std::string lock = "server-fault";
};

/// "restart", "server_pause", "partition", "delay": the check names of the faults.
inline const char* fault_name(ServerFault f) {
  switch (f) {
    case ServerFault::kRestart:
      return "restart";
    case ServerFault::kPause:
      return "server_pause";
    case ServerFault::kPartition:
      return "partition";
    case ServerFault::kDelay:
      return "delay";
  }
  return "?";
}

/// The lease and fault length each fault is run with (by the tests and the checks): a 4 s
/// lease across a restart; a 1 s lease (etcd's smallest TTL) against a 1.5 s server pause, and
/// against a 2 s partition or link delay (etcd checks for expired leases every 500 ms).
inline ServerFaultOptions fault_options(ServerFault f) {
  ServerFaultOptions o;
  if (f == ServerFault::kPause) {
    o.ttl = Millis(1000);
    o.pause = Millis(1500);
  } else if (f == ServerFault::kPartition || f == ServerFault::kDelay) {
    o.ttl = Millis(1000);
    o.pause = Millis(2000);
  }
  o.lock = fault_name(f);
  return o;
}

struct ServerFaultResult {
  History history;
  Safety safety;
  std::uint64_t outage_ns = 0;  ///< the fault: restart until ready again, or the pause
  std::uint64_t b_wait_ns = 0;  ///< from the fault's end to B's grant (or its giving up)
  bool b_granted = false;
  bool b_write_accepted = false;
  bool a_release_ok = false;
  bool a_second_write_accepted = false;  ///< A's write after the fault
  std::string b_error;                   ///< why B got no grant, if it did not
};

template <LockClient L>
ServerFaultResult server_fault(typename L::Server& server, ServerFault fault,
                               const ServerFaultOptions& opt = {}) {
  FencedStore store(L::kFenced);
  ServerFaultResult res;
  LockOptions lo;
  lo.ttl = opt.ttl;
  std::optional<LinkProxy> link;  // A's link to the server, for the partition and the delay
  LockOptions alo = lo;
  if (fault == ServerFault::kPartition || fault == ServerFault::kDelay) {
    link.emplace(server.port());
    alo.port = link->port();
  }
  std::optional<L> a(std::in_place, server, alo);
  const std::uint64_t a_invoked = steady_ns();
  const Grant ga = a->acquire(opt.lock);
  const std::uint64_t grant_a = store.granted(0, ga.token, a_invoked, steady_ns());
  store.write(grant_a, ga.token);

  const std::uint64_t t0 = steady_ns();
  if (fault == ServerFault::kRestart) {
    server.kill_and_restart();
  } else if (fault == ServerFault::kPause) {
    server.pause();
    std::this_thread::sleep_for(opt.pause);
    server.resume();
  } else {
    if (fault == ServerFault::kPartition) {
      link->set_mode(LinkProxy::Mode::kHold);
    } else {
      link->set_delay(opt.pause);
    }
    std::this_thread::sleep_for(opt.pause);
  }
  const std::uint64_t back = steady_ns();
  res.outage_ns = back - t0;

  // A writes again once B has written (or given up), or once B has waited `b_window` in
  // acquire: B then waits for A's release. A fixed delay from B's start instead would race
  // with B's connect, which is slow under a sanitizer on a loaded machine.
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t b_invoked = 0;  // when B asked for the lock; 0 before
  bool b_done = false;          // B wrote, or gave up
  auto b_says = [&](auto&& note) {
    {
      std::lock_guard lock(m);
      note();
    }
    cv.notify_one();
  };
  std::thread b([&] {
    try {
      LockOptions blo = lo;
      blo.acquire_timeout = opt.b_timeout;
      L client(server, blo);
      const std::uint64_t invoked = steady_ns();
      b_says([&] { b_invoked = invoked; });
      const Grant g = client.acquire(opt.lock);
      const std::uint64_t granted = steady_ns();
      res.b_wait_ns = granted - back;
      res.b_granted = true;
      const std::uint64_t id = store.granted(1, g.token, invoked, granted);
      res.b_write_accepted = store.write(id, g.token);
      b_says([&] { b_done = true; });
      store.released(id, client.release(g), steady_ns());
    } catch (const std::exception& e) {
      res.b_wait_ns = steady_ns() - back;
      res.b_error = e.what();
      b_says([&] { b_done = true; });
    }
  });
  {
    const auto window = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(opt.b_window).count());
    std::unique_lock lock(m);
    while (!b_done && (b_invoked == 0 || steady_ns() - b_invoked < window)) {
      cv.wait_for(lock, Millis(10));
    }
  }
  res.a_second_write_accepted = store.write(grant_a, ga.token);  // A believes it holds the lock
  if (link) {  // the partition heals, the link is fast again
    link->set_mode(LinkProxy::Mode::kPass);
    link->set_delay(Millis(0));
  }
  bool ok = false;
  for (int attempt = 0; attempt < 2; ++attempt) {  // the first request may meet the old socket
    try {
      ok = a->release(ga);
      break;
    } catch (const ServerError&) {
    }
  }
  res.a_release_ok = ok;
  store.released(grant_a, ok, steady_ns());
  try {
    a.reset();  // closes A's session or revokes its lease: B is not left waiting on it
  } catch (...) {
  }
  b.join();
  res.history = store.history();
  res.safety = check(res.history);
  return res;
}

}  // namespace cpb::patterns::distributed_lock
