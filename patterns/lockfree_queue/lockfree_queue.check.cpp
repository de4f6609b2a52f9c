// SPDX-License-Identifier: Apache-2.0
// Stress: every registered stress check of every queue, on real threads (more threads than
// CPUs for the MPMC queues). Each check records for CPB_STRESS_MS (default 300 ms) or until its
// operation count, then checks the history (linearizability, or per-producer FIFO for a queue
// that promises only that). How many operations fit in the budget depends on the machine's
// load, so the count is printed, not asserted.
#include "patterns/lockfree_queue/lockfree_queue.hpp"

#include "harness/testing.hpp"
#include "patterns/lockfree_queue/lockfree_queue.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace cpb::patterns::lockfree_queue {
namespace {

std::chrono::milliseconds budget() {
  const char* env = std::getenv("CPB_STRESS_MS");
  return std::chrono::milliseconds(env != nullptr ? std::atoi(env) : 300);
}

template <class Q>
class QueueStress : public ::testing::Test {};
TYPED_TEST_SUITE(QueueStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(QueueStress, RegisteredStressChecksPass) {
  int ran = 0;
  for (const Check& c : Family<TypeParam>::checks()) {
    if (!c.stress) continue;
    CheckConfig cfg;
    cfg.budget = budget();
    const stress::CheckResult r = c.stress(cfg);
    std::printf("%s", stress::format(r).c_str());
    EXPECT_TRUE(r.passed()) << c.name << ": " << r.failure << "\n" << r.details;
    EXPECT_GT(r.samples, 0U) << c.name << ": no operation was checked";
    ++ran;
  }
  EXPECT_GT(ran, 0) << "no stress check is registered";
}

}  // namespace
}  // namespace cpb::patterns::lockfree_queue
