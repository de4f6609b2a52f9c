// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `coroutine` family (async/await): runtimes that run many concurrent activities on few
/// threads. The concepts, the fixtures, the scenarios (the cost of one await in a chain;
/// `coroutines` concurrent coroutines that each wait on a timer; the switch cost of a ping-pong
/// between two coroutines through the scheduler, beside the futex hand-off between two threads)
/// and the model checks of the async semaphore (mutual exclusion, counts, no lost wake-up).
///
/// A runtime writes each scenario in its own idiom (an await chain is nested `co_await`s for a
/// stackless coroutine and nested calls for a stackful fiber), and returns what the scenario
/// verifies: the chain's result, the number of timers that fired, the number of hand-offs.
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "patterns/coroutine/async_sync.hpp"
#include "patterns/reactor/reactor.hpp"
#include "patterns/reactor/server.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::coroutine {

/// What every runtime does: `R rt(workers)` starts it with `workers` threads (0 is taken as 1;
/// `kMultiWorker` false: it always runs on one); `rt.ping_pong(rounds)` runs two activities
/// that hand a turn back and forth `rounds` times, each counting its turns, and returns the
/// count (2 x rounds).
template <class R>
concept SwitchRuntime = std::constructible_from<R, std::size_t> && requires(R& r, std::uint64_t n) {
  { r.ping_pong(n) } -> std::same_as<std::uint64_t>;
  { R::kName } -> std::convertible_to<std::string_view>;
  { R::kProgress } -> std::convertible_to<Progress>;
  { R::kMultiWorker } -> std::convertible_to<bool>;
};

/// A coroutine runtime: also `rt.await_chain(depth, v)` (a coroutine awaits one that awaits
/// one ... `depth` deep, the innermost returns `v`, each level adds 1; returns v + depth) and
/// `rt.timers(n, delay_us)` (`n` concurrent coroutines each wait `delay_us` on a timer; returns
/// how many completed, once all have).
template <class R>
concept AwaitRuntime = SwitchRuntime<R> && requires(R& r, std::uint64_t n, std::int64_t d) {
  { r.await_chain(n, n) } -> std::same_as<std::uint64_t>;
  { r.timers(n, d) } -> std::same_as<std::uint64_t>;
};

namespace detail {

template <SwitchRuntime R>
class RuntimeFixture : public Fixture {
 public:
  explicit RuntimeFixture(int workers) : rt_(static_cast<std::size_t>(workers)) {}

  std::string verify() override {
    if (calls_ == 0) return "no call ran";
    if (wrong_ > 0) return fmt::format("{} of {} calls were wrong: {}", wrong_, calls_, first_);
    return {};
  }

 protected:
  void note(std::string wrong) {
    ++calls_;
    if (!wrong.empty() && wrong_++ == 0) first_ = std::move(wrong);
  }
  R rt_;

 private:
  std::uint64_t calls_ = 0;
  std::uint64_t wrong_ = 0;
  std::string first_;
};

/// One call = a chain of `depth` awaits; one item = one await.
template <AwaitRuntime R>
class AwaitChain final : public RuntimeFixture<R> {
 public:
  AwaitChain(int workers, std::uint64_t depth) : RuntimeFixture<R>(workers), depth_(depth) {}
  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      const std::uint64_t v = ++v_ * 1'000'003;
      std::uint64_t got = 0;
      meter.op([&] { got = this->rt_.await_chain(depth_, v); }, depth_);
      this->note(got == v + depth_ ? std::string()
                                   : fmt::format("a chain of {} from {} gave {}", depth_, v, got));
    }
    meter.end();
  }

 private:
  const std::uint64_t depth_;
  std::uint64_t v_ = 0;
};

