// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model checks of every pool templated on the sync policy (the
// thread workers, i.e. the dispatcher that the process workers share) pass under the model
// checker: each task runs once and its record reaches the driver; priority order holds.
#include "patterns/worker_pool/worker_pool.hpp"

#include "harness/testing.hpp"
#include "patterns/worker_pool/worker_pool.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::worker_pool {
namespace {

template <class P>
class WorkerPoolModel : public ::testing::Test {};
TYPED_TEST_SUITE(WorkerPoolModel, testing::SyncTemplated<Impls>, testing::ImplName);

TYPED_TEST(WorkerPoolModel, RegisteredModelChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

}  // namespace
}  // namespace cpb::patterns::worker_pool
