// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in two-phase-locking store (and the baseline), through the shared
// transactional-store suite; plus what only locking stores promise.
#include "patterns/pessimistic_cc/pessimistic_cc.hpp"

#include "harness/testing.hpp"
#include "patterns/optimistic_cc/transactions_conformance.hpp"
#include "patterns/pessimistic_cc/pessimistic_cc.impls.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>

namespace cpb::patterns::transactions {

INSTANTIATE_TYPED_TEST_SUITE_P(PessimisticCc, StoreConformance,
                               cpb::testing::ToGTest<pessimistic_cc::Impls>,
                               cpb::testing::ImplName);

}  // namespace cpb::patterns::transactions

namespace cpb::patterns::pessimistic_cc {
namespace {

// Ordered 2PL locks only what was declared: touching anything else is a usage error, reported
// after the locks are released (the store stays usable).
TEST(Ordered2pl, AnUndeclaredKeyIsAnError) {
  Ordered2pl<> s(3, 10);
  const std::array<transactions::Key, 1> keys{0};
  EXPECT_THROW(s.execute(keys, [](auto& tx) { tx.put(2, tx.get(0)); }), std::logic_error);
  EXPECT_EQ(s.peek(2), 10);
  EXPECT_EQ(transactions::transfer(s, 0, 2, 1), 1U);
  EXPECT_EQ(s.peek(2), 11);
}

}  // namespace
}  // namespace cpb::patterns::pessimistic_cc
