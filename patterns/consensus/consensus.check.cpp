// SPDX-License-Identifier: Apache-2.0
// Stress: the own Raft on real threads (one per node, as the benchmark runs it; under TSan in
// the tsan preset). Each round a fault thread takes random steps for a few milliseconds
// (election timeouts at random nodes, heartbeats, message drops and reorders, crashes and
// restarts) while a client proposes commands to whichever node leads. Then the faults stop,
// every node restarts, a leader is elected (again if deposed) and a final command of its term
// commits everything before it, and every node must have applied the same commands in the same
// order, with the oracle (election safety, leader completeness, state machine safety) silent
// throughout. Rounds repeat for CPB_STRESS_MS (default 300 ms), seeded: CPB_SEED=<seed> replays the
// same fault choices.
#include "patterns/consensus/consensus.hpp"

#include "harness/testing.hpp"
#include "patterns/consensus/own_raft.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cpb::patterns::consensus {
namespace {

using Cluster = RaftCluster<sync::Real>;

std::string faulty_round(std::mt19937_64& rng) {
  const int n = rng() % 2 == 0 ? 3 : 5;
  Cluster c(n, CommitRule::kCurrentTerm);
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
      detail::await([&] { return c.leader() >= 0; }, 0.05);
      continue;
    }
    const Index last = c.node(leader).propose(++final_cmd);
    if (last == 0) continue;
    settled = detail::await(
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

TEST(RaftStress, SafeAndConvergentUnderFaultsOnRealThreads) {
  testing::repeat_rounds(faulty_round);
}

TEST(RaftStress, CommitFixtureUnderContendedThreads) {
  // Five nodes and a window of 16 on however many cores there are: the fixture's own check.
  detail::CommitBench<OwnRaft<>> bench(5, 16);
  const auto until = std::chrono::steady_clock::now() + testing::stress_budget();
  int rounds = 0;
  while (std::chrono::steady_clock::now() < until && rounds < 10'000) {
    ASSERT_TRUE(bench.propose_and_wait());
    ++rounds;
  }
  EXPECT_EQ(bench.verify(), "") << rounds << " rounds";
}

}  // namespace
}  // namespace cpb::patterns::consensus
