// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in semaphore, through one typed suite.
#include "patterns/semaphore/semaphore.hpp"

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
class SemaphoreTest : public ::testing::Test {};
TYPED_TEST_SUITE(SemaphoreTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(SemaphoreTest, SatisfiesTheConcept) { static_assert(Semaphore<TypeParam>); }

TYPED_TEST(SemaphoreTest, StartsWithTheInitialCount) {
  TypeParam s(3);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  TypeParam empty(0);
  EXPECT_FALSE(empty.try_acquire());
}

TYPED_TEST(SemaphoreTest, ReleaseAddsPermits) {
  TypeParam s(0);
  s.release();
  s.release(2);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.try_acquire()) << i;
  EXPECT_FALSE(s.try_acquire());
}

TYPED_TEST(SemaphoreTest, AcquireTakesAPermitWithoutBlocking) {
  TypeParam s(2);
  s.acquire();
  s.acquire();
  EXPECT_FALSE(s.try_acquire());
  s.release(2);
  EXPECT_TRUE(s.try_acquire());
}

TYPED_TEST(SemaphoreTest, AcquireBlocksUntilRelease) {
  TypeParam s(0);
  std::atomic<bool> passed{false};
  std::thread t([&] {
    s.acquire();
    passed.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(passed.load()) << "acquire returned without a permit";
  s.release();
  t.join();
  EXPECT_TRUE(passed.load());
  EXPECT_FALSE(s.try_acquire());
}

// release(n) must wake n sleeping waiters; a lost wake-up hangs here (ctest's timeout).
TYPED_TEST(SemaphoreTest, ReleaseManyWakesThatManyWaiters) {
  TypeParam s(0);
  constexpr int kWaiters = 3;
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      s.acquire();
      passed.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let them fall asleep
  EXPECT_EQ(passed.load(), 0);
  s.release(kWaiters);
  for (auto& t : threads) t.join();
  EXPECT_EQ(passed.load(), kWaiters);
  EXPECT_FALSE(s.try_acquire());
}

// A release happens-before the acquire that takes its permit: a plain counter passed back and
// forth stays exact (TSan sees a race otherwise).
TYPED_TEST(SemaphoreTest, PingPongPassesPlainDataExactly) {
  TypeParam ping(0);
  TypeParam pong(0);
  std::uint64_t ball = 0;
  constexpr int kRounds = 2'000;
  std::thread other([&] {
    for (int i = 0; i < kRounds; ++i) {
      ping.acquire();
      ball = ball + 1;
      pong.release();
    }
  });
  bool in_order = true;
  for (int i = 0; i < kRounds; ++i) {
    ball = ball + 1;
    ping.release();
    pong.acquire();
    in_order = in_order && ball == 2U * (static_cast<std::uint64_t>(i) + 1);
  }
  other.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(ball, 2U * kRounds);
}

TYPED_TEST(SemaphoreTest, NeverMoreHoldersThanPermits) {
  constexpr int kPermits = 2;
  constexpr int kThreads = 4;
  constexpr int kEach = 5'000;
  TypeParam s(kPermits);
  std::atomic<int> inside{0};
  std::atomic<int> over{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if ((i + t) % 4 == 0) {
          if (!s.try_acquire()) continue;
        } else {
          s.acquire();
        }
        if (inside.fetch_add(1) + 1 > kPermits) over.fetch_add(1);
        inside.fetch_sub(1);
        s.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(over.load(), 0);
  EXPECT_EQ(detail::count_permits(s, kPermits), kPermits);
}

}  // namespace
}  // namespace cpb::patterns::semaphore
