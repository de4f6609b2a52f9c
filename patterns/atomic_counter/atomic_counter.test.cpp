// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in counter, through one typed suite.
#include "patterns/atomic_counter/atomic_counter.hpp"

#include "harness/testing.hpp"
#include "patterns/atomic_counter/atomic_counter.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace cpb::patterns::atomic_counter {
namespace {

template <class C>
class CounterTest : public ::testing::Test {};
TYPED_TEST_SUITE(CounterTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(CounterTest, SatisfiesTheConcept) { static_assert(Counter<TypeParam>); }

TYPED_TEST(CounterTest, StartsAtZeroAndAdds) {
  TypeParam c;
  EXPECT_EQ(c.load(), 0);
  c.add(1);
  c.add(41);
  EXPECT_EQ(c.load(), 42);
  c.add(-2);
  EXPECT_EQ(c.load(), 40);
}

TYPED_TEST(CounterTest, FetchAddReturnsTheValueBefore) {
  if constexpr (FetchAddable<TypeParam>) {
    TypeParam c;
    EXPECT_EQ(c.fetch_add(5), 0);
    EXPECT_EQ(c.fetch_add(2), 5);
    EXPECT_EQ(c.load(), 7);
  } else {
    GTEST_SKIP() << "no fetch_add";
  }
}

TYPED_TEST(CounterTest, ConcurrentAddsLoseNothingAndLoadsNeverGoBack) {
  TypeParam c;
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  std::atomic<int> backwards{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::int64_t last = 0;
      for (int i = 0; i < kEach; ++i) {
        c.add(1);
        if (i % 64 == 0) {
          const auto v = c.load();
          if (v < last || v < i + 1) backwards.fetch_add(1);
          last = v;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(backwards.load(), 0);
  EXPECT_EQ(c.load(), std::int64_t{kThreads} * kEach);
}

TYPED_TEST(CounterTest, ManyShortLivedThreads) {
  // More threads than any shard count, each adding once: shared shards and fresh per-thread
  // elements must count as well as long-lived threads.
  TypeParam c;
  for (int round = 0; round < 8; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) threads.emplace_back([&] { c.add(3); });
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(c.load(), 8 * 8 * 3);
}

TEST(BoundedLoads, AcceptsLoadsInsideTheirWindowAndRejectsOthers) {
  using Op = stress::Op;
  // add(2) [1,2], add(1) [3,4]; a load [5,6] must read 3 exactly, a load [2,4] anything in [0, 3].
  stress::History h{Op{0, AddLoadSpec::kAdd, 2, 0, true, 0, 1, 2},
                    Op{0, AddLoadSpec::kAdd, 1, 0, true, 0, 3, 4},
                    Op{1, AddLoadSpec::kLoad, 0, 0, true, 3, 5, 6},
                    Op{2, AddLoadSpec::kLoad, 0, 0, true, 1, 2, 4}};
  EXPECT_TRUE(check_bounded_loads(h, 1).passed());
  h[2].value = 2;  // a quiescent load that missed an add
  const auto r = check_bounded_loads(h, 1);
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.stat("bad_loads"), 1);
}

}  // namespace
}  // namespace cpb::patterns::atomic_counter