/// One call = `n` coroutines each waiting `delay_us` on a timer, all completed; one item = one
/// coroutine.
template <AwaitRuntime R>
class Timers final : public RuntimeFixture<R> {
 public:
  Timers(int workers, std::uint64_t n, std::int64_t delay_us)
      : RuntimeFixture<R>(workers), n_(n), delay_us_(delay_us) {}
  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      std::uint64_t got = 0;
      meter.op([&] { got = this->rt_.timers(n_, delay_us_); }, n_);
      this->note(got == n_ ? std::string()
                           : fmt::format("{} of {} timer waits completed", got, n_));
    }
    meter.end();
  }

 private:
  const std::uint64_t n_;
  const std::int64_t delay_us_;
};

/// One call = `rounds` exchanges; one item = one switch (two per exchange).
template <SwitchRuntime R>
class PingPong final : public RuntimeFixture<R> {
 public:
  PingPong(int workers, std::uint64_t rounds) : RuntimeFixture<R>(workers), rounds_(rounds) {}
  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      std::uint64_t got = 0;
      meter.op([&] { got = this->rt_.ping_pong(rounds_); }, 2 * rounds_);
      this->note(got == 2 * rounds_ ? std::string()
                                    : fmt::format("{} rounds counted {} turns, expected {}",
                                                  rounds_, got, 2 * rounds_));
    }
    meter.end();
  }

 private:
  const std::uint64_t rounds_;
};

// -- model checks of the async semaphore ----------------------------------------------------------

/// A waiter that a model-checked thread blocks on: `wake` sets the flag, `wait` waits for it.
template <class S>
struct FlagWaiter : Waiter {
  typename S::template atomic<int> woken{0};
  FlagWaiter() {
    wake = [](Waiter* w) {
      auto* me = static_cast<FlagWaiter*>(w);
      // Release: pairs with wait()'s acquire: the unit handed over is the waiter's after.
      me->woken.store(1, std::memory_order_release);
      me->woken.notify_one();
    };
  }
  void wait() {
    // Acquire: pairs with wake's release.
    while (woken.load(std::memory_order_acquire) == 0) woken.wait(0, std::memory_order_acquire);
  }
};

/// `threads` threads each take a unit of a semaphore of `units` (queueing and blocking on a
/// flag when none is free), hold it while they bump `inside` (never above `units`) and a
/// race-checked counter under exclusion when units == 1, then release it. At the end every
/// thread got through and all units are back.
template <class Sem>
check::TestCase semaphore_model(std::string name, std::size_t units, int threads) {
  using S = check::Sync;
  struct State {
    explicit State(std::size_t u) : sem(u) {}
    Sem sem;
    std::vector<std::unique_ptr<FlagWaiter<S>>> waiters;
    S::atomic<int> inside{0};
    S::cell<int> counter{0};  // written only under a unit of a 1-unit semaphore
    S::atomic<int> through{0};
  };
  return {std::move(name), [units, threads] {
            State s(units);
            for (int t = 0; t < threads; ++t)
              s.waiters.push_back(std::make_unique<FlagWaiter<S>>());
            std::vector<S::thread> ts;
            for (int t = 0; t < threads; ++t) {
              ts.emplace_back([&s, units, t] {
                FlagWaiter<S>& w = *s.waiters[static_cast<std::size_t>(t)];
                if (!s.sem.acquire_or_enqueue(&w)) w.wait();
                const int now = s.inside.fetch_add(1) + 1;
                CPB_CHECK_ASSERT(now <= static_cast<int>(units));
                if (units == 1) s.counter.store(s.counter.load() + 1);
                s.inside.fetch_sub(1);
                s.through.fetch_add(1);
                s.sem.release();
              });
            }
            for (auto& t : ts) t.join();
            CPB_CHECK_ASSERT(s.through.load() == threads);
            if (units == 1) CPB_CHECK_ASSERT(s.counter.load() == threads);
            CPB_CHECK_ASSERT(s.sem.available() == units);
          }};
}

}  // namespace detail

