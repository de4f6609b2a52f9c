// SPDX-License-Identifier: Apache-2.0
/// @file
/// Counting semaphore from a mutex and a condition variable: the count is plain data under the
/// mutex; `acquire` waits on the condition variable while it is zero; `release(n)` adds `n` and
/// signals at most `n` of the waiters (none when nobody waits).
///
/// Progress: blocking (every operation takes the mutex).
/// Memory ordering: the mutex orders everything (unlock → lock is the release → acquire edge).
/// When to use: the portable textbook semaphore; easy to extend (timeouts, a maximum, a
/// predicate beside the count). When not to use: hot hand-offs: every operation takes a mutex
/// and a waiter always sleeps in the kernel.
/// Reference: Dijkstra's P/V; Butenhof, "Programming with POSIX Threads", 1997, §3.3.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <cstddef>
#include <mutex>
#include <string_view>

namespace cpb::patterns::semaphore {

template <class S = sync::Real>
class CondvarSemaphore {
 public:
  static constexpr std::string_view kName = "condvar_semaphore";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit CondvarSemaphore(std::ptrdiff_t initial) : count_(initial) {}
  CondvarSemaphore(const CondvarSemaphore&) = delete;
  CondvarSemaphore& operator=(const CondvarSemaphore&) = delete;

  void acquire() {
    std::unique_lock<typename S::mutex> lk(m_);
    while (count_.load() == 0) {
      waiters_.store(waiters_.load() + 1);
      cv_.wait(lk);
      waiters_.store(waiters_.load() - 1);
    }
    count_.store(count_.load() - 1);
  }

  bool try_acquire() {
    std::lock_guard<typename S::mutex> lk(m_);
    if (count_.load() == 0) return false;
    count_.store(count_.load() - 1);
    return true;
  }

  void release(std::ptrdiff_t n = 1) {
    // Signal under the mutex: a woken waiter cannot take the last permit and destroy the
    // semaphore while this thread still touches it.
    std::lock_guard<typename S::mutex> lk(m_);
    count_.store(count_.load() + n);
    // A notified waiter stays counted until it re-takes the mutex, but it no longer waits on
    // the condition variable, so `n` notify_one calls reach `n` different waiters.
    const std::ptrdiff_t waiting = waiters_.load();
    if (n >= waiting) {
      if (waiting > 0) cv_.notify_all();
    } else {
      for (std::ptrdiff_t i = 0; i < n; ++i) cv_.notify_one();
    }
  }

 private:
  typename S::mutex m_;
  typename S::condition_variable cv_;
  typename S::template cell<std::ptrdiff_t> count_;
  typename S::template cell<std::ptrdiff_t> waiters_{0};
};

}  // namespace cpb::patterns::semaphore
