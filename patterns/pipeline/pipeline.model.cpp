// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model check of every pipeline templated on the sync policy
// passes (an in-order stage behind an unordered stage of 2 threads sees the source's order, the
// end of stream reaches it, and every stage thread exits), and its seeded twin, the same
// pipeline with the reorder buffer taken out of the hand-off (the sink stage made unordered),
// is caught as an assertion failure: the check can tell a broken hand-off from a good one.
#include "patterns/pipeline/pipeline.hpp"

#include "harness/testing.hpp"
#include "patterns/pipeline/pipeline.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

namespace cpb::patterns::pipeline {
namespace {

template <class P>
class PipelineModel : public ::testing::Test {};
TYPED_TEST_SUITE(PipelineModel, testing::SyncTemplated<Impls>, testing::ImplName);

TYPED_TEST(PipelineModel, RegisteredModelChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

TYPED_TEST(PipelineModel, HandOffWithoutReorderBufferIsCaught) {
  using M = sync::rebind_t<TypeParam, check::Sync>;
  const check::TestCase twin =
      detail::in_order_model<M>("pipeline/unordered_sink_twin", Order::kUnordered);
  CheckConfig cfg;
  cfg.budget = std::chrono::milliseconds(1000);
  const stress::CheckResult r = check::model_mode([twin] { return twin; })(cfg);
  ASSERT_FALSE(r.passed()) << twin.name << " was not caught: " << r.details;
  EXPECT_EQ(r.verdict, stress::Verdict::kFail) << r.failure;
  EXPECT_EQ(r.kind, std::string_view("assertion")) << r.details;
}

}  // namespace
}  // namespace cpb::patterns::pipeline
