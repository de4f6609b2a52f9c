// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `thread_pool` family: a fixed set of worker threads that run submitted `void()` tasks.
/// The concept, its scenarios and its fixtures.
///
/// Every scenario has one driver thread that submits a batch of tasks and then waits until the
/// pool is idle, so the time of a batch includes the completion of its tasks. Every task
/// increments a counter, and the fixture checks after every batch, and at the end, that the
/// tasks executed equal the tasks submitted: a pool that loses a task, runs one twice, or lets
/// `wait_idle` return early fails verification.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/thread_pool/shutdown.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::thread_pool {

namespace detail {
/// A concrete task type for the concept check.
struct ProbeTask {
  void operator()() const {}
};
}  // namespace detail

/// A pool of worker threads: `P pool(workers)` starts `workers` threads (0 is taken as 1);
/// `submit(f)` queues the `void()` callable `f` to run exactly once on a worker (`submit` may
/// return a value, such as whether a bounded pool accepted the task); `wait_idle()` blocks until
/// every task submitted before the call, and every task those tasks submitted, has finished,
/// and makes their effects visible to the caller; the pool stays usable afterwards. Tasks may
/// submit tasks. The destructor finishes the pending tasks (implementations document it).
template <class P>
concept ThreadPool = std::constructible_from<P, std::size_t> &&
    requires(P& p, detail::ProbeTask t) {
  p.submit(t);
  p.submit(std::move(t));
  { p.wait_idle() } -> std::same_as<void>;
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::kProgress } -> std::convertible_to<Progress>;
};

/// Runs `f()` on `pool` and returns a `std::future` of its result: `get()` returns the value, or
/// rethrows the exception `f` threw. A task the pool destroys without running it (rejected by a
/// full bounded pool, or cancelled by `shutdown(Shutdown::kCancel)`) leaves the future with
/// `std::future_errc::broken_promise`. Works with every `ThreadPool`; a task submitting from
/// inside the pool keeps its locality (the pool decides where the wrapper goes).
template <ThreadPool P, class F>
auto submit_future(P& pool, F&& f) -> std::future<std::invoke_result_t<std::decay_t<F>&>> {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  std::promise<R> promise;
  std::future<R> future = promise.get_future();
  pool.submit([promise = std::move(promise), fn = std::decay_t<F>(std::forward<F>(f))]() mutable {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        promise.set_value();
      } else {
        promise.set_value(fn());
      }
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  });
  return future;
}

namespace detail {

/// One driver thread loops: (optionally sleep `idle_us` outside the measured operation, so that
/// the workers go idle and park), then submit `tasks` copies of `body` (called with the task's
/// index in the batch if it takes one) and wait until the pool is idle. One operation = one batch,
/// counted as `tasks` items.
template <ThreadPool P, class Body>
class Batches final : public Fixture {
 public:
  Batches(int workers, std::uint64_t tasks, Body body, std::int64_t idle_us = 0)
      : tasks_(tasks),
        body_(std::move(body)),
        idle_us_(idle_us),
        pool_(static_cast<std::size_t>(workers)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      if (idle_us_ > 0) workloads::block_us(idle_us_);
      meter.op(
          [&] {
            for (std::uint64_t i = 0; i < tasks_; ++i) {
              pool_.submit([this, i] {
                if constexpr (std::is_invocable_v<const Body&, std::uint64_t>) {
                  body_(i);
                } else {
                  body_();
                }
                // Relaxed: a count only; wait_idle orders it before the driver's read.
                executed_.fetch_add(1, std::memory_order_relaxed);
              });
            }
            pool_.wait_idle();
          },
          tasks_);
      submitted_ += tasks_;
      check();
    }
    meter.end();
  }

  std::string verify() override {
    pool_.wait_idle();
    check();
    return wrong_;
  }

 private:
  void check() {
    // Relaxed: wait_idle has ordered every finished task's increment before this read.
    const std::uint64_t executed = executed_.load(std::memory_order_relaxed);
    if (executed == submitted_ || !wrong_.empty()) return;
    wrong_ = fmt::format("after wait_idle, {} tasks had executed of {} submitted: {}", executed,
                         submitted_,
                         executed < submitted_ ? "a task was lost or wait_idle returned early"
                                               : "a task ran more than once");
  }

