// SPDX-License-Identifier: Apache-2.0
/// @file
/// Sequence lock: writers exclude each other and bump a sequence number to odd on entry and
/// back to even on exit; readers take no lock at all. A reader notes the (even) sequence,
/// reads the data, and retries if the sequence changed meanwhile. Readers never write shared
/// memory, so any number of them scale perfectly; a writer is never held up by readers.
///
/// The protected data must be read and written through atomics (relaxed is enough), because a
/// reader may run concurrently with a writer and read a value being changed: with plain data
/// that is a data race (undefined behaviour, and what TSan and the model checker report). The
/// reader must not act on what it read until `read_retry` says it was consistent. `read(l, f)`
/// in rw_lock.hpp runs the retry loop.
///
/// Progress: blocking. Writers spin (back-off, then yield) while another writer is in;
/// readers retry while writers keep writing, and wait while a writer is inside.
/// Memory ordering (Boehm, "Can seqlocks get along with programming language memory models?",
/// MSPC 2012): the writer's acquire CAS (even to odd) pairs with the previous writer's release
/// store in `unlock`; a release fence after it orders the odd sequence before the section's
/// relaxed data stores. The reader's acquire load in `read_begin` pairs with `unlock`'s
/// release store (it sees at least that writer's data); its acquire fence in `read_retry`
/// orders its relaxed data loads before the second sequence load and pairs with the writer's
/// release fence: if a data load saw a store of a writer that is still in (or came later),
/// the fences synchronize, the odd sequence store happens before the second load, and the
/// reader retries.
/// ThreadSanitizer does not model fences (GCC 12 warns `-Wtsan`): under the `tsan` preset it
/// checks the seqlock's data for races (there are none: they are atomics) but not its
/// ordering; the model checker does (rw_lock.model.cpp).
/// When to use: small, read-mostly data that can be copied out word by word (a timestamp, a
/// statistics record, a pair of coordinates), with readers that must not slow writers down.
/// When not to use: data reached through pointers a writer may free (a reader may follow a
/// stale pointer), large data (every retry copies it again), or many writers.
/// Reference: Lameter, "Effective synchronization on Linux/NUMA systems", 2005 (Linux seqlock);
/// Boehm, MSPC 2012.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::rw_lock {

template <class S = sync::Real>
class Seqlock {
 public:
  static constexpr std::string_view kName = "seqlock";
  static constexpr Progress kProgress = Progress::kBlocking;
  using sequence = std::uint64_t;

  Seqlock() = default;
  Seqlock(const Seqlock&) = delete;
  Seqlock& operator=(const Seqlock&) = delete;

  // -- writers ------------------------------------------------------------------------------

  void lock() {
    sync::Backoff<S> backoff;
    for (;;) {
      // Relaxed: a snapshot; the CAS acquires.
      sequence s = seq_.load(std::memory_order_relaxed);
      // Acquire pairs with the previous writer's release store in unlock().
      if ((s & 1) == 0 && seq_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                                     std::memory_order_relaxed)) {
        break;
      }
      backoff();
    }
    // Release fence: the odd sequence is ordered before the section's data stores; pairs
    // with the reader's acquire fence in read_retry().
    S::fence(std::memory_order_release);
  }

  bool try_lock() {
    // Relaxed: a snapshot; the CAS acquires (pairs with the last unlock's release store).
    sequence s = seq_.load(std::memory_order_relaxed);
    if ((s & 1) != 0 || !seq_.compare_exchange_strong(s, s + 1, std::memory_order_acquire,
                                                      std::memory_order_relaxed)) {
      return false;
    }
    // Release fence: as in lock().
    S::fence(std::memory_order_release);
    return true;
  }

  void unlock() {
    // Relaxed load: our own odd value. Release store pairs with read_begin()'s acquire load
    // and with the next writer's acquire CAS: the section's stores happen before both.
    seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // -- readers ------------------------------------------------------------------------------

  /// Waits until no writer is inside and returns the (even) sequence to validate against.
  [[nodiscard]] sequence read_begin() const {
    sync::Backoff<S> backoff;
    for (;;) {
      // Acquire pairs with unlock()'s release store: the data loads that follow see at least
      // that writer's stores.
      const sequence s = seq_.load(std::memory_order_acquire);
      if ((s & 1) == 0) return s;
      backoff();
    }
  }

  /// After the section's data loads: true when a writer may have changed the data since
  /// `read_begin` returned `s`, so what was read must be discarded and the section re-run.
  [[nodiscard]] bool read_retry(sequence s) const {
    // Acquire fence: the section's relaxed data loads are ordered before the load below;
    // pairs with the writer's release fence in lock()/try_lock().
    S::fence(std::memory_order_acquire);
    // Relaxed: ordered by the fence above.
    return seq_.load(std::memory_order_relaxed) != s;
  }

 protected:  // protected so a test can derive a seeded-bug twin
  typename S::template atomic<sequence> seq_{0};
};

}  // namespace cpb::patterns::rw_lock
