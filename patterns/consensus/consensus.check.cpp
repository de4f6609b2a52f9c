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

TEST(RaftStress, SafeAndConvergentUnderFaultsOnRealThreads) {
  testing::repeat_rounds(detail::faulty_round<OwnRaft<>>);
}

TEST(RaftStress, RegisteredStressCheckPasses) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<OwnRaft<>>>(&Check::stress,
                                                                      testing::stress_config()),
            1);
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
