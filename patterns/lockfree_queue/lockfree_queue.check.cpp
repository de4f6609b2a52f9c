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

template <class Q>
class QueueStress : public ::testing::Test {};
TYPED_TEST_SUITE(QueueStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(QueueStress, RegisteredStressChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::stress,
                                                                      testing::stress_config()),
            0)
      << "no stress check is registered for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::lockfree_queue
