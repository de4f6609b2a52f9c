// SPDX-License-Identifier: Apache-2.0
// Stress: the registered stress checks of every semaphore (bounded holders, mutual exclusion
// with one permit, ping-pong hand-off, release of many permits at once), each bounded by
// CPB_STRESS_MS (default 300 ms), and an oversubscribed mix of acquire, try_acquire and
// release(n). A lost wake-up shows as a hung thread (reported with its stride, not hung on).
#include "patterns/semaphore/semaphore.hpp"

#include "harness/stress/result.hpp"
#include "harness/testing.hpp"
#include "patterns/semaphore/semaphore.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace cpb::patterns::semaphore {
namespace {

template <class T>
class SemaphoreStress : public ::testing::Test {
 protected:
  void SetUp() override {
    // A baseline with a known lost wake-up hangs these tests at random; the registered check
    // (cpbench check --family semaphore) still runs on it and reports the bug.
    if constexpr (requires { T::kKnownBug; }) GTEST_SKIP() << T::kKnownBug;
  }
};
TYPED_TEST_SUITE(SemaphoreStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(SemaphoreStress, RegisteredStressChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            0)
      << "no stress check is registered for " << TypeParam::kName;
}

// 8 threads on the machine's CPUs share 3 permits; each loop takes 1 or 2 permits (acquire or
// try_acquire) and gives them back with one release(n). Never more than 3 held, all 3 back at
// the end, and every thread finishes (a lost wake-up would hang it until ctest's timeout).
TYPED_TEST(SemaphoreStress, OversubscribedMixKeepsTheCount) {
  constexpr int kPermits = 3;
  constexpr int kThreads = 8;
  TypeParam s(kPermits);
  std::atomic<int> held{0};
  std::atomic<int> over{0};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> loops{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t mine = 0;
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        // The second permit only with try_acquire: two blocking acquires could deadlock.
        s.acquire();
        const int got = (i + static_cast<std::uint64_t>(t)) % 3 == 0 && s.try_acquire() ? 2 : 1;
        if (held.fetch_add(got) + got > kPermits) over.fetch_add(1);
        held.fetch_sub(got);
        s.release(got);
        ++mine;
      }
      loops.fetch_add(mine);
    });
  }
  std::this_thread::sleep_for(stress::default_budget(std::chrono::milliseconds(300)));
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(over.load(), 0) << "more than " << kPermits << " permits were held at once";
  EXPECT_EQ(detail::count_permits(s, kPermits), kPermits);
  EXPECT_GT(loops.load(), 0U);
}

}  // namespace
}  // namespace cpb::patterns::semaphore
