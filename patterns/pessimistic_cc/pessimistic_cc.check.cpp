// SPDX-License-Identifier: Apache-2.0
// Stress: the registered conservation check of every store on real threads (3 threads
// transfer on 8 accounts while one takes snapshots; every committed snapshot must hold the
// initial total). Runs for a bounded time (CPB_STRESS_MS, default 300 ms).
#include "patterns/pessimistic_cc/pessimistic_cc.hpp"

#include "harness/stress/result.hpp"
#include "harness/testing.hpp"
#include "patterns/pessimistic_cc/pessimistic_cc.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

namespace cpb::patterns::pessimistic_cc {
namespace {

template <class St>
class StoreStress : public ::testing::Test {};
TYPED_TEST_SUITE(StoreStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(StoreStress, RegisteredChecksPassOnRealThreads) {
  CheckConfig cfg;
  cfg.budget = stress::default_budget(std::chrono::milliseconds(300));
  int ran = 0;
  for (const Check& c : Family<TypeParam>::checks()) {
    if (!c.stress) continue;
    const stress::CheckResult r = c.stress(cfg);
    ++ran;
    std::printf("%s", stress::format(r).c_str());
    EXPECT_TRUE(r.passed()) << r.failure << "\n" << r.details;
    EXPECT_GT(r.stat("snapshots"), 0);
    EXPECT_GT(r.stat("transfers"), 0);
  }
  EXPECT_GT(ran, 0);
}

}  // namespace
}  // namespace cpb::patterns::pessimistic_cc
