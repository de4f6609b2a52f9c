// SPDX-License-Identifier: Apache-2.0
// Model checks: every own barrier's registered model check (3 threads, 2 episodes) passes
// under the model checker, a seeded bug twin is caught with the expected kind, and the memory-
// order audit finds the dissemination signal's release needed.
#include "patterns/barrier/barrier.hpp"

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/testing.hpp"
#include "patterns/barrier/barrier.impls.hpp"
#include "patterns/mutex/futex.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// Orders are audited on the real code (a copy of a barrier with one order changed drifts from
// it, as the relaxed-store twin that stood here did: the signal is a CAS now).
TEST(BarrierModelAudit, DisseminationSignalNeedsRelease) {
  // The signal, weakened down to relaxed, leaves the partner unordered after the signaller's
  // writes: a data race. Only the release half is needed (acq_rel and release pass).
  const auto rows =
      testing::audit_rows<Family<DisseminationBarrier<>>>("barrier/dissemination_barrier.hpp");
  int signals = 0;
  for (const auto& row : rows) {
    if (row.site.op != check::OpKind::kCas) continue;
    ++signals;
    ASSERT_TRUE(row.weakest_passing().has_value()) << check::site_name(row.site);
    EXPECT_EQ(*row.weakest_passing(), std::memory_order_release) << check::site_name(row.site);
    const auto relaxed = std::find_if(row.trials.begin(), row.trials.end(), [](const auto& t) {
      return t.order == std::memory_order_relaxed;
    });
    ASSERT_NE(relaxed, row.trials.end());
    EXPECT_TRUE(relaxed->caught);
    EXPECT_EQ(relaxed->kind, "data-race");
  }
  EXPECT_EQ(signals, 1);
}

}  // namespace
}  // namespace cpb::patterns::barrier
