// SPDX-License-Identifier: Apache-2.0
/// @file
/// Reader-distributed ("big reader") lock: every reader announces itself in a counter on a
/// cache line of its own (its thread's slot), so readers on different cores never write the
/// same line. A writer raises one writer flag, then waits until every slot has drained.
///
/// Readers: increment the own slot, then check the writer flag; if a writer is there, undo
/// the increment and wait until the flag drops (writers are preferred). Writers: take the flag
/// (a test-and-test-and-set among writers), then wait for each slot to read zero. A thread's
/// slot is `ThreadSlot<S>::index() % kSlots` (round-robin thread numbers, thread_slot.hpp);
/// threads beyond kSlots share slots, which is correct (a slot is a count, not an owner) and
/// only costs the sharing threads their private line.
///
/// Progress: blocking; waiters spin with exponential back-off, then yield.
/// Memory ordering: the reader's announcing `fetch_add` and its load of the writer flag, and
/// the writer's `exchange` of the flag and its loads of the slots, are seq_cst: this is
/// Dekker's store-then-load handshake (each side stores, then loads what the other stored),
/// which needs the store-load order that only seq_cst gives. The writer's release store of
/// the flag in `unlock` pairs with the readers' (seq_cst, hence acquire) flag loads; a
/// reader's release `fetch_sub` in `unlock_shared` pairs with the writer's slot loads, so the
/// reader's loads happen before the writer's stores. On x86 the reader's fast path is one
/// `lock xadd` on its own line plus a plain load of a line that stays shared while no writer
/// comes: no line moves between readers.
/// When to use: read-mostly data read by many threads (configuration, routing tables), where
/// `std::shared_mutex`'s single reader count is the bottleneck. When not to use: write-heavy
/// data (a writer scans every slot: kSlots loads, ≈ 2 KiB of lines), or memory-tight objects
/// (kSlots × 128 bytes per lock).
/// Reference: Hsieh & Weihl, "Scalable reader-writer locks for parallel systems", IPPS 1992;
/// the Linux kernel's brlock (Corbet, "Big reader locks", LWN 2012); folly's SharedMutex
/// deferred reader slots.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/rw_lock/thread_slot.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace cpb::patterns::rw_lock {

template <class S = sync::Real>
class BigReaderLock {
 public:
  static constexpr std::string_view kName = "big_reader_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  /// Reader slots. The model-checked twin has 4: its tests run at most 3 logical threads,
  /// and every slot is a scheduling point of each writer's scan.
  static constexpr std::size_t kSlots = std::is_same_v<S, sync::Real> ? 32 : 4;

  BigReaderLock() = default;
  BigReaderLock(const BigReaderLock&) = delete;
  BigReaderLock& operator=(const BigReaderLock&) = delete;

  // -- exclusive (writers) ------------------------------------------------------------------

  void lock() {
    sync::Backoff<S> backoff;
    // seq_cst exchange: the store half of the writer's side of the handshake (see the file
    // comment); it also acquires, pairing with the previous writer's release in unlock().
    // The relaxed load spins without taking the line exclusive; the exchange decides.
    while (writer_.exchange(true)) {
      while (writer_.load(std::memory_order_relaxed)) backoff();
    }
    backoff.reset();
    for (auto& slot : slots_) {
      // seq_cst: the load half of the handshake; it also acquires, pairing with the readers'
      // release fetch_sub in unlock_shared (and the undo in lock_shared).
      while (slot.readers.load() != 0) backoff();
    }
  }

  bool try_lock() {
    // Relaxed pre-check: a hint, the exchange decides (and acquires, as in lock()).
    if (writer_.load(std::memory_order_relaxed) || writer_.exchange(true)) return false;
    for (auto& slot : slots_) {
      // seq_cst: the load half of the handshake, as in lock().
      if (slot.readers.load() != 0) {
        // Release: nothing was written under the flag; pairs with readers' flag loads.
        writer_.store(false, std::memory_order_release);
        return false;
      }
    }
    return true;
  }

  void unlock() {
    // Release pairs with the readers' and the next writer's loads of the flag: the section's
    // stores happen before their loads.
    writer_.store(false, std::memory_order_release);
  }

  // -- shared (readers) ---------------------------------------------------------------------

  void lock_shared() {
    Slot& slot = my_slot();
    sync::Backoff<S> backoff;
    for (;;) {
      // seq_cst: the store half of the reader's side of the handshake.
      slot.readers.fetch_add(1);
      // seq_cst: the load half; also acquires the last writer's release in unlock().
      if (!writer_.load()) return;
      // A writer is in or coming: step aside. Release pairs with the writer's slot scan.
      slot.readers.fetch_sub(1, std::memory_order_release);
      // Relaxed: waiting for the flag to drop is a hint; the seq_cst load above decides.
      while (writer_.load(std::memory_order_relaxed)) backoff();
    }
  }

  bool try_lock_shared() {
    Slot& slot = my_slot();
    // seq_cst: the handshake, as in lock_shared().
    slot.readers.fetch_add(1);
    if (!writer_.load()) return true;
    // Release pairs with the writer's slot scan.
    slot.readers.fetch_sub(1, std::memory_order_release);
    return false;
  }

  void unlock_shared() {
    // Release pairs with the writer's (seq_cst, hence acquire) slot loads: this reader's
    // loads happen before the writer's stores.
    my_slot().readers.fetch_sub(1, std::memory_order_release);
  }

 protected:  // protected so a test can derive a seeded-bug twin
  /// Two cache lines per slot: the adjacent-line prefetcher pulls lines in pairs.
  struct alignas(128) Slot {
    typename S::template atomic<std::uint32_t> readers{0};
  };

  Slot& my_slot() { return slots_[ThreadSlot<S>::index() % kSlots]; }

  alignas(128) typename S::template atomic<bool> writer_{false};
  std::array<Slot, kSlots> slots_{};
};

}  // namespace cpb::patterns::rw_lock
