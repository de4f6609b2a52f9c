// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model checks of credit_boundary pass (request(n) from another
// thread racing the onNext signals; completion exactly once), and a seeded twin whose request(n)
// adds the credits with a load and a store instead of one read-modify-write (so a credit the
// drainer took in between comes back) over-delivers, and is caught by both searches with a
// replay string that reproduces it.
#include "patterns/reactive/reactive.hpp"

#include "harness/testing.hpp"
#include "patterns/reactive/reactive.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::reactive {
namespace {

using S = check::Sync;

template <class B>
class BoundaryModel : public ::testing::Test {};
TYPED_TEST_SUITE(BoundaryModel, testing::ToGTest<ModelImpls>, testing::ImplName);

TYPED_TEST(BoundaryModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            2)
      << "the credit hand-off and completion for " << TypeParam::kName;
}

/// credit_boundary with the seeded bug: request(n) reads the credits and stores the sum, two
/// steps (one line away from CreditBoundary::add_credits).
class SplitCreditUpdate : public CreditBoundary<S> {
 public:
  using CreditBoundary<S>::CreditBoundary;

 protected:
  void add_credits(std::uint64_t n) override {
    credits_.store(add_demand(credits_.load(), n));  // BUG: not one read-modify-write
  }
};

TEST(BoundaryTwin, ASplitCreditUpdateOverDeliversAndIsCaughtAndReplays) {
  const auto twin = detail::credit_model<SplitCreditUpdate>("reactive/seeded/split_credit_update");
  testing::expect_caught(twin, check::FailureKind::kAssertion);
  check::Config c = testing::twin_dfs();
  const check::Result r = check::explore(c, twin);
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.failure->replay.empty());
  c.replay = r.failure->replay;
  const check::Result again = check::explore(c, twin);
  ASSERT_FALSE(again.ok()) << "the replay string did not reproduce the over-delivery";
  EXPECT_EQ(again.failure->kind, check::FailureKind::kAssertion);
  EXPECT_EQ(again.failure->trace, r.failure->trace);
}

TEST(BoundaryTwin, TheFixedBoundaryPassesTheSameProgram) {
  testing::expect_passes(detail::credit_model<CreditBoundary<S>>("reactive/fixed/credit"));
}

}  // namespace
}  // namespace cpb::patterns::reactive
