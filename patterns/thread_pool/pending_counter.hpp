// SPDX-License-Identifier: Apache-2.0
/// @file
/// `PendingCounter`: counts tasks submitted but not finished, and lets threads wait until the
/// count is zero. It is how `wait_idle` is built in the pools that have no lock of their own
/// around the task count (work stealing, and the asio and TBB adapters).
///
/// Progress: blocking (`wait` sleeps on a condition variable); `add` and `finish` are one atomic
/// read-modify-write each, plus a lock and a notify when the count reaches zero while someone
/// waits.
/// Memory ordering: all seq_cst. `finish` decrements `count_` then reads `waiters_`; `wait`
/// increments `waiters_` then reads `count_`: the store-load (Dekker) pattern, so at least one
/// side sees the other and no wake-up is lost. The load in `wait` that reads zero reads the last
/// decrement; every earlier `add`/`finish` is a read-modify-write in that release sequence, so
/// every finished task happens-before `wait` returns.
#pragma once

#include "harness/core/sync.hpp"

#include <cstdint>
#include <mutex>

namespace cpb::patterns::thread_pool::detail {

template <class S = sync::Real>
class PendingCounter {
 public:
  /// A task was submitted. Call before the task can run, so its `finish` cannot come first.
  void add() { count_.fetch_add(1); }

  /// A task finished. Returns true when it was the last pending one.
  bool finish() {
    if (count_.fetch_sub(1) != 1) return false;
    if (waiters_.load() > 0) {
      std::lock_guard lk(m_);
      cv_.notify_all();
    }
    return true;
  }

  [[nodiscard]] bool idle() const { return count_.load() == 0; }

  /// Blocks until no task is pending (every task added before the call has finished).
  void wait() {
    if (idle()) return;
    std::unique_lock lk(m_);
    waiters_.fetch_add(1);
    cv_.wait(lk, [this] { return idle(); });
    waiters_.fetch_sub(1);
  }

 private:
  alignas(64) typename S::template atomic<std::int64_t> count_{0};
  alignas(64) typename S::template atomic<std::int32_t> waiters_{0};
  typename S::mutex m_;
  typename S::condition_variable cv_;
};

}  // namespace cpb::patterns::thread_pool::detail
