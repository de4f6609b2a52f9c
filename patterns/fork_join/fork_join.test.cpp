// SPDX-License-Identifier: Apache-2.0
// Conformance of every fork-join runtime in `Impls` (one typed suite): the programs' results,
// exceptions reaching the caller, the processor's progress; plus the own pool's spawn / sync
// API (any sync order, outside callers, nested run).
#include "patterns/fork_join/fork_join.hpp"

#include "harness/testing.hpp"
#include "patterns/fork_join/fork_join.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace cpb::patterns::fork_join {
namespace {

using namespace std::chrono_literals;

/// Polls `done` until it holds or `limit` passes; returns whether it held.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50us);
  }
  return true;
}

template <class R>
class ForkJoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // libtbb and libgomp are not instrumented: TSan cannot see how they hand a task to another
    // thread and reports the hand-over as a data race. They run under every other preset.
    if ((std::is_same_v<R, TbbTaskGroup> || std::is_same_v<R, OmpTasks>)&&cpb::testing::kTsan) {
      GTEST_SKIP() << "libtbb and libgomp are not instrumented for ThreadSanitizer";
    }
  }
};

TYPED_TEST_SUITE(ForkJoinTest, cpb::testing::ToGTest<Impls>, cpb::testing::ImplName);

static_assert(ForkJoin<ForkJoinPool<>> && ForkJoin<TbbTaskGroup> && ForkJoin<OmpTasks> &&
              ForkJoin<StdAsync>);

TYPED_TEST(ForkJoinTest, ZeroWorkersIsRejected) {
  EXPECT_THROW(TypeParam rt(0), std::invalid_argument);
  EXPECT_THROW(ForkJoinProcessor<TypeParam>(0), std::invalid_argument);
  EXPECT_THROW(ForkJoinProcessor<TypeParam>(1, 0), std::invalid_argument);
}

TYPED_TEST(ForkJoinTest, FibIsRightAtEveryWorkerCount) {
  for (std::size_t w = 1; w <= 4; ++w) {
    TypeParam rt(w);
    std::uint64_t got = 0;
    rt.run([&] { got = fib(rt, 18); });
    EXPECT_EQ(got, 2584U) << w << " workers";
  }
  EXPECT_EQ(fib_calls(0), 1U);
  EXPECT_EQ(fib_calls(2), 3U);
  EXPECT_EQ(fib_calls(18), 8361U);
}

TYPED_TEST(ForkJoinTest, MergeSortSortsAndKeepsEveryKey) {
  TypeParam rt(3);
  for (const std::size_t n : {1UL, 2UL, 3UL, 100UL, 1000UL, 50'001UL}) {
    std::vector<std::uint64_t> keys(n);
    std::vector<std::uint64_t> scratch(n);
    std::uint64_t s = n;
    for (auto& k : keys) k = mix64(s++) % 1000;  // with duplicates
    const std::uint64_t sum = multiset_checksum(keys.data(), n);
    rt.run([&] { merge_sort(rt, keys.data(), scratch.data(), n, 16, false); });
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << n << " keys";
    EXPECT_EQ(multiset_checksum(keys.data(), n), sum) << n << " keys";
  }
}

TYPED_TEST(ForkJoinTest, UtsCountMatchesTheSequentialTraversal) {
  TypeParam rt(2);
  for (const std::uint64_t roots : {1U, 7U, 300U}) {
    UtsTree tree;
    tree.root_children = roots;
    std::uint64_t got = 0;
    rt.run([&] { got = tree.count(rt); });
    EXPECT_EQ(got, tree.count_sequential()) << roots << " root children";
  }
}

TYPED_TEST(ForkJoinTest, ExceptionOfTheForkedBranchReachesTheCaller) {
  TypeParam rt(2);
  std::atomic<int> other{0};
  try {
    rt.run([&] {
      rt.invoke([] { throw std::runtime_error("from a"); }, [&] { other.fetch_add(1); });
    });
    FAIL() << "run returned normally";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "from a");
  }
  EXPECT_EQ(other.load(), 1);
}

