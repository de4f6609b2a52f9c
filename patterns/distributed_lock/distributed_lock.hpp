// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `distributed_lock` family: lock services on real servers started on loopback by the
/// fixtures in servers.hpp (Redis, etcd, ZooKeeper), each client in a fenced and an unfenced
/// variant (lock.hpp is the concept). Every operation of every scenario is a whole critical
/// section: acquire, one write to the protected resource (fenced_store.hpp) with the grant's
/// token, release. `verify()` runs the safety checker over the recorded history, so a
/// benchmark whose lock let two holders write at once fails.
///
/// Scenarios (each benchmark thread has its own client: connection, lease or session):
///   one_lock    every thread takes the same lock: grants/s and the latency of a critical
///               section under contention (1 thread: the uncontended round trips);
///   many_locks  each operation takes one of `locks` locks at random: grants/s with little
///               contention.
/// Each entry's `label` is the engine and its version as the running server reports them
/// ("redis-server 7.0.15"); counters: `engine_version` (major*10000 + minor*100 + patch),
/// `grants`, `rejected_writes` (0 without faults), `lease_ms`. A server that cannot start
/// stops `cpbench run` with exit code 2 (SetupError).
/// The check `pause` runs the pause fault (pause_fault.hpp): fenced variants pass with 0
/// violations, unfenced ones fail with the overlap named.
/// No model check: the code under test is the servers' (DESIGN §2).
#pragma once

#include "harness/core/registry.hpp"
#include "harness/stress/result.hpp"
#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/fenced_store.hpp"
#include "patterns/distributed_lock/lock.hpp"
#include "patterns/distributed_lock/pause_fault.hpp"
#include "patterns/distributed_lock/redis_lock.hpp"
#include "patterns/distributed_lock/server_fault.hpp"
#include "patterns/distributed_lock/zookeeper_lock.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::distributed_lock {

namespace detail {

/// Starts `L`'s server for the life of the benchmark process, opens one client per benchmark
/// thread, and runs critical sections against a store that records the history.
template <LockClient L>
class Contention final : public Fixture {
 public:
  Contention(const Point& p, std::int64_t locks) : locks_(locks), lease_(p.get("lease_ms")) {
    if (const std::string why = L::unavailable(); !why.empty()) {
      throw ServerError(fmt::format("{} is unavailable here: {}", L::kName, why));
    }
    start_for_run(server_);
    LockOptions lo;
    lo.ttl = Millis(lease_);
    for (int i = 0; i < p.threads; ++i) clients_.push_back(std::make_unique<L>(*server_, lo));
    for (std::int64_t i = 0; i < locks_; ++i) {
      names_.push_back(fmt::format("bench-{}", i));
      // One protected resource per lock: each lock's tokens are ordered only among its grants
      // (Redis counts per lock; etcd revisions and ZooKeeper zxids are global, still fine).
      stores_.push_back(std::make_unique<FencedStore>(
          L::kFenced, kMaxRecords / static_cast<std::size_t>(locks_) + 1));
    }
  }
  ~Contention() override {
    clients_.clear();  // sessions and leases first, then the server
    server_.reset();
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    const int i = state.thread_index();
    L& client = *clients_[static_cast<std::size_t>(i)];
    std::minstd_rand rng(static_cast<unsigned>(i) * 7919U + 1U);
    std::uniform_int_distribution<std::size_t> pick(0, names_.size() - 1);
    meter.loop(state, [&] {
      const std::size_t k = names_.size() == 1 ? 0 : pick(rng);
      FencedStore& store = *stores_[k];
      const std::uint64_t invoked = steady_ns();
      const Grant g = client.acquire(names_[k]);
      const std::uint64_t id = store.granted(i, g.token, invoked, steady_ns());
      store.write(id, g.token);
      store.released(id, client.release(g), steady_ns());
    });
    if (i == 0) {
      state.SetLabel(fmt::format("{} {}", server_->engine(), server_->version()));
      state.counters["engine_version"] = static_cast<double>(server_->version_number());
      state.counters["lease_ms"] = static_cast<double>(lease_);
    }
    state.counters["grants"] = benchmark::Counter(static_cast<double>(meter.ops()));
  }

