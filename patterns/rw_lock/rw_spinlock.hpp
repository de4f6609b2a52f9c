// SPDX-License-Identifier: Apache-2.0
/// @file
/// Writer-preferring reader-writer spinlock in one atomic word: bit 0 = a writer holds it,
/// bit 1 = a writer is waiting, bits 2.. = the number of readers. A waiting writer sets the
/// pending bit, which turns new readers away until it gets in, so a stream of readers cannot
/// starve writers (readers can starve under a stream of writers instead).
///
/// Progress: blocking; waiters spin with exponential back-off, then yield.
/// Memory ordering: every acquiring CAS is acquire and pairs with the release RMW of the
/// unlock it follows (a writer's `unlock` for readers and writers; a reader's `unlock_shared`
/// for the next writer, so the reader's loads happen before the writer's stores). Setting the
/// pending bit and the spinning loads are relaxed: hints only, the CAS decides.
/// When to use: short read sections and few threads (≤ cores), where one shared word is cheap.
/// When not to use: many readers on many cores: every reader writes the one word, so the
/// cache line bounces between them (the big-reader lock fixes that); long sections or
/// oversubscription, where sleeping beats spinning.
/// Reference: Mellor-Crummey & Scott, "Scalable reader-writer synchronization for shared-memory
/// multiprocessors", PPoPP 1991 (the centralized writer-preference lock); oneTBB's
/// `spin_rw_mutex` uses the same word layout.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::rw_lock {

template <class S = sync::Real>
class RwSpinlock {
 public:
  static constexpr std::string_view kName = "rw_spinlock";
  static constexpr Progress kProgress = Progress::kBlocking;

  RwSpinlock() = default;
  RwSpinlock(const RwSpinlock&) = delete;
  RwSpinlock& operator=(const RwSpinlock&) = delete;

  // -- exclusive (writers) ------------------------------------------------------------------

  void lock() {
    sync::Backoff<S> backoff;
    for (;;) {
      // Relaxed: a snapshot to decide what to try; the CAS below acquires.
      std::uint64_t s = state_.load(std::memory_order_relaxed);
      if ((s & ~kPending) == 0) {
        // Acquire pairs with the release RMW of the previous unlock/unlock_shared. Taking the
        // lock clears the pending bit; other waiting writers set it again.
        if (state_.compare_exchange_weak(s, kWriter, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
        continue;
      }
      // Relaxed: the pending bit only turns new readers away; it publishes nothing.
      if ((s & kPending) == 0) state_.fetch_or(kPending, std::memory_order_relaxed);
      backoff();
    }
  }

  bool try_lock() {
    // Relaxed: a snapshot; the CAS acquires (pairs with the release of the last unlock).
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    return (s & ~kPending) == 0 &&
           state_.compare_exchange_strong(s, kWriter, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void unlock() {
    // Release pairs with the acquire CAS of the next reader or writer; keeps a pending bit
    // that another writer set meanwhile.
    state_.fetch_and(~kWriter, std::memory_order_release);
  }

  // -- shared (readers) ---------------------------------------------------------------------

  void lock_shared() {
    sync::Backoff<S> backoff;
    for (;;) {
      // Relaxed: a snapshot; the CAS acquires.
      std::uint64_t s = state_.load(std::memory_order_relaxed);
      if ((s & (kWriter | kPending)) == 0) {
        // Acquire pairs with the release fetch_and of the last writer's unlock.
        if (state_.compare_exchange_weak(s, s + kReader, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
        continue;
      }
      backoff();
    }
  }

  bool try_lock_shared() {
    // Relaxed: a snapshot; the CAS acquires (pairs with the last writer's release).
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    while ((s & (kWriter | kPending)) == 0) {
      if (state_.compare_exchange_weak(s, s + kReader, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  void unlock_shared() {
    // Release pairs with the acquire CAS of the next writer: this reader's loads happen
    // before that writer's stores.
    state_.fetch_sub(kReader, std::memory_order_release);
  }

 protected:  // protected so a test can derive a seeded-bug twin
  static constexpr std::uint64_t kWriter = 1;
  static constexpr std::uint64_t kPending = 2;
  static constexpr std::uint64_t kReader = 4;

  typename S::template atomic<std::uint64_t> state_{0};
};

}  // namespace cpb::patterns::rw_lock
