// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `worker_pool` family: a dispatcher, a task queue and workers (threads or processes).
/// The concept, its scenarios and its fixtures.
///
/// A task is data (`Task`: a CPU cost, an id, a priority), so the same scenario runs on worker
/// threads, on worker processes fed through sockets, and on the asio baseline. Every scenario
/// has one driver thread that submits a batch and waits until the pool is idle; it then
/// collects the completion records and checks them: every id of the batch exactly once, each
/// with the checksum of the task it was given, round-robin pools in turn, priority pools in
/// priority order. A pool that loses, duplicates or mixes up a task fails verification.
#pragma once

#include "harness/bench/histogram.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/worker_pool/pareto.hpp"
#include "patterns/worker_pool/task.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::worker_pool {

/// A worker pool: `P pool(workers)` starts `workers` workers (0 throws std::invalid_argument).
/// `submit(t)` queues task `t` to run exactly once on a worker chosen by `P::kDispatch`;
/// `wait_below(n)` blocks until fewer than `n` submitted tasks are unfinished (back-pressure;
/// `wait_idle()` is `wait_below(1)`); `collect(out)` appends the completion records gathered
/// since the last call (call it after `wait_idle`). The destructor runs the queued tasks.
template <class P>
concept WorkerPool = std::constructible_from<P, std::size_t> &&
    requires(P& p, const Task& t, std::vector<Done>& out, std::size_t n) {
  p.submit(t);
  { p.wait_below(n) } -> std::same_as<void>;
  { p.wait_idle() } -> std::same_as<void>;
  { p.collect(out) } -> std::same_as<void>;
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::kProgress } -> std::convertible_to<Progress>;
  { P::kDispatch } -> std::convertible_to<Dispatch>;
};

/// Checks the records `done` of the tasks `batch[i]` submitted in order with ids `first + i`
/// by one thread to a pool of `workers` workers with policy `dispatch`. Returns "" or what is
/// wrong. With `check_turns` (one submitter, ids from the pool's first task on), round-robin
/// pools must have sent task id k to worker k mod `workers`.
inline std::string check_batch(const std::vector<Task>& batch, std::uint64_t first,
                               const std::vector<Done>& done, Dispatch dispatch,
                               std::size_t workers, bool check_turns);

namespace detail {

/// What a scenario runs: pre-generated batches (ids are given at submit), and how to submit.
struct Plan {
  std::vector<std::vector<Task>> batches;
  std::size_t window = 0;  ///< 0: submit a whole batch at once; else keep < window pending
  bool latency = false;    ///< report the high- and low-priority latency percentiles
};

/// One driver loops: submit the next batch (under the window, if any), wait until idle, then
/// collect and check the records. One operation = one batch, counted as its tasks.
template <WorkerPool P>
class Batches final : public Fixture {
 public:
  Batches(int workers, Plan plan)
      : plan_(std::move(plan)),
        workers_(static_cast<std::size_t>(workers)),
        pool_(static_cast<std::size_t>(workers)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    bench::Histogram high;
    bench::Histogram low;
    std::vector<std::int64_t> busy(workers_, 0);
    meter.begin();
    for (auto _ : state) {
      const std::vector<Task>& batch = plan_.batches[batch_no_++ % plan_.batches.size()];
      const std::uint64_t first = next_id_;
      meter.op(
          [&] {
            for (const Task& t : batch) {
              if (plan_.window > 0) pool_.wait_below(plan_.window);
              pool_.submit(Task{t.cost_ns, next_id_++, t.priority});
            }
            pool_.wait_idle();
          },
          batch.size());
      done_.clear();
      pool_.collect(done_);
      if (wrong_.empty()) wrong_ = check_batch(batch, first, done_, P::kDispatch, workers_, true);
      for (const Done& d : done_) {
        const std::uint64_t ns = d.end_ns > d.submit_ns ? d.end_ns - d.submit_ns : 0;
        (d.priority == Priority::kHigh ? high : low).add(ns);
        if (d.worker < workers_ && d.id >= first && d.id - first < batch.size()) {
          busy[d.worker] += batch[d.id - first].cost_ns;
        }
      }
    }
    meter.end();
    if (plan_.latency) {
      state.counters["high_p50_ns"] = static_cast<double>(high.quantile(0.5));
      state.counters["high_p99_ns"] = static_cast<double>(high.quantile(0.99));
      state.counters["low_p50_ns"] = static_cast<double>(low.quantile(0.5));
      state.counters["low_p99_ns"] = static_cast<double>(low.quantile(0.99));
      state.counters["high_tasks"] = static_cast<double>(high.count());
    }
    // How unevenly the CPU work was spread: the busiest worker's share over the mean share.
    std::int64_t total = 0;
    for (auto b : busy) total += b;
    if (total > 0) {
      state.counters["busy_max_over_mean"] =
          static_cast<double>(*std::max_element(busy.begin(), busy.end())) *
          static_cast<double>(workers_) / static_cast<double>(total);
    }
  }

