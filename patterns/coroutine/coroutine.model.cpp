// SPDX-License-Identifier: Apache-2.0
// Model checks of the async semaphore and mutex (async_sync.hpp on check::Sync): the registered
// checks pass, and an exhaustive search (no preemption bound, SC and TSO) of two threads on the
// mutex and three on a two-unit semaphore finds no race on the guarded counter, no excess
// admission, no lost wake-up and no deadlock. The coroutine awaiters add only the resumption
// (a post to the scheduler, or an inline resume) to what is checked here: a waiter's `wake`.
#include "patterns/coroutine/coroutine.hpp"

#include "harness/testing.hpp"
#include "patterns/coroutine/coroutine.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::coroutine {
namespace {

TEST(CoroutineModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TaskScheduler>>(&Check::model,
                                                                          testing::model_config()),
            2);
}

TEST(CoroutineModel, ExhaustiveMutexAndSemaphoreUnderScAndTso) {
  check::Config c;
  c.strategy = check::Strategy::kDfs;
  c.preemption_bound = -1;
  c.max_executions = 200'000;
  c.max_seconds = 20;
  using Sem = AsyncSemaphore<check::Sync>;
  for (const check::Tier tier : {check::Tier::kSc, check::Tier::kTso}) {
    c.tier = tier;
    for (const auto& t : {detail::semaphore_model<Sem>("coroutine/async_mutex_2", 1, 2),
                          detail::semaphore_model<Sem>("coroutine/async_semaphore_3", 2, 3)}) {
      const check::Result r = check::explore(c, t);
      EXPECT_TRUE(r.ok()) << r.report();
      std::printf("%s: %llu executions, exhausted %d\n", t.name.c_str(),
                  static_cast<unsigned long long>(r.executions), r.exhausted ? 1 : 0);
    }
  }
}

}  // namespace
}  // namespace cpb::patterns::coroutine
