// SPDX-License-Identifier: Apache-2.0
/// @file
/// `ThreadSlot<S>::index()`: a small per-thread number that spreads threads over an array of
/// per-thread slots (the big-reader lock's reader slots, the sharded counter's shards).
///
/// With the real policy each OS thread takes the next number from a global counter the first
/// time it asks (a `thread_local`), so the first N threads get N distinct numbers and a slot
/// array of N entries has no collision. Threads beyond that share slots, which every user of
/// this header must tolerate (their slots are counters, not owner flags): that is the fallback.
/// Round-robin numbering beats hashing the thread id, which collides among 4 threads in 16
/// slots with probability 1 - 16*15*14*13/16^4 ≈ 0.33.
///
/// Under the model checker every logical thread is a fiber on one OS thread, so a
/// `thread_local` would put them all in one slot and the checker would never see two slots in
/// use. The `check::Sync` specialization returns the logical thread id instead. The harness
/// could grow this as `S::thread_index()`; until it does, it lives here.
#pragma once

#include "harness/check/sync.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>

namespace cpb::patterns::rw_lock {

template <class S>
struct ThreadSlot {
  /// The calling thread's number: stable for the thread's lifetime, distinct among the first
  /// 2^64 threads. Callers take it modulo their slot count.
  static std::size_t index() {
    // Relaxed: the counter only hands out distinct numbers; nothing is published through it.
    thread_local const std::size_t mine = next_.fetch_add(1, std::memory_order_relaxed);
    return mine;
  }

 private:
  static inline std::atomic<std::size_t> next_{0};
};

template <>
struct ThreadSlot<check::Sync> {
  /// The logical thread id inside a checked execution (0 outside one).
  static std::size_t index() {
    const check::detail::Engine* e = check::detail::Engine::current();
    return e != nullptr ? static_cast<std::size_t>(e->current_thread()) : 0;
  }
};

}  // namespace cpb::patterns::rw_lock
