// SPDX-License-Identifier: Apache-2.0
// Stress: the churn check of every server on the own actor runtime, on real sockets
// (patterns/reactor/server_testing.hpp): connections come and go, requests and replies in
// random pieces, pipelined, half-closed and reset peers; for CPB_STRESS_MS (default 300 ms)
// each. No model check: kernel I/O (DESIGN §2).
#include "harness/testing.hpp"
#include "patterns/actor/actor.hpp"
#include "patterns/actor/actor.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::actor {
namespace {

template <class S>
class ServerStress : public ::testing::Test {};
TYPED_TEST_SUITE(ServerStress, cpb::testing::ToGTest<Servers>, cpb::testing::ImplName);

TYPED_TEST(ServerStress, RegisteredStressChecksPass) {
  EXPECT_EQ(cpb::testing::expect_registered_checks_pass<Family<TypeParam>>(
                &Check::stress, cpb::testing::stress_config()),
            1);
}

}  // namespace
}  // namespace cpb::patterns::actor
