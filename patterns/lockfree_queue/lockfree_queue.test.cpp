// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in queue through one typed suite.
#include "patterns/lockfree_queue/lockfree_queue.hpp"

#include "harness/testing.hpp"
#include "patterns/lockfree_queue/lockfree_queue.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <thread>
#include <vector>

namespace cpb::patterns::lockfree_queue {
namespace {

template <class Q>
class QueueTest : public ::testing::Test {};
TYPED_TEST_SUITE(QueueTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(QueueTest, SatisfiesTheConcept) { static_assert(Queue<TypeParam>); }

TYPED_TEST(QueueTest, ANewQueueIsEmpty) {
  TypeParam q(16);
  std::uint64_t v = 0;
  EXPECT_FALSE(q.try_pop(v));
  EXPECT_FALSE(q.try_pop(v));
}

TYPED_TEST(QueueTest, FifoOnOneThread) {
  TypeParam q(128);
  for (std::uint64_t v = 1; v <= 100; ++v) ASSERT_TRUE(q.try_push(v)) << v;
  for (std::uint64_t v = 1; v <= 100; ++v) {
    std::uint64_t got = 0;
    ASSERT_TRUE(q.try_pop(got)) << v;
    EXPECT_EQ(got, v);
  }
  std::uint64_t got = 0;
  EXPECT_FALSE(q.try_pop(got));
}

// Push 1..3 elements, pop them all, many times: the indices wrap around a small ring.
TYPED_TEST(QueueTest, InterleavedPushAndPopWrapAround) {
  TypeParam q(4);
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  for (int round = 0; round < 10'000; ++round) {
    for (int k = 0; k <= round % 3; ++k) ASSERT_TRUE(q.try_push(++in)) << "round " << round;
    std::uint64_t got = 0;
    while (q.try_pop(got)) ASSERT_EQ(got, ++out) << "round " << round;
    ASSERT_EQ(out, in) << "round " << round;
  }
}

TYPED_TEST(QueueTest, RefusesOnlyAsItsBoundSays) {
  TypeParam q(8);
  std::uint64_t got = 0;
  // On one thread a `kAtMost` queue has no pop in flight: it refuses exactly when full.
  if constexpr (TypeParam::kBound == Bound::kExact || TypeParam::kBound == Bound::kAtMost) {
    const std::size_t cap = q.capacity();
    ASSERT_GE(cap, 8U);
    for (std::uint64_t v = 1; v <= cap; ++v) ASSERT_TRUE(q.try_push(v)) << v;
    EXPECT_FALSE(q.try_push(999)) << "a full queue accepted a push";
    ASSERT_TRUE(q.try_pop(got));
    EXPECT_EQ(got, 1U);
    EXPECT_TRUE(q.try_push(cap + 1)) << "a push was refused after a pop made room";
    EXPECT_FALSE(q.try_push(999));
    for (std::uint64_t v = 2; v <= cap + 1; ++v) {
      ASSERT_TRUE(q.try_pop(got));
      EXPECT_EQ(got, v);
    }
  } else if constexpr (TypeParam::kBound == Bound::kAtLeast) {
    ASSERT_GE(q.capacity(), 8U);
    std::uint64_t n = 0;
    while (n < 1'000'000 && q.try_push(n + 1)) ++n;
    EXPECT_GE(n, q.capacity()) << "refused before holding its capacity";
    EXPECT_LT(n, 1'000'000U) << "never refused";
    for (std::uint64_t v = 1; v <= n; ++v) {
      ASSERT_TRUE(q.try_pop(got));
      EXPECT_EQ(got, v);
    }
    EXPECT_TRUE(q.try_push(1)) << "refused after being drained";
    ASSERT_TRUE(q.try_pop(got));
  } else {
    EXPECT_EQ(q.capacity(), 0U);
    for (std::uint64_t v = 1; v <= 100'000; ++v) ASSERT_TRUE(q.try_push(v)) << v;
    for (std::uint64_t v = 1; v <= 100'000; ++v) {
      ASSERT_TRUE(q.try_pop(got));
      ASSERT_EQ(got, v);
    }
  }
  EXPECT_FALSE(q.try_pop(got));
}

// Destroying a queue that still holds elements frees them (LeakSanitizer in asan-ubsan).
TYPED_TEST(QueueTest, DestroysWithElementsQueued) {
  TypeParam q(64);
  for (std::uint64_t v = 1; v <= 50; ++v) ASSERT_TRUE(q.try_push(v));
  std::uint64_t got = 0;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.try_pop(got));
}

// Producers and consumers on real threads (2 x 2 for MPMC queues, 1 x 1 for SPSC ones) through
// a small queue, so both the full and the empty paths are taken: every value comes out exactly
// once, and each consumer sees each producer's values in increasing order.
TYPED_TEST(QueueTest, ConcurrentNoLossNoDuplicationPerProducerOrder) {
  constexpr int kProducers = TypeParam::kMultiProducer ? 2 : 1;
  constexpr int kConsumers = TypeParam::kMultiConsumer ? 2 : 1;
  constexpr std::uint64_t kEach = 20'000;
  constexpr std::uint64_t kTotal = kEach * kProducers;
  TypeParam q(64);
  std::atomic<std::uint64_t> taken{0};
  std::vector<std::vector<std::uint64_t>> got(kConsumers);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&q, p] {
      for (std::uint64_t i = 1; i <= kEach; ++i) {
        const std::uint64_t v = (static_cast<std::uint64_t>(p) << 32) | i;
        while (!q.try_push(v)) std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&q, &taken, &mine = got[static_cast<std::size_t>(c)]] {
      std::uint64_t v = 0;
      while (taken.load() < kTotal) {
        if (q.try_pop(v)) {
          mine.push_back(v);
          taken.fetch_add(1);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::uint64_t> all;
  for (const auto& mine : got) {
    std::vector<std::uint64_t> last(kProducers, 0);
    for (const std::uint64_t v : mine) {
      const auto p = static_cast<std::size_t>(v >> 32);
      ASSERT_LT(p, static_cast<std::size_t>(kProducers)) << "a value no producer pushed: " << v;
      EXPECT_GT(v & 0xffffffffU, last[p]) << "producer " << p << "'s values out of order";
      last[p] = v & 0xffffffffU;
    }
    all.insert(all.end(), mine.begin(), mine.end());
  }
  ASSERT_EQ(all.size(), kTotal) << "values lost or duplicated";
  std::sort(all.begin(), all.end());
  EXPECT_TRUE(std::adjacent_find(all.begin(), all.end()) == all.end()) << "a value came out twice";
  std::uint64_t v = 0;
  EXPECT_FALSE(q.try_pop(v)) << "a value was left in the queue";
}

// -- the family's own history checks ----------------------------------------------------------

using stress::Op;
using stress::QueueSpec;

/// Sequential operations on one thread: each responds before the next is invoked.
stress::History sequential(std::initializer_list<Op> ops) {
  stress::History h;
  std::uint64_t t = 1;
  for (Op op : ops) {
    op.invoke = t++;
    op.response = t++;
    h.push_back(op);
  }
  return h;
}
Op push(std::int64_t v, bool ok = true) { return Op{0, QueueSpec::kPush, v, 0, ok, 0, 0, 0}; }
Op pop(std::int64_t v) { return Op{0, QueueSpec::kPop, 0, 0, true, v, 0, 0}; }
Op pop_empty() { return Op{0, QueueSpec::kPop, 0, 0, false, 0, 0, 0}; }

TEST(CapacityQueueSpec, AtLeastAcceptsRefusalsOnlyAtTheGuaranteedCapacity) {
  const detail::CapacityQueueSpec spec{2};
  EXPECT_TRUE(
      stress::check_linearizable(spec, sequential({push(1), push(2), push(3), push(4, false),
                                                   pop(1), pop(2), pop(3), pop_empty()}))
          .passed())
      << "holding more than the guaranteed capacity, then refusing, is allowed";
  EXPECT_FALSE(stress::check_linearizable(spec, sequential({push(1), push(2, false)})).passed())
      << "a refusal while holding less than the guaranteed capacity must fail";
  EXPECT_FALSE(stress::check_linearizable(spec, sequential({push(1), push(2), pop(2)})).passed())
      << "LIFO order must fail";
}

TEST(CapacityQueueSpec, AtMostAcceptsEarlyRefusalsButNeverMoreThanTheCapacity) {
  const detail::CapacityQueueSpec spec{0, 2};
  EXPECT_TRUE(stress::check_linearizable(
                  spec, sequential({push(1, false), push(2), push(3), push(4, false), pop(2)}))
                  .passed())
      << "refusing early, and at the capacity, is allowed";
  EXPECT_FALSE(stress::check_linearizable(spec, sequential({push(1), push(2), push(3)})).passed())
      << "holding more than the capacity must fail";
}

TEST(PerProducerFifo, PassesAnInterleavingOfTwoProducersInOrder) {
  // Producer 0's values are 1, 2; producer 1's are 1,000,001 and 1,000,002.
  const auto h =
      sequential({push(1), push(1'000'001), push(2), pop(1'000'001), pop(1), push(1'000'002)});
  const auto r = detail::check_per_producer_fifo("t", h, {2, 1'000'002}, 1);
  EXPECT_TRUE(r.passed()) << r.failure;
}

TEST(PerProducerFifo, CatchesReorderLossAndDuplication) {
  const auto reordered = sequential({push(1), push(2), pop(2), pop(1)});
  EXPECT_FALSE(detail::check_per_producer_fifo("t", reordered, {}, 1).passed());
  const auto lost = sequential({push(1), push(2), pop(1)});
  EXPECT_FALSE(detail::check_per_producer_fifo("t", lost, {}, 1).passed());
  const auto twice = sequential({push(1), pop(1), pop(1)});
  EXPECT_FALSE(detail::check_per_producer_fifo("t", twice, {}, 1).passed());
  const auto drained_early = sequential({push(1), push(2), pop(2)});
  EXPECT_FALSE(detail::check_per_producer_fifo("t", drained_early, {1}, 1).passed());
  const auto invented = sequential({push(1), pop(1), pop(7)});
  EXPECT_FALSE(detail::check_per_producer_fifo("t", invented, {}, 1).passed());
}
}  // namespace
}  // namespace cpb::patterns::lockfree_queue
