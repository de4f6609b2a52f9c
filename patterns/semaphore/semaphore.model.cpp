// SPDX-License-Identifier: Apache-2.0
// Model checks: every own semaphore's registered model checks pass under the model checker,
// and two seeded bug twins of AtomicSemaphore are caught with the expected kind.
#include "patterns/semaphore/semaphore.hpp"

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/testing.hpp"
#include "patterns/mutex/futex.hpp"
#include "patterns/semaphore/semaphore.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace cpb::patterns::semaphore {
namespace {

template <class T>
class SemaphoreModel : public ::testing::Test {};
TYPED_TEST_SUITE(SemaphoreModel, testing::ToGTest<OwnImpls>, testing::ImplName);

TYPED_TEST(SemaphoreModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            4);
}

// -- seeded bug twins ---------------------------------------------------------------------

enum class Bug { kWakeOne, kRelaxedTake };

/// AtomicSemaphore with one step wrong:
/// - kWakeOne: release(n) wakes one sleeper whatever n is; with two sleepers and release(2) the
///   second sleeps for good beside a free permit (a lost wake-up: deadlock);
/// - kRelaxedTake: try_acquire takes a permit with a relaxed CAS, so the releaser's writes are
///   not ordered before the acquirer's reads (a data race).
template <Bug B, class S = sync::Real>
class BrokenAtomicSemaphore {
 public:
  static constexpr std::string_view kName = "broken_atomic_semaphore";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit BrokenAtomicSemaphore(std::ptrdiff_t initial)
      : count_(static_cast<std::uint32_t>(initial)) {}

  void acquire() {
    for (;;) {
      if (try_acquire()) return;
      sleepers_.fetch_add(1);
      if (count_.load() == 0) mutex::futex_wait<S>(count_, 0);
      sleepers_.fetch_sub(1);
    }
  }
  bool try_acquire() {
    constexpr auto kTake =
        B == Bug::kRelaxedTake ? std::memory_order_relaxed : std::memory_order_acquire;
    std::uint32_t c = count_.load(std::memory_order_relaxed);
    while (c != 0) {
      if (count_.compare_exchange_weak(c, c - 1, kTake, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void release(std::ptrdiff_t n = 1) {
    count_.fetch_add(static_cast<std::uint32_t>(n));
    if (sleepers_.load() != 0) {
      mutex::futex_wake<S>(count_, B == Bug::kWakeOne ? 1 : static_cast<int>(n));
    }
  }

 private:
  typename S::template atomic<std::uint32_t> count_;
  typename S::template atomic<std::uint32_t> sleepers_{0};
};

void expect_caught(const check::TestCase& test, std::string_view kind) {
  const stress::CheckResult r = check::model_mode([test] { return test; })(testing::model_config());
  ASSERT_FALSE(r.passed()) << "the model checker missed the seeded bug in " << test.name;
  EXPECT_EQ(r.verdict, stress::Verdict::kFail) << r.failure;
  EXPECT_EQ(r.kind, kind) << r.failure << "\n" << r.details;
}

TEST(SemaphoreModelBugs, WakingOneWaiterPerReleaseManyIsADeadlock) {
  expect_caught(detail::release_many_model<BrokenAtomicSemaphore<Bug::kWakeOne, check::Sync>>(
                    "semaphore/wake_one/release_many"),
                "deadlock");
}

TEST(SemaphoreModelBugs, RelaxedTakeIsADataRace) {
  expect_caught(detail::handoff_model<BrokenAtomicSemaphore<Bug::kRelaxedTake, check::Sync>>(
                    "semaphore/relaxed_take/handoff"),
                "data-race");
}

}  // namespace
}  // namespace cpb::patterns::semaphore
