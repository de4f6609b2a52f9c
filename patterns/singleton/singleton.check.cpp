// SPDX-License-Identifier: Apache-2.0
// Stress: the family's registered check (rounds of 4 threads on a fresh instance: exactly one
// construction per round, one object for all) for CPB_STRESS_MS (default 300 ms) per
// implementation.
#include "patterns/singleton/singleton.hpp"

#include "harness/testing.hpp"
#include "patterns/singleton/singleton.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace cpb::patterns::singleton {
namespace {

template <class L>
class SingletonStress : public ::testing::Test {};
TYPED_TEST_SUITE(SingletonStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(SingletonStress, RegisteredStressChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            0)
      << "no stress check is registered for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::singleton
