// SPDX-License-Identifier: Apache-2.0
/// @file
/// Sleeping on a 32-bit atomic word, through the sync policy: with `sync::Real` the raw Linux
/// futex syscall (private futex), under any other policy (the model checker's `check::Sync`)
/// C++20 `atomic::wait` / `notify_*`, which the checker schedules.
///
/// Why not `std::atomic::wait` in `Real` as well: libstdc++ 12 routes it through a hashed waiter
/// pool and spins before it sleeps, which hides what the lock itself does; the futex is what
/// Drepper's lock is written against. The semaphore and barrier families use the same helper.
#pragma once

#include "harness/core/sync.hpp"

#include <atomic>
#include <climits>
#include <cstdint>
#include <type_traits>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace cpb::patterns::mutex {

/// True where `futex_wait` / `futex_wake` use the raw syscall.
template <class S>
inline constexpr bool kRawFutex =
#if defined(__linux__)
    std::is_same_v<S, sync::Real>;
#else
    false;
#endif

/// Blocks while `word` holds `expected` (returns at once if it does not, and may return
/// spuriously: callers re-check in a loop). No memory ordering of its own: callers re-read
/// `word` with the order they need after it returns.
template <class S>
void futex_wait(typename S::template atomic<std::uint32_t>& word, std::uint32_t expected) {
  if constexpr (kRawFutex<S>) {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    syscall(SYS_futex, static_cast<void*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr,
            0);
  } else {
    // Acquire: whatever changed the word (and notified) happens-before the caller's re-check.
    word.wait(expected, std::memory_order_acquire);
  }
}

/// Wakes up to `n` threads blocked in `futex_wait` on `word` (`INT_MAX`: all of them).
template <class S>
void futex_wake(typename S::template atomic<std::uint32_t>& word, int n) {
  if constexpr (kRawFutex<S>) {
    syscall(SYS_futex, static_cast<void*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
  } else if (n == 1) {
    word.notify_one();
  } else {
    word.notify_all();
  }
}

/// A spin bound: `n` on real CPUs, 1 under the model checker, where every spin is a scheduling
/// point and a long spin only lengthens executions (the algorithm is the same; only the bound
/// differs).
template <class S>
constexpr int spin_bound(int n) {
  return std::is_same_v<S, sync::Real> ? n : 1;
}

}  // namespace cpb::patterns::mutex
