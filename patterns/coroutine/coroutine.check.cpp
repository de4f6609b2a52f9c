// SPDX-License-Identifier: Apache-2.0
// Stress on real threads: rounds of coroutines on a 2-worker scheduler that take an async mutex
// (holding it across a suspension) or units of an async semaphore, with random timer sleeps in
// between; checked per round: the mutex-guarded counter has every increment, nobody was inside
// with another (mutex) or beyond the units (semaphore), every coroutine finished, every unit
// is back, and no timer fired before its deadline. Then each runtime's scenarios under
// repeated calls with random sizes. Rounds repeat for CPB_STRESS_MS (default 300 ms), seeded:
// CPB_SEED=<seed> replays the same choices.
#include "patterns/coroutine/coroutine.hpp"

#include "harness/testing.hpp"
#include "patterns/coroutine/coroutine.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>

namespace cpb::patterns::coroutine {
namespace {

struct Shared {
  AsyncMutex<> mutex;
  AsyncSemaphore<> sem{2};
  int counter = 0;  // guarded by mutex
  std::atomic<int> in_mutex{0};
  std::atomic<int> in_sem{0};
  std::atomic<int> violations{0};
  std::atomic<int> early{0};
  std::atomic<int> finished{0};
  std::atomic<int> mutex_ops{0};
};

Task<void> worker(Scheduler* s, Shared* sh, int ops, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < ops; ++i) {
    switch (rng() % 3) {
      case 0: {
        co_await sh->mutex.lock(s);
        if (sh->in_mutex.fetch_add(1) != 0) sh->violations.fetch_add(1);
        const int v = sh->counter;
        if (rng() % 2 == 0) co_await s->schedule();
        sh->counter = v + 1;
        sh->mutex_ops.fetch_add(1);
        sh->in_mutex.fetch_sub(1);
        sh->mutex.unlock();
        break;
      }
      case 1: {
        co_await sh->sem.acquire(s);
        if (sh->in_sem.fetch_add(1) >= 2) sh->violations.fetch_add(1);
        if (rng() % 2 == 0) co_await s->schedule();
        sh->in_sem.fetch_sub(1);
        sh->sem.release();
        break;
      }
      default: {
        const auto d = std::chrono::microseconds(rng() % 200);
        const auto t0 = std::chrono::steady_clock::now();
        co_await s->sleep_for(d);
        if (std::chrono::steady_clock::now() - t0 < d) sh->early.fetch_add(1);
      }
    }
  }
  sh->finished.fetch_add(1);
}

TEST(CoroutineStress, MutexSemaphoreAndTimersOnTwoWorkers) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const int n = std::uniform_int_distribution<int>(1, 24)(rng);
    const int ops = std::uniform_int_distribution<int>(1, 20)(rng);
    Shared sh;
    {
      Scheduler s(2);
      for (int i = 0; i < n; ++i) {
        s.spawn(worker(&s, &sh, ops, rng()));
      }
      while (sh.finished.load() < n) std::this_thread::yield();
    }
    if (sh.violations.load() != 0)
      return std::to_string(sh.violations.load()) + " exclusion violations";
    if (sh.early.load() != 0) return std::to_string(sh.early.load()) + " timers fired early";
    if (sh.sem.available() != 2) return "semaphore units not all back";
    if (!sh.mutex.try_lock()) return "the mutex is still held";
    if (sh.counter != sh.mutex_ops.load()) {
      return "the guarded counter lost increments: " + std::to_string(sh.counter) + " of " +
             std::to_string(sh.mutex_ops.load());
    }
    return {};
  });
}

template <class R>
class RuntimeStress : public ::testing::Test {};
TYPED_TEST_SUITE(RuntimeStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(RuntimeStress, RepeatedCallsStayRight) {
  TypeParam rt(2);
  testing::repeat_rounds([&rt](std::mt19937_64& rng) -> std::string {
    const std::uint64_t rounds = std::uniform_int_distribution<std::uint64_t>(1, 200)(rng);
    if (rt.ping_pong(rounds) != 2 * rounds) return "ping_pong miscounted";
    if constexpr (AwaitRuntime<TypeParam>) {
      const std::uint64_t depth = std::uniform_int_distribution<std::uint64_t>(0, 200)(rng);
      if (rt.await_chain(depth, 5) != 5 + depth) return "await_chain wrong";
      const std::uint64_t n = std::uniform_int_distribution<std::uint64_t>(1, 500)(rng);
      if (rt.timers(n, static_cast<std::int64_t>(rng() % 300)) != n) return "timers lost some";
    }
    return {};
  });
}

}  // namespace
}  // namespace cpb::patterns::coroutine
