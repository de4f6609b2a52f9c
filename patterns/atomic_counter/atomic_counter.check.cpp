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

std::chrono::milliseconds budget() {
  const char* env = std::getenv("CPB_STRESS_MS");
  return std::chrono::milliseconds(env != nullptr ? std::atoi(env) : 300);
}

template <class C>
class CounterStress : public ::testing::Test {};
TYPED_TEST_SUITE(CounterStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(CounterStress, RegisteredStressChecksPass) {
  CheckConfig c;
  c.budget = budget();
  for (const auto& check : Family<TypeParam>::checks()) {
    ASSERT_TRUE(check.stress) << check.name;
    const auto r = check.stress(c);
    EXPECT_TRUE(r.passed()) << check.name << ": " << r.failure << "\n" << r.details;
    EXPECT_GT(r.samples, 0U) << check.name;
  }
}

}  // namespace
}  // namespace cpb::patterns::atomic_counter
