// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::concurrent_queue` (oneTBB 2021.8), an unbounded MPMC queue split
/// into micro-queues by ticket: a push takes a ticket from the tail counter and writes into the
/// micro-queue the ticket selects; a pop takes a ticket from the head counter and waits for that
/// item if its push is still writing it.
///
/// Progress: blocking, strictly (a pop whose ticket's push is still in progress spins for it);
/// it allocates pages through libtbb. Left out of the TSan build: libtbb.so is not instrumented.
/// Ordering: FIFO by ticket, linearizable.
/// When to use: code already built on oneTBB; unbounded MPMC.
/// Reference: oneTBB, `oneapi/tbb/concurrent_queue.h`.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <oneapi/tbb/concurrent_queue.h>

#include <cstddef>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T>
class TbbConcurrentQueue {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "tbb_concurrent_queue";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kUnbounded;
  static constexpr bool kLinearizable = true;

  /// Unbounded: the capacity argument is ignored.
  explicit TbbConcurrentQueue(std::size_t /*capacity*/) {}

  [[nodiscard]] std::size_t capacity() const { return 0; }
  bool try_push(const T& v) {
    q_.push(v);
    return true;
  }
  bool try_pop(T& out) { return q_.try_pop(out); }

 private:
  tbb::concurrent_queue<T> q_;
};

}  // namespace cpb::patterns::lockfree_queue
