// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in stack, through one typed suite.
#include "patterns/lockfree_stack/lockfree_stack.hpp"

#include "harness/testing.hpp"
#include "patterns/lockfree_stack/lockfree_stack.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace cpb::patterns::lockfree_stack {
namespace {

template <class St>
class StackTest : public ::testing::Test {};
TYPED_TEST_SUITE(StackTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(StackTest, SatisfiesTheConcept) { static_assert(Stack<TypeParam>); }

TYPED_TEST(StackTest, PopOnEmptyReturnsNothing) {
  TypeParam s;
  EXPECT_FALSE(s.try_pop().has_value());
  s.push(7);
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(7));
  EXPECT_FALSE(s.try_pop().has_value());
}

TYPED_TEST(StackTest, SingleThreadIsLastInFirstOut) {
  TypeParam s;
  constexpr std::uint64_t kN = 1000;
  for (std::uint64_t i = 1; i <= kN; ++i) s.push(i);
  for (std::uint64_t i = kN; i >= 1; --i) ASSERT_EQ(s.try_pop(), std::optional<std::uint64_t>(i));
  EXPECT_FALSE(s.try_pop().has_value());
}

TYPED_TEST(StackTest, InterleavedPushesAndPopsKeepOrder) {
  TypeParam s;
  s.push(1);
  s.push(2);
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(2));
  s.push(3);
  s.push(4);
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(4));
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(3));
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(1));
  EXPECT_FALSE(s.try_pop().has_value());
}

TYPED_TEST(StackTest, ExtremeValuesSurvive) {
  TypeParam s;
  s.push(0);
  s.push(~std::uint64_t{0});
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(~std::uint64_t{0}));
  EXPECT_EQ(s.try_pop(), std::optional<std::uint64_t>(0));
}

// Four threads push distinct values and pop in bursts; everything popped, plus what is left,
// must be exactly what was pushed: no loss, no duplicate.
TYPED_TEST(StackTest, ManyThreadsLoseAndDuplicateNothing) {
  TypeParam s;
  constexpr std::size_t kThreads = 4;
  constexpr std::uint64_t kEach = 20'000;
  std::vector<std::vector<std::uint64_t>> popped(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < kEach; ++i) {
        s.push(t * kEach + i);
        if (i % 3 == 2) {  // pop two of every three pushes, in bursts of two
          for (int k = 0; k < 2; ++k) {
            if (auto v = s.try_pop()) popped[t].push_back(*v);
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::uint64_t> all;
  for (auto& p : popped) all.insert(all.end(), p.begin(), p.end());
  while (auto v = s.try_pop()) all.push_back(*v);
  ASSERT_EQ(all.size(), kThreads * kEach);
  std::sort(all.begin(), all.end());
  for (std::uint64_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i) << "lost or duplicated";
}

// Two producers and two consumers; the consumers stop once everything was popped.
TYPED_TEST(StackTest, ProducersAndConsumersHandOverEverything) {
  TypeParam s;
  constexpr std::uint64_t kEach = 20'000;
  std::atomic<std::uint64_t> taken{0};
  std::vector<std::uint64_t> sums(2, 0);
  std::vector<std::thread> threads;
  for (std::uint64_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint64_t i = 1; i <= kEach; ++i) s.push(p * kEach + i);
    });
  }
  for (std::size_t c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      while (taken.load() < 2 * kEach) {
        if (auto v = s.try_pop()) {
          sums[c] += *v;
          taken.fetch_add(1);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::uint64_t n = 2 * kEach;
  EXPECT_EQ(sums[0] + sums[1], n * (n + 1) / 2);
  EXPECT_FALSE(s.try_pop().has_value());
}

}  // namespace
}  // namespace cpb::patterns::lockfree_stack
