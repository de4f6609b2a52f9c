// SPDX-License-Identifier: Apache-2.0
// Stress: the registered conservation check of every store on real threads (3 threads
// transfer on 8 accounts while one takes snapshots; every committed snapshot must hold the
// initial total). Runs for a bounded time (CPB_STRESS_MS, default 300 ms).
#include "patterns/optimistic_cc/optimistic_cc.hpp"

#include "harness/testing.hpp"
#include "patterns/optimistic_cc/optimistic_cc.impls.hpp"
#include "patterns/optimistic_cc/transactions_testing.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::optimistic_cc {
namespace {

template <class St>
class StoreStress : public ::testing::Test {};
TYPED_TEST_SUITE(StoreStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(StoreStress, RegisteredChecksPassOnRealThreads) {
  transactions::expect_stress_checks_pass<Family<TypeParam>>();
}

}  // namespace
}  // namespace cpb::patterns::optimistic_cc
