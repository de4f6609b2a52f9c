// SPDX-License-Identifier: Apache-2.0
// Model checks: every own lock's registered model checks pass under the model checker, a seeded
// bug twin (a lock that is wrong in one step) is caught with the expected kind, and the memory-
// order audit finds the MCS hand-off's release needed.
#include "patterns/mutex/mutex.hpp"

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/testing.hpp"
#include "patterns/mutex/futex.hpp"
#include "patterns/mutex/mutex.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::mutex {
namespace {

template <class L>
class MutexModel : public ::testing::Test {};
TYPED_TEST_SUITE(MutexModel, testing::ToGTest<OwnImpls>, testing::ImplName);

TYPED_TEST(MutexModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

// -- seeded bug twins ---------------------------------------------------------------------

/// FutexMutex with one step wrong: a waiter that wakes takes the lock as 1 ("nobody asleep")
/// instead of 2, forgetting the other sleepers; its unlock then wakes nobody (a lost wake-up).
template <class S = sync::Real>
class FutexLostWakeup {
 public:
  static constexpr std::string_view kName = "futex_lost_wakeup";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    std::uint32_t c = 0;
    if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
      return;
    }
    if (c != 2) c = word_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      futex_wait<S>(word_, 2);
      c = 0;
      // BUG: must be exchange(2): other sleepers may still be waiting.
      if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        return;
      }
      if (c != 2) c = word_.exchange(2, std::memory_order_acquire);
    }
  }
  bool try_lock() {
    std::uint32_t c = 0;
    return word_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  void unlock() {
    if (word_.exchange(0, std::memory_order_release) == 2) futex_wake<S>(word_, 1);
  }

 private:
  typename S::template atomic<std::uint32_t> word_{0};
};

/// Runs the family's mutual-exclusion model test on `Bug` and expects a failure of `kind`.
template <class Bug>
void expect_caught(std::string_view kind) {
  const auto model = check::model_mode([] {
    return detail::mutual_exclusion_model<Bug>(std::string("mutex/") + std::string(Bug::kName) +
                                               "/mutual_exclusion");
  });
  const stress::CheckResult r = model(testing::model_config());
  ASSERT_FALSE(r.passed()) << "the model checker missed the seeded bug in " << Bug::kName;
  EXPECT_EQ(r.verdict, stress::Verdict::kFail) << r.failure;
  EXPECT_EQ(r.kind, kind) << r.failure << "\n" << r.details;
}

TEST(MutexModelBugs, FutexLostWakeupIsADeadlock) {
  expect_caught<FutexLostWakeup<check::Sync>>("deadlock");
}

// Orders are audited on the real code (a copy of a lock with one order changed drifts from it).
TEST(MutexModelAudit, McsHandOffNeedsRelease) {
  // Clearing the successor's `waiting` flag relaxed would not carry the critical section to it.
  const auto rows = testing::audit_rows<Family<McsLock<>>>("mutex/mcs_lock.hpp");
  int handoffs = 0;
  for (const auto& row : rows) {
    if (row.site.op != check::OpKind::kStore || row.site.order != std::memory_order_release ||
        !row.needed()) {
      continue;
    }
    ++handoffs;
    EXPECT_EQ(row.trials[0].kind, "data-race") << check::site_name(row.site);
  }
  EXPECT_EQ(handoffs, 1);
}

}  // namespace
}  // namespace cpb::patterns::mutex
