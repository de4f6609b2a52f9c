// SPDX-License-Identifier: Apache-2.0
// Model checks of the Chase-Lev deque the work-stealing pool is built on (the pools' own
// registered model checks run through `cpbench check` in tests/): it keeps every item exactly
// once under SC and TSO, while its seeded twin (take() without the seq_cst fence between the store
// of bottom and the load of top; the same code, `kTakeFence = false`) hands one item to the owner
// and a thief both, which only TSO shows.
#include "harness/check/explore.hpp"
#include "harness/check/sync.hpp"
#include "patterns/thread_pool/chase_lev_deque.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>

namespace cpb::patterns::thread_pool {
namespace {

using check::Config;
using check::Result;
using check::TestCase;
using check::Tier;

/// The owner pushes items 0 and 1 (into a deque of 2 slots, so a third push would grow it) and
/// takes `takes` times; a thief steals `steals` times. Every item must be obtained at most once,
/// and, once both are done, exactly once or still in the deque.
template <bool kTakeFence>
struct DequeState {
  ChaseLevDeque<int, check::Sync, kTakeFence> deque{2};
  std::array<check::Sync::atomic<int>, 3> got{};

  void note(std::optional<int> x) {
    if (x) got[static_cast<std::size_t>(*x)].fetch_add(1);
  }
};

template <bool kTakeFence>
TestCase deque_test(std::string name, int pushes, int takes, int steals) {
  using St = DequeState<kTakeFence>;
  return check::make_test<St>(std::move(name),
                              {[=](St& s) {
                                 for (int i = 0; i < pushes; ++i) s.deque.push(i);
                                 for (int i = 0; i < takes; ++i) s.note(s.deque.take());
                               },
                               [=](St& s) {
                                 for (int i = 0; i < steals; ++i) s.note(s.deque.steal());
                               }},
                              [=](St& s) {
                                while (auto x = s.deque.take())
                                  s.note(x);  // what is left, after both threads joined
                                for (int i = 0; i < pushes; ++i) {
                                  CPB_CHECK_ASSERT(s.got[static_cast<std::size_t>(i)].load() == 1);
                                }
                                // Drain this thread's TSO store buffer before the state dies:
                                // the checker would flush take()'s last store of bottom into a
                                // dead object after the body returned (ASan sees it; a checker
                                // bug, noted on issue 11).
                                check::Sync::fence(std::memory_order_seq_cst);
                              });
}

/// The exhaustive search (no preemption bound: under TSO, DPOR without a bound explores far
/// fewer executions than with one, harness/check/README.md).
Config dfs(Tier tier) {
  Config c;
  c.strategy = check::Strategy::kDfs;
  c.preemption_bound = -1;
  c.max_executions = 200'000;
  c.max_seconds = 60;
  c.tier = tier;
  return c;
}

TEST(ChaseLevModel, EveryItemOnceUnderScAndTso) {
  for (const Tier tier : {Tier::kSc, Tier::kTso}) {
    const Result r = check::explore(dfs(tier), deque_test<true>("chase_lev", 2, 1, 2));
    EXPECT_TRUE(r.ok() && r.exhausted) << r.report();
    std::printf("%s, %s: %llu executions\n", r.test.c_str(), std::string(to_string(tier)).c_str(),
                static_cast<unsigned long long>(r.executions));
  }
}

TEST(ChaseLevModel, GrowingWhileAThiefStealsLosesNothing) {
  for (const Tier tier : {Tier::kSc, Tier::kTso}) {
    const Result r = check::explore(dfs(tier), deque_test<true>("chase_lev_grow", 3, 1, 1));
    EXPECT_TRUE(r.ok() && r.exhausted) << r.report();
    std::printf("%s, %s: %llu executions\n", r.test.c_str(), std::string(to_string(tier)).c_str(),
                static_cast<unsigned long long>(r.executions));
  }
}

TEST(ChaseLevModel, TakeWithoutFenceIsCaughtUnderTsoOnly) {
  const TestCase twin = deque_test<false>("chase_lev_take_without_fence", 2, 1, 2);
  const Result sc = check::explore(dfs(Tier::kSc), twin);
  EXPECT_TRUE(sc.ok()) << "SC has no store buffer, so it cannot show this bug\n" << sc.report();
  const Result tso = check::explore(dfs(Tier::kTso), twin);
  ASSERT_FALSE(tso.ok()) << tso.summary();
  EXPECT_EQ(tso.failure->kind, check::FailureKind::kAssertion) << tso.report();
  // Its replay string reproduces it.
  Config replay = dfs(Tier::kTso);
  replay.replay = tso.failure->replay;
  const Result again = check::explore(replay, twin);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.failure->trace, tso.failure->trace);
}

}  // namespace
}  // namespace cpb::patterns::thread_pool
