// SPDX-License-Identifier: Apache-2.0
// Model checks: every own singleton that is a template on the sync policy passes its
// registered model check, and seeded-bug twins of the double-checked lock are caught: a
// relaxed fast-path load (corpus entry 5) as a data race, a missing re-check under the lock as
// a double construction.
#include "patterns/singleton/singleton.hpp"

#include "harness/check/explore.hpp"
#include "harness/testing.hpp"
#include "patterns/singleton/singleton.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <new>
#include <string>

namespace cpb::patterns::singleton {
namespace {

using S = check::Sync;

template <class L>
class SingletonModel : public ::testing::Test {};
using Own = ::testing::Types<Dclp<Payload>, AtomicOnce<Payload>>;
TYPED_TEST_SUITE(SingletonModel, Own, testing::ImplName);

TYPED_TEST(SingletonModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  static_assert(std::is_same_v<typename sync::rebind_t<TypeParam, S>::value_type, Widget<S>>,
                "the payload is rebound with the implementation, so its fields are race-checked");
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            1);
}

// -- seeded bugs: dclp.hpp with one thing changed ---------------------------------------------

/// `Dclp` with a different fast-path order and, optionally, without the re-check under the
/// mutex.
template <class T, class Sy, std::memory_order kFastPath, bool kRecheck>
class BrokenDclp {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "broken_dclp";
  static constexpr Progress kProgress = Progress::kBlocking;

  ~BrokenDclp() {
    // Every instance built (the no-recheck twin may build several) is destroyed.
    for (int i = 0; i < built_; ++i) reinterpret_cast<T*>(storage_[i])->~T();
  }

  T& get() {
    T* p = instance_.load(kFastPath);
    if (p == nullptr) {
      std::lock_guard<typename Sy::mutex> guard(m_);
      // Relaxed: ordered by the mutex, as in dclp.hpp.
      if (kRecheck) p = instance_.load(std::memory_order_relaxed);
      if (p == nullptr) {
        p = ::new (static_cast<void*>(storage_[built_++])) T();
        // Release pairs with the fast path's load (acquire in the fixed twin).
        instance_.store(p, std::memory_order_release);
      }
    }
    return *p;
  }

 private:
  typename Sy::template atomic<T*> instance_{nullptr};
  typename Sy::mutex m_;
  int built_ = 0;  // under m_
  alignas(T) std::byte storage_[3][sizeof(T)];
};

TEST(SingletonSeededBugs, DclpWithARelaxedFastPathLoadIsADataRace) {
  testing::expect_caught(
      detail::exactly_once_model<
          BrokenDclp<Widget<S>, S, std::memory_order_relaxed, /*kRecheck=*/true>>(
          "singleton/bug/dclp_relaxed_fast_path"),
      check::FailureKind::kDataRace);
}

TEST(SingletonSeededBugs, DclpWithoutTheRecheckConstructsTwice) {
  testing::expect_caught(
      detail::exactly_once_model<
          BrokenDclp<Widget<S>, S, std::memory_order_acquire, /*kRecheck=*/false>>(
          "singleton/bug/dclp_no_recheck"),
      check::FailureKind::kAssertion);
}

TEST(SingletonSeededBugs, FixedTwinPasses) {
  for (check::Config c : {testing::twin_dfs(), testing::twin_random_walk()}) {
    c.max_seconds = 1;
    const check::Result r = check::explore(
        c, detail::exactly_once_model<
               BrokenDclp<Widget<S>, S, std::memory_order_acquire, /*kRecheck=*/true>>(
               "singleton/fix/dclp"));
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_GT(r.executions, 0U);
  }
}

}  // namespace
}  // namespace cpb::patterns::singleton
