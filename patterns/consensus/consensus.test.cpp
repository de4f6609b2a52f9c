// SPDX-License-Identifier: Apache-2.0
// Conformance of the own Raft, single-threaded and deterministic (messages delivered by
// deliver_all / deliver_one): with all nodes up one campaign elects exactly one leader per
// term, also when candidates compete; the log up-to-date check refuses a stale candidate;
// replication under message drops and reorders converges after heartbeats; a node that crashed
// catches up after its restart and rebuilds its state machine; a follower's conflicting suffix
// is truncated; the twin and the fix differ only in the commit rule (Figure 8 step by step:
// the twin commits S1's term-2 entry by counting replicas, the fix waits for a term-4 entry,
// and only the twin then loses a committed entry when S3 wins term 5). Then the commit
// scenario's fixture on real threads.
#include "patterns/consensus/consensus.hpp"

#include "harness/testing.hpp"
#include "patterns/consensus/consensus.impls.hpp"
#include "patterns/consensus/own_raft.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace cpb::patterns::consensus {
namespace {

using Cluster = RaftCluster<sync::Real>;

std::vector<Command> iota_commands(Command n) {
  std::vector<Command> v;
  for (Command c = 1; c <= n; ++c) v.push_back(c);
  return v;
}

/// Heartbeats and deliveries until every node applied `n` commands (or 50 rounds).
void settle(Cluster& c, int leader, std::size_t n) {
  for (int round = 0; round < 50; ++round) {
    c.node(leader).heartbeat();
    c.deliver_all();
    bool all = true;
    for (int i = 0; i < c.size(); ++i) all = all && c.node(i).view().applied.size() >= n;
    if (all) return;
  }
}

TEST(RaftElection, OneCampaignWithAllUpElectsExactlyTheCandidate) {
  for (const int n : {1, 3, 5}) {
    Cluster c(n, CommitRule::kCurrentTerm);
    c.node(n - 1).campaign();
    c.deliver_all();
    int leaders = 0;
    for (int i = 0; i < n; ++i) {
      const NodeView v = c.node(i).view();
      EXPECT_EQ(v.term, 1U) << "S" << i + 1;
      leaders += v.role == Role::kLeader ? 1 : 0;
    }
    EXPECT_EQ(leaders, 1);
    EXPECT_EQ(c.leader(), n - 1);
    EXPECT_EQ(c.oracle().violation(), "");
  }
}

TEST(RaftElection, CompetingCandidatesNeverGiveATermTwoLeaders) {
  std::mt19937_64 rng(testing::stress_seed());
  for (int round = 0; round < 200; ++round) {
    Cluster c(5, CommitRule::kCurrentTerm);
    for (int step = 0; step < 30; ++step) {
      const int who = static_cast<int>(rng() % 5);
      switch (rng() % 4) {
        case 0:
          c.node(who).campaign();
          break;
        case 1:
          c.node(who).propose(rng() % 1000 + 1);
          break;
        case 2:
          c.net().drop_any(who);
          break;
        default:
          c.deliver_one(who);
          break;
      }
    }
    c.deliver_all();
    ASSERT_EQ(c.oracle().violation(), "") << "round " << round;
    // At most one node leads each term.
    std::vector<int> lead_of_term(64, -1);
    for (int i = 0; i < 5; ++i) {
      const NodeView v = c.node(i).view();
      if (v.role != Role::kLeader) continue;
      ASSERT_EQ(lead_of_term[v.term], -1) << "two leaders of term " << v.term;
      lead_of_term[v.term] = i;
    }
  }
}

TEST(RaftElection, StaleCandidateIsRefused) {
  Cluster c(3, CommitRule::kCurrentTerm);
  c.node(0).campaign();
  c.deliver_all();
  c.node(2).crash();  // misses command 1
  c.node(0).propose(1);
  c.deliver_all();
  c.node(2).restart();
  c.node(2).campaign();  // term 2, but its log is behind S1's and S2's
  c.deliver_all();
  EXPECT_NE(c.node(2).view().role, Role::kLeader);
  EXPECT_EQ(c.leader(), -1);  // S1 stepped down to term 2, nobody leads it
  c.node(1).campaign();
  c.deliver_all();
  EXPECT_EQ(c.leader(), 1);
}

TEST(RaftReplication, ConvergesUnderDropsAndReorders) {
  std::mt19937_64 rng(testing::stress_seed());
  for (const int n : {3, 5}) {
    Cluster c(n, CommitRule::kCurrentTerm);
    c.node(0).campaign();
    c.deliver_all();
    ASSERT_EQ(c.leader(), 0);
    constexpr Command kCommands = 40;
    for (Command k = 1; k <= kCommands; ++k) {
      ASSERT_NE(c.node(0).propose(k), 0U);
      for (int f = 0; f < 3; ++f) {
        const int to = static_cast<int>(rng() % static_cast<unsigned>(n));
        if (rng() % 2 == 0) {
          c.net().drop_any(to);
        } else {
          c.net().reorder_any(to);
        }
        c.deliver_one(static_cast<int>(rng() % static_cast<unsigned>(n)));
      }
    }
    settle(c, 0, kCommands);
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(c.node(i).view().applied, iota_commands(kCommands)) << "S" << i + 1;
    EXPECT_EQ(c.oracle().violation(), "");
  }
}

TEST(RaftReplication, RestartedNodeCatchesUpAndReappliesItsLog) {
  Cluster c(3, CommitRule::kCurrentTerm);
  c.node(0).campaign();
  c.deliver_all();
  for (Command k = 1; k <= 3; ++k) c.node(0).propose(k);
  c.deliver_all();
  c.node(2).crash();
  EXPECT_TRUE(c.node(2).view().applied.empty());  // the state machine is volatile
  EXPECT_EQ(c.node(2).view().log.size(), 3U);     // the log is not
  for (Command k = 4; k <= 10; ++k) c.node(0).propose(k);
  c.deliver_all();
  EXPECT_EQ(c.node(0).view().commit, 10U);  // S1 and S2 are a majority
  c.node(2).restart();
  settle(c, 0, 10);
  EXPECT_EQ(c.node(2).view().log.size(), 10U);
  EXPECT_EQ(c.node(2).view().applied, iota_commands(10));
  EXPECT_EQ(c.oracle().violation(), "");
}

TEST(RaftReplication, ConflictingSuffixIsTruncated) {
  // Figure 8's prefix leaves S3 with (term 3, cmd 3) at index 2, which no majority holds. S1
  // is elected in term 4 without S3, commits command 4, then S3 rejoins: index 2 becomes
  // S1's.
  Cluster c(3, CommitRule::kCurrentTerm);
  detail::figure8_prefix(c);
  c.node(0).campaign();
  c.deliver_all();
  ASSERT_EQ(c.leader(), 0);
  c.node(0).propose(4);
  c.deliver_all();
  c.node(2).restart();
  settle(c, 0, 3);
  const std::vector<Entry> want = {{1, 1}, {2, 2}, {4, 4}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.node(i).view().log, want) << "S" << i + 1;
    EXPECT_EQ(c.node(i).view().applied, (std::vector<Command>{1, 2, 4})) << "S" << i + 1;
  }
  EXPECT_EQ(c.oracle().violation(), "");
}

