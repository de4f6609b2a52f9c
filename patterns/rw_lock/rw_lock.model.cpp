// SPDX-License-Identifier: Apache-2.0
// Model checks: every own reader-writer lock passes its registered model checks (the same
// code as benchmarked, with the sync policy rebound to the checker's), and seeded-bug twins
// of them are caught with the expected kind of failure.
#include "patterns/rw_lock/rw_lock.hpp"

#include "harness/check/explore.hpp"
#include "harness/testing.hpp"
#include "patterns/rw_lock/rw_lock.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

namespace cpb::patterns::rw_lock {
namespace {

using S = check::Sync;

template <class L>
class RwLockModel : public ::testing::Test {};
using Own = ::testing::Types<RwSpinlock<>, BigReaderLock<>, Seqlock<>>;
TYPED_TEST_SUITE(RwLockModel, Own, testing::ImplName);

TYPED_TEST(RwLockModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            2);
}

// -- seeded bugs ------------------------------------------------------------------------------

/// A seqlock whose reader never re-checks the sequence: it accepts whatever it read, even
/// while a writer was halfway through.
template <class Sy>
class NoRecheckSeqlock : public Seqlock<Sy> {
 public:
  [[nodiscard]] bool read_retry(typename Seqlock<Sy>::sequence) const { return false; }
};

TEST(RwLockSeededBugs, SeqlockReaderThatDoesNotRecheckSeesATornPair) {
  testing::expect_caught(
      detail::readers_model<NoRecheckSeqlock<S>>("rw_lock/bug/seqlock_no_recheck"),
      check::FailureKind::kAssertion);
}

/// A writer-preferring spinlock whose writer releases the lock with a relaxed RMW: the next
/// reader acquires nothing, so its loads race with the writer's stores.
template <class Sy>
class RelaxedUnlockRwSpinlock : public RwSpinlock<Sy> {
 public:
  void unlock() { this->state_.fetch_and(~RwSpinlock<Sy>::kWriter, std::memory_order_relaxed); }
};

TEST(RwLockSeededBugs, RwSpinlockWriterUnlockWithRelaxedOrderIsADataRace) {
  testing::expect_caught(
      detail::readers_model<RelaxedUnlockRwSpinlock<S>>("rw_lock/bug/rw_spinlock_relaxed_unlock"),
      check::FailureKind::kDataRace);
}

/// A big-reader lock whose reader leaves its slot with a relaxed decrement: the writer that
/// sees the slot drained acquires only what preceded the reader's announcing increment, not
/// the reader's loads, so they race with the writer's stores.
template <class Sy>
class RelaxedLeaveBigReaderLock : public BigReaderLock<Sy> {
 public:
  void unlock_shared() { this->my_slot().readers.fetch_sub(1, std::memory_order_relaxed); }
};

TEST(RwLockSeededBugs, BigReaderLockRelaxedUnlockSharedIsADataRace) {
  testing::expect_caught(
      detail::writers_model<RelaxedLeaveBigReaderLock<S>>("rw_lock/bug/big_reader_relaxed_leave"),
      check::FailureKind::kDataRace);
}

// The fixed twins (the real implementations) pass the same tests under the same search.
TEST(RwLockSeededBugs, FixedTwinsPass) {
  for (const check::Config& c : {testing::twin_dfs(), testing::twin_random_walk()}) {
    for (const auto& t : {detail::readers_model<Seqlock<S>>("rw_lock/fix/seqlock"),
                          detail::readers_model<RwSpinlock<S>>("rw_lock/fix/rw_spinlock"),
                          detail::writers_model<BigReaderLock<S>>("rw_lock/fix/big_reader")}) {
      check::Config bounded = c;
      bounded.max_seconds = 1;
      const check::Result r = check::explore(bounded, t);
      EXPECT_TRUE(r.ok()) << r.report();
      EXPECT_GT(r.executions, 0U);
    }
  }
}

}  // namespace
}  // namespace cpb::patterns::rw_lock