  std::string verify() override {
    pool_.wait_idle();
    done_.clear();
    pool_.collect(done_);
    if (wrong_.empty() && !done_.empty()) {
      wrong_ = fmt::format("{} completion records appeared after the last batch was checked",
                           done_.size());
    }
    return wrong_;
  }

 private:
  const Plan plan_;
  const std::size_t workers_;
  std::uint64_t next_id_ = 0;
  std::size_t batch_no_ = 0;
  std::vector<Done> done_;
  std::string wrong_;
  P pool_;  // last: destroyed (and drained) first
};

template <WorkerPool P>
std::unique_ptr<Fixture> batches(const Point& p, Plan plan) {
  return std::make_unique<Batches<P>>(p.threads, std::move(plan));
}

/// Mean task cost of the skewed scenario.
inline constexpr std::int64_t kMeanCostNs = 20'000;
/// Seed of the pre-generated cost batches (fixed, so every implementation runs the same tasks).
inline constexpr std::uint64_t kSeed = 2026;

inline Plan skewed_plan(std::int64_t alpha_x10, int workers) {
  Plan plan;
  plan.window = 2 * static_cast<std::size_t>(workers);
  for (std::uint64_t b = 0; b < 8; ++b) {
    auto costs = pareto_costs(256, static_cast<double>(alpha_x10) / 10.0, kMeanCostNs, kSeed + b);
    std::vector<Task> batch;
    for (auto c : costs) batch.push_back(Task{c, 0, Priority::kLow});
    plan.batches.push_back(std::move(batch));
  }
  return plan;
}

inline Plan priority_plan(std::int64_t high_every, int workers) {
  Plan plan;
  plan.latency = true;
  std::vector<Task> batch;
  const std::int64_t n = 32 * static_cast<std::int64_t>(workers);
  for (std::int64_t i = 0; i < n; ++i) {
    batch.push_back(
        Task{kMeanCostNs, 0, (i + 1) % high_every == 0 ? Priority::kHigh : Priority::kLow});
  }
  plan.batches.push_back(std::move(batch));
  return plan;
}

inline Plan uniform_plan(std::int64_t cost_ns) {
  Plan plan;
  plan.batches.emplace_back(256, Task{cost_ns, 0, Priority::kLow});
  return plan;
}

// -- model checks -------------------------------------------------------------------------

/// 2 workers; the driver submits two tasks and waits until idle: each ran once, with its
/// checksum, and its record (written by a worker) is visible to the driver's collect.
template <WorkerPool M>
check::TestCase run_once_model(std::string name) {
  return {std::move(name), [] {
            std::optional<M> pool(std::in_place, 2);
            pool->submit(Task{0, 0, Priority::kLow});
            pool->submit(Task{0, 1, Priority::kHigh});
            pool->wait_idle();
            std::vector<Done> out;
            pool->collect(out);
            CPB_CHECK_ASSERT(out.size() == 2 && out[0].id != out[1].id && out[0].id < 2 &&
                             out[1].id < 2);
            for (const Done& d : out) CPB_CHECK_ASSERT(d.checksum == task_checksum(d.id, 0));
            const check::NoThrow no_throw;  // the destructor joins the workers
            pool.reset();
          }};
}

/// 1 worker; the driver submits low 0, high 1, low 2 and waits: whenever the worker takes
/// them, high 1 is dispatched before low 2 (queued after it).
template <WorkerPool M>
check::TestCase priority_model(std::string name) {
  return {std::move(name), [] {
            std::optional<M> pool(std::in_place, 1);
            pool->submit(Task{0, 0, Priority::kLow});
            pool->submit(Task{0, 1, Priority::kHigh});
            pool->submit(Task{0, 2, Priority::kLow});
            pool->wait_idle();
            std::vector<Done> out;
            pool->collect(out);
            CPB_CHECK_ASSERT(out.size() == 3);
            std::uint64_t seq[3] = {};
            for (const Done& d : out) {
              CPB_CHECK_ASSERT(d.id < 3);
              seq[d.id] = d.seq;
            }
            CPB_CHECK_ASSERT(seq[1] < seq[2]);
            const check::NoThrow no_throw;
            pool.reset();
          }};
}

}  // namespace detail

template <WorkerPool P>
struct Family {
  static constexpr std::string_view kName = "worker_pool";
  static constexpr std::string_view kDescription =
      "worker pools: a dispatcher assigns data tasks (cost, id, priority) to worker threads or "
      "worker processes, round-robin, least-loaded or by priority";
  static constexpr std::string_view kReference = "threads_round_robin";

