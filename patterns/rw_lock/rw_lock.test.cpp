// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in reader-writer lock, through one typed suite.
#include "patterns/rw_lock/rw_lock.hpp"

#include "harness/testing.hpp"
#include "patterns/rw_lock/rw_lock.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace cpb::patterns::rw_lock {
namespace {

using namespace std::chrono_literals;

template <class L>
class RwLockTest : public ::testing::Test {};
TYPED_TEST_SUITE(RwLockTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(RwLockTest, SatisfiesTheConcept) {
  static_assert(RwLock<TypeParam>);
  static_assert(SharedLockable<TypeParam> != OptimisticLockable<TypeParam>,
                "exactly one kind, so read() has one meaning");
}

TYPED_TEST(RwLockTest, ReadSeesTheLastWrite) {
  TypeParam l;
  Record<TypeParam> r;
  EXPECT_EQ(read(l, [&] { return r.load(); })[0], 0U);
  write(l, [&] { r.store(7); });
  const auto s = read(l, [&] { return r.load(); });
  EXPECT_TRUE(Record<TypeParam>::consistent(s));
  EXPECT_EQ(s[0], 7U);
  write(l, [&] { r.bump(); });
  EXPECT_EQ(read(l, [&] { return r.load(); })[3], 8U);
}

TYPED_TEST(RwLockTest, TryLockSucceedsWhenFreeAndFailsWhileAnotherWriterHoldsIt) {
  TypeParam l;
  ASSERT_TRUE(l.try_lock());
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

TYPED_TEST(RwLockTest, WriterBlocksUntilTheWriterUnlocks) {
  TypeParam l;
  std::atomic<bool> entered{false};
  l.lock();
  std::thread t([&] {
    l.lock();
    entered.store(true);
    l.unlock();
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(entered.load());
  l.unlock();
  t.join();
  EXPECT_TRUE(entered.load());
}

TYPED_TEST(RwLockTest, ReadersShareTheLock) {
  if constexpr (SharedLockable<TypeParam>) {
    TypeParam l;
    std::shared_lock first(l);
    bool got = false;
    std::thread([&] {
      got = l.try_lock_shared();
      if (got) l.unlock_shared();
    }).join();
    EXPECT_TRUE(got) << "a second reader was refused while only a reader held the lock";
    std::thread([&] { std::shared_lock second(l); }).join();  // must not block
  } else {
    GTEST_SKIP() << "optimistic lock: readers take no lock";
  }
}

TYPED_TEST(RwLockTest, AReaderExcludesWriters) {
  if constexpr (SharedLockable<TypeParam>) {
    TypeParam l;
    l.lock_shared();
    bool got = true;
    std::thread([&] { got = l.try_lock(); }).join();
    EXPECT_FALSE(got) << "try_lock succeeded while a reader held the lock";
    std::atomic<bool> entered{false};
    std::thread t([&] {
      l.lock();
      entered.store(true);
      l.unlock();
    });
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(entered.load()) << "a writer got in while a reader held the lock";
    l.unlock_shared();
    t.join();
    EXPECT_TRUE(entered.load());
  } else {
    GTEST_SKIP() << "optimistic lock: readers do not exclude writers";
  }
}

TYPED_TEST(RwLockTest, AWriterExcludesReaders) {
  if constexpr (SharedLockable<TypeParam>) {
    TypeParam l;
    l.lock();
    bool got = true;
    std::thread([&] { got = l.try_lock_shared(); }).join();
    EXPECT_FALSE(got) << "try_lock_shared succeeded while a writer held the lock";
    std::atomic<bool> entered{false};
    std::thread t([&] {
      l.lock_shared();
      entered.store(true);
      l.unlock_shared();
    });
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(entered.load()) << "a reader got in while a writer held the lock";
    l.unlock();
    t.join();
    EXPECT_TRUE(entered.load());
  } else {
    GTEST_SKIP() << "optimistic lock: see ReadersRetryAfterAWrite";
  }
}

TYPED_TEST(RwLockTest, ReadersRetryAfterAWrite) {
  if constexpr (OptimisticLockable<TypeParam>) {
    TypeParam l;
    const auto seq = l.read_begin();
    EXPECT_FALSE(l.read_retry(seq)) << "no writer came, yet the read must be retried";
    std::thread([&] {
      l.lock();
      l.unlock();
    }).join();
    EXPECT_TRUE(l.read_retry(seq)) << "a writer came and went, yet the read was accepted";
    // A reader waits while a writer is inside.
    l.lock();
    std::atomic<bool> began{false};
    std::thread t([&] {
      const auto s = l.read_begin();
      began.store(true);
      EXPECT_FALSE(l.read_retry(s));
    });
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(began.load()) << "read_begin returned while a writer was inside";
    l.unlock();
    t.join();
    EXPECT_TRUE(began.load());
  } else {
    GTEST_SKIP() << "shared lock: readers do not retry";
  }
}

TYPED_TEST(RwLockTest, WritersLoseNoUpdateAndReadersSeeNoTornRecord) {
  TypeParam l;
  Record<TypeParam> r;
  constexpr int kWriters = 2;
  constexpr int kReaders = 2;
  constexpr int kWrites = 5'000;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) write(l, [&] { r.bump(); });
    });
  }
  for (int t = 0; t < kReaders; ++t) {
    threads.emplace_back([&] {
      std::uint64_t last = 0;
      do {
        const auto s = read(l, [&] { return r.load(); });
        if (!Record<TypeParam>::consistent(s) || s[0] < last) torn.fetch_add(1);
        last = s[0];
        reads.fetch_add(1);
      } while (!done.load());
    });
  }
  for (int t = 0; t < kWriters; ++t) threads[static_cast<std::size_t>(t)].join();
  done.store(true);
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
  EXPECT_EQ(torn.load(), 0U) << "a reader saw a torn record or time going backwards";
  EXPECT_GT(reads.load(), 0U);
  EXPECT_EQ(read(l, [&] { return r.load(); })[0], std::uint64_t{kWriters} * kWrites);
}

}  // namespace
}  // namespace cpb::patterns::rw_lock