/// Figure 8 (c)-(d), deterministic: S1 leads term 4 and copies its term-2 entry to S2; then S1
/// crashes and S3 campaigns for terms 4 and 5. Returns S1's commit index after (c).
Index figure8_steps(Cluster& c) {
  detail::figure8_prefix(c);
  c.node(0).campaign();
  c.deliver_all();
  EXPECT_EQ(c.leader(), 0);
  EXPECT_EQ(c.node(1).view().log.size(), 2U);  // index 2 (term 2) is on S1 and S2: a majority
  const Index commit_c = c.node(0).view().commit;
  c.node(0).crash();
  c.node(2).restart();
  c.node(2).campaign();
  c.node(2).campaign();
  c.deliver_all();
  EXPECT_EQ(c.leader(), 2);  // its last term 3 beats S2's 2
  return commit_c;
}

TEST(RaftFigure8, TwinAndFixDifferOnlyInTheCommitRule) {
  Cluster fixed(3, CommitRule::kCurrentTerm);
  Cluster twin(3, CommitRule::kCountReplicas);
  // S1 restarted (its commit index is volatile): the fix commits nothing of term 2 in term 4.
  EXPECT_EQ(figure8_steps(fixed), 0U);
  EXPECT_EQ(figure8_steps(twin), 2U);  // "committed" by counting replicas
  EXPECT_EQ(fixed.oracle().violation(), "");
  EXPECT_NE(twin.oracle().violation().find("leader completeness"), std::string::npos)
      << twin.oracle().violation();
  // Both overwrote index 2 on S2 with S3's entry; only the twin had reported it committed.
  EXPECT_EQ(fixed.node(1).view().log, (std::vector<Entry>{{1, 1}, {3, 3}}));
  EXPECT_EQ(twin.node(1).view().log, (std::vector<Entry>{{1, 1}, {3, 3}}));
}

TEST(RaftFigure8, CurrentTermEntryCommitsTheOlderOneIndirectly) {
  // Figure 8 (e): S1 gets an entry of its own term 4 onto a majority; that commits index 2
  // too, and S3 can no longer win.
  for (const CommitRule rule : {CommitRule::kCurrentTerm, CommitRule::kCountReplicas}) {
    Cluster c(3, rule);
    detail::figure8_prefix(c);
    c.node(0).campaign();
    c.deliver_all();
    c.node(0).propose(4);
    c.deliver_all();
    EXPECT_EQ(c.node(0).view().commit, 3U);
    c.node(0).crash();
    c.node(2).restart();
    c.node(2).campaign();
    c.node(2).campaign();
    c.deliver_all();
    EXPECT_EQ(c.leader(), -1);
    EXPECT_EQ(c.oracle().violation(), "");
  }
}

TEST(RaftBench, CommitFixtureAppliesEverythingInOrderOnRealThreads) {
  for (const int nodes : {1, 3, 5}) {
    detail::CommitBench<OwnRaft<>> bench(nodes, 4);
    for (int round = 0; round < 50; ++round) ASSERT_TRUE(bench.propose_and_wait());
    EXPECT_EQ(bench.verify(), "") << nodes << " nodes";
  }
}

}  // namespace
}  // namespace cpb::patterns::consensus
