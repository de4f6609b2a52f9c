// SPDX-License-Identifier: Apache-2.0
// Stress: every registered stress check of every channel, on real threads: no loss per kind it
// has, close waking every parked sender, receiver and select, and select fairness. Each check
// records for CPB_STRESS_MS (default 300 ms; close: 200 ms).
#include "patterns/channel/channel.hpp"

#include "harness/testing.hpp"
#include "patterns/channel/channel.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::channel {
namespace {

template <class C>
class ChannelStress : public ::testing::Test {};
TYPED_TEST_SUITE(ChannelStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(ChannelStress, RegisteredStressChecksPass) {
  using C = TypeParam;
  const int want = int{C::kRendezvous} + int{C::kBounded} + int{C::kUnbounded} + 1 +
                   int{C::kBounded || C::kUnbounded};
  EXPECT_EQ(
      testing::expect_registered_checks_pass<Family<C>>(&Check::stress, testing::stress_config()),
      want)
      << "a no-loss check per kind, close, and fairness for " << C::kName;
}

}  // namespace
}  // namespace cpb::patterns::channel
