// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `consensus` family: replicated logs agreed on by a majority. The concept, the `commit`
/// scenario (a client proposes commands to the leader of an in-process cluster whose nodes run
/// on threads of their own; commits/s and commit latency), and the model check of Raft's
/// Figure 8 (raft.hpp's nodes, network and crashes under the model checker: the fixed commit
/// rule passes, the twin that commits a previous term's entry by counting replicas is caught).
/// The reference, a real etcd cluster, brings its own scenarios (etcd_cluster.hpp).
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/consensus/raft.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cpb::patterns::consensus {

/// An in-process consensus implementation: `T::Cluster` is constructible from (nodes, rule)
/// and offers RaftCluster's surface (node(i).campaign/propose/heartbeat/view/wait_applied,
/// start/stop, leader, oracle); `T::kRule` is its commit rule.
template <class T>
concept ConsensusImpl = requires {
  typename T::Cluster;
  { T::kRule } -> std::convertible_to<CommitRule>;
  { T::kName } -> std::convertible_to<std::string_view>;
  { T::kProgress } -> std::convertible_to<Progress>;
};

/// An implementation that runs on servers outside this process (etcd_cluster.hpp): no
/// in-process cluster to benchmark or model-check, so it brings its own scenarios, with the
/// family's scenario names where they mean the same thing (`commit`), and its checks, if any
/// (`T::checks()`; etcd_cluster has `faults`, no model check).
template <class T>
concept ServerConsensus = requires {
  { T::kName } -> std::convertible_to<std::string_view>;
  { T::kProgress } -> std::convertible_to<Progress>;
  { T::scenarios() } -> std::same_as<std::vector<Scenario>>;
};

namespace detail {

/// Waits (polling, with sleeps) until `done()` or `seconds` pass; returns done().
template <class Done>
bool await(Done done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

/// commit: node 0 is elected, then each iteration the client (the benchmark thread) proposes
/// `window` commands to it and waits until the last is applied on the leader (committed by a
/// majority). verify() makes the followers catch up and checks that every node applied every
/// proposed command, in order, and that the oracle saw no violation.
template <ConsensusImpl T>
class CommitBench final : public Fixture {
 public:
  CommitBench(int nodes, int window) : cluster_(nodes, T::kRule), window_(window) {
    cluster_.start();
    cluster_.node(0).campaign();
    if (!await([&] { return cluster_.leader() == 0; }, 10)) {
      cluster_.stop();
      throw std::runtime_error("consensus: node 0 was not elected within 10 s");
    }
  }
  ~CommitBench() override { cluster_.stop(); }
  CommitBench(const CommitBench&) = delete;
  CommitBench& operator=(const CommitBench&) = delete;

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op(
          [&] {
            if (!propose_and_wait()) state.SkipWithError("a command was not committed");
          },
          static_cast<std::uint64_t>(window_));
    }
    meter.end();
  }

  /// One iteration: proposes `window` commands to the leader and waits until the last is
  /// applied there. False (and error_ set) if it was not within 10 s.
  bool propose_and_wait() {
    auto& leader = cluster_.node(0);
    Index last = 0;
    for (int k = 0; k < window_; ++k) last = leader.propose(++proposed_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    if (last != 0 &&
        leader.wait_applied(last, [&] { return std::chrono::steady_clock::now() > deadline; })) {
      return true;
    }
    if (error_.empty()) {
      error_ = fmt::format("command {} was not committed within 10 s", proposed_);
    }
    return false;
  }

  std::string verify() override {
    if (!error_.empty()) return error_;
    if (proposed_ == 0) return "nothing was proposed";
    cluster_.node(0).heartbeat();  // the followers learn the last commit index
    for (int i = 0; i < cluster_.size(); ++i) {
      auto& node = cluster_.node(i);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      if (!node.wait_applied(proposed_,
                             [&] { return std::chrono::steady_clock::now() > deadline; })) {
        return fmt::format("S{} applied {} of {} commands", i + 1, node.view().applied.size(),
                           proposed_);
      }
      const std::vector<Command> applied = node.view().applied;
      for (std::size_t k = 0; k < applied.size(); ++k) {
        if (applied[k] != k + 1) {
          return fmt::format("S{} applied command {} at index {}, expected {}", i + 1, applied[k],
                             k + 1, k + 1);
        }
      }
    }
    return cluster_.oracle().violation();
  }

 private:
  typename T::Cluster cluster_;
  const int window_;
  Command proposed_ = 0;  // the client's; the commands are 1, 2, 3 ...
  std::string error_;
};

// -- stress check ---------------------------------------------------------------------------------

/// One round of the `faults` stress check on real threads: a fault thread takes random steps
/// for 20 ms (election timeouts at random nodes, heartbeats, drops, reorders, crashes,
/// restarts) while a client proposes to whichever node leads; then calm: every node restarts,
/// a leader is elected (again if deposed) and a final command of its term must be applied by
/// every node, every node must have applied the same commands, and the oracle must be silent.
/// Returns what went wrong, or an empty string.
template <ConsensusImpl T>
std::string faulty_round(std::mt19937_64& rng) {
  const int n = rng() % 2 == 0 ? 3 : 5;
  typename T::Cluster c(n, T::kRule);
  c.start();
  std::atomic<bool> done{false};
  std::atomic<Command> proposed{0};
  std::thread client([&] {
    Command next = 1'000'000;
    while (!done.load()) {
      const int l = c.leader();
      if (l >= 0 && c.node(l).propose(++next) != 0) proposed.fetch_add(1);
      std::this_thread::yield();
    }
  });
  const std::uint64_t fault_seed = rng();
  std::thread faults([&] {
    std::mt19937_64 r(fault_seed);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (std::chrono::steady_clock::now() < until) {
      const int who = static_cast<int>(r() % static_cast<unsigned>(n));
      switch (r() % 8) {
        case 0:
          c.node(who).campaign();
          break;
        case 1:
          c.node(who).crash();
          break;
        case 2:
          c.node(who).restart();
          break;
        case 3:
          c.net().drop_any(who);
          break;
        case 4:
          c.net().reorder_any(who);
          break;
        default:
          c.node(who).heartbeat();
          break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(r() % 200));
    }
  });
  faults.join();
  done.store(true);
  client.join();
  // Calm: everyone up, then until all nodes apply a final command of a leader's term: elect
  // (a node whose stale log cannot win may still depose a leader with its higher term, as
  // Raft without PreVote allows, so a lost leadership means another election), propose,
  // heartbeat.
  for (int i = 0; i < n; ++i) c.node(i).restart();
  Command final_cmd = 0;
  bool settled = false;
  int campaigns = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    const int leader = c.leader();
    if (leader < 0) {
      c.node(campaigns++ % n).campaign();
      await([&] { return c.leader() >= 0; }, 0.05);
      continue;
    }
    const Index last = c.node(leader).propose(++final_cmd);
    if (last == 0) continue;
    settled = await(
        [&] {
          c.node(leader).heartbeat();
          for (int i = 0; i < n; ++i) {
            if (c.node(i).view().applied.size() < last) return false;
          }
          return true;
        },
        0.2);
  }
  c.stop();
  if (const std::string v = c.oracle().violation(); !v.empty()) return v;
  if (!settled) {
    return fmt::format("the nodes did not all apply a final command within 10 s ({} campaigns)",
                       campaigns);
  }
  const std::vector<Command> want = c.node(0).view().applied;
  for (int i = 0; i < n; ++i) {
    if (c.node(i).view().applied != want) return "S" + std::to_string(i + 1) + " applied otherwise";
  }
  if (want.empty() || want.back() != final_cmd) return "the final command is not the last applied";
  return {};
}

// -- model check ----------------------------------------------------------------------------------

/// Builds Figure 8's starting state on a 3-node cluster (S1, S2, S3 = nodes 0, 1, 2) with the
/// nodes' own steps, delivering every message in between (one thread, deterministic):
/// - S1 leads term 1 and commits command 1 at index 1 on all three;
/// - S1 restarts, leads term 2 and appends command 2 at index 2, then crashes before sending
///   it (the messages are lost);
/// - S3 leads term 3 with S2's vote and appends command 3 at index 2, then crashes (lost too);
/// - S1 restarts and times out once (a candidate of term 3, refused by S2, who voted for S3).
/// Afterwards: S1 term 3 log [1:1, 2:2]; S2 term 3 log [1:1]; S3 down, term 3 log [1:1, 3:3].
/// (The paper's figure has five servers; three suffice, see distributed-anchors.md §4.1.)
template <class Cluster>
void figure8_prefix(Cluster& c) {
  auto& s1 = c.node(0);
  auto& s3 = c.node(2);
  s1.campaign();
  c.deliver_all();
  s1.propose(1);
  c.deliver_all();
  s1.heartbeat();
  c.deliver_all();
  s1.crash();
  s1.restart();
  s1.campaign();
  c.deliver_all();
  s1.propose(2);
  s1.crash();
  c.net().clear();
  s3.campaign();
  c.deliver_all();
  s3.propose(3);
  s3.crash();
  c.net().clear();
  s1.restart();
  s1.campaign();
  c.deliver_all();
}

/// Figure 8 under the model checker. After figure8_prefix, these logical threads race; a
/// delivery step hands the node the next message in flight to it (its links in turn), if any,
/// so what a step delivers, and whether anything, depends on the interleaving:
/// - S1's side: S1 times out (term 4), then three rounds of "deliver to S2, deliver to S1"
///   (enough to win S2's vote, be rejected at index 2 and copy index 2 to S2);
/// - a client proposes command 4 to S1 (an entry of term 4 if S1 leads by then);
/// - S3's side: S1 crashes, S3 restarts and times out twice (terms up to 5: it can win with
///   S2's vote while S2's last entry is of term 2 or less), then four rounds of "deliver to
///   S2, deliver to S3" (enough to win and overwrite index 2 on S2);
/// - an adversary drops the next message into S2 and moves the oldest message of a link into
///   S2 behind the others (a reorder).
/// The oracle (raft.hpp: election safety, leader completeness, state machine safety) must see
/// no violation. With the counting-replicas rule, S1 commits command 2 in term 4 and S3 still
/// wins term 5 without it: caught.
template <ConsensusImpl M>
check::TestCase figure8_model(std::string name, bool reversed = false) {
  using S = check::Sync;
  return check::TestCase{std::move(name), [reversed] {
                           std::optional<typename M::Cluster> cluster(std::in_place, 3, M::kRule);
                           auto& c = *cluster;
                           figure8_prefix(c);
                           std::vector<std::function<void()>> sides = {
                               [&c] {  // S1's side
                                 c.node(0).campaign();
                                 for (int k = 0; k < 3; ++k) {
                                   c.deliver_one(1);
                                   c.deliver_one(0);
                                 }
                               },
                               [&c] { c.node(0).propose(4); },  // the client
                               [&c] {                           // S3's side
                                 c.node(0).crash();
                                 c.node(2).restart();
                                 c.node(2).campaign();
                                 c.node(2).campaign();
                                 for (int k = 0; k < 4; ++k) {
                                   c.deliver_one(1);
                                   c.deliver_one(2);
                                 }
                               },
                               [&c] {  // the adversary
                                 c.net().drop_any(1);
                                 c.net().reorder_any(1);
                               }};
                           // `reversed` spawns them in the opposite order (a search must not depend
                           // on it).
                           if (reversed) std::reverse(sides.begin(), sides.end());
                           std::vector<S::thread> threads;
                           threads.reserve(sides.size());
                           for (const auto& f : sides) threads.emplace_back(f);
                           for (auto& t : threads) t.join();
                           const std::string v = c.oracle().violation();
                           check::require(v.empty(), v);
                           const check::NoThrow no_throw;
                           cluster.reset();
                         }};
}

}  // namespace detail

