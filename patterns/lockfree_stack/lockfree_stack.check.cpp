// SPDX-License-Identifier: Apache-2.0
// Stress: the registered linearizability check of every stack on real threads, and a
// reclamation churn that frees nodes as early as the stack allows (a hazard scan at every
// retire), so that a node freed while a pop can still read it shows as a use-after-free under
// the asan-ubsan preset and as a race under tsan (the model checks explore the same on few
// operations, with the checker heap). Each test runs for a bounded time (CPB_STRESS_MS, default
// 300 ms).
#include "patterns/lockfree_stack/lockfree_stack.hpp"

#include "harness/stress/result.hpp"
#include "harness/testing.hpp"
#include "patterns/lockfree_stack/lockfree_stack.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace cpb::patterns::lockfree_stack {
namespace {

std::chrono::milliseconds budget() {
  return stress::default_budget(std::chrono::milliseconds(300));
}

template <class St>
class StackStress : public ::testing::Test {};
TYPED_TEST_SUITE(StackStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(StackStress, RegisteredChecksPassOnRealThreads) {
  CheckConfig cfg;
  cfg.budget = budget();
  int ran = 0;
  for (const Check& c : testing::registered<Family<TypeParam>>().checks) {
    if (!c.stress) continue;
    const stress::CheckResult r = c.stress(cfg);
    ++ran;
    std::printf("%s", stress::format(r).c_str());
    EXPECT_TRUE(r.passed()) << r.failure << "\n" << r.details;
    EXPECT_GT(r.samples, 0U);
  }
  EXPECT_GT(ran, 0);
}

/// The stack under test, built to reclaim eagerly when it can.
template <class St>
std::unique_ptr<St> eager() {
  if constexpr (std::is_constructible_v<St, std::size_t>) {
    return std::make_unique<St>(std::size_t{1});
  } else {
    return std::make_unique<St>();
  }
}

// Twice as many threads as CPUs push and pop at random on a short stack, so nodes are popped,
// retired and freed while other pops still hold them in hazard slots. Nothing may be lost or
// duplicated (hashed sums), and a premature free is caught by ASan.
TYPED_TEST(StackStress, EagerReclamationLosesNothing) {
  auto s = eager<TypeParam>();
  const int n = 2 * static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  std::atomic<bool> stop{false};
  std::vector<detail::Tally> tallies(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      detail::Tally& me = tallies[static_cast<std::size_t>(t)];
      stress::Rng rng(stress::mix64(static_cast<std::uint64_t>(t) + 1));
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 64; ++k) {
          if (rng.chance(1, 2)) {
            const std::uint64_t v = detail::tagged(static_cast<std::size_t>(t), me.next++);
            s->push(v);
            ++me.pushes;
            me.pushed_hash += stress::mix64(v);
          } else if (const auto got = s->try_pop()) {
            ++me.pops;
            me.popped_hash += stress::mix64(*got);
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(budget());
  stop.store(true);
  for (auto& t : threads) t.join();
  // Pops may find the stack empty here; what is left is drained into the popped sums.
  EXPECT_EQ(detail::verify_conservation(*s, tallies, {}), "");
  std::uint64_t pops = 0;
  for (const auto& t : tallies) pops += t.pops;
  EXPECT_GT(pops, 0U);
}

}  // namespace
}  // namespace cpb::patterns::lockfree_stack
