// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::task_arena` running the tasks of one `tbb::task_group`.
///
/// How it maps onto "a pool of N workers":
/// - The arena has N slots, none reserved for external threads (`task_arena(N, 0)`), so N TBB
///   worker threads run tasks without help from the submitter, as in the other pools. A
///   `global_control` raises TBB's process-wide worker limit (by default one less than the
///   number of CPUs) to at least N + 1, else N = 4 on a 2-core machine would get one worker.
/// - An external `submit` enqueues the task into the arena (`arena.enqueue(group.defer(f))`):
///   it never enters the arena, so it never waits for a free slot. A task submitted by a task
///   of this pool is spawned onto that worker's own deque (`group.run(f)`), TBB's fast path.
/// - `wait_idle` is `arena.execute([&] { group.wait(); })`. The waiting thread takes a free slot
///   if there is one and then helps run tasks (TBB's work-conserving wait); when all N slots are
///   busy, TBB hands the wait to a worker and the caller blocks. Either way at most N threads
///   run tasks at a time, the same concurrency as the other pools.
/// - The constructor starts the N workers (a rendezvous of N tasks) so that they exist before
///   timing, and are not created later by a thread the harness has pinned to one CPU.
/// The destructor waits for every pending task.
///
/// Progress: blocking (TBB's workers spin briefly, then sleep).
/// Not run under ThreadSanitizer: libtbb is not instrumented, so TSan cannot see how a task is
/// handed to a worker and reports the hand-over as a race (see thread_pool.register.cpp).
#pragma once

#include "harness/core/progress.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace cpb::patterns::thread_pool {

class TbbTaskArena {
 public:
  static constexpr std::string_view kName = "tbb_task_arena";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  /// Creates an arena of `workers` slots (0 means 1) and starts its workers.
  explicit TbbTaskArena(std::size_t workers)
      : workers_(std::max<std::size_t>(workers, 1)),
        limit_(tbb::global_control::max_allowed_parallelism,
               std::max(workers_ + 1, tbb::global_control::active_value(
                                          tbb::global_control::max_allowed_parallelism))),
        arena_(static_cast<int>(workers_), /*reserved_for_masters=*/0) {
    start_workers();
  }

  /// Waits for every pending task. `noexcept`: `task_group`'s destructor may throw, but only
  /// when nobody waited for its tasks, and we always do.
  ~TbbTaskArena() noexcept { wait_idle(); }

  TbbTaskArena(const TbbTaskArena&) = delete;
  TbbTaskArena& operator=(const TbbTaskArena&) = delete;

  template <class F>
  void submit(F&& f) {
    Run<std::decay_t<F>> task{this, std::forward<F>(f)};
    if (current == this) {
      group_.run(std::move(task));  // from one of our tasks: onto this thread's own deque
    } else {
      arena_.enqueue(group_.defer(std::move(task)));
    }
  }

  /// Blocks until every task submitted so far has finished. Not from one of this pool's tasks.
  void wait_idle() {
    arena_.execute([this] { group_.wait(); });
  }

 private:
  /// The task TBB runs: marks the thread as ours while the user's callable runs, so that nested
  /// submissions spawn locally. TBB calls it through a const reference, hence `mutable`.
  template <class F>
  struct Run {
    TbbTaskArena* pool;
    mutable F fn;
    void operator()() const {
      TbbTaskArena* const outer = current;
      current = pool;
      fn();
      current = outer;
    }
  };

  /// Enqueues N tasks that wait for each other, so N distinct workers must have started.
  /// Gives up after a second (then TBB starts the rest lazily), which happens only when TBB
  /// cannot supply N workers.
  void start_workers() {
    std::atomic<std::size_t> arrived{0};
    std::atomic<std::size_t> left{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (std::size_t i = 0; i < workers_; ++i) {
      arena_.enqueue([&] {
        arrived.fetch_add(1);
        while (arrived.load() < workers_ && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        left.fetch_add(1);
      });
    }
    while (left.load() < workers_) std::this_thread::yield();
  }

  static inline thread_local TbbTaskArena* current = nullptr;

  std::size_t workers_;
  tbb::global_control limit_;
  tbb::task_arena arena_;
  tbb::task_group group_;
};

}  // namespace cpb::patterns::thread_pool
