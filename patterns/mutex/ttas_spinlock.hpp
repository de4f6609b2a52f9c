// SPDX-License-Identifier: Apache-2.0
/// @file
/// Test-and-test-and-set spinlock: waiters spin on a plain load, which stays in their cache, and
/// try the exchange only when the lock looks free. Exponential back-off, then yield.
///
/// Progress: blocking (spins; yields the CPU once back-off is exhausted).
/// Memory ordering: the acquire exchange pairs with the release store in `unlock`; the spinning
/// load is relaxed because the exchange that follows it is what acquires.
/// When to use: short critical sections, moderate contention, threads ≤ cores. When not to use:
/// long critical sections or oversubscription, where a sleeping lock wastes less CPU.
/// Reference: Rudolph & Segall, ISCA 1984; Anderson, IEEE TPDS 1990.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <string_view>

namespace cpb::patterns::mutex {

template <class S = sync::Real>
class TtasSpinlock {
 public:
  static constexpr std::string_view kName = "ttas_spinlock";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    sync::Backoff<S> backoff;
    for (;;) {
      // Acquire pairs with the release store in unlock().
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      // Relaxed: only a hint that the lock may be free; the exchange above acquires.
      while (locked_.load(std::memory_order_relaxed)) backoff();
    }
  }

  bool try_lock() {
    // Relaxed pre-check avoids taking the line exclusive; the acquire exchange pairs with
    // unlock()'s release store.
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }

  void unlock() {
    // Release pairs with the acquire exchange of the next holder.
    locked_.store(false, std::memory_order_release);
  }

 private:
  typename S::template atomic<bool> locked_{false};
};

}  // namespace cpb::patterns::mutex
