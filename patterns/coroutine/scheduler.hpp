// SPDX-License-Identifier: Apache-2.0
/// @file
/// `Scheduler`: runs coroutines on the own work-stealing pool
/// (patterns/thread_pool/work_stealing_pool.hpp, reused, not copied) and owns one driver thread
/// for timers and socket readiness (Tokio's design: one thread waits in `epoll_wait` for both).
/// `co_await sched.schedule()` moves the awaiting coroutine onto a worker; `spawn(task)` starts
/// a `Task<void>` there, detached (it frees itself at its end; an exception escaping it
/// terminates, as an exception escaping a thread does); `co_await sched.sleep_for(d)` suspends
/// until `d` has passed; `co_await sched.readable(fd)` / `writable(fd)` until the descriptor is
/// ready (level-triggered, one shot). Every wait resumes on a worker. A resumption posted from a
/// worker goes to that worker's own deque (LIFO, no lock); from outside (the driver thread,
/// another thread) to an inbox.
///
/// The driver: an epoll set holding an eventfd (wake-ups), a timerfd (armed, absolute and with
/// nanosecond resolution, to the earliest deadline) and the descriptors coroutines wait on
/// (`EPOLLONESHOT`, the coroutine handle as the event's data). Timers are a min-heap of
/// (deadline, sequence, handle) behind a mutex; a new timer that becomes the earliest re-arms
/// the timerfd. After each `epoll_wait` the driver posts the ready descriptors' coroutines and
/// every expired timer's, outside the lock (so 100,000 timers with one deadline cost one wake-up
/// and 100,000 posts). The destructor fires the timers still pending at once (their coroutines
/// resume early, so none is leaked), then drains the pool; a descriptor wait still pending then
/// is the caller's bug (its coroutine is never resumed).
///
/// Progress: blocking (the timer heap's mutex; the pool's inbox mutexes).
/// Memory ordering: the pool's (its deques and inbox mutexes order a handle's hand-over); the
/// timer heap is guarded by its mutex; epoll orders a registration before its event.
/// When to use: many coroutines that mostly wait (timers, sockets, locks) on a few threads. When
/// not to use: long CPU-bound work in a coroutine (it holds a worker; post it to a pool instead).
/// Reference: Tokio's I/O and time drivers; cppcoro's `static_thread_pool` and `io_service`;
/// epoll(7), timerfd_create(2); Varghese & Lauck, "Hashed and hierarchical timing wheels", SOSP
/// 1987 (the heap here is the simpler O(log n) alternative).
#pragma once

#include "patterns/coroutine/task.hpp"
#include "patterns/thread_pool/work_stealing_pool.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <queue>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace cpb::patterns::coroutine {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts `workers` pool threads (0 means 1) and the driver thread.
  /// @throws std::system_error when epoll, eventfd or timerfd cannot be created.
  explicit Scheduler(std::size_t workers) : pool_(workers) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (ep_ < 0 || wake_fd_ < 0 || timer_fd_ < 0) {
      const int err = errno;
      close_fds();
      throw std::system_error(err, std::generic_category(), "coroutine scheduler: epoll set-up");
    }
    for (int* fd : {&wake_fd_, &timer_fd_}) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.ptr = fd;  // the member's address tells the driver's own descriptors apart
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, *fd, &e);
    }
    driver_ = std::thread([this] { drive(); });
  }
  ~Scheduler() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    wake();
    driver_.join();
    pool_.shutdown(thread_pool::Shutdown::kDrain);
    close_fds();
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

  struct IoAwaiter {
    Scheduler* s;
    int fd;
    std::uint32_t events;
    int err = 0;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
      // Once watched, another thread may resume (and destroy) this frame, so `err` is written
      // only on the failure path, where this thread keeps ownership.
      const int e = s->watch(fd, events, h);
      if (e == 0) return true;
      err = e;
      return false;  // not watched: resume at once and throw
    }
    void await_resume() const {
      if (err != 0) throw std::system_error(err, std::generic_category(), "epoll_ctl");
    }
  };
  /// `co_await readable(fd)`: resume on a worker once `fd` is readable (or hung up / in error).
  /// @throws std::system_error (from the co_await) when epoll refuses the descriptor.
  IoAwaiter readable(int fd) { return {this, fd, EPOLLIN | EPOLLRDHUP}; }
  /// `co_await writable(fd)`: resume on a worker once `fd` is writable (or in error).
  IoAwaiter writable(int fd) { return {this, fd, EPOLLOUT}; }
  /// Takes `fd` out of the epoll set (before closing a descriptor that was waited on, if it
  /// may have been duplicated). No wait on it may be pending.
  void forget(int fd) { ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }

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
    std::lock_guard lk(m_);
    const bool earliest = heap_.empty() || when < heap_.top().when;
    heap_.push({when, next_seq_++, h});
    if (earliest) arm(when);
  }

  /// Arms the timerfd to `when` (absolute, CLOCK_MONOTONIC = steady_clock). Under m_.
  void arm(Clock::time_point when) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch());
    itimerspec spec{};
    const auto count = std::max<std::int64_t>(ns.count(), 1);  // 0 would disarm it
    spec.it_value.tv_sec = static_cast<time_t>(count / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(count % 1'000'000'000);
    ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  int watch(int fd, std::uint32_t events, std::coroutine_handle<> h) {
    epoll_event e{};
    e.events = events | EPOLLONESHOT;
    e.data.ptr = h.address();
    if (::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &e) == 0) return 0;
    if (errno == ENOENT && ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e) == 0) return 0;
    return errno;
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  }

  void drive() {
    std::vector<std::coroutine_handle<>> due;
    std::array<epoll_event, 64> evs{};
    for (;;) {
      const int n = ::epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), -1);
      for (int i = 0; i < n; ++i) {
        const epoll_event& e = evs[static_cast<std::size_t>(i)];
        if (e.data.ptr == &wake_fd_ || e.data.ptr == &timer_fd_) {
          std::uint64_t drain = 0;
          [[maybe_unused]] const auto r =
              ::read(*static_cast<int*>(e.data.ptr), &drain, sizeof drain);
        } else {
          due.push_back(std::coroutine_handle<>::from_address(e.data.ptr));
        }
      }
      bool stop = false;
      {
        std::lock_guard lk(m_);
        stop = stop_;
        const Clock::time_point now = Clock::now();
        while (!heap_.empty() && (stop || heap_.top().when <= now)) {
          due.push_back(heap_.top().h);
          heap_.pop();
        }
        if (!heap_.empty()) arm(heap_.top().when);
      }
      for (auto h : due) post(h);
      due.clear();
      if (stop) return;
    }
  }

  void close_fds() {
    for (int* fd : {&timer_fd_, &wake_fd_, &ep_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  thread_pool::WorkStealingPool<> pool_;
  int ep_ = -1;
  int wake_fd_ = -1;   // eventfd: wakes the driver
  int timer_fd_ = -1;  // timerfd: armed to the earliest deadline
  std::mutex m_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;  // guarded by m_
  std::uint64_t next_seq_ = 0;                                           // guarded by m_
  bool stop_ = false;                                                    // guarded by m_
  std::thread driver_;
};

}  // namespace cpb::patterns::coroutine
