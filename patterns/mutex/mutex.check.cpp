// SPDX-License-Identifier: Apache-2.0
// Stress: invariants that a broken lock violates under real contention. Each test runs for a
// bounded time (CPB_STRESS_MS, default 300 ms per test) with more threads than CPUs.
#include "patterns/mutex/mutex.hpp"

#include "harness/testing.hpp"
#include "patterns/mutex/mutex.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

namespace cpb::patterns::mutex {
namespace {

std::chrono::milliseconds budget() {
  const char* env = std::getenv("CPB_STRESS_MS");
  return std::chrono::milliseconds(env != nullptr ? std::atoi(env) : 300);
}

template <class L>
class MutexStress : public ::testing::Test {};
TYPED_TEST_SUITE(MutexStress, testing::ToGTest<Impls>, testing::ImplName);

// Occupancy: a counter of threads inside the critical section must read 1 from inside, and a
// plain counter guarded by the lock must equal the number of completed sections.
TYPED_TEST(MutexStress, NeverTwoHoldersAndNoLostUpdates) {
  TypeParam lock;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<bool> stop{false};
  std::uint64_t guarded = 0;
  std::atomic<std::uint64_t> sections{0};
  const int n = 2 * static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t mine = 0;
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        // Mix lock() and try_lock() so both entry paths are exercised.
        if ((i + static_cast<std::uint64_t>(t)) % 4 == 0) {
          if (!lock.try_lock()) continue;
        } else {
          lock.lock();
        }
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        guarded = guarded + 1;
        inside.fetch_sub(1);
        lock.unlock();
        ++mine;
      }
      sections.fetch_add(mine);
    });
  }
  std::this_thread::sleep_for(budget());
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(overlaps.load(), 0) << "two threads were inside the critical section at once";
  EXPECT_EQ(guarded, sections.load()) << "lost updates under " << n << " threads";
  EXPECT_GT(sections.load(), 0U) << "no thread ever got the lock";
}

// Every thread gets the lock eventually: no thread starves forever under oversubscription.
TYPED_TEST(MutexStress, EveryThreadMakesProgress) {
  TypeParam lock;
  constexpr int kThreads = 6;
  constexpr int kEach = 2'000;
  std::vector<std::thread> threads;
  std::uint64_t guarded = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        lock.lock();
        guarded = guarded + 1;
        lock.unlock();
      }
    });
  }
  for (auto& t : threads) t.join();  // a starved thread would hang here until ctest's timeout
  EXPECT_EQ(guarded, std::uint64_t{kThreads} * kEach);
}

}  // namespace
}  // namespace cpb::patterns::mutex