  std::string verify() override {
    std::uint64_t grants = 0;
    for (std::size_t k = 0; k < stores_.size(); ++k) {
      const Safety s = check(stores_[k]->history());
      grants += s.grants;
      if (s.violations() > 0) {
        return fmt::format("lock {}: {} safety violation(s): {}", names_[k], s.violations(),
                           s.first());
      }
    }
    if (grants == 0) return "no lock was granted";
    return {};
  }

 private:
  std::optional<typename L::Server> server_;
  std::vector<std::unique_ptr<L>> clients_;
  static constexpr std::size_t kMaxRecords = 4'000'000;  ///< all stores' records together
  std::vector<std::unique_ptr<FencedStore>> stores_;
  std::int64_t locks_;
  std::int64_t lease_;
  std::vector<std::string> names_;
};

inline ParamAxis lease_axis() {
  return {"lease_ms",
          "the lock's lease: Redis PX, etcd lease TTL (whole seconds), ZooKeeper session "
          "timeout (the fixture's server allows 400..4000 ms)",
          {4000},
          {},
          400,
          4000};
}

template <LockClient L>
std::vector<Scenario> scenarios() {
  std::vector<Scenario> out;
  out.push_back({"one_lock",
                 "every thread takes the same lock; one item = one critical section (acquire, "
                 "one fenced write, release)",
                 {lease_axis()},
                 ThreadAxis::runners({1, 4, 16}, {1, 4}),
                 1,
                 [](const Point& p) -> std::unique_ptr<Fixture> {
                   return std::make_unique<Contention<L>>(p, 1);
                 }});
  out.push_back({"many_locks",
                 "each critical section takes one of `locks` locks at random; one item = one "
                 "critical section",
                 {lease_axis(), {"locks", "distinct locks", {64}, {}, 1, 100000}},
                 ThreadAxis::runners({4, 16}, {4}),
                 1,
                 [](const Point& p) -> std::unique_ptr<Fixture> {
                   return std::make_unique<Contention<L>>(p, p.get("locks"));
                 }});
  return out;
}

/// A fault as a stress check, against a server of its own (started with `server_options`):
/// `run(server, result)` runs the fault, fills the result's stats and details and returns the
/// history's safety. Passes when the store accepted no overlapping or stale write; a server that
/// cannot start stops the command with exit code 2 (SetupError), any other error is the verdict
/// `error`.
template <LockClient L, class Run>
Check fault_check(std::string name, std::string description, Run run,
                  ServerOptions server_options = {}) {
  return {std::move(name),
          std::move(description),
          [run, server_options](const CheckConfig& c) {
            stress::CheckResult r;
            r.kind = "mutual_exclusion";
            r.seed = c.seed;
            const auto t0 = std::chrono::steady_clock::now();
            std::optional<typename L::Server> started;
            auto& server = start_for_run(started, server_options);
            try {
              const Safety s = run(server, r);
              r.samples = s.writes;
              for (const auto& line : s.problems) r.details += "\n" + line;
              if (s.violations() > 0) {
                r.verdict = stress::Verdict::kFail;
                r.failure = s.first();
              }
            } catch (const std::exception& e) {
              r.verdict = stress::Verdict::kError;
              r.failure = e.what();
            }
            r.elapsed_ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
            return r;
          },
          {}};
}

inline std::vector<std::pair<std::string, std::int64_t>> safety_stats(const Server& server,
                                                                      const Safety& s) {
  return {{"engine_version", server.version_number()},
          {"grants", static_cast<std::int64_t>(s.grants)},
          {"accepted_writes", static_cast<std::int64_t>(s.accepted)},
          {"rejected_writes", static_cast<std::int64_t>(s.rejected)},
          {"violations", static_cast<std::int64_t>(s.violations())}};
}

/// The pause fault (pause_fault.hpp) as a check.
template <LockClient L>
Check pause_check() {
  return fault_check<L>(
      "pause",
      "holder A (a child process) takes the lock and writes, is SIGSTOPped past its 1 s "
      "lease while B takes the lock, writes and releases, then resumes and writes with its "
      "old token; passes when the store accepted no overlapping or stale write",
      [](const typename L::Server& server, stress::CheckResult& r) {
        const PauseResult p = pause_holder<L>(server);
        r.stats = safety_stats(server, p.safety);
        r.stats.emplace_back("unavailable_ms",
                             static_cast<std::int64_t>(p.unavailable_ns / 1'000'000));
        r.details =
            fmt::format("{} {}; fenced: {}; A's write after the pause {}; A's release said {}",
                        server.engine(), server.version(), L::kFenced ? "yes" : "no",
                        p.a_second_write_accepted ? "accepted" : "rejected",
                        p.a_release_ok ? "still held" : "not held");
        return p.safety;
      });
}

/// A server fault (server_fault.hpp) as a check. `unavailable_ms`: the fault's length where A
/// kept the lock, else from the fault's start to B's grant; -1 when B got no grant, which also
/// fails the check (the lock stayed unavailable). `name` defaults to the fault's.
template <LockClient L>
Check server_fault_check(ServerFault f, std::string description, std::string name = {},
                         ServerOptions server_options = {}) {
  return fault_check<L>(
      name.empty() ? fault_name(f) : std::move(name), std::move(description),
      [f](typename L::Server& server, stress::CheckResult& r) {
        const ServerFaultResult x = server_fault<L>(server, f, fault_options(f));
        r.stats = safety_stats(server, x.safety);
        r.stats.emplace_back("fault_ms", static_cast<std::int64_t>(x.outage_ns / 1'000'000));
        // A kept the lock: only the fault itself stopped the service; A lost it: nobody could
        // hold it until B's grant.
        const std::uint64_t unavailable = x.a_release_ok ? x.outage_ns : x.outage_ns + x.b_wait_ns;
        r.stats.emplace_back("unavailable_ms",
                             x.b_granted ? static_cast<std::int64_t>(unavailable / 1'000'000) : -1);
        r.details = fmt::format(
            "{} {}; fenced: {}; B {} {} ms after the fault; A's write after it {}; A's release "
            "said {}",
            server.engine(), server.version(), L::kFenced ? "yes" : "no",
            x.b_granted ? "granted" : "not granted", x.b_wait_ns / 1'000'000,
            x.a_second_write_accepted ? "accepted" : "rejected",
            x.a_release_ok ? "still held" : "not held");
        if (!x.b_granted) throw ServerError("B got no grant after the fault: " + x.b_error);
        return x.safety;
      },
      std::move(server_options));
}

template <LockClient L>
std::vector<Check> checks() {
  constexpr const char* kEnd =
      "; B (a fresh client) then takes the lock, writes and releases, and A, which still "
      "believes it holds it, writes with its old token; passes when the store accepted no "
      "overlapping or stale write and B got the lock";
  std::vector<Check> out{
      pause_check<L>(),
      server_fault_check<L>(ServerFault::kRestart,
                            std::string("holder A takes the lock (4 s lease) and writes; the "
                                        "server is SIGKILLed and restarted on its data") +
                                kEnd),
      server_fault_check<L>(ServerFault::kPause,
                            std::string("holder A takes the lock (1 s lease) and writes; the "
                                        "server is SIGSTOPped for 1.5 s") +
                                kEnd),
      server_fault_check<L>(ServerFault::kPartition,
                            std::string("holder A takes the lock (1 s lease) and writes; a "
                                        "proxy holds A's traffic to the server for 2 s, "
                                        "until after A's late write") +
                                kEnd),
      server_fault_check<L>(ServerFault::kDelay,
                            std::string("holder A takes the lock (1 s lease) and writes; a "
                                        "proxy delays every byte of A's traffic by 2 s") +
                                kEnd)};
  // `restart` finds that Redis without persistence forgets the lock and restarts the fence
  // counter; this is the same fault against the configuration that keeps both.
  if constexpr (std::is_same_v<typename L::Server, RedisServer>) {
    ServerOptions aof;
    aof.redis_appendfsync = "always";
    out.push_back(server_fault_check<L>(
        ServerFault::kRestart,
        std::string("as restart, against a Redis with the append-only file on (appendfsync "
                    "always), so the lock key and the fence counter survive") +
            kEnd,
        "restart_aof", aof));
  }
  return out;
}

}  // namespace detail

template <LockClient L>
struct Family {
  static constexpr std::string_view kName = "distributed_lock";
  static constexpr std::string_view kDescription =
      "lock services on real servers started on loopback: Redis SET NX PX, an etcd lease with "
      "its lock API, the ZooKeeper ephemeral-sequential recipe; fenced and unfenced";
  static constexpr std::string_view kReference = "redis_fenced";
  static std::vector<Scenario> scenarios() { return detail::scenarios<L>(); }
  static std::vector<Check> checks() { return detail::checks<L>(); }
};

}  // namespace cpb::patterns::distributed_lock