  const std::uint64_t tasks_;
  const Body body_;
  const std::int64_t idle_us_;
  std::uint64_t submitted_ = 0;  // driver thread only
  alignas(64) std::atomic<std::uint64_t> executed_{0};
  std::string wrong_;
  P pool_;  // last: destroyed (and drained) first, while the counters still exist
};

template <ThreadPool P, class Body>
std::unique_ptr<Fixture> batches(const Point& p, std::uint64_t tasks, Body body,
                                 std::int64_t idle_us = 0) {
  return std::make_unique<Batches<P, Body>>(p.threads, tasks, std::move(body), idle_us);
}

inline std::uint64_t to_count(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

}  // namespace detail

namespace detail {

/// Model check: a pool of 2 workers; the driver submits two tasks, one of which submits a third,
/// then waits until idle. Each task writes a race-checked cell: wait_idle must order all three
/// writes before the driver's reads (else a data race), and none may be lost or run twice.
template <ThreadPool M>
check::TestCase run_once_model(std::string name) {
  return {std::move(name), [] {
            using S = check::Sync;
            S::cell<int> a{0};
            S::cell<int> b{0};
            S::cell<int> c{0};
            std::optional<M> pool(std::in_place, 2);
            pool->submit([&] {
              a.store(a.load() + 1);
              pool->submit([&] { c.store(c.load() + 1); });
            });
            pool->submit([&] { b.store(b.load() + 1); });
            pool->wait_idle();
            CPB_CHECK_ASSERT(a.load() == 1 && b.load() == 1 && c.load() == 1);
            const check::NoThrow no_throw;  // the destructor joins the workers
            pool.reset();
          }};
}

/// Model check: a pool of 2 workers; the driver submits two tasks, one of which submits a third,
/// then cancels with `shutdown(Shutdown::kCancel)`. No task runs twice, every task either ran or
/// was counted as cancelled, and shutdown returns (no worker is left asleep on a task).
template <class M>
check::TestCase cancel_model(std::string name) {
  return {std::move(name), [] {
            using S = check::Sync;
            S::atomic<int> ran{0};
            S::atomic<bool> parent_ran{false};
            std::optional<M> pool(std::in_place, 2);
            pool->submit([&] {
              parent_ran.store(true);
              ran.fetch_add(1);
              pool->submit([&] { ran.fetch_add(1); });
            });
            pool->submit([&] { ran.fetch_add(1); });
            const std::size_t cancelled = pool->shutdown(Shutdown::kCancel);
            // 3 tasks when the parent ran (its child then ran or was cancelled), else 2.
            const auto total = static_cast<std::size_t>(ran.load()) + cancelled;
            CPB_CHECK_ASSERT(total == (parent_ran.load() ? 3U : 2U));
            const check::NoThrow no_throw;  // the destructor has nothing left to join
            pool.reset();
          }};
}

}  // namespace detail

template <ThreadPool P>
struct Family {
  static constexpr std::string_view kName = "thread_pool";
  static constexpr std::string_view kDescription =
      "thread pools: one driver submits batches of tasks to N workers and waits until idle";
  static constexpr std::string_view kReference = "asio_thread_pool";

  static std::vector<Check> checks() {
    std::vector<Check> checks;
    if constexpr (sync::sync_templated<P>) {
      using M = sync::rebind_t<P, check::Sync>;
      checks.push_back({"tasks_run_once",
                        "2 workers; the driver submits two tasks, one submitting a third, then "
                        "waits until idle: each runs once and its effects are visible to the "
                        "driver",
                        {},
                        check::model_mode([] {
                          return detail::run_once_model<M>(
                              fmt::format("thread_pool/{}/tasks_run_once", P::kName));
                        })});
      if constexpr (requires(M & m) { m.shutdown(Shutdown::kCancel); }) {
        checks.push_back({"cancel_shutdown",
                          "2 workers; the driver submits two tasks, one submitting a third, "
                          "then shuts the pool down with Shutdown::kCancel: no task runs twice, "
                          "each runs or is counted as cancelled, and the shutdown completes",
                          {},
                          check::model_mode([] {
                            return detail::cancel_model<M>(
                                fmt::format("thread_pool/{}/cancel_shutdown", P::kName));
                          })});
      }
    }
    return checks;
  }

