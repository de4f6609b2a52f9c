// SPDX-License-Identifier: Apache-2.0
// Model checks of Raft's Figure 8 (consensus.hpp: figure8_model): the registered model check of
// own_raft passes; the fixed Raft passes a DFS of the scenario within a preemption bound; the
// seeded twin, the same code with the commit rule switched to counting replicas, is caught (a
// leader of a later term lacks an entry reported committed) by bounded DFS and by PCT (not by
// a uniform random walk), and its replay string reproduces the same trace.
#include "patterns/consensus/consensus.hpp"

#include "harness/testing.hpp"
#include "patterns/consensus/consensus.impls.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace cpb::patterns::consensus {
namespace {

using Fixed = OwnRaft<check::Sync>;
using Twin = OwnRaftFigure8<check::Sync>;

TEST(ConsensusModel, RegisteredModelCheckPasses) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<OwnRaft<>>>(&Check::model,
                                                                      testing::model_config()),
            1);
}

TEST(ConsensusModel, FixedRaftPassesBoundedDfs) {
  check::Config c;
  c.strategy = check::Strategy::kDfs;
  c.preemption_bound = 1;  // bound 2: 510,000 executions in 120 s, not exhausted
  c.max_executions = 0;
  c.max_seconds = 15;
  const check::Result r = check::explore(c, detail::figure8_model<Fixed>("consensus/figure8"));
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted) << r.summary();
  std::printf("fixed: %s\n  executions %llu, pruned %llu, %.1f s, bound %d, exhausted %d\n",
              r.summary().c_str(), static_cast<unsigned long long>(r.executions),
              static_cast<unsigned long long>(r.pruned), r.seconds, r.bound, r.exhausted ? 1 : 0);
}

TEST(ConsensusModel, FixedRaftPassesRandomAndPct) {
  for (const check::Strategy s : {check::Strategy::kRandom, check::Strategy::kPct}) {
    check::Config c;
    c.strategy = s;
    c.max_executions = 5'000;
    c.max_seconds = 3;
    const check::Result r = check::explore(c, detail::figure8_model<Fixed>("consensus/figure8"));
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_GT(r.executions, 0U);
    std::printf("fixed, %s: %llu executions in %.1f s\n", std::string(to_string(s)).c_str(),
                static_cast<unsigned long long>(r.executions), r.seconds);
  }
}

TEST(ConsensusModel, Figure8TwinIsCaught) {
  const check::TestCase twin = detail::figure8_model<Twin>("consensus/figure8_twin");
  // Bounded DFS and PCT catch it. A uniform random walk does not (20,000 executions): S1 must
  // run some fifty scheduling points before S3's side takes its first, which a walk that
  // picks among four threads at every point almost never does.
  check::Config pct;
  pct.strategy = check::Strategy::kPct;
  pct.max_executions = 20'000;
  pct.max_seconds = 10;
  const check::Result by_pct = check::explore(pct, twin);
  ASSERT_FALSE(by_pct.ok()) << "PCT did not catch the twin: " << by_pct.summary();
  EXPECT_EQ(by_pct.failure->kind, check::FailureKind::kAssertion);
  std::printf("PCT: %s after %llu executions\n", by_pct.summary().c_str(),
              static_cast<unsigned long long>(by_pct.executions));

  const check::Result r = check::explore(testing::twin_dfs(), twin);
  ASSERT_FALSE(r.ok()) << r.summary();
  EXPECT_EQ(r.failure->kind, check::FailureKind::kAssertion);
  EXPECT_NE(r.failure->message.find("leader completeness"), std::string::npos)
      << r.failure->message;
  std::printf("caught: %s\n  %s\n  after %llu executions, %.2f s\nreplay: %s\n",
              r.summary().c_str(), r.failure->message.c_str(),
              static_cast<unsigned long long>(r.executions), r.seconds, r.failure->replay.c_str());
  check::Config replay = testing::twin_dfs();
  replay.replay = r.failure->replay;
  const check::Result again = check::explore(replay, twin);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.failure->trace, r.failure->trace);
  EXPECT_EQ(again.failure->message, r.failure->message);
}

TEST(ConsensusModel, Figure8TwinIsCaughtWhateverTheSpawnOrder) {
  // Bound 0 already tries every order in which the threads finish, so the first threads in
  // the search's order do not decide whether it finds the bug.
  const check::TestCase twin = detail::figure8_model<Twin>("consensus/figure8_twin_reversed",
                                                           /*reversed=*/true);
  const check::Result r = check::explore(testing::twin_dfs(), twin);
  ASSERT_FALSE(r.ok()) << r.summary();
  EXPECT_EQ(r.failure->kind, check::FailureKind::kAssertion);
  std::printf("reversed: %s after %llu executions\n", r.summary().c_str(),
              static_cast<unsigned long long>(r.executions));
  check::Config c = testing::twin_dfs();
  c.preemption_bound = 1;
  const check::Result fixed =
      check::explore(c, detail::figure8_model<Fixed>("consensus/figure8_reversed", true));
  EXPECT_TRUE(fixed.ok() && fixed.exhausted) << fixed.report();
}

TEST(ConsensusModel, TwinWithoutTheRacePasses) {
  // Figure 8 needs S3 to win term 5 after S1 counted its term-2 entry as committed. Without
  // S3's campaign the twin's early commit is never contradicted.
  testing::expect_passes(check::TestCase{"consensus/figure8_twin_no_rival", [] {
                                           using S = check::Sync;
                                           std::optional<Twin::Cluster> cluster(std::in_place, 3,
                                                                                Twin::kRule);
                                           auto& c = *cluster;
                                           detail::figure8_prefix(c);
                                           S::thread a([&c] { c.node(0).campaign(); });
                                           S::thread r0([&c] { c.pump(0); });
                                           S::thread r1([&c] { c.pump(1); });
                                           a.join();
                                           c.net().stop();
                                           r0.join();
                                           r1.join();
                                           const std::string v = c.oracle().violation();
                                           check::require(v.empty(), v);
                                           const check::NoThrow no_throw;
                                           cluster.reset();
                                         }});
}

}  // namespace
}  // namespace cpb::patterns::consensus
