// SPDX-License-Identifier: Apache-2.0
/// @file
/// Vyukov's bounded MPMC queue: a power-of-two array of cells, each with a sequence number that
/// says whose turn the cell is. A producer at position `pos` may fill the cell when its sequence
/// is `pos`, and then sets it to `pos + 1`; a consumer may take it when the sequence is
/// `pos + 1`, and then sets it to `pos + capacity` (the producer's turn one lap later).
/// Producers claim positions with a CAS on `enqueue_pos`, consumers on `dequeue_pos`; the two
/// sides share no cache line unless the queue is nearly empty or full.
///
/// One refinement over the original (as crossbeam's ArrayQueue does): when the cell is not yet
/// ready, the original reports empty (full). Here that is reported only if no thread has claimed
/// the position (`enqueue_pos == pos` for a pop, `dequeue_pos + capacity == pos` for a push);
/// otherwise a claimed operation is still writing (reading) the cell and the caller backs off
/// and retries. This makes empty and full linearizable: the original may report empty while a
/// later push has already returned.
///
/// Progress: blocking, strictly: no locks, but a thread preempted between claiming a cell and
/// publishing it holds up the threads that reach that cell (they back off and yield), as in
/// every array queue with per-cell turns. Uncontended calls are a handful of instructions.
/// Memory ordering: the release store of a cell's sequence pairs with the acquire load of it by
/// the next turn (producer → consumer: the value is written; consumer → producer: the value has
/// been read). Claiming CASes are relaxed: the cell's sequence orders the data. The empty/full
/// decision reads the other side's position with a seq_cst load (crossbeam uses a SeqCst fence
/// and a relaxed load there; ThreadSanitizer does not model fences).
/// Linearizable: push at its claiming CAS, pop at its claiming CAS, empty/full at the read of
/// the other side's position.
/// When to use: bounded MPMC hand-off with several producers and consumers; the fastest
/// general MPMC queue here. Capacity is fixed at construction.
/// Reference: D. Vyukov, "Bounded MPMC queue" (1024cores.net, 2010); crossbeam-queue ArrayQueue.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T, class S = sync::Real>
class VyukovMpmc {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "vyukov_mpmc";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kExact;
  static constexpr bool kLinearizable = true;

  /// Holds `capacity` elements, rounded up to a power of two (at least 2).
  explicit VyukovMpmc(std::size_t capacity)
      : capacity_(std::bit_ceil(std::max<std::size_t>(capacity, 2))),
        mask_(capacity_ - 1),
        cells_(std::make_unique<Cell[]>(capacity_)) {
    for (std::size_t i = 0; i < capacity_; ++i) {
      // Relaxed: the queue is not shared yet.
      cells_[i].seq.store(i, std::memory_order_relaxed);
    }
  }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  bool try_push(const T& v) {
    sync::Backoff<S> backoff;
    // Relaxed: a guess; the cell's sequence validates it.
    std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    Cell* cell = nullptr;
    for (;;) {
      cell = &cells_[pos & mask_];
      // Acquire pairs with the consumer's release store of the sequence: it has read the value
      // of the previous lap.
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq - pos);
      if (diff == 0) {
        // Relaxed: claims the position only; the sequence orders the data.
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        // The cell still holds the previous lap's value. Full, unless a consumer has claimed
        // it and is reading it now.
        // seq_cst: the decision reads the consumers' position in the single total order (see
        // the file comment).
        if (dequeue_pos_.load() + capacity_ == pos) return false;
        backoff();
        // Relaxed: a new guess, as above.
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      } else {
        // Another producer took `pos`. Relaxed: a new guess.
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
    cell->data.store(v);
    // Release pairs with the consumer's acquire load of the sequence: the value is written.
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  bool try_pop(T& out) {
    sync::Backoff<S> backoff;
    // Relaxed: a guess; the cell's sequence validates it.
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    Cell* cell = nullptr;
    for (;;) {
      cell = &cells_[pos & mask_];
      // Acquire pairs with the producer's release store of the sequence: the value is written.
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq - (pos + 1));
      if (diff == 0) {
        // Relaxed: claims the position only; the sequence orders the data.
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        // Nothing published at `pos` yet. Empty, unless a producer has claimed it and is
        // writing it now.
        // seq_cst: the decision reads the producers' position in the single total order (see
        // the file comment).
        if (enqueue_pos_.load() == pos) return false;
        backoff();
        // Relaxed: a new guess, as above.
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      } else {
        // Another consumer took `pos`. Relaxed: a new guess.
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
    out = cell->data.load();
    // Release pairs with the producer's acquire load of the sequence one lap later: the value
    // has been read before the cell is refilled.
    cell->seq.store(pos + capacity_, std::memory_order_release);
    return true;
  }

 private:
  struct Cell {
    typename S::template atomic<std::size_t> seq{0};
    typename S::template cell<T> data;
  };

  // 128 bytes apart: x86 prefetches cache lines in 128-byte pairs, which would couple the
  // producers' line with the consumers'.
  static constexpr std::size_t kSeparation = 128;
  alignas(kSeparation) typename S::template atomic<std::size_t> enqueue_pos_{0};
  alignas(kSeparation) typename S::template atomic<std::size_t> dequeue_pos_{0};
  alignas(kSeparation) const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
};

}  // namespace cpb::patterns::lockfree_queue
