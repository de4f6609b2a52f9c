// SPDX-License-Identifier: Apache-2.0
/// @file
/// A fixed-capacity FIFO ring of `std::uint64_t` with no synchronization of its own: the
/// storage of the lock-based buffers (condvar_buffer.hpp, semaphore_buffer.hpp), always used
/// under their mutex. Its slots and indices are `S::cell`s, so the model checker reports an
/// access outside the mutex as a data race.
#pragma once

#include "harness/core/sync.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace cpb::patterns::producer_consumer::detail {

template <class S>
class PlainRing {
 public:
  explicit PlainRing(std::size_t capacity)
      : capacity_(capacity),
        slots_(std::make_unique<typename S::template cell<std::uint64_t>[]>(capacity)) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::size_t size() const { return size_.load(); }
  [[nodiscard]] bool empty() const { return size_.load() == 0; }
  [[nodiscard]] bool full() const { return size_.load() == capacity_; }

  /// Precondition: not full.
  void push(std::uint64_t v) {
    const std::size_t n = size_.load();
    const std::size_t h = head_.load();
    const std::size_t t = h + n < capacity_ ? h + n : h + n - capacity_;
    slots_[t].store(v);
    size_.store(n + 1);
  }

  /// Precondition: not empty.
  std::uint64_t pop() {
    const std::size_t h = head_.load();
    const std::uint64_t v = slots_[h].load();
    head_.store(h + 1 == capacity_ ? 0 : h + 1);
    size_.store(size_.load() - 1);
    return v;
  }

 private:
  const std::size_t capacity_;
  std::unique_ptr<typename S::template cell<std::uint64_t>[]> slots_;
  typename S::template cell<std::size_t> head_{0};
  typename S::template cell<std::size_t> size_{0};
};

}  // namespace cpb::patterns::producer_consumer::detail
