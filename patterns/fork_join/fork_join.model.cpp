// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model check of every runtime templated on the sync policy (the
// own pool: 2 workers, an outside `run`, one spawn and its sync) passes under the model checker,
// and the same program with the parent reading its child's result before the sync is caught as
// a data race (the check can fail: a thief's write is ordered only by the sync).
#include "patterns/fork_join/fork_join.hpp"

#include "harness/testing.hpp"
#include "patterns/fork_join/fork_join.impls.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace cpb::patterns::fork_join {
namespace {

template <class R>
class ForkJoinModel : public ::testing::Test {};
TYPED_TEST_SUITE(ForkJoinModel, testing::SyncTemplated<Impls>, testing::ImplName);

TYPED_TEST(ForkJoinModel, RegisteredModelChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

/// The seeded bug: the root reads the spawned job's cell before syncing it.
check::TestCase read_before_sync() {
  return {"fork_join/fork_join_pool/read_before_sync", [] {
            using S = check::Sync;
            S::cell<int> a{0};
            std::optional<ForkJoinPool<S>> pool(std::in_place, 2);
            pool->run([&] {
              auto f = [&] { a.store(1); };
              Job<S, decltype(f)> job(f);
              pool->spawn(job);
              const int early = a.load();  // the bug: before the sync
              pool->sync(job);
              (void)early;
            });
            const check::NoThrow no_throw;
            pool.reset();
          }};
}

TEST(ForkJoinPoolModel, ReadBeforeSyncIsCaughtAsADataRace) {
  testing::expect_caught(read_before_sync(), check::FailureKind::kDataRace);
}

}  // namespace
}  // namespace cpb::patterns::fork_join
