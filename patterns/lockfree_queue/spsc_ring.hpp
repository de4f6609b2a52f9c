// SPDX-License-Identifier: Apache-2.0
/// @file
/// Single-producer single-consumer ring buffer with cached indices (Rigtorp, after Vyukov and
/// Lamport): the producer owns `tail`, the consumer owns `head`, each on its own cache line next
/// to a private cached copy of the other side's index, so a thread reads the other's line only
/// when its cached copy says the ring is full (producer) or empty (consumer). Free-running
/// indices over a power-of-two array: `tail - head` is the number of elements.
///
/// Progress: wait-free (each call is a bounded number of steps).
/// Memory ordering: the producer's release store of `tail` pairs with the consumer's acquire
/// load of it (the slot's value is visible before the index that publishes it); the consumer's
/// release store of `head` pairs with the producer's acquire load of it (the consumer has read
/// a slot before the producer may overwrite it). Each side reads its own index relaxed.
/// Linearizable (one producer, one consumer): push at the store of `tail`, pop at the store of
/// `head`, an empty pop at its load of `tail`, a refused push at its load of `head`.
/// When to use: exactly one producer thread and one consumer thread (a pipeline stage, a
/// logger, a network thread feeding a worker). Not safe with more of either.
/// Reference: E. Rigtorp, SPSCQueue (github.com/rigtorp/SPSCQueue); D. Vyukov, "Single-producer/
/// single-consumer queue" (1024cores.net); L. Lamport, "Specifying concurrent program modules",
/// ACM TOPLAS 5(2), 1983.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T, class S = sync::Real>
class SpscRing {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "spsc_ring";
  static constexpr Progress kProgress = Progress::kWaitFree;
  static constexpr bool kMultiProducer = false;
  static constexpr bool kMultiConsumer = false;
  static constexpr Bound kBound = Bound::kExact;
  static constexpr bool kLinearizable = true;

  /// Holds `capacity` elements, rounded up to a power of two (at least 1).
  explicit SpscRing(std::size_t capacity)
      : capacity_(std::bit_ceil(std::max<std::size_t>(capacity, 1))),
        mask_(capacity_ - 1),
        slots_(std::make_unique<typename S::template cell<T>[]>(capacity_)) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  /// Producer only.
  bool try_push(const T& v) {
    // Relaxed: only this thread writes tail_.
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_cache_ == capacity_) {
      // Acquire pairs with the consumer's release store of head_: its read of the slot we are
      // about to overwrite happened before.
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ == capacity_) return false;
    }
    slots_[t & mask_].store(v);
    // Release pairs with the consumer's acquire load of tail_: the slot is written first.
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  /// Consumer only.
  bool try_pop(T& out) {
    // Relaxed: only this thread writes head_.
    const std::size_t h = head_.load(std::memory_order_relaxed);
    if (h == tail_cache_) {
      // Acquire pairs with the producer's release store of tail_: the slot's value is visible.
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h == tail_cache_) return false;
    }
    out = slots_[h & mask_].load();
    // Release pairs with the producer's acquire load of head_: the slot is read before it may
    // be overwritten.
    head_.store(h + 1, std::memory_order_release);
    return true;
  }

 private:
  // The producer's line: the index it writes and its cached copy of the consumer's.
  alignas(64) typename S::template atomic<std::size_t> tail_{0};
  std::size_t head_cache_ = 0;  // producer-private
  // The consumer's line.
  alignas(64) typename S::template atomic<std::size_t> head_{0};
  std::size_t tail_cache_ = 0;  // consumer-private
  // Read-only after construction, shared by both.
  alignas(64) const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<typename S::template cell<T>[]> slots_;
};

}  // namespace cpb::patterns::lockfree_queue
