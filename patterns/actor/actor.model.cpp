// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model check of the own runtime (two senders and a finishing
// batch race on an actor's schedule: never two runners, no message stranded) passes, and its
// seeded twin, the mailbox whose `release` looks at the queue before it clears the schedule
// flag, is caught: a message pushed between the two steps is left with nobody scheduled.
#include "patterns/actor/actor.hpp"

#include "harness/testing.hpp"
#include "patterns/actor/actor.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

namespace cpb::patterns::actor {
namespace {

template <class P>
class ActorModel : public ::testing::Test {};
TYPED_TEST_SUITE(ActorModel, testing::SyncTemplated<Impls>, testing::ImplName);

TYPED_TEST(ActorModel, RegisteredModelChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

TEST(ActorModel, ReleaseThatLooksBeforeItClearsIsCaught) {
  const check::TestCase twin = detail::handoff_model<true>("actor/lose_wakeup_twin");
  CheckConfig cfg;
  cfg.budget = std::chrono::milliseconds(1000);
  const stress::CheckResult r = check::model_mode([twin] { return twin; })(cfg);
  ASSERT_FALSE(r.passed()) << twin.name << " was not caught: " << r.details;
  EXPECT_EQ(r.verdict, stress::Verdict::kFail) << r.failure;
  EXPECT_EQ(r.kind, std::string_view("assertion")) << r.details;
}

}  // namespace
}  // namespace cpb::patterns::actor
