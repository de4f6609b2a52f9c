// SPDX-License-Identifier: Apache-2.0
/// @file
/// Test-and-set spinlock: every attempt is an atomic exchange on the lock word.
///
/// Progress: blocking (spins with exponential back-off, then yields).
/// Memory ordering: the acquire exchange in `lock` pairs with the release store in `unlock`.
/// When to use: very short critical sections with little contention. When not to use: under
/// contention every spinning exchange takes the cache line exclusive; prefer TTAS.
/// Reference: Anderson, "The performance of spin lock alternatives", IEEE TPDS 1990.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <string_view>

namespace cpb::patterns::mutex {

template <class S = sync::Real>
class TasSpinlock {
 public:
  static constexpr std::string_view kName = "tas_spinlock";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    sync::Backoff<S> backoff;
    // Acquire pairs with the release store in unlock(): the previous holder's writes are seen.
    while (locked_.exchange(true, std::memory_order_acquire)) backoff();
  }

  bool try_lock() {
    // Acquire pairs with the release store in unlock().
    return !locked_.exchange(true, std::memory_order_acquire);
  }

  void unlock() {
    // Release pairs with the acquire exchange of the next holder.
    locked_.store(false, std::memory_order_release);
  }

 private:
  typename S::template atomic<bool> locked_{false};
};

}  // namespace cpb::patterns::mutex