TYPED_TEST(ForkJoinTest, ExceptionOfTheInlineBranchReachesTheCaller) {
  TypeParam rt(2);
  std::atomic<int> other{0};
  EXPECT_THROW(rt.run([&] {
    rt.invoke([&] { other.fetch_add(1); }, [] { throw std::logic_error("from b"); });
  }),
               std::logic_error);
  EXPECT_EQ(other.load(), 1) << "invoke rethrew before the forked branch had finished";
}

/// A binary recursion of `depth` levels whose leaf number `bad` throws.
template <class R>
int throwing_tree(R& rt, int depth, int index, int bad) {
  if (depth == 0) {
    if (index == bad) throw std::out_of_range("leaf " + std::to_string(index));
    return 1;
  }
  int l = 0;
  int r = 0;
  rt.invoke([&] { l = throwing_tree(rt, depth - 1, 2 * index, bad); },
            [&] { r = throwing_tree(rt, depth - 1, 2 * index + 1, bad); });
  return l + r;
}

TYPED_TEST(ForkJoinTest, ExceptionDeepInTheTreeReachesTheCallerAndTheRuntimeGoesOn) {
  TypeParam rt(3);
  for (const int bad : {0, 37, 127}) {
    try {
      rt.run([&] { (void)throwing_tree(rt, 7, 0, bad); });
      ADD_FAILURE() << "no exception for leaf " << bad;
    } catch (const std::out_of_range& e) {
      EXPECT_EQ(std::string(e.what()), "leaf " + std::to_string(bad));
    }
    int leaves = 0;
    rt.run([&] { leaves = throwing_tree(rt, 7, 0, -1); });
    EXPECT_EQ(leaves, 128);
  }
}

TYPED_TEST(ForkJoinTest, WhenBothBranchesThrowOneReachesTheCaller) {
  TypeParam rt(2);
  EXPECT_THROW(rt.run([&] {
    rt.invoke([] { throw std::runtime_error("a"); }, [] { throw std::runtime_error("b"); });
  }),
               std::runtime_error);
}

TYPED_TEST(ForkJoinTest, ManyRunsOnOneRuntime) {
  TypeParam rt(2);
  for (int i = 0; i < 200; ++i) {
    std::uint64_t got = 0;
    rt.run([&] { got = fib(rt, i % 12); });
    ASSERT_EQ(got, workloads::fib(i % 12)) << "run " << i;
  }
}

TYPED_TEST(ForkJoinTest, TwoWorkersRunTheBranchesAtTheSameTime) {
  // `b` waits for `a`: it finishes only if another thread runs `a` while `b` blocks.
  TypeParam rt(2);
  std::atomic<bool> a_ran{false};
  bool b_saw_a = false;
  rt.run([&] {
    rt.invoke([&] { a_ran.store(true); },
              [&] { b_saw_a = eventually([&] { return a_ran.load(); }); });
  });
  EXPECT_TRUE(b_saw_a);
}

TYPED_TEST(ForkJoinTest, ProcessorReportsProgressMonotonicallyToN) {
  for (const std::size_t chunk : {1UL, 7UL, 64UL}) {
    ForkJoinProcessor<TypeParam> p(3, chunk);
    constexpr std::size_t kItems = 1000;
    std::vector<std::atomic<int>> marks(kItems);
    std::vector<std::uint64_t> reports;  // the callback is serialized: a plain vector
    p.process(
        kItems, [&](std::size_t i) { marks[i].fetch_add(1); },
        [&](std::uint64_t done) { reports.push_back(done); });
    ASSERT_FALSE(reports.empty());
    EXPECT_TRUE(std::adjacent_find(reports.begin(), reports.end(), std::greater_equal<>()) ==
                reports.end())
        << "progress did not strictly increase (chunk " << chunk << ")";
    EXPECT_EQ(reports.back(), kItems);
    for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(marks[i].load(), 1) << "item " << i;
  }
}

