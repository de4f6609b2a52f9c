// SPDX-License-Identifier: Apache-2.0
// Soundness of the checker's reductions on condition-variable code (issue 10): the programs
// that DPOR once skipped while calling the search complete.
#include "harness/check/explore.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cpb::check {
namespace {

using S = Sync;

Config dfs(int bound, bool dpor, bool sleep_sets) {
  Config c;
  c.strategy = Strategy::kDfs;
  c.preemption_bound = bound;
  c.dpor = dpor;
  c.sleep_sets = sleep_sets;
  c.max_executions = 0;
  c.max_seconds = 60;
  return c;
}

/// The program: thread 1 takes the mutex, claims `winner` if nobody has, and waits for
/// `go`; thread 2 claims `winner` if nobody has and sets `go`. The check fails when thread 2
/// locked first, which the search must reach.
struct Winner {
  S::mutex m;
  S::condition_variable cv;
  S::cell<int> winner{0};
  S::cell<bool> go{false};
};

template <bool kPredicate>
TestCase winner_test() {
  return make_test<Winner>(
      kPredicate ? "cv_winner_pred" : "cv_winner",
      {[](Winner& s) {
         std::unique_lock<S::mutex> lk(s.m);
         if (s.winner.load() == 0) s.winner.store(1);
         if constexpr (kPredicate) {
           s.cv.wait(lk, [&] { return s.go.load(); });
         } else {
           while (!s.go.load()) s.cv.wait(lk);
         }
       },
       [](Winner& s) {
         {
           std::unique_lock<S::mutex> lk(s.m);
           if (s.winner.load() == 0) s.winner.store(2);
           s.go.store(true);
         }
         s.cv.notify_all();
       }},
      [](Winner& s) { require(s.winner.load() == 1, "thread 2 locked first"); });
}

TEST(CheckSoundness, CondVarWaitReleasesItsMutex) {
  for (const TestCase& t : {winner_test<false>(), winner_test<true>()}) {
    for (const int bound : {-1, 0, 1, 2}) {
      for (const unsigned spurious : {0U, 2U}) {
        for (const bool dpor : {false, true}) {
          for (const bool sleep : {false, true}) {
            Config c = dfs(bound, dpor, sleep);
            c.max_spurious = spurious;
            const Result r = explore(c, t);
            ASSERT_FALSE(r.ok()) << t.name << " bound " << bound << " dpor " << dpor << " sleep "
                                 << sleep << " spurious " << spurious << ": " << r.summary();
            EXPECT_EQ(r.failure->kind, FailureKind::kAssertion) << r.report();
            EXPECT_FALSE(r.exhausted);
          }
        }
      }
    }
    for (const Strategy strategy : {Strategy::kRandom, Strategy::kPct}) {
      Config c;
      c.strategy = strategy;
      c.max_executions = 10'000;
      const Result r = explore(c, t);
      ASSERT_FALSE(r.ok()) << t.name << " " << to_string(strategy) << ": " << r.summary();
      EXPECT_EQ(r.failure->kind, FailureKind::kAssertion) << r.report();
    }
  }
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

/// A bounded buffer on one mutex and two condition variables; `kItems` items pass from a
/// producer to a consumer. Each execution records the order in which the threads hold the
/// mutex (a lock, or a wait that returns).
template <int kItems, int kCapacity>
struct Buffer {
  S::mutex m;
  S::condition_variable not_full, not_empty;
  S::cell<int> count{0};
  std::string* order = nullptr;
};

template <int kItems, int kCapacity>
TestCase buffer_test(std::set<std::string>* orders) {
  using St = Buffer<kItems, kCapacity>;
  return TestCase{"cv_buffer", [orders] {
                    std::string order;
                    {
                      St s;
                      s.order = &order;
                      S::thread producer([&s] {
                        for (int i = 0; i < kItems; ++i) {
                          std::unique_lock<S::mutex> lk(s.m);
                          *s.order += 'p';
                          while (s.count.load() == kCapacity) {
                            s.not_full.wait(lk);
                            *s.order += 'p';
                          }
                          s.count.store(s.count.load() + 1);
                          s.not_empty.notify_one();
                        }
                      });
                      S::thread consumer([&s] {
                        for (int i = 0; i < kItems; ++i) {
                          std::unique_lock<S::mutex> lk(s.m);
                          *s.order += 'c';
                          while (s.count.load() == 0) {
                            s.not_empty.wait(lk);
                            *s.order += 'c';
                          }
                          s.count.store(s.count.load() - 1);
                          s.not_full.notify_one();
                        }
                      });
                      producer.join();
                      consumer.join();
                    }
                    orders->insert(order);
                  }};
}

/// Every reduction sees every order in which the threads hold the mutex that the search
/// without reduction sees (8 with 2 items, 32 with 3). DPOR once ran 2 executions, saw 1
/// order and called the search exhausted.
template <int kItems>
void expect_every_order(unsigned spurious) {
  std::set<std::string> all;
  Config plain = dfs(-1, false, false);
  plain.max_spurious = spurious;
  const Result a = explore(plain, buffer_test<kItems, 1>(&all));
  ASSERT_TRUE(a.ok() && a.exhausted) << a.report();
  if (spurious == 0) {
    EXPECT_EQ(all.size(), kItems == 2 ? 8U : 32U);
  }
  for (const bool dpor : {false, true}) {
    for (const bool sleep : {false, true}) {
      if (!dpor && !sleep) continue;
      Config c = dfs(-1, dpor, sleep);
      c.max_spurious = spurious;
      std::set<std::string> seen;
      const Result r = explore(c, buffer_test<kItems, 1>(&seen));
      ASSERT_TRUE(r.ok() && r.exhausted) << r.report();
      EXPECT_EQ(seen, all) << "dpor " << dpor << " sleep " << sleep << " spurious " << spurious;
      EXPECT_LT(r.executions, a.executions);
      // With both reductions, one execution per order when nothing is spurious.
      if (dpor && sleep && spurious == 0) {
        EXPECT_EQ(r.executions, all.size());
      }
    }
  }
}

TEST(CheckSoundness, BufferOnTwoCondVarsEveryMutexOrder) {
  expect_every_order<2>(0);
  expect_every_order<2>(2);
  expect_every_order<3>(0);
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

struct Counter {
  S::atomic<int> a{0};
};

TEST(CheckObserver, SeesEveryExecutionWithItsPreemptionsWhenNotStopping) {
  // A lost update: load and store are separate; the failure needs one preemption.
  const auto t = make_test<Counter>("lost_update_all",
                                    {[](Counter& s) { s.a.store(s.a.load() + 1); },
                                     [](Counter& s) { s.a.store(s.a.load() + 1); }},
                                    [](Counter& s) { require(s.a.load() == 2, "lost update"); });
  Config c = dfs(-1, false, false);
  c.stop_on_failure = false;
  std::vector<ExecutionInfo> seen;
  c.on_execution = [&seen](const ExecutionInfo& e) { seen.push_back(e); };
  const Result r = explore(c, t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
  EXPECT_FALSE(r.exhausted);
  ASSERT_EQ(seen.size(), r.executions);
  unsigned fewest_failing = 99;
  unsigned passing = 0;
  for (const ExecutionInfo& e : seen) {
    EXPECT_EQ(e.bound, -1);
    if (e.kind == FailureKind::kNone) {
      ++passing;
    } else {
      EXPECT_EQ(e.kind, FailureKind::kAssertion);
      fewest_failing = std::min(fewest_failing, e.preemptions);
    }
  }
  EXPECT_GT(passing, 0U);
  EXPECT_EQ(fewest_failing, 1U);
  // Iterative bounding reports the bound each execution ran under.
  c.preemption_bound = 1;
  seen.clear();
  (void)explore(c, t);
  EXPECT_EQ(seen.front().bound, 0);
  EXPECT_EQ(seen.back().bound, 1);
}

}  // namespace
}  // namespace cpb::check
