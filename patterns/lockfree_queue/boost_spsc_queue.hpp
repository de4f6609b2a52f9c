// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::lockfree::spsc_queue` (Boost 1.74), a single-producer single-consumer ring
/// buffer with a run-time capacity (one spare slot; no cached indices).
///
/// Progress: wait-free.
/// Ordering: FIFO, linearizable with one producer and one consumer; exact capacity.
/// When to use: one producer and one consumer where Boost is already a dependency.
/// Reference: T. Blechmann, Boost.Lockfree.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <boost/lockfree/spsc_queue.hpp>

#include <cstddef>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T>
class BoostSpscQueue {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "boost_spsc_queue";
  static constexpr Progress kProgress = Progress::kWaitFree;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiProducer = false;
  static constexpr bool kMultiConsumer = false;
  static constexpr Bound kBound = Bound::kExact;
  static constexpr bool kLinearizable = true;

  explicit BoostSpscQueue(std::size_t capacity) : capacity_(capacity), q_(capacity) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  bool try_push(const T& v) { return q_.push(v); }
  bool try_pop(T& out) { return q_.pop(out); }

 private:
  std::size_t capacity_;
  boost::lockfree::spsc_queue<T> q_;
};

}  // namespace cpb::patterns::lockfree_queue
