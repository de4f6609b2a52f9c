// SPDX-License-Identifier: Apache-2.0
// Model checks: every own barrier's registered model check (3 threads, 2 episodes) passes
// under the model checker, and two seeded bug twins are caught with the expected kind.
#include "patterns/barrier/barrier.hpp"

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/testing.hpp"
#include "patterns/barrier/barrier.impls.hpp"
#include "patterns/mutex/futex.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cpb::patterns::barrier {
namespace {

template <class B>
class BarrierModel : public ::testing::Test {};
TYPED_TEST_SUITE(BarrierModel, testing::ToGTest<OwnImpls>, testing::ImplName);

TYPED_TEST(BarrierModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

// -- seeded bug twins ---------------------------------------------------------------------

/// SenseBarrier with one step wrong: the last arriver reverses the sense before it resets the
/// counter. A released thread that hurries to the next episode increments the old count, and
/// the late reset wipes its arrival: that episode never completes (deadlock).
template <class S = sync::Real>
class SenseResetLate {
 public:
  static constexpr std::string_view kName = "sense_reset_late";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit SenseResetLate(std::ptrdiff_t parties) : parties_(static_cast<std::uint32_t>(parties)) {}

  void arrive_and_wait() {
    const std::uint32_t sense = sense_.load(std::memory_order_relaxed);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
      sense_.store(sense + 1, std::memory_order_seq_cst);
      count_.store(0, std::memory_order_relaxed);  // BUG: must come before the sense store
      if (sleepers_.load() != 0) mutex::futex_wake<S>(sense_, INT_MAX);
      return;
    }
    for (;;) {
      sleepers_.fetch_add(1);
      if (sense_.load() == sense) mutex::futex_wait<S>(sense_, sense);
      sleepers_.fetch_sub(1);
      if (sense_.load(std::memory_order_acquire) != sense) return;
    }
  }

 private:
  const std::uint32_t parties_;
  typename S::template atomic<std::uint32_t> count_{0};
  typename S::template atomic<std::uint32_t> sense_{0};
  typename S::template atomic<std::uint32_t> sleepers_{0};
};

/// DisseminationBarrier with one step wrong: the signal is a relaxed store, so a partner that
/// sees it has no happens-before edge to the signaller's writes (a data race).
template <class S = sync::Real>
class DisseminationRelaxedSignal {
 public:
  static constexpr std::string_view kName = "dissemination_relaxed_signal";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit DisseminationRelaxedSignal(std::ptrdiff_t parties)
      : parties_(static_cast<std::uint64_t>(parties)), flags_(new Word[parties_ * kRounds]) {}

  void arrive_and_wait() {
    const std::uint64_t ticket = ticket_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t slot = ticket % parties_;
    const auto mark = static_cast<std::uint32_t>(ticket / parties_ + 1);
    std::uint64_t distance = 1;
    for (std::uint64_t r = 0; (std::uint64_t{1} << r) < parties_; ++r, distance *= 2) {
      Word& out = flags_[((slot + distance) % parties_) * kRounds + r];
      if (out.load(std::memory_order_relaxed) < mark) {
        out.store(mark, std::memory_order_relaxed);  // BUG: must release
      }
      Word& in = flags_[slot * kRounds + r];
      while (in.load(std::memory_order_acquire) < mark) S::yield();
    }
  }

 private:
  static constexpr std::uint64_t kRounds = 2;  // enough for the model test's 3 parties
  using Word = typename S::template atomic<std::uint32_t>;
  const std::uint64_t parties_;
  std::unique_ptr<Word[]> flags_;
  typename S::template atomic<std::uint64_t> ticket_{0};
};

template <class Bug>
void expect_caught(std::string_view kind) {
  const auto model = check::model_mode([] {
    return detail::episodes_model<Bug>(std::string("barrier/") + std::string(Bug::kName) +
                                       "/episodes");
  });
  const stress::CheckResult r = model(testing::model_config());
  ASSERT_FALSE(r.passed()) << "the model checker missed the seeded bug in " << Bug::kName;
  EXPECT_EQ(r.verdict, stress::Verdict::kFail) << r.failure;
  EXPECT_EQ(r.kind, kind) << r.failure << "\n" << r.details;
}

TEST(BarrierModelBugs, LateCounterResetIsADeadlock) {
  expect_caught<SenseResetLate<check::Sync>>("deadlock");
}

TEST(BarrierModelBugs, RelaxedDisseminationSignalIsADataRace) {
  expect_caught<DisseminationRelaxedSignal<check::Sync>>("data-race");
}

}  // namespace
}  // namespace cpb::patterns::barrier