/// A runtime, or a request-serving server built on one (`reactor::Server`: it gets the
/// reactors' echo / http / http_open scenarios and churn check, so it is ranked beside them).
template <class R>
requires SwitchRuntime<R> || reactor::Server<R>
struct Family {
  static constexpr std::string_view kName = "coroutine";
  static constexpr std::string_view kDescription =
      "async/await: await chains, many coroutines waiting on timers, the switch cost beside a "
      "futex hand-off between threads, and a coroutine per connection serving HTTP";
  /// Asio's awaitables on an io_context: the industrial stackless baseline. futex_handoff is
  /// the reference of the switch aim (README).
  static constexpr std::string_view kReference = "asio_awaitable";

  static std::vector<Scenario> scenarios() {
    if constexpr (reactor::Server<R>) {
      return reactor::detail::scenarios<R>();
    } else {
      return runtime_scenarios();
    }
  }

  static std::vector<Check> checks() {
    if constexpr (reactor::Server<R>) {
      return {reactor::detail::churn_check<R>()};
    } else {
      return runtime_checks();
    }
  }

 private:
  static std::vector<Scenario> runtime_scenarios() {
    const auto workers = R::kMultiWorker ? ThreadAxis::owned({1, 2}, {1}) : ThreadAxis::owned({1});
    std::vector<Scenario> out;
    if constexpr (AwaitRuntime<R>) {
      out.push_back({"await_chain",
                     "a coroutine awaits a coroutine that awaits ... `depth` deep (a stackful "
                     "fiber: nested calls), started on the runtime and waited for by the "
                     "driver; one item = one await",
                     {{"depth", "nested awaits per chain", {10, 1000}, {100}, 1, 1'000'000}},
                     workers,
                     64,
                     [](const Point& p) -> std::unique_ptr<Fixture> {
                       return std::make_unique<detail::AwaitChain<R>>(
                           p.threads, static_cast<std::uint64_t>(p.get("depth")));
                     }});
      out.push_back({"timers",
                     "`coroutines` concurrent coroutines each wait `delay_us` on a timer; a call "
                     "returns when every one has completed, and verify() checks they all did; "
                     "one item = one coroutine",
                     {{"coroutines", "concurrent coroutines", {100'000}, {1'000}, 1, 10'000'000},
                      {"delay_us", "timer delay, µs", {1'000}, {}, 0, 10'000'000}},
                     workers,
                     1,
                     [](const Point& p) -> std::unique_ptr<Fixture> {
                       return std::make_unique<detail::Timers<R>>(
                           p.threads, static_cast<std::uint64_t>(p.get("coroutines")),
                           p.get("delay_us"));
                     }});
    }
    out.push_back({"ping_pong",
                   "two activities hand a turn back and forth `rounds` times: two coroutines "
                   "through the scheduler, or (futex_handoff) two threads through a futex; one "
                   "item = one switch (two per round)",
                   {{"rounds", "exchanges per call", {10'000}, {1'000}, 1, 100'000'000}},
                   workers,
                   1,
                   [](const Point& p) -> std::unique_ptr<Fixture> {
                     return std::make_unique<detail::PingPong<R>>(
                         p.threads, static_cast<std::uint64_t>(p.get("rounds")));
                   }});
    return out;
  }

  static std::vector<Check> runtime_checks() {
    if constexpr (requires { typename R::template semaphore_on<check::Sync>; }) {
      using Sem = typename R::template semaphore_on<check::Sync>;
      return {{"model_async_mutex",
               "model check: three threads take a one-unit async semaphore (the async mutex), "
               "queueing when it is held: mutual exclusion (a race-checked counter), no lost "
               "wake-up, the unit back at the end",
               {},
               check::model_mode([] {
                 return detail::semaphore_model<Sem>(
                     fmt::format("coroutine/{}/model_async_mutex", R::kName), 1, 3);
               })},
              {"model_async_semaphore",
               "model check: three threads take units of a two-unit async semaphore: never more "
               "than two inside, no lost wake-up, both units back at the end",
               {},
               check::model_mode([] {
                 return detail::semaphore_model<Sem>(
                     fmt::format("coroutine/{}/model_async_semaphore", R::kName), 2, 3);
               })}};
    } else {
      return {};
    }
  }
};

}  // namespace cpb::patterns::coroutine
