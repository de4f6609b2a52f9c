// SPDX-License-Identifier: Apache-2.0
// Model checks: every own counter passes its registered model check; seeded-bug twins are
// caught (a sharded counter that increments a shared shard with load+store loses updates; a
// mutex counter that reads outside the lock races); and the checker shows the sharded
// counter's load returning a count that never existed once deltas exceed 1, while fetch_add
// passes the same program.
#include "patterns/atomic_counter/atomic_counter.hpp"

#include "harness/check/explore.hpp"
#include "harness/testing.hpp"
#include "patterns/atomic_counter/atomic_counter.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace cpb::patterns::atomic_counter {
namespace {

using S = check::Sync;

template <class C>
class CounterModel : public ::testing::Test {};
TYPED_TEST_SUITE(CounterModel, testing::ToGTest<Own>, testing::ImplName);

TYPED_TEST(CounterModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            1);
}

// -- seeded bugs ------------------------------------------------------------------------------

/// A sharded counter that assumes each shard has one writer and increments it with a relaxed
/// load and store instead of an RMW; with one shard (or more threads than shards) two threads
/// share it and an increment is lost.
template <class Sy>
class PlainShardCounter : public ShardedCounter<Sy> {
 public:
  void add(std::int64_t d) {
    auto& v = this->shards_[0].v;
    // Relaxed load and store: the bug is the missing RMW, not the order.
    v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
};

TEST(CounterSeededBugs, ShardIncrementWithoutAnRmwLosesUpdates) {
  testing::expect_caught(
      detail::increments_model<PlainShardCounter<S>>("atomic_counter/bug/plain_shard"),
      check::FailureKind::kAssertion);
}

/// A mutex counter whose load skips the lock ("a read of one word is atomic anyway").
template <class Sy>
class UnlockedLoadMutexCounter : public MutexCounter<Sy> {
 public:
  std::int64_t load() { return this->v_.load(); }
};

TEST(CounterSeededBugs, MutexCounterLoadOutsideTheLockIsADataRace) {
  testing::expect_caught(
      detail::increments_model<UnlockedLoadMutexCounter<S>>("atomic_counter/bug/unlocked_load"),
      check::FailureKind::kDataRace);
}

TEST(CounterSeededBugs, FixedTwinsPass) {
  testing::expect_passes(detail::increments_model<ShardedCounter<S>>("atomic_counter/fix/sharded"));
  testing::expect_passes(detail::increments_model<MutexCounter<S>>("atomic_counter/fix/mutex"));
}

// -- the sharded counter is not linearizable with deltas above 1 -------------------------------

/// add(2) completes before add(1) begins (t2 waits for t1's flag), so the count goes 0, 2, 3
/// and is never 1. A reader summing shard by shard can see the first shard before add(2) and
/// the second after add(1): 1.
template <Counter M>
check::TestCase never_one(std::string name) {
  struct State {
    M counter;
    S::atomic<int> first_done{0};
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& s) {
                                    s.counter.add(2);
                                    // Release pairs with t2's acquire: real-time order.
                                    s.first_done.store(1, std::memory_order_release);
                                  },
                                  [](State& s) {
                                    // Acquire pairs with t1's release store.
                                    while (s.first_done.load(std::memory_order_acquire) == 0) {
                                      S::yield();
                                    }
                                    s.counter.add(1);
                                  },
                                  [](State& s) { CPB_CHECK_ASSERT(s.counter.load() != 1); }});
}

TEST(ShardedCounterConsistency, LoadCanReturnACountThatNeverExisted) {
  testing::expect_caught(never_one<ShardedCounter<S>>("atomic_counter/sharded/never_one"),
                         check::FailureKind::kAssertion);
}

TEST(ShardedCounterConsistency, FetchAddCounterNeverDoes) {
  testing::expect_passes(never_one<FetchAddCounter<S>>("atomic_counter/fetch_add/never_one"));
}

}  // namespace
}  // namespace cpb::patterns::atomic_counter
