// SPDX-License-Identifier: Apache-2.0
/// @file
/// The conformance suite of a transactional store (`transactions::Store`), shared by the
/// `optimistic_cc` and `pessimistic_cc` families as a GoogleTest type-parameterized suite. Each
/// family's `<family>.test.cpp` instantiates it over its own TypeList:
///
/// ```cpp
/// INSTANTIATE_TYPED_TEST_SUITE_P(OptimisticCc, StoreConformance, testing::ToGTest<Impls>,
///                                testing::ImplName);
/// ```
#pragma once

#include "harness/stress/result.hpp"
#include "patterns/optimistic_cc/transactions.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

namespace cpb::patterns::transactions {

template <class St>
class StoreConformance : public ::testing::Test {};
TYPED_TEST_SUITE_P(StoreConformance);

TYPED_TEST_P(StoreConformance, SatisfiesTheConcept) { static_assert(Store<TypeParam>); }

TYPED_TEST_P(StoreConformance, StartsWithTheInitialBalances) {
  TypeParam s(5, 42);
  ASSERT_EQ(s.size(), 5U);
  for (Key k = 0; k < 5; ++k) EXPECT_EQ(s.peek(k), 42);
}

TYPED_TEST_P(StoreConformance, TransferMovesMoneyAtTheFirstAttempt) {
  TypeParam s(4, 1000);
  EXPECT_EQ(transfer(s, 0, 3, 30), 1U);
  EXPECT_EQ(s.peek(0), 970);
  EXPECT_EQ(s.peek(3), 1030);
  EXPECT_EQ(s.peek(1), 1000);
  EXPECT_EQ(total(s), 4000);
}

TYPED_TEST_P(StoreConformance, ReadsSeeTheTransactionsOwnWrites) {
  TypeParam s(2, 10);
  Balance seen = -1;
  const std::array<Key, 1> keys{1};
  s.execute(keys, [&](auto& tx) {
    tx.put(1, 77);
    seen = tx.get(1);
    tx.put(1, tx.get(1) + 1);
  });
  EXPECT_EQ(seen, 77);
  EXPECT_EQ(s.peek(1), 78);
  EXPECT_EQ(s.peek(0), 10);
}

TYPED_TEST_P(StoreConformance, BlindWritesAndRepeatedReads) {
  TypeParam s(3, 5);
  const std::array<Key, 3> keys{2, 0, 2};  // any order, duplicates allowed
  Balance first = 0;
  Balance second = 0;
  s.execute(keys, [&](auto& tx) {
    first = tx.get(0);
    tx.put(2, 9);  // never read
    second = tx.get(0);
  });
  EXPECT_EQ(first, 5);
  EXPECT_EQ(second, 5);
  EXPECT_EQ(s.peek(2), 9);
}

TYPED_TEST_P(StoreConformance, SnapshotReadsEveryAccount) {
  TypeParam s(6, 0);
  for (Key k = 0; k < 6; ++k) {
    const std::array<Key, 1> one{k};
    s.execute(one, [k](auto& tx) { tx.put(k, 100 + k); });
  }
  std::array<Key, 6> all{};
  std::iota(all.begin(), all.end(), Key{0});
  std::array<Balance, 6> seen{};
  EXPECT_EQ(snapshot(s, all, seen), 1U);
  for (Key k = 0; k < 6; ++k) EXPECT_EQ(seen[k], 100 + k);
}

// Transfers commute, so whatever order they commit in, the final balances are exactly the
// initial ones plus every transfer's effect: a lost update or a torn transaction shows.
TYPED_TEST_P(StoreConformance, ConcurrentTransfersEndWithExactBalances) {
  constexpr std::size_t kAccounts = 16;
  constexpr std::size_t kThreads = 4;
  constexpr int kEach = 5'000;
  TypeParam s(kAccounts, kInitialBalance);
  std::vector<std::array<Balance, kAccounts>> deltas(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      stress::Rng rng(stress::mix64(t + 11));
      const KeyPicker picker(kAccounts, 80);  // hot: most transfers conflict
      auto& d = deltas[t];
      d.fill(0);
      for (int i = 0; i < kEach; ++i) {
        const auto [from, to] = picker.pick_two(rng);
        const auto amount = static_cast<Balance>(1 + rng.below(10));
        transfer(s, from, to, amount);
        d[from] -= amount;
        d[to] += amount;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (Key k = 0; k < kAccounts; ++k) {
    Balance expected = kInitialBalance;
    for (const auto& d : deltas) expected += d[k];
    EXPECT_EQ(s.peek(k), expected) << "account " << k;
  }
}

// A reader takes snapshots of all accounts while three threads transfer: every committed
// snapshot must sum to the initial total.
TYPED_TEST_P(StoreConformance, ConcurrentSnapshotsSeeTheTotal) {
  constexpr std::size_t kAccounts = 8;
  TypeParam s(kAccounts, kInitialBalance);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (std::size_t t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      stress::Rng rng(stress::mix64(t + 99));
      const KeyPicker picker(kAccounts, 0);
      while (!stop.load(std::memory_order_relaxed)) {
        const auto [from, to] = picker.pick_two(rng);
        transfer(s, from, to, static_cast<Balance>(1 + rng.below(10)));
      }
    });
  }
  std::array<Key, kAccounts> all{};
  std::iota(all.begin(), all.end(), Key{0});
  int torn = 0;
  for (int i = 0; i < 2'000; ++i) {
    std::array<Balance, kAccounts> seen{};
    snapshot(s, all, seen);
    if (std::accumulate(seen.begin(), seen.end(), Balance{0}) !=
        static_cast<Balance>(kAccounts) * kInitialBalance) {
      ++torn;
    }
  }
  stop.store(true);
  for (auto& t : writers) t.join();
  EXPECT_EQ(torn, 0) << "snapshots saw money appear or vanish";
  EXPECT_EQ(total(s), static_cast<Balance>(kAccounts) * kInitialBalance);
}

REGISTER_TYPED_TEST_SUITE_P(StoreConformance, SatisfiesTheConcept, StartsWithTheInitialBalances,
                            TransferMovesMoneyAtTheFirstAttempt, ReadsSeeTheTransactionsOwnWrites,
                            BlindWritesAndRepeatedReads, SnapshotReadsEveryAccount,
                            ConcurrentTransfersEndWithExactBalances,
                            ConcurrentSnapshotsSeeTheTotal);

}  // namespace cpb::patterns::transactions