template <class T>
requires ConsensusImpl<T> || ServerConsensus<T>
struct Family {
  static constexpr std::string_view kName = "consensus";
  static constexpr std::string_view kDescription =
      "consensus on a replicated log: a client's commands committed by a majority and applied "
      "in the same order on every node";
  /// The etcd cluster (etcd_cluster.hpp). Where etcd is not installed it is not run, and a
  /// reference without results only leaves the ratios out (reports/schema.cpp).
  static constexpr std::string_view kReference = "etcd_cluster";

  static std::vector<Scenario> scenarios() {
    if constexpr (ServerConsensus<T>) {
      return T::scenarios();
    } else {
      return in_process_scenarios();
    }
  }

  static std::vector<Check> checks() {
    if constexpr (ServerConsensus<T>) {
      if constexpr (requires { T::checks(); }) {
        return T::checks();
      } else {
        return {};
      }
    } else {
      return in_process_checks();
    }
  }

 private:
  static std::vector<Scenario> in_process_scenarios() {
    return {
        {"commit",
         "node 0 of a `nodes`-node in-process cluster (one thread per node, messages through "
         "in-memory links) is elected; the client thread proposes `window` commands to it and "
         "waits until the last is committed and applied on the leader; one item = one "
         "committed command. verify() checks every node applied every command in order",
         {{"nodes", "nodes in the cluster", {3, 5}, {3}, 1, 64},
          {"window", "commands proposed before waiting for their commit", {1, 16}, {1}, 1, 4096}},
         ThreadAxis::fixed({1}),
         16,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::CommitBench<T>>(static_cast<int>(p.get("nodes")),
                                                           static_cast<int>(p.get("window")));
         }},
    };
  }

  static std::vector<Check> in_process_checks() {
    std::vector<Check> checks = {
        {"faults",
         "stress on real threads: random elections, heartbeats, message drops and reorders, "
         "crashes and restarts while a client proposes; then calm, and every node must apply "
         "the same commands with no safety violation (election safety, leader completeness, "
         "state machine safety)",
         [](const CheckConfig& c) {
           stress::CheckResult r;
           r.name = fmt::format("consensus/{}/faults", T::kName);
           r.kind = "invariant";
           r.seed = c.seed != 0 ? c.seed : std::random_device{}();
           const auto budget = c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(1000);
           r.budget_ms = budget.count();
           std::mt19937_64 rng(r.seed);
           const auto start = std::chrono::steady_clock::now();
           do {
             const std::string wrong = detail::faulty_round<T>(rng);
             ++r.samples;
             if (!wrong.empty()) {
               r.verdict = stress::Verdict::kFail;
               r.failure = fmt::format("round {}: {}", r.samples, wrong);
               break;
             }
           } while (std::chrono::steady_clock::now() - start < budget);
           r.elapsed_ms =
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                   .count();
           return r;
         },
         {}}};
    if constexpr (sync::sync_templated<T>) {
      using M = sync::rebind_t<T, check::Sync>;
      checks.push_back(
          {"model_figure8",
           "model check: Raft's Figure 8 on 3 nodes (S1 re-elected in term 4 replicates its "
           "term-2 entry while S3 may win term 5 and overwrite it; a client, message drops "
           "and reorders race): no two leaders of a term, every committed entry in every "
           "later leader's log, no two nodes apply different entries at an index",
           {},
           check::model_mode([] {
             return detail::figure8_model<M>(fmt::format("consensus/{}/model_figure8", T::kName));
           })});
    }
    return checks;
  }
};

}  // namespace cpb::patterns::consensus
