// SPDX-License-Identifier: Apache-2.0
// Stress: on real threads, for every library, rounds of (a) a chain attached on one thread
// while another thread sets the value: every continuation runs exactly once and the chain ends
// at value + depth; (b) two threads set one promise at once: exactly one wins, the other is
// refused, the waiter gets the winner's value; (c) when_all over futures set from two threads
// in a random order keeps input order. Rounds repeat for CPB_STRESS_MS (default 300 ms),
// seeded: a failure prints the seed, and CPB_SEED=<seed> replays the same choices.
#include "patterns/future_promise/future_promise.hpp"

#include "harness/testing.hpp"
#include "patterns/future_promise/future_promise.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cpb::patterns::future_promise {
namespace {

template <class F>
class FutureStress : public ::testing::Test {};
TYPED_TEST_SUITE(FutureStress, testing::ToGTest<Impls>, testing::ImplName);

/// Starts both sides together: each arrives, then spins (yielding) until the other has.
class Gate {
 public:
  void arrive_and_wait() {
    n_.fetch_add(1);
    while (n_.load() < 2) std::this_thread::yield();
  }

 private:
  std::atomic<int> n_{0};
};

TYPED_TEST(FutureStress, ContinuationAttachedWhileFulfilledRunsOnce) {
  using F = TypeParam;
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const int depth = std::uniform_int_distribution<int>(1, 8)(rng);
    const Item v = rng() >> 8;
    typename F::template promise<Item> p;
    auto f = p.get_future();
    std::atomic<int> ran{0};
    Gate gate;
    std::thread setter([&] {
      gate.arrive_and_wait();
      p.set_value(v);
    });
    gate.arrive_and_wait();
    for (int d = 0; d < depth; ++d) {
      f = F::then(std::move(f), [&ran](Item x) {
        ran.fetch_add(1);
        return x + 1;
      });
    }
    const Item got = f.get();
    setter.join();
    if (ran.load() != depth) {
      return "a chain of " + std::to_string(depth) + " ran " + std::to_string(ran.load()) +
             " continuations";
    }
    if (got != v + static_cast<Item>(depth)) return "the chain ended at a wrong value";
    return {};
  });
}

TYPED_TEST(FutureStress, RacingSettersFulfilExactlyOnce) {
  using F = TypeParam;
  testing::repeat_rounds([](std::mt19937_64&) -> std::string {
    typename F::template promise<Item> p;
    auto f = p.get_future();
    std::atomic<int> won{0};
    std::atomic<int> refused{0};
    Gate gate;
    const auto set = [&](Item v) {
      gate.arrive_and_wait();
      try {
        p.set_value(v);
        won.fetch_or(static_cast<int>(v));
      } catch (const std::logic_error&) {
        refused.fetch_add(1);
      }
    };
    std::thread a(set, 1);
    std::thread b(set, 2);
    const Item got = f.get();
    a.join();
    b.join();
    if (refused.load() != 1 || (won.load() != 1 && won.load() != 2)) {
      return "won mask " + std::to_string(won.load()) + ", refused " +
             std::to_string(refused.load());
    }
    if (got != static_cast<Item>(won.load())) return "the waiter got the loser's value";
    return {};
  });
}

TYPED_TEST(FutureStress, WhenAllOverTwoSettersKeepsOrder) {
  using F = TypeParam;
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 16)(rng);
    std::vector<typename F::template promise<Item>> ps(n);
    std::vector<typename F::template future<Item>> fs;
    for (auto& p : ps) fs.push_back(p.get_future());
    std::vector<std::size_t> order(n);
    for (std::size_t k = 0; k < n; ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), rng);
    const auto setter = [&](std::size_t from) {
      for (std::size_t i = from; i < n; i += 2) ps[order[i]].set_value(order[i] * 3);
    };
    std::thread a(setter, 0);
    auto all = F::when_all(std::move(fs));
    std::thread b(setter, 1);
    const std::vector<Item> got = all.get();
    a.join();
    b.join();
    if (got.size() != n) return "when_all gave " + std::to_string(got.size()) + " values";
    for (std::size_t k = 0; k < n; ++k) {
      if (got[k] != k * 3) return "value " + std::to_string(k) + " out of place";
    }
    return {};
  });
}

}  // namespace
}  // namespace cpb::patterns::future_promise
