// SPDX-License-Identifier: Apache-2.0
// Stress: the own Raft on real threads (one per node, as the benchmark runs it; under TSan in
// the tsan preset). Each round a fault thread takes random steps for a few milliseconds
// (election timeouts at random nodes, heartbeats, message drops and reorders, crashes and
// restarts) while a client proposes commands to whichever node leads. Then the faults stop,
// every node restarts, one is elected, its no-op-like final command commits everything before
// it, and every node must have applied the same commands in the same order, with the oracle
// (election safety, leader completeness, state machine safety) silent throughout. Rounds repeat
// for CPB_STRESS_MS (default 300 ms), seeded: CPB_SEED=<seed> replays the same fault choices.
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
  // Calm: everyone up, one leader, a final command of its term, heartbeats until all apply.
  for (int i = 0; i < n; ++i) c.node(i).restart();
  int leader = -1;
  for (int attempt = 0; attempt < 100 && leader < 0; ++attempt) {
    c.node(attempt % n).campaign();
    detail::await([&] { return c.leader() >= 0; }, 0.05);
    leader = c.leader();
  }
  if (leader < 0) return "no leader elected once the faults stopped";
  const Index last = c.node(leader).propose(1);
  if (last == 0) return "the calm leader refused a proposal";
  const bool settled = detail::await(
      [&] {
        c.node(leader).heartbeat();
        for (int i = 0; i < n; ++i) {
          if (c.node(i).view().applied.size() < last) return false;
        }
        return true;
      },
      10);
  c.stop();
  if (const std::string v = c.oracle().violation(); !v.empty()) return v;
  if (!settled) return "the nodes did not all apply the final command within 10 s";
  const std::vector<Command> want = c.node(leader).view().applied;
  for (int i = 0; i < n; ++i) {
    if (c.node(i).view().applied != want) return "S" + std::to_string(i + 1) + " applied otherwise";
  }
  if (want.back() != 1) return "the final command is not the last applied";
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
