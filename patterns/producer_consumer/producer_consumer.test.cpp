// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in bounded buffer through one typed suite, and the outcome oracle.
#include "patterns/producer_consumer/producer_consumer.hpp"

#include "harness/testing.hpp"
#include "patterns/producer_consumer/producer_consumer.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cpb::patterns::producer_consumer {
namespace {

using namespace std::chrono_literals;

template <class B>
class BufferTest : public ::testing::Test {};
TYPED_TEST_SUITE(BufferTest, testing::ToGTest<Impls>, testing::ImplName);

/// Pushes 1..capacity() (all must be accepted).
template <class B>
void fill(B& b) {
  for (std::uint64_t v = 1; v <= b.capacity(); ++v) {
    ASSERT_EQ(b.push(v, DiscardEvicted{}), Pushed::kAccepted) << v;
  }
}

/// Everything there now, in order.
template <class B>
std::vector<std::uint64_t> drain(B& b) {
  std::vector<std::uint64_t> out(b.capacity() + 1);
  out.resize(b.consume_batch(out.data(), out.size(), Timeout::zero()));
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

TYPED_TEST(BufferTest, SatisfiesTheConcept) { static_assert(BoundedBuffer<TypeParam>); }

TYPED_TEST(BufferTest, ZeroCapacityThrows) {
  EXPECT_THROW(TypeParam(0, Policy::kBlock), std::invalid_argument);
}

TYPED_TEST(BufferTest, HoldsAtLeastItsCapacityInOrder) {
  for (const std::size_t cap : {1U, 2U, 7U, 64U}) {
    TypeParam b(cap, Policy::kReject);
    EXPECT_GE(b.capacity(), cap);
    fill(b);
    EXPECT_EQ(b.push(999, DiscardEvicted{}), Pushed::kRejected) << "a full buffer took more";
    EXPECT_EQ(drain(b), range(1, b.capacity()));
    EXPECT_TRUE(drain(b).empty());
  }
}

// Fill, then take a few and push a few, many times: the indices wrap around.
TYPED_TEST(BufferTest, WrapsAround) {
  TypeParam b(4, Policy::kBlock);
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::array<std::uint64_t, 3> got{};
  for (int round = 0; round < 5'000; ++round) {
    for (int k = 0; k <= round % 3; ++k)
      ASSERT_EQ(b.push(++in, DiscardEvicted{}), Pushed::kAccepted);
    const std::size_t n = b.consume_batch(got.data(), got.size(), Timeout::zero());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], ++out) << "round " << round;
    ASSERT_EQ(out, in) << "round " << round;
  }
}

TYPED_TEST(BufferTest, RejectRefusesOnlyWhenFullAndKeepsTheBuffer) {
  TypeParam b(4, Policy::kReject);
  fill(b);
  EXPECT_EQ(b.push(100, DiscardEvicted{}), Pushed::kRejected);
  std::uint64_t v = 0;
  ASSERT_EQ(b.consume_batch(&v, 1, Timeout::zero()), 1U);
  EXPECT_EQ(v, 1U);
  EXPECT_EQ(b.push(100, DiscardEvicted{}), Pushed::kAccepted) << "refused with room";
  auto want = range(2, b.capacity());
  want.push_back(100);
  EXPECT_EQ(drain(b), want);
}

TYPED_TEST(BufferTest, DropNewestDiscardsOnlyTheIncoming) {
  TypeParam b(4, Policy::kDropNewest);
  fill(b);
  EXPECT_EQ(b.push(100, DiscardEvicted{}), Pushed::kDropped);
  EXPECT_EQ(b.push(101, DiscardEvicted{}), Pushed::kDropped);
  EXPECT_EQ(drain(b), range(1, b.capacity()));
}

