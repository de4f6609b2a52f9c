// SPDX-License-Identifier: Apache-2.0
// Stress: the churn check of every reactor on real sockets (server_testing.hpp): connections come
// and go, requests and replies in random pieces, pipelined, half-closed and reset peers; for
// CPB_STRESS_MS (default 300 ms) each. No model check: kernel I/O (DESIGN §2).
#include "patterns/reactor/reactor.hpp"

#include "harness/testing.hpp"
#include "patterns/reactor/reactor.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::reactor {
namespace {

template <class S>
class ReactorStress : public ::testing::Test {};
TYPED_TEST_SUITE(ReactorStress, cpb::testing::ToGTest<Impls>, cpb::testing::ImplName);

TYPED_TEST(ReactorStress, RegisteredStressChecksPass) {
  if (const auto why = reactor::unavailable<TypeParam>(); !why.empty()) GTEST_SKIP() << why;
  EXPECT_EQ(cpb::testing::expect_registered_checks_pass<Family<TypeParam>>(
                &Check::stress, cpb::testing::stress_config()),
            1);
}

}  // namespace
}  // namespace cpb::patterns::reactor
