// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in optimistic store (and the baseline), through the shared
// transactional-store suite; plus what only optimistic stores do: retry on a conflict.
#include "patterns/optimistic_cc/optimistic_cc.hpp"

#include "harness/testing.hpp"
#include "patterns/optimistic_cc/optimistic_cc.impls.hpp"
#include "patterns/optimistic_cc/transactions_conformance.hpp"

#include <gtest/gtest.h>

#include <array>
#include <thread>

namespace cpb::patterns::transactions {

INSTANTIATE_TYPED_TEST_SUITE_P(OptimisticCc, StoreConformance,
                               cpb::testing::ToGTest<optimistic_cc::Impls>, cpb::testing::ImplName);

}  // namespace cpb::patterns::transactions

namespace cpb::patterns::optimistic_cc {
namespace {

template <class St>
class OptimisticOnly : public ::testing::Test {};
using Own = ::testing::Types<SiloOcc<>, Tl2Occ<>>;
TYPED_TEST_SUITE(OptimisticOnly, Own, testing::ImplName);

// A transaction reads account 0; before it commits, another thread commits a transfer out of
// account 0. Validation must find the read stale: the first attempt aborts, the second commits,
// and no money is lost.
TYPED_TEST(OptimisticOnly, AStaleReadAbortsAndRetries) {
  TypeParam s(2, 100);
  int runs = 0;
  const std::array<Key, 2> keys{0, 1};
  const std::uint32_t attempts = s.execute(keys, [&](auto& tx) {
    const transactions::Balance a = tx.get(0);
    if (runs++ == 0) std::thread([&] { transactions::transfer(s, 0, 1, 10); }).join();
    tx.put(0, a - 1);
    tx.put(1, tx.get(1) + 1);
  });
  EXPECT_EQ(attempts, 2U);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(s.peek(0), 89);
  EXPECT_EQ(s.peek(1), 111);
}

// A read-only transaction that read account 0 before a concurrent commit changed it, and
// account 1 after, saw a state that never existed: it must retry.
TYPED_TEST(OptimisticOnly, ATornSnapshotRetries) {
  TypeParam s(2, 100);
  int runs = 0;
  std::array<transactions::Balance, 2> seen{};
  const std::array<Key, 2> keys{0, 1};
  const std::uint32_t attempts = s.execute(keys, [&](auto& tx) {
    seen[0] = tx.get(0);
    if (runs++ == 0) std::thread([&] { transactions::transfer(s, 0, 1, 10); }).join();
    seen[1] = tx.get(1);
  });
  EXPECT_EQ(attempts, 2U);
  EXPECT_EQ(seen[0] + seen[1], 200);
  EXPECT_EQ(seen[0], 90);
}

}  // namespace
}  // namespace cpb::patterns::optimistic_cc
