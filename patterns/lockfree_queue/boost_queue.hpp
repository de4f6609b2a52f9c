// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::lockfree::queue` (Boost 1.74), a Michael-Scott queue whose nodes come from
/// a lock-free free list with tagged pointers (ABA counters) instead of safe reclamation: freed
/// nodes are recycled, never returned to the system while the queue lives.
///
/// Used through `bounded_push`, which never allocates: the constructor preallocates `capacity`
/// nodes, so it never holds more than `capacity` elements. A pop returns its node to the free
/// list only when it ends, so while pops are in flight it may refuse with fewer queued
/// (`kAtMost`; the stress check `linearizable_full` found such a refusal: capacity 2, one
/// element queued, a pop preempted between its CAS and its return).
///
/// Progress: lock-free.
/// Ordering: FIFO, linearizable.
/// When to use: MPMC with trivially copyable elements where Boost is already a dependency.
/// Reference: T. Blechmann, Boost.Lockfree.
/// Left out of the TSan build: its free list writes a node's `next` with a plain store while
/// another thread may read it (the tag makes that reader's CAS fail and discard it): benign by
/// design, a data race by the C++ memory model, and TSan reports it.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <boost/lockfree/queue.hpp>

#include <cstddef>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T>
class BoostQueue {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "boost_queue";
  static constexpr Progress kProgress = Progress::kLockFree;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kAtMost;
  static constexpr bool kLinearizable = true;

  explicit BoostQueue(std::size_t capacity) : capacity_(capacity), q_(capacity) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  bool try_push(const T& v) { return q_.bounded_push(v); }
  bool try_pop(T& out) { return q_.pop(out); }

 private:
  std::size_t capacity_;
  boost::lockfree::queue<T> q_;
};

}  // namespace cpb::patterns::lockfree_queue
