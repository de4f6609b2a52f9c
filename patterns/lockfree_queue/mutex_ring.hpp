// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline (the floor): a ring buffer guarded by one `std::mutex`. Exact capacity, any number
/// of producers and consumers, trivially linearizable (every operation at its critical section).
///
/// Progress: blocking (waiters sleep in the kernel when the mutex is contended).
/// Memory ordering: the mutex (unlock → lock).
/// When to use: low rates, or when simplicity matters more than hand-off cost; every faster
/// queue here must beat it.
/// It is a template on the sync policy like the own implementations, so the model checker runs
/// it as well (its mutex is then the checker's).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T, class S = sync::Real>
class MutexRing {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "mutex_ring";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kExact;
  static constexpr bool kLinearizable = true;

  /// Holds exactly `capacity` elements (at least 1).
  explicit MutexRing(std::size_t capacity)
      : capacity_(std::max<std::size_t>(capacity, 1)),
        slots_(std::make_unique<typename S::template cell<T>[]>(capacity_)) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  bool try_push(const T& v) {
    std::lock_guard lk(m_);
    const std::size_t n = size_.load();
    if (n == capacity_) return false;
    std::size_t i = head_.load() + n;
    if (i >= capacity_) i -= capacity_;
    slots_[i].store(v);
    size_.store(n + 1);
    return true;
  }

  bool try_pop(T& out) {
    std::lock_guard lk(m_);
    const std::size_t n = size_.load();
    if (n == 0) return false;
    const std::size_t h = head_.load();
    out = slots_[h].load();
    head_.store(h + 1 == capacity_ ? 0 : h + 1);
    size_.store(n - 1);
    return true;
  }

 private:
  typename S::mutex m_;
  typename S::template cell<std::size_t> head_{0};
  typename S::template cell<std::size_t> size_{0};
  const std::size_t capacity_;
  std::unique_ptr<typename S::template cell<T>[]> slots_;
};

}  // namespace cpb::patterns::lockfree_queue
