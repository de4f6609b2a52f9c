// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model check of each own engine passes under the model checker,
// and a seeded-bug twin of the shuffle hand-off (the engine's steps as a tiny program) is caught:
// without the barrier between map and reduce, a reducer reads a mapper's partition buffer while
// the mapper writes it (a data race); with the barrier the same program passes.
#include "patterns/map_reduce/map_reduce.hpp"

#include "harness/check/sync.hpp"
#include "harness/testing.hpp"
#include "patterns/map_reduce/map_reduce.impls.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cpb::patterns::map_reduce {
namespace {

template <class E>
class MapReduceModel : public ::testing::Test {};
TYPED_TEST_SUITE(MapReduceModel, testing::ToGTest<OwnImpls>, testing::ImplName);

TYPED_TEST(MapReduceModel, RegisteredModelChecksPass) {
  static_assert(sync::sync_templated<TypeParam>);
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

/// Two threads, each a mapper of one document and then the reducer of one of two partitions,
/// as `ShuffleEngine` runs them: clear the own buffers, map, flush the combiner, (barrier),
/// reduce partition w from both mappers' buffers. `kBarrier = false` is the seeded bug.
template <bool kBarrier>
check::TestCase handoff(std::string name) {
  return {std::move(name), [] {
            using S = check::Sync;
            static constexpr std::array<Document, 2> kDocs{{{0, "a b"}, {1, "b a"}}};
            const WordCount job;
            std::array<S::cell<Partition<WordCount, true>>, 4> parts;  // [mapper * 2 + part]
            std::array<S::cell<std::uint64_t>, 2> totals;
            PhaseBarrier<S> barrier(2, /*spins=*/1);
            const auto side = [&](std::size_t w) {
              const auto part = [&](std::size_t p) -> auto& { return parts[w * 2 + p].get(); };
              for (std::size_t p = 0; p < 2; ++p) part(p).clear();
              MapSide<WordCount, true> mapper;
              mapper.map(job, kDocs[w], 2, part);
              mapper.flush(2, part);
              if constexpr (kBarrier) barrier.arrive_and_wait();
              FlatMap<std::string_view, std::uint64_t> scratch;
              Output<WordCount> out;
              reduce_partition<WordCount, true>(
                  job, 2, [&](std::size_t from) -> auto& { return parts[from * 2 + w].get(); },
                  scratch, out);
              std::uint64_t total = 0;
              for (const auto& kv : out) total += kv.second;
              totals[w].store(total);
            };
            S::thread other([&] { side(1); });
            side(0);
            other.join();
            CPB_CHECK_ASSERT(totals[0].load() + totals[1].load() == 4);
          }};
}

/// The engine itself with its seeded-bug flag: no barrier between map and reduce.
struct NoShuffleBarrier : Combiner {
  static constexpr bool kSeededBugNoShuffleBarrier = true;
};

TEST(MapReduceTwins, EngineWithoutTheShuffleBarrierIsARace) {
  testing::expect_caught(
      detail::shuffle_model<ShuffleEngine<NoShuffleBarrier, check::Sync>>("map_reduce/twin/engine"),
      check::FailureKind::kDataRace);
}

TEST(MapReduceTwins, HandoffWithoutTheBarrierIsARace) {
  testing::expect_caught(handoff<false>("map_reduce/twin/no_barrier"),
                         check::FailureKind::kDataRace);
}

TEST(MapReduceTwins, HandoffWithTheBarrierPasses) {
  testing::expect_passes(handoff<true>("map_reduce/fix/barrier"));
}

}  // namespace
}  // namespace cpb::patterns::map_reduce