  static std::vector<Check> checks() {
    if constexpr (sync::sync_templated<P>) {
      using M = sync::rebind_t<P, check::Sync>;
      std::vector<Check> v{
          {"tasks_run_once",
           "2 workers; the driver submits two tasks and waits until idle: each runs once and "
           "its record is visible to the driver",
           {},
           check::model_mode([] {
             return detail::run_once_model<M>(
                 fmt::format("worker_pool/{}/tasks_run_once", P::kName));
           })}};
      if constexpr (P::kDispatch == Dispatch::kPriority) {
        v.push_back({"priority_order",
                     "1 worker; low, high, low submitted in turn: the high task is dispatched "
                     "before the low one queued after it",
                     {},
                     check::model_mode([] {
                       return detail::priority_model<M>(
                           fmt::format("worker_pool/{}/priority_order", P::kName));
                     })});
      }
      return v;
    } else {
      return {};
    }
  }

  static std::vector<Scenario> scenarios() {
    // The pool owns `threads` workers (threads, processes or strands); one driver submits.
    const auto workers = ThreadAxis::owned({1, 2, 4}, {2});
    return {
        {"skewed_costs",
         "batches of 256 tasks with Pareto(alpha) CPU costs, mean 20 µs (seeded, generated "
         "before timing), at most 2 x workers pending (the driver waits below that before each "
         "submit), then wait_idle: a worker stuck on a long task holds up the tasks queued "
         "behind it, so least-loaded (and a shared queue) should beat round-robin",
         {{"alpha_x10",
           "Pareto shape alpha x 10 (11 = 1.1: heavy tail; 30: mild)",
           {11, 15, 30},
           {15},
           1,
           1000}},
         workers,
         1,
         [](const Point& p) {
           return detail::batches<P>(p, detail::skewed_plan(p.get("alpha_x10"), p.threads));
         }},
        {"priority_latency",
         "batches of 32 x workers tasks of 20 µs, every high_every-th high priority, submitted "
         "at once (a saturating backlog), then wait_idle: counters high_p50_ns / high_p99_ns "
         "are the high tasks' submit-to-completion latency, low_* the low tasks'",
         {{"high_every", "one task in high_every is high priority", {8}, {8}, 1, 1 << 20}},
         workers,
         1,
         [](const Point& p) {
           return detail::batches<P>(p, detail::priority_plan(p.get("high_every"), p.threads));
         }},
        {"dispatch_overhead",
         "batches of 256 uniform tasks of cost_ns submitted at once, then wait_idle: the "
         "per-task cost of queueing, hand-over and completion (an IPC round trip for "
         "processes) against the task itself",
         {{"cost_ns", "busy work per task in ns", {1000, 10000}, {1000}, 0, 1'000'000'000}},
         workers,
         1,
         [](const Point& p) {
           return detail::batches<P>(p, detail::uniform_plan(p.get("cost_ns")));
         }},
    };
  }
};

// -- check_batch ------------------------------------------------------------------------------

inline std::string check_batch(const std::vector<Task>& batch, std::uint64_t first,
                               const std::vector<Done>& done, Dispatch dispatch,
                               std::size_t workers, bool check_turns) {
  std::vector<const Done*> by_index(batch.size(), nullptr);
  for (const Done& d : done) {
    if (d.id < first || d.id - first >= batch.size()) {
      return fmt::format("a record for task {}, which is not in the batch [{}, {})", d.id, first,
                         first + batch.size());
    }
    const std::size_t i = d.id - first;
    if (by_index[i] != nullptr) return fmt::format("task {} ran more than once", d.id);
    by_index[i] = &d;
    if (d.checksum != task_checksum(d.id, batch[i].cost_ns)) {
      return fmt::format(
          "task {}: checksum {:#x}, expected {:#x} (the worker ran another task "
          "or died)",
          d.id, d.checksum, task_checksum(d.id, batch[i].cost_ns));
    }
    if (d.worker >= workers)
      return fmt::format("task {} ran on worker {} of {}", d.id, d.worker, workers);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (by_index[i] == nullptr) {
      return fmt::format("task {} was lost (no record after wait_idle)", first + i);
    }
  }
  if (dispatch == Dispatch::kRoundRobin && check_turns) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::uint64_t want = (first + i) % workers;
      if (by_index[i]->worker != want) {
        return fmt::format("round-robin: task {} ran on worker {}, expected {}", first + i,
                           by_index[i]->worker, want);
      }
    }
  }
  if (dispatch == Dispatch::kPriority) {
    // A high task queued before a low one is dispatched first.
    std::optional<std::uint64_t> latest_high;  // the largest seq of a high task so far
    std::uint64_t latest_id = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Done& d = *by_index[i];
      if (batch[i].priority == Priority::kHigh) {
        if (!latest_high || d.seq > *latest_high) {
          latest_high = d.seq;
          latest_id = d.id;
        }
      } else if (latest_high && *latest_high > d.seq) {
        return fmt::format(
            "priority: high task {} was dispatched after low task {}, queued "
            "after it",
            latest_id, d.id);
      }
    }
  }
  return {};
}

}  // namespace cpb::patterns::worker_pool
