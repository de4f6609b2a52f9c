// SPDX-License-Identifier: Apache-2.0
// Stress: the family's registered checks (linearizability, bounded loads) on real threads for
// CPB_STRESS_MS (default 300 ms) per check and implementation.
#include "patterns/atomic_counter/atomic_counter.hpp"

#include "harness/testing.hpp"
#include "patterns/atomic_counter/atomic_counter.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace cpb::patterns::atomic_counter {
namespace {

template <class C>
class CounterStress : public ::testing::Test {};
TYPED_TEST_SUITE(CounterStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(CounterStress, RegisteredStressChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            0)
      << "no stress check is registered for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::atomic_counter
