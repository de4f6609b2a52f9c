// SPDX-License-Identifier: Apache-2.0
// Stress: every registered stress check of every boundary, on real threads: per overflow policy,
// random streams whose signals must obey the protocol (credits, one terminal signal, order) and
// whose offers must all be accounted for. Each check records for CPB_STRESS_MS (default 150 ms).
#include "patterns/reactive/reactive.hpp"

#include "harness/testing.hpp"
#include "patterns/reactive/reactive.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::reactive {
namespace {

template <class B>
class BoundaryStress : public ::testing::Test {};
TYPED_TEST_SUITE(BoundaryStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(BoundaryStress, RegisteredStressChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            5)
      << "a protocol check per policy for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::reactive
