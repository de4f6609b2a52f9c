// SPDX-License-Identifier: Apache-2.0
/// @file
/// Three-state futex mutex (Drepper's "mutex 3"): the lock word is 0 (free), 1 (held, nobody
/// asleep) or 2 (held, maybe somebody asleep). `lock` takes a free lock with one CAS; a waiter
/// spins briefly, then marks the word 2 and sleeps on it in the kernel; `unlock` swaps in 0 and
/// makes the wake-up syscall only when the old value was 2, so an uncontended lock+unlock never
/// enters the kernel.
///
/// Progress: blocking; waiters sleep (futex) after a bounded spin.
/// Memory ordering: the acquire CAS / exchange that takes the lock pairs with the release
/// exchange in `unlock`; the spinning load is relaxed (only a hint that the lock may be free).
/// When to use: a general-purpose mutex that stays cheap when threads outnumber cores; the
/// short spin keeps hand-offs off the kernel when critical sections are short.
/// When not to use: where fairness matters (a spinning newcomer can overtake a sleeper).
/// Reference: U. Drepper, "Futexes Are Tricky", 2011, section 6 ("mutex3").
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::mutex {

template <class S = sync::Real>
class FutexMutex {
 public:
  static constexpr std::string_view kName = "futex_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;

  void lock() {
    std::uint32_t c = kFree;
    // Acquire pairs with the release exchange in unlock(): the last holder's writes are seen.
    if (word_.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      return;
    }
    lock_slow(c);
  }

  bool try_lock() {
    std::uint32_t c = kFree;
    // Acquire pairs with the release exchange in unlock().
    return word_.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }

  void unlock() {
    // Release pairs with the acquire CAS / exchange of the next holder.
    if (word_.exchange(kFree, std::memory_order_release) == kSleepers) {
      futex_wake<S>(word_, 1);
    }
  }

 private:
  static constexpr std::uint32_t kFree = 0;
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kSleepers = 2;

  void lock_slow(std::uint32_t c) {
    // Spin while the holder is likely to let go soon: a futex sleep and wake-up costs a few
    // microseconds (two syscalls and a cross-CPU wake-up), far more than a short section.
    for (int i = 0; i < spin_bound<S>(kSpins) && c != kSleepers; ++i) {
      S::pause();
      // Relaxed: a hint only; the CAS below acquires.
      c = word_.load(std::memory_order_relaxed);
      if (c == kFree && word_.compare_exchange_weak(c, kLocked, std::memory_order_acquire,
                                                    std::memory_order_relaxed)) {
        return;  // acquire pairs with unlock()'s release exchange
      }
    }
    // Mark the lock contended; if it was free, the exchange took it (as 2, which at worst
    // costs one needless wake-up at unlock).
    // Acquire pairs with unlock()'s release exchange.
    if (c != kSleepers) c = word_.exchange(kSleepers, std::memory_order_acquire);
    while (c != kFree) {
      futex_wait<S>(word_, kSleepers);
      // Whoever wakes takes the lock as 2: it cannot tell whether others still sleep, so its
      // unlock must wake the next (this is what makes the three-state lock correct).
      // Acquire pairs with unlock()'s release exchange.
      c = word_.exchange(kSleepers, std::memory_order_acquire);
    }
  }

  // Spin polls before sleeping: about 2 µs on the 2-vCPU CI machine, below one futex hand-off.
  static constexpr int kSpins = 100;
  alignas(64) typename S::template atomic<std::uint32_t> word_{kFree};
};

}  // namespace cpb::patterns::mutex
