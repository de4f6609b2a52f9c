// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `moodycamel::ConcurrentQueue` (Debian `libconcurrentqueue-dev` 1.0.3), the common
/// industrial MPMC queue. Every producing thread gets its own sub-queue (an implicit producer);
/// a consumer picks a sub-queue to take from. It allocates blocks as it grows.
///
/// Progress: lock-free (its claim; block allocation aside).
/// Ordering: FIFO per producer only. It is not linearizable: items of different producers come
/// out in no global order, and `try_dequeue` may report empty while items are queued (it
/// checks the sub-queues one after another). The family checks per-producer FIFO, no loss and
/// no duplication for it, not linearizability.
/// When to use: many producers and consumers, throughput over ordering, unbounded.
/// Reference: C. Desrochers, github.com/cameron314/concurrentqueue.
/// Left out of the TSan build: it synchronises through standalone fences, which TSan does not
/// model, so TSan reports races that are not there.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <concurrentqueue/concurrentqueue.h>
#include <cstddef>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T>
class MoodycamelCq {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "moodycamel_cq";
  static constexpr Progress kProgress = Progress::kLockFree;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kUnbounded;
  static constexpr bool kLinearizable = false;

  /// Preallocates room for `capacity` elements; grows beyond it.
  explicit MoodycamelCq(std::size_t capacity) : q_(capacity) {}

  [[nodiscard]] std::size_t capacity() const { return 0; }
  bool try_push(const T& v) { return q_.enqueue(v); }  // false only if allocation fails
  bool try_pop(T& out) { return q_.try_dequeue(out); }

 private:
  moodycamel::ConcurrentQueue<T> q_;
};

}  // namespace cpb::patterns::lockfree_queue
