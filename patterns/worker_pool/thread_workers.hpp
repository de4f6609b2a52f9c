// SPDX-License-Identifier: Apache-2.0
/// @file
/// Workers as threads: `n` threads, each a loop of `Dispatcher::next` (block until a task is
/// queued for it), `workloads::spin_ns(cost)`, `Dispatcher::finish`. The dispatch policy is a
/// type (`RoundRobin`, `LeastLoaded`, `PriorityFirst`), so each combination is its own
/// implementation: `threads_round_robin` (the family's reference), `threads_least_loaded`,
/// `threads_priority`. The destructor runs every task already queued, then joins.
///
/// Progress: blocking (see `Dispatcher`).
/// Memory ordering: all through the dispatcher's mutex (see `Dispatcher`).
/// When to use: tasks of ≳ 10 µs that share the address space. Round-robin for uniform
/// costs, least-loaded for skewed ones, priority when some tasks must overtake a backlog.
/// Reference: Schmidt et al., "Pattern-Oriented Software Architecture, Vol. 2" (2000),
/// Leader/Followers and Half-Sync/Half-Async (a dispatcher feeding a pool of workers).
#pragma once

#include "harness/bench/meter.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/worker_pool/dispatcher.hpp"
#include "patterns/worker_pool/task.hpp"
#include "workloads/workload.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cpb::patterns::worker_pool {

template <class Policy, class S = sync::Real>
class ThreadWorkers {
 public:
  static constexpr std::string_view kName = Policy::kThreads;
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr Dispatch kDispatch = Policy::kDispatch;

  /// Starts `workers` threads. @throws std::invalid_argument if `workers` is 0.
  explicit ThreadWorkers(std::size_t workers) : d_(workers) {
    threads_.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
  }

  /// Runs every queued task, then joins the workers.
  ~ThreadWorkers() {
    d_.stop();
    for (auto& t : threads_) t.join();
  }

  ThreadWorkers(const ThreadWorkers&) = delete;
  ThreadWorkers& operator=(const ThreadWorkers&) = delete;

  void submit(const Task& t) { d_.submit(t); }
  void wait_below(std::size_t n) { d_.wait_below(n); }
  void wait_idle() { d_.wait_below(1); }
  void collect(std::vector<Done>& out) { d_.collect(out); }

 private:
  // Not noexcept: under the model checker an abandoned execution unwinds the worker.
  void work(std::size_t w) {
    Slot s;
    while (d_.next(w, s)) {
      workloads::spin_ns(s.task.cost_ns);
      d_.finish(w, Done{s.task.id, task_checksum(s.task.id, s.task.cost_ns), s.seq, s.submit_ns,
                        bench::now_ns(), static_cast<std::uint32_t>(w), s.task.priority});
    }
  }

  Dispatcher<Policy, S> d_;
  std::vector<typename S::thread> threads_;  // last: started after the dispatcher exists
};

}  // namespace cpb::patterns::worker_pool
