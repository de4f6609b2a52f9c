// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in lock, through one typed suite.
#include "patterns/mutex/mutex.hpp"

#include "harness/testing.hpp"
#include "patterns/mutex/mutex.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace cpb::patterns::mutex {
namespace {

template <class L>
class MutexTest : public ::testing::Test {};
TYPED_TEST_SUITE(MutexTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(MutexTest, SatisfiesTheConcept) { static_assert(Lock<TypeParam>); }

TYPED_TEST(MutexTest, LockThenUnlockThenLockAgain) {
  TypeParam l;
  l.lock();
  l.unlock();
  l.lock();
  l.unlock();
}

TYPED_TEST(MutexTest, TryLockSucceedsWhenFree) {
  TypeParam l;
  ASSERT_TRUE(l.try_lock());
  l.unlock();
  ASSERT_TRUE(l.try_lock());
  l.unlock();
}

TYPED_TEST(MutexTest, TryLockFailsWhileAnotherThreadHoldsIt) {
  TypeParam l;
  l.lock();
  bool got = true;
  std::thread([&] { got = l.try_lock(); }).join();
  EXPECT_FALSE(got);
  l.unlock();
  std::thread([&] {
    got = l.try_lock();
    if (got) l.unlock();
  }).join();
  EXPECT_TRUE(got);
}

TYPED_TEST(MutexTest, WorksWithScopedLock) {
  TypeParam a;
  TypeParam b;
  { std::scoped_lock both(a, b); }
  ASSERT_TRUE(a.try_lock());
  ASSERT_TRUE(b.try_lock());
  a.unlock();
  b.unlock();
}

TYPED_TEST(MutexTest, LockBlocksUntilTheHolderUnlocks) {
  TypeParam l;
  std::atomic<bool> entered{false};
  l.lock();
  std::thread t([&] {
    l.lock();
    entered.store(true);
    l.unlock();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(entered.load());
  l.unlock();
  t.join();
  EXPECT_TRUE(entered.load());
}

TYPED_TEST(MutexTest, MutualExclusionKeepsAPlainCounterExact) {
  TypeParam l;
  std::uint64_t counter = 0;  // plain: a race here is what TSan and the count would catch
  constexpr int kThreads = 4;
  constexpr int kIters = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        std::lock_guard g(l);
        counter = counter + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, std::uint64_t{kThreads} * kIters);
}

}  // namespace
}  // namespace cpb::patterns::mutex