  static std::vector<Scenario> scenarios() {
    // The pool owns `threads` workers; one driver thread submits and waits.
    const auto workers = ThreadAxis::owned({1, 2, 4}, {1, 2});
    return {
        {"submit_empty",
         "batches of 1000 empty tasks (a counter increment), then wait_idle: the per-task cost "
         "of submit, hand-over and completion, with the workers contending on the queue",
         {},
         workers,
         1,
         [](const Point& p) { return detail::batches<P>(p, 1000, [] {}); }},
        {"cpu_tasks",
         "batches of 100 compute-bound tasks of grain_ns busy work each, then wait_idle: "
         "speed-up over workers and the overhead relative to the grain",
         {{"grain_ns", "busy work per task in ns", {1000, 10000}, {10000}}},
         workers,
         1,
         [](const Point& p) {
           const std::int64_t grain = p.get("grain_ns");
           return detail::batches<P>(p, 100, [grain] { workloads::spin_ns(grain); });
         }},
        {"blocking_tasks",
         "batches of 4 x workers tasks that each block for block_us (an I/O call stand-in), "
         "then wait_idle: workers sleep in the task, so time ~ 4 x block_us plus wake-ups",
         {{"block_us", "blocking wait per task in µs", {100}, {}}},
         workers,
         1,
         [](const Point& p) {
           const std::int64_t us = p.get("block_us");
           return detail::batches<P>(p, 4 * detail::to_count(p.threads),
                                     [us] { workloads::block_us(us); });
         }},
        {"mixed_tasks",
         "batches of 4 x workers tasks of 100 µs each, blocked_pct % of it blocked (a call to a "
         "device or a server) and the rest busy work: how the pool copes as tasks turn from "
         "compute-bound (0) to I/O-bound (90)",
         {{"blocked_pct", "share of each task spent blocked, in %", {0, 50, 90}, {50}, 0, 100}},
         workers,
         1,
         [](const Point& p) {
           const std::int64_t pct = p.get("blocked_pct");
           return detail::batches<P>(p, 4 * detail::to_count(p.threads),
                                     [pct] { workloads::mixed_us(100, pct); });
         }},
        {"skewed_tasks",
         "batches of 200 busy tasks whose costs follow a Pareto law of shape alpha_x10 / 10 "
         "(mean 5 µs; the same seeded costs for every pool): a few long tasks carry much of "
         "the work, so the pool must keep every worker busy around them",
         {{"alpha_x10", "Pareto shape x 10 (11 = very skewed, 30 = mild)", {11, 15, 30}, {15}, 11}},
         workers,
         1,
         [](const Point& p) {
           auto costs =
               std::make_shared<const std::vector<std::int64_t>>(workloads::pareto_costs_ns(
                   200, 5000, static_cast<double>(p.get("alpha_x10")) / 10, 42));
           return detail::batches<P>(p, costs->size(), [costs](std::uint64_t i) {
             workloads::spin_ns((*costs)[static_cast<std::size_t>(i)]);
           });
         }},
        {"burst_wait_idle",
         "the pool idles 200 µs (outside the measurement, so workers park), then a burst of "
         "`burst` 1 µs tasks and wait_idle: latency = waking the workers plus draining the "
         "burst; throughput includes the idle gaps, read the latency",
         {{"burst", "tasks per burst", {64}, {}, 1}},
         workers,
         1,
         [](const Point& p) {
           return detail::batches<P>(
               p, detail::to_count(p.get("burst")), [] { workloads::spin_ns(1000); }, 200);
         }},
    };
  }
};

}  // namespace cpb::patterns::thread_pool
