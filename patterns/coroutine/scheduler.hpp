// SPDX-License-Identifier: Apache-2.0
/// @file
/// `Scheduler`: runs coroutines on the own work-stealing pool
/// (patterns/thread_pool/work_stealing_pool.hpp, reused, not copied) and owns a timer thread.
/// `co_await sched.schedule()` moves the awaiting coroutine onto a worker; `spawn(task)` starts
/// a `Task<void>` there, detached (it frees itself at its end; an exception escaping it
/// terminates, as an exception escaping a thread does); `co_await sched.sleep_for(d)` suspends
/// until `d` has passed, then resumes on a worker. A resumption posted from a worker goes to that
/// worker's own deque (LIFO, no lock); from outside (the timer thread, another thread) to an
/// inbox.
///
/// The timer facility: one thread and a min-heap of (deadline, sequence, handle) behind a mutex.
/// A new timer that becomes the earliest notifies the timer thread's condition variable; the
/// thread sleeps until the earliest deadline, then takes every expired entry and posts it to the
/// pool outside the lock (so 100,000 timers with one deadline cost one wake-up of the timer
/// thread and 100,000 posts). The destructor fires the timers still pending at once (their
/// coroutines resume early, so none is leaked), then drains the pool.
///
/// Progress: blocking (the timer heap's mutex; the pool's inbox mutexes).
/// Memory ordering: the pool's (its deques and inbox mutexes order a handle's hand-over); the
/// timer heap is guarded by its mutex.
/// When to use: many coroutines that mostly wait (timers, I/O, locks) on a few threads. When not
/// to use: long CPU-bound work in a coroutine (it holds a worker; post it to a pool instead).
/// Reference: Tokio's time driver (a timer wheel on the I/O thread) and cppcoro's
/// `static_thread_pool`; Varghese & Lauck, "Hashed and hierarchical timing wheels", SOSP 1987
/// (the heap here is the simpler O(log n) alternative).
#pragma once

#include "patterns/coroutine/task.hpp"
#include "patterns/thread_pool/work_stealing_pool.hpp"

#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

namespace cpb::patterns::coroutine {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts `workers` pool threads (0 means 1) and the timer thread.
  explicit Scheduler(std::size_t workers) : pool_(workers), timer_([this] { timer_loop(); }) {}
  ~Scheduler() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_one();
    timer_.join();
    pool_.shutdown(thread_pool::Shutdown::kDrain);
  }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Resumes `h` on a worker.
  void post(std::coroutine_handle<> h) {
    pool_.submit([h] { detail::resume(h); });
  }

  struct ScheduleAwaiter {
    Scheduler* s;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s->post(h); }
    void await_resume() const noexcept {}
  };
  /// `co_await schedule()`: continue on one of the pool's workers.
  ScheduleAwaiter schedule() { return {this}; }

  /// Starts `t` on a worker, detached.
  void spawn(Task<void> t) { post(start_detached(std::move(t)).h); }

  struct SleepAwaiter {
    Scheduler* s;
    Clock::time_point when;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s->add_timer(when, h); }
    void await_resume() const noexcept {}
  };
  /// `co_await sleep_for(d)`: resume on a worker once `d` has passed.
  template <class Rep, class Period>
  SleepAwaiter sleep_for(std::chrono::duration<Rep, Period> d) {
    return {this, Clock::now() + std::chrono::duration_cast<Clock::duration>(d)};
  }
  SleepAwaiter sleep_until(Clock::time_point t) { return {this, t}; }

  /// Timers registered and not yet fired (a statistic).
  std::size_t pending_timers() {
    std::lock_guard lk(m_);
    return heap_.size();
  }

 private:
  static detail::LazyDetached start_detached(Task<void> t) { co_await std::move(t); }

  struct Timer {
    Clock::time_point when;
    std::uint64_t seq;
    std::coroutine_handle<> h;
    bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  void add_timer(Clock::time_point when, std::coroutine_handle<> h) {
    bool earliest = false;
    {
      std::lock_guard lk(m_);
      earliest = heap_.empty() || when < heap_.top().when;
      heap_.push({when, next_seq_++, h});
    }
    if (earliest) cv_.notify_one();
  }

  void timer_loop() {
    std::vector<std::coroutine_handle<>> due;
    std::unique_lock lk(m_);
    for (;;) {
      if (heap_.empty()) {
        if (stop_) return;
        cv_.wait(lk);
        continue;
      }
      const Clock::time_point now = Clock::now();
      if (!stop_ && heap_.top().when > now) {
        cv_.wait_until(lk, heap_.top().when);
        continue;
      }
      while (!heap_.empty() && (stop_ || heap_.top().when <= now)) {
        due.push_back(heap_.top().h);
        heap_.pop();
      }
      lk.unlock();
      for (auto h : due) post(h);
      due.clear();
      lk.lock();
    }
  }

  thread_pool::WorkStealingPool<> pool_;
  std::mutex m_;
  std::condition_variable cv_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;  // guarded by m_
  std::uint64_t next_seq_ = 0;                                           // guarded by m_
  bool stop_ = false;                                                    // guarded by m_
  std::thread timer_;  // last: started after everything it uses
};

}  // namespace cpb::patterns::coroutine
