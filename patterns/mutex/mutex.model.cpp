// SPDX-License-Identifier: Apache-2.0
// Model checks: every own lock's registered model checks pass under the model checker, and two
// seeded bug twins (a lock that is wrong in one step) are caught with the expected kind.
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

/// McsLock with one step wrong: unlock hands the lock to its successor with a relaxed store, so
/// nothing orders the holder's critical section before the successor's (a data race).
template <class S = sync::Real>
class McsRelaxedHandoff {
 public:
  static constexpr std::string_view kName = "mcs_relaxed_handoff";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    for (;;) {
      Node* prev = tail_.load(std::memory_order_relaxed);
      if (prev == nullptr) {
        if (tail_.compare_exchange_weak(prev, &head_, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
          return;
        }
        continue;
      }
      Node me;
      if (!tail_.compare_exchange_weak(prev, &me, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        continue;
      }
      prev->next.store(&me, std::memory_order_release);
      sync::Backoff<S> backoff;
      while (me.waiting.load(std::memory_order_acquire)) backoff();
      Node* succ = me.next.load(std::memory_order_acquire);
      if (succ == nullptr) {
        head_.next.store(nullptr, std::memory_order_relaxed);
        Node* expected = &me;
        if (tail_.compare_exchange_strong(expected, &head_, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) {
          return;
        }
        while ((succ = me.next.load(std::memory_order_acquire)) == nullptr) backoff();
      }
      head_.next.store(succ, std::memory_order_relaxed);
      return;
    }
  }
  bool try_lock() {
    Node* expected = nullptr;
    return tail_.compare_exchange_strong(expected, &head_, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  void unlock() {
    Node* succ = head_.next.load(std::memory_order_acquire);
    if (succ == nullptr) {
      Node* expected = &head_;
      if (tail_.compare_exchange_strong(expected, nullptr, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        return;
      }
      sync::Backoff<S> backoff;
      while ((succ = head_.next.load(std::memory_order_acquire)) == nullptr) backoff();
    }
    succ->waiting.store(false, std::memory_order_relaxed);  // BUG: must be release
  }

 private:
  struct Node {
    typename S::template atomic<Node*> next{nullptr};
    typename S::template atomic<bool> waiting{true};
  };
  typename S::template atomic<Node*> tail_{nullptr};
  Node head_;
};

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

TEST(MutexModelBugs, McsRelaxedHandoffIsADataRace) {
  expect_caught<McsRelaxedHandoff<check::Sync>>("data-race");
}

TEST(MutexModelBugs, FutexLostWakeupIsADeadlock) {
  expect_caught<FutexLostWakeup<check::Sync>>("deadlock");
}

}  // namespace
}  // namespace cpb::patterns::mutex
