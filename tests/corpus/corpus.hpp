// SPDX-License-Identifier: Apache-2.0
/// @file
/// Shared by the corpus tests: the two searches every entry runs under (bounded DFS and random
/// walk), and the assertions: a buggy entry is caught with the expected kind and its replay
/// string reproduces the same trace; a fixed twin passes both searches.
#pragma once

#include "harness/check/explore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>

namespace cpb::check::corpus {

using S = Sync;
inline constexpr auto kRlx = std::memory_order_relaxed;
inline constexpr auto kAcq = std::memory_order_acquire;
inline constexpr auto kRel = std::memory_order_release;
inline constexpr auto kSc = std::memory_order_seq_cst;

/// Options that differ between entries: the memory model, and the heap's eager reuse.
struct Mode {
  Tier tier = Tier::kSc;
  bool reuse_freed = false;
};

inline Config dfs(Mode m = {}) {
  Config c;
  c.strategy = Strategy::kDfs;
  c.preemption_bound = 2;
  c.max_executions = 100'000;
  c.max_seconds = 20;
  c.tier = m.tier;
  c.reuse_freed = m.reuse_freed;
  return c;
}
inline Config random_walk(Mode m = {}) {
  Config c = dfs(m);
  c.strategy = Strategy::kRandom;
  c.max_executions = 5'000;
  return c;
}

inline void expect_caught(const TestCase& t, std::initializer_list<FailureKind> kinds,
                          Mode m = {}) {
  for (const Config& c : {dfs(m), random_walk(m)}) {
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << t.name << " not caught by " << to_string(c.strategy) << ": "
                         << r.summary();
    bool expected = false;
    for (const FailureKind k : kinds) expected = expected || r.failure->kind == k;
    EXPECT_TRUE(expected) << r.report();
    EXPECT_TRUE(r.failure->deterministic) << r.report();
    // The replay string reproduces the failure (under the same tier and heap mode).
    Config rc = c;
    rc.replay = r.failure->replay;
    const Result rep = explore(rc, t);
    ASSERT_FALSE(rep.ok());
    EXPECT_EQ(rep.failure->trace, r.failure->trace);
  }
}

inline void expect_passes(const TestCase& t, Mode m = {}) {
  for (const Config& c : {dfs(m), random_walk(m)}) {
    const Result r = explore(c, t);
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_GT(r.executions, 0U);
  }
}

/// The entry is missed under `m`: the bug needs a stronger tier. Asserted, so that the test
/// flips (and must be turned into a caught entry) when the checker gains what it needs.
inline void expect_missed(const TestCase& t, Mode m = {}) {
  const Result r = explore(dfs(m), t);
  EXPECT_TRUE(r.ok()) << "now caught under this mode: turn this into a caught entry\n"
                      << r.report();
}

}  // namespace cpb::check::corpus
