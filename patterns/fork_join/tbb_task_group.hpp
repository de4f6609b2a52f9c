// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::task_group` (`run` + `wait`) inside a `tbb::task_arena` of N slots.
///
/// How it maps onto the `ForkJoin` concept:
/// - `run(root)` is `arena.execute(root)`: the driver thread takes the arena's one slot
///   reserved for an outside thread and runs the root; N - 1 TBB workers steal from it, so N
///   threads run tasks, as in the other runtimes. A `global_control` raises TBB's process-wide
///   worker limit (by default the number of CPUs) to at least N, else N = 4 on a 2-core
///   machine would get fewer workers.
/// - `invoke(a, b)` is the textbook TBB fork-join: a `task_group` on the stack, `g.run(a)`
///   (a spawn onto this thread's deque), `b()` in the caller, `g.wait()` (which runs `a` itself
///   if nobody stole it, else helps with other tasks). `wait` rethrows `a`'s exception; `b`'s is
///   rethrown after the wait.
/// - The constructor starts the N - 1 workers (a rendezvous of enqueued tasks) so that they
///   exist before timing.
///
/// Progress: blocking (TBB's workers spin briefly, then sleep).
/// Memory ordering: TBB's; `wait` orders the group's tasks before the caller goes on.
/// Not run under ThreadSanitizer: libtbb is not instrumented (see fork_join.register.cpp).
/// When to use: the industrial default for fork-join in C++.
/// Reference: oneTBB `task_group` (the fib example of the TBB documentation); performance-
/// anchors §2.1: about 65 ns per task at 1-2 threads in libfork's fib benchmark.
#pragma once

#include "harness/core/progress.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

namespace cpb::patterns::fork_join {

class TbbTaskGroup {
 public:
  static constexpr std::string_view kName = "tbb_task_group";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kCutoff = false;

  /// An arena of `workers` threads (>= 1) counting the caller of run(); starts its workers.
  explicit TbbTaskGroup(std::size_t workers)
      : workers_(workers != 0 ? workers : throw std::invalid_argument("workers must be >= 1")),
        limit_(tbb::global_control::max_allowed_parallelism,
               std::max(workers_, tbb::global_control::active_value(
                                      tbb::global_control::max_allowed_parallelism))),
        arena_(static_cast<int>(workers_)) {
    start_workers();
  }

  TbbTaskGroup(const TbbTaskGroup&) = delete;
  TbbTaskGroup& operator=(const TbbTaskGroup&) = delete;

  template <class F>
  void run(F&& root) {
    arena_.execute([&] { root(); });
  }

  template <class A, class B>
  void invoke(A&& a, B&& b) {
    tbb::task_group g;
    g.run([&a] { a(); });
    std::exception_ptr eb;
    try {
      b();
    } catch (...) {
      eb = std::current_exception();
    }
    g.wait();  // rethrows a's exception
    if (eb) std::rethrow_exception(eb);
  }

 private:
  /// Enqueues N - 1 tasks that wait for each other, so N - 1 distinct workers have started.
  /// Gives up after a second (then TBB starts the rest lazily).
  void start_workers() {
    const std::size_t n = workers_ - 1;
    if (n == 0) return;
    std::atomic<std::size_t> arrived{0};
    std::atomic<std::size_t> left{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (std::size_t i = 0; i < n; ++i) {
      arena_.enqueue([&] {
        arrived.fetch_add(1);
        while (arrived.load() < n && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        left.fetch_add(1);
      });
    }
    while (left.load() < n) std::this_thread::yield();
  }

  std::size_t workers_;
  tbb::global_control limit_;
  tbb::task_arena arena_;
};

}  // namespace cpb::patterns::fork_join
