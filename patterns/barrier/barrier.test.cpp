// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in barrier, through one typed suite.
#include "patterns/barrier/barrier.hpp"

#include "harness/testing.hpp"
#include "patterns/barrier/barrier.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace cpb::patterns::barrier {
namespace {

template <class B>
class BarrierTest : public ::testing::Test {};
TYPED_TEST_SUITE(BarrierTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(BarrierTest, SatisfiesTheConcept) { static_assert(Barrier<TypeParam>); }

TYPED_TEST(BarrierTest, OnePartyNeverBlocks) {
  TypeParam b(1);
  for (int i = 0; i < 3; ++i) b.arrive_and_wait();
}

TYPED_TEST(BarrierTest, BlocksUntilTheLastPartyArrives) {
  TypeParam b(2);
  std::atomic<bool> passed{false};
  std::thread t([&] {
    b.arrive_and_wait();
    passed.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(passed.load()) << "a party left before the other arrived";
  b.arrive_and_wait();
  t.join();
  EXPECT_TRUE(passed.load());
}

// 2 to 5 parties (odd counts exercise the dissemination barrier's wrap-around partners), many
// episodes: after each, every thread sees that every thread arrived, and plain data written
// before the barrier is read after it without a race (TSan).
TYPED_TEST(BarrierTest, NoThreadLeavesAnEpisodeBeforeAllArrive) {
  constexpr int kEpisodes = 500;
  for (int parties = 2; parties <= 5; ++parties) {
    TypeParam b(parties);
    detail::EpisodeLedger ledger(static_cast<std::size_t>(parties));
    std::vector<std::uint64_t> plain(static_cast<std::size_t>(parties), 0);
    std::atomic<std::uint64_t> early{0};
    std::atomic<std::uint64_t> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < parties; ++t) {
      threads.emplace_back([&, t] {
        const auto me = static_cast<std::size_t>(t);
        for (int e = 0; e < kEpisodes; ++e) {
          const std::uint64_t k = ledger.next(me);
          plain[me] = k;  // written before arriving, read by everyone after the barrier
          ledger.arrive(me, k);
          b.arrive_and_wait();
          early.fetch_add(ledger.missing(k));
          for (int j = 0; j < parties; ++j) {
            if (plain[static_cast<std::size_t>(j)] != k) wrong.fetch_add(1);
          }
          b.arrive_and_wait();  // nobody writes plain[] for k + 1 before all have read it
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(early.load(), 0U) << parties << " parties";
    EXPECT_EQ(wrong.load(), 0U) << parties << " parties";
    EXPECT_EQ(ledger.uneven(), "") << parties << " parties";
  }
}

}  // namespace
}  // namespace cpb::patterns::barrier
