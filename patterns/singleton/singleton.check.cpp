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

std::chrono::milliseconds budget() {
  const char* env = std::getenv("CPB_STRESS_MS");
  return std::chrono::milliseconds(env != nullptr ? std::atoi(env) : 300);
}

template <class L>
class SingletonStress : public ::testing::Test {};
TYPED_TEST_SUITE(SingletonStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(SingletonStress, RegisteredStressChecksPass) {
  CheckConfig c;
  c.budget = budget();
  for (const auto& check : Family<TypeParam>::checks()) {
    ASSERT_TRUE(check.stress) << check.name;
    const auto r = check.stress(c);
    EXPECT_TRUE(r.passed()) << check.name << ": " << r.failure << "\n" << r.details;
    EXPECT_GE(r.samples, 100U) << check.name << ": the check runs at least 100 rounds";
  }
}

}  // namespace
}  // namespace cpb::patterns::singleton
