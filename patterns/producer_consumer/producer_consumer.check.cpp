// SPDX-License-Identifier: Apache-2.0
// Stress: every registered stress check of every buffer, on real threads: per policy, the
// outcome table (what may be missing) and the no-loss run (2 producers, 2 consumers, then close
// and drain). Each check records for CPB_STRESS_MS (default 300 ms).
#include "patterns/producer_consumer/producer_consumer.hpp"

#include "harness/testing.hpp"
#include "patterns/producer_consumer/producer_consumer.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::producer_consumer {
namespace {

template <class B>
class BufferStress : public ::testing::Test {};
TYPED_TEST_SUITE(BufferStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(BufferStress, RegisteredStressChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            8)
      << "an outcome table and a no-loss check per policy for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::producer_consumer
