// SPDX-License-Identifier: Apache-2.0
// Stress: the registered stress check of every barrier (4 threads, random stragglers), and 6
// threads on the machine's CPUs (oversubscribed) for CPB_STRESS_MS (default 300 ms), with
// random yields and sleeps before arriving so that waiters go to sleep and must be woken.
#include "patterns/barrier/barrier.hpp"

#include "harness/stress/result.hpp"
#include "harness/testing.hpp"
#include "patterns/barrier/barrier.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace cpb::patterns::barrier {
namespace {

template <class B>
class BarrierStress : public ::testing::Test {};
TYPED_TEST_SUITE(BarrierStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(BarrierStress, RegisteredStressChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            0)
      << "no stress check is registered for " << TypeParam::kName;
}

TYPED_TEST(BarrierStress, OversubscribedWithSleepingStragglers) {
  constexpr int kThreads = 6;
  const auto budget = stress::default_budget(std::chrono::milliseconds(300));
  const std::uint64_t seed = stress::resolve_seed();
  SCOPED_TRACE(stress::replay_hint(seed));
  TypeParam b(kThreads);
  detail::EpisodeLedger ledger(kThreads);
  std::atomic<std::uint64_t> early{0};
  // Thread 0 decides when to stop, between episodes, and tells the others through the barrier
  // (everyone must run the same number of episodes).
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto me = static_cast<std::size_t>(t);
      stress::Rng rng(stress::mix64(seed + me));
      for (;;) {
        if (rng.chance(1, 64)) {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        } else if (rng.chance(1, 8)) {
          std::this_thread::yield();
        }
        const std::uint64_t k = ledger.next(me);
        ledger.arrive(me, k);
        if (t == 0 && std::chrono::steady_clock::now() >= deadline) stop.store(true);
        b.arrive_and_wait();
        early.fetch_add(ledger.missing(k));
        const bool done = stop.load();
        b.arrive_and_wait();  // all have read `stop` for this episode before it can change
        if (done) return;
      }
    });
  }
  for (auto& t : threads) t.join();  // a lost wake-up hangs here until ctest's timeout
  EXPECT_EQ(early.load(), 0U);
  EXPECT_EQ(ledger.uneven(), "");
  EXPECT_GT(ledger.next(0), 1U);
}

}  // namespace
}  // namespace cpb::patterns::barrier