TYPED_TEST(ForkJoinTest, ProcessorWithNoItemsReportsNothing) {
  ForkJoinProcessor<TypeParam> p(2);
  int calls = 0;
  p.process(
      0, [&](std::size_t) { ++calls; }, [&](std::uint64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TYPED_TEST(ForkJoinTest, ProcessorRethrowsAnItemsException) {
  ForkJoinProcessor<TypeParam> p(2, 4);
  std::uint64_t last = 0;
  EXPECT_THROW(p.process(
                   100,
                   [](std::size_t i) {
                     if (i == 42) throw std::runtime_error("item 42");
                   },
                   [&](std::uint64_t done) { last = done; }),
               std::runtime_error);
  EXPECT_LT(last, 100U);
}

// -- the own pool's spawn / sync ----------------------------------------------------------------

TEST(ForkJoinPool, SyncInAnyOrder) {
  ForkJoinPool<> pool(2);
  std::atomic<int> sum{0};
  pool.run([&] {
    auto f1 = [&] { sum.fetch_add(1); };
    auto f2 = [&] { sum.fetch_add(10); };
    auto f3 = [&] { sum.fetch_add(100); };
    Job<sync::Real, decltype(f1)> j1(f1);
    Job<sync::Real, decltype(f2)> j2(f2);
    Job<sync::Real, decltype(f3)> j3(f3);
    pool.spawn(j1);
    pool.spawn(j2);
    pool.spawn(j3);
    pool.sync(j1);  // not the newest: j3 and j2 run here first, and their syncs find them done
    pool.sync(j3);
    pool.sync(j2);
  });
  EXPECT_EQ(sum.load(), 111);
}

TEST(ForkJoinPool, SyncRethrowsTheSpawnedJobsException) {
  ForkJoinPool<> pool(2);
  for (int i = 0; i < 100; ++i) {  // stolen in some rounds, taken back in others
    bool caught = false;
    pool.run([&] {
      auto f = [] { throw std::runtime_error("spawned"); };
      Job<sync::Real, decltype(f)> j(f);
      pool.spawn(j);
      workloads::spin_ns(i * 100);  // gives a thief time to take it
      try {
        pool.sync(j);
      } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "spawned";
      }
    });
    ASSERT_TRUE(caught) << "round " << i;
  }
}

TEST(ForkJoinPool, SpawnOutsideThePoolRunsAtOnce) {
  ForkJoinPool<> pool(1);
  int ran = 0;
  auto f = [&] { ++ran; };
  Job<sync::Real, decltype(f)> j(f);
  pool.spawn(j);
  EXPECT_EQ(ran, 1);
  pool.sync(j);
  auto g = [] { throw std::runtime_error("outside"); };
  Job<sync::Real, decltype(g)> k(g);
  pool.spawn(k);
  EXPECT_THROW(pool.sync(k), std::runtime_error);
}

TEST(ForkJoinPool, RunFromAWorkerRunsInline) {
  ForkJoinPool<> pool(2);
  std::uint64_t got = 0;
  pool.run([&] { pool.run([&] { got = fib(pool, 15); }); });
  EXPECT_EQ(got, 610U);
}

TEST(ForkJoinPool, ConcurrentOutsideCallers) {
  ForkJoinPool<> pool(2);
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::uint64_t got = 0;
        pool.run([&] { got = fib(pool, 10 + t); });
        if (got != workloads::fib(10 + t)) wrong.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ForkJoinPool, IdleWorkersParkAndWakeAgain) {
  ForkJoinPool<> pool(4);
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(20ms);  // long enough for every worker to park
    std::uint64_t got = 0;
    pool.run([&] { got = fib(pool, 16); });
    EXPECT_EQ(got, 987U);
  }
}

TEST(StdAsync, ForksOnlyNearTheRoot) {
  EXPECT_EQ(StdAsync(1).levels(), 0);
  EXPECT_EQ(StdAsync(2).levels(), 1);
  EXPECT_EQ(StdAsync(3).levels(), 1);
  EXPECT_EQ(StdAsync(4).levels(), 2);
}

}  // namespace
}  // namespace cpb::patterns::fork_join