TYPED_TEST(BufferTest, DropOldestEvictsTheOldestIntoTheSink) {
  TypeParam b(4, Policy::kDropOldest);
  fill(b);
  const std::uint64_t cap = b.capacity();
  std::vector<std::uint64_t> evicted;
  const auto sink = [&](std::uint64_t old) { evicted.push_back(old); };
  EXPECT_EQ(b.push(cap + 1, sink), Pushed::kAccepted);
  EXPECT_EQ(b.push(cap + 2, sink), Pushed::kAccepted);
  EXPECT_EQ(evicted, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(drain(b), range(3, cap + 2));
  EXPECT_EQ(b.push(7, sink), Pushed::kAccepted);
  EXPECT_EQ(evicted.size(), 2U) << "evicted from a buffer with room";
}

TYPED_TEST(BufferTest, BlockWaitsForRoom) {
  TypeParam b(2, Policy::kBlock);
  fill(b);
  std::atomic<bool> done{false};
  std::thread producer([&] {
    EXPECT_EQ(b.push(100, DiscardEvicted{}), Pushed::kAccepted);
    done.store(true);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(done.load()) << "a push into a full kBlock buffer returned";
  std::uint64_t v = 0;
  ASSERT_EQ(b.consume_batch(&v, 1, kForever), 1U);
  EXPECT_EQ(v, 1U);
  producer.join();
  auto want = range(2, b.capacity());
  want.push_back(100);
  auto got = drain(b);
  // Another thread pushed 100: only a globally FIFO buffer orders it after the others.
  if (!TypeParam::kGlobalFifo) std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TYPED_TEST(BufferTest, PartialBatchAtTheTimeout) {
  TypeParam b(16, Policy::kBlock);
  for (std::uint64_t v = 1; v <= 3; ++v) ASSERT_EQ(b.push(v, DiscardEvicted{}), Pushed::kAccepted);
  std::array<std::uint64_t, 10> out{};
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = b.consume_batch(out.data(), out.size(), 30ms);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(n, 3U);
  EXPECT_EQ(out[0], 1U);
  EXPECT_EQ(out[2], 3U);
  // A correctness bound, not a speed one: it must wait for the rest of the batch until the
  // timeout (the clock may only make this longer).
  EXPECT_GE(waited, 29ms) << "returned a partial batch before the timeout";
  EXPECT_EQ(b.consume_batch(out.data(), out.size(), 5ms), 0U) << "an empty buffer gave items";
}

TYPED_TEST(BufferTest, BatchCompletesWithItemsArrivingWhileItWaits) {
  TypeParam b(16, Policy::kBlock);
  std::thread producer([&] {
    for (std::uint64_t v = 1; v <= 8; ++v) {
      std::this_thread::sleep_for(1ms);
      EXPECT_EQ(b.push(v, DiscardEvicted{}), Pushed::kAccepted);
    }
  });
  std::array<std::uint64_t, 8> out{};
  EXPECT_EQ(b.consume_batch(out.data(), out.size(), kForever), 8U);
  producer.join();
  EXPECT_EQ(std::vector<std::uint64_t>(out.begin(), out.end()), range(1, 8));
}

TYPED_TEST(BufferTest, CloseWakesABlockedConsumer) {
  TypeParam b(4, Policy::kBlock);
  std::thread consumer([&] {
    std::uint64_t v = 0;
    EXPECT_EQ(b.consume_batch(&v, 1, kForever), 0U);
  });
  std::this_thread::sleep_for(10ms);
  b.close();
  consumer.join();
}

TYPED_TEST(BufferTest, CloseWakesABlockedProducer) {
  TypeParam b(2, Policy::kBlock);
  fill(b);
  std::thread producer([&] { EXPECT_EQ(b.push(100, DiscardEvicted{}), Pushed::kClosed); });
  std::this_thread::sleep_for(10ms);
  b.close();
  producer.join();
  EXPECT_EQ(drain(b), range(1, b.capacity())) << "close lost buffered items";
}

TYPED_TEST(BufferTest, AClosedBufferRefusesPushesAndDrains) {
  TypeParam b(8, Policy::kBlock);
  ASSERT_EQ(b.push(1, DiscardEvicted{}), Pushed::kAccepted);
  ASSERT_EQ(b.push(2, DiscardEvicted{}), Pushed::kAccepted);
  b.close();
  EXPECT_EQ(b.push(3, DiscardEvicted{}), Pushed::kClosed);
  std::array<std::uint64_t, 5> out{};
  EXPECT_EQ(b.consume_batch(out.data(), out.size(), kForever), 2U);
  EXPECT_EQ(out[0], 1U);
  EXPECT_EQ(out[1], 2U);
  EXPECT_EQ(b.consume_batch(out.data(), out.size(), kForever), 0U);
}

// 2 producers and 2 consumers on real threads through a small kBlock buffer: every item comes
// out exactly once, in order per producer.
TYPED_TEST(BufferTest, ConcurrentNoLossNoDuplicationPerProducerOrder) {
  constexpr std::size_t kProducers = 2;
  constexpr std::uint64_t kEach = 20'000;
  TypeParam b(8, Policy::kBlock);
  std::vector<std::vector<std::uint64_t>> got(2);
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&b, p] {
      for (std::uint64_t i = 1; i <= kEach; ++i) {
        ASSERT_EQ(b.push(detail::item(p, i), DiscardEvicted{}), Pushed::kAccepted);
      }
    });
  }
  for (auto& mine : got) {
    threads.emplace_back([&b, &mine] {
      std::array<std::uint64_t, 5> out{};
      for (;;) {
        const std::size_t n = b.consume_batch(out.data(), out.size(), kForever);
        mine.insert(mine.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        if (n < out.size()) return;  // closed and empty
      }
    });
  }
  threads[0].join();
  threads[1].join();
  b.close();
  threads[2].join();
  threads[3].join();
  std::vector<std::uint64_t> all;
  for (const auto& mine : got) {
    detail::OrderCheck order(kProducers);
    for (const std::uint64_t v : mine) order.see(v);
    EXPECT_EQ(order.bad(), 0U) << order.describe();
    all.insert(all.end(), mine.begin(), mine.end());
  }
  ASSERT_EQ(all.size(), kProducers * kEach) << "items lost or duplicated";
  std::sort(all.begin(), all.end());
  EXPECT_TRUE(std::adjacent_find(all.begin(), all.end()) == all.end()) << "an item came out twice";
}

// -- the outcome oracle ---------------------------------------------------------------------------

constexpr auto kAcc = static_cast<std::int64_t>(Pushed::kAccepted);
constexpr auto kRej = static_cast<std::int64_t>(Pushed::kRejected);
constexpr auto kDrop = static_cast<std::int64_t>(Pushed::kDropped);

TEST(PolicyOracle, BlockLosesNothing) {
  EXPECT_EQ(detail::judge(Policy::kBlock, true, {kAcc, 0, 12, 3}), "");
  EXPECT_EQ(detail::judge(Policy::kBlock, true, {kAcc, 0, 123, 0}), "");
  EXPECT_NE(detail::judge(Policy::kBlock, true, {kAcc, 0, 12, 0}), "") << "3 lost";
  EXPECT_NE(detail::judge(Policy::kBlock, true, {kRej, 0, 12, 0}), "") << "block rejected";
  EXPECT_NE(detail::judge(Policy::kBlock, true, {kAcc, 0, 12, 33}), "") << "3 twice";
}

TEST(PolicyOracle, RejectAndDropNewestLoseOnlyTheIncoming) {
  EXPECT_EQ(detail::judge(Policy::kReject, true, {kRej, 0, 12, 0}), "");
  EXPECT_EQ(detail::judge(Policy::kDropNewest, true, {kDrop, 0, 1, 2}), "");
  EXPECT_NE(detail::judge(Policy::kReject, true, {kRej, 0, 123, 0}), "") << "rejected came out";
  EXPECT_NE(detail::judge(Policy::kReject, true, {kDrop, 0, 12, 0}), "") << "wrong kind";
  EXPECT_NE(detail::judge(Policy::kDropNewest, true, {kDrop, 0, 2, 0}), "") << "1 lost";
}

TEST(PolicyOracle, DropOldestLosesOnlyTheOldest) {
  EXPECT_EQ(detail::judge(Policy::kDropOldest, true, {kAcc, 1, 23, 0}), "");
  EXPECT_EQ(detail::judge(Policy::kDropOldest, true, {kAcc, 1, 0, 23}), "");
  EXPECT_EQ(detail::judge(Policy::kDropOldest, true, {kAcc, 2, 1, 3}), "") << "1 was gone";
  EXPECT_NE(detail::judge(Policy::kDropOldest, true, {kAcc, 2, 0, 13}), "") << "evicted newer";
  EXPECT_NE(detail::judge(Policy::kDropOldest, true, {kAcc, 1, 123, 0}), "") << "1 twice";
  EXPECT_NE(detail::judge(Policy::kDropOldest, true, {kAcc, 1, 2, 0}), "") << "3 lost";
}

TEST(PolicyOracle, OrderAcrossProducersOnlyForGlobalFifo) {
  EXPECT_NE(detail::judge(Policy::kBlock, true, {kAcc, 0, 13, 2}), "");
  EXPECT_EQ(detail::judge(Policy::kBlock, false, {kAcc, 0, 13, 2}), "");
  EXPECT_NE(detail::judge(Policy::kBlock, false, {kAcc, 0, 21, 3}), "") << "same producer";
}

TEST(PolicyOracle, TablesNameOnlyAllowedOutcomes) {
  for (const Policy p :
       {Policy::kBlock, Policy::kReject, Policy::kDropOldest, Policy::kDropNewest}) {
    const auto rows = detail::outcome_table(p, true);
    EXPECT_FALSE(rows.empty());
    for (const auto& row : rows) EXPECT_EQ(detail::judge(p, true, row.outcome), "");
  }
  EXPECT_GT(detail::outcome_table(Policy::kBlock, false).size(),
            detail::outcome_table(Policy::kBlock, true).size());
}

}  // namespace
}  // namespace cpb::patterns::producer_consumer
