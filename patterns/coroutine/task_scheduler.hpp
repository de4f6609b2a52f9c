// SPDX-License-Identifier: Apache-2.0
/// @file
/// The own async/await runtime: `Task<T>` (task.hpp, symmetric transfer), the `Scheduler`
/// (scheduler.hpp: the own work-stealing pool plus a timer thread), `AsyncSemaphore` /
/// `AsyncMutex` (async_sync.hpp, on the sync policy), and `sync_wait`. This adapter writes each
/// scenario the way a user of those pieces would:
/// - await_chain: a task awaits a task that awaits a task ... `depth` deep (each level a frame
///   of its own, resumed by symmetric transfer), started on a worker by `schedule()` and
///   waited for with `sync_wait`;
/// - timers: `n` spawned tasks, each `co_await sleep_for(delay)`, then counts itself done;
/// - ping_pong: two tasks on the pool hand a baton back and forth through two async
///   semaphores; each release posts the waiting task to the scheduler, so one exchange is two
///   switches through the pool's queue.
///
/// Progress: blocking (see the pieces).
/// Memory ordering: the pieces'; the done counter of `timers` is acq_rel (the driver's acquire
/// pairs with every sleeper's release increment).
/// When to use: many concurrent waits on few threads, and async code that reads like straight-
/// line code. When not to use: code that must block in a call you cannot make a coroutine.
/// Reference: see task.hpp, scheduler.hpp and async_sync.hpp.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/coroutine/async_sync.hpp"
#include "patterns/coroutine/scheduler.hpp"
#include "patterns/coroutine/task.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::coroutine {

class TaskScheduler {
 public:
  static constexpr std::string_view kName = "task_scheduler";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kMultiWorker = true;
  /// The semaphore the model checks run, on another sync policy.
  template <class S>
  using semaphore_on = AsyncSemaphore<S>;

  explicit TaskScheduler(std::size_t workers) : sched_(workers) {}

  std::uint64_t await_chain(std::uint64_t depth, std::uint64_t v) {
    return sync_wait(on_pool(&sched_, depth, v));
  }

  std::uint64_t timers(std::uint64_t n, std::int64_t delay_us) {
    // Relaxed: no sleeper of the previous call is left (the driver saw them all done).
    done_.store(0, std::memory_order_relaxed);
    for (std::uint64_t i = 0; i < n; ++i) {
      sched_.spawn(sleeper(&sched_, std::chrono::microseconds(delay_us), &done_, n));
    }
    // Acquire: pairs with the sleepers' acq_rel increments.
    for (std::uint64_t d = done_.load(std::memory_order_acquire); d < n;
         d = done_.load(std::memory_order_acquire)) {
      done_.wait(d, std::memory_order_acquire);  // acquire: as above
    }
    return done_.load(std::memory_order_acquire);  // acquire: as above
  }

  std::uint64_t ping_pong(std::uint64_t rounds) {
    count_ = 0;
    sched_.spawn(ponger(&sched_, &a_, &b_, rounds, &count_));
    sync_wait(pinger(&sched_, &a_, &b_, rounds, &count_));
    return count_;
  }

  Scheduler& scheduler() { return sched_; }

 private:
  using Sem = AsyncSemaphore<>;

  static Task<std::uint64_t> chain(std::uint64_t depth, std::uint64_t v) {
    if (depth == 0) co_return v;
    co_return co_await chain(depth - 1, v) + 1;
  }
  static Task<std::uint64_t> on_pool(Scheduler* s, std::uint64_t depth, std::uint64_t v) {
    co_await s->schedule();
    co_return co_await chain(depth, v);
  }
  static Task<void> sleeper(Scheduler* s, std::chrono::microseconds d,
                            std::atomic<std::uint64_t>* done, std::uint64_t n) {
    co_await s->sleep_for(d);
    // acq_rel: release publishes this sleeper's completion to the driver's acquire; acquire
    // orders it after the earlier sleepers (only the last one notifies).
    if (done->fetch_add(1, std::memory_order_acq_rel) + 1 == n) done->notify_all();
  }
  // The count is touched by whichever task holds the baton; the semaphores order the turns.
  static Task<void> ponger(Scheduler* s, Sem* a, Sem* b, std::uint64_t rounds,
                           std::uint64_t* count) {
    for (std::uint64_t r = 0; r < rounds; ++r) {
      co_await b->acquire(s);
      ++*count;
      a->release();
    }
  }
  static Task<void> pinger(Scheduler* s, Sem* a, Sem* b, std::uint64_t rounds,
                           std::uint64_t* count) {
    co_await s->schedule();
    for (std::uint64_t r = 0; r < rounds; ++r) {
      b->release();
      co_await a->acquire(s);
      ++*count;
    }
  }

  std::atomic<std::uint64_t> done_{0};
  std::uint64_t count_ = 0;
  Sem a_{0};
  Sem b_{0};
  Scheduler sched_;  // last: destroyed (drained) first
};

}  // namespace cpb::patterns::coroutine
