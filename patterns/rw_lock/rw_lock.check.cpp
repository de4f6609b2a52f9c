// SPDX-License-Identifier: Apache-2.0
// Stress: invariants that a broken reader-writer lock violates under real contention, with
// more threads than CPUs for a bounded time (CPB_STRESS_MS, default 300 ms per test), and the
// family's registered stress checks (register linearizability, writer exclusion).
#include "patterns/rw_lock/rw_lock.hpp"

#include "harness/testing.hpp"
#include "patterns/rw_lock/rw_lock.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

namespace cpb::patterns::rw_lock {
namespace {

template <class L>
class RwLockStress : public ::testing::Test {};
TYPED_TEST_SUITE(RwLockStress, testing::ToGTest<Impls>, testing::ImplName);

// Occupancy: writers count themselves inside the write section, readers inside the read
// section (shared locks only: a seqlock reader overlaps writers by design and retries). A
// writer must find nobody else inside; a shared-lock reader must find no writer. Readers must
// never see a torn record, and the record must equal the writes made.
TYPED_TEST(RwLockStress, WritersAloneReadersUntornNoLostUpdates) {
  TypeParam lock;
  Record<TypeParam> record;
  std::atomic<int> writers_inside{0};
  std::atomic<int> readers_inside{0};
  std::atomic<std::uint64_t> violations{0};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> reads{0};
  std::atomic<bool> stop{false};
  constexpr bool kShared = SharedLockable<TypeParam>;
  const int n = 2 * static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t mine_w = 0;
      std::uint64_t mine_r = 0;
      // Relaxed: stop is only a signal to finish; the join orders everything after it.
      for (std::uint64_t i = static_cast<std::uint64_t>(t); !stop.load(std::memory_order_relaxed);
           ++i) {
        const auto in_writer = [&] {
          if (writers_inside.fetch_add(1) != 0) violations.fetch_add(1);
          if (kShared && readers_inside.load() != 0) violations.fetch_add(1);
          record.bump();
          writers_inside.fetch_sub(1);
        };
        switch (i % 8) {
          case 0:  // try_lock
            if (lock.try_lock()) {
              in_writer();
              lock.unlock();
              ++mine_w;
            }
            break;
          case 1:  // lock
            write(lock, in_writer);
            ++mine_w;
            break;
          case 2:  // try_lock_shared where there is one
            if constexpr (kShared) {
              if (lock.try_lock_shared()) {
                readers_inside.fetch_add(1);
                if (writers_inside.load() != 0) violations.fetch_add(1);
                if (!Record<TypeParam>::consistent(record.load())) torn.fetch_add(1);
                readers_inside.fetch_sub(1);
                lock.unlock_shared();
                ++mine_r;
              }
              break;
            }
            [[fallthrough]];
          default: {
            const auto s = read(lock, [&] {
              if constexpr (kShared) {
                readers_inside.fetch_add(1);
                if (writers_inside.load() != 0) violations.fetch_add(1);
                auto copy = record.load();
                readers_inside.fetch_sub(1);
                return copy;
              } else {
                return record.load();
              }
            });
            if (!Record<TypeParam>::consistent(s)) torn.fetch_add(1);
            ++mine_r;
          }
        }
      }
      writes.fetch_add(mine_w);
      reads.fetch_add(mine_r);
    });
  }
  std::this_thread::sleep_for(testing::stress_config().budget);
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0U) << "a writer shared the lock with another thread";
  EXPECT_EQ(torn.load(), 0U) << "a reader saw a torn record";
  EXPECT_EQ(read(lock, [&] { return record.load(); })[0], writes.load()) << "lost updates";
  EXPECT_GT(writes.load(), 0U);
  EXPECT_GT(reads.load(), 0U);
}

// Every thread finishes a fixed number of reads and writes: neither side starves forever
// under oversubscription (a starved thread would hang here until ctest's timeout).
TYPED_TEST(RwLockStress, EveryThreadMakesProgress) {
  TypeParam lock;
  Record<TypeParam> record;
  constexpr int kThreads = 6;
  constexpr int kEach = 1'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if ((i + t) % 4 == 0) {
          write(lock, [&] { record.bump(); });
        } else {
          (void)read(lock, [&] { return record.load(); });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(read(lock, [&] { return record.load(); })[0], std::uint64_t{kThreads} * kEach / 4);
}

// The registered checks (`cpbench check --family rw_lock --mode stress`) pass.
TYPED_TEST(RwLockStress, RegisteredStressChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            0)
      << "no stress check is registered for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::rw_lock
